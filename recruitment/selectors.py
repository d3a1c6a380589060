"""Reads of the recruitment app that depend on who asks: querysets already filtered, and
the board of an opening in a constant number of queries.

Anonymised screening: while an opening has ``anonymised_screening`` and an application is
still received / admissibility / screening, nobody sees who the candidate is in the admin:
the name becomes "Candidat·e <reference>", the e-mail address, the phone number and the
candidate's free message are masked, the CV and the cover letter cannot be downloaded
(a CV almost always carries the name, and no redaction is done), and the copies of the
messages sent to the candidate are summarised without their body or recipient. Everything
appears as soon as the application leaves screening.
"""

from dataclasses import dataclass, field

from django.db.models import Count, F, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.expressions import Case, When, Window
from django.db.models.functions import Coalesce, RowNumber
from django.utils import timezone
from django.utils.translation import gettext as _

from cms import roles
from cms.selectors import has_role
from recruitment import permissions
from recruitment.choices import ACTIVE, PIPELINE, TERMINAL, ApplicationStatus, OpeningState
from recruitment.models import Application, ApplicationEvent, Interview, JobOpeningPage, Scorecard

IDENTITY_HIDDEN_STATUSES = (ApplicationStatus.RECEIVED, ApplicationStatus.ADMISSIBILITY, ApplicationStatus.SCREENING)
CLOSED_STATUSES = [s for s in TERMINAL if s != ApplicationStatus.HIRED]
BOARD_COLUMN_LIMIT = 100  # cards shown per column; the count is always the real one

Recruiters = JobOpeningPage.recruiters.through

#: Openings whose recruitment is open (no ``OpeningStatus`` row, or one saying "open").
IS_OPEN = Q(recruitment_status__isnull=True) | Q(recruitment_status__state=OpeningState.OPEN)
#: Openings whose applications still move (open, or closed to applications by the deadline).
IN_PROGRESS = IS_OPEN | Q(recruitment_status__state=OpeningState.APPLICATIONS_CLOSED)


# --- openings -------------------------------------------------------------------------------


def visible_openings(user, *, index=None, today=None, external_only=False):
    """Live openings open for applications (recruitment open, deadline not past) that
    ``user`` may see: internal-only ones only for agents. Filtered in the queryset."""
    today = today or timezone.localdate()
    openings = JobOpeningPage.objects.live().filter(IS_OPEN, application_deadline__gte=today)
    if index is not None:
        openings = openings.descendant_of(index)
    if external_only or not permissions.is_agent(user):
        openings = openings.filter(internal_only=False)
    if user is None or not user.is_authenticated:
        openings = openings.public()  # pages behind a Wagtail view restriction stay hidden
    return openings


def with_recruitment_state(openings):
    """The state of each opening's recruitment joined (``opening.recruitment_state`` without
    a query per row), and ``opening_state`` to sort on."""
    return openings.select_related("recruitment_status").annotate(
        opening_state=Coalesce(F("recruitment_status__state"), Value(OpeningState.OPEN.value))
    )


# --- who sees what ------------------------------------------------------------------------


def _managed_opening_ids(user):
    return Recruiters.objects.filter(user_id=user.pk).values("jobopeningpage_id")


def openings_managed_by(user):
    """HR: every opening; a recruiter: the openings listing them in ``recruiters``."""
    if not user.is_authenticated:
        return JobOpeningPage.objects.none()
    if has_role(user, roles.HR):
        return JobOpeningPage.objects.all()
    return JobOpeningPage.objects.filter(pk__in=_managed_opening_ids(user))


def applications_visible_to(user):
    """HR: all; recruiters: the applications of their openings; interviewers: the
    applications they have an interview or a scorecard for; anybody else: none."""
    if not user.is_authenticated:
        return Application.objects.none()
    if has_role(user, roles.HR):
        return Application.objects.all()
    return Application.objects.filter(
        Q(opening_id__in=_managed_opening_ids(user))
        | Q(pk__in=Interview.objects.filter(interviewers=user).values("application_id"))
        | Q(pk__in=Scorecard.objects.filter(interviewer=user).values("application_id"))
    )


def _status_count(statuses):
    counts = (
        Application.objects.filter(opening=OuterRef("pk"), status__in=statuses)
        .order_by()
        .values("opening")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counts, output_field=IntegerField()), Value(0))


def with_status_counts(openings):
    """Annotate ``n_<status>`` for each pipeline status, ``n_active`` and ``n_closed``
    (one statement: correlated counts served by the (opening, status) index)."""
    annotations = {f"n_{status}": _status_count([status]) for status in PIPELINE}
    annotations["n_active"] = _status_count(ACTIVE)
    annotations["n_closed"] = _status_count(CLOSED_STATUSES)
    annotations["open_first"] = Case(When(IN_PROGRESS, then=Value(0)), default=Value(1), output_field=IntegerField())
    return openings.annotate(**annotations)


# --- anonymised screening ----------------------------------------------------------------


def identity_hidden(application, opening=None):
    opening = opening or application.opening
    return bool(opening.anonymised_screening) and application.status in IDENTITY_HIDDEN_STATUSES


def display_name(application, opening=None):
    if identity_hidden(application, opening):
        return _("Candidat·e %(reference)s") % {"reference": application.reference}
    return str(application.candidate)


@dataclass
class Identity:
    hidden: bool
    name: str
    email: str = ""
    phone: str = ""
    message: str = ""
    files_available: bool = True
    hidden_notice: str = ""


def identity(application, opening=None):
    """What the admin may show about the candidate behind ``application``."""
    opening = opening or application.opening
    if identity_hidden(application, opening):
        return Identity(
            hidden=True, name=display_name(application, opening), files_available=False,
            hidden_notice=_(
                "Présélection anonyme : le nom, les coordonnées, le message du candidat, le CV et la lettre de "
                "motivation (qui portent souvent le nom) sont masqués jusqu'à ce que la candidature quitte "
                "l'étape « %(stage)s »."
            ) % {"stage": opening.stage_label(ApplicationStatus.SCREENING)},
        )
    candidate = application.candidate
    return Identity(hidden=False, name=str(candidate), email=candidate.email, phone=candidate.phone,
                    message=application.message, files_available=True)


# --- the board ---------------------------------------------------------------------------


@dataclass
class Card:
    application: Application
    name: str
    days_in_stage: int


@dataclass
class BoardColumn:
    status: str
    label: str
    count: int
    cards: list = field(default_factory=list)

    @property
    def hidden_count(self):
        return max(self.count - len(self.cards), 0)


@dataclass
class Board:
    opening: JobOpeningPage
    columns: list
    closed: list  # [(status, label, count)] for rejected, withdrawn, offer declined, cancelled
    total: int
    active: int


def board(opening, *, limit=BOARD_COLUMN_LIMIT, now=None):
    """Counts per status (one aggregate query) and the cards of each pipeline column (one
    query, at most ``limit`` cards per column, longest in stage first)."""
    now = now or timezone.now()
    counts = dict(
        Application.objects.filter(opening=opening).order_by().values_list("status").annotate(n=Count("pk"))
    )
    ranked = (
        Application.objects.filter(opening=opening, status__in=PIPELINE)
        .select_related("candidate")
        .annotate(rank=Window(RowNumber(), partition_by=[F("status")], order_by=[F("status_changed_at").asc(), F("pk").asc()]))
        .filter(rank__lte=limit)
        .order_by("status_changed_at", "pk")
    )
    columns = {status: BoardColumn(status, opening.stage_label(status), counts.get(status, 0)) for status in PIPELINE}
    for application in ranked:
        application.opening = opening
        days = (now - application.status_changed_at).days
        columns[application.status].cards.append(Card(application, display_name(application, opening), max(days, 0)))
    closed = [(status, ApplicationStatus(status).label, counts.get(status, 0)) for status in CLOSED_STATUSES]
    return Board(
        opening=opening,
        columns=[columns[status] for status in PIPELINE],
        closed=closed,
        total=sum(counts.values()),
        active=sum(counts.get(status, 0) for status in ACTIVE),
    )


def closed_applications(opening):
    """Rejected, withdrawn, declined and cancelled applications of an opening, latest first."""
    return (
        Application.objects.filter(opening=opening, status__in=CLOSED_STATUSES)
        .select_related("candidate")
        .order_by("-status_changed_at", "-pk")
    )


# --- one application ---------------------------------------------------------------------


def timeline(application):
    return ApplicationEvent.objects.filter(application=application).select_related("actor").order_by("at", "pk")


def interviews_of(application):
    return Interview.objects.filter(application=application).prefetch_related("interviewers").order_by("starts_at", "pk")


def scorecards_of(user):
    """The interviewer's own scorecards, pending first, with the date of their interview."""
    next_interview = (
        Interview.objects.filter(application=OuterRef("application"), interviewers=user)
        .order_by("-starts_at")
        .values("starts_at")[:1]
    )
    return (
        Scorecard.objects.filter(interviewer=user)
        .select_related("application__opening", "application__candidate")
        .annotate(interview_at=Subquery(next_interview))
        .order_by(F("submitted_at").asc(nulls_first=True), "interview_at", "pk")
    )


def jury_candidates(opening=None):
    """Active users who may sit on a jury: Interviewers, Recruiters, HR (and the opening's
    recruiters), by name."""
    from django.contrib.auth import get_user_model

    condition = Q(groups__name__in=[roles.INTERVIEWERS, roles.RECRUITERS, roles.HR])
    if opening is not None and opening.pk:
        condition |= Q(pk__in=Recruiters.objects.filter(jobopeningpage_id=opening.pk).values("user_id"))
    users = get_user_model().objects.filter(is_active=True)
    return users.filter(pk__in=users.filter(condition).values("pk")).order_by("last_name", "first_name", "pk")


def recruiter_candidates(opening=None):
    """Active users who may be listed as recruiters of an opening: Recruiters, HR and
    superusers (and the opening's current recruiters, so that saving keeps them), by name,
    with their agent profile and unit joined (the chooser shows them without a query each)."""
    from django.contrib.auth import get_user_model

    condition = Q(groups__name__in=[roles.RECRUITERS, roles.HR]) | Q(is_superuser=True)
    if opening is not None and opening.pk:
        condition |= Q(pk__in=Recruiters.objects.filter(jobopeningpage_id=opening.pk).values("user_id"))
    users = get_user_model().objects.filter(is_active=True)
    return (
        users.filter(pk__in=users.filter(condition).values("pk"))
        .select_related("agent__org_unit")
        .order_by("last_name", "first_name", "pk")
    )
