"""The OpenID provider's configuration, resolved lazily.

mozilla-django-oidc reads explicit endpoint settings; a city gives a discovery URL
(``OIDC_OP_DISCOVERY_URL``). ``provider()`` fetches the discovery document at the first
sign-in (never at import or start-up), keeps it in the shared cache for
``OIDC_DISCOVERY_CACHE_SECONDS``, and lets each explicit ``OIDC_OP_*`` setting win over the
discovered value. The provider's signing keys (JWKS) are cached the same way and fetched
again when a token names a key id that the cached set does not hold (key rotation).
"""

import hashlib
from dataclasses import dataclass

import requests
from django.conf import settings
from django.core.cache import cache


class ProviderUnavailable(Exception):
    """The discovery document or the keys could not be fetched or read."""


@dataclass(frozen=True)
class Provider:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    userinfo_endpoint: str
    jwks_uri: str
    end_session_endpoint: str


def enabled():
    return bool(getattr(settings, "OIDC_ENABLED", False))


def _cache_key(kind, url):
    return f"identity:oidc:{kind}:{hashlib.sha256(url.encode()).hexdigest()[:32]}"


def _fetch_json(url):
    try:
        response = requests.get(url, timeout=settings.OIDC_TIMEOUT, verify=settings.OIDC_VERIFY_SSL)
        response.raise_for_status()
        document = response.json()
    except (requests.RequestException, ValueError) as exc:
        raise ProviderUnavailable(f"{url}: {exc}") from exc
    if not isinstance(document, dict):
        raise ProviderUnavailable(f"{url}: not a JSON object")
    return document


def discovery_document():
    url = settings.OIDC_OP_DISCOVERY_URL
    if not url:
        return {}
    key = _cache_key("discovery", url)
    document = cache.get(key)
    if document is None:
        document = _fetch_json(url)
        cache.set(key, document, settings.OIDC_DISCOVERY_CACHE_SECONDS)
    return document


def provider():
    """The provider's endpoints (explicit settings first, then discovery)."""
    document = discovery_document()

    def pick(setting, field):
        value = getattr(settings, setting, "") or document.get(field) or ""
        return value if isinstance(value, str) else ""

    result = Provider(
        issuer=pick("OIDC_OP_ISSUER", "issuer"),
        authorization_endpoint=pick("OIDC_OP_AUTHORIZATION_ENDPOINT", "authorization_endpoint"),
        token_endpoint=pick("OIDC_OP_TOKEN_ENDPOINT", "token_endpoint"),
        userinfo_endpoint=pick("OIDC_OP_USER_ENDPOINT", "userinfo_endpoint"),
        jwks_uri=pick("OIDC_OP_JWKS_ENDPOINT", "jwks_uri"),
        end_session_endpoint=pick("OIDC_OP_LOGOUT_ENDPOINT", "end_session_endpoint"),
    )
    missing = [name for name in ("authorization_endpoint", "token_endpoint", "jwks_uri") if not getattr(result, name)]
    if missing:
        raise ProviderUnavailable("the provider's configuration lacks " + ", ".join(missing))
    return result


def signing_keys(jwks_uri, *, refresh=False):
    """The provider's JSON Web Key Set (a dict with ``keys``), cached."""
    key = _cache_key("jwks", jwks_uri)
    keys = None if refresh else cache.get(key)
    if keys is None:
        keys = _fetch_json(jwks_uri)
        if not isinstance(keys.get("keys"), list):
            raise ProviderUnavailable(f"{jwks_uri}: no keys")
        cache.set(key, keys, settings.OIDC_DISCOVERY_CACHE_SECONDS)
    return keys
