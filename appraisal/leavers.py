"""Leavers' open appraisals, flagged for HR (issue 14).

A *leaver* is an agent made inactive: CSV import ``active=0``, SCIM ``active=false`` or
``DELETE``, the admin. Their *open* appraisals (any state before ``final`` or ``cancelled``)
are flagged for HR. The flag is computed, never stored: an appraisal is flagged while its
agent is inactive and it is open (:func:`flagged`), so an agent reactivated by any path is no
longer flagged, and the HR pages (``/rh/entretiens/``: a count per campaign, the filter
« Agents partis » and a badge on the row of the HR list) always tell the truth.

HR is told by e-mail, once per appraisal. The directory calls :func:`on_directory_change`
(an import listener, ``cms.importer.register_import_listener``) after a CSV import and after
each SCIM change, inside their transaction; it claims the key ``leaver:<appraisal>`` of each
newly flagged appraisal in the reminders log (``cms.reminders.claim``: kind
``appraisal.leaver``, unique on (kind, key), ``object_id`` = the appraisal), and after the
commit one message listing them goes to each member of the HR role (active account, with an
e-mail address). A second import with the same leavers claims nothing, so sends nothing. A
reactivated agent's keys are released, so leaving again is told again. A message refused by
the mail server gives its keys back.

:func:`notify_pending` catches up on what no listener saw (an agent deactivated or
reactivated in the admin): it releases the keys of appraisals no longer flagged and tells HR
of the flagged ones not yet told. It is safe to run as often as wanted (daily task).

Query budget of the listener: per batch of 500 agents, one DELETE (keys of reactivated
agents) and one SELECT (open appraisals of inactive agents); when some are found, one query
for the HR recipients and one claim per 500 appraisals. It does not grow with the number of
appraisals within a batch.
"""

import logging
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import translation

from appraisal.choices import AppraisalState as S
from appraisal.models import Appraisal
from cms import reminders as cms_reminders
from cms import roles
from cms.models import ReminderLog

logger = logging.getLogger("parcours.appraisal")

NAMESPACE = "appraisal"
KIND = "leaver"
LOG_KIND = cms_reminders.log_kind(NAMESPACE, KIND)  # appraisal.leaver
OPEN_STATES = tuple(state for state in S.values if state not in (S.FINAL, S.CANCELLED))
BATCH = 500
DIGEST_MAX_ROWS = 50
LANGUAGE = "fr"
LIST_FILTER = "partis"  # the HR list's GET parameter « Agents partis »


def flagged(prefix=""):
    """The condition « open appraisal of an inactive agent », as a Q on Appraisal (or on a
    relation to it with ``prefix``, e.g. ``"appraisals__"``)."""
    return Q(**{f"{prefix}agent__active": False, f"{prefix}state__in": OPEN_STATES})


def key(appraisal_id):
    return f"{KIND}:{appraisal_id}"


@dataclass(frozen=True)
class Flag:
    """One flagged appraisal, as claimed in the reminders log."""

    object_id: int
    kind: str = KIND

    @property
    def key(self):
        return key(self.object_id)


# --- entry points ------------------------------------------------------------------------------


def on_directory_change(created_agent_ids, updated_agent_ids):
    """Import listener (CSV import, SCIM): flag the open appraisals of the updated agents that
    are now inactive, unflag those of the reactivated ones. Newcomers have no appraisal."""
    flag_leavers(updated_agent_ids)


def flag_leavers(agent_ids):
    """Release the keys of the active agents among ``agent_ids``, claim those of the open
    appraisals of the inactive ones, and schedule the message to HR after the commit. Runs in
    the caller's transaction (or its own). Returns the ids of the newly flagged appraisals."""
    ids = list(dict.fromkeys(agent_ids))
    newly = []
    with transaction.atomic():
        for start in range(0, len(ids), BATCH):
            chunk = ids[start : start + BATCH]
            _release(Appraisal.objects.filter(agent_id__in=chunk, agent__active=True))
            newly += _claim(Appraisal.objects.filter(flagged(), agent_id__in=chunk))
    return newly


def notify_pending():
    """Catch up on the changes no listener saw (the admin): release the keys of appraisals no
    longer flagged, then claim and tell HR of every flagged appraisal not yet told. Returns the
    ids of the newly flagged appraisals."""
    with transaction.atomic():
        ReminderLog.objects.filter(kind=LOG_KIND).exclude(
            object_id__in=Appraisal.objects.filter(flagged()).values("pk")
        ).delete()
        told = ReminderLog.objects.filter(kind=LOG_KIND, object_id__isnull=False).values("object_id")
        return _claim(Appraisal.objects.filter(flagged()).exclude(pk__in=told))


# --- claim, release, notify --------------------------------------------------------------------------


def _release(appraisals):
    """Forget that HR was told about ``appraisals`` (one DELETE): if flagged again, told again."""
    ReminderLog.objects.filter(kind=LOG_KIND, object_id__in=appraisals.values("pk")).delete()


def hr_recipients():
    """The members of the HR role who can read a message: active account, with an e-mail."""
    return list(
        get_user_model()
        .objects.filter(groups__name=roles.HR, is_active=True)
        .exclude(email="")
        .distinct()
        .order_by("pk")
        .only("pk", "email", "first_name", "last_name")
    )


def _claim(appraisals):
    """Claim the keys of ``appraisals`` (open ones of inactive agents) and schedule one message
    per HR member listing those this call claimed. Nobody to tell: nothing is claimed (the next
    run will tell). Returns the ids claimed."""
    rows = list(
        appraisals.select_related("campaign", "agent__user", "agent__org_unit").order_by(
            "-campaign__year", "campaign_id", "agent__user__last_name", "agent__user__first_name", "pk"
        )
    )
    if not rows:
        return []
    recipients = hr_recipients()
    if not recipients:
        logger.warning("%s open appraisal(s) of leavers: no HR member with an e-mail address to tell", len(rows))
        return []
    claimed = set()
    for start in range(0, len(rows), BATCH):
        claimed |= cms_reminders.claim(NAMESPACE, [Flag(a.pk) for a in rows[start : start + BATCH]])
    newly = [a for a in rows if (KIND, key(a.pk)) in claimed]
    if newly:
        message = _render(newly)
        ids = [a.pk for a in newly]
        transaction.on_commit(lambda: _send(message, recipients, ids))
    return [a.pk for a in newly]


def _absolute(path):
    return settings.WAGTAILADMIN_BASE_URL.rstrip("/") + path


def _list_url():
    try:
        return _absolute(reverse("appraisal_hr:appraisals")) + f"?{LIST_FILTER}=on"
    except NoReverseMatch:
        return _absolute("/")


def _detail_url(pk):
    try:
        return _absolute(reverse("appraisal:detail", kwargs={"pk": pk}))
    except NoReverseMatch:
        return _list_url()


def _render(appraisals):
    """(subject, body) of the message to HR (``appraisal/email/leavers.txt``, in French)."""
    with translation.override(LANGUAGE):
        shown = [
            {
                "agent_name": a.agent.full_name,
                "employee_number": a.agent.employee_number,
                "org_unit": a.agent.org_unit.name,
                "campaign": f"{a.campaign.name} {a.campaign.year}",
                "state": str(a.get_state_display()),
                "url": _detail_url(a.pk),
            }
            for a in appraisals[:DIGEST_MAX_ROWS]
        ]
        text = render_to_string(
            "appraisal/email/leavers.txt",
            {
                "rows": shown,
                "total": len(appraisals),
                "more": len(appraisals) - len(shown),
                "list_url": _list_url(),
                "site_name": settings.WAGTAIL_SITE_NAME,
            },
        ).strip()
    subject, _sep, body = text.partition("\n")
    return " ".join(subject.split()), body.strip() + "\n"


def _send(message, recipients, appraisal_ids):
    """One message per HR member over one connection; if none went out, the keys are given
    back so that the next run (a later import, ``notify_pending``) tells HR again."""
    subject, body = message
    sent = 0
    try:
        with get_connection() as mail:
            for user in recipients:
                try:
                    sent += (
                        mail.send_messages(
                            [
                                EmailMessage(
                                    subject=subject,
                                    body=body,
                                    from_email=settings.DEFAULT_FROM_EMAIL,
                                    to=[user.email],
                                    connection=mail,
                                    headers={"Auto-Submitted": "auto-generated", "X-Auto-Response-Suppress": "All"},
                                )
                            ]
                        )
                        or 0
                    )
                except Exception:
                    logger.exception("Leavers' appraisals: message to HR user %s not sent", user.pk)
    except Exception:
        logger.exception("Leavers' appraisals: mail connection failed")
    if not sent:
        cms_reminders.release(NAMESPACE, [Flag(pk) for pk in appraisal_ids])
    logger.info("Leavers' appraisals: %s flagged, told to %s HR member(s)", len(appraisal_ids), sent)
    return sent
