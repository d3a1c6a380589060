"""Fixtures for the recruitment tests, meant to be reused by every recruitment test module.

* ``job_index``: a published ``JobIndexPage`` ("Offres d'emploi", slug ``offres``) under
  the home page.
* ``openings``: three published openings under it, keyed ``"open"`` (external, open,
  salary given), ``"internal"`` (internal only, open, no salary) and ``"closed"``
  (deadline yesterday). Build more with ``make_opening(index, **fields)``.
* ``recruiter``: a user in the "Recruiters" group, assigned to ``openings["open"]``.
* ``agent_user``: a logged-out user with an ``Agent`` profile (``client.force_login`` it).
* ``acknowledgement_template``: the French acknowledgement ``MessageTemplate`` with a short
  known subject and body (containing the self-service URL).
* Upload builders (functions, not fixtures, so they can be called several times):
  ``pdf_upload()`` a real minimal PDF, ``docx_upload()`` a minimal DOCX (a zip with
  ``[Content_Types].xml`` then ``word/document.xml``), ``odt_upload()``,
  ``text_as_pdf_upload()`` a text file renamed ``.pdf``, ``big_pdf_upload()`` a PDF of
  5 MB + 1 byte.
* ``apply_directly(opening, **fields)`` applies through the service and returns
  ``(application, token)`` (the token of the self-service link).

Autouse: private files go to a temporary folder, and the cache (rate limits) is emptied.
New tests build their rows with ``tests/recruitment/factories.py``.
"""

import io
import zipfile
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache, caches
from django.core.cache.backends.db import DatabaseCache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from cms.services import ensure_home_page
from recruitment import services
from recruitment.choices import EmploymentType, MessageKind
from recruitment.models import Application, JobIndexPage, JobOpeningPage, MessageTemplate
from tests.factories import AgentFactory, OrgUnitFactory, UserFactory
from tests.recruitment.factories import set_opening_state

# --- uploads ---------------------------------------------------------------------------------


def pdf_bytes(text="CV"):
    """A tiny but valid PDF 1.4 (one page, one line of text, correct xref offsets)."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def pdf_upload(name="cv.pdf", text="CV"):
    return SimpleUploadedFile(name, pdf_bytes(text), content_type="application/pdf")


def big_pdf_upload(name="gros-cv.pdf", size=5 * 1024 * 1024 + 1):
    content = pdf_bytes()
    return SimpleUploadedFile(name, content + b"%" * (size - len(content)), content_type="application/pdf")


def docx_bytes():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.'
            'wordprocessingml.document.main+xml"/></Types>',
        )
        archive.writestr(
            "word/document.xml",
            '<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/'
            'wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>CV</w:t></w:r></w:p></w:body></w:document>',
        )
    return buffer.getvalue()


def docx_upload(name="cv.docx"):
    return SimpleUploadedFile(
        name, docx_bytes(), content_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    )


def odt_upload(name="cv.odt"):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.text", compress_type=zipfile.ZIP_STORED)
        archive.writestr("content.xml", "<office:document-content/>", compress_type=zipfile.ZIP_DEFLATED)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="application/vnd.oasis.opendocument.text")


def text_as_pdf_upload(name="cv.pdf"):
    return SimpleUploadedFile(name, b"Je suis un simple fichier texte.\n" * 20, content_type="application/pdf")


# --- pages -----------------------------------------------------------------------------------


def publish(page):
    page.save_revision().publish()
    page.refresh_from_db()
    return page


def make_opening(index, *, org_unit, reference, title=None, state=None, **fields):
    """A published opening under ``index``; ``state`` (filled, cancelled) writes its
    ``OpeningStatus`` directly (see ``tests.recruitment.factories.set_opening_state``)."""
    today = timezone.localdate()
    values = {
        "title": title or f"Poste {reference}",
        "slug": reference.lower(),
        "reference": reference,
        "org_unit": org_unit,
        "category": "B",
        "corps": "Secrétaires administratifs",
        "grades": "Secrétaire administratif de classe normale",
        "employment_type": EmploymentType.FULL_TIME,
        "location_name": "Hôtel de Ville",
        "street_address": "Place de l'Hôtel de Ville",
        "postal_code": "75004",
        "locality": "Paris",
        "missions": "<p>Gérer les dossiers de formation des agents.</p>",
        "profile": "<p>Rigueur, sens du service public.</p>",
        "vacancy_date": today + timedelta(days=30),
        "application_deadline": today + timedelta(days=20),
    }
    values.update(fields)
    opening = JobOpeningPage(**values)
    index.add_child(instance=opening)
    opening = publish(opening)
    if state is not None:
        set_opening_state(opening, state)
    return opening


@pytest.fixture
def job_index(db):
    home = ensure_home_page()
    index = JobIndexPage(title="Offres d'emploi", slug="offres", intro="<p>Rejoignez la collectivité.</p>")
    home.add_child(instance=index)
    return publish(index)


@pytest.fixture
def openings(job_index, org):
    today = timezone.localdate()
    return {
        "open": make_opening(
            job_index, org_unit=org["bureau"], reference="2025-DRH-001", title="Gestionnaire formation",
            salary_min=Decimal("28000"), salary_max=Decimal("34000.50"), rifseep_group="B3",
            conditions="<p>Télétravail possible deux jours par semaine.</p>",
        ),
        "internal": make_opening(
            job_index, org_unit=org["service"], reference="2025-DRH-002", title="Chef de bureau (mobilité interne)",
            category="A", corps="Attachés d'administration", internal_only=True, locality="Lyon",
            employment_type=EmploymentType.PART_TIME,
        ),
        "closed": make_opening(
            job_index, org_unit=org["direction"], reference="2024-DRH-099", title="Assistant de direction",
            category="C", corps="Adjoints administratifs", application_deadline=today - timedelta(days=1),
        ),
    }


@pytest.fixture
def recruiter(openings):
    user = UserFactory(username="recruiter", groups=["Recruiters"])
    opening = openings["open"]
    opening.recruiters.add(user)
    publish(opening)
    return user


@pytest.fixture
def agent_user(org):
    return AgentFactory(
        user__username="candidate_agent", user__first_name="Camille", user__last_name="Martin",
        user__email="camille.martin@ville.example", org_unit=org["bureau"],
    ).user


@pytest.fixture
def other_direction(db):
    return OrgUnitFactory(code="DVD", name="Direction de la voirie et des déplacements", kind="direction")


@pytest.fixture
def acknowledgement_template(db):
    """Replaces the default text of the data migration, if any, with a short known one."""
    template, _created = MessageTemplate.objects.update_or_create(
        kind=MessageKind.ACKNOWLEDGEMENT, language="fr",
        defaults={
            "subject": "Votre candidature {offre_reference}",
            "body": "Bonjour {candidat_prenom},\nnous avons bien reçu votre candidature au poste "
                    "« {offre_titre} ».\nSuivre votre candidature : {lien_suivi}",
        },
    )
    return template


def apply_directly(opening, *, email="alice.dupont@example.org", phone="06 12 34 56 78", consent_pool=False, now=None,
                   **fields):
    """Apply through the service (no HTTP); returns ``(application, token)``."""
    values = {"first_name": "Alice", "last_name": "Dupont", "cv": pdf_upload(), "message": "Motivée."}
    values.update(fields)
    application, token = services.submit_application(
        opening=opening, email=email, phone=phone, consent_pool=consent_pool, now=now, **values
    )
    return Application.objects.select_related("candidate").get(pk=application.pk), token


# --- autouse ---------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def private_files(tmp_path, monkeypatch):
    """CVs and letters are written under a temporary folder, not the shared test folder."""
    storage = Application._meta.get_field("cv").storage
    location = str(tmp_path / "private")
    monkeypatch.setattr(storage, "base_location", location, raising=False)
    monkeypatch.setattr(storage, "location", location, raising=False)
    return storage


@pytest.fixture(autouse=True)
def empty_cache(request):
    if isinstance(caches["default"], DatabaseCache):  # the cache is a table: the test needs the database
        request.getfixturevalue("db")
    cache.clear()
    yield
    cache.clear()
