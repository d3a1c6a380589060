"""Training reminders by e-mail. Safe to run every hour; never sends the same reminder twice.

Kinds and keys (logged in ``cms.models.ReminderLog`` as ``learning.<kind>``; unique on
(kind, key), so a key is sent at most once):

- ``due_soon``  to the agent, open enrolment due within 7 days ..... ``due_soon:<enrollment>:<due date>``
- ``overdue``   to the agent, open enrolment past its due date ...... ``overdue:<enrollment>:<due date>``
- ``expiring``  to the agent, completion expiring within 30 days .... ``expiring:<enrollment>:<expiry date>``
- ``manager_digest`` weekly, to each manager (N+1), their direct reports' overdue enrolments
  ............................................................. ``manager_digest:<manager agent>:<ISO week>``

A moved due date (or a new expiry) gives a new key, hence a new reminder.

Idempotency and delivery (``cms.reminders.deliver``). Candidates are selected with one
query per kind (plus one for the keys already logged), then delivered in batches. Each
batch is one transaction that *first* claims its keys (an insert that skips the keys
already logged), *then* sends its messages over a single SMTP connection, then commits:

- two concurrent runs cannot both send: the second one's claim of the same (kind, key)
  waits on the unique index until the first commits, then skips it: it sends only what
  is left;
- a message the mail server refuses is un-logged in the same transaction (its row is
  deleted before commit), so the next hourly run tries it again: no reminder is lost
  because of a transient SMTP error;
- the remaining window is a crash (process killed, database gone) between a message being
  accepted by the mail server and the commit of its batch: those few messages may be
  sent again on the next run (``at_most_once=False``). Logging and committing *before*
  sending would close that window but lose every message of a batch whose sending
  fails — for training reminders a rare duplicate is the better failure.

Inactive agents (``Agent.active`` or ``User.is_active`` false) and accounts without an
e-mail address receive nothing; unpublished courses are not reminded.
"""

from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db.models import Exists, OuterRef, Q
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from wagtail.models import Site

from cms import reminders as cms_reminders
from cms.models import ReminderLog
from cms.pdf import french_date
from learning.choices import EnrollmentStatus, ReminderKind
from learning.models import Enrollment

DUE_SOON_DAYS = 7
EXPIRING_DAYS = 30
# Overdue reminders go out once, just after the due date. Enrolments overdue for longer
# than this (e.g. on the first run after installation) are left to the managers' digest
# rather than each agent receiving a reminder for a date long past.
OVERDUE_LOOKBACK_DAYS = 30
# The weekly digest goes out on the first run from Monday 07:00 (local time) on.
DIGEST_NOT_BEFORE_HOUR = 7
DIGEST_MAX_ROWS = 50
BATCH = 200
LANGUAGE = "fr"
NAMESPACE = "learning"  # ReminderLog kinds: learning.due_soon, learning.overdue…
TEAM_PATH = "/formation/equipe/formations/"
MY_SPACE_PATH = "/mon-espace/"

OPEN_NOT_DONE = [EnrollmentStatus.NOT_STARTED, EnrollmentStatus.IN_PROGRESS]


@dataclass
class Reminder:
    kind: str
    key: str
    user_id: int
    to: str
    subject: str
    text: str
    html: str
    enrollment_id: int | None = None
    rows: int = 1  # enrolments mentioned (1, or the digest's length)
    extra: dict = field(default_factory=dict)

    @property
    def object_id(self):
        """What the log row points to: the enrolment (none for a digest)."""
        return self.enrollment_id

    def message(self, connection=None):
        message = EmailMultiAlternatives(
            subject=self.subject,
            body=self.text,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[self.to],
            connection=connection,
            headers={"Auto-Submitted": "auto-generated", "X-Auto-Response-Suppress": "All"},
        )
        message.attach_alternative(self.html, "text/html")
        return message


# --- helpers ---------------------------------------------------------------------------------


def _absolute(path):
    if not path:
        return ""
    if path.startswith("/"):
        return settings.WAGTAILADMIN_BASE_URL.rstrip("/") + path
    return path


def _my_space_url():
    try:
        return _absolute(reverse("cms:mon_espace"))
    except NoReverseMatch:
        return _absolute(MY_SPACE_PATH)


def team_url():
    try:
        return _absolute(reverse("learning:team"))
    except NoReverseMatch:
        return _absolute(TEAM_PATH)


class _UrlCache:
    """Holds Wagtail's site root paths for the whole run (one lookup, not one per page)."""


def _course_urls(enrollments):
    """Absolute URL of each distinct course: WAGTAILADMIN_BASE_URL + the page's path on its
    site (or the site's own root URL when several sites are configured)."""
    cache, urls, single_site = _UrlCache(), {}, None
    for enrollment in enrollments:
        if enrollment.course_id in urls:
            continue
        parts = enrollment.course.get_url_parts(request=cache)
        if not parts or parts[2] is None:  # not routable
            urls[enrollment.course_id] = ""
            continue
        if single_site is None:
            single_site = len({root.site_id for root in Site.get_site_root_paths()}) <= 1
        _site_id, root_url, page_path = parts
        urls[enrollment.course_id] = _absolute(page_path) if single_site else root_url.rstrip("/") + page_path
    return urls


def _recipient_ok(prefix):
    """Active agent, active account, with an e-mail address."""
    return Q(**{f"{prefix}active": True, f"{prefix}user__is_active": True}) & ~Q(**{f"{prefix}user__email": ""})


def _organisation_name():
    from themes.models import ThemeSettings

    name = ThemeSettings.objects.filter(site__is_default_site=True).values_list("organisation_name", flat=True).first()
    return name or settings.WAGTAIL_SITE_NAME


def _render(kind, context):
    base = f"learning/email/{kind}"
    subject = " ".join(render_to_string(f"{base}_subject.txt", context).split())
    context = {**context, "subject": subject}
    return subject, render_to_string(f"{base}.txt", context).strip() + "\n", render_to_string(f"{base}.html", context)


def _percent(progress):
    return int(round((progress or 0) * 100))


def _week_label(local_now):
    year, week, _day = local_now.isocalendar()
    return f"{year}-W{week:02d}"


# --- selection (one query per kind, plus one for the keys already logged) --------------------


def _agent_enrollments():
    return Enrollment.objects.filter(_recipient_ok("agent__"), course__live=True).select_related("agent__user", "course")


def _windows(now):
    return {
        ReminderKind.DUE_SOON: (
            Q(status__in=OPEN_NOT_DONE, due_at__gt=now, due_at__lte=now + timedelta(days=DUE_SOON_DAYS)),
            "due_at",
        ),
        ReminderKind.OVERDUE: (
            Q(status__in=OPEN_NOT_DONE, due_at__lte=now, due_at__gt=now - timedelta(days=OVERDUE_LOOKBACK_DAYS)),
            "due_at",
        ),
        ReminderKind.EXPIRING: (
            Q(status=EnrollmentStatus.COMPLETED, expires_at__gt=now, expires_at__lte=now + timedelta(days=EXPIRING_DAYS)),
            "expires_at",
        ),
    }


def _agent_reminders(kind, condition, date_field, common):
    candidates = _agent_enrollments().filter(condition)
    rows = list(candidates.order_by(date_field, "pk"))
    if not rows:
        return []
    logged = set(
        ReminderLog.objects.filter(
            kind=cms_reminders.log_kind(NAMESPACE, kind), object_id__in=candidates.values("pk")
        ).values_list("key", flat=True)
    )
    urls = _course_urls(rows)
    reminders = []
    for enrollment in rows:
        moment = getattr(enrollment, date_field)
        key = f"{kind}:{enrollment.pk}:{timezone.localdate(moment).isoformat()}"
        if key in logged:
            continue
        agent, course = enrollment.agent, enrollment.course
        context = {
            **common,
            "kind": kind,
            "first_name": agent.user.first_name or agent.full_name,
            "full_name": agent.full_name,
            "course_title": course.title,
            "course_url": urls[enrollment.course_id],
            "estimated_minutes": course.estimated_minutes,
            "due_on": french_date(enrollment.due_at),
            "expires_on": french_date(enrollment.expires_at),
            "completed_on": french_date(enrollment.completed_at),
            "progress": _percent(enrollment.progress),
            "started": enrollment.status == EnrollmentStatus.IN_PROGRESS,
        }
        subject, text, html = _render(kind, context)
        reminders.append(
            Reminder(kind, key, agent.user_id, agent.user.email, subject, text, html, enrollment_id=enrollment.pk)
        )
    return reminders


def _digest_reminders(now, common):
    local_now = timezone.localtime(now)
    if local_now.weekday() == 0 and local_now.hour < DIGEST_NOT_BEFORE_HOUR:
        return []
    week = _week_label(local_now)
    kind = ReminderKind.MANAGER_DIGEST
    already = ReminderLog.objects.filter(
        kind=cms_reminders.log_kind(NAMESPACE, kind), user_id=OuterRef("agent__manager__user_id"), key__endswith=f":{week}"
    )
    rows = list(
        Enrollment.objects.filter(
            Q(agent__active=True, agent__user__is_active=True),
            _recipient_ok("agent__manager__"),
            status__in=OPEN_NOT_DONE,
            due_at__lte=now,
            course__live=True,
        )
        .exclude(Exists(already))
        .select_related("agent__user", "agent__manager__user", "course")
        .order_by("agent__manager_id", "due_at", "agent__user__last_name", "agent__user__first_name", "pk")
    )
    by_manager = {}
    for enrollment in rows:
        by_manager.setdefault(enrollment.agent.manager_id, []).append(enrollment)
    monday = (local_now - timedelta(days=local_now.weekday())).date()
    urls = _course_urls(rows)
    reminders = []
    for manager_id, items in by_manager.items():
        manager = items[0].agent.manager
        shown = [
            {
                "agent_name": e.agent.full_name,
                "course_title": e.course.title,
                "course_url": urls[e.course_id],
                "due_on": french_date(e.due_at),
                "days_late": max(1, (local_now.date() - timezone.localdate(e.due_at)).days),
                "progress": _percent(e.progress),
                "started": e.status == EnrollmentStatus.IN_PROGRESS,
            }
            for e in items[:DIGEST_MAX_ROWS]
        ]
        context = {
            **common,
            "kind": kind,
            "first_name": manager.user.first_name or manager.full_name,
            "full_name": manager.full_name,
            "rows": shown,
            "total": len(items),
            "agents": len({e.agent_id for e in items}),
            "more": len(items) - len(shown),
            "week": week,
            "week_of": french_date(monday),
        }
        subject, text, html = _render(kind, context)
        reminders.append(
            Reminder(
                kind, f"{kind}:{manager_id}:{week}", manager.user_id, manager.user.email, subject, text, html,
                rows=len(items),
            )
        )
    return reminders


def collect(now=None):
    """Every reminder due now and not sent yet, rendered, in sending order. Writes nothing."""
    now = now or timezone.now()
    with translation.override(LANGUAGE):
        common = {
            "organisation_name": _organisation_name(),
            "site_name": settings.WAGTAIL_SITE_NAME,
            "my_space_url": _my_space_url(),
            "team_url": team_url(),
        }
        reminders = []
        for kind, (condition, date_field) in _windows(now).items():
            reminders += _agent_reminders(kind, condition, date_field, common)
        reminders += _digest_reminders(now, common)
    return reminders


# --- delivery ----------------------------------------------------------------------------------


def deliver(reminders):
    """Send ``reminders`` (from :func:`collect`) over one connection; return (sent, failed)."""
    return cms_reminders.deliver(reminders, namespace=NAMESPACE, batch_size=BATCH, at_most_once=False)


def counts(reminders):
    return cms_reminders.counts(reminders, ReminderKind.values)


def send_all(now=None, *, dry_run=False):
    """Send every reminder due now (hourly task). Returns the count per kind, plus ``failed``.

    With ``dry_run`` nothing is sent nor written: the counts are those that would be sent.
    """
    return cms_reminders.send_all(
        collect, ReminderKind.values, namespace=NAMESPACE, now=now, dry_run=dry_run, batch_size=BATCH,
        at_most_once=False,
    )
