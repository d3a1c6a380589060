"""OpenAPI helpers shared by the apps' API views (drf-spectacular)."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse

from cms.api.serializers import ErrorSerializer
from cms.converters import MAX_ID

# A database id, in a path (``<id:…>``) or a query-string filter: anything else answers 404
# (path) or 400 naming the parameter (query string).
ID_SCHEMA = {"type": "integer", "format": "int64", "minimum": 1, "maximum": MAX_ID}


# A paginated list's 404: its ``cursor`` does not decode (a stale or hand-made link).
BAD_CURSOR = OpenApiResponse(ErrorSerializer, description=_("Curseur de pagination invalide."))


def id_parameter(name, description, *, path=False):
    """An id parameter, documented with its range."""
    location = OpenApiParameter.PATH if path else OpenApiParameter.QUERY
    return OpenApiParameter(name, dict(ID_SCHEMA), location, required=path, description=description)


def only_public_api(endpoints):
    """Keep /api/v1/ in the OpenAPI schema; Wagtail's internal admin API is not ours to document."""
    return [endpoint for endpoint in endpoints if endpoint[0].startswith("/api/v1/")]
