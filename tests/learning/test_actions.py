"""The enrolment actions: the declared transitions, one EnrollmentEvent per change with
its source, events after commit, constant query counts, and the step protocol."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cms.actions import action_executed
from cms.exceptions import Conflict
from learning import actions, services
from learning.actions import TRANSITIONS, EnrollmentAction
from learning.choices import EnrollmentStatus as S
from learning.choices import EventSource
from learning.models import Enrollment, EnrollmentEvent, StepProgress
from learning.progress import live_step_classes
from tests.factories import AgentFactory
from tests.learning.conftest import ALL_RIGHT, HALF_RIGHT
from tests.learning.factories import EnrollmentFactory, course_with_steps


def history(enrollment):
    return list(
        EnrollmentEvent.objects.filter(enrollment=enrollment)
        .order_by("at", "pk")
        .values_list("from_status", "to_status", "source")
    )


def finish(user, built):
    for lesson in built["lessons"]:
        services.complete_lesson(user=user, lesson=lesson)
    for quiz in built["quizzes"]:
        services.submit_quiz(user=user, quiz=quiz, answers=ALL_RIGHT)
    return Enrollment.objects.get(agent__user=user, course=built["course"], status=S.COMPLETED)


# --------------------------------------------------------------------------- the table


@pytest.mark.parametrize(
    "source, target, allowed",
    [
        (S.NOT_STARTED, S.IN_PROGRESS, True),
        (S.IN_PROGRESS, S.COMPLETED, True),
        (S.IN_PROGRESS, S.FAILED, True),
        (S.COMPLETED, S.EXPIRED, True),
        (S.NOT_STARTED, S.COMPLETED, False),  # through in_progress
        (S.COMPLETED, S.IN_PROGRESS, False),
        (S.COMPLETED, S.FAILED, False),
        (S.FAILED, S.IN_PROGRESS, False),  # a failed cycle stays failed: a new cycle is granted
        (S.IN_PROGRESS, S.EXPIRED, False),
        (S.NOT_STARTED, S.EXPIRED, False),
        (S.FAILED, S.EXPIRED, False),
        (S.EXPIRED, S.IN_PROGRESS, False),
    ],
)
def test_the_table_declares_each_transition(source, target, allowed):
    assert (TRANSITIONS.between(source, target) is not None) is allowed


def test_expired_only_from_completed_and_new_cycles_after_failed_or_expired():
    assert TRANSITIONS.sources_of("expire") == {S.COMPLETED}
    assert TRANSITIONS.sources_of("grant_new_cycle") == {S.FAILED}
    assert TRANSITIONS.sources_of("renew") == {S.EXPIRED}
    assert TRANSITIONS["grant_new_cycle"].actors == {"hr", "manager"}


class Reopen(EnrollmentAction):
    """A test action trying an undeclared move."""

    name = "reopen"
    system_allowed = True

    def apply(self):
        self.move(S.IN_PROGRESS)


@pytest.mark.django_db
def test_an_undeclared_move_is_refused_and_changes_nothing(course, chain):
    completed = finish(chain["agent"].user, {**course, "quizzes": [course["quiz"]]})
    before = history(completed)
    with pytest.raises(Conflict):
        Reopen(completed).execute()
    completed.refresh_from_db()
    assert completed.status == S.COMPLETED and history(completed) == before


# --------------------------------------------------------------------------- events and sources


@pytest.mark.django_db
def test_lessons_and_quiz_write_one_event_per_change_with_its_source(course, chain):
    user = chain["agent"].user
    enrollment, _created = services.self_enroll(user=user, course=course["course"])
    services.complete_lesson(user=user, lesson=course["lessons"][0])
    services.complete_lesson(user=user, lesson=course["lessons"][1])  # no status change: no event
    _attempt, enrollment = services.submit_quiz(user=user, quiz=course["quiz"], answers=ALL_RIGHT)
    assert history(enrollment) == [
        ("", S.NOT_STARTED, EventSource.SELF),
        (S.NOT_STARTED, S.IN_PROGRESS, EventSource.LESSON),
        (S.IN_PROGRESS, S.COMPLETED, EventSource.QUIZ),
    ]
    last = EnrollmentEvent.objects.filter(enrollment=enrollment).latest("at")
    assert last.actor == user
    assert last.at == enrollment.updated_at  # the sync cursor and the history agree


@pytest.mark.django_db
def test_a_quiz_done_first_starts_then_completes_in_one_write(chain):
    built = course_with_steps(lessons=0, quizzes=1)
    user = chain["agent"].user
    _attempt, enrollment = services.submit_quiz(user=user, quiz=built["quiz"], answers=ALL_RIGHT)
    assert history(enrollment)[1:] == [
        (S.NOT_STARTED, S.IN_PROGRESS, EventSource.QUIZ),
        (S.IN_PROGRESS, S.COMPLETED, EventSource.QUIZ),
    ]


@pytest.mark.django_db
def test_spent_attempts_fail_the_enrolment_with_a_quiz_event(course, chain):
    user = chain["agent"].user
    services.submit_quiz(user=user, quiz=course["quiz"], answers=HALF_RIGHT)
    _attempt, enrollment = services.submit_quiz(user=user, quiz=course["quiz"], answers=HALF_RIGHT)
    assert enrollment.status == S.FAILED
    assert history(enrollment)[-1] == (S.IN_PROGRESS, S.FAILED, EventSource.QUIZ)
    with pytest.raises(Conflict):
        services.complete_lesson(user=user, lesson=course["lessons"][0])


@pytest.mark.django_db
def test_opening_a_step_starts_the_enrolment_with_the_step_source(course, chain):
    user = chain["agent"].user
    services.self_enroll(user=user, course=course["course"])
    enrollment = services.open_step(user=user, step=course["quiz"])
    assert history(enrollment)[-1] == (S.NOT_STARTED, S.IN_PROGRESS, EventSource.QUIZ)
    services.open_step(user=user, step=course["lessons"][0])  # resume point only
    assert len(history(enrollment)) == 2


@pytest.mark.django_db
def test_hr_grant_opens_a_new_cycle_with_an_hr_grant_event(course, chain):
    user = chain["agent"].user
    for _ in range(2):
        services.submit_quiz(user=user, quiz=course["quiz"], answers=HALF_RIGHT)
    failed = Enrollment.objects.get(agent=chain["agent"])
    failed_updated_at = failed.updated_at
    with pytest.raises(PermissionDenied):
        services.grant_new_cycle(actor=user, enrollment=failed)  # not the agent themselves
    renewed = services.grant_new_cycle(actor=chain["hr"].user, enrollment=failed)
    assert history(renewed) == [("", S.NOT_STARTED, EventSource.HR_GRANT)]
    assert EnrollmentEvent.objects.get(enrollment=renewed).actor == chain["hr"].user
    failed.refresh_from_db()
    assert failed.status == S.FAILED and failed.updated_at == failed_updated_at
    with pytest.raises(Conflict):  # only a failed cycle may be renewed
        services.grant_new_cycle(actor=chain["hr"].user, enrollment=renewed)


@pytest.mark.django_db
def test_assignment_and_import_events(course, chain, org):
    assignment = services.create_assignment(course=course["course"], org_unit=org["service"], due_in_days=30)
    assert services.apply_assignment(assignment=assignment) == 2
    sources = set(EnrollmentEvent.objects.values_list("from_status", "to_status", "source"))
    assert sources == {("", S.NOT_STARTED, EventSource.ASSIGNMENT)}
    newcomer = AgentFactory(org_unit=org["bureau"])
    assert services.assign_newcomers([newcomer.pk]) == 1
    assert history(Enrollment.objects.get(agent=newcomer)) == [("", S.NOT_STARTED, EventSource.IMPORT)]


@pytest.mark.django_db
def test_expiry_writes_an_expiry_event_and_opens_the_next_cycle(course, chain):
    completed = finish(chain["agent"].user, {**course, "quizzes": [course["quiz"]]})
    later = completed.expires_at + timedelta(days=1)
    assert services.expire_enrollments(now=later) == 1
    completed.refresh_from_db()
    assert completed.status == S.EXPIRED and completed.updated_at == later
    assert history(completed)[-1] == (S.COMPLETED, S.EXPIRED, EventSource.EXPIRY)
    assert EnrollmentEvent.objects.get(enrollment=completed, to_status=S.EXPIRED).at == later
    renewal = Enrollment.objects.get(agent=chain["agent"], cycle=2)
    assert history(renewal) == [("", S.NOT_STARTED, EventSource.EXPIRY)]


# --------------------------------------------------------------------------- after commit


@pytest.mark.django_db
def test_events_are_dispatched_after_commit_only(course, chain, django_capture_on_commit_callbacks):
    received = []

    def receiver(sender, action, **kwargs):
        received.append((sender, action.obj.status))

    action_executed.connect(receiver)
    try:
        user = chain["agent"].user
        services.self_enroll(user=user, course=course["course"])
        received.clear()
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            services.complete_lesson(user=user, lesson=course["lessons"][0])
        assert received == []  # nothing before the commit
        for callback in callbacks:
            callback()
        assert received == [(actions.CompleteLesson, S.IN_PROGRESS)]

        received.clear()
        with django_capture_on_commit_callbacks(execute=True):
            with pytest.raises(Conflict):  # a refused action sends nothing
                services.grant_new_cycle(actor=chain["hr"].user, enrollment=Enrollment.objects.get())
        assert received == []
    finally:
        action_executed.disconnect(receiver)


# --------------------------------------------------------------------------- query counts


def lesson_queries(user, built):
    services.complete_lesson(user=user, lesson=built["lessons"][0])  # enrols and warms the caches
    with CaptureQueriesContext(connection) as queries:
        services.complete_lesson(user=user, lesson=built["lessons"][1])
    return len(queries)


@pytest.mark.django_db
def test_recompute_queries_do_not_grow_with_the_number_of_steps(chain):
    small = course_with_steps(lessons=2, quizzes=1, slug="petit")
    large = course_with_steps(lessons=9, quizzes=3, slug="grand", index=small["index"])
    user = chain["agent"].user
    assert lesson_queries(user, small) == lesson_queries(user, large)


def expiry_queries(course, count):
    past = timezone.now() - timedelta(days=1)
    EnrollmentFactory.create_batch(count, course=course, status=S.COMPLETED, expires_at=past)
    with CaptureQueriesContext(connection) as queries:
        assert services.expire_enrollments() == count
    return len(queries)


@pytest.mark.django_db
def test_bulk_expiry_writes_one_event_per_row_in_a_constant_number_of_queries(course):
    few = expiry_queries(course["course"], 3)
    EnrollmentEvent.objects.all().delete()
    many = expiry_queries(course["course"], 12)
    assert few == many
    assert EnrollmentEvent.objects.filter(source=EventSource.EXPIRY, to_status=S.EXPIRED).count() == 12
    assert EnrollmentEvent.objects.filter(source=EventSource.EXPIRY, to_status=S.NOT_STARTED).count() == 12


# --------------------------------------------------------------------------- step protocol


class FakePackageStep:
    """A step type to come (a package), as the protocol sees it: no change to recompute."""

    event_source = EventSource.PACKAGE
    done = set()

    @classmethod
    def progress_for(cls, enrollment, step_ids):
        return {pk: StepProgress(done=True, score=50.0, started=True) for pk in step_ids if pk in cls.done}


@pytest.mark.django_db
def test_a_new_step_type_plugs_in_through_the_protocol(course, chain, monkeypatch):
    fake_id = 10**9
    real = live_step_classes

    monkeypatch.setattr(actions, "live_step_classes", lambda c: [*real(c), (fake_id, FakePackageStep)])
    monkeypatch.setattr(FakePackageStep, "done", set())
    user = chain["agent"].user
    for lesson in course["lessons"]:
        services.complete_lesson(user=user, lesson=lesson)
    _attempt, enrollment = services.submit_quiz(user=user, quiz=course["quiz"], answers=ALL_RIGHT)
    assert enrollment.status == S.IN_PROGRESS  # the package step is not done
    assert enrollment.progress == 0.75 and enrollment.score == 100.0

    FakePackageStep.done.add(fake_id)
    enrollment = services.complete_lesson(user=user, lesson=course["lessons"][0])  # any result recomputes
    assert enrollment.status == S.COMPLETED and enrollment.progress == 1.0
    assert enrollment.score == 75.0  # the package's score counts like a quiz's
