"""API clients authenticate with ``Authorization: Token <key>`` (django-rest-knox).

knox stores a SHA-512 digest of each key, never the key. This class is knox's
``TokenAuthentication`` with:

- French (translatable) error messages, and a distinct one for an expired token, so that an
  integration's operator knows to ask for a new key rather than to check the one they have
  ("expired" is only said once the digest matched: it reveals nothing to a guesser);
- expired tokens kept, not deleted on sight as knox does: HR sees them as expired in the
  admin list until they revoke them, and the client keeps getting the "expired" answer;
- an account that is inactive, or whose agent profile is deactivated, refused;
- a header that is not valid UTF-8 refused with 401 (knox would raise a 500);
- the last use recorded on ``cms.ApiToken`` (one conditional UPDATE per call, writing at
  most every few minutes, so the number of queries of a call never varies).
"""

import binascii
from datetime import timedelta
from hmac import compare_digest

from django.db.models import Q
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from knox.auth import TokenAuthentication
from knox.crypto import hash_token
from knox.models import get_token_model
from knox.settings import CONSTANTS
from knox.signals import token_expired
from rest_framework import exceptions
from rest_framework.authentication import get_authorization_header

from cms.models import ApiToken

# ``last_used_at`` is rewritten at most this often for one token.
LAST_USED_RESOLUTION = timedelta(minutes=5)


class ApiTokenAuthentication(TokenAuthentication):
    def authenticate(self, request):
        auth = get_authorization_header(request).split()
        prefix = self.authenticate_header(request).encode()
        if not auth or auth[0].lower() != prefix.lower():
            return None  # no header, or one meant for another scheme
        if len(auth) == 1:
            raise exceptions.AuthenticationFailed(_("En-tête Authorization invalide : aucun jeton n'est fourni."))
        if len(auth) > 2:
            raise exceptions.AuthenticationFailed(
                _("En-tête Authorization invalide : le jeton ne doit pas contenir d'espace.")
            )
        return self.authenticate_credentials(auth[1])

    def authenticate_credentials(self, token):
        invalid = exceptions.AuthenticationFailed(_("Jeton d'API invalide ou révoqué."))
        try:
            token = token.decode("utf-8") if isinstance(token, bytes) else str(token)
            digest = hash_token(token)
        except (UnicodeError, TypeError, ValueError, binascii.Error):
            raise invalid from None
        now = timezone.now()
        candidates = get_token_model().objects.filter(token_key=token[: CONSTANTS.TOKEN_KEY_LENGTH])
        for auth_token in candidates.select_related("user", "user__agent"):
            if not compare_digest(digest, auth_token.digest):
                continue
            if auth_token.expiry is not None and auth_token.expiry <= now:
                token_expired.send(sender=self.__class__, username=auth_token.user.get_username(), source="auth_token")
                raise exceptions.AuthenticationFailed(
                    _("Ce jeton d'API a expiré le %(date)s : demandez-en un nouveau aux ressources humaines.")
                    % {"date": formats.date_format(timezone.localtime(auth_token.expiry), "SHORT_DATETIME_FORMAT")}
                )
            user, auth_token = self.validate_user(auth_token)
            self.record_use(auth_token, now)
            return user, auth_token
        raise invalid

    def validate_user(self, auth_token):
        user = auth_token.user
        agent = getattr(user, "agent", None)
        if not user.is_active or (agent is not None and not agent.active):
            raise exceptions.AuthenticationFailed(_("Le compte de ce jeton d'API est désactivé."))
        return user, auth_token

    def record_use(self, auth_token, now):
        ApiToken.objects.filter(token_id=auth_token.digest).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION)
        ).update(last_used_at=now)


class ApiTokenScheme(OpenApiAuthenticationExtension):
    """The OpenAPI security scheme: the same ``tokenAuth`` name DRF's token scheme had."""

    target_class = "cms.api.authentication.ApiTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": 'Token-based authentication with required prefix "Token" '
            "(keys from `manage.py create_api_token`; they expire).",
        }
