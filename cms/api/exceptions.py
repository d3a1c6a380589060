from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework.views import exception_handler


def json_exception_handler(exc, context):
    """Every error is JSON with a readable ``detail``; field errors stay under ``errors``."""
    response = exception_handler(exc, context)
    if response is None:
        return None
    data = response.data
    if isinstance(exc, Http404):
        data = {"detail": _("Introuvable.")}
    elif isinstance(data, dict) and "detail" not in data:
        data = {"detail": _("Certaines données sont invalides."), "errors": data}
    elif isinstance(data, list):
        data = {"detail": " ".join(str(item) for item in data), "errors": data}
    response.data = data
    return response
