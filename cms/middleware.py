"""Request guards that run before any view."""

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.utils.translation import gettext as _


class RequestBodyLimitMiddleware:
    """Refuse early (413) a request whose declared body exceeds ``MAX_REQUEST_BODY_BYTES``,
    before Django reads or spools it. The reverse proxy sets the same limit (docs/deployment.md)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        limit = int(getattr(settings, "MAX_REQUEST_BODY_BYTES", 12 * 1024 * 1024))
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > limit:
            message = _("La requête dépasse la taille maximale autorisée (%(mb)s Mo).") % {"mb": limit // (1024 * 1024)}
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": message}, status=413)
            return HttpResponse(message, status=413, content_type="text/plain; charset=utf-8")
        return self.get_response(request)
