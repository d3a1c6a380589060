"""The candidate's files (CV, cover letter), served from private storage as an attachment.

One rule for every door (the admin's ``ApplicationFileView`` and the API's
``applications/{id}/cv/`` and ``applications/{id}/cover-letter/``): the caller reaches the
application through ``selectors.applications_visible_to`` first; then a file is served only
once the candidate's identity is no longer hidden by anonymised screening, only while the
candidate's data has not been erased, and only if it exists in storage.
"""

import os

from django.http import FileResponse
from django.utils.translation import gettext_lazy

from recruitment import selectors

#: The kinds of file, as they appear in the URLs, and the field holding each.
FIELDS = {"cv": "cv", "lettre": "cover_letter"}
#: The media type of each kind of document applications accept (by content, see
#: ``services.check_document``), from the stored file's extension.
MEDIA_TYPES = {
    ".pdf": "application/pdf",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".odt": "application/vnd.oasis.opendocument.text",
}
OTHER_MEDIA_TYPE = "application/octet-stream"
#: How each kind is named in the downloaded file's name.
NAMES = {"cv": gettext_lazy("cv"), "lettre": gettext_lazy("lettre")}


class Unavailable(Exception):
    """No file to serve; ``hidden`` when anonymised screening is what hides it."""

    def __init__(self, hidden=False):
        super().__init__()
        self.hidden = hidden


def erased(application):
    candidate = application.candidate
    return application.anonymised_at is not None or candidate.anonymised_at is not None


def file_response(application, kind):
    """The file ``kind`` of ``application`` (read with its ``opening`` and ``candidate``) as an
    attachment named after the application's reference; ``Unavailable`` otherwise."""
    if kind not in FIELDS:
        raise Unavailable()
    if selectors.identity_hidden(application):
        raise Unavailable(hidden=True)
    file = getattr(application, FIELDS[kind])
    if erased(application) or not file:
        raise Unavailable()
    try:
        handle = file.open("rb")
    except FileNotFoundError as error:
        raise Unavailable() from error
    extension = os.path.splitext(file.name)[1].lower()
    return FileResponse(
        handle, as_attachment=True, filename=f"{application.reference}-{NAMES[kind]}{extension}",
        content_type=MEDIA_TYPES.get(extension, OTHER_MEDIA_TYPE),
    )
