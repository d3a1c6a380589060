"""iCalendar invitations (RFC 5545 / iTIP METHOD:REQUEST) for interviews, used by the
appraisal convocation and the recruitment interview."""

from django.utils import timezone


def invitation(*, uid, product, start, end, summary, organizer, attendees, location="", sequence=0):
    """One event as an invitation: ``organizer`` is ``(name, email)``, ``attendees`` a list
    of ``(name, email)``; each attendee is asked to answer (RSVP). The UID identifies the
    event, so a new copy with a higher ``sequence`` updates it in the attendees' calendars."""
    from icalendar import Calendar, Event, vCalAddress, vText

    cal = Calendar()
    cal.add("prodid", f"-//Parcours//{product}//FR")
    cal.add("version", "2.0")
    cal.add("method", "REQUEST")
    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", timezone.now())
    event.add("dtstart", start)
    event.add("dtend", end)
    event.add("summary", summary)
    if location:
        event.add("location", vText(location))
    event.add("sequence", sequence)
    name, email = organizer
    address = vCalAddress(f"mailto:{email}")
    address.params["cn"] = vText(name)
    event["organizer"] = address
    for name, email in attendees:
        attendee = vCalAddress(f"mailto:{email}")
        attendee.params["cn"] = vText(name)
        attendee.params["role"] = vText("REQ-PARTICIPANT")
        attendee.params["partstat"] = vText("NEEDS-ACTION")
        attendee.params["rsvp"] = vText("TRUE")
        event.add("attendee", attendee, encode=0)
    cal.add_component(event)
    return cal.to_ical()
