"""Authentication backends: Parcours passwords under ``LOCAL_LOGIN``, and the city's OpenID
Connect provider (mozilla-django-oidc, hardened).

Both refuse an inactive account or an inactive agent, at sign-in and at every request
(``get_user``): a session opened before a deactivation stops working at once.
"""

import logging

import jwt
import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from identity import oidc
from identity.choices import LocalLogin
from identity.models import LocalAccount

logger = logging.getLogger(__name__)


class SignInRefused(Exception):
    """A sign-in refused for ``reason`` (a code of ``identity.choices.REASONS``);
    ``identifier`` is what the provider said about the person (matricule, e-mail, sub)."""

    def __init__(self, reason, identifier="", detail=""):
        super().__init__(reason)
        self.reason = reason
        self.identifier = identifier
        self.detail = detail


def agent_of(user):
    try:
        return user.agent
    except user.__class__.agent.RelatedObjectDoesNotExist:
        return None


def may_sign_in(user):
    """An active account whose agent, if it has one, is active."""
    if not user.is_active:
        return False
    agent = agent_of(user)
    return agent is None or agent.active


def may_use_password(user):
    """Whether ``LOCAL_LOGIN`` lets ``user`` sign in with a Parcours password."""
    policy = getattr(settings, "LOCAL_LOGIN", LocalLogin.ALL)
    if policy == LocalLogin.ALL:
        return True
    if policy == LocalLogin.STAFF:
        return user.is_superuser or LocalAccount.objects.filter(user=user).exists()
    return False


class ActiveAgentMixin:
    def get_user(self, user_id):
        """The session's user, with its agent in the same query; None when the account or
        the agent has been deactivated since (the session then counts as signed out)."""
        UserModel = get_user_model()
        try:
            user = UserModel._default_manager.select_related("agent").get(pk=user_id)
        except UserModel.DoesNotExist:
            return None
        return user if may_sign_in(user) else None


class LocalPasswordBackend(ActiveAgentMixin, ModelBackend):
    """Django's password backend under ``LOCAL_LOGIN`` (site login, Wagtail admin login,
    anything that calls ``authenticate(username=…, password=…)``).

    The password is checked first: whether an account may use a password is only told to
    someone who knows it. A refusal leaves its reason on the request
    (``request.identity_failure_reason``) for the audit and the login form."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None:
            return None
        reason = ""
        if not may_sign_in(user):
            reason = "inactive"
        elif not may_use_password(user):
            reason = "local_login_refused"
        if reason:
            if request is not None:
                request.identity_failure_reason = reason
            return None
        return user


class CityOIDCBackend(ActiveAgentMixin, OIDCAuthenticationBackend):
    """Sign-in with the city's OpenID provider (authorization code flow with PKCE, state and
    nonce, driven by ``identity.views``).

    Compared with mozilla-django-oidc's backend: the provider's endpoints come from
    ``identity.oidc`` (discovery, lazily); the ID token's audience, issuer, expiry (with
    ``OIDC_CLOCK_SKEW_SECONDS``) and nonce are all checked; the person is matched to an
    existing agent by ``OIDC_EMPLOYEE_NUMBER_CLAIM`` (or, when the claim is absent and
    ``OIDC_MATCH_VERIFIED_EMAIL`` is on, by an e-mail the provider marks verified), never
    created; each refusal raises ``SignInRefused`` with its reason, left on the request as
    ``request.identity_oidc_failure`` for the view to audit and explain."""

    def __init__(self, *args, **kwargs):
        # No settings read here: Django builds every backend for every password sign-in too.
        self.UserModel = get_user_model()

    # ------------------------------------------------------------------ flow

    def authenticate(self, request, **kwargs):
        if request is None or "nonce" not in kwargs or not oidc.enabled():
            return None  # not the OIDC callback (e.g. a password sign-in)
        try:
            self._configure(oidc.provider())
            user = super().authenticate(request, **kwargs)
            if user is None:  # the library gave up without a reason (no code, no state)
                raise SignInRefused("bad_state")
            return user
        except oidc.ProviderUnavailable as exc:
            failure = SignInRefused("provider_unreachable", detail=str(exc))
        except SignInRefused as refusal:
            failure = refusal
        logger.warning("OIDC sign-in refused: %s %s", failure.reason, failure.detail)
        request.identity_oidc_failure = failure
        request.session.pop("oidc_id_token", None)
        return None

    def _configure(self, provider):
        self.provider = provider
        self.OIDC_OP_TOKEN_ENDPOINT = provider.token_endpoint
        self.OIDC_OP_USER_ENDPOINT = provider.userinfo_endpoint
        self.OIDC_OP_JWKS_ENDPOINT = provider.jwks_uri
        self.OIDC_RP_CLIENT_ID = settings.OIDC_RP_CLIENT_ID
        self.OIDC_RP_CLIENT_SECRET = settings.OIDC_RP_CLIENT_SECRET
        self.OIDC_RP_SIGN_ALGO = settings.OIDC_RP_SIGN_ALGO
        self.OIDC_RP_IDP_SIGN_KEY = None

    def get_token(self, payload):
        try:
            return super().get_token(payload)
        except requests.HTTPError as exc:
            # invalid_grant: a code already used, expired, or issued to another client.
            raise SignInRefused("token_error", detail=str(exc)) from exc
        except requests.RequestException as exc:
            raise SignInRefused("provider_unreachable", detail=str(exc)) from exc
        except ValueError as exc:
            raise SignInRefused("provider_error", detail=f"token response: {exc}") from exc

    # ------------------------------------------------------------------ tokens

    def _key_for(self, token):
        algorithm = self.OIDC_RP_SIGN_ALGO
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise SignInRefused("invalid_token", detail=str(exc)) from exc
        if header.get("alg") != algorithm:
            raise SignInRefused("invalid_signature", detail=f"alg {header.get('alg')!r}, expected {algorithm!r}")
        if algorithm.startswith("HS"):
            return self.OIDC_RP_CLIENT_SECRET
        kid = header.get("kid")
        for refresh in (False, True):
            for jwk in oidc.signing_keys(self.OIDC_OP_JWKS_ENDPOINT, refresh=refresh)["keys"]:
                if (kid is None or jwk.get("kid") == kid) and jwk.get("alg", algorithm) == algorithm:
                    try:
                        return jwt.PyJWK(jwk, algorithm=algorithm)
                    except jwt.PyJWTError as exc:
                        raise SignInRefused("invalid_signature", detail=str(exc)) from exc
        raise SignInRefused("invalid_signature", detail=f"no key {kid!r} in the provider's key set")

    def _decode(self, token, *, id_token):
        """The claims of a JWT from the provider: an ID token must carry and satisfy ``aud``,
        ``exp``, ``iat`` (and ``iss`` when the issuer is known); a signed userinfo response
        is checked on those of them it carries (OpenID Connect Core 5.3.2)."""
        try:
            key = self._key_for(token)
        except oidc.ProviderUnavailable as exc:
            raise SignInRefused("provider_unreachable", detail=str(exc)) from exc
        issuer = self.provider.issuer or None
        if id_token:
            required = ["aud", "exp", "iat"] + (["iss"] if issuer else [])
            check_audience = True
        else:
            try:
                unverified = jwt.decode(token, options={"verify_signature": False})
            except jwt.PyJWTError as exc:
                raise SignInRefused("invalid_token", detail=str(exc)) from exc
            required = []
            check_audience = "aud" in unverified
            issuer = issuer if "iss" in unverified else None
        try:
            payload = jwt.decode(
                token,
                key,
                algorithms=[self.OIDC_RP_SIGN_ALGO],
                audience=self.OIDC_RP_CLIENT_ID if check_audience else None,
                issuer=issuer,
                leeway=settings.OIDC_CLOCK_SKEW_SECONDS,
                options={"require": required, "verify_aud": check_audience},
            )
        except jwt.ExpiredSignatureError as exc:
            raise SignInRefused("token_expired", detail=str(exc)) from exc
        except jwt.InvalidAudienceError as exc:
            raise SignInRefused("wrong_audience", detail=str(exc)) from exc
        except jwt.InvalidIssuerError as exc:
            raise SignInRefused("wrong_issuer", detail=str(exc)) from exc
        except jwt.InvalidSignatureError as exc:
            raise SignInRefused("invalid_signature", detail=str(exc)) from exc
        except jwt.PyJWTError as exc:
            raise SignInRefused("invalid_token", detail=str(exc)) from exc
        audiences = payload.get("aud") or []
        audiences = audiences if isinstance(audiences, list) else [audiences]
        if len(audiences) > 1 and payload.get("azp") != self.OIDC_RP_CLIENT_ID:
            raise SignInRefused("wrong_audience", detail=f"azp {payload.get('azp')!r}")
        return payload

    def verify_token(self, token, **kwargs):
        """The ID token's claims, once signature, audience, issuer, expiry and nonce hold."""
        if not token or not isinstance(token, str):
            raise SignInRefused("invalid_token", detail="no id_token in the token response")
        payload = self._decode(token, id_token=True)
        if payload.get("nonce") != kwargs.get("nonce"):
            raise SignInRefused("nonce_mismatch")
        if not payload.get("sub"):
            raise SignInRefused("invalid_token", detail="no sub")
        return payload

    def get_userinfo(self, access_token, id_token, payload):
        """The ID token's claims, completed by the userinfo endpoint (JSON, or a signed JWT
        as ProConnect sends) when there is one and ``OIDC_USE_USERINFO`` is on; the userinfo
        must be about the same ``sub``."""
        if not settings.OIDC_USE_USERINFO or not self.OIDC_OP_USER_ENDPOINT:
            return dict(payload)
        try:
            response = requests.get(
                self.OIDC_OP_USER_ENDPOINT,
                headers={"Authorization": f"Bearer {access_token}"},
                verify=settings.OIDC_VERIFY_SSL,
                timeout=settings.OIDC_TIMEOUT,
            )
            response.raise_for_status()
            if response.headers.get("content-type", "").lower().startswith("application/jwt"):
                info = self._decode(response.text, id_token=False)
            else:
                info = response.json()
        except requests.RequestException as exc:
            raise SignInRefused("provider_error", detail=f"userinfo: {exc}") from exc
        except ValueError as exc:
            raise SignInRefused("provider_error", detail=f"userinfo: {exc}") from exc
        if not isinstance(info, dict) or info.get("sub") != payload.get("sub"):
            raise SignInRefused("invalid_token", detail="userinfo is about another subject")
        return {**payload, **info}

    # ------------------------------------------------------------------ matching

    def verify_claims(self, claims):
        return True  # what matters is checked by filter_users_by_claims

    @staticmethod
    def identifier(claims):
        value = claims.get(settings.OIDC_EMPLOYEE_NUMBER_CLAIM)
        return str(value).strip() if value not in (None, "") else ""

    def filter_users_by_claims(self, claims):
        """Users whose agent has the claimed matricule; when the claim is absent and
        ``OIDC_MATCH_VERIFIED_EMAIL`` is on, agents' users with the provider-verified e-mail
        (``email_verified: true``, or no such claim with ``OIDC_EMAILS_VERIFIED_BY_PROVIDER``)."""
        number = self.identifier(claims)
        users = self.UserModel._default_manager.select_related("agent")
        if number:
            return list(users.filter(agent__employee_number=number)[:2])
        email = claims.get("email")
        verified = claims.get("email_verified")
        if verified is None and settings.OIDC_EMAILS_VERIFIED_BY_PROVIDER:
            verified = True
        if settings.OIDC_MATCH_VERIFIED_EMAIL and verified is True and isinstance(email, str) and email:
            return list(users.filter(agent__isnull=False, email__iexact=email.strip())[:2])
        raise SignInRefused("missing_claim", identifier=str(claims.get("email") or claims.get("sub") or ""))

    def get_or_create_user(self, access_token, id_token, payload):
        claims = self.get_userinfo(access_token, id_token, payload)
        identifier = self.identifier(claims) or str(claims.get("email") or claims.get("sub") or "")
        users = self.filter_users_by_claims(claims)
        if not users:
            raise SignInRefused("unknown_agent", identifier=identifier)
        if len(users) > 1:
            raise SignInRefused("ambiguous_agent", identifier=identifier)
        user = users[0]
        if not may_sign_in(user):
            raise SignInRefused("inactive", identifier=identifier)
        user.identity_claims_identifier = identifier
        return user

    def create_user(self, claims):
        return None  # agents come from the directory (SCIM, import_agents), never from a sign-in
