import logging

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation, TooManyFieldsSent, TooManyFilesSent
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework.response import Response
from rest_framework.views import exception_handler

from cms.exceptions import Conflict

security_logger = logging.getLogger("django.security")


def json_exception_handler(exc, context):
    """Every error is JSON with a readable ``detail``; field errors stay under ``errors``."""
    if isinstance(exc, SuspiciousOperation):
        return suspicious_operation(exc)
    if isinstance(exc, Conflict):  # raised by an action outside ``service_errors``
        return Response({"detail": str(exc)}, status=409)
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


def suspicious_operation(exc):
    """What Django answers with its HTML 400 page (too many form fields, a form body over
    ``DATA_UPLOAD_MAX_MEMORY_SIZE``…), as JSON; logged as Django logs it."""
    security_logger.getChild(exc.__class__.__name__).error(str(exc))
    if isinstance(exc, TooManyFieldsSent):
        detail = _("Trop de champs dans la requête.")
    elif isinstance(exc, TooManyFilesSent):
        detail = _("Trop de fichiers dans la requête.")
    elif isinstance(exc, RequestDataTooBig):
        detail = _("Les données du formulaire dépassent la taille autorisée (hors fichiers).")
    else:
        detail = _("Requête refusée.")
    return Response({"detail": detail}, status=400)
