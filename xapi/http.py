"""The protocol around the resources (Part Three section 1): the request as the LRS reads it
(alternate request syntax folded in), multipart/mixed bodies, and the response headers every
answer carries (version, CORS)."""

import json
import re
import secrets
from urllib.parse import parse_qsl

from django.http import HttpResponse

from xapi import validation
from xapi.errors import XAPIBadRequest

XAPI_VERSION = "1.0.3"
METHODS = ("GET", "PUT", "POST", "DELETE")
FORM_HEADERS = {
    "authorization": "authorization",
    "x-experience-api-version": "x-experience-api-version",
    "content-type": "content-type",
    "content-length": "content-length",
    "if-match": "if-match",
    "if-none-match": "if-none-match",
}
CORS_ALLOW_HEADERS = (
    "Authorization, Content-Type, Content-Length, X-Experience-API-Version, If-Match, If-None-Match, "
    "X-Requested-With, Accept, Accept-Language, X-CSRFToken"
)
CORS_EXPOSE_HEADERS = "ETag, Last-Modified, Content-Type, X-Experience-API-Consistent-Through, X-Experience-API-Version"
MAX_FORM_FIELDS = 100
BOUNDARY_RE = re.compile(r'boundary="?([^";]{1,200})"?', re.IGNORECASE)


class XRequest:
    """What the resource sees: the intended method, single-valued parameters, headers (lower
    case) and the body, whichever syntax carried them."""

    def __init__(self, django_request):
        self.django = django_request
        self.head = django_request.method == "HEAD"
        self.alternate = False
        self.headers = {key.lower(): value for key, value in django_request.headers.items()}
        if django_request.method == "POST" and "method" in django_request.GET:
            self._alternate(django_request)
        else:
            self.method = "GET" if self.head else django_request.method
            self.params = _single_values(django_request.GET.lists())
            self.body = django_request.body

    def _alternate(self, request):
        """Part Three 1.3: everything but ``method`` comes in the form-encoded body."""
        self.alternate = True
        if list(request.GET) != ["method"] or len(request.GET.getlist("method")) != 1:
            raise XAPIBadRequest("alternate request syntax: the query string must hold only the method parameter")
        self.method = request.GET["method"].upper()
        if self.method not in METHODS:
            raise XAPIBadRequest("method: must be GET, PUT, POST or DELETE")
        try:
            text = request.body.decode("utf-8")
            fields = parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS)
        except UnicodeDecodeError:
            raise XAPIBadRequest("alternate request syntax: the form body is not valid UTF-8") from None
        except ValueError:
            raise XAPIBadRequest(f"alternate request syntax: more than {MAX_FORM_FIELDS} form fields") from None
        params = []
        self.body = b""
        content_type_seen = False
        for name, value in fields:
            lowered = name.lower()
            if lowered in FORM_HEADERS:
                self.headers[FORM_HEADERS[lowered]] = value
                content_type_seen |= lowered == "content-type"
            elif name == "content":
                self.body = value.encode("utf-8")
            else:
                params.append((name, [value]))
        if not content_type_seen:
            self.headers["content-type"] = "application/json"
        self.params = _single_values(params)

    def header(self, name, default=None):
        return self.headers.get(name.lower(), default)

    @property
    def content_type(self):
        return (self.header("content-type") or "").split(";")[0].strip().lower()

    @property
    def unsafe(self):
        return self.method in ("PUT", "POST", "DELETE")


def _single_values(lists):
    params = {}
    for name, values in lists:
        if name in params or len(values) != 1:
            raise XAPIBadRequest(f"{name}: parameter given more than once")
        params[name] = values[0]
    return params


def check_version(xrequest):
    version = xrequest.header("x-experience-api-version")
    if version is None:
        raise XAPIBadRequest("X-Experience-API-Version: header is required (1.0.x)")
    if not validation.VERSION_RE.match(version.strip()):
        raise XAPIBadRequest(f"X-Experience-API-Version: {version[:20]!r} is not supported (1.0.x)")


def check_params(params, allowed, what):
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        raise XAPIBadRequest(f"{unknown[0]}: is not a parameter of {what}")


# --- multipart/mixed ----------------------------------------------------------------------------


def parse_multipart(body, content_type_header):
    """``(statements JSON bytes, {sha2: (content type, bytes)})`` of a multipart/mixed request
    (Part Three 1.5.2): the first part is the statements, each other part an attachment."""
    match = BOUNDARY_RE.search(content_type_header or "")
    if match is None:
        raise XAPIBadRequest("Content-Type: multipart/mixed needs a boundary parameter")
    delimiter = b"--" + match.group(1).encode("latin-1")
    body = bytes(body)
    start = body.find(delimiter)
    if start < 0:
        raise XAPIBadRequest("multipart body: the boundary does not appear in the body")
    chunks = body[start + len(delimiter) :].split(b"\r\n" + delimiter)
    if not chunks or not chunks[-1].startswith(b"--"):
        raise XAPIBadRequest("multipart body: the closing boundary is missing")
    parts = []
    for index, chunk in enumerate(chunks[:-1]):
        if not chunk.startswith(b"\r\n"):
            raise XAPIBadRequest(f"multipart part {index}: the boundary must be followed by CRLF")
        head, sep, content = chunk[2:].partition(b"\r\n\r\n")
        if not sep:
            if chunk[2:].startswith(b"\r\n"):  # no header at all
                head, content = b"", chunk[4:]
            else:
                raise XAPIBadRequest(f"multipart part {index}: headers must end with an empty line")
        headers = {}
        try:
            lines = head.decode("utf-8").split("\r\n") if head else []
        except UnicodeDecodeError:
            raise XAPIBadRequest(f"multipart part {index}: headers are not valid UTF-8") from None
        for line in lines:
            name, colon, value = line.partition(":")
            if not colon:
                raise XAPIBadRequest(f"multipart part {index}: malformed header line")
            headers[name.strip().lower()] = value.strip()
        parts.append((headers, content))
    if not parts:
        raise XAPIBadRequest("multipart body: the statements part is missing")
    first_headers, statements = parts[0]
    if first_headers.get("content-type", "").split(";")[0].strip().lower() != "application/json":
        raise XAPIBadRequest("multipart part 0: the statements part must have Content-Type application/json")
    attachments = {}
    for index, (headers, content) in enumerate(parts[1:], start=1):
        sha2 = headers.get("x-experience-api-hash")
        if not sha2 or not validation.SHA2_RE.match(sha2):
            raise XAPIBadRequest(f"multipart part {index}: X-Experience-API-Hash header is required (a SHA-2 digest)")
        if headers.get("content-transfer-encoding", "").lower() != "binary":
            raise XAPIBadRequest(f"multipart part {index}: Content-Transfer-Encoding must be binary")
        attachments[sha2.lower()] = (headers.get("content-type", "application/octet-stream")[:255], content)
    return statements, attachments


def multipart_response(document, attachments, status=200):
    boundary = secrets.token_hex(16)
    delimiter = f"--{boundary}".encode()
    chunks = [delimiter, b"\r\nContent-Type: application/json\r\n\r\n", json_bytes(document)]
    for sha2, content_type, content in attachments:
        chunks += [
            b"\r\n", delimiter,
            f"\r\nContent-Type: {content_type}\r\nContent-Transfer-Encoding: binary\r\n"
            f"X-Experience-API-Hash: {sha2}\r\n\r\n".encode(),
            content,
        ]  # fmt: skip
    chunks += [b"\r\n", delimiter, b"--\r\n"]
    return HttpResponse(b"".join(chunks), status=status, content_type=f'multipart/mixed; boundary="{boundary}"')


# --- responses ----------------------------------------------------------------------------------------


def json_bytes(value):
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def json_response(value, status=200):
    return HttpResponse(json_bytes(value), status=status, content_type="application/json; charset=utf-8")


def error_response(exc):
    response = json_response({"error": {"code": exc.status, "message": exc.message}}, status=exc.status)
    for name, value in exc.headers.items():
        response[name] = value
    return response


def finish(request, response, *, head=False):
    """The headers of every LRS answer: version and CORS; HEAD keeps the headers, drops the body."""
    response["X-Experience-API-Version"] = XAPI_VERSION
    origin = request.headers.get("Origin")
    response["Access-Control-Allow-Origin"] = origin if origin else "*"
    if origin:
        response["Vary"] = "Origin"
    response["Access-Control-Expose-Headers"] = CORS_EXPOSE_HEADERS
    response["Cache-Control"] = "no-store"
    if head and not response.streaming:
        response["Content-Length"] = str(len(response.content))
        response.content = b""
    return response


def preflight(request, allow):
    response = HttpResponse(status=200)
    response["Access-Control-Allow-Methods"] = allow
    response["Access-Control-Allow-Headers"] = CORS_ALLOW_HEADERS
    response["Access-Control-Max-Age"] = "86400"
    response["Allow"] = allow
    return finish(request, response)
