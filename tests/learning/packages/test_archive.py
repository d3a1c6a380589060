"""Zip checks before anything is written (every refusal of the issue, with its sentence and
no trace: no Package row, no folder under packages/, no page) and the content-addressed
extraction (temporary folder renamed into place, leftovers replaced, lying entries)."""

import io
import os
import struct
import zipfile
import zlib

import pytest
from django.core.exceptions import ValidationError
from wagtail.models import Page

from cms.storage import private_storage
from learning.models import Package
from learning.packages import archive, importer, sample


def packages_folder():
    return os.path.join(private_storage().location, "packages")


def listing():
    folder = packages_folder()
    return sorted(os.listdir(folder)) if os.path.isdir(folder) else []


@pytest.fixture
def no_trace(db):
    """Asserts, after the test, that nothing was written: no Package, no folder, no page."""
    before = (Package.objects.count(), listing(), Page.objects.count())
    yield
    assert (Package.objects.count(), listing(), Page.objects.count()) == before


def refused(blob, *, store=True):
    """The sentence of the refusal of ``blob``, by ``inspect`` and by the whole import path."""
    with pytest.raises(ValidationError) as caught:
        archive.inspect(io.BytesIO(blob))
    sentence = caught.value.message_dict["package"][0]
    if store:
        with pytest.raises(ValidationError) as again:
            importer.store_package(io.BytesIO(blob))
        assert again.value.message_dict["package"][0] == sentence
    return sentence


def with_files(extra=None, **kwargs):
    files = sample.scorm12_files(suspend_kb=1)
    files.update(extra or {})
    return sample.zip_bytes(files, **kwargs)


# --- central directory / local header patching, to build what zipfile will not write ---------------


def _headers(blob, signature, name_offset, length_offset):
    position = 0
    while (position := blob.find(signature, position)) != -1:
        (length,) = struct.unpack_from("<H", blob, position + length_offset)
        yield position, bytes(blob[position + name_offset: position + name_offset + length])
        position += 4


def patch(blob, name, *, central=None, local=None):
    """Overwrite fields of the entry ``name``: ``{offset: (format, value)}`` in its central
    directory record and/or its local header."""
    blob = bytearray(blob)
    for signature, name_offset, length_offset, fields in (
        (b"PK\x01\x02", 46, 28, central or {}),
        (b"PK\x03\x04", 30, 26, local or {}),
    ):
        for position, found in _headers(blob, signature, name_offset, length_offset):
            if found == name.encode():
                for offset, (fmt, value) in fields.items():
                    struct.pack_into(fmt, blob, position + offset, value)
    return bytes(blob)


# --- not a package --------------------------------------------------------------------------------


def test_not_a_zip_by_content_whatever_the_name(no_trace):
    sentence = refused(b"%PDF-1.4\n" + b"x" * 2000)
    assert "n'est pas une archive ZIP" in sentence and "PDF" in sentence
    assert "inconnu ou texte" in refused(b"hello, I am a text file named paquet.zip")


def test_no_manifest_at_the_root(no_trace):
    assert "imsmanifest.xml à sa racine" in refused(sample.zip_bytes({"index.html": "<p>x</p>"}))


def test_manifest_in_a_folder_names_the_folder(no_trace):
    files = {f"Mon module/{name}": content for name, content in sample.scorm12_files(suspend_kb=1).items()}
    assert "« Mon module »" in refused(sample.zip_bytes(files))


def test_zip_holding_cmi5_xml_inspects_as_a_cmi5_course(no_trace):
    info = archive.inspect(io.BytesIO(sample.zip_bytes({"cmi5.xml": "<courseStructure/>", "au.html": "x"})))
    assert info.manifest_name == "cmi5.xml"
    assert info.manifest == b"<courseStructure/>" and not info.standalone


def test_invalid_manifest_is_refused_through_the_importer(no_trace):
    with pytest.raises(ValidationError) as caught:
        importer.store_package(io.BytesIO(with_files({"imsmanifest.xml": "<manifest"})))
    assert "n'est pas un XML valide" in caught.value.message_dict["package"][0]


def test_launch_file_missing_from_the_zip_is_named(no_trace):
    files = sample.scorm2004_files(suspend_kb=1)
    del files["sco2/index.html"]
    with pytest.raises(ValidationError) as caught:
        importer.store_package(io.BytesIO(sample.zip_bytes(files)))
    assert "« sco2/index.html »" in caught.value.message_dict["package"][0]


# --- hostile names -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, words",
    [
        ("../evil.html", "sort du dossier"),
        ("a/../../evil.html", "sort du dossier"),
        ("a/./b/../../../evil.html", "sort du dossier"),
        ("/etc/cron.d/evil", "chemin absolu"),
        ("\\windows\\evil.dll", "barre oblique inverse"),
        ("images\\logo.png", "barre oblique inverse"),
        ("C:/Windows/evil.dll", "lettre de lecteur"),
        ("C:evil.dll", "lettre de lecteur"),
        ("a/D:/evil.dll", "lettre de lecteur"),
    ],
)
def test_zip_slip_names_are_refused(no_trace, name, words):
    sentence = refused(with_files({name: "pwned"}))
    assert words in sentence
    assert name[:20] in sentence


def test_nul_byte_in_a_name_is_refused(no_trace):
    blob = with_files({"aXb.html": "x"}).replace(b"aXb.html", b"a\x00b.html")
    assert "caractère nul" in refused(blob)


def test_symlink_is_refused(no_trace):
    sentence = refused(with_files(symlinks={"passwd.html": "/etc/passwd"}))
    assert "« passwd.html »" in sentence and "lien symbolique" in sentence


def test_duplicate_names_after_normalisation(no_trace):
    sentence = refused(with_files({"x/../index.html": "doublon"}))
    assert "deux fois le fichier « index.html »" in sentence


def test_a_name_used_as_file_and_folder(no_trace):
    assert "à la fois un fichier et un dossier" in refused(with_files({"media": "x", "media/a.png": "y"}))


def test_encrypted_entry_is_refused(no_trace):
    blob = patch(with_files({"secret.html": "x"}), "secret.html", central={8: ("<H", 0x1)}, local={6: ("<H", 0x1)})
    sentence = refused(blob)
    assert "« secret.html »" in sentence and "chiffrée" in sentence


def test_harmless_normalised_names_are_accepted(db):
    info = archive.inspect(io.BytesIO(with_files({"./css//site.css": "body{}", "a/../js/app.js": "1", "img/": ""})))
    assert {"css/site.css", "js/app.js", "index.html", "sco.js", "imsmanifest.xml"} == set(info.names)
    assert info.file_count == 5


# --- sizes and ratios ----------------------------------------------------------------------------------


def test_too_many_entries(no_trace, settings):
    settings.PACKAGE_MAX_ENTRIES = 5
    sentence = refused(with_files({f"f{n}.txt": "x" for n in range(3)}))
    assert "6 entrées" in sentence and "limite de 5" in sentence


def test_default_entry_limit_is_20000():
    assert archive.MAX_ENTRIES == 20_000
    assert archive.MAX_BYTES == 2 * 1024**3
    assert archive.MAX_RATIO == 100


def test_too_large_uncompressed(no_trace, settings):
    settings.PACKAGE_MAX_BYTES = 100_000
    sentence = refused(with_files({"video.mp4": os.urandom(120_000)}))
    assert "dépasse 0,1 Mo" in sentence


def test_compression_ratio_of_an_entry(no_trace, settings):
    settings.PACKAGE_MAX_RATIO = 10
    settings.PACKAGE_RATIO_FLOOR = 10_000
    sentence = refused(with_files({"bomb.bin": b"\0" * 200_000}))
    assert "« bomb.bin »" in sentence and "au-delà de 10" in sentence


def test_default_ratio_refuses_a_real_bomb(no_trace):
    assert "« bomb.bin »" in refused(with_files({"bomb.bin": b"\0" * (3 * 1024**2)}))


def test_compression_ratio_of_the_whole_zip(no_trace, settings):
    settings.PACKAGE_MAX_RATIO = 10
    settings.PACKAGE_RATIO_FLOOR = 50_000  # each entry below it, the total above
    sentence = refused(with_files({f"zeros{n}.bin": b"\0" * 40_000 for n in range(5)}))
    assert sentence.startswith("Le zip se décompresse")


def test_small_very_compressible_files_do_not_trip_the_ratio(db):
    info = archive.inspect(io.BytesIO(with_files({"blank.css": " " * 50_000})))
    assert info.size > 50_000


# --- extraction -----------------------------------------------------------------------------------


def test_extract_writes_the_files_under_the_sha_folder(db):
    blob = with_files({"media/a.bin": os.urandom(3000)})
    info = archive.inspect(io.BytesIO(blob))
    calls = []
    assert archive.extract(io.BytesIO(blob), info, progress=lambda done, total: calls.append((done, total))) is True
    root = os.path.join(packages_folder(), info.sha256)
    assert sorted(os.listdir(root)) == ["imsmanifest.xml", "index.html", "media", "sco.js"]
    with open(os.path.join(root, "media", "a.bin"), "rb") as handle:
        assert len(handle.read()) == 3000
    assert calls[-1] == (info.size, info.size)
    assert not [name for name in listing() if name.endswith(".tmp")]
    assert info.root == f"packages/{info.sha256}"
    archive.remove(info.root)
    assert not os.path.exists(root)


def test_a_leftover_folder_without_row_is_replaced(db):
    blob = with_files({"extra.txt": "v"})
    info = archive.inspect(io.BytesIO(blob))
    root = os.path.join(packages_folder(), info.sha256)
    os.makedirs(root)
    with open(os.path.join(root, "half-written.html"), "w") as handle:
        handle.write("stale")
    assert archive.extract(io.BytesIO(blob), info) is True
    assert "half-written.html" not in os.listdir(root)
    assert "extra.txt" in os.listdir(root)
    archive.remove(info.root)


def test_a_folder_owned_by_a_row_is_not_extracted_again(db):
    blob = with_files({"owned.txt": "v"})
    package, created = importer.store_package(io.BytesIO(blob))
    assert created
    marker = os.path.join(packages_folder(), package.sha256, "owned.txt")
    mtime = os.stat(marker).st_mtime_ns
    assert archive.extract(io.BytesIO(blob), archive.inspect(io.BytesIO(blob))) is False
    assert os.stat(marker).st_mtime_ns == mtime


def test_an_entry_lying_on_its_size_is_refused_and_cleaned(no_trace):
    """Declared 10 bytes, 300 KB inside: zipfile stops at the declared size and the CRC
    fails; nothing stays on disk."""
    blob = with_files({"lie.bin": b"A" * 300_000})
    blob = patch(blob, "lie.bin", central={24: ("<I", 10)}, local={22: ("<I", 10)})
    info = archive.inspect(io.BytesIO(blob))  # the declared figures look harmless
    assert info.size < 300_000
    with pytest.raises(ValidationError) as caught:
        archive.extract(io.BytesIO(blob), info)
    assert "« lie.bin »" in caught.value.message_dict["package"][0]
    with pytest.raises(ValidationError):
        importer.store_package(io.BytesIO(blob))


def test_the_byte_counter_aborts_an_entry_that_produces_more_than_declared(no_trace, monkeypatch):
    blob = with_files({"lie.bin": b"B" * 5000})
    info = archive.inspect(io.BytesIO(blob))
    real_open = zipfile.ZipFile.open

    def lying_open(self, name, *args, **kwargs):
        if getattr(name, "orig_filename", name) == "lie.bin":
            return io.BytesIO(b"B" * 50_000)
        return real_open(self, name, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "open", lying_open)
    with pytest.raises(ValidationError) as caught:
        archive.extract(io.BytesIO(blob), info)
    sentence = caught.value.message_dict["package"][0]
    assert "« lie.bin »" in sentence and "plus de données" in sentence and "5000" in sentence


def test_corrupt_data_is_refused(no_trace):
    blob = bytearray(with_files({"data.bin": os.urandom(5000)}))
    start = blob.find(b"data.bin") + len(b"data.bin") + 100  # inside the local data of data.bin
    blob[start:start + 50] = bytes(50)
    with pytest.raises(ValidationError) as caught:
        importer.store_package(io.BytesIO(bytes(blob)))
    assert "corrompue" in caught.value.message_dict["package"][0]


def test_storage_without_local_paths(db, settings):
    settings.STORAGES = {**settings.STORAGES, "private": {"BACKEND": "django.core.files.storage.InMemoryStorage"}}
    blob = with_files({"media/a.txt": "contenu"})
    info = archive.inspect(io.BytesIO(blob))
    assert archive.extract(io.BytesIO(blob), info) is True
    storage = private_storage()
    with storage.open(f"{info.root}/media/a.txt") as handle:
        assert handle.read() == b"contenu"
    archive.remove(info.root)
    assert not storage.exists(f"{info.root}/media/a.txt")


def test_sha256_is_that_of_the_file(db):
    import hashlib

    blob = with_files()
    assert archive.inspect(io.BytesIO(blob)).sha256 == hashlib.sha256(blob).hexdigest()
    assert zlib.crc32(blob)  # the blob is not empty
