"""Every write of the learning app. Status changes go through learning/actions.py (the
declared transitions, an ``EnrollmentEvent`` per change); these functions are the entry
points the views, the API, the admin, tasks and other apps call.

Progress, score and status are stored on the enrolment and updated by the actions, so
that no report ever recomputes completion row by row.
"""

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from cms import selectors as cms_selectors
from cms.exceptions import Conflict
from cms.models import Agent
from learning import actions, permissions
from learning.choices import OPEN_STATUSES, EnrollmentSource, EventSource
from learning.models import Assignment, CoursePage, Enrollment, LessonPage, QuizPage

BATCH = actions.BATCH


def enroll(*, agent, course, source=EnrollmentSource.SELF, due_at=None, assignment=None, actor=None):
    """Open an enrolment, or return the open one (idempotent): ``(enrollment, created)``.
    One open per course. Also called by appraisal (training needs)."""
    return actions.open_cycle(
        agent_id=agent.pk, course_id=course.pk, source=source, due_at=due_at,
        assignment_id=assignment.pk if assignment is not None else None,
        event_source=actions.OPENED_BY.get(source, EventSource.SELF), actor=actor,
    )


def self_enroll(*, user, course):
    agent = permissions.learner_agent(user)
    if not course.live:
        raise ValidationError({"course": _("Cette formation n'est pas publiée.")})
    open_enrollment = Enrollment.objects.filter(agent=agent, course=course, status__in=OPEN_STATUSES).first()
    if open_enrollment is not None:
        return open_enrollment, False
    latest = Enrollment.objects.filter(agent=agent, course=course).order_by("-cycle").only("status").first()
    if latest is not None and latest.status not in actions.TRANSITIONS.sources_of("renew"):
        raise Conflict(
            _("Le nombre maximal de tentatives a été atteint : une nouvelle inscription doit être accordée par votre "
              "responsable ou les ressources humaines.")
        )
    permissions.check_self_enroll(course)
    return enroll(agent=agent, course=course, source=EnrollmentSource.SELF, actor=user)


def grant_new_cycle(*, actor, enrollment, due_at=None):
    """After a failure, HR or the agent's manager opens a new cycle with fresh attempts."""
    action = actions.GrantNewCycle(enrollment, user=actor, due_at=due_at)
    action.execute()
    return action.new_enrollment


def _enrollment_for_step(user, step):
    """The agent's open enrolment in the step's course, self-enrolling where allowed."""
    agent = permissions.learner_agent(user)
    course = CoursePage.objects.get(pk=step.get_parent().pk)
    enrollment = Enrollment.objects.filter(agent=agent, course=course, status__in=OPEN_STATUSES).first()
    if enrollment is None:
        enrollment, _created = self_enroll(user=user, course=course)
    return enrollment


def open_step(*, user, step):
    """Record the step an enrolled agent opens (to resume there) and start the enrolment.

    Viewing never enrols: without an open enrolment nothing is written and None is returned.
    """
    agent = cms_selectors.agent_for_user(user)
    if agent is None:
        return None
    enrollment = Enrollment.objects.filter(agent=agent, course_id=step.get_parent().pk, status__in=OPEN_STATUSES).first()
    if enrollment is None:
        return None
    if enrollment.last_step_id == step.pk and enrollment.status not in actions.TRANSITIONS.sources_of("start"):
        return enrollment
    return actions.OpenStep(enrollment, user=user, step=step).execute()


@transaction.atomic
def complete_lesson(*, user, lesson):
    if not isinstance(lesson, LessonPage) or not lesson.live:
        raise ValidationError({"lesson": _("Cette leçon n'existe pas ou n'est pas publiée.")})
    enrollment = _enrollment_for_step(user, lesson)
    return actions.CompleteLesson(enrollment, user=user, step=lesson).execute()


@transaction.atomic
def submit_quiz(*, user, quiz, answers):
    """Grade a submission on the server: ``(attempt, enrollment)``."""
    if not isinstance(quiz, QuizPage) or not quiz.live:
        raise ValidationError({"quiz": _("Ce quiz n'existe pas ou n'est pas publié.")})
    enrollment = _enrollment_for_step(user, quiz)
    action = actions.SubmitQuiz(enrollment, user=user, step=quiz, params={"answers": answers})
    enrollment = action.execute()
    return action.result, enrollment


# --- assignments -----------------------------------------------------------------


def assignment_targets(assignment):
    """Active agents of the assignment's subtree (and categories) without an open enrolment."""
    agents = Agent.objects.filter(active=True, org_unit__path__startswith=assignment.org_unit.path)
    if assignment.categories:
        agents = agents.filter(category__in=assignment.categories)
    return agents.exclude(
        pk__in=Enrollment.objects.filter(course_id=assignment.course_id, status__in=OPEN_STATUSES).values("agent_id")
    )


def _bulk_enroll(assignment, agent_ids, *, now, source=EventSource.ASSIGNMENT, progress=None):
    due_at = now + timedelta(days=assignment.due_in_days)
    cycles = dict(
        Enrollment.objects.filter(course_id=assignment.course_id, agent_id__in=agent_ids)
        .values("agent_id")
        .annotate(m=Max("cycle"))
        .values_list("agent_id", "m")
    )
    rows = (
        Enrollment(
            agent_id=agent_id,
            course_id=assignment.course_id,
            cycle=cycles.get(agent_id, 0) + 1,
            source=EnrollmentSource.ASSIGNED,
            assignment=assignment,
            due_at=due_at,
        )
        for agent_id in agent_ids
    )
    return actions.OpenCycles(rows, total=len(agent_ids), source=source, now=now).execute(progress)


@transaction.atomic
def create_assignment(*, course, org_unit, due_in_days, categories=(), recurring=True, created_by=None):
    if due_in_days < 1:
        raise ValidationError({"due_in_days": _("L'échéance doit être d'au moins un jour.")})
    bad = sorted(set(categories) - {"A", "B", "C"})
    if bad:
        raise ValidationError({"categories": _("Catégories inconnues : %(c)s.") % {"c": ", ".join(bad)}})
    return Assignment.objects.create(
        course=course,
        org_unit=org_unit,
        due_in_days=due_in_days,
        categories=sorted(categories),
        recurring=recurring,
        created_by=created_by,
    )


def apply_assignment(*, assignment, now=None, progress=None):
    """Enrol every target agent in bulk (run as a task for large subtrees)."""
    now = now or timezone.now()
    with transaction.atomic():
        agent_ids = list(assignment_targets(assignment).values_list("pk", flat=True))
        return _bulk_enroll(assignment, agent_ids, now=now, progress=progress)


def assign_newcomers(created_agent_ids, updated_agent_ids=(), *, now=None):
    """Import listener: apply active assignments to agents who just arrived (or moved)."""
    now = now or timezone.now()
    ids = set(created_agent_ids) | set(updated_agent_ids)
    if not ids:
        return 0
    total = 0
    for assignment in Assignment.objects.filter(active=True).select_related("org_unit"):
        agent_ids = []
        for start in range(0, len(ids), BATCH):  # stay below SQLite's parameter limit
            chunk = list(ids)[start : start + BATCH]
            agent_ids += list(assignment_targets(assignment).filter(pk__in=chunk).values_list("pk", flat=True))
        total += _bulk_enroll(assignment, agent_ids, now=now, source=EventSource.IMPORT)
    return total


# --- expiry and recertification ------------------------------------------------------


def expire_enrollments(*, now=None):
    """``completed → expired`` at ``expires_at``; each expiry opens the next cycle (bulk)."""
    return actions.ExpireEnrollments(now=now).execute()
