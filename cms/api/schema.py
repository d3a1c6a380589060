"""OpenAPI helpers shared by the apps' API views (drf-spectacular)."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse

from cms.api.serializers import ErrorSerializer
from cms.converters import MAX_ID

# A database id, in a path (``<id:…>``) or a query-string filter: anything else answers 404
# (path) or 400 naming the parameter (query string).
ID_SCHEMA = {"type": "integer", "format": "int64", "minimum": 1, "maximum": MAX_ID}


# The error responses of every API view, each documented with the JSON error body.
ERRORS = {
    400: OpenApiResponse(ErrorSerializer, description=_("Paramètre ou donnée invalide (nommé dans errors).")),
    401: OpenApiResponse(ErrorSerializer, description=_("Authentification requise.")),
    403: OpenApiResponse(ErrorSerializer, description=_("Visible, mais action non permise à l'appelant.")),
    404: OpenApiResponse(ErrorSerializer, description=_("Introuvable ou non visible par l'appelant.")),
    409: OpenApiResponse(ErrorSerializer, description=_("Impossible dans l'état actuel : detail dit pourquoi.")),
}


def errors(*codes, **overrides):
    """The documented error responses ``codes``; ``overrides`` (e.g. ``e429=OpenApiResponse(...)``)
    add or replace one by its status code."""
    responses = {code: ERRORS[code] for code in codes}
    responses.update({int(key.lstrip("e")): response for key, response in overrides.items()})
    return responses


# A paginated list's 404: its ``cursor`` does not decode (a stale or hand-made link).
BAD_CURSOR = OpenApiResponse(ErrorSerializer, description=_("Curseur de pagination invalide."))


def id_parameter(name, description, *, path=False):
    """An id parameter, documented with its range."""
    location = OpenApiParameter.PATH if path else OpenApiParameter.QUERY
    return OpenApiParameter(name, dict(ID_SCHEMA), location, required=path, description=description)


def only_public_api(endpoints):
    """Keep /api/v1/ in the OpenAPI schema; Wagtail's internal admin API is not ours to document."""
    return [endpoint for endpoint in endpoints if endpoint[0].startswith("/api/v1/")]
