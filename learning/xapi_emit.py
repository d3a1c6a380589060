"""Parcours speaks xAPI: native lessons, quizzes and SCORM attempts become statements.

``on_action_executed`` listens to ``cms.actions.action_executed`` (sent after the action's
transaction commits) and turns the enrolment actions into statements, with the activity ids
of :mod:`learning.xapi_ids`:

==============================  ==============================================================
action                          statements (verb: object)
==============================  ==============================================================
``OpenStep`` (a lesson)         experienced: the lesson
``OpenStep`` (quiz, package)    launched: the step
``StartPackageAttempt``         launched: the package step (SCORM; cmi5 launches are cmi5's)
``CompleteLesson``              completed: the lesson
``SubmitQuiz``                  answered: each question (response, success); passed or
                                failed: the quiz (scaled score); completed: the quiz
``CommitPackage`` (applied)     on a terminate: completed / passed / failed: the SCO (score);
                                when the attempt ends: completed / passed / failed: the step
any enrolment action            attempted: the course (not started → in progress);
                                completed (with the score) / failed: the course
==============================  ==============================================================

Every statement has the learner's opaque account as actor (``xapi.identity``), the
enrolment's registration (``xapi_ids.registration_for``), the course as
``contextActivities.parent`` (for a question: the quiz as parent, the course as grouping),
``platform`` "Parcours" and ``language`` fr-FR. Outcomes have ids derived from what they
record (``xapi_ids.statement_id``): emitted twice, they are stored once.

The statements are built after commit, then stored as Parcours (``store_statements(...,
client=None)``) by the ``store_native_statements`` task, so the learner's request does not
wait for the LRS. Any error is logged: a statement never breaks a learning action.
Actions run by the statement bridge (``xapi_origin`` set, see learning/xapi_bridge.py) emit
only their course-level statements: the step-level fact is the statement that caused them.
"""

import logging

from django.conf import settings
from django_tasks import task

from learning import xapi_ids
from learning.choices import AttemptStatus, EnrollmentStatus, PackageStandard

logger = logging.getLogger(__name__)

ADL = "http://adlnet.gov/expapi/verbs/"
VERBS = {
    "launched": ("lancé", "launched"),
    "experienced": ("consulté", "experienced"),
    "attempted": ("commencé", "attempted"),
    "answered": ("répondu", "answered"),
    "completed": ("terminé", "completed"),
    "passed": ("réussi", "passed"),
    "failed": ("échoué", "failed"),
}
ACTIVITY_TYPES = {
    "course": "http://adlnet.gov/expapi/activities/course",
    "lesson": "http://adlnet.gov/expapi/activities/lesson",
    "assessment": "http://adlnet.gov/expapi/activities/assessment",
    "module": "http://adlnet.gov/expapi/activities/module",
    "interaction": "http://adlnet.gov/expapi/activities/cmi.interaction",
}
LANGUAGE = "fr-FR"
INTERACTION_TYPES = {
    "single_choice": "choice",
    "multiple_choice": "choice",
    "true_false": "true-false",
    "short_answer": "fill-in",
}


def verb(name):
    french, english = VERBS[name]
    return {"id": ADL + name, "display": {"fr-FR": french, "en-US": english}}


def _text(value, limit=500):
    return str(value or "").strip()[:limit] or "-"


def activity(activity_id, name, kind, **definition):
    return {
        "objectType": "Activity",
        "id": activity_id,
        "definition": {"name": {LANGUAGE: _text(name)}, "type": ACTIVITY_TYPES[kind], **definition},
    }


def course_activity(course):
    return activity(xapi_ids.course(course.pk), course.title, "course")


def step_activity(step):
    from learning.models import LessonPage, QuizPage

    kind = "lesson" if isinstance(step, LessonPage) else "assessment" if isinstance(step, QuizPage) else "module"
    return activity(xapi_ids.step(step.pk), step.title, kind)


def score_result(percent, *, success=None, completion=None):
    result = {}
    if percent is not None:
        percent = max(0.0, min(100.0, float(percent)))
        result["score"] = {"scaled": round(percent / 100, 4), "raw": round(percent, 2), "min": 0, "max": 100}
    if success is not None:
        result["success"] = bool(success)
    if completion is not None:
        result["completion"] = bool(completion)
    return result


class StatementBuilder:
    """Statements about one enrolment at one moment (actor, registration, context)."""

    def __init__(self, enrollment, actor, moment):
        self.enrollment = enrollment
        self.actor = actor
        self.timestamp = moment.isoformat()
        self.registration = xapi_ids.registration_for(enrollment.pk)
        self.course = course_activity(enrollment.course)
        self.statements = []

    def add(self, key, verb_name, obj, *, parent=None, grouping=None, result=None):
        context = {
            "registration": self.registration,
            "platform": "Parcours",
            "language": LANGUAGE,
        }
        activities = {}
        if parent is not None:
            activities["parent"] = [parent]
        if grouping is not None:
            activities["grouping"] = [grouping]
        if activities:
            context["contextActivities"] = activities
        statement = {
            "id": xapi_ids.statement_id(*key),
            "actor": self.actor,
            "verb": verb(verb_name),
            "object": obj,
            "context": context,
            "timestamp": self.timestamp,
        }
        if result:
            statement["result"] = result
        self.statements.append(statement)
        return statement

    def on_step(self, key, verb_name, step, result=None):
        return self.add(key, verb_name, step_activity(step), parent=self.course, result=result)


# --- per action -----------------------------------------------------------------------------


def _question_activity(quiz, block):
    value = block.value
    definition = {"interactionType": INTERACTION_TYPES[block.block_type]}
    if block.block_type in ("single_choice", "multiple_choice"):
        definition["choices"] = [
            {"id": str(child.id), "description": {LANGUAGE: _text(child.value["text"])}}
            for child in value["choices"].bound_blocks
        ]
    # no correctResponsesPattern: readers of the LRS (the learner's export included) would see the answers
    return activity(xapi_ids.question(quiz.pk, block.id), value["prompt"], "interaction", **definition)


def _response(block, given):
    if block.block_type in ("single_choice", "multiple_choice"):
        return "[,]".join(str(item) for item in (given or []))
    if block.block_type == "true_false":
        return "true" if given and given[0] is True else "false" if given else ""
    return str(given or "")


def quiz_statements(builder, action):
    attempt, quiz = action.result, action.step
    quiz_object = step_activity(quiz)
    for block in quiz.questions:
        if block.block_type not in INTERACTION_TYPES:
            continue
        correct = bool(attempt.feedback.get(block.id, {}).get("correct"))
        builder.add(
            ("answered", attempt.pk, block.id), "answered", _question_activity(quiz, block),
            parent=quiz_object, grouping=builder.course,
            result={"response": _response(block, attempt.answers.get(block.id)), "success": correct},
        )  # fmt: skip
    outcome = "passed" if attempt.passed else "failed"
    builder.on_step(("quiz", outcome, attempt.pk), outcome, quiz,
                    result=score_result(attempt.score, success=attempt.passed, completion=True))  # fmt: skip
    builder.on_step(("quiz", "completed", attempt.pk), "completed", quiz, result=score_result(None, completion=True))


SCO_VERBS = {"passed": "passed", "failed": "failed"}
ATTEMPT_VERBS = {AttemptStatus.COMPLETED: "completed", AttemptStatus.PASSED: "passed", AttemptStatus.FAILED: "failed"}


def package_commit_statements(builder, action):
    attempt = action.attempt
    if attempt is None or not action.applied or attempt.package.standard == PackageStandard.CMI5:
        return
    params = action.params or {}
    identifier = params.get("sco")
    state = (attempt.scos or {}).get(identifier) if identifier else None
    if state and params.get("terminate"):
        item = attempt.package.launchable(identifier) or {}
        sco_object = activity(xapi_ids.sco(attempt.package.uuid, identifier), item.get("title") or identifier, "module")
        step_object = step_activity(action.step)
        if state.get("completion") == "completed":
            builder.add(("sco", "completed", attempt.pk, identifier), "completed", sco_object, parent=step_object,
                        grouping=builder.course, result=score_result(None, completion=True))  # fmt: skip
        if state.get("success") in SCO_VERBS:
            name = SCO_VERBS[state["success"]]
            builder.add(("sco", name, attempt.pk, identifier), name, sco_object, parent=step_object,
                        grouping=builder.course,
                        result=score_result(state.get("score"), success=name == "passed"))  # fmt: skip
    if attempt.status in ATTEMPT_VERBS:
        name = ATTEMPT_VERBS[attempt.status]
        success = None if name == "completed" else name == "passed"
        builder.on_step(("attempt", name, attempt.pk), name, action.step,
                        result=score_result(attempt.score, success=success, completion=name != "failed"))  # fmt: skip


def step_statements(builder, action):
    from learning import actions
    from learning.models import LessonPage, PackageStepPage

    if isinstance(action, actions.CompleteLesson):
        builder.on_step(("lesson", "completed", builder.enrollment.pk, action.step.pk), "completed", action.step,
                        result=score_result(None, completion=True))  # fmt: skip
    elif isinstance(action, actions.SubmitQuiz):
        quiz_statements(builder, action)
    elif isinstance(action, actions.CommitPackage):
        package_commit_statements(builder, action)
    elif isinstance(action, actions.StartPackageAttempt):
        attempt = action.attempt
        if attempt is not None and attempt.package.standard != PackageStandard.CMI5:
            builder.on_step(("launched", attempt.pk, builder.timestamp), "launched", action.step)
    elif isinstance(action, actions.OpenStep):
        step = action.step
        if isinstance(step, PackageStepPage) and step.package_id is not None:
            return  # the launch (StartPackageAttempt) says it
        name = "experienced" if isinstance(step, LessonPage) else "launched"
        builder.on_step(("open", builder.enrollment.pk, step.pk, builder.timestamp), name, step)


def course_statements(builder, action):
    enrollment = builder.enrollment
    for _before, after in getattr(action, "moves", ()):
        if after == EnrollmentStatus.IN_PROGRESS:
            builder.add(("course", "attempted", enrollment.pk), "attempted", builder.course)
        elif after == EnrollmentStatus.COMPLETED:
            builder.add(("course", "completed", enrollment.pk), "completed", builder.course,
                        result=score_result(enrollment.score, completion=True))  # fmt: skip
        elif after == EnrollmentStatus.FAILED:
            builder.add(("course", "failed", enrollment.pk), "failed", builder.course,
                        result=score_result(enrollment.score, success=False))  # fmt: skip


def learner_actor(enrollment):
    """The xAPI agent of the enrolment's learner (two queries), or None without a user."""
    from cms.models import Agent
    from xapi.identity import account_agent
    from xapi.models import AgentIdentity

    user_id = Agent.objects.filter(pk=enrollment.agent_id).values_list("user_id", flat=True).first()
    if user_id is None:
        return None
    identity, _created = AgentIdentity.objects.get_or_create(user_id=user_id)
    return account_agent(identity.account_name)


def statements_for(action):
    """The statements an executed enrolment action stands for (a list, maybe empty)."""
    from learning.actions import EnrollmentAction
    from learning.models import Enrollment

    enrollment = getattr(action, "obj", None)
    if not isinstance(action, EnrollmentAction) or not isinstance(enrollment, Enrollment):
        return []
    bridged = bool(getattr(action, "xapi_origin", None))
    has_step_part = not bridged and getattr(action, "step", None) is not None
    if not has_step_part and not getattr(action, "moves", None):
        return []
    actor = learner_actor(enrollment)
    if actor is None:
        return []
    builder = StatementBuilder(enrollment, actor, action.now)
    if has_step_part:
        step_statements(builder, action)
    course_statements(builder, action)
    return builder.statements


def on_action_executed(sender, action, **kwargs):
    """Receiver of ``action_executed``: build the statements, queue their storage; log errors."""
    if not getattr(settings, "XAPI_EMIT_STATEMENTS", True):
        return
    try:
        statements = statements_for(action)
        if statements:
            store_native_statements.enqueue(statements)
    except Exception:  # noqa: BLE001 - a statement never breaks a learning action
        logger.exception("xAPI statements of %s could not be emitted", type(action).__name__)


@task()
def store_native_statements(statements):
    """Store statements as Parcours; ids already stored are skipped (an outcome emitted twice
    is recorded once). Returns the number stored."""
    from xapi.models import Statement
    from xapi.services import store_statements

    ids = [statement["id"] for statement in statements]
    known = {
        str(value) for value in Statement.objects.filter(statement_id__in=ids).values_list("statement_id", flat=True)
    }
    fresh = [statement for statement in statements if statement["id"] not in known]
    if fresh:
        store_statements(fresh, client=None)
    return len(fresh)
