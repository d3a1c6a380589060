"""Reads of the learning app that depend on who asks. Lists are filtered in the queryset."""

from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Exists, OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from cms import selectors as cms_selectors
from cms.models import Agent, OrgUnit
from learning.choices import OPEN_STATUSES, EnrollmentStatus
from learning.models import CoursePage, Enrollment, QuizAttempt, StepPage
from learning.permissions import can_view_all_completions, visible_enrollments_filter
from learning.progress import course_progress


def published_courses():
    return CoursePage.objects.live().public().order_by("title")


def catalogue(request, index_page):
    """Courses under a catalogue page, with search, filters and the caller's status (2 queries)."""
    courses = CoursePage.objects.live().public().child_of(index_page).order_by("title")
    q = (request.GET.get("q") or "").strip()
    theme = (request.GET.get("theme") or "").strip()
    duration = (request.GET.get("duration") or "").strip()
    themes = sorted({t for t in courses.values_list("theme", flat=True) if t})
    if theme:
        courses = courses.filter(theme=theme)
    if duration == "short":
        courses = courses.filter(estimated_minutes__lte=60)
    elif duration == "long":
        courses = courses.filter(estimated_minutes__gt=60)
    if q:
        courses = courses.filter(
            Q(title__icontains=q) | Q(summary__icontains=q) | Q(theme__icontains=q) | Q(search_description__icontains=q)
        )
    agent = cms_selectors.agent_for_user(request.user)
    if agent is not None:
        # The latest cycle, whatever its status: a failed or expired course shows as such.
        mine = Enrollment.objects.filter(agent=agent, course=OuterRef("pk")).order_by("-cycle")
        courses = courses.annotate(
            my_status=Subquery(mine.values("status")[:1]), my_progress=Subquery(mine.values("progress")[:1])
        )
    filters = {key: value for key, value in (("q", q), ("theme", theme), ("duration", duration)) if value}
    if hasattr(request, "session"):
        remember_catalogue_filters(request, index_page, filters)
    return {
        "courses": courses, "q": q, "theme": theme, "duration": duration, "themes": themes, "filtered": bool(filters),
    }


CATALOGUE_FILTERS = "learning.catalogue_filters"


def remember_catalogue_filters(request, index_page, filters):
    """Keep the catalogue's last search and filters for this session, so that the way back
    from a course (the breadcrumb) returns to the same results."""
    saved = request.session.get(CATALOGUE_FILTERS) or {}
    key = str(index_page.pk)
    if saved.get(key) != filters:
        saved[key] = filters
        request.session[CATALOGUE_FILTERS] = saved


def catalogue_url(request, index_page):
    """The catalogue's URL with the filters the learner chose last in this session."""
    from urllib.parse import urlencode

    url = index_page.get_url(request)
    filters = (getattr(request, "session", None) or {}).get(CATALOGUE_FILTERS, {}).get(str(index_page.pk))
    return f"{url}?{urlencode(filters)}" if filters else url


def open_enrollment(agent, course):
    if agent is None:
        return None
    return Enrollment.objects.filter(agent=agent, course=course, status__in=OPEN_STATUSES).first()


def course_outline(user, course, current=None):
    """Steps with done marks, previous/next around ``current`` and where to resume."""
    agent = cms_selectors.agent_for_user(user)
    enrollment = open_enrollment(agent, course)
    if enrollment is None and agent is not None:  # show the last closed cycle (failed/expired)
        enrollment = Enrollment.objects.filter(agent=agent, course=course).order_by("-cycle").first()
    steps = [step for step in course.get_children().live().specific().order_by("path") if isinstance(step, StepPage)]
    progress = course_progress(enrollment, steps).steps
    done = {pk for pk, step_progress in progress.items() if step_progress.done}
    outline = [{"page": step, "done": step.pk in done, "kind": step._meta.verbose_name} for step in steps]
    index = next((i for i, item in enumerate(outline) if current is not None and item["page"].pk == current.pk), None)
    resume = None
    if enrollment is not None and enrollment.last_step_id:
        resume = next((item["page"] for item in outline if item["page"].pk == enrollment.last_step_id), None)
    first_todo = next((item["page"] for item in outline if not item["done"]), None)
    after = outline[index + 1 :] if index is not None else outline
    next_todo = next((item["page"] for item in after if not item["done"]), None) or next(
        (item["page"] for item in outline if not item["done"] and (current is None or item["page"].pk != current.pk)),
        None,
    )
    return {
        "enrollment": enrollment,
        "agent": agent,
        "outline": outline,
        "previous_step": outline[index - 1]["page"] if index else None,
        "next_step": outline[index + 1]["page"] if index is not None and index + 1 < len(outline) else None,
        "resume_step": resume or first_todo or (steps[0] if steps else None),
        "is_done": current is not None and current.pk in done,
        "next_todo": next_todo,  # the next step not yet done (after ``current``, else from the start)
    }


def quiz_context(user, quiz, enrollment):
    """Questions without their answers, the caller's attempts and what is left."""
    attempts = list(QuizAttempt.objects.filter(enrollment=enrollment, quiz=quiz).order_by("number")) if enrollment else []
    questions = list(quiz.questions)
    if quiz.shuffle:
        import random

        rng = random.Random(f"{quiz.pk}:{enrollment.pk if enrollment else 0}:{len(attempts)}")
        rng.shuffle(questions)
    public = []
    for block in questions:
        item = {"id": block.id, "type": block.block_type, "prompt": block.value["prompt"], "choices": []}
        if block.block_type in ("single_choice", "multiple_choice"):
            choices = [{"id": c.id, "text": c.value["text"]} for c in block.value["choices"].bound_blocks]
            if quiz.shuffle:
                rng.shuffle(choices)
            item["choices"] = choices
        public.append(item)
    remaining = None if not quiz.attempt_limit else max(0, quiz.attempt_limit - len(attempts))
    return {
        "questions": public,
        "attempts": attempts,
        "last_attempt": attempts[-1] if attempts else None,
        "attempts_remaining": remaining,
        "has_passed": any(a.passed for a in attempts),
    }


def my_enrollments(user):
    agent = cms_selectors.agent_for_user(user)
    if agent is None:
        return Enrollment.objects.none()
    return (
        Enrollment.objects.filter(agent=agent)
        .select_related("course")
        .order_by("status", "due_at", "course__title")
    )


# --- completions (API, exports) ----------------------------------------------------------


def completions_visible_to(user):
    """HR / service accounts: every enrolment; a manager: their reports' (all levels) and
    their own; an agent: their own; anyone else: nothing."""
    scope = visible_enrollments_filter(user)
    return Enrollment.objects.all() if scope is None else Enrollment.objects.filter(scope)


class FilterError(ValueError):
    def __init__(self, field, message):
        super().__init__(message)
        self.field = field
        self.message = message


def filter_completions(queryset, params):
    """Apply the API filters; raise FilterError naming the bad parameter."""
    from django.utils.translation import gettext as _

    course = params.get("course")
    if course:
        if not (str(course).isascii() and str(course).isdigit()):
            raise FilterError("course", _("Identifiant de formation invalide."))
        queryset = queryset.filter(course_id=int(course))
    org_unit = params.get("org_unit")
    if org_unit:
        unit = OrgUnit.objects.filter(code=org_unit).only("path").first()
        if unit is None:
            raise FilterError("org_unit", _("Unité inconnue : %(code)s.") % {"code": org_unit})
        queryset = queryset.filter(agent__org_unit__path__startswith=unit.path)
    agent = params.get("agent")
    if agent:
        queryset = queryset.filter(agent__employee_number=agent)
    status = params.get("status")
    if status:
        statuses = [s for s in status.split(",") if s]
        bad = [s for s in statuses if s not in EnrollmentStatus.values]
        if bad:
            raise FilterError("status", _("Statut inconnu : %(s)s.") % {"s": ", ".join(bad)})
        queryset = queryset.filter(status__in=statuses)
    updated_since = params.get("updated_since")
    if updated_since:
        moment = parse_datetime(updated_since.replace(" ", "+"))
        if moment is None:
            raise FilterError("updated_since", _("Date ISO 8601 attendue, par exemple 2026-01-31T00:00:00Z."))
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment)
        queryset = queryset.filter(updated_at__gte=moment)
    return queryset


COMPLETION_FIELDS = (
    "id",
    "status",
    "progress",
    "score",
    "due_at",
    "started_at",
    "completed_at",
    "expires_at",
    "certificate_code",
    "updated_at",
    "agent__employee_number",
    "agent__user__first_name",
    "agent__user__last_name",
    "agent__user__email",
    "agent__org_unit__code",
    "course_id",
    "course__slug",
    "course__title",
)


def completion_rows(queryset):
    """Flat rows (values()) in sync order: one query, no model instances."""
    return queryset.order_by("updated_at", "id").values(*COMPLETION_FIELDS)


# --- team and HR views ---------------------------------------------------------------------


def team_enrollments(manager_agent, *, all_levels=False, course_id=None, now=None):
    """The manager's reports' current enrolments (open, or failed while no newer cycle has
    been granted), grouped by unit, overdue first within a unit (one query)."""
    now = now or timezone.now()
    reports = (
        Agent.objects.filter(pk__in=cms_selectors.reports_subquery(manager_agent.pk))
        if all_levels
        else Agent.objects.filter(manager=manager_agent)
    ).filter(active=True)
    newer = Enrollment.objects.filter(agent_id=OuterRef("agent_id"), course_id=OuterRef("course_id"), cycle__gt=OuterRef("cycle"))
    qs = Enrollment.objects.filter(agent__in=reports).filter(
        Q(status__in=OPEN_STATUSES) | (Q(status=EnrollmentStatus.FAILED) & ~Exists(newer))
    )
    if course_id:
        qs = qs.filter(course_id=course_id)
    overdue = Q(due_at__lt=now) & ~Q(status=EnrollmentStatus.COMPLETED)
    return (
        qs.annotate(is_overdue=Exists(Enrollment.objects.filter(pk=OuterRef("pk")).filter(overdue)))
        .select_related("agent__user", "agent__org_unit", "course")
        .order_by("agent__org_unit__path", "-is_overdue", "due_at", "agent__user__last_name", "course__title", "pk")
    )


def percent(part, total):
    """``part / total`` as a whole percentage rounded half up (the table, the chart and the
    CSV show the same figure), or None when ``total`` is 0."""
    if not total:
        return None
    return int((Decimal(part) * 100 / Decimal(total)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def completion_by_unit(parent=None, *, course_id=None, now=None):
    """Completion per org unit (children of ``parent``, or directions), subtree totals in one
    aggregate query over current enrolments."""
    now = now or timezone.now()
    units = list(OrgUnit.get_root_nodes() if parent is None else parent.get_children())
    if not units:
        return []
    qs = Enrollment.objects.filter(status__in=OPEN_STATUSES + [EnrollmentStatus.FAILED])
    if course_id:
        qs = qs.filter(course_id=course_id)
    aggregates = {}
    for unit in units:  # one aggregate with a filtered count per unit: still a single query
        aggregates[f"t_{unit.pk}"] = Count("pk", filter=Q(agent__org_unit__path__startswith=unit.path))
        aggregates[f"c_{unit.pk}"] = Count(
            "pk", filter=Q(agent__org_unit__path__startswith=unit.path, status=EnrollmentStatus.COMPLETED)
        )
        aggregates[f"o_{unit.pk}"] = Count(
            "pk",
            filter=Q(agent__org_unit__path__startswith=unit.path, due_at__lt=now)
            & ~Q(status=EnrollmentStatus.COMPLETED),
        )
    totals = qs.aggregate(**aggregates)
    rows = []
    for unit in units:
        total, completed = totals[f"t_{unit.pk}"], totals[f"c_{unit.pk}"]
        rows.append(
            {
                "unit": unit,
                "total": total,
                "completed": completed,
                "overdue": totals[f"o_{unit.pk}"],
                "rate": (completed / total) if total else None,
                "percent": percent(completed, total),
                "has_children": unit.numchild > 0,
            }
        )
    return rows


# --- completion API: visibility shaped for paging (appended with learning/api) ---------------


def completions_visible_to_paged(user, *, materialise_team=None):
    """The rows of ``completions_visible_to(user)``, shaped for paging in ``(updated_at, id)``
    order over millions of enrolments.

    PostgreSQL estimates the recursive reports CTE at hundreds of thousands of rows whatever
    the team, so ``agent_id IN (CTE) OR agent_id = me`` turns into a walk of the whole sync
    index that re-scans the CTE for every row: 10 to 20 s for a manager of 54 agents on
    1.1 million enrolments. Reading the team's ids first (one more query, whatever the team
    size) gives the planner an exact list, which PostgreSQL hashes: about 15 ms. SQLite keeps
    the subquery: it plans it well, and its variable limit would refuse a large list.
    """
    from django.db import connection

    if materialise_team is None:
        materialise_team = connection.vendor == "postgresql"
    if not materialise_team or can_view_all_completions(user):
        return completions_visible_to(user)
    agent = cms_selectors.agent_for_user(user)
    if agent is None:
        return Enrollment.objects.none()
    team = Agent.objects.filter(pk__in=cms_selectors.reports_subquery(agent.pk)).values_list("pk", flat=True)
    return Enrollment.objects.filter(agent_id__in=[agent.pk, *team])
