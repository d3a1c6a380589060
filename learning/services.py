"""Every write and state change of the learning app.

Status machine of an enrolment::

    not_started → in_progress → completed → expired (opens the next cycle)
                              ↘ failed (quiz attempts exhausted)

Progress, score and status are stored on the enrolment and updated here, so that no
report ever recomputes completion row by row.
"""

import secrets
from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from cms import selectors as cms_selectors
from cms.dates import add_months
from cms.models import Agent
from learning.choices import OPEN_STATUSES, EnrollmentSource, EnrollmentStatus
from learning.grading import grade
from learning.models import Assignment, CoursePage, Enrollment, LessonPage, LessonProgress, QuizAttempt, QuizPage

BATCH = 2000


class Conflict(Exception):
    """The request is valid but cannot apply in the current state (API: 409)."""


def new_certificate_code():
    return secrets.token_hex(6).upper()


def _next_cycle(agent_id, course_id):
    last = Enrollment.objects.filter(agent_id=agent_id, course_id=course_id).aggregate(m=Max("cycle"))["m"]
    return (last or 0) + 1


def _require_agent(user):
    agent = cms_selectors.agent_for_user(user)
    if agent is None or not agent.active:
        raise PermissionDenied(_("Votre compte n'est pas rattaché à une fiche agent active."))
    return agent


@transaction.atomic
def enroll(*, agent, course, source=EnrollmentSource.SELF, due_at=None, assignment=None):
    """Open an enrolment, or return the open one (idempotent). One open per course."""
    existing = Enrollment.objects.filter(agent=agent, course=course, status__in=OPEN_STATUSES).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            enrollment = Enrollment.objects.create(
                agent=agent,
                course=course,
                cycle=_next_cycle(agent.pk, course.pk),
                source=source,
                due_at=due_at,
                assignment=assignment,
            )
    except IntegrityError:  # a concurrent request opened it first
        return Enrollment.objects.get(agent=agent, course=course, status__in=OPEN_STATUSES), False
    return enrollment, True


def self_enroll(*, user, course):
    agent = _require_agent(user)
    if not course.live:
        raise ValidationError({"course": _("Cette formation n'est pas publiée.")})
    open_enrollment = Enrollment.objects.filter(agent=agent, course=course, status__in=OPEN_STATUSES).first()
    if open_enrollment is not None:
        return open_enrollment, False
    latest = Enrollment.objects.filter(agent=agent, course=course).order_by("-cycle").only("status").first()
    if latest is not None and latest.status == EnrollmentStatus.FAILED:
        raise Conflict(
            _("Le nombre maximal de tentatives a été atteint : une nouvelle inscription doit être accordée par votre "
              "responsable ou les ressources humaines.")
        )
    if not course.self_enrollment:
        raise PermissionDenied(_("L'inscription à cette formation se fait uniquement sur assignation."))
    return enroll(agent=agent, course=course, source=EnrollmentSource.SELF)


@transaction.atomic
def grant_new_cycle(*, actor, enrollment, due_at=None):
    """After a failure, HR or the agent's manager opens a new cycle with fresh attempts."""
    from learning.permissions import can_manage_enrollment

    if not can_manage_enrollment(actor, enrollment):
        raise PermissionDenied(_("Vous ne pouvez pas accorder de nouvelle inscription à cet agent."))
    if enrollment.status != EnrollmentStatus.FAILED:
        raise Conflict(_("Seule une inscription en échec peut être renouvelée."))
    return enroll(
        agent=enrollment.agent, course=enrollment.course, source=enrollment.source,
        due_at=due_at or enrollment.due_at, assignment=enrollment.assignment,
    )[0]


def _enrollment_for_step(user, step):
    """The agent's open enrolment in the step's course, self-enrolling where allowed."""
    agent = _require_agent(user)
    course = CoursePage.objects.get(pk=step.get_parent().pk)
    enrollment = Enrollment.objects.filter(agent=agent, course=course, status__in=OPEN_STATUSES).first()
    if enrollment is None:
        enrollment, _created = self_enroll(user=user, course=course)
    return enrollment, course


def recompute(enrollment, *, now=None):
    """Update progress, score and status from the lesson and quiz records (a few queries)."""
    now = now or timezone.now()
    course = enrollment.course
    steps = list(course.get_children().live().values_list("pk", "content_type__model"))
    lesson_ids = {pk for pk, model in steps if model == "lessonpage"}
    quiz_ids = {pk for pk, model in steps if model == "quizpage"}
    done_lessons = set(
        LessonProgress.objects.filter(enrollment=enrollment, lesson_id__in=lesson_ids).values_list("lesson_id", flat=True)
    )
    best = {}
    for quiz_id, score, passed in QuizAttempt.objects.filter(enrollment=enrollment, quiz_id__in=quiz_ids).values_list(
        "quiz_id", "score", "passed"
    ):
        prev = best.get(quiz_id)
        if prev is None or (passed, score) > prev:
            best[quiz_id] = (passed, score)
    passed_quizzes = {qid for qid, (passed, _s) in best.items() if passed}
    total = len(lesson_ids) + len(quiz_ids)
    done = len(done_lessons) + len(passed_quizzes)
    enrollment.progress = round(done / total, 4) if total else 0.0
    enrollment.score = round(sum(s for _p, s in best.values()) / len(best), 2) if best else None
    if enrollment.status == EnrollmentStatus.NOT_STARTED and (done or best):
        enrollment.status = EnrollmentStatus.IN_PROGRESS
        enrollment.started_at = enrollment.started_at or now
    if total and done == total and enrollment.status != EnrollmentStatus.COMPLETED:
        enrollment.status = EnrollmentStatus.COMPLETED
        enrollment.progress = 1.0
        enrollment.completed_at = now
        enrollment.started_at = enrollment.started_at or now
        if course.validity_months:
            enrollment.expires_at = add_months(now, course.validity_months)
        if course.certificate and not enrollment.certificate_code:
            enrollment.certificate_code = new_certificate_code()
    return enrollment


@transaction.atomic
def open_step(*, user, step):
    """Record the step an enrolled agent opens (to resume there) and start the enrolment.

    Viewing never enrols: without an open enrolment nothing is written and None is returned.
    """
    agent = cms_selectors.agent_for_user(user)
    if agent is None:
        return None
    enrollment = (
        Enrollment.objects.select_for_update()
        .filter(agent=agent, course_id=step.get_parent().pk, status__in=OPEN_STATUSES)
        .first()
    )
    if enrollment is None or enrollment.last_step_id == step.pk and enrollment.status != EnrollmentStatus.NOT_STARTED:
        return enrollment
    enrollment.last_step_id = step.pk
    fields = ["last_step", "updated_at"]
    if enrollment.status == EnrollmentStatus.NOT_STARTED:
        enrollment.status = EnrollmentStatus.IN_PROGRESS
        enrollment.started_at = timezone.now()
        fields += ["status", "started_at"]
    enrollment.save(update_fields=fields)
    return enrollment


@transaction.atomic
def complete_lesson(*, user, lesson):
    if not isinstance(lesson, LessonPage) or not lesson.live:
        raise ValidationError({"lesson": _("Cette leçon n'existe pas ou n'est pas publiée.")})
    enrollment, _course = _enrollment_for_step(user, lesson)
    enrollment = Enrollment.objects.select_for_update().select_related("course").get(pk=enrollment.pk)
    if enrollment.status == EnrollmentStatus.FAILED:
        raise Conflict(_("Cette inscription est close (échec) : demandez une nouvelle inscription."))
    LessonProgress.objects.get_or_create(enrollment=enrollment, lesson=lesson, defaults={"completed_at": timezone.now()})
    enrollment.last_step_id = lesson.pk
    recompute(enrollment)
    enrollment.save()
    _after_change(enrollment)
    return enrollment


@transaction.atomic
def submit_quiz(*, user, quiz, answers):
    """Grade a submission on the server. The enrolment row is locked, and the attempt
    number is unique, so two submissions at once cannot exceed the attempt limit."""
    if not isinstance(quiz, QuizPage) or not quiz.live:
        raise ValidationError({"quiz": _("Ce quiz n'existe pas ou n'est pas publié.")})
    enrollment, _course = _enrollment_for_step(user, quiz)
    enrollment = Enrollment.objects.select_for_update().select_related("course").get(pk=enrollment.pk)
    if enrollment.status == EnrollmentStatus.FAILED:
        raise Conflict(_("Le nombre maximal de tentatives est atteint pour ce quiz."))
    previous = QuizAttempt.objects.filter(enrollment=enrollment, quiz=quiz)
    if previous.filter(passed=True).exists() and enrollment.status == EnrollmentStatus.COMPLETED:
        raise Conflict(_("Vous avez déjà réussi ce quiz pour ce cycle de formation."))
    count = previous.count()
    if quiz.attempt_limit and count >= quiz.attempt_limit:
        raise Conflict(
            _("Le nombre maximal de tentatives (%(limit)s) est atteint pour ce quiz.") % {"limit": quiz.attempt_limit}
        )
    score, passed, feedback = grade(quiz, answers)
    try:
        with transaction.atomic():
            attempt = QuizAttempt.objects.create(
                enrollment=enrollment,
                quiz=quiz,
                number=count + 1,
                answers=answers,
                score=score,
                passed=passed,
                feedback=feedback,
                submitted_at=timezone.now(),
            )
    except IntegrityError as exc:
        raise Conflict(_("Une autre soumission de ce quiz vient d'être enregistrée ; rechargez la page.")) from exc
    enrollment.last_step_id = quiz.pk
    recompute(enrollment)
    if not passed and quiz.attempt_limit and attempt.number >= quiz.attempt_limit:
        enrollment.status = EnrollmentStatus.FAILED
    enrollment.save()
    _after_change(enrollment)
    return attempt, enrollment


def _after_change(enrollment):
    if enrollment.status == EnrollmentStatus.COMPLETED and enrollment.certificate_code and not enrollment.certificate_file:
        from learning import tasks

        transaction.on_commit(lambda: tasks.render_certificate.enqueue(enrollment.pk))


# --- assignments -----------------------------------------------------------------


def assignment_targets(assignment):
    """Active agents of the assignment's subtree (and categories) without an open enrolment."""
    agents = Agent.objects.filter(active=True, org_unit__path__startswith=assignment.org_unit.path)
    if assignment.categories:
        agents = agents.filter(category__in=assignment.categories)
    return agents.exclude(
        pk__in=Enrollment.objects.filter(course_id=assignment.course_id, status__in=OPEN_STATUSES).values("agent_id")
    )


def _bulk_enroll(assignment, agent_ids, *, now, progress=None):
    due_at = now + timedelta(days=assignment.due_in_days)
    cycles = dict(
        Enrollment.objects.filter(course_id=assignment.course_id, agent_id__in=agent_ids)
        .values("agent_id")
        .annotate(m=Max("cycle"))
        .values_list("agent_id", "m")
    )
    created = 0
    for start in range(0, len(agent_ids), BATCH):
        chunk = agent_ids[start : start + BATCH]
        Enrollment.objects.bulk_create(
            [
                Enrollment(
                    agent_id=agent_id,
                    course_id=assignment.course_id,
                    cycle=cycles.get(agent_id, 0) + 1,
                    source=EnrollmentSource.ASSIGNED,
                    assignment=assignment,
                    due_at=due_at,
                )
                for agent_id in chunk
            ],
            batch_size=BATCH,
        )
        created += len(chunk)
        if progress:
            progress(created, len(agent_ids))
    return created


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
        total += _bulk_enroll(assignment, agent_ids, now=now)
    return total


# --- expiry and recertification ------------------------------------------------------


def expire_enrollments(*, now=None):
    """``completed → expired`` at ``expires_at``; each expiry opens the next cycle (bulk)."""
    now = now or timezone.now()
    with transaction.atomic():
        due = list(
            Enrollment.objects.select_for_update(of=("self",))
            .filter(status=EnrollmentStatus.COMPLETED, expires_at__lte=now)
            .select_related("assignment")
            .only("pk", "agent_id", "course_id", "cycle", "source", "assignment_id", "assignment__due_in_days",
                  "assignment__recurring", "assignment__active")
        )
        if not due:
            return 0
        pks = [e.pk for e in due]
        for start in range(0, len(pks), BATCH):
            Enrollment.objects.filter(pk__in=pks[start : start + BATCH]).update(status=EnrollmentStatus.EXPIRED, updated_at=now)
        renewals = []
        for e in due:
            if e.assignment_id and not (e.assignment.active and e.assignment.recurring):
                continue
            due_at = now + timedelta(days=e.assignment.due_in_days) if e.assignment_id else None
            renewals.append(
                Enrollment(
                    agent_id=e.agent_id,
                    course_id=e.course_id,
                    cycle=e.cycle + 1,
                    source=e.source,
                    assignment_id=e.assignment_id,
                    due_at=due_at,
                )
            )
        Enrollment.objects.bulk_create(renewals, batch_size=BATCH, ignore_conflicts=True)
        return len(due)
