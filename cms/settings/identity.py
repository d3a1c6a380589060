"""Settings of the identity part, applied at the end of base.py: ``apply(settings)`` reads and
changes the module's globals (INSTALLED_APPS, MIDDLEWARE, … are lists there).

Everything comes from the environment (docs/identity.md):

- ``LOCAL_LOGIN`` = ``all`` (default) | ``staff`` | ``none``: who may sign in with a Parcours
  password (``staff``: superusers and accounts flagged local in the admin). Enforced by
  ``identity.backends.LocalPasswordBackend``, which replaces Django's ``ModelBackend``.
- OpenID Connect, on when ``OIDC_RP_CLIENT_ID`` is set: ``OIDC_RP_CLIENT_SECRET``, and either
  ``OIDC_OP_DISCOVERY_URL`` (the provider's ``.well-known/openid-configuration``, fetched at
  the first sign-in and cached, never at start-up) or the endpoints
  ``OIDC_OP_AUTHORIZATION_ENDPOINT``, ``OIDC_OP_TOKEN_ENDPOINT``, ``OIDC_OP_JWKS_ENDPOINT``
  (and optionally ``OIDC_OP_USER_ENDPOINT``, ``OIDC_OP_LOGOUT_ENDPOINT``, ``OIDC_OP_ISSUER``);
  an endpoint given explicitly wins over the discovered one. ``OIDC_RP_SIGN_ALGO`` (RS256),
  ``OIDC_RP_SCOPES`` ("openid email profile"), ``OIDC_EMPLOYEE_NUMBER_CLAIM``
  (``employee_number``), ``OIDC_MATCH_VERIFIED_EMAIL`` (off), ``OIDC_CLOCK_SKEW_SECONDS`` (60),
  ``OIDC_TIMEOUT_SECONDS`` (10), ``OIDC_USE_USERINFO`` (on), ``OIDC_USE_PKCE`` (on),
  ``OIDC_EMAILS_VERIFIED_BY_PROVIDER`` (off), ``OIDC_BUTTON_LABEL``.
- ``IDENTITY_SUPPORT_CONTACT``: whom a refused person should contact (shown on the page).
"""

import os

from django.core.exceptions import ImproperlyConfigured

PASSWORD_BACKEND = "identity.backends.LocalPasswordBackend"
OIDC_BACKEND = "identity.backends.CityOIDCBackend"
LOCAL_LOGIN_VALUES = ("all", "staff", "none")
TRUE = {"1", "true", "yes", "on"}
FALSE = {"0", "false", "no", "off", ""}


def _text(environ, name, default=""):
    value = environ.get(name)
    return default if value is None or not value.strip() else value.strip()


def _flag(environ, name, default):
    value = environ.get(name)
    if value is None:
        return default
    value = value.strip().lower()
    if value in TRUE:
        return True
    if value in FALSE:
        return False
    raise ImproperlyConfigured(f"The environment variable {name} must be true or false, not {value!r}.")


def _whole(environ, name, default, minimum=0):
    raw = _text(environ, name)
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"The environment variable {name} must be a whole number, not {raw!r}.") from None
    if value < minimum:
        raise ImproperlyConfigured(f"The environment variable {name} must be at least {minimum}, not {value}.")
    return value


def settings_from(environ, backends):
    """The identity settings for the environment ``environ``, given the other
    ``AUTHENTICATION_BACKENDS`` (Django's ``ModelBackend`` is replaced by the local-password
    backend; the OpenID Connect backend is added when configured). Tests call it too."""
    local_login = _text(environ, "LOCAL_LOGIN", "all").lower()
    if local_login not in LOCAL_LOGIN_VALUES:
        raise ImproperlyConfigured(f"LOCAL_LOGIN must be all, staff or none, not {local_login!r}.")
    backends = [PASSWORD_BACKEND if b == "django.contrib.auth.backends.ModelBackend" else b for b in backends]
    backends = [b for b in backends if b != OIDC_BACKEND]
    if PASSWORD_BACKEND not in backends:
        backends.append(PASSWORD_BACKEND)

    client_id = _text(environ, "OIDC_RP_CLIENT_ID")
    endpoints = {
        "OIDC_OP_AUTHORIZATION_ENDPOINT": _text(environ, "OIDC_OP_AUTHORIZATION_ENDPOINT"),
        "OIDC_OP_TOKEN_ENDPOINT": _text(environ, "OIDC_OP_TOKEN_ENDPOINT"),
        "OIDC_OP_USER_ENDPOINT": _text(environ, "OIDC_OP_USER_ENDPOINT"),
        "OIDC_OP_JWKS_ENDPOINT": _text(environ, "OIDC_OP_JWKS_ENDPOINT"),
        "OIDC_OP_LOGOUT_ENDPOINT": _text(environ, "OIDC_OP_LOGOUT_ENDPOINT"),
        "OIDC_OP_ISSUER": _text(environ, "OIDC_OP_ISSUER"),
    }
    discovery = _text(environ, "OIDC_OP_DISCOVERY_URL")
    enabled = bool(client_id)
    if enabled and not discovery:
        missing = [
            name
            for name in ("OIDC_OP_AUTHORIZATION_ENDPOINT", "OIDC_OP_TOKEN_ENDPOINT", "OIDC_OP_JWKS_ENDPOINT")
            if not endpoints[name]
        ]
        if missing:
            raise ImproperlyConfigured(
                "OIDC_RP_CLIENT_ID is set: set OIDC_OP_DISCOVERY_URL, or " + ", ".join(missing) + "."
            )
    if enabled:
        # After the local-password backend: a password sign-in never reaches it.
        backends.append(OIDC_BACKEND)
    sign_algo = _text(environ, "OIDC_RP_SIGN_ALGO", "RS256")
    if enabled and sign_algo.startswith("HS") and not _text(environ, "OIDC_RP_CLIENT_SECRET"):
        raise ImproperlyConfigured(f"OIDC_RP_SIGN_ALGO={sign_algo} needs OIDC_RP_CLIENT_SECRET.")
    return {
        "AUTHENTICATION_BACKENDS": backends,
        "LOCAL_LOGIN": local_login,
        "IDENTITY_SUPPORT_CONTACT": _text(environ, "IDENTITY_SUPPORT_CONTACT"),
        "OIDC_ENABLED": enabled,
        "OIDC_RP_CLIENT_ID": client_id,
        "OIDC_RP_CLIENT_SECRET": _text(environ, "OIDC_RP_CLIENT_SECRET"),
        "OIDC_OP_DISCOVERY_URL": discovery,
        **endpoints,
        "OIDC_RP_SIGN_ALGO": sign_algo,
        "OIDC_RP_SCOPES": _text(environ, "OIDC_RP_SCOPES", "openid email profile"),
        "OIDC_EMPLOYEE_NUMBER_CLAIM": _text(environ, "OIDC_EMPLOYEE_NUMBER_CLAIM", "employee_number"),
        "OIDC_MATCH_VERIFIED_EMAIL": _flag(environ, "OIDC_MATCH_VERIFIED_EMAIL", False),
        # ProConnect sends no email_verified claim: its federation vouches for the addresses.
        "OIDC_EMAILS_VERIFIED_BY_PROVIDER": _flag(environ, "OIDC_EMAILS_VERIFIED_BY_PROVIDER", False),
        "OIDC_USE_USERINFO": _flag(environ, "OIDC_USE_USERINFO", True),
        "OIDC_CLOCK_SKEW_SECONDS": _whole(environ, "OIDC_CLOCK_SKEW_SECONDS", 60),
        "OIDC_TIMEOUT": _whole(environ, "OIDC_TIMEOUT_SECONDS", 10, minimum=1),
        "OIDC_DISCOVERY_CACHE_SECONDS": _whole(environ, "OIDC_DISCOVERY_CACHE_SECONDS", 3600),
        "OIDC_STATE_MAX_AGE_SECONDS": _whole(environ, "OIDC_STATE_MAX_AGE_SECONDS", 600, minimum=1),
        "OIDC_BUTTON_LABEL": _text(environ, "OIDC_BUTTON_LABEL"),
        # mozilla-django-oidc's own settings
        "OIDC_USE_PKCE": _flag(environ, "OIDC_USE_PKCE", True),  # off only for a provider that refuses it
        "OIDC_USE_NONCE": True,
        "OIDC_STORE_ID_TOKEN": True,  # the id_token_hint of RP-initiated logout
        "OIDC_CREATE_USER": False,  # the directory (SCIM, import_agents) creates agents, never a sign-in
        "OIDC_AUTHENTICATION_CALLBACK_URL": "identity:callback",
        "OIDC_VERIFY_SSL": _flag(environ, "OIDC_VERIFY_SSL", True),
    }


def apply(s):
    """Change the settings dict ``s`` in place."""
    s.update(settings_from(os.environ, s["AUTHENTICATION_BACKENDS"]))
