"""Sign-in views: the login page (password under ``LOCAL_LOGIN``, the city's button), the
OpenID Connect authorization request and callback, and logout (RP-initiated at the
provider when it offers it)."""

import time
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib import auth
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render, resolve_url
from django.utils.crypto import get_random_string
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from identity import oidc
from identity.audit import record_sign_in, request_ip
from identity.backends import CityOIDCBackend, SignInRefused
from identity.choices import LocalLogin, SignInMethod, reason_label

OIDC_BACKEND = f"{CityOIDCBackend.__module__}.{CityOIDCBackend.__qualname__}"
DEFAULT_SUPPORT_CONTACT = gettext_lazy("le service des ressources humaines")


def support_contact():
    return getattr(settings, "IDENTITY_SUPPORT_CONTACT", "") or DEFAULT_SUPPORT_CONTACT


def login_options():
    """What the login page offers: the city's button, the password form."""
    local_login = getattr(settings, "LOCAL_LOGIN", LocalLogin.ALL)
    return {
        "oidc_enabled": oidc.enabled(),
        "oidc_button_label": getattr(settings, "OIDC_BUTTON_LABEL", "")
        or _("Se connecter avec mon compte de la Ville"),
        "local_login": local_login,
        "password_form_shown": local_login != LocalLogin.NONE,
        "password_for_staff_only": local_login == LocalLogin.STAFF,
        "support_contact": support_contact(),
    }


class LoginForm(AuthenticationForm):
    """Django's form, saying why a right password was refused (``LOCAL_LOGIN``, an
    inactive agent): only someone who knows the password learns it."""

    def clean(self):
        try:
            return super().clean()
        except forms.ValidationError:
            reason = getattr(self.request, "identity_failure_reason", "")
            if reason == "local_login_refused":
                raise forms.ValidationError(
                    _(
                        "La connexion par mot de passe n'est pas ouverte à ce compte. "
                        "Utilisez « Se connecter avec mon compte de la Ville »."
                    ),
                    code="local_login_refused",
                ) from None
            if reason == "inactive":
                raise forms.ValidationError(
                    _("Ce compte est désactivé. Contactez %(contact)s.") % {"contact": support_contact()},
                    code="inactive",
                ) from None
            raise


class LoginView(auth_views.LoginView):
    form_class = LoginForm
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(login_options())
        return context


# ---------------------------------------------------------------- OpenID Connect


def _require_oidc():
    if not oidc.enabled():
        raise Http404


class AuthenticateView(OIDCAuthenticationRequestView):
    """``/oidc/authenticate/``: redirects to the provider's authorization endpoint with
    ``state``, ``nonce`` and a PKCE ``code_challenge`` (S256) kept in the session."""

    def __init__(self, *args, **kwargs):
        # The library reads the endpoint from settings here; ours is resolved per request.
        pass

    def get(self, request):
        _require_oidc()
        try:
            provider = oidc.provider()
        except oidc.ProviderUnavailable as exc:
            return failure_response(request, SignInRefused("provider_unreachable", detail=str(exc)))
        self.OIDC_OP_AUTH_ENDPOINT = provider.authorization_endpoint
        self.OIDC_RP_CLIENT_ID = settings.OIDC_RP_CLIENT_ID
        return super().get(request)


class CallbackView(OIDCAuthenticationCallbackView):
    """``/oidc/callback/``: the provider's answer. Success opens the session; every
    failure is audited and explained on a French page (400 for a bad state, else 403)."""

    def get(self, request):
        _require_oidc()
        request.identity_sign_in_method = SignInMethod.OIDC
        if request.GET.get("error"):
            states = request.session.get("oidc_states") or {}
            if request.GET.get("state") in states:
                del states[request.GET["state"]]
                request.session["oidc_states"] = states
            if request.user.is_authenticated:
                auth.logout(request)
            detail = f"{request.GET.get('error', '')[:64]}: {request.GET.get('error_description', '')[:200]}"
            return failure_response(request, SignInRefused("provider_error", detail=detail))
        state = request.GET.get("state", "")
        states = request.session.get("oidc_states")
        if not request.GET.get("code") or not state or not isinstance(states, dict) or state not in states:
            return failure_response(request, SignInRefused("bad_state"))
        entry = states.pop(state)
        request.session["oidc_states"] = states
        request.session.save()
        if not isinstance(entry, dict) or time.time() - entry.get("added_on", 0) > settings.OIDC_STATE_MAX_AGE_SECONDS:
            return failure_response(request, SignInRefused("bad_state", detail="expired state"))
        # As the library does: reload the session after the slow token exchange.
        request.session = request.session.__class__(request.session.session_key)
        # The backend directly, not auth.authenticate(): the throttling backend (django-axes)
        # would count failures without a username per address, and a city's agents share a
        # few outgoing addresses. Nothing here can be guessed: the state guards the callback.
        backend = CityOIDCBackend()
        self.user = backend.authenticate(request, nonce=entry.get("nonce"), code_verifier=entry.get("code_verifier"))
        if self.user is not None:
            self.user.backend = OIDC_BACKEND
        if self.user is None:
            failure = getattr(request, "identity_oidc_failure", None) or SignInRefused("invalid_token")
            return failure_response(request, failure)
        response = self.login_success()
        record_sign_in(
            user=self.user,
            username=getattr(self.user, "identity_claims_identifier", "") or self.user.get_username(),
            method=SignInMethod.OIDC,
            success=True,
            ip=request_ip(request),
        )
        return response


FAILURE_MESSAGES = {
    "unknown_agent": gettext_lazy(
        "Votre compte de la Ville a bien été reconnu, mais aucun agent de Parcours ne lui correspond. "
        "Parcours ne crée pas de compte à la connexion : votre fiche agent vient de l'annuaire de la Ville."
    ),
    "ambiguous_agent": gettext_lazy(
        "Votre compte de la Ville correspond à plusieurs fiches agent de Parcours : la connexion est refusée "
        "tant que l'annuaire n'est pas corrigé."
    ),
    "missing_claim": gettext_lazy(
        "Le fournisseur d'identité de la Ville n'a pas transmis votre matricule : Parcours ne peut pas "
        "savoir quelle fiche agent est la vôtre."
    ),
    "inactive": gettext_lazy("Votre compte Parcours est désactivé : la connexion est refusée."),
    "bad_state": gettext_lazy(
        "Cette demande de connexion est inconnue, a déjà servi, a expiré ou a été modifiée. "
        "Recommencez la connexion depuis la page de connexion."
    ),
    "provider_error": gettext_lazy("Le fournisseur d'identité de la Ville a refusé ou interrompu la connexion."),
    "provider_unreachable": gettext_lazy(
        "Le fournisseur d'identité de la Ville ne répond pas. Réessayez dans quelques minutes."
    ),
}
TOKEN_FAILURE_MESSAGE = gettext_lazy(
    "La réponse du fournisseur d'identité de la Ville n'a pas pu être vérifiée, pour votre sécurité "
    "la connexion est refusée. Recommencez la connexion depuis la page de connexion."
)


def failure_response(request, failure):
    """Audit the refused OIDC sign-in and answer with the French page (400 for a bad state,
    403 otherwise)."""
    record_sign_in(
        username=failure.identifier,
        method=SignInMethod.OIDC,
        success=False,
        ip=request_ip(request),
        reason=failure.reason,
    )
    status = 400 if failure.reason == "bad_state" else 403
    context = {
        "message": FAILURE_MESSAGES.get(failure.reason, TOKEN_FAILURE_MESSAGE),
        "reason": reason_label(failure.reason),
        "support_contact": support_contact(),
        "retry": failure.reason not in ("unknown_agent", "ambiguous_agent", "inactive", "missing_claim"),
        "title": _("Connexion refusée") if status == 403 else _("Demande de connexion invalide"),
    }
    return render(request, "identity/sign_in_failed.html", context, status=status)


# ---------------------------------------------------------------- logout


def provider_logout_url(request, id_token):
    """The provider's end-session URL for ``id_token`` (RP-initiated logout 1.0), or ""
    when there is no provider, no token, or no ``end_session_endpoint``."""
    if not oidc.enabled() or not id_token:
        return ""
    try:
        endpoint = oidc.provider().end_session_endpoint
    except oidc.ProviderUnavailable:
        return ""
    if not endpoint:
        return ""
    # The parameters of RP-Initiated Logout 1.0 that every provider accepts (ProConnect
    # refuses unknown ones and requires a state).
    params = {
        "id_token_hint": id_token,
        "state": get_random_string(32),
        "post_logout_redirect_uri": request.build_absolute_uri(resolve_url(settings.LOGOUT_REDIRECT_URL)),
    }
    separator = "&" if "?" in endpoint else "?"
    return f"{endpoint}{separator}{urlencode(params)}"


class LogoutView(auth_views.LogoutView):
    """Django's logout (POST); a session opened with the city's account is then ended at the
    provider too, which sends the browser back to ``LOGOUT_REDIRECT_URL``."""

    def post(self, request, *args, **kwargs):
        id_token = request.session.get("oidc_id_token") if request.user.is_authenticated else None
        response = super().post(request, *args, **kwargs)
        url = provider_logout_url(request, id_token)
        return HttpResponseRedirect(url) if url else response
