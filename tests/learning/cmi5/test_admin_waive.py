"""HR waives a cmi5 AU from the admin « Tentatives de modules »: the attempt's units page,
the reason form, the confirmation page (plain forms, no JavaScript), then the WaiveAU action;
everyone else is refused and nothing is recorded."""

import pytest
from django.urls import reverse
from wagtail.models import ModelLogEntry

from learning import services
from learning.models import Enrollment, PackageAttempt
from learning.packages import sample
from tests.factories import UserFactory
from tests.learning.cmi5.conftest import import_course
from xapi.models import Statement

INDEX = "formations_tentatives_modules:index"
UNITS = "formations_tentatives_modules:units"
WAIVE = "formations_tentatives_modules:waive"
WAIVED = "https://w3id.org/xapi/adl/verbs/waived"
REASON = "https://w3id.org/xapi/cmi5/result/extensions/reason"
TWO_AUS = (("Découvrir", "Completed", None), ("Évaluation", "CompletedAndPassed", 0.8))


@pytest.fixture
def step(chain):
    return import_course(sample.cmi5_package(aus=TWO_AUS))


@pytest.fixture
def attempt(chain, step):
    return services.launch_package(user=chain["agent"].user, step=step)


def waived_count():
    return Statement.objects.filter(verb_id=WAIVED).count()


def users(chain):
    return {
        "agent": chain["agent"].user,
        "manager": chain["manager"].user,
        "editor": UserFactory(username="editor", groups=["Training editors"]),
        "superuser": UserFactory(username="root", is_superuser=True),
        "hr": chain["hr"].user,
    }


@pytest.mark.parametrize("role", ["agent", "manager", "editor"])
def test_others_may_neither_see_nor_waive(client, chain, attempt, role):
    client.force_login(users(chain)[role])
    for url in (reverse(UNITS, args=[attempt.pk]), reverse(WAIVE, args=[attempt.pk, 0])):
        response = client.get(url)
        # editors reach the admin and get 403; agents and managers have no admin access at all
        assert response.status_code == 403 if role == "editor" else response.status_code in (302, 403), url
    response = client.post(reverse(WAIVE, args=[attempt.pk, 0]), {"reason": "Équivalence", "confirm": "1"})
    assert response.status_code in (302, 403)
    assert waived_count() == 0 and not ModelLogEntry.objects.filter(action="learning.cmi5_au_waived").exists()


@pytest.mark.parametrize("role", ["hr", "superuser"])
def test_the_list_links_a_cmi5_attempt_to_its_units(client, chain, attempt, role):
    client.force_login(users(chain)[role])
    html = client.get(reverse(INDEX)).content.decode()
    assert reverse(UNITS, args=[attempt.pk]) in html
    page = client.get(reverse(UNITS, args=[attempt.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Découvrir" in html and "Évaluation" in html and "CompletedAndPassed" in html
    assert reverse(WAIVE, args=[attempt.pk, 0]) in html and reverse(WAIVE, args=[attempt.pk, 1]) in html


def test_reason_then_confirmation_then_waiver(client, chain, attempt):
    client.force_login(chain["hr"].user)
    url = reverse(WAIVE, args=[attempt.pk, 1])
    form = client.get(url)
    assert form.status_code == 200
    html = form.content.decode()
    assert 'name="reason"' in html and "Motif de la dispense" in html and 'name="confirm"' not in html

    # the reason is required: the form again, with the error, nothing recorded
    empty = client.post(url, {"reason": "   "})
    html = empty.content.decode()
    assert empty.status_code == 200 and 'aria-invalid="true"' in html and "error-message" in html
    assert 'name="confirm"' not in html
    too_long = client.post(url, {"reason": "x" * 501})
    assert too_long.status_code == 200 and 'name="confirm"' not in too_long.content.decode()
    # a valid reason shows the confirmation page, still nothing recorded
    confirm = client.post(url, {"reason": "Formation équivalente suivie en 2025"})
    html = confirm.content.decode()
    assert confirm.status_code == 200 and 'name="confirm"' in html and "Formation équivalente suivie en 2025" in html
    assert 'type="hidden" name="reason"' in html
    assert waived_count() == 0

    done = client.post(url, {"reason": "Formation équivalente suivie en 2025", "confirm": "1"}, follow=True)
    assert done.redirect_chain[-1][0] == reverse(UNITS, args=[attempt.pk])
    assert "dispensé" in done.content.decode()
    statement = Statement.objects.get(verb_id=WAIVED)
    assert statement.registration == attempt.registration
    assert statement.data["result"]["extensions"][REASON] == "Formation équivalente suivie en 2025"
    attempt.refresh_from_db()
    evaluation = attempt.package.launchables[1]["identifier"]
    assert attempt.scos[evaluation]["waived"] and attempt.progress == 0.5
    entry = ModelLogEntry.objects.get(action="learning.cmi5_au_waived")
    assert entry.user == chain["hr"].user and entry.data["reason"] == "Formation équivalente suivie en 2025"
    # the units page no longer offers to waive that AU; a second POST is refused, not recorded twice
    assert reverse(WAIVE, args=[attempt.pk, 1]) not in client.get(reverse(UNITS, args=[attempt.pk])).content.decode()
    again = client.post(url, {"reason": "Encore", "confirm": "1"}, follow=True)
    assert "déjà dispensé" in again.content.decode() and waived_count() == 1


def test_waiving_every_au_completes_the_enrolment(client, chain, attempt):
    client.force_login(chain["hr"].user)
    for index in (0, 1):
        client.post(reverse(WAIVE, args=[attempt.pk, index]), {"reason": "Acquis validés", "confirm": "1"})
    attempt.refresh_from_db()
    assert attempt.status == "completed" and attempt.progress == 1
    enrollment = Enrollment.objects.get(pk=attempt.enrollment_id)
    assert enrollment.status == "completed" and enrollment.certificate_code


def test_unknown_au_or_scorm_attempt_is_404(client, chain, attempt):
    client.force_login(chain["hr"].user)
    assert client.get(reverse(WAIVE, args=[attempt.pk, 9])).status_code == 404
    assert client.post(reverse(WAIVE, args=[attempt.pk, 9]), {"reason": "x", "confirm": "1"}).status_code == 404
    scorm_step = import_course(sample.scorm12_package(), slug="prevention", title="Prévention")
    scorm = services.launch_package(user=chain["agent"].user, step=scorm_step)
    assert PackageAttempt.objects.get(pk=scorm.pk).registration is None
    assert client.get(reverse(UNITS, args=[scorm.pk])).status_code == 404
    assert client.get(reverse(WAIVE, args=[scorm.pk, 0])).status_code == 404
    assert waived_count() == 0
