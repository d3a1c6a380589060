"""Factories of the learning tests (factory_boy), built from what conftest.py does.

Pages go through ``save_revision().publish()`` as the rules of the house say, so courses
are built by functions; enrolments are a model factory.
An ``EnrollmentFactory`` row has no history: tests of the actions open cycles through
``learning.services``/``learning.actions`` instead.
"""

import factory

from learning.models import Enrollment, LessonPage, QuizPage
from tests.factories import AgentFactory
from tests.learning.conftest import QUIZ_STREAM, build_course, publish


def course_with_steps(*, lessons=2, quizzes=1, slug="cours", index=None, **kwargs):
    """A published course with ``lessons`` lessons then ``quizzes`` quizzes (conftest's
    quiz questions); returns the dict of ``build_course`` with every step."""
    built = build_course(slug=slug, index=index, **kwargs)
    course = built["course"]
    for step in [*built["lessons"], built["quiz"]]:  # build_course's two lessons and a quiz
        step.delete()
    course.refresh_from_db()
    built["lessons"], built["quizzes"] = [], []
    for number in range(lessons):
        lesson = LessonPage(title=f"Leçon {number + 1}", slug=f"lecon-{number + 1}", body=[("text", "<p>Texte.</p>")])
        course.add_child(instance=lesson)
        built["lessons"].append(publish(lesson))
    for number in range(quizzes):
        quiz = QuizPage(title=f"Quiz {number + 1}", slug=f"quiz-{number + 1}", pass_mark=75, attempt_limit=2)
        quiz.questions = QUIZ_STREAM
        course.add_child(instance=quiz)
        built["quizzes"].append(publish(quiz))
    built["quiz"] = built["quizzes"][0] if built["quizzes"] else None
    return built


class EnrollmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Enrollment

    agent = factory.SubFactory(AgentFactory)
    course = None  # pass a CoursePage
    cycle = 1
