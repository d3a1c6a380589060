"""Site views of the learning app: catalogue, course, lesson and quiz pages, team and HR
reports, certificate download and public verification."""

import csv
import io
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from learning import services
from learning.charts import completion_rate_chart
from learning.choices import EnrollmentStatus
from learning.models import Enrollment, LessonProgress, QuizAttempt
from learning.views import answers_from_post
from tests.factories import AgentFactory, OrgUnitFactory
from tests.learning.conftest import ALL_RIGHT, HALF_RIGHT, QUIZ_STREAM, build_course, publish

pytestmark = pytest.mark.django_db

QUIZ_SECRETS = [  # what the quiz page must never show before a submission
    "CNIL",
    "Exact.",
    "Le délai est de 8 jours.",
    "Le nom et l'e-mail sont des données personnelles.",
    "C'est la CNIL.",
]


def form_data(answers):
    """The quiz form's POST data for answers in the API's shape."""
    data = {}
    for question_id, value in answers.items():
        key = f"q-{question_id}"
        if isinstance(value, str):
            data[key] = value
        elif value and isinstance(value[0], bool):
            data[key] = "true" if value[0] else "false"
        else:
            data[key] = list(value)
    return data


def enrol(agent, course, **fields):
    enrollment, _created = services.enroll(agent=agent, course=course)
    if fields:
        Enrollment.objects.filter(pk=enrollment.pk).update(**fields)
        enrollment.refresh_from_db()
    return enrollment


def url(page):
    return page.get_url()


def login(client, agent):
    client.force_login(agent.user)
    return client


# --- catalogue ---------------------------------------------------------------------------------


@pytest.fixture
def two_courses(course):
    other = build_course(title="Encadrer une équipe", slug="encadrer")["course"]
    other.theme = "Management"
    other.estimated_minutes = 120
    other.summary = "Conduire les entretiens et fixer des objectifs."
    publish(other)
    return course, other


def test_catalogue_lists_courses_with_labelled_search_form(client, two_courses):
    course, other = two_courses
    response = client.get(url(course["index"]))
    assert response.status_code == 200
    html = response.text
    assert "Protection des données" in html and "Encadrer une équipe" in html
    assert '<label for="catalogue-q">' in html and 'id="catalogue-q"' in html
    assert '<label for="catalogue-theme">' in html and '<label for="catalogue-duration">' in html
    assert "2 formations" in html


@pytest.mark.parametrize(
    "params, shown, hidden",
    [
        ({"q": "rgpd"}, "Protection des données", "Encadrer une équipe"),
        ({"q": "objectifs"}, "Encadrer une équipe", "Protection des données"),
        ({"theme": "Management"}, "Encadrer une équipe", "Protection des données"),
        ({"duration": "short"}, "Protection des données", "Encadrer une équipe"),
        ({"duration": "long"}, "Encadrer une équipe", "Protection des données"),
    ],
)
def test_catalogue_search_and_filters(client, two_courses, params, shown, hidden):
    course, _other = two_courses
    html = client.get(url(course["index"]), params).text
    assert shown in html
    assert hidden not in html
    assert "1 formation" in html


def test_catalogue_search_without_result_says_so(client, two_courses):
    course, _other = two_courses
    html = client.get(url(course["index"]), {"q": "astrophysique"}).text
    assert "Aucune formation ne correspond à votre recherche." in html
    assert 'value="astrophysique"' in html  # the search is kept in the field


def test_catalogue_shows_the_agents_status_and_progress(client, chain, course):
    services.complete_lesson(user=chain["agent"].user, lesson=course["lessons"][0])
    html = login(client, chain["agent"]).get(url(course["index"])).text
    assert "status-in_progress" in html and "En cours" in html
    assert '<progress max="100" value="33"' in html and "33\u00a0%" in html


# --- course page -------------------------------------------------------------------------------


def test_course_page_shows_outline_and_enrol_button(client, chain, course):
    html = login(client, chain["agent"]).get(url(course["course"])).text
    for step in [*course["lessons"], course["quiz"]]:
        assert step.title in html
    assert "Les bases du RGPD pour les agents." in html
    assert "45 minutes" in html and "12 mois" in html
    assert f'action="{reverse("learning:enroll", args=[course["course"].pk])}"' in html
    assert "S&#x27;inscrire" in html or "S'inscrire" in html


def test_anonymous_visitor_sees_the_course_and_is_asked_to_log_in(client, course):
    response = client.get(url(course["course"]))
    assert response.status_code == 200
    assert course["lessons"][0].title in response.text
    assert "Se connecter pour s" in response.text
    assert reverse("learning:enroll", args=[course["course"].pk]) not in response.text


def test_post_enrol_creates_the_enrolment_and_redirects_to_the_course(client, chain, course):
    login(client, chain["agent"])
    response = client.post(reverse("learning:enroll", args=[course["course"].pk]))
    assert response.status_code == 302
    assert response["Location"] == url(course["course"])
    enrollment = Enrollment.objects.get(agent=chain["agent"], course=course["course"])
    assert enrollment.status == EnrollmentStatus.NOT_STARTED
    html = client.get(response["Location"]).text
    assert 'role="status"' in html and "Vous êtes inscrit(e)" in html
    assert "Commencer" in html and f'href="{url(course["lessons"][0])}"' in html
    # Enrolling twice keeps one enrolment.
    client.post(reverse("learning:enroll", args=[course["course"].pk]))
    assert Enrollment.objects.filter(agent=chain["agent"]).count() == 1


def test_enrol_refused_with_a_message_when_only_by_assignment(client, chain):
    assigned = build_course(title="Sécurité incendie", slug="incendie", self_enrollment=False)["course"]
    login(client, chain["agent"])
    html = client.get(url(assigned)).text
    assert "suivie sur assignation" in html
    response = client.post(reverse("learning:enroll", args=[assigned.pk]), follow=True)
    assert "uniquement sur assignation" in response.text
    assert not Enrollment.objects.filter(agent=chain["agent"]).exists()


def test_enrol_requires_login_and_post(client, course):
    target = reverse("learning:enroll", args=[course["course"].pk])
    response = client.post(target)
    assert response.status_code == 302 and reverse("login") in response["Location"]
    assert client.get(target).status_code == 405
    assert client.post(reverse("learning:enroll", args=[999999])).status_code == 404


def test_course_page_resumes_and_links_the_certificate_once_completed(client, chain, course):
    enrollment = enrol(chain["agent"], course["course"])
    services.complete_lesson(user=chain["agent"].user, lesson=course["lessons"][0])
    html = login(client, chain["agent"]).get(url(course["course"])).text
    assert "Reprendre" in html and f'href="{url(course["lessons"][1])}"' in html
    assert "terminé" in html  # the done mark is text, not only a colour
    Enrollment.objects.filter(pk=enrollment.pk).update(
        status=EnrollmentStatus.COMPLETED, progress=1.0, completed_at=timezone.now(), certificate_code="ABC123DEF456"
    )
    html = client.get(url(course["course"])).text
    assert reverse("learning:certificate_download", args=[enrollment.pk]) in html
    assert "Vous avez terminé cette formation" in html


# --- lessons -----------------------------------------------------------------------------------


def test_lesson_page_renders_body_outline_and_completion_button(client, chain, course):
    enrol(chain["agent"], course["course"])
    lesson = course["lessons"][0]
    html = login(client, chain["agent"]).get(url(lesson)).text
    assert "Licéité, loyauté, transparence." in html
    assert f'action="{reverse("learning:complete_lesson", args=[lesson.pk])}"' in html
    assert "J&#x27;ai terminé cette leçon" in html or "J'ai terminé cette leçon" in html
    assert 'aria-current="page"' in html and course["quiz"].title in html  # outline in the aside
    assert f'rel="next" href="{url(course["lessons"][1])}"' in html


def test_complete_lesson_through_the_post_view(client, chain, course):
    lesson1, lesson2 = course["lessons"]
    login(client, chain["agent"])
    response = client.post(reverse("learning:complete_lesson", args=[lesson1.pk]))
    assert response.status_code == 302
    assert response["Location"] == url(lesson2)  # on to the next step
    enrollment = Enrollment.objects.get(agent=chain["agent"])
    assert LessonProgress.objects.filter(enrollment=enrollment, lesson=lesson1).exists()
    assert enrollment.status == EnrollmentStatus.IN_PROGRESS
    html = client.get(url(lesson1)).text
    assert "Vous avez terminé cette leçon." in html
    response = client.post(reverse("learning:complete_lesson", args=[lesson2.pk]))
    assert response["Location"] == url(course["quiz"])


def test_complete_lesson_errors_become_messages(client, chain, course):
    assigned = build_course(title="Sécurité incendie", slug="incendie", self_enrollment=False)
    login(client, chain["agent"])
    response = client.post(reverse("learning:complete_lesson", args=[assigned["lessons"][0].pk]), follow=True)
    assert response.status_code == 200
    assert "uniquement sur assignation" in response.text
    assert not LessonProgress.objects.exists()
    # A quiz id is not a lesson.
    assert client.post(reverse("learning:complete_lesson", args=[course["quiz"].pk])).status_code == 404


# --- quizzes -----------------------------------------------------------------------------------


def test_answers_from_post_builds_the_api_shape(course):
    from django.http import QueryDict

    data = QueryDict(mutable=True)
    for key, value in form_data(ALL_RIGHT).items():
        data.setlist(key, value if isinstance(value, list) else [value])
    answers, missing, _given = answers_from_post(course["quiz"], data)
    assert answers == {"q-single": ["c-8"], "q-multi": ["m-name", "m-mail"], "q-tf": [True], "q-short": "cnil"}
    assert missing == []
    answers, missing, _given = answers_from_post(course["quiz"], QueryDict("q-q-tf=false&q-q-short=%20"))
    assert answers == {"q-tf": [False]}
    assert missing == ["q-single", "q-multi", "q-short"]


@pytest.mark.parametrize("who", ["agent", "anonymous"])
def test_quiz_page_never_renders_the_answers_before_a_submission(client, chain, course, who):
    if who == "agent":
        enrol(chain["agent"], course["course"])
        login(client, chain["agent"])
    html = client.get(url(course["quiz"])).text
    assert "correct" not in html.lower()  # no "correct" flag, class or data attribute
    for secret in QUIZ_SECRETS:
        assert secret not in html
    if who == "agent":
        for question in QUIZ_STREAM:
            assert question["value"]["prompt"].replace("'", "&#x27;") in html
        assert "8 jours" in html and "La météo" in html  # the choices themselves are shown
        assert html.count("<fieldset") == len(QUIZ_STREAM) and html.count("<legend") == len(QUIZ_STREAM)
        assert 'name="q-q-single" id="q-q-single-c-8" value="c-8"' in html
        assert 'value="true"' in html and 'value="false"' in html
        assert '<label for="q-q-short">' in html


def test_quiz_post_grades_redirects_and_shows_feedback(client, chain, course):
    quiz = course["quiz"]
    enrol(chain["agent"], course["course"])
    login(client, chain["agent"])
    response = client.post(reverse("learning:submit_quiz", args=[quiz.pk]), form_data(HALF_RIGHT))
    assert response.status_code == 302
    assert response["Location"] == f"{url(quiz)}#resultat"
    attempt = QuizAttempt.objects.get()
    assert (attempt.number, attempt.score, attempt.passed) == (1, 50.0, False)
    assert attempt.answers == {"q-single": ["c-8"], "q-multi": ["m-name"], "q-tf": [False], "q-short": "Cnil"}
    html = client.get(url(quiz)).text
    assert "Quiz non réussi" in html and "50 %" in html
    assert "Le nom et l&#x27;e-mail sont des données personnelles." in html  # per-question feedback
    assert "Bonne réponse" in html and "Réponse inexacte" in html
    assert "Tentatives restantes" in html and "Il vous reste 1 tentative." in html
    response = client.post(reverse("learning:submit_quiz", args=[quiz.pk]), form_data(ALL_RIGHT), follow=True)
    assert "Quiz réussi" in response.text and "100 %" in response.text
    assert "Vous avez réussi ce quiz." in response.text
    assert 'class="quiz-form"' not in response.text


def test_incomplete_quiz_form_is_shown_again_without_using_an_attempt(client, chain, course):
    quiz = course["quiz"]
    enrol(chain["agent"], course["course"])
    login(client, chain["agent"])
    response = client.post(
        reverse("learning:submit_quiz", args=[quiz.pk]), {"q-q-single": "c-2", "q-q-short": "la cnil"}
    )
    assert response.status_code == 200
    assert not QuizAttempt.objects.exists()
    html = response.text
    assert 'role="alert"' in html and 'href="#q-q-multi-m-name"' in html and 'href="#q-q-tf-true"' in html
    assert 'id="q-q-single-c-2" value="c-2" checked' in html  # what was answered is kept
    assert 'value="la cnil"' in html


def test_attempt_limit_message(client, chain, course):
    quiz = course["quiz"]  # attempt_limit=2
    enrol(chain["agent"], course["course"])
    login(client, chain["agent"])
    for _ in range(2):
        client.post(reverse("learning:submit_quiz", args=[quiz.pk]), form_data(HALF_RIGHT))
    assert Enrollment.objects.get(agent=chain["agent"]).status == EnrollmentStatus.FAILED
    html = client.get(url(quiz)).text
    assert "Vous avez atteint le nombre maximal de tentatives (2)." in html
    assert 'class="quiz-form"' not in html
    response = client.post(reverse("learning:submit_quiz", args=[quiz.pk]), form_data(ALL_RIGHT), follow=True)
    assert "nombre maximal de tentatives" in response.text
    assert QuizAttempt.objects.count() == 2


def test_quiz_submission_requires_login(client, course):
    response = client.post(reverse("learning:submit_quiz", args=[course["quiz"].pk]), form_data(ALL_RIGHT))
    assert response.status_code == 302 and reverse("login") in response["Location"]
    assert not QuizAttempt.objects.exists()


def test_opening_a_step_records_it_for_resuming(client, chain, course):
    enrollment = enrol(chain["agent"], course["course"])
    login(client, chain["agent"]).get(url(course["lessons"][1]))
    enrollment.refresh_from_db()
    assert enrollment.last_step_id == course["lessons"][1].pk
    assert enrollment.status == EnrollmentStatus.IN_PROGRESS
    client.logout()
    assert client.get(url(course["lessons"][0])).status_code == 200  # anonymous: nothing recorded
    enrollment.refresh_from_db()
    assert enrollment.last_step_id == course["lessons"][1].pk


# --- team --------------------------------------------------------------------------------------


@pytest.fixture
def team(chain, course, org):
    """The agent is overdue on one course; a colleague of theirs is due later on another."""
    now = timezone.now()
    second = build_course(title="Accueil du public", slug="accueil")["course"]
    colleague = AgentFactory(
        user__first_name="Zoé", user__last_name="Zeller", org_unit=org["bureau"], manager=chain["manager"]
    )
    later = enrol(colleague, course["course"], due_at=now + timedelta(days=30))
    overdue = enrol(chain["agent"], second, due_at=now - timedelta(days=3))
    return {"overdue": overdue, "later": later, "colleague": colleague, "second": second}


def test_team_view_lists_overdue_first(client, chain, team):
    response = login(client, chain["manager"]).get(reverse("learning:team"))
    assert response.status_code == 200
    html = response.text
    agent_name, colleague_name = chain["agent"].full_name, team["colleague"].full_name
    assert agent_name in html and colleague_name in html
    assert html.index(agent_name) < html.index(colleague_name)  # overdue first
    assert "En retard" in html and "dont 1 en retard" in html
    assert "<caption" in html and '<th scope="col">' in html and '<th scope="row">' in html
    assert '<progress max="100"' in html


def test_team_view_course_filter(client, chain, team):
    login(client, chain["manager"])
    html = client.get(reverse("learning:team"), {"course": team["second"].pk}).text
    assert chain["agent"].full_name in html
    assert team["colleague"].full_name not in html


def test_team_view_direct_reports_by_default_all_levels_on_request(client, chain, team):
    login(client, chain["reviewer"])
    html = client.get(reverse("learning:team")).text
    assert chain["agent"].full_name not in html
    html = client.get(reverse("learning:team"), {"levels": "all"}).text
    assert chain["agent"].full_name in html and team["colleague"].full_name in html


def test_team_view_of_another_manager_does_not_show_the_agent(client, chain, team):
    response = login(client, chain["other_manager"]).get(reverse("learning:team"), {"levels": "all"})
    assert response.status_code == 200
    assert chain["agent"].full_name not in response.text


def test_team_view_query_count_does_not_grow_with_rows(client, chain, course, org):
    def count_queries():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("learning:team"), {"levels": "all"}).status_code == 200
        return len(ctx.captured_queries)

    login(client, chain["manager"])
    enrol(chain["agent"], course["course"], due_at=timezone.now())
    count_queries()  # warm the per-process caches (site root paths, content types)
    small = count_queries()
    for i in range(6):
        report = AgentFactory(org_unit=org["bureau"], manager=chain["manager"] if i % 2 else chain["agent"])
        enrol(report, course["course"], due_at=timezone.now() - timedelta(days=i))
    assert count_queries() == small


def test_team_csv_export_is_streamed(client, chain, team):
    response = login(client, chain["manager"]).get(reverse("learning:team_export"))
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows[0][:3] == ["Matricule", "Nom", "Unité (code)"]
    assert len(rows) == 3
    assert rows[1][0] == chain["agent"].employee_number and rows[1][8] == "oui"  # overdue first
    assert rows[2][1] == team["colleague"].full_name and rows[2][8] == "non"


def test_team_csv_neutralises_formulas(client, chain, course, org):
    report = AgentFactory(
        user__first_name="=HYPERLINK(1)", user__last_name="", org_unit=org["bureau"], manager=chain["manager"]
    )
    enrol(report, course["course"])
    response = login(client, chain["manager"]).get(reverse("learning:team_export"))
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    assert "'=HYPERLINK(1)" in text


def test_manager_grants_a_new_cycle_after_failure(client, chain, course):
    failed = enrol(chain["agent"], course["course"], status=EnrollmentStatus.FAILED)
    html = login(client, chain["manager"]).get(reverse("learning:team")).text
    target = reverse("learning:grant_new_cycle", args=[failed.pk])
    assert f'action="{target}"' in html
    response = client.post(target, {"next": reverse("learning:team")})
    assert response.status_code == 302 and response["Location"] == reverse("learning:team")
    assert Enrollment.objects.filter(agent=chain["agent"], cycle=2, status=EnrollmentStatus.NOT_STARTED).exists()
    html = client.get(reverse("learning:team")).text  # granted: the button and the failed row are gone
    assert f'action="{target}"' not in html and "Accorder une nouvelle inscription" not in html
    assert "status-not_started" in html
    export = b"".join(client.get(reverse("learning:team_export")).streaming_content).decode("utf-8-sig")
    assert "Échoué" not in export and "Non commencé" in export
    assert login(client, chain["other_manager"]).post(target).status_code == 404


def test_team_view_groups_rows_by_unit_and_exports_the_same_rows(client, chain, course, org):
    """One row group per unit, with the unit named once; the CSV has the same rows in the same order."""
    service_agent = AgentFactory(user__last_name="Aubert", org_unit=org["service"], manager=chain["manager"])
    enrol(service_agent, course["course"])
    enrol(chain["agent"], course["course"])
    login(client, chain["manager"])
    html = client.get(reverse("learning:team")).text
    assert html.count('scope="rowgroup"') == 2
    assert html.count(f"{org['bureau'].name} <span") == 1 and html.count(f"{org['service'].name} <span") == 1
    rows = list(csv.reader(io.StringIO(
        b"".join(client.get(reverse("learning:team_export")).streaming_content).decode("utf-8-sig")
    ), delimiter=";"))[1:]
    names_in_csv = [row[1] for row in rows]
    positions = sorted((html.index(f'<th scope="row">{name}</th>'), name) for name in names_in_csv)
    assert [name for _position, name in positions] == names_in_csv


# --- HR ----------------------------------------------------------------------------------------


def test_hr_view_completion_by_unit_with_chart_and_table(client, chain, course, org):
    enrol(chain["agent"], course["course"], status=EnrollmentStatus.COMPLETED, completed_at=timezone.now())
    enrol(chain["other_agent"], course["course"])
    response = login(client, chain["hr"]).get(reverse("learning:hr"))
    assert response.status_code == 200
    html = response.text
    assert "<svg" in html and "<script" not in html
    assert "Direction des ressources humaines" in html
    assert "<caption" in html and '<th scope="row">' in html
    assert "50\u00a0%" in html  # 1 of 2 enrolments under DRH completed
    assert "?unit=DRH" in html  # drill-down link


def test_hr_view_drill_down_and_breadcrumb(client, chain, course, org):
    enrol(chain["agent"], course["course"])
    response = login(client, chain["hr"]).get(reverse("learning:hr"), {"unit": "DRH"})
    html = response.text
    assert "Service de la formation" in html
    assert "Toutes les directions" in html
    response = client.get(reverse("learning:hr"), {"unit": "DRH-SF", "course": course["course"].pk})
    html = response.text
    assert "Bureau des parcours" in html
    assert "?unit=DRH&amp;course=" in html  # the breadcrumb goes back up, filter kept
    assert client.get(reverse("learning:hr"), {"unit": "NOPE"}).status_code == 404
    assert client.get(reverse("learning:hr"), {"course": "999999"}).status_code == 404


def test_hr_view_runs_one_aggregate_query_whatever_the_number_of_units(client, chain, course, org):
    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("learning:hr")).status_code == 200
        enrollment_queries = [q for q in ctx.captured_queries if 'FROM "learning_enrollment"' in q["sql"]]
        return len(ctx.captured_queries), len(enrollment_queries)

    login(client, chain["hr"])
    enrol(chain["agent"], course["course"])
    count()  # warm the per-process caches
    small = count()
    for i in range(4):
        unit = OrgUnitFactory(code=f"DIR{i}", name=f"Direction {i}")
        for _ in range(3):
            enrol(AgentFactory(org_unit=unit), course["course"])
    assert count() == small
    assert small[1] == 1


def test_hr_chart_svg_contains_the_unit_names(client, chain, course, org):
    enrol(chain["agent"], course["course"])
    response = login(client, chain["hr"]).get(reverse("learning:hr_chart"), {"unit": "DRH"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("image/svg+xml")
    svg = response.content.decode()
    assert svg.startswith("<?xml")
    assert "Service de la formation" in svg and "<title" in svg and "<script" not in svg


def test_completion_chart_is_accessible():
    class Unit:
        def __init__(self, name):
            self.name = name

    svg = completion_rate_chart(
        [{"unit": Unit("Direction A & B"), "rate": 0.5, "percent": 50}, {"unit": Unit("Direction C"), "rate": None,
                                                                         "percent": None}],
        title="Taux",
    )
    assert svg.startswith("<svg") and 'role="img"' in svg and "aria-labelledby=" in svg
    assert "<title" in svg and "<desc" in svg and "<script" not in svg
    assert "Direction A &amp; B : 50\u00a0%" in svg and "Direction C : aucune inscription" in svg


# --- certificates ------------------------------------------------------------------------------


@pytest.fixture
def certificate(chain, course, monkeypatch):
    """The agent's completed enrolment with a code; the PDF rendering is replaced by a stub."""
    enrollment = enrol(
        chain["agent"],
        course["course"],
        status=EnrollmentStatus.COMPLETED,
        progress=1.0,
        completed_at=timezone.now(),
        expires_at=timezone.now() + timedelta(days=365),
        certificate_code="C0FFEE123456",
    )

    def fake_ensure_certificate_file(enrollment_id):
        found = Enrollment.objects.select_related("agent__user", "course").get(pk=enrollment_id)
        if not found.certificate_file:
            found.certificate_file.save(f"{found.certificate_code}.pdf", ContentFile(b"%PDF-1.4 test"), save=True)
        return found

    monkeypatch.setattr("learning.certificates.ensure_certificate_file", fake_ensure_certificate_file, raising=False)
    return enrollment


def test_certificate_download_is_an_attachment(client, chain, certificate):
    response = login(client, chain["agent"]).get(reverse("learning:certificate_download", args=[certificate.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert "C0FFEE123456" in response["Content-Disposition"]
    assert b"".join(response.streaming_content) == b"%PDF-1.4 test"
    assert "no-store" in response["Cache-Control"]


def test_certificate_download_404_without_a_code(client, chain, course, monkeypatch):
    enrollment = enrol(chain["agent"], course["course"])
    monkeypatch.setattr(
        "learning.certificates.ensure_certificate_file", lambda pk: pytest.fail("must not render"), raising=False
    )
    response = login(client, chain["agent"]).get(reverse("learning:certificate_download", args=[enrollment.pk]))
    assert response.status_code == 404


def test_certificate_verify_shows_valid_and_nothing_more(client, chain, certificate):
    response = client.get(reverse("learning:certificate_verify", args=["c0ffee123456"]))
    assert response.status_code == 200
    html = response.text
    assert "Attestation valide" in html and "expirée" not in html
    assert chain["agent"].full_name in html and "Protection des données" in html
    for private in (chain["agent"].user.email, chain["agent"].employee_number, chain["agent"].org_unit.name):
        assert private not in html
    assert 'name="robots" content="noindex' in html


def test_certificate_verify_shows_expired(client, chain, certificate):
    Enrollment.objects.filter(pk=certificate.pk).update(
        status=EnrollmentStatus.EXPIRED, expires_at=timezone.now() - timedelta(days=1)
    )
    html = client.get(reverse("learning:certificate_verify", args=["C0FFEE123456"])).text
    assert "Attestation expirée" in html and "Attestation valide" not in html
    assert chain["agent"].employee_number not in html


def test_certificate_verify_unknown_code_is_a_clear_404(client, certificate):
    response = client.get(reverse("learning:certificate_verify", args=["NOPE00000000"]))
    assert response.status_code == 404
    assert "Aucune attestation ne correspond au code" in response.text


# --- permission matrix -------------------------------------------------------------------------

ROLES = ["anonymous", "agent", "manager", "reviewer", "other_manager", "other_agent", "hr"]
EXPECTED = {
    #                       anonymous agent manager reviewer other_manager other_agent hr
    "team": dict(zip(ROLES, [302, 403, 200, 200, 200, 403, 403], strict=True)),
    "team_export": dict(zip(ROLES, [302, 403, 200, 200, 200, 403, 403], strict=True)),
    "hr": dict(zip(ROLES, [302, 403, 403, 403, 403, 403, 200], strict=True)),
    "hr_chart": dict(zip(ROLES, [302, 403, 403, 403, 403, 403, 200], strict=True)),
    "certificate_download": dict(zip(ROLES, [302, 200, 200, 200, 404, 404, 200], strict=True)),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", list(EXPECTED))
def test_permission_matrix(client, chain, certificate, name, role):
    if role != "anonymous":
        login(client, chain[role])
    args = [certificate.pk] if name == "certificate_download" else []
    response = client.get(reverse(f"learning:{name}", args=args))
    assert response.status_code == EXPECTED[name][role]
    if response.status_code == 302:
        assert response["Location"].startswith(reverse("login"))


# --- issue 13, item 9: the catalogue and the way through a course --------------------------------


def test_catalogue_shows_a_failed_course_as_failed(client, chain, course):
    enrollment = enrol(chain["agent"], course["course"], status=EnrollmentStatus.FAILED)
    html = login(client, chain["agent"]).get(url(course["index"])).text
    assert "status-failed" in html and "Échoué" in html
    assert enrollment.status == EnrollmentStatus.FAILED


def test_clear_link_only_when_a_filter_is_set(client, two_courses):
    course, _other = two_courses
    assert "Effacer la recherche et les filtres" not in client.get(url(course["index"])).text
    assert "Effacer la recherche et les filtres" in client.get(url(course["index"]), {"theme": "Numérique"}).text


def test_the_breadcrumb_returns_to_the_catalogue_with_the_chosen_filters(client, chain, two_courses):
    course, _other = two_courses
    login(client, chain["agent"])
    client.get(url(course["index"]), {"theme": "Numérique", "q": "RGPD"})
    html = client.get(url(course["course"])).text
    assert f'<a href="{url(course["index"])}?q=RGPD&amp;theme=Num%C3%A9rique">' in html
    client.get(url(course["index"]))  # cleared: the way back is the bare catalogue
    assert f'<a href="{url(course["index"])}">' in client.get(url(course["course"])).text


def test_after_a_lesson_next_goes_to_the_next_step_not_yet_done(client, chain, course):
    lesson1, lesson2 = course["lessons"]
    login(client, chain["agent"])
    client.post(reverse("learning:complete_lesson", args=[lesson2.pk]))
    response = client.post(reverse("learning:complete_lesson", args=[lesson1.pk]))
    assert response.status_code == 302
    assert response["Location"] == url(course["quiz"])  # lesson 2 is done already: skip it


def test_the_passed_quiz_page_links_the_certificate(client, chain, course):
    lesson1, lesson2 = course["lessons"]
    user = chain["agent"].user
    services.complete_lesson(user=user, lesson=lesson1)
    services.complete_lesson(user=user, lesson=lesson2)
    _attempt, enrollment = services.submit_quiz(user=user, quiz=course["quiz"], answers=ALL_RIGHT)
    assert enrollment.status == EnrollmentStatus.COMPLETED
    html = login(client, chain["agent"]).get(url(course["quiz"])).text
    assert f'href="{reverse("learning:certificate_download", args=[enrollment.pk])}"' in html
    assert "Télécharger mon attestation" in html


def test_hr_table_chart_and_csv_round_the_same_way(client, chain, course, org):
    """34 completed of 82: 41.46 % shows as 41 % in the table, the chart and the CSV alike."""
    agents = [AgentFactory(org_unit=org["bureau"]) for _ in range(82)]
    for number, agent in enumerate(agents):
        if number < 34:
            enrol(agent, course["course"], status=EnrollmentStatus.COMPLETED, completed_at=timezone.now())
        else:
            enrol(agent, course["course"])
    login(client, chain["hr"])
    html = client.get(reverse("learning:hr")).text
    assert '<td class="num">41\u00a0%</td>' in html
    chart = client.get(reverse("learning:hr_chart")).text
    assert ": 41\u00a0%" in chart and "42\u00a0%" not in chart
    export = client.get(reverse("learning:hr_export"))
    assert export["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(export.streaming_content).decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == ["Code", "Unité", "Inscriptions", "Terminées", "Taux de complétion (%)", "En retard"]
    assert rows[1][:5] == ["DRH", "Direction des ressources humaines", "82", "34", "41"]
    assert 'href="/formation/rh/formations/export.csv"' in html


def test_hr_chart_value_axis_has_five_labels(client, chain, course):
    login(client, chain["hr"])
    chart = client.get(reverse("learning:hr_chart")).text
    for label in ("0\u00a0%", "25\u00a0%", "50\u00a0%", "75\u00a0%", "100\u00a0%"):
        assert f">{label}</text>" in chart
    assert ">10\u00a0%</text>" not in chart


def test_hr_export_is_refused_to_others(client, chain):
    assert login(client, chain["agent"]).get(reverse("learning:hr_export")).status_code == 403
    client.logout()
    assert client.get(reverse("learning:hr_export")).status_code == 302
