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


RECIPIENTS = {
    "convocation": lambda a: [a.agent],
    "notification": lambda a: [a.agent],
    "acknowledged": lambda a: [a.reviewer] if a.reviewer_id else [],
    "final": lambda a: [a.agent, a.evaluator],
    "delegation": lambda a: [a.evaluator],
    "delegation_agent": lambda a: [a.agent],
    "revision_requested": lambda a: [a.reviewer] if a.reviewer_id else [],
    "revision_accepted": lambda a: [a.agent, a.evaluator],
    "revision_rejected": lambda a: [a.agent],
}


# Events that tell several people different things: one mail (template) per entry.
ALSO = {"delegation": ("delegation_agent",)}  # the agent learns who now evaluates them


def dispatch(event, appraisal_id):
    appraisal = Appraisal.objects.select_related(
        "campaign", "agent__user", "evaluator__user", "reviewer__user", "agent__org_unit", "delegated_from__user"
    ).get(pk=appraisal_id)
    if event == "final":
        from appraisal import tasks

        tasks.archive_appraisal.enqueue(appraisal.pk)
    return sum(_send(name, appraisal) for name in (event, *ALSO.get(event, ())))


def _send(event, appraisal):
    recipients = [p for p in RECIPIENTS.get(event, lambda a: [])(appraisal) if p is not None and p.email]
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
