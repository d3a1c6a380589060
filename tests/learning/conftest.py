"""Fixtures for the learning tests: a published course with two lessons and a quiz.

The quiz has one question of each type, with fixed block and choice ids so that tests
can post answers by id, exactly as the API contract says.
"""

import pytest

from cms.services import ensure_home_page
from learning.models import CourseIndexPage, CoursePage, LessonPage, QuizPage

QUIZ_STREAM = [
    {
        "type": "single_choice",
        "id": "q-single",
        "value": {
            "prompt": "Quel est le délai de convocation à l'entretien ?",
            "choices": [
                {"type": "item", "id": "c-8", "value": {"text": "8 jours", "correct": True}},
                {"type": "item", "id": "c-2", "value": {"text": "2 jours", "correct": False}},
            ],
            "feedback_correct": "Exact.",
            "feedback_incorrect": "Le délai est de 8 jours.",
        },
    },
    {
        "type": "multiple_choice",
        "id": "q-multi",
        "value": {
            "prompt": "Quelles données sont personnelles ?",
            "choices": [
                {"type": "item", "id": "m-name", "value": {"text": "Le nom", "correct": True}},
                {"type": "item", "id": "m-mail", "value": {"text": "L'adresse e-mail", "correct": True}},
                {"type": "item", "id": "m-weather", "value": {"text": "La météo", "correct": False}},
            ],
            "feedback_correct": "",
            "feedback_incorrect": "Le nom et l'e-mail sont des données personnelles.",
        },
    },
    {
        "type": "true_false",
        "id": "q-tf",
        "value": {"prompt": "Le RGPD s'applique aux collectivités.", "answer": True, "feedback_correct": "", "feedback_incorrect": ""},
    },
    {
        "type": "short_answer",
        "id": "q-short",
        "value": {
            "prompt": "Quelle autorité contrôle la protection des données en France ?",
            "accepted_answers": [{"type": "item", "id": "a-cnil", "value": "CNIL"}],
            "feedback_correct": "",
            "feedback_incorrect": "C'est la CNIL.",
        },
    },
]

ALL_RIGHT = {"q-single": ["c-8"], "q-multi": ["m-name", "m-mail"], "q-tf": [True], "q-short": "  la c.n.i.l  "}
ALL_RIGHT["q-short"] = "cnil"
HALF_RIGHT = {"q-single": ["c-8"], "q-multi": ["m-name"], "q-tf": [False], "q-short": "Cnil"}


def publish(page):
    page.save_revision().publish()
    page.refresh_from_db()
    return page


def build_course(home=None, *, title="Protection des données", slug="rgpd", validity_months=12,
                 self_enrollment=True, pass_mark=75, attempt_limit=2, index=None):
    home = home or ensure_home_page()
    if index is None:
        index = CourseIndexPage.objects.first()
        if index is None:
            index = CourseIndexPage(title="Formations", slug="formations")
            home.add_child(instance=index)
            publish(index)
    course = CoursePage(
        title=title, slug=slug, summary="Les bases du RGPD pour les agents.", theme="Numérique",
        estimated_minutes=45, self_enrollment=self_enrollment, validity_months=validity_months,
    )
    index.add_child(instance=course)
    publish(course)
    lesson1 = LessonPage(title="Les principes", slug="principes", body=[("text", "<p>Licéité, loyauté, transparence.</p>")])
    course.add_child(instance=lesson1)
    publish(lesson1)
    lesson2 = LessonPage(title="Les droits des personnes", slug="droits", body=[("text", "<p>Accès, rectification.</p>")])
    course.add_child(instance=lesson2)
    publish(lesson2)
    quiz = QuizPage(title="Quiz final", slug="quiz", pass_mark=pass_mark, attempt_limit=attempt_limit)
    quiz.questions = QUIZ_STREAM
    course.add_child(instance=quiz)
    publish(quiz)
    return {"index": index, "course": course, "lessons": [lesson1, lesson2], "quiz": quiz}


@pytest.fixture
def course(db):
    return build_course()
