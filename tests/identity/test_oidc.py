"""OpenID Connect sign-in, end to end against a real provider (oidc-provider-mock in a thread):
every outcome is the page a person sees and the row HR reads."""

from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import pytest
import requests
from django.test import Client

from identity.backends import CityOIDCBackend
from identity.models import SignInEvent, UserSession
from tests.factories import AgentFactory, UserFactory
from tests.identity.conftest import CLIENT_ID, Flow, configure, set_provider_user

pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("ignore::DeprecationWarning:authlib.*")]


def signed_in_user_id(client):
    return client.session.get("_auth_user_id")


def last_event():
    return SignInEvent.objects.order_by("-pk").first()


@pytest.fixture
def agent(oidc):
    agent = AgentFactory(employee_number="M123456", user__username="a.martin")
    set_provider_user(oidc, "sub-martin", employee_number="M123456", email="a.martin@ville.example")
    return agent


def test_an_agent_signs_in_with_the_city_account_and_the_sign_in_is_audited(agent):
    client = Client(REMOTE_ADDR="203.0.113.9")
    flow = Flow(client)
    authorize = urlsplit(flow.start(next_url="/formation/"))
    params = parse_qs(authorize.query)
    # authorization code flow with state, nonce and PKCE (S256)
    assert params["response_type"] == ["code"] and params["client_id"] == [CLIENT_ID]
    assert params["code_challenge_method"] == ["S256"] and params["code_challenge"][0]
    assert len(params["state"][0]) >= 32 and len(params["nonce"][0]) >= 32
    assert params["redirect_uri"] == ["http://testserver/oidc/callback/"]

    response = flow.callback(flow.authorize("sub-martin"))

    assert response.status_code == 302 and response["Location"] == "/formation/"
    assert signed_in_user_id(client) == str(agent.user.pk)
    assert client.session["oidc_id_token"]
    assert UserSession.objects.filter(user=agent.user).count() == 1
    event = last_event()
    assert (event.method, event.success, event.user, event.username, event.ip) == (
        "oidc",
        True,
        agent.user,
        "M123456",
        "203.0.113.9",
    )
    assert SignInEvent.objects.count() == 1  # not also recorded as a password sign-in


def test_an_unknown_person_is_not_created_and_is_told_whom_to_contact(oidc, settings):
    settings.IDENTITY_SUPPORT_CONTACT = "la mission identité (identite@ville.example)"
    set_provider_user(oidc, "sub-stranger", employee_number="M999999", email="x@ville.example")
    users_before = UserFactory._meta.model.objects.count()
    client = Client()

    response = Flow(client).sign_in("sub-stranger")

    assert response.status_code == 403
    page = response.content.decode()
    assert "aucun agent de Parcours ne lui correspond" in page
    assert "la mission identité (identite@ville.example)" in page
    assert signed_in_user_id(client) is None
    assert UserFactory._meta.model.objects.count() == users_before
    event = last_event()
    assert (event.success, event.reason, event.username, event.user) == (False, "unknown_agent", "M999999", None)


def test_the_default_contact_is_human_resources(oidc):
    set_provider_user(oidc, "sub-nobody", employee_number="M000000")
    response = Flow(Client()).sign_in("sub-nobody")
    assert "le service des ressources humaines" in response.content.decode()


@pytest.mark.parametrize("deactivate", ["agent", "account"])
def test_a_deactivated_agent_is_refused(agent, deactivate):
    if deactivate == "agent":
        agent.active = False
        agent.save(update_fields=["active"])
    else:
        agent.user.is_active = False
        agent.user.save(update_fields=["is_active"])
    client = Client()

    response = Flow(client).sign_in("sub-martin")

    assert response.status_code == 403
    assert "Votre compte Parcours est désactivé" in response.content.decode()
    assert signed_in_user_id(client) is None
    assert (last_event().reason, last_event().success) == ("inactive", False)


def test_a_session_ends_when_its_agent_is_deactivated(agent):
    client = Client()
    Flow(client).sign_in("sub-martin")
    assert client.get("/mon-espace/").status_code == 200
    agent.active = False
    agent.save(update_fields=["active"])
    response = client.get("/mon-espace/")
    assert response.status_code == 302 and "next=/mon-espace/" in response["Location"]


def test_a_tampered_state_is_refused_with_400(agent):
    client = Client()
    flow = Flow(client)
    flow.start()
    callback = urlsplit(flow.authorize("sub-martin"))
    query = parse_qs(callback.query)
    query["state"] = [query["state"][0][:-1] + ("A" if query["state"][0][-1] != "A" else "B")]

    response = flow.callback(urlunsplit(callback._replace(query=urlencode(query, doseq=True))))

    assert response.status_code == 400
    assert "a été modifiée" in response.content.decode()
    assert signed_in_user_id(client) is None
    assert last_event().reason == "bad_state"


def test_a_callback_without_a_pending_sign_in_is_refused(agent):
    flow = Flow(Client())
    flow.start()
    callback = flow.authorize("sub-martin")
    other_browser = Flow(Client())  # the code reaches a browser that did not start the flow
    assert other_browser.callback(callback).status_code == 400
    assert last_event().reason == "bad_state"


def test_a_replayed_code_is_refused(agent):
    client = Client()
    flow = Flow(client)
    callback = flow.authorize("sub-martin", authorize_url=flow.start())
    assert flow.callback(callback).status_code == 302

    # The same callback again (its state has been used): refused before reaching the provider.
    assert flow.callback(callback).status_code == 400
    assert last_event().reason == "bad_state"

    # The used code, replayed from another browser with a sign-in of its own pending: the
    # provider refuses to exchange it twice.
    attacker = Flow(Client())
    state = parse_qs(urlsplit(attacker.start()).query)["state"][0]
    code = parse_qs(urlsplit(callback).query)["code"][0]
    response = attacker.client.get("/oidc/callback/", {"code": code, "state": state})
    assert response.status_code == 403
    assert signed_in_user_id(attacker.client) is None
    assert last_event().reason == "token_error"


def test_an_id_token_issued_for_another_application_is_refused(agent, monkeypatch):
    """The provider issues a genuine, signed ID token whose audience is another client
    (a token substitution): Parcours checks the audience, which the library does not."""
    original = CityOIDCBackend.get_token

    def exchange_as_the_other_client(self, payload):
        return original(self, {**payload, "client_id": "another-app"})

    monkeypatch.setattr(CityOIDCBackend, "get_token", exchange_as_the_other_client)
    client = Client()
    flow = Flow(client)
    authorize = urlsplit(flow.start())
    query = parse_qs(authorize.query)
    query["client_id"] = ["another-app"]

    response = flow.callback(
        flow.authorize("sub-martin", authorize_url=urlunsplit(authorize._replace(query=urlencode(query, doseq=True))))
    )

    assert response.status_code == 403
    assert "pas pu être vérifiée" in response.content.decode()
    assert signed_in_user_id(client) is None
    assert last_event().reason == "wrong_audience"


def test_an_expired_id_token_is_refused(settings, expiring_provider_url):
    configure(settings, expiring_provider_url)
    AgentFactory(employee_number="M123456")
    set_provider_user(expiring_provider_url, "sub-martin", employee_number="M123456")
    client = Client()

    response = Flow(client).sign_in("sub-martin")

    assert response.status_code == 403
    assert signed_in_user_id(client) is None
    assert last_event().reason == "token_expired"


def test_a_refusal_at_the_provider_is_explained(agent):
    client = Client()
    flow = Flow(client)
    flow.start()
    response = flow.callback(flow.authorize("", deny=True))
    assert response.status_code == 403
    assert "a refusé ou interrompu la connexion" in response.content.decode()
    assert last_event().reason == "provider_error"


def test_an_unreachable_provider_is_explained(settings):
    configure(settings, "http://127.0.0.1:9")  # nothing listens on the discard port
    response = Client().get("/oidc/authenticate/")
    assert response.status_code == 403
    assert "ne répond pas" in response.content.decode()
    assert last_event().reason == "provider_unreachable"


def test_a_missing_employee_number_falls_back_to_a_verified_email_only_when_configured(settings, oidc):
    agent = AgentFactory(employee_number="M222222", user__email="c.durand@ville.example")
    set_provider_user(oidc, "sub-durand", email="C.Durand@ville.example", email_verified=True)
    set_provider_user(oidc, "sub-unverified", email="c.durand@ville.example", email_verified=False)

    assert Flow(Client()).sign_in("sub-durand").status_code == 403
    assert last_event().reason == "missing_claim"

    configure(settings, oidc, OIDC_MATCH_VERIFIED_EMAIL="true")
    client = Client()
    assert Flow(client).sign_in("sub-durand").status_code == 302
    assert signed_in_user_id(client) == str(agent.user.pk)

    assert Flow(Client()).sign_in("sub-unverified").status_code == 403
    assert last_event().reason == "missing_claim"

    # ProConnect sends no email_verified: its federation vouches for the addresses.
    set_provider_user(oidc, "sub-proconnect", email="c.durand@ville.example", uid="cdurand")
    assert Flow(Client()).sign_in("sub-proconnect").status_code == 403
    configure(settings, oidc, OIDC_MATCH_VERIFIED_EMAIL="true", OIDC_EMAILS_VERIFIED_BY_PROVIDER="true")
    client = Client()
    assert Flow(client).sign_in("sub-proconnect").status_code == 302
    assert signed_in_user_id(client) == str(agent.user.pk)
    assert Flow(Client()).sign_in("sub-unverified").status_code == 403  # an explicit false still refuses


def test_the_employee_number_claim_is_configurable(settings, oidc):
    configure(settings, oidc, OIDC_EMPLOYEE_NUMBER_CLAIM="employeeid")
    agent = AgentFactory(employee_number="M333333")
    set_provider_user(oidc, "sub-entra", employeeid="M333333", employee_number="M000001")
    client = Client()
    assert Flow(client).sign_in("sub-entra").status_code == 302
    assert signed_in_user_id(client) == str(agent.user.pk)


def test_logging_out_ends_the_session_at_the_provider_too(agent):
    client = Client()
    Flow(client).sign_in("sub-martin")
    id_token = client.session["oidc_id_token"]

    response = client.post("/compte/logout/")

    assert signed_in_user_id(client) is None
    location = urlsplit(response["Location"])
    params = parse_qs(location.query)
    assert f"{location.scheme}://{location.netloc}{location.path}".endswith("/oauth2/end_session")
    assert params["id_token_hint"] == [id_token]
    assert params["post_logout_redirect_uri"] == ["http://testserver/"]
    assert len(params["state"][0]) >= 32
    # The provider ends its session and sends the browser back to Parcours.
    page = requests.get(response["Location"], timeout=5)
    assert page.status_code == 200
    back = requests.post(
        f"{location.scheme}://{location.netloc}/oauth2/end_session/confirm",
        data={"redirect_uri": "http://testserver/"},
        allow_redirects=False,
        timeout=5,
    )
    assert back.headers["Location"] == "http://testserver/"


def test_logging_out_of_a_password_session_stays_local(oidc, user):
    client = Client()
    client.force_login(user)
    response = client.post("/compte/logout/")
    assert response.status_code == 302 and response["Location"] == "/"


def test_without_configuration_there_is_no_button_and_no_endpoint(client):
    page = client.get("/compte/connexion/").content.decode()
    assert "Se connecter avec mon compte de la Ville" not in page
    assert 'name="password"' in page
    assert client.get("/oidc/authenticate/").status_code == 404
    assert client.get("/oidc/callback/?code=x&state=y").status_code == 404


def test_with_configuration_the_city_button_comes_first(oidc, client):
    page = client.get("/compte/connexion/?next=/formation/").content.decode()
    button = page.index("Se connecter avec mon compte de la Ville")
    assert button < page.index('name="password"')
    assert 'href="/oidc/authenticate/?next=/formation/"' in page


def test_the_wagtail_admin_login_offers_the_city_button_first(oidc, client):
    page = client.get("/admin/login/?next=/admin/").content.decode()
    assert page.index("Se connecter avec mon compte de la Ville") < page.index('name="password"')
    assert 'href="/oidc/authenticate/?next=/admin/"' in page


def test_the_wagtail_admin_login_is_unchanged_without_configuration(client):
    page = client.get("/admin/login/").content.decode()
    assert "Se connecter avec mon compte de la Ville" not in page and 'name="password"' in page


def test_failed_city_sign_ins_do_not_lock_out_a_shared_address(agent, oidc):
    """Agents share the city's outgoing addresses: refusals (here, unknown people) are not
    counted by the password throttling, so the next agent still gets in."""
    set_provider_user(oidc, "sub-unknown", employee_number="M000404")
    for _ in range(6):
        assert Flow(Client(REMOTE_ADDR="192.0.2.50")).sign_in("sub-unknown").status_code == 403
    client = Client(REMOTE_ADDR="192.0.2.50")
    assert Flow(client).sign_in("sub-martin").status_code == 302
    assert signed_in_user_id(client) == str(agent.user.pk)
