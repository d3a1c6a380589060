"""Request guards that run before any view."""

import re
import tempfile

from django.conf import settings
from django.core.handlers.exception import response_for_exception
from django.core.handlers.wsgi import LimitedStream
from django.db import DataError
from django.http import Http404, HttpResponse, JsonResponse
from django.utils.translation import gettext as _

DEFAULT_MAX_REQUEST_BODY_BYTES = 12 * 1024 * 1024
_READ_CHUNK = 64 * 1024


def is_api(request):
    return request.path.startswith("/api/")


def is_out_of_range_integer(exc):
    """The database refused an integer parameter beyond its range: SQLite raises
    ``OverflowError`` ("Python int too large to convert to SQLite INTEGER") when binding it,
    PostgreSQL ``DataError`` with SQLSTATE 22003 (numeric_value_out_of_range)."""
    if isinstance(exc, OverflowError):
        return "SQLite INTEGER" in str(exc)
    if isinstance(exc, DataError):
        return getattr(exc.__cause__, "sqlstate", None) == "22003"
    return False


class RequestBodyLimitMiddleware:
    """Guards against oversized bodies and out-of-range ids.

    * A body declared larger than ``MAX_REQUEST_BODY_BYTES`` (``Content-Length``) is refused
      (413) before Django reads or spools it. The reverse proxy sets the same limit
      (docs/deployment.md).
    * A chunked body (``Transfer-Encoding: chunked``, no ``Content-Length``) is read here,
      at most ``MAX_REQUEST_BODY_BYTES + 1`` bytes, into a spooled temporary file (memory
      up to ``FILE_UPLOAD_MAX_MEMORY_SIZE``, then disk): over the limit → 413; otherwise
      the view reads it as if its length had been declared. This needs a server that
      decodes chunked bodies and says so (``wsgi.input_terminated``: gunicorn does);
      elsewhere (runserver) Django reads such a body as empty, as it always has.
    * An id beyond the database's integer range that reached a query anyway (a query-string
      parameter, a form field, a route of a third-party app) answers 404 rather than 500.
      Routes of our own use the ``<id:…>`` converter (cms/converters.py) and never get here.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    @staticmethod
    def limit_for(request):
        """``MAX_REQUEST_BODY_BYTES``, or the larger limit ``REQUEST_BODY_LIMITS`` gives the
        path's prefix, or the path when the key is a regular expression (starting with ``^``):
        the admin's package import and the package step's page form take zips up to
        ``PACKAGE_UPLOAD_MAX_BYTES``."""
        for prefix, limit in getattr(settings, "REQUEST_BODY_LIMITS", {}).items():
            if re.match(prefix, request.path) if prefix.startswith("^") else request.path.startswith(prefix):
                return int(limit)
        return int(getattr(settings, "MAX_REQUEST_BODY_BYTES", DEFAULT_MAX_REQUEST_BODY_BYTES))

    def __call__(self, request):
        limit = self.limit_for(request)
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > limit:
            return self.too_large(request, limit)
        spool = None
        if self.is_chunked(request):
            spool = self.read_chunked(request, limit)
            if spool is None:
                return self.too_large(request, limit)
        try:
            return self.get_response(request)
        finally:
            if spool is not None:
                spool.close()

    @staticmethod
    def is_chunked(request):
        meta = request.META
        return (
            not meta.get("CONTENT_LENGTH")
            and "chunked" in meta.get("HTTP_TRANSFER_ENCODING", "").lower()
            and bool(meta.get("wsgi.input_terminated"))
            and "wsgi.input" in meta
        )

    @staticmethod
    def read_chunked(request, limit):
        """The body in a spooled file, set as the request's stream; ``None`` when over ``limit``."""
        source = request.META["wsgi.input"]
        spool = tempfile.SpooledTemporaryFile(max_size=settings.FILE_UPLOAD_MAX_MEMORY_SIZE)
        size = 0
        while chunk := source.read(min(_READ_CHUNK, limit + 1 - size)):
            size += len(chunk)
            if size > limit:
                spool.close()
                return None
            spool.write(chunk)
        spool.seek(0)
        request.META["CONTENT_LENGTH"] = str(size)
        request._stream = LimitedStream(spool, size)
        return spool

    @staticmethod
    def too_large(request, limit):
        message = _("La requête dépasse la taille maximale autorisée (%(mb)s Mo).") % {"mb": limit // (1024 * 1024)}
        if is_api(request):
            return JsonResponse({"detail": message}, status=413)
        return HttpResponse(message, status=413, content_type="text/plain; charset=utf-8")

    def process_exception(self, request, exception):
        if not is_out_of_range_integer(exception):
            return None
        if is_api(request):
            return JsonResponse({"detail": _("Introuvable.")}, status=404)
        return response_for_exception(request, Http404(_("Identifiant hors limites.")))


class RequestIdMiddleware:
    """First middleware: one id per request (a sane incoming ``X-Request-ID`` or a new one),
    on ``request.request_id``, in every log record written while the request is served
    (cms/request_id.py) and in the response's ``X-Request-ID`` header."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from cms import request_id

        value = request_id.from_header(request.META.get(request_id.META_KEY))
        request.request_id = value
        token = request_id.set(value)
        try:
            response = self.get_response(request)
        finally:
            request_id.reset(token)
        response[request_id.HEADER] = value
        return response
