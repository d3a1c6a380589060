import shutil
import socket
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone
from weasyprint import HTML

from cms import pdf as cms_pdf
from learning import certificates, services
from learning.choices import EnrollmentStatus
from learning.models import Enrollment
from tests.learning.conftest import ALL_RIGHT

PDFTOTEXT = shutil.which("pdftotext")


def _complete(course, agent):
    user = agent.user
    for lesson in course["lessons"]:
        services.complete_lesson(user=user, lesson=lesson)
    services.submit_quiz(user=user, quiz=course["quiz"], answers=ALL_RIGHT)
    return Enrollment.objects.select_related("agent__user", "course").get(agent=agent, course=course["course"])


@pytest.fixture
def completed(course, chain):
    user = chain["agent"].user
    user.first_name, user.last_name = "Hélène", "Martin-Lefèvre"
    user.save()
    enrollment = _complete(course, chain["agent"])
    assert enrollment.status == EnrollmentStatus.COMPLETED and enrollment.certificate_code
    yield enrollment
    stored = Enrollment.objects.get(pk=enrollment.pk).certificate_file
    if stored:
        stored.storage.delete(stored.name)


def _pdf_text(pdf, tmp_path):
    path = tmp_path / "certificate.pdf"
    path.write_bytes(pdf)
    return subprocess.run([PDFTOTEXT, "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


@pytest.mark.django_db
def test_certificate_pdf_shows_name_course_dates_code_and_qr(completed, tmp_path):
    pdf = certificates.render_certificate_pdf(completed)
    assert pdf.startswith(b"%PDF")
    html = certificates.certificate_html(completed)
    code = completed.certificate_code
    assert "Hélène MARTIN-LEFÈVRE" in html
    assert "Protection des données" in html
    assert code in html
    assert "valable jusqu&#x27;au" in html or "valable jusqu'au" in html
    assert certificates.verification_url(code) in html
    assert 'src="data:image/svg+xml' in html  # the QR code is inline: nothing to fetch
    if PDFTOTEXT:
        text = _pdf_text(pdf, tmp_path)
        for expected in ("Attestation de formation".upper(), "MARTIN-LEFÈVRE", "Protection des données", code,
                         "valable jusqu'au"):
            assert expected in text
        assert cms_pdf.french_date(completed.expires_at) in text


@pytest.mark.django_db
def test_certificate_without_expiry_says_unlimited_validity(completed):
    completed.expires_at = None
    html = certificates.certificate_html(completed)
    assert "sans limite de validité" in html
    assert "valable jusqu" not in html


@pytest.mark.django_db
def test_certificate_shows_the_organisation_name_from_theme_settings(completed):
    from wagtail.models import Site

    from themes.models import ThemeSettings

    site = Site.objects.get(is_default_site=True)
    ThemeSettings.objects.update_or_create(site=site, defaults={"organisation_name": "Ville de Lutèce"})
    assert "Ville de Lutèce" in certificates.certificate_html(completed)


@pytest.mark.django_db
def test_certificate_inlines_the_theme_logo_without_fetching_it(completed):
    from wagtail.images.models import Image
    from wagtail.images.tests.utils import get_test_image_file
    from wagtail.models import Site

    from themes.models import ThemeSettings

    logo = Image.objects.create(title="Logo", file=get_test_image_file())
    try:
        ThemeSettings.objects.update_or_create(site=Site.objects.get(is_default_site=True), defaults={"logo": logo})
        html = certificates.certificate_html(completed)
        assert '<img src="data:image/png;base64,' in html
        assert certificates.render_certificate_pdf(completed).startswith(b"%PDF")
    finally:
        logo.file.delete(save=False)


def test_verification_url_is_absolute_on_the_verification_path(settings):
    settings.WAGTAILADMIN_BASE_URL = "https://parcours.example.org/"
    assert certificates.verification_url("ABC123") == "https://parcours.example.org/formation/attestations/verifier/ABC123/"


def test_french_dates_use_the_ordinal_first_day():
    from datetime import date

    from django.utils import translation

    with translation.override("fr"):
        assert cms_pdf.french_date(date(2026, 3, 1)) == "1er mars 2026"
        assert cms_pdf.french_date(date(2026, 3, 12)) == "12 mars 2026"


# --- local-only fetching ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://example.org/logo.png",
        "https://intranet.example.org/style.css",
        "ftp://example.org/x",
        "file:///etc/passwd",
        "file://remote-host/static/x.css",
    ],
)
def test_url_fetcher_refuses_network_and_files_outside_static(url):
    with pytest.raises(cms_pdf.RefusedURL):
        cms_pdf.LocalURLFetcher()(url)


def test_url_fetcher_serves_static_files_and_data_uris():
    fetcher = cms_pdf.LocalURLFetcher()
    static_css = Path(settings.BASE_DIR) / "themes" / "static" / "themes" / "site.css"
    response = fetcher(static_css.as_uri())
    assert response.read().startswith(b"/*")
    assert response.content_type == "text/css"
    assert fetcher("data:text/plain;base64,b2s=").read() == b"ok"
    # a path that climbs out of a static directory is refused
    with pytest.raises(cms_pdf.RefusedURL):
        fetcher((static_css.parent / ".." / ".." / ".." / "manage.py").as_uri())


def test_rendering_never_opens_a_network_connection(monkeypatch):
    attempts = []

    def refuse(*args, **kwargs):
        attempts.append(args)
        raise OSError("network disabled in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    html = (
        '<link rel="stylesheet" href="https://example.org/a.css">'
        '<img src="http://10.0.0.1/tracker.png"><img src="//example.org/b.png"><p>ok</p>'
    )
    pdf = HTML(
        string=html, base_url=cms_pdf.static_base_url(), url_fetcher=cms_pdf.LocalURLFetcher()
    ).write_pdf()
    assert pdf.startswith(b"%PDF")
    assert attempts == []
    assert cms_pdf.static_base_url().startswith("file://")


# --- storage ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_ensure_certificate_file_stores_privately_once(completed, monkeypatch):
    before = completed.updated_at
    enrollment = certificates.ensure_certificate_file(completed.pk)
    year = timezone.localtime(completed.completed_at).year
    assert enrollment.certificate_file.name == f"certificates/{year}/{completed.certificate_code}.pdf"
    path = Path(enrollment.certificate_file.path).resolve()
    assert path.is_relative_to(Path(settings.PRIVATE_ROOT).resolve())
    assert not path.is_relative_to(Path(settings.MEDIA_ROOT).resolve())
    assert path.read_bytes().startswith(b"%PDF")
    stored = Enrollment.objects.get(pk=completed.pk)
    assert stored.certificate_file.name == enrollment.certificate_file.name
    assert stored.updated_at >= before  # the row's published certificate changed: incremental sync sees it

    def must_not_render(*args, **kwargs):
        raise AssertionError("rendered twice")

    monkeypatch.setattr(certificates, "render_certificate_pdf", must_not_render)
    again = certificates.ensure_certificate_file(completed.pk)
    assert again.certificate_file.name == enrollment.certificate_file.name
    assert Enrollment.objects.get(pk=completed.pk).updated_at == stored.updated_at  # nothing written


@pytest.mark.django_db
def test_ensure_certificate_file_keeps_the_first_file_when_another_worker_won(completed, monkeypatch):
    real_render = certificates.render_certificate_pdf

    def render_while_another_worker_stores(enrollment, **kwargs):
        pdf = real_render(enrollment, **kwargs)
        Enrollment.objects.filter(pk=enrollment.pk).update(certificate_file="certificates/2000/other.pdf")
        return pdf

    monkeypatch.setattr(certificates, "render_certificate_pdf", render_while_another_worker_stores)
    enrollment = certificates.ensure_certificate_file(completed.pk)
    assert enrollment.certificate_file.name == "certificates/2000/other.pdf"
    year = timezone.localtime(completed.completed_at).year
    assert not (Path(settings.PRIVATE_ROOT) / f"certificates/{year}/{completed.certificate_code}.pdf").exists()
    Enrollment.objects.filter(pk=completed.pk).update(certificate_file="")


@pytest.mark.django_db
def test_ensure_certificate_file_unknown_id_raises():
    with pytest.raises(Enrollment.DoesNotExist):
        certificates.ensure_certificate_file(987654)


@pytest.mark.django_db
def test_ensure_certificate_file_ignores_enrolments_without_code(course, chain, monkeypatch):
    monkeypatch.setattr(certificates, "render_certificate_pdf", lambda *a, **k: pytest.fail("rendered"))
    enrollment, _created = services.enroll(agent=chain["agent"], course=course["course"])
    result = certificates.ensure_certificate_file(enrollment.pk)
    assert result.pk == enrollment.pk and not result.certificate_file


# --- public verification ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_verification_status_valid_then_expired(completed):
    status = certificates.verification_status(completed.certificate_code.lower() + " ")
    assert set(status) == {"full_name", "course_title", "completed_at", "expires_at", "valid"}
    assert status["full_name"] == "Hélène Martin-Lefèvre"
    assert status["course_title"] == "Protection des données"
    assert status["completed_at"] == completed.completed_at
    assert status["valid"] is True
    assert chain_leaks_nothing(status, completed)

    Enrollment.objects.filter(pk=completed.pk).update(expires_at=timezone.now() - timedelta(days=1))
    assert certificates.verification_status(completed.certificate_code)["valid"] is False

    Enrollment.objects.filter(pk=completed.pk).update(
        expires_at=timezone.now() + timedelta(days=30), status=EnrollmentStatus.EXPIRED
    )
    assert certificates.verification_status(completed.certificate_code)["valid"] is False


def chain_leaks_nothing(status, enrollment):
    values = " ".join(str(v) for v in status.values())
    agent = enrollment.agent
    return all(secret not in values for secret in (agent.user.email, agent.employee_number, agent.org_unit.code))


@pytest.mark.django_db
@pytest.mark.parametrize("code", ["", "   ", "UNKNOWN00000", "x" * 200])
def test_verification_status_unknown_code_is_none(code, completed):
    assert certificates.verification_status(code) is None
