"""Bearer-token authentication of the SCIM endpoints (RFC 6750 header, RFC 7644 §2).

django-scim2 wraps each SCIM view's ``dispatch`` in ``AUTH_CHECK_MIDDLEWARE``: this one
accepts only ``Authorization: Bearer <token>`` with a token from ``create_scim_token`` that is
not revoked. A browser session (even a superuser's) is not a provisioning client.
"""

import json

from django.http import HttpResponse
from django.utils.translation import gettext as _
from django_scim import constants
from django_scim.middleware import SCIMAuthCheckMiddleware

from provisioning import tokens


def is_scim_client(user):
    """django-scim2's predicate on ``request.user``: never enough here (see the middleware)."""
    return False


def scim_error(status, detail, scim_type=None):
    body = {"schemas": [constants.SchemaURI.ERROR], "detail": str(detail), "status": str(status)}
    if scim_type:
        body["scimType"] = scim_type
    return HttpResponse(json.dumps(body), content_type=constants.SCIM_CONTENT_TYPE, status=status)


class BearerTokenMiddleware(SCIMAuthCheckMiddleware):
    def process_request(self, request):
        if self.should_log_request(request):
            self.log_request(request)
        header = request.META.get("HTTP_AUTHORIZATION", "")
        scheme, _sep, credentials = header.partition(" ")
        token = tokens.authenticate(credentials.strip()) if scheme.lower() == "bearer" else None
        if token is None:
            response = scim_error(401, _("Jeton SCIM absent, invalide ou révoqué."))
            response["WWW-Authenticate"] = 'Bearer realm="Parcours SCIM"'
            return response
        request.scim_token = token
        return None
