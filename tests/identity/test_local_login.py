"""LOCAL_LOGIN: who may sign in with a Parcours password, on the site and in the Wagtail
admin, enforced by the authentication backend (not by the page); every attempt audited."""

import pytest
from django.contrib.auth import authenticate
from django.core.exceptions import ImproperlyConfigured
from django.test import Client, RequestFactory

from cms.settings.identity import settings_from
from identity.models import LocalAccount, SignInEvent
from tests.factories import AgentFactory, UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"


@pytest.fixture
def people():
    agent = AgentFactory(user__username="agent").user
    superuser = UserFactory(username="admin", is_superuser=True, is_staff=True)
    local = UserFactory(username="service")
    LocalAccount.objects.create(user=local, reason="Compte de secours")
    return {"agent": agent, "superuser": superuser, "local": local}


MATRIX = {
    "all": {"agent": True, "superuser": True, "local": True},
    "staff": {"agent": False, "superuser": True, "local": True},
    "none": {"agent": False, "superuser": False, "local": False},
}


@pytest.mark.parametrize("policy", MATRIX)
@pytest.mark.parametrize("who", ["agent", "superuser", "local"])
def test_site_login_matrix(settings, people, policy, who):
    settings.LOCAL_LOGIN = policy
    client = Client(REMOTE_ADDR="198.51.100.7")
    response = client.post("/compte/connexion/", {"username": people[who].username, "password": PASSWORD})
    allowed = MATRIX[policy][who]
    assert ("_auth_user_id" in client.session) is allowed
    event = SignInEvent.objects.get()
    assert (event.method, event.success, event.ip) == ("password", allowed, "198.51.100.7")
    if allowed:
        assert response.status_code == 302 and event.user == people[who]
    elif policy == "staff":
        # The right password was given: the page says why, and where to go instead.
        assert "n&#x27;est pas ouverte à ce compte" in response.content.decode()
        assert event.reason == "local_login_refused" and event.username == people[who].username


@pytest.mark.parametrize("policy", MATRIX)
@pytest.mark.parametrize("who", ["agent", "superuser", "local"])
def test_authentication_layer_matrix(settings, people, policy, who):
    """Any caller of ``authenticate`` (Django's login view, Wagtail's, a script) gets the
    same answer."""
    settings.LOCAL_LOGIN = policy
    request = RequestFactory().post("/", REMOTE_ADDR="198.51.100.8")
    user = authenticate(request, username=people[who].username, password=PASSWORD)
    assert (user == people[who]) is MATRIX[policy][who]


@pytest.mark.parametrize("policy", ["staff", "none"])
def test_wagtail_admin_login_obeys_the_policy(settings, people, policy):
    settings.LOCAL_LOGIN = policy
    client = Client()
    client.post("/admin/login/", {"username": "admin", "password": PASSWORD})
    assert ("_auth_user_id" in client.session) is (policy == "staff")
    hr = AgentFactory(user__username="rh", user__groups=["HR"]).user
    client = Client()
    client.post("/admin/login/", {"username": hr.username, "password": PASSWORD})
    assert "_auth_user_id" not in client.session


def test_a_wrong_password_never_tells_the_policy(settings, people):
    settings.LOCAL_LOGIN = "staff"
    response = Client().post("/compte/connexion/", {"username": "agent", "password": "wrong password here"})
    page = response.content.decode()
    assert "pas ouverte à ce compte" not in page
    assert SignInEvent.objects.get().reason == "bad_credentials"


def test_an_inactive_agent_cannot_use_a_password(people):
    people["agent"].agent.active = False
    people["agent"].agent.save(update_fields=["active"])
    client = Client()
    client.post("/compte/connexion/", {"username": "agent", "password": PASSWORD})
    assert "_auth_user_id" not in client.session
    assert SignInEvent.objects.get().reason == "inactive"


def test_with_none_the_page_offers_no_password_form(settings):
    settings.LOCAL_LOGIN = "none"
    page = Client().get("/compte/connexion/").content.decode()
    assert 'name="password"' not in page
    assert "La connexion n'est pas ouverte pour le moment" in page


def test_with_staff_the_password_form_is_labelled_for_administrators(settings, oidc):
    settings.LOCAL_LOGIN = "staff"
    page = Client().get("/compte/connexion/").content.decode()
    assert page.index("Se connecter avec mon compte de la Ville") < page.index("Comptes locaux (administrateurs)")
    assert 'name="password"' in page


def test_settings_read_from_the_environment():
    base = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
    assert settings_from({}, base) | {} == settings_from({"LOCAL_LOGIN": " "}, base)
    plain = settings_from({}, base)
    assert plain["LOCAL_LOGIN"] == "all" and plain["OIDC_ENABLED"] is False
    assert plain["AUTHENTICATION_BACKENDS"] == [
        "axes.backends.AxesStandaloneBackend",
        "identity.backends.LocalPasswordBackend",
    ]
    configured = settings_from(
        {
            "OIDC_RP_CLIENT_ID": "parcours",
            "OIDC_OP_DISCOVERY_URL": "https://idp.example/.well-known/openid-configuration",
        },
        base,
    )
    assert (
        configured["OIDC_ENABLED"] and configured["AUTHENTICATION_BACKENDS"][-1] == "identity.backends.CityOIDCBackend"
    )
    assert configured["OIDC_RP_SIGN_ALGO"] == "RS256" and configured["OIDC_EMPLOYEE_NUMBER_CLAIM"] == "employee_number"
    assert configured["OIDC_USE_PKCE"] and configured["OIDC_USE_NONCE"] and not configured["OIDC_CREATE_USER"]
    with pytest.raises(ImproperlyConfigured, match="LOCAL_LOGIN"):
        settings_from({"LOCAL_LOGIN": "some"}, base)
    with pytest.raises(ImproperlyConfigured, match="OIDC_OP_TOKEN_ENDPOINT"):
        settings_from(
            {"OIDC_RP_CLIENT_ID": "parcours", "OIDC_OP_AUTHORIZATION_ENDPOINT": "https://idp.example/auth"}, base
        )
    with pytest.raises(ImproperlyConfigured, match="OIDC_MATCH_VERIFIED_EMAIL"):
        settings_from({"OIDC_MATCH_VERIFIED_EMAIL": "maybe"}, base)
