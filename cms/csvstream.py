"""CSV files streamed to the browser, shared by every app's exports.

French spreadsheets (Excel) read UTF-8 only with a byte order mark; CSV libraries (pandas,
Python's utf-8-sig, PostgreSQL COPY … HEADER) ignore or skip it. Rows are written a chunk at
a time (one ``writerows`` per chunk): memory stays flat whatever the number of rows, and a
client that goes away closes the row generator at once (ending, e.g., the transaction it
reads in).
"""

import csv
import io
from itertools import islice

from django.http import StreamingHttpResponse

BOM = "\ufeff"
CHUNK = 2000
NO_STORE = "private, no-store"


def csv_stream(rows, *, delimiter=";", bom=True, header=None, chunk_size=CHUNK):
    """Yield the CSV text of ``rows`` (lists of cells): the BOM (and ``header``, if given)
    first, then one piece per ``chunk_size`` rows. Lines end with CRLF (RFC 4180)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    if header is not None:
        writer.writerow(header)
    first = (BOM if bom else "") + buffer.getvalue()
    if first:
        yield first
    rows = iter(rows)
    try:
        while chunk := list(islice(rows, chunk_size)):
            buffer.seek(0)
            buffer.truncate()
            writer.writerows(chunk)
            yield buffer.getvalue()
    finally:
        if hasattr(rows, "close"):
            rows.close()


def streaming_csv_response(rows, filename, *, delimiter=";", bom=True, header=None, chunk_size=CHUNK, headers=None):
    """A ``text/csv`` attachment streaming ``rows`` (see :func:`csv_stream`); never cached
    (``Cache-Control: private, no-store``) unless ``headers`` says otherwise."""
    return StreamingHttpResponse(
        csv_stream(rows, delimiter=delimiter, bom=bom, header=header, chunk_size=chunk_size),
        content_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": NO_STORE,
            **(headers or {}),
        },
    )
