"""Parcours speaks xAPI (issue 12, item 2): lessons, quizzes and package commits become
statements with the documented activity ids, verbs, registration and context; errors never
break the learning action; the work per action does not grow with the statements stored."""

import logging
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from learning import actions, services, xapi_emit, xapi_ids
from learning.models import Enrollment
from tests.factories import AgentFactory
from tests.learning.conftest import ALL_RIGHT, HALF_RIGHT
from tests.learning.factories import course_with_steps
from tests.learning.packages.conftest import scorm12_course, scorm12_package  # noqa: F401
from xapi.identity import actor_for
from xapi.models import Statement
from xapi.validation import statement as validate_statement

ADL = "http://adlnet.gov/expapi/verbs/"


@pytest.fixture
def built(db):
    return course_with_steps(lessons=2, quizzes=1, slug="emit")


@pytest.fixture
def learner(db):
    return AgentFactory(user__username="learner").user


def stored(**filters):
    return [s.data for s in Statement.objects.filter(**filters).order_by("stored", "pk")]


def verbs_of(rows):
    return [(row["verb"]["id"].removeprefix(ADL), row["object"]["id"]) for row in rows]


def run(django_capture_on_commit_callbacks, function, **kwargs):
    with django_capture_on_commit_callbacks(execute=True):
        return function(**kwargs)


def test_activity_ids_round_trip(settings):
    settings.WAGTAILADMIN_BASE_URL = "https://parcours.example.fr/"
    package = uuid.uuid4()
    cases = [
        (xapi_ids.course(12), ("course", 12, None, None, None)),
        (xapi_ids.step(34), ("step", 34, None, None, None)),
        (xapi_ids.question(34, "q-single"), ("question", 34, "q-single", None, None)),
        (xapi_ids.sco(package, "item 1/a"), ("sco", None, None, package, "item 1/a")),
    ]
    for activity_id, expected in cases:
        assert activity_id.startswith("https://parcours.example.fr/xapi/activities/")
        ref = xapi_ids.parse(activity_id)
        assert (ref.kind, ref.page_id, ref.question, ref.package_uuid, ref.sco) == expected
    for foreign in [
        "https://parcours.example.fr/xapi/activities/cmi5/course/1",
        "https://elsewhere.example/xapi/activities/course/12",
        "https://parcours.example.fr/xapi/activities/course/12x",
        "https://parcours.example.fr/xapi/activities/step/1/question/../../x",
        None,
        42,
    ]:
        assert xapi_ids.parse(foreign) is None
    assert xapi_ids.registration_for(5) == xapi_ids.registration_for(5) != xapi_ids.registration_for(6)
    uuid.UUID(xapi_ids.registration_for(5))


def test_lesson_open_and_complete_emit_statements(built, learner, django_capture_on_commit_callbacks):
    course, lesson = built["course"], built["lessons"][0]
    enrollment, _ = services.self_enroll(user=learner, course=course)
    run(django_capture_on_commit_callbacks, services.open_step, user=learner, step=lesson)
    run(django_capture_on_commit_callbacks, services.complete_lesson, user=learner, lesson=lesson)
    rows = stored()
    assert verbs_of(rows) == [
        ("experienced", xapi_ids.step(lesson.pk)),
        ("attempted", xapi_ids.course(course.pk)),
        ("completed", xapi_ids.step(lesson.pk)),
    ]
    actor = actor_for(learner)
    registration = xapi_ids.registration_for(enrollment.pk)
    for row in rows:
        validate_statement(row, "statement")
        assert row["actor"] == actor  # the opaque account: no name, no e-mail
        assert "mbox" not in row["actor"] and "name" not in row["actor"]
        assert row["context"]["registration"] == registration
        assert row["authority"]["account"]["name"] == "parcours"
        assert row["verb"]["display"]["fr-FR"]
    completed = rows[2]
    assert completed["context"]["contextActivities"]["parent"][0]["id"] == xapi_ids.course(course.pk)
    assert completed["object"]["definition"]["name"] == {"fr-FR": lesson.title}
    assert completed["object"]["definition"]["type"] == "http://adlnet.gov/expapi/activities/lesson"


def test_quiz_emits_answers_score_and_course_completion(built, learner, django_capture_on_commit_callbacks):
    course, quiz = built["course"], built["quiz"]
    services.self_enroll(user=learner, course=course)
    for lesson in built["lessons"]:
        run(django_capture_on_commit_callbacks, services.complete_lesson, user=learner, lesson=lesson)
    Statement.objects.all().delete()
    run(django_capture_on_commit_callbacks, services.submit_quiz, user=learner, quiz=quiz, answers=ALL_RIGHT)
    rows = stored()
    by_verb = {}
    for row in rows:
        by_verb.setdefault(row["verb"]["id"].removeprefix(ADL), []).append(row)
    answered = {row["object"]["id"]: row for row in by_verb["answered"]}
    assert set(answered) == {xapi_ids.question(quiz.pk, q) for q in ("q-single", "q-multi", "q-tf", "q-short")}
    single = answered[xapi_ids.question(quiz.pk, "q-single")]
    assert single["result"] == {"response": "c-8", "success": True}
    assert single["object"]["definition"]["interactionType"] == "choice"
    assert {c["id"] for c in single["object"]["definition"]["choices"]} == {"c-8", "c-2"}
    assert "correctResponsesPattern" not in single["object"]["definition"]
    assert single["context"]["contextActivities"]["parent"][0]["id"] == xapi_ids.step(quiz.pk)
    assert single["context"]["contextActivities"]["grouping"][0]["id"] == xapi_ids.course(course.pk)
    assert answered[xapi_ids.question(quiz.pk, "q-multi")]["result"]["response"] == "m-name[,]m-mail"
    assert answered[xapi_ids.question(quiz.pk, "q-tf")]["result"]["response"] == "true"
    assert answered[xapi_ids.question(quiz.pk, "q-short")]["result"]["response"] == "cnil"
    (passed,) = by_verb["passed"]
    assert passed["object"]["id"] == xapi_ids.step(quiz.pk)
    assert passed["result"]["score"] == {"scaled": 1.0, "raw": 100.0, "min": 0, "max": 100}
    assert passed["result"]["success"] is True
    course_completed = [r for r in by_verb["completed"] if r["object"]["id"] == xapi_ids.course(course.pk)]
    assert len(course_completed) == 1 and course_completed[0]["result"]["completion"] is True
    assert [r["object"]["id"] for r in by_verb["completed"]].count(xapi_ids.step(quiz.pk)) == 1


def test_failed_quiz_emits_failed_with_scaled_score(built, learner, django_capture_on_commit_callbacks):
    services.self_enroll(user=learner, course=built["course"])
    run(django_capture_on_commit_callbacks, services.submit_quiz, user=learner, quiz=built["quiz"], answers=HALF_RIGHT)
    (failed,) = stored(verb_id=ADL + "failed")
    assert failed["result"]["success"] is False
    assert failed["result"]["score"]["scaled"] == 0.5
    assert sum(1 for r in stored(verb_id=ADL + "answered") if r["result"]["success"]) == 2


def test_outcomes_are_stored_once(built, learner, django_capture_on_commit_callbacks):
    """A replayed outcome keeps its derived id: the task stores it once."""
    lesson = built["lessons"][0]
    enrollment, _ = services.self_enroll(user=learner, course=built["course"])
    run(django_capture_on_commit_callbacks, services.complete_lesson, user=learner, lesson=lesson)
    before = Statement.objects.count()
    action = actions.CompleteLesson(Enrollment.objects.get(pk=enrollment.pk), user=learner, step=lesson)
    action.obj = Enrollment.objects.select_related("course").get(pk=enrollment.pk)
    statements = xapi_emit.statements_for(action)
    assert xapi_emit.store_native_statements.call(statements) == 0
    assert Statement.objects.count() == before


def test_errors_are_logged_and_never_break_the_action(built, learner, django_capture_on_commit_callbacks,
                                                      monkeypatch, caplog):  # fmt: skip
    def broken(action):
        raise RuntimeError("LRS down")

    monkeypatch.setattr(xapi_emit, "statements_for", broken)
    services.self_enroll(user=learner, course=built["course"])
    with caplog.at_level(logging.ERROR, logger="learning.xapi_emit"):
        enrollment = run(django_capture_on_commit_callbacks, services.complete_lesson, user=learner,
                         lesson=built["lessons"][0])  # fmt: skip
    assert enrollment.progress > 0
    assert "could not be emitted" in caplog.text
    assert Statement.objects.count() == 0


def test_emission_can_be_switched_off(built, learner, settings, django_capture_on_commit_callbacks):
    settings.XAPI_EMIT_STATEMENTS = False
    services.self_enroll(user=learner, course=built["course"])
    run(django_capture_on_commit_callbacks, services.complete_lesson, user=learner, lesson=built["lessons"][0])
    assert Statement.objects.count() == 0


@pytest.mark.parametrize("questions", [1, 6])
def test_building_a_quiz_statement_set_has_constant_queries(db, questions, learner):
    """Building the statements of a quiz submission reads the learner's account (two queries),
    whatever the number of questions."""
    built = course_with_steps(lessons=0, quizzes=1, slug=f"q{questions}")
    quiz = built["quiz"]
    quiz.questions = [
        {"type": "true_false", "id": f"tf-{n}", "value": {"prompt": f"Q{n}", "answer": True,
                                                           "feedback_correct": "", "feedback_incorrect": ""}}
        for n in range(questions)
    ]  # fmt: skip
    quiz.save_revision().publish()
    services.self_enroll(user=learner, course=built["course"])
    action = actions.SubmitQuiz(
        Enrollment.objects.get(agent__user=learner), user=learner, step=quiz,
        params={"answers": {f"tf-{n}": [True] for n in range(questions)}},
    )  # fmt: skip
    action.execute()
    actor_for(learner)
    with CaptureQueriesContext(connection) as queries:
        statements = xapi_emit.statements_for(action)
    assert len(queries) == 2
    assert sum(1 for s in statements if s["verb"]["id"] == ADL + "answered") == questions


def test_scorm_commit_emits_sco_step_and_course_statements(chain, scorm12_course, django_capture_on_commit_callbacks):  # noqa: F811
    user, step = chain["agent"].user, scorm12_course["step"]
    attempt = run(django_capture_on_commit_callbacks, services.launch_package, user=user, step=step)
    data = {"sco": "ITEM-1", "seq": 1, "cmi": {"cmi.core.lesson_status": "passed", "cmi.core.score.raw": "92"},
            "terminate": True}  # fmt: skip
    run(django_capture_on_commit_callbacks, services.commit_package, user=user, attempt_id=attempt.pk, data=data)
    sco = xapi_ids.sco(step.package.uuid, "ITEM-1")
    rows = stored()
    assert ("launched", xapi_ids.step(step.pk)) in verbs_of(rows)
    assert ("passed", sco) in verbs_of(rows)
    assert ("passed", xapi_ids.step(step.pk)) in verbs_of(rows)
    assert ("completed", xapi_ids.course(scorm12_course["course"].pk)) in verbs_of(rows)
    sco_passed = next(r for r in rows if r["object"]["id"] == sco and r["verb"]["id"] == ADL + "passed")
    assert sco_passed["result"]["score"]["scaled"] == 0.92
    assert sco_passed["context"]["contextActivities"]["parent"][0]["id"] == xapi_ids.step(step.pk)
    # a replayed commit (same seq) is not applied: nothing new is stored
    count = Statement.objects.count()
    run(django_capture_on_commit_callbacks, services.commit_package, user=user, attempt_id=attempt.pk, data=data)
    assert Statement.objects.count() == count
