"""Checking a package zip before anything is written, and extracting it to private storage.

``inspect(fileobj)`` reads the zip from a seekable file object (in chunks: the SHA-256 is
computed while reading, the archive is never held whole in memory) and refuses, with a
sentence naming the entry or the figure: not a zip (by content, whatever the name), neither
``imsmanifest.xml`` (SCORM) nor ``cmi5.xml`` (cmi5) at the root, zip-slip names (``../x``, ``/abs``, ``\\abs``, backslashes, drive letters,
``a/../../x`` after normalisation, NUL bytes), symbolic links, encrypted entries,
duplicate names after normalisation, a name used both as a file and as a folder, more
than ``PACKAGE_MAX_ENTRIES`` entries, more than ``PACKAGE_MAX_BYTES`` uncompressed, a
compression ratio above ``PACKAGE_MAX_RATIO`` (for the whole archive and for each entry
larger than ``PACKAGE_RATIO_FLOOR``, so that a small, very compressible file does not trip
it). The limits are the module constants below, overridable by the settings of the same
name.

``extract(fileobj, info)`` writes the files under ``packages/<sha256>/`` in private
storage (content-addressed). On a file-system storage it extracts into a temporary sibling
folder and renames it into place at the end, so a crash never leaves a half folder at the
final path; it counts the bytes actually decompressed and aborts (removing what it wrote)
when an entry produces more than it declared. A final folder that exists without a
``Package`` row (a rolled-back import) is replaced; one that a row owns is kept as is.
"""

import hashlib
import os
import posixpath
import re
import shutil
import stat
import tempfile
import uuid
import zipfile
import zlib
from dataclasses import dataclass

import filetype
from django.conf import settings
from django.core.files.base import File
from django.core.files.storage import FileSystemStorage
from django.utils.translation import gettext as _

from cms.storage import private_storage
from learning.packages.manifest import PackageError

MAX_ENTRIES = 20_000
MAX_BYTES = 2 * 1024**3
MAX_RATIO = 100
RATIO_FLOOR = 1024**2  # entries (and archives) smaller than this are not checked for their ratio
MAX_MANIFEST_BYTES = 20 * 1024**2
CHUNK = 1024**2
MANIFEST = "imsmanifest.xml"
CMI5 = "cmi5.xml"
ROOT = "packages"
DRIVE = re.compile(r"^[A-Za-z]:")


def limit(name, default):
    return getattr(settings, f"PACKAGE_{name}", default)


def megabytes(size):
    return f"{size / 1024**2:.1f}".replace(".", ",")


@dataclass(frozen=True)
class Entry:
    index: int  # position in the central directory
    name: str  # the name as written in the zip
    path: str  # normalised path ("" for the root folder)
    size: int  # declared uncompressed size
    is_dir: bool


@dataclass(frozen=True)
class ArchiveInfo:
    sha256: str
    archive_size: int  # bytes of the zip itself
    size: int  # declared uncompressed bytes of the files
    file_count: int
    entries: tuple
    names: frozenset  # normalised file paths
    manifest: bytes  # the content of imsmanifest.xml (or cmi5.xml)
    manifest_name: str = MANIFEST  # which of the two (cmi5.xml for a cmi5 course)
    standalone: bool = False  # a cmi5.xml imported alone: nothing to extract

    @property
    def root(self):
        return f"{ROOT}/{self.sha256}"


def _hash(fileobj):
    fileobj.seek(0)
    digest = hashlib.sha256()
    length = 0
    while True:
        chunk = fileobj.read(CHUNK)
        if not chunk:
            break
        digest.update(chunk)
        length += len(chunk)
    fileobj.seek(0)
    return digest.hexdigest(), length


def _not_a_zip(fileobj):
    fileobj.seek(0)
    kind = filetype.guess(fileobj.read(8192))
    fileobj.seek(0)
    found = kind.extension.upper() if kind else _("inconnu ou texte")
    return PackageError(
        _("Le fichier n'est pas une archive ZIP (contenu détecté : %(found)s), quel que soit son nom.") % {"found": found}
    )


def normalise(name):
    """The safe relative path of a zip entry name, or PackageError naming it."""
    shown = name.replace("\x00", "\\0")[:200]
    if "\x00" in name:
        raise PackageError(_("Le nom de l'entrée « %(name)s » contient un caractère nul : refusé.") % {"name": shown})
    if "\\" in name:
        raise PackageError(
            _(
                "Le nom de l'entrée « %(name)s » contient une barre oblique inverse (\\) : chemin refusé "
                "(un zip utilise des « / »)."
            )
            % {"name": shown}
        )
    if name.startswith("/"):
        raise PackageError(_("L'entrée « %(name)s » a un chemin absolu : refusé.") % {"name": shown})
    if DRIVE.match(name):
        raise PackageError(_("L'entrée « %(name)s » commence par une lettre de lecteur : refusé.") % {"name": shown})
    if any(ord(char) < 32 for char in name):
        raise PackageError(_("Le nom de l'entrée « %(name)s » contient un caractère de contrôle : refusé.") % {"name": shown})
    parts = []
    for part in name.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if not parts:
                raise PackageError(
                    _("L'entrée « %(name)s » sort du dossier du paquet (« .. ») : refusé.") % {"name": shown}
                )
            parts.pop()
            continue
        if DRIVE.match(part):
            raise PackageError(_("L'entrée « %(name)s » contient une lettre de lecteur : refusé.") % {"name": shown})
        parts.append(part)
    return "/".join(parts)


def _find_manifest(paths):
    """The root manifest's path: ``imsmanifest.xml`` (SCORM) or ``cmi5.xml`` (cmi5)."""
    if MANIFEST in paths:
        return MANIFEST
    lowered = {path.lower(): path for path in paths}
    if MANIFEST in lowered:
        return lowered[MANIFEST]
    if CMI5 in lowered:
        return lowered[CMI5]
    nested = sorted(
        (path for path in paths if posixpath.basename(path).lower() in (MANIFEST, CMI5)), key=len
    )
    if nested:
        raise PackageError(
            _(
                "Le fichier %(name)s est dans le dossier « %(folder)s » et non à la racine du zip : "
                "zippez le contenu de ce dossier, pas le dossier lui-même."
            )
            % {"name": posixpath.basename(nested[0]), "folder": posixpath.dirname(nested[0])}
        )
    raise PackageError(
        _(
            "Le zip ne contient ni cmi5.xml (cmi5) ni imsmanifest.xml à sa racine (SCORM) : ce n'est pas un "
            "paquet de contenu."
        )
    )


def inspect(fileobj) -> ArchiveInfo:
    """Check the zip in ``fileobj`` (seekable) and describe it; writes nothing."""
    max_entries, max_bytes = limit("MAX_ENTRIES", MAX_ENTRIES), limit("MAX_BYTES", MAX_BYTES)
    max_ratio, floor = limit("MAX_RATIO", MAX_RATIO), limit("RATIO_FLOOR", RATIO_FLOOR)
    sha256, archive_size = _hash(fileobj)
    try:
        archive = zipfile.ZipFile(fileobj)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError):
        raise _not_a_zip(fileobj) from None
    with archive:
        infos = archive.infolist()
        if len(infos) > max_entries:
            raise PackageError(
                _("Le zip contient %(count)s entrées, au-delà de la limite de %(max)s.")
                % {"count": len(infos), "max": max_entries}
            )
        entries, files, folders = [], {}, set()
        total = compressed = 0
        for index, info in enumerate(infos):
            name = info.orig_filename
            path = normalise(name)
            mode = info.external_attr >> 16
            shown = name[:200]
            if stat.S_ISLNK(mode):
                raise PackageError(_("L'entrée « %(name)s » est un lien symbolique : refusé.") % {"name": shown})
            if info.flag_bits & 0x1:
                raise PackageError(
                    _("L'entrée « %(name)s » est chiffrée (protégée par un mot de passe) : Parcours ne peut pas la lire.")
                    % {"name": shown}
                )
            is_dir = info.is_dir() or stat.S_ISDIR(mode)
            if is_dir:
                if path in files:
                    raise PackageError(
                        _("« %(name)s » est à la fois un fichier et un dossier dans le zip.") % {"name": path}
                    )
                if path:
                    folders.add(path)
                entries.append(Entry(index, name, path, 0, True))
                continue
            if not path:
                raise PackageError(_("L'entrée « %(name)s » n'a pas de nom de fichier : refusé.") % {"name": shown})
            if path in files:
                raise PackageError(
                    _(
                        "Le zip contient deux fois le fichier « %(path)s » (entrées « %(first)s » et « %(second)s », "
                        "identiques une fois les chemins normalisés)."
                    )
                    % {"path": path, "first": files[path][:200], "second": shown}
                )
            if path in folders:
                raise PackageError(_("« %(name)s » est à la fois un fichier et un dossier dans le zip.") % {"name": path})
            files[path] = name
            parent = posixpath.dirname(path)
            while parent:
                folders.add(parent)
                parent = posixpath.dirname(parent)
            total += info.file_size
            compressed += info.compress_size
            if total > max_bytes:
                raise PackageError(
                    _("Le contenu décompressé du zip dépasse %(max)s Mo (au moins %(size)s Mo).")
                    % {"max": megabytes(max_bytes), "size": megabytes(total)}
                )
            if info.file_size > floor and info.file_size > max_ratio * max(info.compress_size, 1):
                raise PackageError(
                    _(
                        "L'entrée « %(name)s » se décompresse %(ratio)s fois (au-delà de %(max)s) : "
                        "archive refusée (bombe de décompression probable)."
                    )
                    % {"name": shown, "ratio": info.file_size // max(info.compress_size, 1), "max": max_ratio}
                )
            entries.append(Entry(index, name, path, info.file_size, False))
        clash = folders & files.keys()
        if clash:
            raise PackageError(
                _("« %(name)s » est à la fois un fichier et un dossier dans le zip.") % {"name": sorted(clash)[0]}
            )
        if total > floor and total > max_ratio * max(compressed, 1):
            raise PackageError(
                _(
                    "Le zip se décompresse %(ratio)s fois (%(size)s Mo pour %(compressed)s Mo), au-delà de %(max)s : "
                    "archive refusée (bombe de décompression probable)."
                )
                % {
                    "ratio": total // max(compressed, 1), "size": megabytes(total),
                    "compressed": megabytes(compressed), "max": max_ratio,
                }
            )
        manifest_path = _find_manifest(files)
        manifest_info = infos[next(e.index for e in entries if e.path == manifest_path)]
        if manifest_info.file_size > MAX_MANIFEST_BYTES:
            raise PackageError(
                _("Le fichier %(name)s fait %(size)s Mo, au-delà de %(max)s Mo.")
                % {
                    "name": posixpath.basename(manifest_path), "size": megabytes(manifest_info.file_size),
                    "max": megabytes(MAX_MANIFEST_BYTES),
                }
            )
        manifest = _read_entry(archive, manifest_info)
    return ArchiveInfo(
        sha256=sha256, archive_size=archive_size, size=total, file_count=len(files), entries=tuple(entries),
        names=frozenset(files), manifest=manifest,
        manifest_name=CMI5 if manifest_path.lower() == CMI5 else MANIFEST,
    )


def inspect_course_structure(fileobj) -> ArchiveInfo:
    """A ``cmi5.xml`` uploaded alone (not zipped): described like a zip with no file to
    extract (its AUs must all be absolute urls, checked by the parser)."""
    sha256, size = _hash(fileobj)
    if size > MAX_MANIFEST_BYTES:
        raise PackageError(
            _("Le fichier cmi5.xml fait %(size)s Mo, au-delà de %(max)s Mo.")
            % {"size": megabytes(size), "max": megabytes(MAX_MANIFEST_BYTES)}
        )
    fileobj.seek(0)
    data = fileobj.read()
    fileobj.seek(0)
    return ArchiveInfo(
        sha256=sha256, archive_size=size, size=size, file_count=0, entries=(), names=frozenset(),
        manifest=data, manifest_name=CMI5, standalone=True,
    )


def _corrupt(info, exc=None):
    return PackageError(
        _("L'entrée « %(name)s » du zip est illisible ou corrompue : archive refusée.") % {"name": info.orig_filename[:200]}
    )


def _too_much(info):
    return PackageError(
        _(
            "L'entrée « %(name)s » produit plus de données que les %(size)s octets annoncés dans le zip "
            "(bombe de décompression probable) : archive refusée."
        )
        % {"name": info.orig_filename[:200], "size": info.file_size}
    )


def _chunks(archive, info):
    """The decompressed bytes of ``info`` in chunks, refusing an entry that lies on its size."""
    produced = 0
    try:
        with archive.open(info) as source:
            while True:
                chunk = source.read(CHUNK)
                if not chunk:
                    break
                produced += len(chunk)
                if produced > info.file_size:
                    raise _too_much(info)
                yield chunk
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, OSError) as exc:
        raise _corrupt(info, exc) from exc


def _read_entry(archive, info):
    return b"".join(_chunks(archive, info))


def check_files(info: ArchiveInfo, paths):
    """Every launch file named by the manifest is in the zip, or PackageError naming it."""
    for path in paths:
        if path not in info.names:
            raise PackageError(
                _("Le fichier de lancement « %(path)s », indiqué dans %(manifest)s, est absent du zip.")
                % {"path": path[:200], "manifest": info.manifest_name}
            )


def _owned(sha256):
    from learning.models import Package

    return Package.objects.filter(sha256=sha256).exists()


def remove(root):
    """Delete an extracted folder (``packages/<sha256>``) from private storage."""
    storage = private_storage()
    if isinstance(storage, FileSystemStorage):
        shutil.rmtree(storage.path(root), ignore_errors=True)
    else:
        _remove_tree(storage, root)


def _remove_tree(storage, folder):
    if not storage.exists(folder):
        return
    dirs, files = storage.listdir(folder)
    for name in files:
        storage.delete(f"{folder}/{name}")
    for name in dirs:
        _remove_tree(storage, f"{folder}/{name}")


def extract(fileobj, info: ArchiveInfo, *, progress=None):
    """Write the files of the checked zip under ``packages/<sha256>/``; True when this call
    wrote the folder, False when a ``Package`` row already owns it (nothing written).
    ``progress(done_bytes, total_bytes)`` is called as the bytes are written. A ``cmi5.xml``
    imported alone has nothing to extract (False)."""
    if info.standalone or _owned(info.sha256):
        return False
    storage = private_storage()
    if not isinstance(storage, FileSystemStorage):  # object storage: no folder to rename
        _extract_to_storage(fileobj, info, storage, progress)
        return True
    base = storage.path(ROOT)
    final = os.path.join(base, info.sha256)
    temporary = os.path.join(base, f".{info.sha256}.{uuid.uuid4().hex}.tmp")
    os.makedirs(temporary)
    try:
        _extract_to_folder(fileobj, info, temporary, progress)
        if os.path.exists(final):
            if _owned(info.sha256):  # another import of the same file finished first
                shutil.rmtree(temporary, ignore_errors=True)
                return False
            stale = os.path.join(base, f".{info.sha256}.{uuid.uuid4().hex}.stale")
            os.rename(final, stale)
            shutil.rmtree(stale, ignore_errors=True)
        try:
            os.rename(temporary, final)
        except OSError:
            if not os.path.isdir(final):
                raise
            shutil.rmtree(temporary, ignore_errors=True)  # a concurrent import put the same content there
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise
    return True


def _written(info, progress):
    state = {"done": 0, "reported": 0}

    def add(count):
        state["done"] += count
        if progress and (state["done"] - state["reported"] >= 4 * CHUNK or state["done"] >= info.size):
            state["reported"] = state["done"]
            progress(state["done"], info.size)

    return add


def _extract_to_folder(fileobj, info, folder, progress):
    real = os.path.realpath(folder)
    add = _written(info, progress)
    fileobj.seek(0)
    with zipfile.ZipFile(fileobj) as archive:
        infos = archive.infolist()
        if len(infos) != len(info.entries):
            raise _not_a_zip(fileobj)
        for entry in info.entries:
            target = os.path.realpath(os.path.join(real, *entry.path.split("/"))) if entry.path else real
            if target != real and not target.startswith(real + os.sep):
                raise PackageError(_("L'entrée « %(name)s » sort du dossier du paquet : refusé.") % {"name": entry.name})
            if entry.is_dir:
                os.makedirs(target, exist_ok=True)
                continue
            zinfo = infos[entry.index]
            if zinfo.orig_filename != entry.name:
                raise _corrupt(zinfo)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(target, "xb") as out:
                for chunk in _chunks(archive, zinfo):
                    out.write(chunk)
                    add(len(chunk))
            os.chmod(target, 0o644)
    if progress:
        progress(info.size, info.size)


def _extract_to_storage(fileobj, info, storage, progress):
    """For storages without a local path (object storage): write each file under the final
    folder (spooled through a temporary file), removing what was written if anything fails."""
    root = info.root
    _remove_tree(storage, root)  # no row owns it (checked by the caller): a leftover
    add = _written(info, progress)
    written = []
    fileobj.seek(0)
    try:
        with zipfile.ZipFile(fileobj) as archive:
            infos = archive.infolist()
            for entry in info.entries:
                if entry.is_dir:
                    continue
                zinfo = infos[entry.index]
                with tempfile.SpooledTemporaryFile(max_size=8 * CHUNK) as spool:
                    for chunk in _chunks(archive, zinfo):
                        spool.write(chunk)
                        add(len(chunk))
                    spool.seek(0)
                    written.append(storage.save(f"{root}/{entry.path}", File(spool)))
    except BaseException:
        for name in written:
            storage.delete(name)
        raise
    if progress:
        progress(info.size, info.size)
