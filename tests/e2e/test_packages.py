"""SCORM packages in the browser, one journey per standard, each reached from the home
page (« Formations », the catalogue card, the course, its programme) and axe checked on
every page, the player included.

* SCORM 1.2: the agent starts the module (``cmi.core.entry`` = ``ab-initio``), leaves a
  screen that saved a 70 KB ``suspend_data``, closes the tab, reopens it from the course
  (« Reprendre ») at that screen with ``cmi.core.entry`` = ``resume`` and the data
  intact; an uncommitted change reaches the server by beacon when the tab closes again;
  the third opening finishes the module: passed, score 90, certificate.
* SCORM 2004 (three SCOs, 70 KB ``suspend_data``): the first SCO ends and asks for the
  next (flow navigation); the tab is closed in the middle of the second; reopened from the
  course, the player resumes that SCO with ``cmi.entry`` = ``resume``, its ``cmi.location``
  and its ``suspend_data``; the agent finishes the second and third SCOs and gets the
  certificate.

The samples (learning/packages/sample.py) call the API as an authoring tool's output does;
the player (learning/static/learning/player.js) runs the vendored scorm-again with the
suspend_data limit lifted (learning/static/learning/vendor/scorm-again/README.md)."""

import re
import time

import pytest
from playwright.sync_api import expect

from learning.models import Enrollment, PackageAttempt
from learning.packages import sample
from tests.e2e.conftest import header_link
from tests.learning.conftest import build_course
from tests.learning.packages.conftest import (
    SCORM12_LAUNCHABLES,
    SCORM12_ORGANIZATION,
    add_package_step,
    scorm2004_launchables,
    scorm2004_organization,
    store_package,
)

SUSPEND_LENGTH = 70 * 1024


def _course_with(package, *, slug, title):
    built = build_course(slug=slug, title=title)
    course = built["course"]
    for step in [*built["lessons"], built["quiz"]]:
        step.delete()
    course.refresh_from_db()
    return add_package_step(course, package, title=f"Module {title}", slug=f"module-{slug}")


@pytest.fixture
def scorm12_step(demo):
    package = store_package(
        sample.scorm12_files(suspend_kb=70), standard="scorm12", launchables=SCORM12_LAUNCHABLES,
        organization=SCORM12_ORGANIZATION, title="Prévention des risques (SCORM 1.2)",
    )
    return _course_with(package, slug="prevention", title="Prévention")


@pytest.fixture
def scorm2004_step(demo):
    package = store_package(
        sample.scorm2004_files(suspend_kb=70), standard="scorm2004", launchables=scorm2004_launchables(),
        organization=scorm2004_organization(), title="Premiers secours (SCORM 2004)",
    )
    return _course_with(package, slug="secours", title="Premiers secours")


def _sco(page):
    return page.frame_locator("#package-frame")


def _status(page):
    return page.locator("#package-status")


def _wait_for(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    return predicate()


def _open_step(page, step, axe_check, *, again=False):
    """From the home page, as the agent would: « Formations » in the header, the course's
    card in the catalogue, the course page, then the module in its « Programme »; axe is
    run on each page reached (``again``: only on the step page, the others already were)."""
    page.goto("/")
    header_link(page, "Formations").click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    if not again:
        axe_check(page)
    course = step.get_parent()
    page.locator(".course-card-title").get_by_role("link", name=course.title, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(course.title)
    if not again:
        axe_check(page)
    page.locator(".outline").get_by_role("link", name=step.title, exact=True).click()
    expect(page).to_have_url(re.compile(re.escape(step.url) + "$"))
    axe_check(page)


def _start(page, step, axe_check, button="Commencer"):
    _open_step(page, step, axe_check, again=button != "Commencer")
    page.get_by_role("button", name=re.compile(f"^{button}")).click()
    expect(page).to_have_url(re.compile(r"/formation/paquets/tentatives/\d+/"))


def _certificate_on_the_step_page(page, step, axe_check, demo):
    expect(page).to_have_url(re.compile(re.escape(step.url) + "$"))
    expect(page.get_by_role("link", name=re.compile("Télécharger mon attestation"))).to_be_visible()
    axe_check(page)
    enrollment = Enrollment.objects.get(agent=demo["agent"])
    assert enrollment.status == "completed" and enrollment.certificate_code
    assert page.get_by_role("button", name=re.compile("^Revoir le module")).is_visible()


def test_scorm12_closed_mid_way_resumes_with_its_70kb_suspend_data_then_completes(
    context, demo, login, axe_check, scorm12_step
):
    page = context.new_page()
    login(page, "agent")
    _start(page, scorm12_step, axe_check)
    sco = _sco(page)
    expect(sco.get_by_role("heading", level=2)).to_have_text("Écran 1 sur 3")
    assert page.evaluate("window.API.LMSGetValue('cmi.core.entry')") == "ab-initio"
    axe_check(page)  # the player page
    sco.get_by_role("button", name="Suivant").click()
    expect(sco.get_by_role("heading", level=2)).to_have_text("Écran 2 sur 3")
    expect(_status(page)).to_have_text("Enregistré")
    page.close(run_before_unload=True)

    attempt = PackageAttempt.objects.get(enrollment__agent=demo["agent"])
    stored = attempt.scos["ITEM-1"]["cmi"]
    assert stored["cmi.core.lesson_location"] == "2"
    assert len(stored["cmi.suspend_data"]) == SUSPEND_LENGTH
    assert stored["cmi.suspend_data"].startswith("screen=2;")

    page = context.new_page()
    _start(page, scorm12_step, axe_check, button="Reprendre")
    sco = _sco(page)
    note = sco.locator("#resume-note")
    expect(note).to_contain_text("Reprise à l'écran 2")
    expect(note).to_have_attribute("data-suspend-length", str(SUSPEND_LENGTH))
    expect(sco.get_by_role("heading", level=2)).to_have_text("Écran 2 sur 3")
    assert page.evaluate("window.API.LMSGetValue('cmi.core.entry')") == "resume"
    assert page.evaluate("window.API.LMSGetValue('cmi.suspend_data').length") == SUSPEND_LENGTH
    # the vendored runtime accepts more than scorm-again's 64,000 characters
    assert page.evaluate("window.API.LMSSetValue('cmi.suspend_data', 'x'.repeat(80000))") == "true"

    # A change the SCO never committed reaches the server when the tab is closed (beacon).
    assert page.evaluate("window.API.LMSSetValue('cmi.core.lesson_location', '3')") == "true"
    page.close(run_before_unload=True)

    def location_saved():
        attempt.refresh_from_db()
        cmi = attempt.scos["ITEM-1"]["cmi"]
        return cmi["cmi.core.lesson_location"] == "3" and len(cmi["cmi.suspend_data"]) == 80000

    assert _wait_for(location_saved), attempt.scos["ITEM-1"]["cmi"]["cmi.core.lesson_location"]

    # Third opening: at the saved screen, the agent finishes the module.
    page = context.new_page()
    _start(page, scorm12_step, axe_check, button="Reprendre")
    sco = _sco(page)
    expect(sco.get_by_role("heading", level=2)).to_have_text("Écran 3 sur 3")
    sco.get_by_role("button", name="Terminer le module").click()
    expect(sco.locator("#status")).to_have_text("Module terminé : score 90 %.")
    expect(_status(page)).to_have_text("Session terminée et enregistrée.")
    expect(page.locator("#package-attempt-status")).to_have_text("Réussie")

    attempt.refresh_from_db()
    assert attempt.status == "passed" and attempt.score == 90
    state = attempt.scos["ITEM-1"]
    assert state["terminated"] is True and state["total_seconds"] > 0
    assert len(state["cmi"]["cmi.suspend_data"]) == 80000
    assert state["cmi"]["cmi.interactions.0.id"] == "q1"

    page.get_by_role("link", name="Quitter le module").click()
    _certificate_on_the_step_page(page, scorm12_step, axe_check, demo)


def test_scorm2004_multi_sco_closed_mid_way_resumes_then_completes_with_the_certificate(
    context, demo, login, axe_check, scorm2004_step
):
    page = context.new_page()
    login(page, "agent")
    _start(page, scorm2004_step, axe_check)
    expect(page.locator("#package-frame")).to_have_attribute("title", re.compile("Contenu du module"))
    expect(page.locator('.player-toc [aria-current="page"]')).to_have_text("Introduction")
    sco = _sco(page)
    expect(sco.get_by_role("heading", level=2)).to_have_text("Écran 1 sur 2")
    axe_check(page)  # the player page
    sco.get_by_role("button", name="Suivant").click()
    expect(_status(page)).to_have_text("Enregistré")
    sco.get_by_role("button", name="Terminer le module").click()
    # the SCO asks for the next one (adl.nav.request = continue): the player follows
    expect(page).to_have_url(re.compile(r"sco=ITEM-2$"))
    expect(page.locator('.player-toc [aria-current="page"]')).to_have_text("Les gestes qui sauvent")
    sco = _sco(page)
    expect(sco.get_by_role("heading", level=1)).to_contain_text("Les gestes qui sauvent")
    assert page.evaluate("window.API_1484_11.GetValue('cmi.entry')") == "ab-initio"
    sco.get_by_role("button", name="Suivant").click()
    expect(sco.get_by_role("heading", level=2)).to_have_text("Écran 2 sur 2")
    expect(_status(page)).to_have_text("Enregistré")
    page.close(run_before_unload=True)  # mid-way through the second SCO

    attempt = PackageAttempt.objects.get(enrollment__agent=demo["agent"])
    stored = attempt.scos["ITEM-2"]["cmi"]
    assert stored["cmi.location"] == "2"
    assert len(stored["cmi.suspend_data"]) == SUSPEND_LENGTH
    assert stored["cmi.suspend_data"].startswith("screen=2;")
    assert attempt.status == "in_progress" and attempt.scos["ITEM-1"]["completion"] == "completed"

    # Reopened from the course: the player resumes the SCO left unfinished.
    page = context.new_page()
    _start(page, scorm2004_step, axe_check, button="Reprendre")
    expect(page.locator('.player-toc [aria-current="page"]')).to_have_text("Les gestes qui sauvent")
    sco = _sco(page)
    note = sco.locator("#resume-note")
    expect(note).to_contain_text("Reprise à l'écran 2")
    expect(note).to_have_attribute("data-suspend-length", str(SUSPEND_LENGTH))
    expect(sco.get_by_role("heading", level=2)).to_have_text("Écran 2 sur 2")
    assert page.evaluate("window.API_1484_11.GetValue('cmi.entry')") == "resume"
    assert page.evaluate("window.API_1484_11.GetValue('cmi.location')") == "2"
    assert page.evaluate("window.API_1484_11.GetValue('cmi.suspend_data').length") == SUSPEND_LENGTH

    sco.get_by_role("button", name="Terminer le module").click()
    expect(page).to_have_url(re.compile(r"sco=ITEM-3$"))
    sco = _sco(page)
    expect(sco.get_by_role("heading", level=1)).to_contain_text("Évaluation")
    sco.get_by_role("button", name="Suivant").click()
    expect(_status(page)).to_have_text("Enregistré")
    sco.get_by_role("button", name="Terminer le module").click()
    # the last SCO's « continue » ends the package: back on the step page
    _certificate_on_the_step_page(page, scorm2004_step, axe_check, demo)
    attempt.refresh_from_db()
    assert attempt.status == "passed" and attempt.score == 85
    assert all(attempt.scos[f"ITEM-{n}"]["terminated"] for n in (1, 2, 3))
