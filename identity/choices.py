from django.db import models
from django.utils.translation import gettext_lazy as _


class SignInMethod(models.TextChoices):
    PASSWORD = "password", _("Mot de passe")
    OIDC = "oidc", _("Compte de la Ville (OpenID Connect)")
    API_TOKEN = "api_token", _("Jeton d'API")


class LocalLogin(models.TextChoices):
    """``LOCAL_LOGIN``: who may sign in with a Parcours password."""

    ALL = "all", _("Tout le monde")
    STAFF = "staff", _("Superutilisateurs et comptes locaux seulement")
    NONE = "none", _("Personne")


# Why a sign-in failed (``SignInEvent.reason``): a code, shown to HR with its label. Other
# modules may record their own codes; an unknown code is shown as is.
REASONS = {
    "bad_credentials": _("Identifiant ou mot de passe incorrect"),
    "locked_out": _("Trop de tentatives : connexion bloquée"),
    "local_login_refused": _("Connexion par mot de passe non autorisée pour ce compte"),
    "inactive": _("Compte ou agent désactivé"),
    "unknown_agent": _("Aucun agent ne correspond à l'identité transmise"),
    "ambiguous_agent": _("Plusieurs agents correspondent à l'identité transmise"),
    "missing_claim": _("Le fournisseur n'a pas transmis le matricule"),
    "bad_state": _("Paramètre « state » absent, altéré ou expiré"),
    "provider_error": _("Le fournisseur d'identité a renvoyé une erreur"),
    "token_error": _("Échange du code refusé (code rejoué, expiré ou client non reconnu)"),
    "invalid_token": _("Jeton d'identité invalide"),
    "invalid_signature": _("Signature du jeton d'identité invalide"),
    "token_expired": _("Jeton d'identité expiré"),
    "wrong_audience": _("Jeton d'identité émis pour une autre application"),
    "wrong_issuer": _("Jeton d'identité émis par un autre fournisseur"),
    "nonce_mismatch": _("Jeton d'identité rejoué (nonce différent)"),
    "provider_unreachable": _("Fournisseur d'identité injoignable"),
}


def reason_label(code):
    return REASONS.get(code, code)
