"""Bulk enrolment written by the database (``INSERT … SELECT``): the same rows, events,
progress and after-commit signal as one by one, in a number of queries that does not grow
with the subtree."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cms.actions import action_executed
from learning import actions, services
from learning.choices import EnrollmentSource, EnrollmentStatus, EventSource
from learning.models import Enrollment, EnrollmentEvent
from tests.factories import AgentFactory


def populate(org, count, **kwargs):
    return [AgentFactory(org_unit=org["bureau"], **kwargs) for _ in range(count)]


@pytest.mark.django_db
def test_assignment_rows_and_events_match_the_one_by_one_contract(course, org):
    agents = populate(org, 3)
    populate(org, 1, category="A")  # filtered out by category
    populate(org, 1, active=False)  # inactive: never enrolled
    outsider = AgentFactory()  # another subtree
    # a closed cycle: the new one is cycle 3 for that agent
    for cycle, status in ((1, EnrollmentStatus.FAILED), (2, EnrollmentStatus.EXPIRED)):
        Enrollment.objects.create(agent=agents[0], course=course["course"], cycle=cycle, status=status)
    assignment = services.create_assignment(
        course=course["course"], org_unit=org["direction"], due_in_days=30, categories=["B"]
    )
    now = timezone.now()
    before = timezone.now()
    assert services.apply_assignment(assignment=assignment, now=now) == 3
    created = Enrollment.objects.filter(assignment=assignment).order_by("agent_id")
    assert [e.agent_id for e in created] == [a.pk for a in agents]
    assert {e.agent_id: e.cycle for e in created} == {agents[0].pk: 3, agents[1].pk: 1, agents[2].pk: 1}
    for e in created:
        assert e.status == EnrollmentStatus.NOT_STARTED and e.source == EnrollmentSource.ASSIGNED
        assert e.due_at == now + timezone.timedelta(days=30) and e.progress == 0.0 and e.score is None
        assert e.certificate_file.name == "" and e.certificate_code is None and e.last_step_id is None
        assert before <= e.created_at == e.updated_at <= timezone.now()
        event = EnrollmentEvent.objects.get(enrollment=e)
        assert (event.from_status, event.to_status, event.source, event.actor_id, event.note) == (
            "",
            EnrollmentStatus.NOT_STARTED,
            EventSource.ASSIGNMENT,
            None,
            "",
        )
        assert event.at == e.updated_at
    assert not Enrollment.objects.filter(agent=outsider).exists()
    # idempotent: nobody left to enrol
    assert services.apply_assignment(assignment=assignment) == 0
    assert EnrollmentEvent.objects.count() == 3


@pytest.mark.django_db
def test_progress_per_batch_and_one_signal_after_commit(course, org, django_capture_on_commit_callbacks):
    agents = populate(org, 5)
    assignment = services.create_assignment(course=course["course"], org_unit=org["direction"], due_in_days=10)
    received, progress = [], []

    def receiver(sender, action, **kwargs):
        received.append((sender, sorted(action.rows), action.source))

    action_executed.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            action = actions.OpenAssignedCycles(
                assignment, services.assignment_targets(assignment), source=EventSource.ASSIGNMENT, batch_size=2
            )
            assert action.execute(lambda done, total: progress.append((done, total))) == 5
            assert received == []  # nothing before the commit
    finally:
        action_executed.disconnect(receiver)
    assert progress == [(2, 5), (4, 5), (5, 5)]
    ids = sorted(Enrollment.objects.filter(agent__in=agents).values_list("pk", flat=True))
    assert received == [(actions.OpenAssignedCycles, ids, EventSource.ASSIGNMENT)]
    assert isinstance(action, actions.OpenCycles)


@pytest.mark.django_db
def test_an_agent_enrolled_meanwhile_is_skipped_by_the_constraint(course, org):
    """A race: the targets were read before someone else opened an enrolment. The partial
    unique constraint skips the row (ON CONFLICT DO NOTHING): no error, no event."""
    agents = populate(org, 3)
    assignment = services.create_assignment(course=course["course"], org_unit=org["direction"], due_in_days=10)
    services.enroll(agent=agents[1], course=course["course"])
    everyone = services.Agent.objects.filter(pk__in=[a.pk for a in agents])  # not excluding the enrolled one
    action = actions.OpenAssignedCycles(assignment, everyone, source=EventSource.ASSIGNMENT)
    assert action.execute() == 2
    assert Enrollment.objects.filter(agent=agents[1]).count() == 1
    assert EnrollmentEvent.objects.filter(enrollment__assignment=assignment).count() == 2


@pytest.mark.django_db
def test_newcomers_from_an_id_list_are_enrolled_in_batches(course, org, monkeypatch):
    monkeypatch.setattr(services, "BATCH", 2)
    assignment = services.create_assignment(course=course["course"], org_unit=org["direction"], due_in_days=10)
    newcomers = populate(org, 5)
    assert services.assign_newcomers([a.pk for a in newcomers]) == 5
    assert set(EnrollmentEvent.objects.values_list("source", flat=True)) == {EventSource.IMPORT}
    assert Enrollment.objects.filter(assignment=assignment).count() == 5


def assignment_queries(course, org, count):
    populate(org, count)
    assignment = services.create_assignment(course=course["course"], org_unit=org["direction"], due_in_days=10)
    with CaptureQueriesContext(connection) as queries:
        assert services.apply_assignment(assignment=assignment) == services.Agent.objects.count()
    Enrollment.objects.all().delete()
    return len(queries)


@pytest.mark.django_db
def test_query_count_does_not_grow_with_the_subtree(course, org):
    few = assignment_queries(course, org, 2)
    many = assignment_queries(course, org, 20)  # 22 agents enrolled this time
    assert many == few
