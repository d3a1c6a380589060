"""Shared mapping of service exceptions to API errors, used by every app's API views.

- django ``ValidationError`` → 400 ``{"detail": "field : message", "errors": {field: [...]}}``
- django ``PermissionDenied`` → 403
- ``cms.exceptions.Conflict`` ("valid request, wrong moment") → 409

and Django's CSRF refusal (``CSRF_FAILURE_VIEW``) → JSON 403 under /api/.
"""

from contextlib import contextmanager

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from rest_framework import exceptions, status

from cms.exceptions import Conflict


class ConflictError(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "Conflict."
    default_code = "conflict"


def invalid(errors):
    """A 400 whose ``detail`` names the field(s) and whose ``errors`` maps them to messages."""
    errors = {
        field: [str(m) for m in messages] if isinstance(messages, list | tuple) else [str(messages)]
        for field, messages in errors.items()
    }
    detail = " ".join(f"{field} : {' '.join(messages)}" for field, messages in errors.items())
    return exceptions.ValidationError({"detail": detail, "errors": errors})


def validated(serializer):
    """The serializer's validated data, or a 400 naming the field(s)."""
    if not serializer.is_valid():
        raise invalid(serializer.errors)
    return serializer.validated_data


@contextmanager
def service_errors(*conflicts):
    """Map the services' exceptions to API errors: 400 (naming the field), 403, and 409 for
    ``cms.exceptions.Conflict`` (and any further exception classes given in ``conflicts``)."""
    conflicts = (Conflict, *conflicts)
    try:
        yield
    except DjangoValidationError as exc:
        raise invalid(exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}) from exc
    except DjangoPermissionDenied as exc:
        raise exceptions.PermissionDenied(str(exc) or None) from exc
    except conflicts as exc:
        raise ConflictError(str(exc)) from exc


def csrf_failure(request, reason=""):
    """``CSRF_FAILURE_VIEW``: JSON 403 for the API (a client reads ``detail``, not a page),
    the themed French page (``403_csrf.html``) elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse(
            {"detail": _("Vérification CSRF échouée : %(reason)s") % {"reason": reason or _("jeton absent ou invalide.")}},
            status=403,
        )
    return render(request, "403_csrf.html", {"reason": reason}, status=403)
