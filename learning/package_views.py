"""Site views of content packages (SCORM 1.2 / 2004): their files, the player, the launch.

- ``content``: a package's extracted files from private storage, same-origin, to its
  readers only (``learning.packages.access``), with their content type, HTTP range
  requests (video), long-lived caching (the folder is content-addressed: a file's bytes
  never change under its URL) and, for this view alone, the relaxed policy authoring
  tools need (inline scripts and ``eval``, framed by the player: ``frame-ancestors
  'self'`` and ``X-Frame-Options: SAMEORIGIN``); the rest of the site keeps its strict
  policy. Files are streamed: memory stays flat for a 200 MB video.
- ``player``: the player page of one attempt (``learning/package_player.html``): the
  organisation's table of contents, the SCO in an iframe, and the data the runtime
  (static ``learning/player.js`` with the vendored scorm-again) needs, as ``json_script``.
- ``launch``: the step page's « Commencer / Reprendre » form (POST), which opens or
  resumes an attempt through ``learning.services.launch_package`` and goes to the player;
  for a cmi5 step (field ``au``: which AU), to the AU's launch URL (cmi5 §8.1).
"""

import hashlib
import mimetypes
import posixpath
import re
from email.utils import formatdate

from csp.constants import SELF
from csp.decorators import csp_replace
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import FileResponse, Http404, HttpResponse, HttpResponseNotModified, StreamingHttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_http_methods, require_POST

from cms.storage import private_storage
from learning import services
from learning.choices import AttemptStatus
from learning.models import Package, PackageStepPage
from learning.packages import runtime
from learning.packages.access import can_read_package
from learning.views import ERRORS, _error_text, _visible_page

#: The policy of the content view only (django-csp 4: these directives replace the site's).
PACKAGE_CONTENT_POLICY = {
    "frame-ancestors": [SELF],
    "script-src": [SELF, "'unsafe-inline'", "'unsafe-eval'", "blob:"],
    "style-src": [SELF, "'unsafe-inline'", "blob:"],
    "img-src": [SELF, "data:", "blob:"],
    "media-src": [SELF, "data:", "blob:"],
    "font-src": [SELF, "data:"],
    "worker-src": [SELF, "blob:"],
}

#: ``Cache-Control`` of package files: the folder is named after the zip's SHA-256.
IMMUTABLE = "private, max-age=31536000, immutable"

CHUNK_SIZE = 64 * 1024

# Types ``mimetypes`` may not know (or knows differently from one system to another).
CONTENT_TYPES = {
    ".html": "text/html",
    ".htm": "text/html",
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".css": "text/css",
    ".json": "application/json",
    ".map": "application/json",
    ".xml": "application/xml",
    ".xsd": "application/xml",
    ".txt": "text/plain",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".ico": "image/x-icon",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".ttf": "font/ttf",
    ".otf": "font/otf",
    ".eot": "application/vnd.ms-fontobject",
    ".mp4": "video/mp4",
    ".m4v": "video/mp4",
    ".webm": "video/webm",
    ".ogv": "video/ogg",
    ".mp3": "audio/mpeg",
    ".m4a": "audio/mp4",
    ".ogg": "audio/ogg",
    ".oga": "audio/ogg",
    ".wav": "audio/wav",
    ".vtt": "text/vtt",
    ".srt": "text/plain",
    ".wasm": "application/wasm",
    ".pdf": "application/pdf",
    ".swf": "application/x-shockwave-flash",
}
DEFAULT_CONTENT_TYPE = "application/octet-stream"
TEXT_TYPES = {"application/json", "application/xml", "image/svg+xml", "application/javascript"}

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


# --- content ---------------------------------------------------------------------------------


def safe_package_path(path):
    """``path`` (from the URL) as a normalised relative path inside the package, or None
    when it tries to leave it or is not a plain path (``..``, absolute, NUL, backslash,
    drive letter, empty)."""
    if not path or "\x00" in path or "\\" in path or path.startswith("/"):
        return None
    parts = path.split("/")
    if any(part == ".." for part in parts) or re.match(r"^[A-Za-z]:", parts[0]):
        return None
    normalised = posixpath.normpath(path)
    if normalised in (".", "") or normalised.startswith(("../", "/")) or normalised == "..":
        return None
    return normalised


def content_type_for(path):
    """The ``Content-Type`` of a package file, with ``charset=utf-8`` for text other than
    HTML: an HTML page declares its own encoding (``<meta charset>``), which a header would
    override (older French content is often ISO-8859-1)."""
    extension = posixpath.splitext(path)[1].lower()
    kind = CONTENT_TYPES.get(extension) or mimetypes.guess_type(path)[0] or DEFAULT_CONTENT_TYPE
    if kind == "text/html":
        return kind
    if kind.startswith("text/") or kind in TEXT_TYPES:
        return f"{kind}; charset=utf-8"
    return kind


def parse_range(header, size):
    """``(start, end)`` (inclusive) for a single ``bytes=`` range, ``"unsatisfiable"``, or
    None to answer with the whole file (no header, several ranges, another unit, syntax
    the server may ignore)."""
    if not header:
        return None
    match = _RANGE.match(header.strip())
    if match is None:
        return None  # several ranges or another unit: the whole file (RFC 9110 allows it)
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # the last n bytes
        length = int(last)
        if length == 0 or size == 0:
            return "unsatisfiable"
        return max(0, size - length), size - 1
    start = int(first)
    end = int(last) if last else size - 1
    if last and end < start:
        return None  # invalid: ignored
    if start >= size:
        return "unsatisfiable"
    return start, min(end, size - 1)


def _ranged_chunks(handle, start, length):
    try:
        handle.seek(start)
        remaining = length
        while remaining > 0:
            chunk = handle.read(min(CHUNK_SIZE, remaining))
            if not chunk:
                break
            remaining -= len(chunk)
            yield chunk
    finally:
        handle.close()


def _etag(package_root, path, size):
    digest = hashlib.sha256(f"{package_root}\x00{path}\x00{size}".encode()).hexdigest()[:32]
    return f'"{digest}"'


def _etag_matches(header, etag):
    if not header:
        return False
    if header.strip() == "*":
        return True
    candidates = [item.strip().removeprefix("W/") for item in header.split(",")]
    return etag in candidates


def _last_modified(storage, name):
    try:
        modified = storage.get_modified_time(name)
    except (NotImplementedError, OSError):
        return None
    return formatdate(modified.timestamp(), usegmt=True)


@csp_replace(PACKAGE_CONTENT_POLICY)
@xframe_options_sameorigin
@require_http_methods(["GET", "HEAD"])
def content(request, package_uuid, path):
    """A file of a package, to its readers; 404 for anyone else (no leak of existence)."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    relative = safe_package_path(path)
    if relative is None:
        raise Http404(_("Ce fichier n'existe pas."))
    package = Package.objects.filter(uuid=package_uuid).only("pk", "sha256").first()
    if package is None or not can_read_package(request.user, package):
        raise Http404(_("Ce fichier n'existe pas."))
    storage = private_storage()
    name = f"{package.root}/{relative}"
    try:
        handle = storage.open(name, "rb")
        size = handle.size
    except OSError:  # missing, or a folder
        raise Http404(_("Ce fichier n'existe pas.")) from None

    etag = _etag(package.root, relative, size)
    headers = {
        "Cache-Control": IMMUTABLE,
        "ETag": etag,
        "Accept-Ranges": "bytes",
        "Vary": "Cookie",
    }
    last_modified = _last_modified(storage, name)
    if last_modified:
        headers["Last-Modified"] = last_modified
    if _etag_matches(request.headers.get("If-None-Match"), etag):
        handle.close()
        response = HttpResponseNotModified()
        for key, value in headers.items():
            response[key] = value
        return response

    content_type = content_type_for(relative)
    wanted = parse_range(request.headers.get("Range"), size)
    if_range = request.headers.get("If-Range")
    if wanted is not None and if_range and if_range.strip() not in (etag, last_modified):
        wanted = None  # the client's copy is another version: send it all
    if wanted == "unsatisfiable":
        handle.close()
        response = HttpResponse(status=416, content_type=content_type)
        response["Content-Range"] = f"bytes */{size}"
        for key, value in headers.items():
            response[key] = value
        return response

    if request.method == "HEAD":
        handle.close()
        response = HttpResponse(content_type=content_type)
        response["Content-Length"] = str(size)
    elif wanted is None:
        response = FileResponse(handle, content_type=content_type)
        response["Content-Length"] = str(size)
    else:
        start, end = wanted
        length = end - start + 1
        response = StreamingHttpResponse(_ranged_chunks(handle, start, length), status=206, content_type=content_type)
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
        response["Content-Length"] = str(length)
    for key, value in headers.items():
        response[key] = value
    return response


# --- player and launch -----------------------------------------------------------------------


def _player_data(context):
    """What ``learning/player.js`` reads (``json_script``): the runtime's inputs and the
    sentences it shows (translated here, so the script holds no text)."""
    attempt = context["attempt"]
    try:
        attempt_url = reverse("api-package-attempt", args=[attempt.pk])
    except NoReverseMatch:  # the API is mounted with the runtime; the player still works without it
        attempt_url = None
    return {
        "attempt": attempt.pk,
        "standard": context["standard"],
        "sco": context["sco"]["identifier"] if context.get("sco") else None,
        "content_url": context["content_url"],
        "cmi": context["cmi"],
        "mode": context["mode"],
        "commit_url": context["commit_url"],
        "beacon_url": context["beacon_url"],
        "attempt_url": attempt_url,
        "last_seq": context["last_seq"],
        "previous_url": context.get("previous_url"),
        "next_url": context.get("next_url"),
        "step_url": context["step_url"],
        "choice_urls": _choice_urls(context.get("toc") or []),
        # Elements Parcours sets (the server refuses them in a commit) and suffixes it ignores.
        "read_only": sorted(runtime.READ_ONLY),
        "read_only_prefixes": [*runtime.READ_ONLY_PREFIXES],
        "ignored_suffixes": [*runtime.IGNORED_SUFFIXES],
        "messages": {
            "saving": _("Enregistrement…"),
            "saved": _("Enregistré"),
            "failed": _("Échec de l'enregistrement, nouvel essai…"),
            "refused": _("L'enregistrement a été refusé : %(detail)s"),
            "review": _("Mode révision : vos réponses ne sont pas enregistrées."),
            "terminated": _("Session terminée et enregistrée."),
            "leaving": _("Ouverture de la suite du module…"),
            "offline": _("Connexion perdue : vos données seront envoyées dès son retour."),
            "unavailable": _("Le lecteur SCORM n'a pas pu démarrer : rechargez la page."),
        },
        "status_labels": {value: str(label) for value, label in AttemptStatus.choices},
    }


def _choice_urls(nodes):
    """``{launchable identifier: player URL}`` over the whole tree (choice navigation)."""
    found = {}
    for node in nodes:
        if node.get("sco") and node.get("url"):
            found[node["sco"]] = node["url"]
        found.update(_choice_urls(node.get("children") or []))
    return found


def _current_title(nodes):
    for node in nodes:
        if node.get("current"):
            return node.get("title")
        title = _current_title(node.get("children") or [])
        if title:
            return title
    return None


@login_required
@require_http_methods(["GET", "HEAD"])
def player(request, attempt_id):
    """The player page of the caller's own attempt (404 for anyone else's). A cmi5
    registration has no player (its AUs are launched from the step page): back there."""
    own = services.attempt_detail(user=request.user, attempt_id=attempt_id)
    if own.registration is not None:
        return redirect(own.step.get_url(request) or "/")
    context = services.player_context(user=request.user, attempt_id=attempt_id, sco=request.GET.get("sco"))
    context = dict(context)
    context["player_data"] = _player_data(context)
    context["sco_title"] = _current_title(context.get("toc") or []) or (context.get("sco") or {}).get("title", "")
    return TemplateResponse(request, "learning/package_player.html", context)


@require_POST
def launch(request, step_id):
    """Start or resume the step's attempt, then open the player; refusals as messages."""
    step = _visible_page(PackageStepPage, step_id, request)
    step_url = step.get_url(request)
    if not request.user.is_authenticated:
        return redirect_to_login(step_url)
    au = request.POST.get("au") or None
    mode = request.POST.get("mode") or None
    try:
        attempt = services.launch_package(
            user=request.user, step=step, au=au[:2000] if au else None, mode=mode[:20] if mode else None
        )
    except ERRORS as exc:
        messages.error(request, _error_text(exc))
        return redirect(step_url)
    if getattr(attempt, "launch_url", None):  # cmi5: the AU itself, in this window (§8.1)
        return redirect(attempt.launch_url)
    return redirect(reverse("learning:package_player", args=[attempt.pk]))

