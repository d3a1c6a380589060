"""Uploaded files checked by their content, whatever their name (shared by every app).

``sniff`` reads the first bytes of the upload and asks ``filetype`` what they are: a
program renamed ``cv.pdf`` is refused, a PDF named ``cv.txt`` is accepted as a PDF. ZIP-based
office formats (DOCX, ODT…) are recognised by their inner markers.
"""

import filetype
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

DOCUMENTS = {"pdf": "PDF", "docx": "DOCX", "odt": "ODT"}
MAX_BYTES = 5 * 1024 * 1024
HEAD_BYTES = 8192


def _too_large(upload, max_bytes):
    size = upload.size / 1024 / 1024
    if max_bytes == MAX_BYTES:
        return _("Le fichier dépasse 5 Mo (%(size).1f Mo).") % {"size": size}
    return _("Le fichier dépasse %(max)s Mo (%(size).1f Mo).") % {"max": f"{max_bytes / 1024 / 1024:g}", "size": size}


def _wrong_type(upload, allowed, found):
    if allowed == DOCUMENTS:
        return _(
            "Le fichier « %(name)s » n'est pas un PDF, un DOCX ou un ODT (contenu détecté : %(found)s), "
            "quel que soit son nom."
        ) % {"name": upload.name, "found": found}
    return _(
        "Le fichier « %(name)s » n'est pas dans un format accepté (%(formats)s ; contenu détecté : %(found)s), "
        "quel que soit son nom."
    ) % {"name": upload.name, "formats": ", ".join(allowed.values()), "found": found}


def sniff(upload, *, field, allowed=DOCUMENTS, max_bytes=MAX_BYTES):
    """The extension detected in ``upload`` (one of ``allowed``'s keys), or ValidationError
    ``{field: message}``: the file is larger than ``max_bytes`` (None: no limit) or its
    content is not one of ``allowed`` (``{extension: label}``; PDF, DOCX and ODT by
    default). The upload is left at its start."""
    if max_bytes is not None and upload.size > max_bytes:
        raise ValidationError({field: _too_large(upload, max_bytes)})
    head = upload.read(HEAD_BYTES)
    upload.seek(0)
    kind = filetype.guess(head)
    if kind is None or kind.extension not in allowed:
        found = kind.extension.upper() if kind else _("inconnu ou texte")
        raise ValidationError({field: _wrong_type(upload, allowed, found)})
    return kind.extension
