"""A real OpenID provider (oidc-provider-mock, a Flask app on authlib) started in a thread,
and helpers that play the browser between Parcours (Django's test client) and the provider
(HTTP with ``requests``)."""

import os
import warnings
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from cms.settings.identity import settings_from

CLIENT_ID = "parcours"
CLIENT_SECRET = "secret-de-test"


def run_server_in_thread():
    """oidc-provider-mock's server starter, imported without the deprecation warnings of the
    authlib modules it uses."""
    with warnings.catch_warnings():
        import authlib.deprecate  # noqa: F401  (installs its own "always" filter first)

        warnings.simplefilter("ignore", DeprecationWarning)
        from oidc_provider_mock import run_server_in_thread

    return run_server_in_thread


@pytest.fixture(scope="session")
def _insecure_transport():
    # The provider listens on http://localhost; authlib refuses plain HTTP otherwise.
    previous = os.environ.get("AUTHLIB_INSECURE_TRANSPORT")
    os.environ["AUTHLIB_INSECURE_TRANSPORT"] = "1"
    yield
    if previous is None:
        os.environ.pop("AUTHLIB_INSECURE_TRANSPORT", None)


@pytest.fixture(scope="session")
def provider_url(_insecure_transport):
    with run_server_in_thread()() as server:
        yield f"http://localhost:{server.server_port}"


@pytest.fixture(scope="session")
def expiring_provider_url(_insecure_transport):
    """A provider whose ID tokens expired ten minutes before they were issued (beyond the
    clock skew allowed)."""
    with run_server_in_thread()(access_token_max_age=timedelta(minutes=-10)) as server:
        yield f"http://localhost:{server.server_port}"


def configure(settings, base_url, **environ):
    """Point Parcours at the provider as the environment would (``cms.settings.identity``)."""
    env = {
        "OIDC_RP_CLIENT_ID": CLIENT_ID,
        "OIDC_RP_CLIENT_SECRET": CLIENT_SECRET,
        "OIDC_OP_DISCOVERY_URL": f"{base_url}/.well-known/openid-configuration",
        **environ,
    }
    env = {key: value for key, value in env.items() if value is not None}
    backends = [b for b in settings.AUTHENTICATION_BACKENDS]
    for key, value in settings_from(env, backends).items():
        setattr(settings, key, value)


@pytest.fixture
def oidc(settings, provider_url):
    configure(settings, provider_url)
    return provider_url


def set_provider_user(base_url, sub, **claims):
    response = requests.put(f"{base_url}/users/{sub}", json=claims, timeout=5)
    assert response.status_code == 204, response.text


class Flow:
    """One sign-in: Parcours → provider → Parcours."""

    def __init__(self, client):
        self.client = client

    def start(self, next_url=""):
        response = self.client.get("/oidc/authenticate/" + (f"?next={next_url}" if next_url else ""))
        assert response.status_code == 302, response.content
        self.authorize_url = response["Location"]
        return self.authorize_url

    def authorize(self, sub, *, authorize_url=None, deny=False):
        """The person signs in at the provider; returns the callback URL it sends back."""
        data = {"action": "deny"} if deny else {"sub": sub}
        response = requests.post(authorize_url or self.authorize_url, data=data, allow_redirects=False, timeout=5)
        assert response.status_code == 302, response.text
        return response.headers["Location"]

    def callback(self, callback_url):
        parts = urlsplit(callback_url)
        assert parts.path == "/oidc/callback/"
        return self.client.get(parts.path, parse_qs(parts.query))

    def sign_in(self, sub, next_url=""):
        self.start(next_url)
        return self.callback(self.authorize(sub))
