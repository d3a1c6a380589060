"""Training certificates ("attestations de formation"): PDF rendering, storage, verification.

The PDF is rendered by WeasyPrint from ``learning/pdf/certificate.html`` with the CSS
inlined, so that rendering needs no HTTP request at all: the URL fetcher only serves
``data:`` URIs and ``file://`` paths under the project's static directories, and refuses
everything else (a template or a rich-text value can never make the worker fetch a URL
of the intranet, nor call the site itself).

The file is stored once, on the private storage (``settings.PRIVATE_ROOT``, never under a
public URL), as ``certificates/<year of completion>/<code>.pdf``.
"""

import base64
import logging
import mimetypes
import os
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

import segno
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse, path2url

from learning.choices import EnrollmentStatus
from learning.models import Enrollment

logger = logging.getLogger(__name__)

TEMPLATE = "learning/pdf/certificate.html"
VERIFY_PATH = "/formation/attestations/verifier/{code}/"
DEFAULT_PRIMARY = "#1f4e8c"
MAX_LOGO_BYTES = 2 * 1024 * 1024


# --- URLs ----------------------------------------------------------------------------------


def verification_url(code):
    """Absolute URL of the public verification page of a certificate code."""
    try:
        path = reverse("learning:certificate_verify", kwargs={"code": code})
    except NoReverseMatch:  # the verification view is not routed (yet): same path by hand
        path = VERIFY_PATH.format(code=code)
    return settings.WAGTAILADMIN_BASE_URL.rstrip("/") + path


# --- local-only URL fetcher ------------------------------------------------------------------


class RefusedURL(ValueError):
    """A resource the certificate renderer will not fetch."""


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


# --- rendering -------------------------------------------------------------------------------


def french_date(moment):
    """« 1er mars 2026 », « 12 mars 2026 » (local date of an aware datetime)."""
    if moment is None:
        return ""
    day = timezone.localtime(moment).date() if hasattr(moment, "hour") else moment
    text = formats.date_format(day, "j F Y")
    if day.day == 1 and translation.get_language() == "fr":
        text = "1er" + text[1:]
    return text


def _duration(minutes):
    if not minutes:
        return ""
    hours, rest = divmod(minutes, 60)
    if not hours:
        return ngettext("%(m)d minute", "%(m)d minutes", rest) % {"m": rest}
    if not rest:
        return ngettext("%(h)d heure", "%(h)d heures", hours) % {"h": hours}
    return _("%(h)d h %(m)02d") % {"h": hours, "m": rest}


def _theme():
    """Organisation name, primary colour and logo (data: URI) of the default site's theme settings."""
    from themes.models import ThemeSettings

    row = ThemeSettings.objects.filter(site__is_default_site=True).select_related("logo").first()
    theme = {"organisation_name": "", "primary": DEFAULT_PRIMARY, "logo": None}
    if row is None:
        return theme
    theme["organisation_name"] = row.organisation_name
    if row.theme == "default" and row.primary_colour:
        theme["primary"] = row.primary_colour
    if row.logo_id:
        theme["logo"] = _logo_data_uri(row.logo)
    return theme


def _logo_data_uri(image):
    """The logo inlined as a data: URI (read through its storage: works with object storage too)."""
    try:
        content_type = mimetypes.guess_type(image.file.name)[0]
        if content_type not in {"image/png", "image/jpeg", "image/gif", "image/svg+xml", "image/webp"}:
            return None
        if image.file.size > MAX_LOGO_BYTES:
            return None
        with image.file.open("rb") as handle:
            data = handle.read()
    except Exception:  # a missing logo file must never prevent issuing a certificate
        logger.warning("Logo illisible pour l'attestation (image %s)", image.pk, exc_info=True)
        return None
    return f"data:{content_type};base64,{base64.b64encode(data).decode('ascii')}"


def qr_data_uri(url):
    """QR code of ``url`` as an SVG data: URI (vector: sharp at any print size)."""
    return segno.make(url, error="m", micro=False).svg_data_uri(scale=4, border=0, dark="#000000")


def display_name(user):
    """« Prénom NOM », as French administrative documents write names."""
    first, last = (user.first_name or "").strip(), (user.last_name or "").strip()
    if first or last:
        return " ".join(part for part in (first, last.upper()) if part)
    return user.get_username()


def certificate_context(enrollment, *, now=None):
    now = now or timezone.now()
    code = enrollment.certificate_code
    url = verification_url(code)
    agent, course = enrollment.agent, enrollment.course
    return {
        "full_name": agent.full_name,
        "display_name": display_name(agent.user),
        "course_title": course.title,
        "duration": _duration(course.estimated_minutes),
        "completed_on": french_date(enrollment.completed_at),
        "expires_on": french_date(enrollment.expires_at),
        "has_expiry": enrollment.expires_at is not None,
        "code": code,
        "verification_url": url,
        "qr": qr_data_uri(url),
        "theme": _theme(),
        "site_name": settings.WAGTAIL_SITE_NAME,
        "generated_on": french_date(now),
    }


def certificate_html(enrollment, *, language=None):
    """The certificate as an HTML string (what WeasyPrint lays out)."""
    with translation.override(language or settings.LANGUAGE_CODE):
        return render_to_string(TEMPLATE, certificate_context(enrollment))


def render_certificate_pdf(enrollment, *, language=None):
    """The certificate of a completed enrolment, as PDF bytes (A4 landscape)."""
    if not enrollment.certificate_code:
        raise ValueError("Cette inscription n'a pas de code d'attestation.")
    html = certificate_html(enrollment, language=language)
    document = HTML(string=html, base_url=static_base_url(), url_fetcher=LocalURLFetcher())
    return document.write_pdf()


# --- storage ---------------------------------------------------------------------------------


def _needs_file(enrollment):
    return bool(enrollment.certificate_code) and enrollment.completed_at is not None and not enrollment.certificate_file


def certificate_file_name(enrollment):
    year = timezone.localtime(enrollment.completed_at).year
    return f"certificates/{year}/{enrollment.certificate_code}.pdf"


def ensure_certificate_file(enrollment_id):
    """Render and store the certificate of a completed enrolment once; return the enrolment.

    Idempotent: an enrolment that already has its file, or has no certificate code, is
    returned untouched. The PDF is rendered outside any lock; the row is then locked and
    checked again, so that two workers rendering at once store one file only.

    ``updated_at`` *is* bumped when the file is stored: the file's appearance changes what
    the completions API publishes for the row (its certificate), and incremental clients
    only see changes through ``updated_at``. It happens once per completion; calls that
    find the file already there write nothing.
    """
    enrollment = Enrollment.objects.select_related("agent__user", "course").get(pk=enrollment_id)
    if not _needs_file(enrollment):
        return enrollment
    pdf = render_certificate_pdf(enrollment)
    storage = enrollment.certificate_file.storage
    stored = None
    try:
        with transaction.atomic():
            locked = (
                Enrollment.objects.select_for_update()
                .only("pk", "status", "completed_at", "certificate_code", "certificate_file", "updated_at")
                .get(pk=enrollment_id)
            )
            if not _needs_file(locked) or locked.certificate_code != enrollment.certificate_code:
                enrollment.certificate_file.name = locked.certificate_file.name
                return enrollment  # another worker stored it meanwhile
            stored = storage.save(certificate_file_name(enrollment), ContentFile(pdf))
            locked.certificate_file.name = stored
            locked.save(update_fields=["certificate_file", "updated_at"])
    except BaseException:
        if stored:
            storage.delete(stored)
        raise
    enrollment.certificate_file.name = stored
    enrollment.updated_at = locked.updated_at
    return enrollment


# --- public verification -------------------------------------------------------------------------


def normalise_code(code):
    return (code or "").strip().upper()


def verification_status(code, *, now=None):
    """What the public verification page may show about a code, or None if it is unknown.

    Deliberately minimal: name, course and dates, and whether the certificate is valid
    today. Never the e-mail, employee number or org unit.
    """
    code = normalise_code(code)
    if not code or len(code) > Enrollment._meta.get_field("certificate_code").max_length:
        return None
    enrollment = (
        Enrollment.objects.filter(certificate_code=code, completed_at__isnull=False)
        .select_related("agent__user", "course")
        .only(
            "status", "completed_at", "expires_at", "certificate_code", "course__title",
            "agent__user__first_name", "agent__user__last_name", "agent__user__username",
        )
        .first()
    )
    if enrollment is None:
        return None
    now = now or timezone.now()
    valid = enrollment.status == EnrollmentStatus.COMPLETED and (
        enrollment.expires_at is None or enrollment.expires_at > now
    )
    return {
        "full_name": enrollment.agent.full_name,
        "course_title": enrollment.course.title,
        "completed_at": enrollment.completed_at,
        "expires_at": enrollment.expires_at,
        "valid": valid,
    }
