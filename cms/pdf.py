"""PDF documents shared by every app: local-only rendering with WeasyPrint, French dates and
names as administrative documents write them, and the render → lock → store routine.

Rendering needs no HTTP request at all: the URL fetcher only serves ``data:`` URIs and
``file://`` paths under the project's static directories, and refuses everything else (a
template or a rich-text value can never make the worker fetch a URL of the intranet, nor
call the site itself). Templates inline their stylesheet.

Storing (:func:`render_and_store`): the document is rendered outside any lock; the row is
then locked and checked again, so that two workers rendering at once store one file only,
on the private storage (never under a public URL).
"""

import logging
import mimetypes
import os
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import formats, timezone, translation
from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse, path2url

logger = logging.getLogger(__name__)

# --- local-only URL fetcher ------------------------------------------------------------------


class RefusedURL(ValueError):
    """A resource the PDF renderer will not fetch."""


def static_roots():
    """Directories whose files the renderer may read: STATIC_ROOT and every static finder location."""
    from django.contrib.staticfiles.finders import get_finders

    roots = []
    if settings.STATIC_ROOT:
        roots.append(Path(settings.STATIC_ROOT))
    for finder in get_finders():
        for storage in getattr(finder, "storages", {}).values():
            location = getattr(storage, "location", None)
            if location:
                roots.append(Path(location))
    unique = []
    for root in roots:
        resolved = Path(os.path.realpath(root))
        if resolved.is_dir() and resolved not in unique:
            unique.append(resolved)
    return unique


def static_base_url():
    """``file://`` URL of the local static directory, used as WeasyPrint's base_url."""
    roots = static_roots()
    base = roots[0] if roots else Path(settings.BASE_DIR)
    return path2url(str(base)).rstrip("/") + "/"


class LocalURLFetcher(URLFetcher):
    """Serves ``data:`` URIs and files under the static directories; refuses the rest.

    No network access whatsoever: http(s), ftp and files elsewhere on disk raise
    :class:`RefusedURL` (WeasyPrint logs a warning and leaves the resource out).
    """

    def __init__(self, roots=None, **kwargs):
        super().__init__(allowed_protocols=("data", "file"), allow_redirects=False, **kwargs)
        self.roots = [Path(os.path.realpath(r)) for r in (roots if roots is not None else static_roots())]

    def fetch(self, url, headers=None):
        scheme = urlsplit(url).scheme.lower()
        if scheme == "data":
            return super().fetch(url, headers)  # decoded by urllib's DataHandler, in memory
        if scheme != "file":
            raise RefusedURL(f"Ressource refusée (seuls les fichiers statiques locaux sont autorisés) : {url}")
        parts = urlsplit(url)
        if parts.netloc not in ("", "localhost"):
            raise RefusedURL(f"Ressource refusée (hôte distant) : {url}")
        path = Path(os.path.realpath(url2pathname(parts.path)))
        if not any(path.is_relative_to(root) for root in self.roots) or not path.is_file():
            raise RefusedURL(f"Ressource refusée (hors des répertoires statiques) : {url}")
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(path2url(str(path)), path.read_bytes(), {"Content-Type": content_type})


def render_pdf(html, **options):
    """``html`` laid out by WeasyPrint from local files only; PDF bytes. ``options`` go to
    ``write_pdf`` (e.g. ``pdf_variant="pdf/a-2a"``)."""
    document = HTML(string=html, base_url=static_base_url(), url_fetcher=LocalURLFetcher())
    return document.write_pdf(**options)


# --- French dates and names ------------------------------------------------------------------


def french_date(moment):
    """« 1er mars 2026 », « 12 mars 2026 » (local date of an aware datetime)."""
    if moment is None:
        return ""
    day = timezone.localtime(moment).date() if hasattr(moment, "hour") else moment
    text = formats.date_format(day, "j F Y")
    if day.day == 1 and translation.get_language() == "fr":
        text = "1er" + text[1:]
    return text


def display_name(user):
    """« Prénom NOM », as French administrative documents write names."""
    first, last = (user.first_name or "").strip(), (user.last_name or "").strip()
    if first or last:
        return " ".join(part for part in (first, last.upper()) if part)
    return user.get_username()


# --- render → lock → store -------------------------------------------------------------------

STORE = object()
"""What ``decide`` returns when the locked row still wants its file."""


def render_and_store(instance, field, name, render, *, decide, fields=(), replace=False):
    """Render a document and store it once as ``instance.<field>`` under ``name``.

    ``render()`` is called first, outside any lock (it may take seconds). The row is then
    locked (``SELECT … FOR UPDATE``, loading ``pk``, ``field``, ``updated_at`` and
    ``fields``) and ``decide(locked)`` tells whether it still wants the file: it returns
    :data:`STORE`, or the value to return at once (another worker stored it meanwhile, the
    row changed): nothing is written then. With ``replace``, a file already at ``name``
    that no row points to (left by an interrupted run) is deleted first.

    The file is saved on the field's storage and the row updated in the same transaction
    (``updated_at`` is bumped); if anything fails, the saved file is deleted again. Returns
    ``instance`` with its field and ``updated_at`` set to what was stored.
    """
    content = render()
    model = type(instance)
    storage = getattr(instance, field).storage
    stored = None
    try:
        with transaction.atomic():
            locked = (
                model._default_manager.select_for_update()
                .only("pk", field, "updated_at", *fields)
                .get(pk=instance.pk)
            )
            verdict = decide(locked)
            if verdict is not STORE:
                return verdict
            if replace and storage.exists(name):
                storage.delete(name)
            stored = storage.save(name, ContentFile(content))
            getattr(locked, field).name = stored
            locked.save(update_fields=[field, "updated_at"])
    except BaseException:
        if stored:
            storage.delete(stored)
        raise
    getattr(instance, field).name = stored
    instance.updated_at = locked.updated_at
    logger.info("%s %s: %s stored as %s", model._meta.label, instance.pk, field, stored)
    return instance
