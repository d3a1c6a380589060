"""Statements → enrolments (issue 12, item 2): a client's statement about a Parcours lesson or
course by a Parcours account moves the enrolment through the enrolment actions; everything
else is stored and changes nothing; idempotent; errors never fail the LRS."""

import logging

import pytest

from learning import services, xapi_bridge, xapi_ids
from learning.choices import EnrollmentStatus
from learning.models import Enrollment, EnrollmentEvent, LessonProgress
from tests.factories import AgentFactory
from tests.learning.factories import course_with_steps
from tests.xapi.conftest import LRS, make_client
from xapi import services as lrs_services
from xapi.identity import account_agent, actor_for
from xapi.models import Statement

ADL = "http://adlnet.gov/expapi/verbs/"


@pytest.fixture
def built(db):
    return course_with_steps(lessons=2, quizzes=1, slug="bridge")


@pytest.fixture
def learner(db):
    return AgentFactory(user__username="learner").user


@pytest.fixture
def content(db):
    return LRS(make_client("Storyline")[1])


def about(user, activity_id, verb="completed", **extra):
    return {"actor": actor_for(user), "verb": {"id": ADL + verb}, "object": {"id": activity_id}, **extra}


def send(content, statements, capture):
    with capture(execute=True):
        response = content.post("statements", statements)
    assert response.status_code == 200, response.content
    return response


def enrollment_of(user, course):
    return Enrollment.objects.get(agent__user=user, course=course)


def test_completed_lesson_statement_completes_the_lesson(built, learner, content, django_capture_on_commit_callbacks):
    course, lesson = built["course"], built["lessons"][0]
    enrollment, _ = services.self_enroll(user=learner, course=course)
    send(content, [about(learner, xapi_ids.step(lesson.pk))], django_capture_on_commit_callbacks)
    enrollment.refresh_from_db()
    assert LessonProgress.objects.filter(enrollment=enrollment, lesson=lesson).exists()
    assert enrollment.status == EnrollmentStatus.IN_PROGRESS and enrollment.progress == pytest.approx(1 / 3, abs=1e-3)
    assert list(EnrollmentEvent.objects.filter(enrollment=enrollment).values_list("to_status", "source"))[-1] == (
        EnrollmentStatus.IN_PROGRESS,
        "lesson",
    )
    # Parcours adds the course-level fact, never a second "completed" for the lesson
    parcours = [s.data for s in Statement.objects.all() if s.data["authority"]["account"]["name"] == "parcours"]
    assert [(s["verb"]["id"], s["object"]["id"]) for s in parcours] == [(ADL + "attempted", xapi_ids.course(course.pk))]
    # idempotent: the same fact again (a new statement) changes nothing
    events = EnrollmentEvent.objects.count()
    updated_at = enrollment.updated_at
    send(content, [about(learner, xapi_ids.step(lesson.pk), verb="passed")], django_capture_on_commit_callbacks)
    enrollment.refresh_from_db()
    assert EnrollmentEvent.objects.count() == events and enrollment.updated_at == updated_at
    assert LessonProgress.objects.filter(enrollment=enrollment).count() == 1


def test_every_lesson_by_statement_completes_the_course(db, learner, content, django_capture_on_commit_callbacks):
    built = course_with_steps(lessons=2, quizzes=0, slug="lessons-only")
    services.self_enroll(user=learner, course=built["course"])
    statements = [about(learner, xapi_ids.step(lesson.pk)) for lesson in built["lessons"]]
    send(content, statements, django_capture_on_commit_callbacks)
    enrollment = enrollment_of(learner, built["course"])
    assert enrollment.status == EnrollmentStatus.COMPLETED and enrollment.certificate_code
    assert Statement.objects.filter(verb_id=ADL + "completed", object_activity_key__gt="").count() == 3


def test_course_statement_starts_the_enrolment(built, learner, content, django_capture_on_commit_callbacks):
    enrollment, _ = services.self_enroll(user=learner, course=built["course"])
    send(content, [about(learner, xapi_ids.course(built["course"].pk), verb="launched")],
         django_capture_on_commit_callbacks)  # fmt: skip
    enrollment.refresh_from_db()
    assert enrollment.status == EnrollmentStatus.IN_PROGRESS and enrollment.started_at
    assert EnrollmentEvent.objects.filter(enrollment=enrollment, to_status="in_progress", source="xapi").count() == 1
    # a course-level "completed" never completes the enrolment: its steps do
    send(content, [about(learner, xapi_ids.course(built["course"].pk))], django_capture_on_commit_callbacks)
    enrollment.refresh_from_db()
    assert enrollment.status == EnrollmentStatus.IN_PROGRESS


def test_the_learner_own_session_counts(built, learner, django_capture_on_commit_callbacks):
    from django.test import Client

    services.self_enroll(user=learner, course=built["course"])
    http = Client(enforce_csrf_checks=False)
    http.force_login(learner)
    send(LRS(client=http), [about(learner, xapi_ids.step(built["lessons"][1].pk))], django_capture_on_commit_callbacks)
    assert LessonProgress.objects.filter(lesson=built["lessons"][1]).count() == 1


IGNORED = {
    "a quiz is graded by Parcours": lambda b, u: about(u, xapi_ids.step(b["quiz"].pk), verb="passed"),
    "a verb that does not finish a step": lambda b, u: about(u, xapi_ids.step(b["lessons"][0].pk), verb="experienced"),
    "a cmi5 activity": lambda b, u: about(u, xapi_ids.cmi5_prefix() + f"course/{b['course'].pk}"),
    "another site's activity": lambda b, u: about(
        u, f"https://ailleurs.example/xapi/activities/step/{b['lessons'][0].pk}"
    ),
    "a question": lambda b, u: about(u, xapi_ids.question(b["quiz"].pk, "q-single")),
    "an unknown page": lambda b, u: about(u, xapi_ids.step(999999)),
    "an account of another site": lambda b, u: {
        **about(u, xapi_ids.step(b["lessons"][0].pk)),
        "actor": {"account": {"homePage": "https://ailleurs.example", "name": str(u.xapi_identity.account_name)}},
    },
    "an unknown account": lambda b, u: {**about(u, xapi_ids.step(b["lessons"][0].pk)), "actor": account_agent("x")},
    "an e-mail actor": lambda b, u: {
        **about(u, xapi_ids.step(b["lessons"][0].pk)),
        "actor": {"mbox": f"mailto:{u.email}"},
    },
    "another registration (another cycle)": lambda b, u: about(
        u, xapi_ids.step(b["lessons"][0].pk), context={"registration": xapi_ids.registration_for(123456)}
    ),
    "a SubStatement about the lesson": lambda b, u: {
        **about(u, xapi_ids.step(b["lessons"][0].pk)),
        "object": {"objectType": "SubStatement", **about(u, xapi_ids.step(b["lessons"][0].pk))},
    },
}


@pytest.mark.parametrize("case", IGNORED)
def test_ignored_statements_change_nothing(case, built, learner, content, django_capture_on_commit_callbacks):
    enrollment, _ = services.self_enroll(user=learner, course=built["course"])
    actor_for(learner)
    send(content, [IGNORED[case](built, learner)], django_capture_on_commit_callbacks)
    enrollment.refresh_from_db()
    assert enrollment.status == EnrollmentStatus.NOT_STARTED
    assert not LessonProgress.objects.exists()


def test_matching_registration_counts(built, learner, content, django_capture_on_commit_callbacks):
    enrollment, _ = services.self_enroll(user=learner, course=built["course"])
    statement = about(learner, xapi_ids.step(built["lessons"][0].pk),
                      context={"registration": xapi_ids.registration_for(enrollment.pk)})  # fmt: skip
    send(content, [statement], django_capture_on_commit_callbacks)
    assert LessonProgress.objects.filter(enrollment=enrollment).count() == 1


def test_no_enrolment_no_effect(built, learner, content, django_capture_on_commit_callbacks):
    send(content, [about(learner, xapi_ids.step(built["lessons"][0].pk))], django_capture_on_commit_callbacks)
    assert not Enrollment.objects.exists()


def test_statements_of_parcours_itself_are_ignored(built, learner, django_capture_on_commit_callbacks):
    enrollment, _ = services.self_enroll(user=learner, course=built["course"])
    with django_capture_on_commit_callbacks(execute=True):
        lrs_services.store_statements([about(learner, xapi_ids.step(built["lessons"][0].pk))], client=None)
    assert not LessonProgress.objects.filter(enrollment=enrollment).exists()


def test_voided_before_the_bridge_reads_it_is_ignored(built, learner, django_capture_on_commit_callbacks):
    enrollment, _ = services.self_enroll(user=learner, course=built["course"])
    client, _auth = make_client("Voiding")
    statement = about(learner, xapi_ids.step(built["lessons"][0].pk), id="3c1e7a1e-0000-4000-8000-000000000001")
    voiding = {"actor": actor_for(learner), "verb": {"id": ADL + "voided"},
               "object": {"objectType": "StatementRef", "id": statement["id"]}}  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        lrs_services.store_statements([statement, voiding], client=client)
    assert not LessonProgress.objects.filter(enrollment=enrollment).exists()


def test_bridge_errors_are_logged_not_raised(built, learner, content, monkeypatch, caplog,
                                             django_capture_on_commit_callbacks):  # fmt: skip
    services.self_enroll(user=learner, course=built["course"])

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(xapi_bridge, "apply_one", broken)
    with caplog.at_level(logging.ERROR, logger="learning.xapi_bridge"):
        send(content, [about(learner, xapi_ids.step(built["lessons"][0].pk))], django_capture_on_commit_callbacks)
    assert "could not update enrolments" in caplog.text
    assert Statement.objects.count() == 1


def test_a_failed_enrolment_is_not_moved(built, learner, content, django_capture_on_commit_callbacks):
    enrollment, _ = services.self_enroll(user=learner, course=built["course"])
    Enrollment.objects.filter(pk=enrollment.pk).update(status=EnrollmentStatus.FAILED)
    send(content, [about(learner, xapi_ids.step(built["lessons"][0].pk))], django_capture_on_commit_callbacks)
    assert not LessonProgress.objects.exists()


@pytest.mark.parametrize("size", [2, 8])
def test_queries_for_statements_that_concern_nothing_are_constant(db, size, content, django_assert_num_queries):
    """The bridge reads the stored batch once; statements that concern no enrolment cost nothing more."""
    ids = lrs_services.store_statements(
        [{"actor": {"mbox": f"mailto:a{n}@example.com"}, "verb": {"id": ADL + "completed"},
          "object": {"id": f"http://example.com/a/{n}"}} for n in range(size)],
        client=None,
    )  # fmt: skip
    with django_assert_num_queries(1):
        assert xapi_bridge.apply_statements(ids) == []
