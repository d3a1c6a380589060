"""CSV exports streamed by PostgreSQL's own ``COPY (SELECT …) TO STDOUT WITH (FORMAT csv)``.

The Python path (``cms.csvstream``) fetches rows through a cursor, builds tuples, then
formats them with ``csv.writer``: fetching and formatting never overlap and each cell goes
through Python. Here the server formats the CSV and psycopg hands over one row of bytes at
a time (one CopyData message per row, as the protocol guarantees for ``COPY TO``): the
response streams them in chunks of ``FLUSH_ROWS`` rows.

Same bytes as the Python path for the same rows (tested in tests/cms/test_pgcopy.py and
tests/learning/test_export_copy.py):

- the byte order mark and the header line are written by the same ``csv.writer`` as the
  Python path (not COPY's HEADER, which would print the SQL aliases);
- every line ends with CRLF: COPY ends rows with LF, and the last byte of each CopyData
  message (the row terminator, never a newline inside a quoted cell) becomes CRLF;
- cells are quoted in the same cases (a delimiter, a double quote, CR or LF in the value;
  quotes doubled); an empty text is written as nothing, like ``csv.writer``'s ``""``
  (COPY would quote it: the wrapper turns it into NULL, which COPY writes as nothing);
- non-text values are written as Python's ``str()`` would: floats as ``repr`` ("1.0",
  "0.25", "1e-05", "inf"), booleans "True"/"False", integers, decimals and dates as is.
  Datetimes (and any other type) must be formatted by the query itself (see
  ``learning.api.serializers.IsoUtc``): :func:`copy_statement` refuses them.

A failure half-way (the database stops, ``statement_timeout``, the connection drops)
raises out of the response's iterator like the Python path: the WSGI server then closes
the connection without the last chunk of ``Transfer-Encoding: chunked`` (HTTP/1.1), and
every HTTP client reports an incomplete body. No trailer, no row count: a file is complete
only when its transfer is (docs/deployment.md says how the proxy keeps that guarantee).
A client that goes away closes the generator: psycopg then cancels the COPY on the server.
"""

import csv
import io
import time

from django.db import connections, models
from django.http import StreamingHttpResponse

from cms.csvstream import BOM, NO_STORE

FLUSH_ROWS = 2000
CRLF = b"\r\n"

# Python's repr() of a float from PostgreSQL's shortest round-trip text: the same digits
# (both print the shortest string that reads back the same double), ".0" after an integral
# value, "inf"/"nan" for the specials. PostgreSQL switches to an exponent from 1e15,
# Python from 1e16: integral values in between go through bigint (exact). Non-integral
# values between 1e15 and 1e16 (never a progress or a score) keep PostgreSQL's exponent.
PY_FLOAT = (
    "CASE WHEN {c} IS NULL THEN NULL"
    " WHEN {c} = 'NaN'::float8 THEN 'nan'"
    " WHEN {c} = 'Infinity'::float8 THEN 'inf'"
    " WHEN {c} = '-Infinity'::float8 THEN '-inf'"
    " WHEN {c} = trunc({c}) AND abs({c}) < 1e15 THEN {c}::text || '.0'"
    " WHEN {c} = trunc({c}) AND abs({c}) < 1e16 THEN {c}::bigint::text || '.0'"
    " ELSE {c}::text END"
)
PY_BOOL = "CASE WHEN {c} THEN 'True' WHEN NOT {c} THEN 'False' END"
PY_TEXT = "NULLIF({c}::text, '')"

FLOAT_FIELDS = (models.FloatField,)
BOOL_FIELDS = (models.BooleanField,)
REFUSED_FIELDS = (models.DateTimeField, models.TimeField, models.DurationField, models.JSONField)


def supports_copy(queryset):
    """True where the export can stream COPY (PostgreSQL); SQLite keeps the Python path."""
    return connections[queryset.db].vendor == "postgresql"


def cell_sql(column, field):
    """SQL turning ``column`` into the text ``csv.writer`` would write for its Python value."""
    if isinstance(field, FLOAT_FIELDS):
        return PY_FLOAT.format(c=column)
    if isinstance(field, BOOL_FIELDS):
        return PY_BOOL.format(c=column)
    if isinstance(field, REFUSED_FIELDS):
        raise TypeError(f"{type(field).__name__}: format this column as text in the query (see IsoUtc).")
    return PY_TEXT.format(c=column)  # text, integers, decimals, dates (ISO, as str()), uuids


def copy_statement(queryset, *, delimiter=";"):
    """``COPY (SELECT <cells> FROM (<the queryset's SQL>) q) TO STDOUT …`` with the parameters
    bound on the client (COPY takes none), and the number of columns."""
    import psycopg

    if len(delimiter) != 1 or delimiter in '"\r\n':
        raise ValueError(f"Delimiter {delimiter!r}: one character, not a quote or a newline.")
    connection = connections[queryset.db]
    compiler = queryset.query.get_compiler(using=queryset.db)
    sql, params = compiler.as_sql()
    fields = [expression.output_field for expression, _sql, _alias in compiler.select]
    names = [f"c{index}" for index in range(len(fields))]
    cells = ", ".join(cell_sql(f"q.{name}", field) for name, field in zip(names, fields, strict=True))
    connection.ensure_connection()
    select = psycopg.ClientCursor(connection.connection).mogrify(sql, params)
    quoted_delimiter = "'" + delimiter.replace("'", "''") + "'"
    statement = (
        f"COPY (SELECT {cells} FROM ({select}) AS q({', '.join(names)})) "
        f"TO STDOUT WITH (FORMAT csv, DELIMITER {quoted_delimiter})"
    )
    return statement, len(fields)


def header_line(header, delimiter):
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerow(header)
    return buffer.getvalue()


def copy_stream(queryset, *, delimiter=";", bom=True, header=None, flush_rows=FLUSH_ROWS):
    """Yield the CSV bytes of ``queryset`` (a ``values_list``) as COPY writes them: the BOM
    and ``header`` first (before any query: the client sees the download start), then one
    piece per ``flush_rows`` rows. One query, logged like Django's own."""
    first = (BOM if bom else "") + (header_line(header, delimiter) if header is not None else "")
    if first:
        yield first.encode("utf-8")
    statement, _columns = copy_statement(queryset, delimiter=delimiter)
    connection = connections[queryset.db]
    started = time.monotonic()
    try:
        with connection.wrap_database_errors, connection.cursor() as cursor:
            with cursor.cursor.copy(statement) as copy:
                parts, rows = [], 0
                for data in copy:
                    parts.append(data[:-1])  # the row without its LF
                    parts.append(CRLF)
                    rows += 1
                    if rows == flush_rows:
                        yield b"".join(parts)
                        parts, rows = [], 0
                if parts:
                    yield b"".join(parts)
    finally:
        if connection.queries_logged:
            connection.queries_log.append({"sql": statement, "time": f"{time.monotonic() - started:.3f}"})


def copy_csv_response(queryset, filename, *, delimiter=";", bom=True, header=None, headers=None):
    """A ``text/csv`` attachment streaming :func:`copy_stream`, with the headers of
    ``cms.csvstream.streaming_csv_response``."""
    return StreamingHttpResponse(
        copy_stream(queryset, delimiter=delimiter, bom=bom, header=header),
        content_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": NO_STORE,
            **(headers or {}),
        },
    )
