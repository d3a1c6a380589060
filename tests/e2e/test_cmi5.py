"""cmi5 in the browser: from the home page the agent opens the cmi5 step (« Formations »,
the course, its programme) and launches the project's AU (learning/packages/sample.py),
which reads its launch parameters, fetches its token, reads LMS.LaunchData and the learner
preferences, sends initialized, then passed, completed and terminated, and goes back to the
returnURL: the course is satisfied and the certificate link appears. axe on each page."""

import io
import re

import pytest
from playwright.sync_api import expect

from learning.models import Enrollment, PackageAttempt
from learning.packages import importer, sample
from tests.e2e.test_packages import _open_step
from tests.learning.conftest import build_course
from xapi.models import Statement


@pytest.fixture
def cmi5_step(demo, live_server, settings):
    settings.WAGTAILADMIN_BASE_URL = live_server.url  # the endpoint and fetch URLs the AU calls
    built = build_course(slug="accueil-cmi5", title="Accueil (cmi5)")
    course = built["course"]
    for step in [*built["lessons"], built["quiz"]]:
        step.delete()
    course.refresh_from_db()
    return importer.import_package(io.BytesIO(sample.cmi5_package()), course=course, title="Module cmi5").step


def test_agent_plays_the_cmi5_au_to_course_satisfaction_and_gets_the_certificate(
    page, demo, login, axe_check, cmi5_step
):
    login(page, "agent")
    _open_step(page, cmi5_step, axe_check)
    expect(page.get_by_role("heading", name="Unités du cours")).to_be_visible()
    page.get_by_role("button", name=re.compile("^Commencer")).click()
    expect(page).to_have_url(re.compile(r"/formation/paquets/[0-9a-f-]+/au1/index\.html\?.*fetch="))
    expect(page.locator("#status")).to_have_text(re.compile("Session ouverte"))
    expect(page.locator("#launch-mode")).to_have_text("Normal")
    expect(page.locator("#mastery-score")).to_have_text("0.8")
    axe_check(page)
    page.get_by_role("button", name="Terminer le module").click()
    expect(page.locator("#status")).to_have_text("Module terminé : score 90 %.")
    expect(page).to_have_url(re.compile(re.escape(cmi5_step.url) + "$"))
    expect(page.get_by_role("link", name=re.compile("Télécharger mon attestation"))).to_be_visible()
    axe_check(page)

    attempt = PackageAttempt.objects.get(enrollment__agent=demo["agent"])
    assert attempt.status == "passed" and attempt.registration
    verbs = set(Statement.objects.filter(registration=attempt.registration).values_list("verb_id", flat=True))
    assert {
        "http://adlnet.gov/expapi/verbs/launched",
        "http://adlnet.gov/expapi/verbs/initialized",
        "http://adlnet.gov/expapi/verbs/passed",
        "http://adlnet.gov/expapi/verbs/completed",
        "http://adlnet.gov/expapi/verbs/terminated",
        "https://w3id.org/xapi/adl/verbs/satisfied",
    } <= verbs
    enrollment = Enrollment.objects.get(agent=demo["agent"], course=cmi5_step.get_parent())
    assert enrollment.status == "completed" and enrollment.certificate_code
