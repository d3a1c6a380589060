"""Training certificates ("attestations de formation"): PDF rendering, storage, verification.

The PDF is rendered by WeasyPrint from ``learning/pdf/certificate.html`` with the CSS
inlined, through ``cms.pdf`` (local files only: no HTTP request at all).

The file is stored once, on the private storage (``settings.PRIVATE_ROOT``, never under a
public URL), as ``certificates/<year of completion>/<code>.pdf``.
"""

import base64
import logging
import mimetypes

import segno
from django.conf import settings
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from cms import pdf
from cms.pdf import display_name, french_date
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


# --- rendering -------------------------------------------------------------------------------


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
    return pdf.render_pdf(certificate_html(enrollment, language=language))


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

    def decide(locked):
        if not _needs_file(locked) or locked.certificate_code != enrollment.certificate_code:
            enrollment.certificate_file.name = locked.certificate_file.name
            return enrollment  # another worker stored it meanwhile
        return pdf.STORE

    return pdf.render_and_store(
        enrollment,
        "certificate_file",
        certificate_file_name(enrollment),
        lambda: render_certificate_pdf(enrollment),
        decide=decide,
        fields=("status", "completed_at", "certificate_code"),
    )


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
