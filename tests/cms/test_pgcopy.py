"""cms.pgcopy: CSV written by PostgreSQL's COPY, byte for byte what the Python path writes."""

import math

import pytest
from django.db import DatabaseError, connection, transaction
from django.db.models import BooleanField, CharField, F, FloatField, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast

from cms.csvstream import csv_stream
from cms.models import OrgUnit
from cms.pgcopy import PY_FLOAT, copy_statement, copy_stream
from tests.factories import OrgUnitFactory

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

FLOATS = [0.0, -0.0, 1.0, -2.0, 0.1, 0.1 + 0.2, 1 / 3, 2 / 3, 99.99, 87.5, 1e-05, 1.5e-07, 0.0001, 123456789.0,
          12345678.9, 1e15, 1234567890123456.0, 9007199254740993.0, 1e16, 1.7976931348623157e308, 5e-324, 2.5e-300,
          math.inf, -math.inf, math.nan]  # fmt: skip
NAMES = ["Bureau ; des « parcours »", 'Dit "le grand"', "ligne\nsuivante", "retour\rchariot", "", " espaces ",
         "virgule, ici", "=SOMME(A1)", "Ünïcødé \u2028", "\\.", "tab\there"]  # fmt: skip


def test_floats_are_written_as_python_writes_them():
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {PY_FLOAT.format(c='v')} FROM unnest(%s::float8[]) WITH ORDINALITY AS t(v, n) ORDER BY n",
            [FLOATS],
        )
        written = [row[0] for row in cursor.fetchall()]
    assert written == [repr(value) for value in FLOATS]


def units():
    for index, name in enumerate(NAMES):
        OrgUnitFactory(code=f"U{index:02d}", name=name)
    return OrgUnit.objects.filter(code__startswith="U").order_by("code")


@pytest.mark.parametrize("delimiter", [",", ";"])
def test_copy_writes_the_bytes_of_csv_writer(delimiter):
    queryset = units().values_list(
        "code",
        "name",
        "depth",
        Cast(F("depth"), FloatField()) / 3,
        Value(True, output_field=BooleanField()),
        Value(False, output_field=BooleanField()),
        Value(None, output_field=CharField()),
        Value("", output_field=CharField()),
    )
    header = ["code", "nom; complet", 'avec "guillemets"', "vide"]
    python = "".join(csv_stream(queryset, delimiter=delimiter, header=header)).encode("utf-8")
    copied = b"".join(copy_stream(queryset, delimiter=delimiter, header=header))
    assert copied == python
    assert copied.count(b"\r\n") > len(NAMES)  # CRLF after every row, and inside the quoted cells


def test_pieces_hold_whole_rows_and_no_bom_when_asked():
    queryset = units().values_list("code", "name")
    pieces = list(copy_stream(queryset, bom=False, flush_rows=4))
    assert pieces[0].startswith(b"U00;")  # no header, no BOM
    assert [piece.endswith(b"\r\n") for piece in pieces] == [True] * len(pieces)
    assert len(pieces) == math.ceil(len(NAMES) / 4)


def test_datetimes_must_be_formatted_by_the_query():
    from learning.models import Enrollment

    with pytest.raises(TypeError, match="DateTimeField: format this column as text"):
        copy_statement(Enrollment.objects.values_list("id", "updated_at"))


def test_bad_delimiter_is_refused():
    with pytest.raises(ValueError, match="Delimiter"):
        copy_statement(OrgUnit.objects.values_list("code"), delimiter='"')


def test_an_error_half_way_raises_out_of_the_stream():
    """Rows before the failure were sent; the stream raises instead of ending quietly, so the
    server aborts the response (no last chunk) and the client sees an incomplete body."""
    units()
    failing = (
        OrgUnit.objects.filter(code__startswith="U")
        .order_by()  # rows in the order they are read: the failure comes after five of them
        .annotate(check=RawSQL("1 / (CASE WHEN code = 'U05' THEN 0 ELSE 1 END)", []))
        .values_list("code", "check")
    )
    received = []
    with transaction.atomic():  # the failed statement aborts only this savepoint
        sid = transaction.savepoint()
        with pytest.raises(DatabaseError, match="division by zero"):
            for piece in copy_stream(failing, flush_rows=1):
                received.append(piece)
        transaction.savepoint_rollback(sid)
    assert received[0] == "\ufeff".encode() and b"".join(received[1:]).count(b"\r\n") == 5  # U00 to U04
    assert OrgUnit.objects.filter(code__startswith="U").count() == len(NAMES)  # the connection goes on


def test_a_client_that_goes_away_ends_the_copy():
    units()
    with transaction.atomic():
        sid = transaction.savepoint()
        stream = copy_stream(OrgUnit.objects.order_by("code").values_list("code", "name"), flush_rows=1)
        next(stream), next(stream)
        stream.close()  # what the WSGI server does when the client disconnects
        transaction.savepoint_rollback(sid)
    assert OrgUnit.objects.filter(code__startswith="U").count() == len(NAMES)
