"""Deactivation really locks out (issue 14, item 3): an agent made inactive by SCIM
(active=false, DELETE), the CSV import (active=0) or the admin can no longer sign in with a
password, an API token or an old session; LRS clients scoped to them are revoked; reactivated,
the same agent comes back with its history. (OpenID Connect refusal: tests/identity.)"""

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from cms import services
from cms.importer import import_agents
from cms.models import Agent
from provisioning import tokens
from tests.cms.test_admin import agent_edit_data
from tests.cms.test_import_agents import make_csv, row
from tests.factories import AgentFactory, api_token_for

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery staple"
User = get_user_model()


def _admin(agent, client):
    hr = AgentFactory(user__username="hr-admin", user__groups=["HR"]).user
    admin = APIClient()
    admin.force_login(hr)
    data = agent_edit_data(agent)
    data.pop("active", None)
    response = admin.post(reverse("annuaire_agents:edit", args=[agent.pk]), data)
    assert response.status_code == 302, response.content[:300]


def _admin_reactivate(agent):
    hr = User.objects.get(username="hr-admin")
    admin = APIClient()
    admin.force_login(hr)
    agent.refresh_from_db()
    response = admin.post(reverse("annuaire_agents:edit", args=[agent.pk]), agent_edit_data(agent, active="on"))
    assert response.status_code == 302


def _scim_client():
    return APIClient(HTTP_AUTHORIZATION=f"Bearer {tokens.create_token(name='IdP')[1]}")


def _scim_active(agent, active):
    response = _scim_client().patch(
        f"/scim/v2/Users/{agent.pk}",
        {"Operations": [{"op": "Replace", "path": "active", "value": "True" if active else "False"}]},
        format="json",
    )
    assert response.status_code == 200, response.content


def _scim_delete(agent, client):
    assert _scim_client().delete(f"/scim/v2/Users/{agent.pk}").status_code == 204


def _csv(agent, active):
    agent.refresh_from_db()
    data = make_csv([row(agent.employee_number, org_unit_code=agent.org_unit.code, active="1" if active else "0")])
    report = import_agents(file=data)
    assert report.ok, report.errors


def _service(agent, client):
    services.set_agent_active(agent=agent, active=False)


DEACTIVATIONS = {
    "scim_patch": lambda agent, client: _scim_active(agent, False),
    "scim_delete": _scim_delete,
    "csv": lambda agent, client: _csv(agent, False),
    "admin": _admin,
    "service": _service,
}
REACTIVATIONS = {
    "scim_patch": lambda agent: _scim_active(agent, True),
    "scim_delete": lambda agent: _scim_active(agent, True),
    "csv": lambda agent: _csv(agent, True),
    "admin": _admin_reactivate,
    "service": lambda agent: services.set_agent_active(agent=agent, active=True),
}


def password_login(client):
    """Sign in through the site's login page (django-axes needs the request)."""
    client.post("/compte/connexion/", {"username": "m42", "password": PASSWORD})
    return "_auth_user_id" in client.session


@pytest.fixture
def signed_in(client, org):
    """An agent with a password, a browser session, an API token and a scoped LRS client."""
    from xapi import services as lrs
    from xapi.identity import actor_for

    agent = AgentFactory(user__username="m42", employee_number="M42", org_unit=org["direction"])
    assert password_login(client)
    assert client.get("/mon-espace/").status_code == 200
    key = api_token_for(agent.user)
    lrs_client, _secret = lrs.create_client(name="cmi5 M42", scope_agent=actor_for(agent.user))
    return agent, key, lrs_client


@pytest.mark.parametrize("path", list(DEACTIVATIONS))
def test_deactivation_locks_out_and_reactivation_restores(client, signed_in, path):
    agent, key, lrs_client = signed_in
    history_before = agent.user.date_joined

    DEACTIVATIONS[path](agent, client)

    agent.refresh_from_db()
    agent.user.refresh_from_db()
    assert not agent.active and not agent.user.is_active
    # the old session cookie is refused
    response = client.get("/mon-espace/")
    assert response.status_code == 302 and "next=/mon-espace/" in response["Location"]
    # the API token is gone
    api = APIClient(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.get("/api/v1/me/").status_code == 401
    # the password is refused
    assert not password_login(client)
    # the LRS client scoped to the agent is revoked
    lrs_client.refresh_from_db()
    assert not lrs_client.is_active

    REACTIVATIONS[path](agent)

    same = Agent.objects.select_related("user").get(employee_number="M42")
    assert same.pk == agent.pk and same.user_id == agent.user_id and same.active and same.user.is_active
    assert same.user.date_joined == history_before
    assert password_login(client)
    assert client.get("/mon-espace/").status_code == 200


def test_an_agent_imported_inactive_has_a_disabled_account(org):
    import_agents(file=make_csv([row("N1", active="0"), row("N2")]))
    assert dict(User.objects.values_list("username", "is_active")) == {"n1": False, "n2": True}


def test_bulk_deactivation_by_csv_runs_a_constant_number_of_queries(org):
    def deactivate(numbers):
        data = make_csv([row(number, active="0") for number in numbers])
        with CaptureQueriesContext(connection) as context:
            assert import_agents(file=data).ok
        return len(context)

    def create(numbers):
        import_agents(file=make_csv([row(number) for number in numbers]))
        for user in User.objects.filter(username__in=[n.lower() for n in numbers]):
            api_token_for(user)

    small, large = [f"S{i}" for i in range(3)], [f"L{i}" for i in range(30)]
    create(small + large)
    assert deactivate(small) == deactivate(large)
    assert not User.objects.filter(username__in=[n.lower() for n in small + large], is_active=True).exists()
