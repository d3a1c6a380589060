"""Appraisal reminders by e-mail (French). Safe to run as often as wanted (daily task
``appraisal.tasks.daily``, or ``manage.py send_appraisal_reminders``): a reminder is never
sent twice.

Kinds and keys (logged in ``cms.models.ReminderLog`` as ``appraisal.<kind>``; unique on
(kind, key): one key, one message at most):

- ``convoke``: weekly digest to each evaluator (N+1 or delegate) of the appraisals still to
  convoke (state ``created``) in running campaigns whose interview deadline
  (``interviews_until``) is within ``notice_days + 7`` days (or past) ...... ``convoke:<evaluator>:<ISO week>``
- ``acknowledge``: to the agent, a report notified and not yet signed (state ``notified``),
  once ``ACK_FIRST_DAYS`` (3) days after the notification and once ``agent_return_days - 2``
  days after it, until the return deadline ................. ``acknowledge:<appraisal>:v<version>:<day>``
  (a report notified again after a revision is a new version, hence new reminders)
- ``visa``: weekly digest to each reviewer (N+2) of the reports waiting for their visa
  (state ``acknowledged``) ..................................................... ``visa:<reviewer>:<ISO week>``

Only running campaigns are reminded; inactive agents, disabled accounts and accounts
without an e-mail address receive nothing.

Why a reminder cannot go out twice (``cms.reminders.deliver``). The candidates are read
with one query per kind; then, for each batch, the keys are *claimed* in one statement,
``INSERT INTO … ON CONFLICT (kind, key) DO NOTHING RETURNING kind, key`` (SQLite ≥ 3.35
and PostgreSQL), inside a transaction, and a message is sent only for a key that this
statement returned, i.e. that this run inserted. A key logged by an earlier run is not
returned; two concurrent runs cannot both insert the same key (on PostgreSQL the second
insert waits on the unique index for the first transaction, then does nothing if it
committed), so exactly one of them sends it. Messages are sent after the claim has
committed. If the mail server refuses a message, its key is deleted again so that the
next run retries it; if the process dies between the commit and the sending, those few
reminders are lost rather than duplicated (at most once, by design).

Query budget: one query for the running campaigns, one for the keys already logged
(bounded by the current week and the acknowledgement window, so the dry run reports only
what would really go), one per kind for the candidates, then one claim per ``BATCH``
reminders (plus one delete per batch with a refused message). It does not grow with the
number of appraisals below ``BATCH`` reminders per run.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation

from appraisal import deadlines
from appraisal.choices import AppraisalState as S
from appraisal.choices import CampaignStatus
from appraisal.models import Appraisal, Campaign
from cms import reminders as cms_reminders
from cms.models import ReminderLog

CONVOKE, ACKNOWLEDGE, VISA = "convoke", "acknowledge", "visa"
KINDS = (CONVOKE, ACKNOWLEDGE, VISA)
LABELS = {
    CONVOKE: "Entretiens à convoquer (évaluateurs)",
    ACKNOWLEDGE: "Comptes rendus à signer (agents)",
    VISA: "Comptes rendus à viser (autorités)",
}
CONVOKE_MARGIN_DAYS = 7  # reminded from interviews_until - (notice_days + 7) on
ACK_FIRST_DAYS = 3
ACK_LAST_BEFORE_DEADLINE_DAYS = 2
DIGEST_MAX_ROWS = 50
BATCH = 500
LANGUAGE = "fr"
NAMESPACE = "appraisal"  # ReminderLog kinds: appraisal.convoke, appraisal.acknowledge…


@dataclass
class Reminder:
    kind: str
    key: str
    to: str
    subject: str
    body: str
    count: int = 1  # appraisals mentioned

    def message(self, mail_connection=None):
        return EmailMessage(
            subject=self.subject,
            body=self.body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[self.to],
            connection=mail_connection,
            headers={"Auto-Submitted": "auto-generated", "X-Auto-Response-Suppress": "All"},
        )


# --- helpers -------------------------------------------------------------------------------------


def _absolute(path):
    return settings.WAGTAILADMIN_BASE_URL.rstrip("/") + path


def _url(name, fallback="cms:mon_espace", **kwargs):
    """The absolute URL of a site view, or of "Mon espace" if that view is not mounted."""
    try:
        return _absolute(reverse(name, kwargs=kwargs or None))
    except NoReverseMatch:
        try:
            return _absolute(reverse(fallback))
        except NoReverseMatch:
            return _absolute("/")


class _DetailUrls:
    """Absolute URL of an appraisal's page: reversed once, then formatted per row."""

    PLACEHOLDER = 987654321012

    def __init__(self):
        try:
            path = reverse("appraisal:detail", kwargs={"pk": self.PLACEHOLDER})
            self.prefix, _sep, self.suffix = _absolute(path).rpartition(str(self.PLACEHOLDER))
        except NoReverseMatch:
            self.prefix = None
            self.fallback = _url("cms:mon_espace")

    def __call__(self, pk):
        return f"{self.prefix}{pk}{self.suffix}" if self.prefix is not None else self.fallback


def _recipient_ok(prefix):
    """Active agent, active account, with an e-mail address."""
    return Q(**{f"{prefix}active": True, f"{prefix}user__is_active": True}) & ~Q(**{f"{prefix}user__email": ""})


def _week(local_now):
    year, week, _day = local_now.isocalendar()
    return f"{year}-W{week:02d}"


def _render(kind, context):
    """``appraisal/email/reminder_<kind>.txt``: first line = subject, the rest = body."""
    text = render_to_string(f"appraisal/email/reminder_{kind}.txt", context).strip()
    subject, _sep, body = text.partition("\n")
    return " ".join(subject.split()), body.strip() + "\n"


def _ack_offsets(campaign):
    """Days after the notification at which the agent is reminded (ascending, distinct)."""
    days = {ACK_FIRST_DAYS, campaign.agent_return_days - ACK_LAST_BEFORE_DEADLINE_DAYS}
    return sorted(d for d in days if 1 <= d <= campaign.agent_return_days)


# --- selection ---------------------------------------------------------------------------------------


def _campaigns():
    return {
        c.pk: c
        for c in Campaign.objects.filter(status=CampaignStatus.RUNNING).only(
            "pk", "name", "year", "interviews_until", "ends_on", "notice_days", "agent_return_days"
        )
    }


def _logged(now, campaigns):
    """Keys already logged that the candidates below could produce (one bounded query)."""
    week = _week(timezone.localtime(now))
    longest = max((c.agent_return_days for c in campaigns.values()), default=0) + 1
    convoke, acknowledge, visa = (cms_reminders.log_kind(NAMESPACE, kind) for kind in (CONVOKE, ACKNOWLEDGE, VISA))
    rows = ReminderLog.objects.filter(
        Q(kind__in=[convoke, visa], key__endswith=f":{week}")
        | Q(kind=acknowledge, sent_at__gte=now - timedelta(days=longest))
    ).values_list("kind", "key")
    return {(logged_kind.removeprefix(f"{NAMESPACE}."), key) for logged_kind, key in rows}


def _convoke(now, campaigns, logged, common):
    today = timezone.localdate(now)
    due = [
        pk
        for pk, c in campaigns.items()
        if deadlines.convoke_by(c) - timedelta(days=CONVOKE_MARGIN_DAYS) <= today
    ]
    if not due:
        return []
    week = _week(timezone.localtime(now))
    rows = (
        Appraisal.objects.filter(_recipient_ok("evaluator__"), campaign_id__in=due, state=S.CREATED)
        .select_related("agent__user", "agent__org_unit", "evaluator__user")
        .order_by("evaluator_id", "campaign_id", "agent__user__last_name", "agent__user__first_name", "pk")
    )
    by_evaluator = {}
    for appraisal in rows:
        by_evaluator.setdefault(appraisal.evaluator_id, []).append(appraisal)
    reminders = []
    for evaluator_id, items in by_evaluator.items():
        key = f"{CONVOKE}:{evaluator_id}:{week}"
        if (CONVOKE, key) in logged:
            continue
        evaluator = items[0].evaluator
        shown = []
        for a in items[:DIGEST_MAX_ROWS]:
            campaign = campaigns[a.campaign_id]
            latest = deadlines.convoke_by(campaign)
            shown.append(
                {
                    "agent_name": a.agent.full_name,
                    "org_unit": a.agent.org_unit.name,
                    "campaign": f"{campaign.name} {campaign.year}",
                    "interviews_until": campaign.interviews_until,
                    "convoke_by": latest,
                    "late": deadlines.passed(latest, now),
                    "url": common["detail_url"](a.pk),
                }
            )
        subject, body = _render(
            CONVOKE,
            {
                **common,
                "first_name": evaluator.user.first_name or evaluator.full_name,
                "rows": shown,
                "total": len(items),
                "more": len(items) - len(shown),
                "notice_days": campaigns[items[0].campaign_id].notice_days,
                "list_url": common["list_url"],
            },
        )
        reminders.append(Reminder(CONVOKE, key, evaluator.user.email, subject, body, count=len(items)))
    return reminders


def _acknowledge(now, campaigns, logged, common):
    window = Q()
    for pk, c in campaigns.items():
        offsets = _ack_offsets(c)
        if offsets:
            window |= Q(
                campaign_id=pk,
                notified_at__lte=now - timedelta(days=offsets[0]),
                notified_at__gte=now - timedelta(days=c.agent_return_days),
            )
    if not window:
        return []
    rows = (
        Appraisal.objects.filter(window, _recipient_ok("agent__"), state=S.NOTIFIED)
        .select_related("agent__user", "evaluator__user")
        .order_by("notified_at", "pk")
    )
    reminders = []
    for appraisal in rows:
        campaign = campaigns[appraisal.campaign_id]
        offsets = _ack_offsets(campaign)
        elapsed = now - appraisal.notified_at
        day = max(d for d in offsets if elapsed >= timedelta(days=d))
        key = f"{ACKNOWLEDGE}:{appraisal.pk}:v{appraisal.version}:{day}"
        if (ACKNOWLEDGE, key) in logged:
            continue
        agent = appraisal.agent
        deadline = deadlines.sign_by(appraisal, campaign)
        subject, body = _render(
            ACKNOWLEDGE,
            {
                **common,
                "first_name": agent.user.first_name or agent.full_name,
                "campaign": f"{campaign.name} {campaign.year}",
                "year": campaign.year,
                "evaluator_name": appraisal.evaluator.full_name,
                "notified_on": timezone.localdate(appraisal.notified_at),
                "deadline": deadline,
                "last": len(offsets) > 1 and day == offsets[-1],
                "url": common["detail_url"](appraisal.pk),
            },
        )
        reminders.append(Reminder(ACKNOWLEDGE, key, agent.user.email, subject, body))
    return reminders


def _visa(now, campaigns, logged, common):
    week = _week(timezone.localtime(now))
    rows = (
        Appraisal.objects.filter(
            _recipient_ok("reviewer__"), campaign_id__in=list(campaigns), state=S.ACKNOWLEDGED, reviewer__isnull=False
        )
        .select_related("agent__user", "evaluator__user", "reviewer__user")
        .order_by("reviewer_id", "agent_signed_at", "refusal_recorded_at", "pk")
    )
    by_reviewer = {}
    for appraisal in rows:
        by_reviewer.setdefault(appraisal.reviewer_id, []).append(appraisal)
    reminders = []
    for reviewer_id, items in by_reviewer.items():
        key = f"{VISA}:{reviewer_id}:{week}"
        if (VISA, key) in logged:
            continue
        reviewer = items[0].reviewer
        shown = [
            {
                "agent_name": a.agent.full_name,
                "evaluator_name": a.evaluator.full_name,
                "campaign": f"{campaigns[a.campaign_id].name} {campaigns[a.campaign_id].year}",
                "since": timezone.localdate(a.agent_signed_at or a.refusal_recorded_at or a.updated_at),
                "refused": a.agent_signed_at is None,
                "url": common["detail_url"](a.pk),
            }
            for a in items[:DIGEST_MAX_ROWS]
        ]
        subject, body = _render(
            VISA,
            {
                **common,
                "first_name": reviewer.user.first_name or reviewer.full_name,
                "rows": shown,
                "total": len(items),
                "more": len(items) - len(shown),
                "queue_url": common["queue_url"],
            },
        )
        reminders.append(Reminder(VISA, key, reviewer.user.email, subject, body, count=len(items)))
    return reminders


def collect(now=None):
    """Every reminder due now and not logged yet, rendered. Writes nothing, sends nothing."""
    now = now or timezone.now()
    campaigns = _campaigns()
    if not campaigns:
        return []
    logged = _logged(now, campaigns)
    with translation.override(LANGUAGE):
        common = {
            "site_name": settings.WAGTAIL_SITE_NAME,
            "detail_url": _DetailUrls(),
            "list_url": _url("appraisal:list"),
            "queue_url": _url("appraisal:reviewer_queue", fallback="appraisal:list"),
        }
        return (
            _convoke(now, campaigns, logged, common)
            + _acknowledge(now, campaigns, logged, common)
            + _visa(now, campaigns, logged, common)
        )


# --- delivery ---------------------------------------------------------------------------------------------


def deliver(reminders, now=None):
    """Claim and send ``reminders`` (from :func:`collect`); return (sent, failed)."""
    return cms_reminders.deliver(reminders, namespace=NAMESPACE, now=now, batch_size=BATCH)


def counts(reminders):
    return cms_reminders.counts(reminders, KINDS)


def send_all(now=None, *, dry_run=False):
    """Send every appraisal reminder due now. Returns the number of messages per kind and
    ``failed``. With ``dry_run``, nothing is sent nor written: the counts are what would go."""
    return cms_reminders.send_all(collect, KINDS, namespace=NAMESPACE, now=now, dry_run=dry_run, batch_size=BATCH)
