"""cms.uploads.sniff: uploads are checked by their content, whatever their name."""

import io
import zipfile

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from cms import uploads

PDF = (
    b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
    b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
)
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 64 + b"This program cannot be run in DOS mode"


def _docx():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        archive.writestr("_rels/.rels", '<?xml version="1.0"?><Relationships/>')
        archive.writestr("word/document.xml", '<?xml version="1.0"?><w:document/>')
    return buffer.getvalue()


def _odt():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(
            zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.text", compress_type=zipfile.ZIP_STORED
        )
        archive.writestr("content.xml", '<?xml version="1.0"?><office:document-content/>')
    return buffer.getvalue()


def _upload(name, content):
    return SimpleUploadedFile(name, content)


def _message(excinfo, field):
    return " ".join(excinfo.value.message_dict[field])


@pytest.fixture(autouse=True)
def french():
    with translation.override("fr"):
        yield


def test_a_real_pdf_is_accepted_whatever_its_name_and_left_at_its_start():
    upload = _upload("cv.txt", PDF)
    assert uploads.sniff(upload, field="cv") == "pdf"
    assert upload.read(5) == b"%PDF-"


def test_a_program_renamed_pdf_is_refused_naming_the_field():
    with pytest.raises(ValidationError) as excinfo:
        uploads.sniff(_upload("cv.pdf", EXE), field="cv")
    message = _message(excinfo, "cv")
    assert message == (
        "Le fichier « cv.pdf » n'est pas un PDF, un DOCX ou un ODT (contenu détecté : EXE), quel que soit son nom."
    )


def test_plain_text_is_refused_as_unknown():
    with pytest.raises(ValidationError) as excinfo:
        uploads.sniff(_upload("lettre.pdf", b"Madame, Monsieur,\n" * 20), field="letter")
    assert "contenu détecté : inconnu ou texte" in _message(excinfo, "letter")


def test_size_limit():
    big = _upload("cv.pdf", PDF + b"0" * (uploads.MAX_BYTES + 1 - len(PDF)))
    with pytest.raises(ValidationError) as excinfo:
        uploads.sniff(big, field="cv")
    assert _message(excinfo, "cv") == "Le fichier dépasse 5 Mo (5.0 Mo)."
    assert uploads.sniff(_upload("cv.pdf", PDF), field="cv", max_bytes=len(PDF)) == "pdf"  # the limit is inclusive
    with pytest.raises(ValidationError) as excinfo:
        uploads.sniff(_upload("cv.pdf", PDF + b"0" * (3 * 1024 * 1024)), field="cv", max_bytes=2 * 1024 * 1024)
    assert _message(excinfo, "cv") == "Le fichier dépasse 2 Mo (3.0 Mo)."


@pytest.mark.parametrize(("content", "extension"), [(_docx(), "docx"), (_odt(), "odt")])
def test_zip_based_office_documents_are_recognised(content, extension):
    assert uploads.sniff(_upload(f"cv.{extension}", content), field="cv") == extension


def test_a_plain_zip_is_not_an_office_document():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("notes.txt", "hello")
    with pytest.raises(ValidationError) as excinfo:
        uploads.sniff(_upload("cv.docx", buffer.getvalue()), field="cv")
    assert "contenu détecté : ZIP" in _message(excinfo, "cv")


def test_other_allowed_sets_name_their_formats():
    with pytest.raises(ValidationError) as excinfo:
        uploads.sniff(_upload("paquet.zip", PDF), field="package", allowed={"zip": "ZIP"}, max_bytes=None)
    assert _message(excinfo, "package") == (
        "Le fichier « paquet.zip » n'est pas dans un format accepté (ZIP ; contenu détecté : PDF), quel que soit son nom."
    )
    assert uploads.sniff(_upload("paquet.bin", _docx()), field="package", allowed={"docx": "DOCX"}) == "docx"
