"""The package step page (``learning/package_step_page.html``): the package, its table of
contents, the learner's attempts and the « Commencer / Reprendre / Nouvelle tentative »
button, or why launching is not possible."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from learning import services
from learning.choices import AttemptStatus
from learning.models import Enrollment, PackageAttempt
from tests.factories import AgentFactory, UserFactory
from tests.learning.packages.test_player_view import scripts_of

PASSED = {"cmi.core.lesson_status": "passed", "cmi.core.score.raw": "90", "cmi.core.lesson_location": "3"}
FAILED = {"cmi.core.lesson_status": "failed", "cmi.core.score.raw": "40", "cmi.core.lesson_location": "3"}


@pytest.fixture
def learner(db):
    return AgentFactory(user__username="learner").user


def finish(user, attempt, cmi, seq=1):
    return services.commit_package(
        user=user, attempt_id=attempt.pk, data={"sco": "ITEM-1", "seq": seq, "cmi": cmi, "terminate": True}
    )


def launch_form(html):
    match = re.search(r'<form method="post" action="([^"]+)">.*?<button type="submit" class="button"[^>]*>([^<]+)<',
                      html, re.S)
    return (match.group(1), match.group(2).strip()) if match else (None, None)


def test_anonymous_sees_the_package_and_a_login_link(client, scorm12_course):
    response = client.get(scorm12_course["step"].url)
    assert response.status_code == 200
    html = response.content.decode()
    assert "SCORM 1.2" in html and "Version du module" in html
    assert "Sommaire du module" in html and "Prévention des risques (SCORM 1.2)" in html
    assert "Se connecter pour suivre ce module" in html
    assert launch_form(html) == (None, None)


def test_a_new_learner_gets_commencer_and_a_read_only_toc(client, learner, scorm2004_course):
    client.force_login(learner)
    html = client.get(scorm2004_course["step"].url).content.decode()
    action, label = launch_form(html)
    assert action == reverse("learning:package_launch", args=[scorm2004_course["step"].pk])
    assert label == "Commencer"
    toc = html[html.index('<ol class="package-toc">'):html.index("</ol>", html.index('<ol class="package-toc">'))]
    assert "<a " not in toc  # read-only on the step page
    for title in ("Introduction", "Les gestes qui sauvent", "Évaluation"):
        assert title in toc
    assert toc.count("Non commencé") == 3
    assert "SCORM 2004 (2004 4th Edition)" in html
    assert "Mes tentatives" not in html


def test_an_open_attempt_gives_reprendre_and_the_attempts_table(client, learner, scorm12_course):
    attempt = services.launch_package(user=learner, step=scorm12_course["step"])
    services.commit_package(user=learner, attempt_id=attempt.pk, data={
        "sco": "ITEM-1", "seq": 1, "cmi": {"cmi.core.lesson_status": "incomplete", "cmi.core.lesson_location": "2"},
    })
    client.force_login(learner)
    html = client.get(scorm12_course["step"].url).content.decode()
    assert launch_form(html)[1] == "Reprendre"
    assert "Mes tentatives" in html
    row = re.search(r"<tbody>(.*?)</tbody>", html, re.S).group(1)
    assert '<th scope="row">1</th>' in row and "En cours" in row
    assert "aucun score" in row
    assert "(SCORM 1.2)</span>" in html and "En cours</span>" in html  # the SCO's state in the TOC


def test_a_passed_attempt_shows_its_score_the_certificate_and_review(client, learner, scorm12_course):
    attempt = services.launch_package(user=learner, step=scorm12_course["step"])
    finish(learner, attempt, PASSED)
    enrollment = Enrollment.objects.get(agent__user=learner)
    assert enrollment.status == "completed"
    client.force_login(learner)
    html = client.get(scorm12_course["step"].url).content.decode()
    assert launch_form(html)[1] == "Revoir le module"
    assert "sans que cela change votre résultat" in html
    assert "90\u00a0%" in html and "Réussie" in html
    assert reverse("learning:certificate_download", args=[enrollment.pk]) in html
    assert "Réussi</span>" in html  # TOC


def test_new_attempt_when_the_step_allows_it(client, learner, scorm12_course):
    step = scorm12_course["step"]
    step.new_attempt_after_failure = True
    step.attempt_limit = 2
    step.save_revision().publish()
    attempt = services.launch_package(user=learner, step=step)
    finish(learner, attempt, FAILED)
    client.force_login(learner)
    html = client.get(step.url).content.decode()
    assert launch_form(html)[1] == "Nouvelle tentative"
    response = client.post(reverse("learning:package_launch", args=[step.pk]))
    second = PackageAttempt.objects.get(enrollment__agent__user=learner, number=2)
    assert response["Location"] == reverse("learning:package_player", args=[second.pk])
    finish(learner, second, FAILED, seq=1)
    html = client.get(step.url).content.decode()
    assert "Cette inscription est close" in html  # the last try failed: the enrolment failed
    assert launch_form(html) == (None, None)


def test_no_more_attempt_after_a_failure_by_default(client, learner, scorm12_course):
    attempt = services.launch_package(user=learner, step=scorm12_course["step"])
    finish(learner, attempt, FAILED)
    client.force_login(learner)
    html = client.get(scorm12_course["step"].url).content.decode()
    assert "Cette inscription est close" in html
    assert launch_form(html) == (None, None)
    assert "Échouée" in html


def test_without_a_package_the_step_says_why(client, learner, scorm12_course):
    step = scorm12_course["step"]
    step.package = None
    step.save_revision().publish()
    client.force_login(learner)
    html = client.get(step.url).content.decode()
    assert "pas encore de contenu" in html
    assert launch_form(html) == (None, None)


def test_assigned_course_without_enrolment_and_account_without_agent(client, scorm12_course):
    course = scorm12_course["course"]
    course.self_enrollment = False
    course.save_revision().publish()
    client.force_login(AgentFactory(user__username="outsider").user)
    html = client.get(scorm12_course["step"].url).content.decode()
    assert "suivie sur assignation" in html and launch_form(html) == (None, None)
    client.force_login(UserFactory(username="noagent"))
    html = client.get(scorm12_course["step"].url).content.decode()
    assert "fiche agent" in html and launch_form(html) == (None, None)


def test_the_step_page_has_no_inline_script(client, learner, scorm12_course):
    client.force_login(learner)
    html = client.get(scorm12_course["step"].url).content.decode()
    assert all("src" in s["attrs"] or s["attrs"].get("type") == "application/json" for s in scripts_of(html))


def test_step_page_queries_do_not_grow_with_attempts(client, learner, scorm12_course):
    step = scorm12_course["step"]
    attempt = services.launch_package(user=learner, step=step)
    client.force_login(learner)
    client.get(step.url)

    def count():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(step.url).status_code == 200
        return len(captured)

    one = count()
    now = timezone.now()
    for number in range(2, 6):  # rows written directly: the page only reads them
        PackageAttempt.objects.create(
            enrollment=attempt.enrollment, step=step, package=attempt.package, number=number,
            status=AttemptStatus.RESET, started_at=now,
        )
    assert count() == one
