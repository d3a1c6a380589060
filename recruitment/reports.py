"""Recruitment reports: the funnel, time-to-hire and internal vs external applications for a
period, over the applications the caller may report on (HR: all; a recruiter: the openings
listing them in ``recruiters``), optionally for one opening.

Definitions (the API, the report page and docs say the same):

* **Period**: ``date_from`` and ``date_to`` are local calendar dates, both included.
* **Funnel**: the applications *submitted* in the period; for each pipeline stage, how many
  reached it. The stage an application reached is the furthest pipeline stage found in its
  ``move`` events (``ApplicationEvent``), or its current status if further: an application
  rejected after the interview counts in received … interview. Every count is therefore at
  most the previous one. ``rate`` is the share of received applications.
* **Outcomes**: the current status of the same applications.
* **Time-to-hire**: the applications *hired* in the period (status ``hired``, hired on a
  date of the period): number of hires, median and mean of the days from ``submitted_at``
  to the hire (``status_changed_at``: a hired application never moves again).
* **Internal vs external**: applications submitted in the period and hires made in it, for
  agents of the organisation (``is_internal``) and for external candidates.

Queries: one aggregate for the funnel, the outcomes and internal vs external (the
applications joined to their events, grouped by application in a subquery, counted in one
row), one aggregate for the hires and one slice of at most two rows for the median. Nothing
is computed per application in Python.
"""

import datetime
from dataclasses import dataclass, field

from django.db.models import (
    Avg,
    Case,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    IntegerField,
    Max,
    Q,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone
from django.utils.translation import gettext as _

from cms import roles
from cms.selectors import has_role
from recruitment.choices import ACTIVE, PIPELINE, ApplicationStatus
from recruitment.models import Application, JobOpeningPage

DEFAULT_PERIOD_DAYS = 365
MAX_PERIOD_DAYS = 366 * 10
Recruiters = JobOpeningPage.recruiters.through


# --- who may report on what ----------------------------------------------------------------


def can_view_reports(user):
    """HR, members of the Recruiters group, and anyone listed as recruiter of an opening."""
    if not user.is_authenticated:
        return False
    if has_role(user, roles.HR) or has_role(user, roles.RECRUITERS):
        return True
    return Recruiters.objects.filter(user_id=user.pk).exists()


def reportable_openings(user):
    """The openings ``user`` may report on (HR: all; otherwise those listing them as recruiter)."""
    if not user.is_authenticated:
        return JobOpeningPage.objects.none()
    if has_role(user, roles.HR):
        return JobOpeningPage.objects.all()
    return JobOpeningPage.objects.filter(pk__in=Recruiters.objects.filter(user_id=user.pk).values("jobopeningpage_id"))


def reportable_applications(user, opening=None):
    if not user.is_authenticated:
        return Application.objects.none()
    applications = Application.objects.all()
    if not has_role(user, roles.HR):
        applications = applications.filter(
            opening_id__in=Recruiters.objects.filter(user_id=user.pk).values("jobopeningpage_id")
        )
    if opening is not None:
        applications = applications.filter(opening_id=opening.pk if hasattr(opening, "pk") else opening)
    return applications


# --- period ------------------------------------------------------------------------------------


class PeriodError(ValueError):
    """``field``: the parameter to name first; ``fields``: every parameter at fault."""

    def __init__(self, field, message, fields=None):
        super().__init__(message)
        self.field, self.message = field, message
        self.fields = tuple(fields or (field,))


@dataclass(frozen=True)
class Period:
    date_from: datetime.date
    date_to: datetime.date

    @property
    def start(self):
        return timezone.make_aware(datetime.datetime.combine(self.date_from, datetime.time.min))

    @property
    def end(self):
        """Exclusive: midnight after ``date_to``."""
        return timezone.make_aware(
            datetime.datetime.combine(self.date_to + datetime.timedelta(days=1), datetime.time.min)
        )


def parse_date(raw, field):
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        return datetime.date.fromisoformat(raw)
    except ValueError as exc:
        raise PeriodError(
            field, _("Date invalide : « %(value)s » (format attendu AAAA-MM-JJ).") % {"value": raw[:40]}
        ) from exc


def period_from(raw_from, raw_to, *, today=None, field_from="from", field_to="to"):
    """The period of the query string (ISO dates, both optional): by default the last 365 days
    up to today. Raises :class:`PeriodError` naming the parameter."""
    today = today or timezone.localdate()
    date_from, date_to = parse_date(raw_from, field_from), parse_date(raw_to, field_to)
    try:
        date_to = date_to or (today if date_from is None else max(today, date_from))
        date_from = date_from or date_to - datetime.timedelta(days=DEFAULT_PERIOD_DAYS - 1)
    except OverflowError:
        raise _out_of_calendar(raw_from, raw_to, field_from, field_to) from None
    if date_from > date_to:
        raise PeriodError(
            field_from,
            _("La date de début (%(start)s) est postérieure à la date de fin (%(end)s).")
            % {"start": date_from.isoformat(), "end": date_to.isoformat()},
        )
    if (date_to - date_from).days > MAX_PERIOD_DAYS:
        raise PeriodError(field_from, _("La période ne peut pas dépasser dix ans."))
    period = Period(date_from, date_to)
    try:  # the bounds must exist as aware datetimes, in UTC too (0001-01-01 and 9999-12-31 do not)
        period.start.astimezone(datetime.UTC)
        period.end.astimezone(datetime.UTC)
    except OverflowError:
        raise _out_of_calendar(raw_from, raw_to, field_from, field_to) from None
    return period


def _out_of_calendar(raw_from, raw_to, field_from, field_to):
    at_fault = [field for field, raw in ((field_from, raw_from), (field_to, raw_to)) if raw] or [field_from]
    return PeriodError(at_fault[0], _("Date hors des limites du calendrier."), at_fault)


# --- the figures ----------------------------------------------------------------------------------


def _stage_index(field_name):
    """Position of a status in the pipeline (received = 0 … hired = 7), -1 outside it."""
    return Case(
        *[When(**{field_name: status}, then=Value(index)) for index, status in enumerate(PIPELINE)],
        default=Value(-1),
        output_field=IntegerField(),
    )


def with_reached_stage(applications):
    """Annotate ``reached``: the index in PIPELINE of the furthest stage reached (move events
    or current status), -1 if none. A join on the events grouped by application: aggregate
    over it (Django then reads it as a subquery), never list it."""
    furthest_event = Max(_stage_index("events__to_status"), filter=Q(events__kind="move"))
    return applications.annotate(reached=Greatest(Coalesce(furthest_event, Value(-1)), _stage_index("status")))


@dataclass
class FunnelStage:
    status: str
    label: str
    count: int
    rate: float | None  # share of the received applications (0..1), None when there are none
    step_rate: float | None  # share of the previous stage


@dataclass
class Report:
    period: Period
    opening: object
    applications: int
    funnel: list
    outcomes: list  # [{status, label, count}] current status of the period's applications
    hires: int
    median_days: float | None
    mean_days: float | None
    internal: dict = field(default_factory=dict)  # {"applications": n, "hires": n}
    external: dict = field(default_factory=dict)

    @property
    def active(self):
        return sum(row["count"] for row in self.outcomes if row["status"] in ACTIVE)


def _days(delta):
    if delta is None:
        return None
    if not isinstance(delta, datetime.timedelta):  # a backend returning microseconds
        delta = datetime.timedelta(microseconds=float(delta))
    return round(delta.total_seconds() / 86400, 1)


def funnel_counts(applications, period):
    """For the applications submitted in ``period`` (one aggregate query over the applications
    joined to their events): ``total``, ``internal``, ``reached_<i>`` (how many reached
    PIPELINE[i] or further) and ``status_<status>`` (current status)."""
    figures = {f"reached_{index}": Count("pk", filter=Q(reached__gte=index)) for index in range(len(PIPELINE))}
    figures.update({f"status_{status}": Count("pk", filter=Q(status=status)) for status in ApplicationStatus.values})
    figures["internal"] = Count("pk", filter=Q(is_internal=True))
    figures["total"] = Count("pk")
    scope = applications.filter(submitted_at__gte=period.start, submitted_at__lt=period.end).order_by()
    return with_reached_stage(scope).aggregate(**figures)


def time_to_hire(applications, period):
    """``(hires, internal_hires, median_days, mean_days)`` for the hires of ``period``."""
    hires = applications.filter(
        status=ApplicationStatus.HIRED, status_changed_at__gte=period.start, status_changed_at__lt=period.end
    ).annotate(duration=ExpressionWrapper(F("status_changed_at") - F("submitted_at"), output_field=DurationField()))
    figures = hires.aggregate(n=Count("pk"), internal=Count("pk", filter=Q(is_internal=True)), mean=Avg("duration"))
    n = figures["n"]
    median = None
    if n:
        middle = list(hires.order_by("duration", "pk").values_list("duration", flat=True)[(n - 1) // 2 : n // 2 + 1])
        values = [_days(value) for value in middle]
        median = round(sum(values) / len(values), 1)
    return n, figures["internal"], median, _days(figures["mean"])


def build_report(applications, period, opening=None):
    """The report over ``applications`` (already restricted to what the caller may see)."""
    counts = funnel_counts(applications, period)
    total = counts["total"]
    received = counts["reached_0"]
    funnel, previous = [], None
    for index, status in enumerate(PIPELINE):
        count = counts[f"reached_{index}"]
        funnel.append(
            FunnelStage(
                status=status,
                label=str(opening.stage_label(status) if opening is not None else ApplicationStatus(status).label),
                count=count,
                rate=round(count / received, 4) if received else None,
                step_rate=round(count / previous, 4) if previous else (None if index else (1.0 if count else None)),
            )
        )
        previous = count
    internal_applications = counts["internal"]
    outcomes = [
        {"status": status, "label": str(ApplicationStatus(status).label), "count": counts[f"status_{status}"]}
        for status in ApplicationStatus.values
    ]
    hires, internal_hires, median, mean = time_to_hire(applications, period)
    return Report(
        period=period,
        opening=opening,
        applications=total,
        funnel=funnel,
        outcomes=outcomes,
        hires=hires,
        median_days=median,
        mean_days=mean,
        internal={"applications": internal_applications, "hires": internal_hires},
        external={"applications": total - internal_applications, "hires": hires - internal_hires},
    )


def report_for(user, period, opening=None):
    return build_report(reportable_applications(user, opening), period, opening)


def by_opening(applications, period):
    """One row per opening with applications submitted in ``period``: counts by outcome, most
    applications first (a grouped query: paginate it)."""
    return (
        applications.filter(submitted_at__gte=period.start, submitted_at__lt=period.end)
        .order_by()
        .values("opening_id", "opening__title", "opening__reference")
        .annotate(
            applications=Count("pk"),
            internal=Count("pk", filter=Q(is_internal=True)),
            in_progress=Count("pk", filter=Q(status__in=ACTIVE)),
            hired=Count("pk", filter=Q(status=ApplicationStatus.HIRED)),
            rejected=Count("pk", filter=Q(status=ApplicationStatus.REJECTED)),
        )
        .order_by("-applications", "opening__reference")
    )
