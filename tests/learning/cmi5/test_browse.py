"""cmi5 Browse launch mode (§10.2.2): offered on the step page when the step allows it (an
editor's option), launched through the API and the page's form; no passed, failed or
completed is accepted in a Browse session; refused with the field named otherwise."""

import json

import pytest

from learning.models import PackageAttempt
from tests.learning.cmi5.conftest import AU, completed, passed


def launch(client, step, **body):
    return client.post(f"/api/v1/me/packages/{step.pk}/launch/", data=json.dumps(body), content_type="application/json")


@pytest.fixture
def browsable(cmi5_step):
    cmi5_step.cmi5_browse = True
    cmi5_step.save_revision().publish()
    cmi5_step.refresh_from_db()
    return cmi5_step


def test_browse_session_records_no_result(agent_client, browsable):
    au = AU(agent_client, browsable, mode="browse").start()
    assert au.launch_data()["launchMode"] == "Browse"
    for statement in (
        au.statement("passed", result=passed(), moveon=True),
        au.statement("completed", result=completed(), moveon=True),
        au.statement("failed", result={"success": False, "duration": "PT1S", "score": {"scaled": 0.1}}, moveon=True),
    ):
        response = au.send(statement)
        assert response.status_code == 403 and b"Browse" in response.content
    assert au.send(au.statement("terminated", result={"duration": "PT5S"})).status_code == 200
    attempt = PackageAttempt.objects.get(registration=au.registration)
    assert attempt.status == "in_progress" and attempt.progress == 0
    # a Normal launch afterwards still records results
    normal = AU(agent_client, browsable).start()
    assert normal.launch_data()["launchMode"] == "Normal"
    assert normal.send(normal.statement("passed", result=passed(), moveon=True)).status_code == 200


def test_browse_refused_when_the_step_does_not_allow_it(agent_client, cmi5_step):
    response = launch(agent_client, cmi5_step, mode="browse")
    assert response.status_code == 400 and "mode" in response.json()["errors"]
    assert not PackageAttempt.objects.exists()


@pytest.mark.parametrize("mode", ["review", "", 3, ["browse"], "x" * 5000])
def test_unknown_mode_is_400_naming_the_field(agent_client, browsable, mode):
    response = launch(agent_client, browsable, mode=mode)
    assert response.status_code == 400 and "mode" in response.json()["errors"]
    assert not PackageAttempt.objects.exists()


def test_the_step_page_offers_browse_only_when_allowed(agent_client, cmi5_step):
    page = agent_client.get(cmi5_step.url).content.decode()
    assert 'name="mode" value="browse"' not in page
    cmi5_step.cmi5_browse = True
    cmi5_step.save_revision().publish()
    page = agent_client.get(cmi5_step.url).content.decode()
    assert 'name="mode" value="browse"' in page and "Parcourir sans évaluation" in page


def test_the_page_form_launches_in_browse_mode(agent_client, browsable):
    from django.urls import reverse

    au = browsable.package.launchables[0]["identifier"]
    response = agent_client.post(reverse("learning:package_launch", args=[browsable.pk]), {"au": au, "mode": "browse"})
    assert response.status_code == 302 and "fetch=" in response["Location"]
    from xapi.models import Cmi5Session

    assert Cmi5Session.objects.get().launch_mode == "Browse"
