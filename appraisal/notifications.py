"""E-mails of the appraisal workflow, sent after the transaction commits.

``dispatch(event, appraisal_id)`` is called after commit by the action that declares the
event (``event`` of each class in appraisal/actions.py; never with ``notify=False``); each
event names who is told and with which template (``appraisal/email/<event>.txt``, first
line = subject).
"""

import logging

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from appraisal.models import Appraisal
from cms import ics

logger = logging.getLogger("parcours.appraisal")


def interview_ics(appraisal):
    """An iCalendar invitation (METHOD:REQUEST) for the interview, to the agent and the evaluator."""
    return ics.invitation(
        uid=f"appraisal-{appraisal.pk}-v{appraisal.version}@parcours",
        product="Entretien professionnel",
        start=appraisal.interview_at,
        end=appraisal.interview_at + timezone.timedelta(hours=1, minutes=30),
        summary=f"Entretien professionnel {appraisal.campaign.year} — {appraisal.agent.full_name}",
        location=appraisal.interview_place,
        organizer=(appraisal.evaluator.full_name, appraisal.evaluator.email),
        attendees=[(person.full_name, person.email) for person in (appraisal.agent, appraisal.evaluator)],
        sequence=appraisal.version,
    )


# The people a mail goes to, by their role on the appraisal (the actions declare which).
ROLES = {
    "agent": lambda a: a.agent,
    "evaluator": lambda a: a.evaluator,
    "reviewer": lambda a: a.reviewer,
}


def dispatch(mails, appraisal_id):
    """Send an action's mails: ``mails`` is ``((template, roles), ...)`` as the action class
    declares it (appraisal/actions.py); the text is ``appraisal/email/<template>.txt``. The
    final report is also archived as a PDF. Returns the number of recipients."""
    appraisal = Appraisal.objects.select_related(
        "campaign", "agent__user", "evaluator__user", "reviewer__user", "agent__org_unit", "delegated_from__user"
    ).get(pk=appraisal_id)
    if any(template == "final" for template, _roles in mails):
        from appraisal import tasks

        tasks.archive_appraisal.enqueue(appraisal.pk)
    return sum(_send(template, appraisal, roles) for template, roles in mails)


def _send(event, appraisal, roles):
    recipients = [p for p in (ROLES[role](appraisal) for role in roles) if p is not None and p.email]
    if not recipients:
        return 0
    url = settings.WAGTAILADMIN_BASE_URL.rstrip("/") + reverse("appraisal:detail", kwargs={"pk": appraisal.pk})
    with translation.override("fr"):
        text = render_to_string(f"appraisal/email/{event}.txt", {"appraisal": appraisal, "url": url}).strip()
    subject, _sep, body = text.partition("\n")
    message = EmailMessage(subject=subject.strip(), body=body.strip(), to=[p.email for p in recipients])
    if event == "convocation":
        message.attach("entretien.ics", interview_ics(appraisal), "text/calendar; method=REQUEST; charset=utf-8")
        if appraisal.evaluator.email:
            message.cc = [appraisal.evaluator.email]
    message.send()
    logger.info("appraisal %s: %s mail sent to %s recipient(s)", appraisal.pk, event, len(recipients))
    return len(recipients)
