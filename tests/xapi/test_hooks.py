"""What later work plugs into: ``store_statements`` from Python and the ``statements_stored`` signal."""

import pytest

from tests.xapi.conftest import ACTOR, statement
from xapi import services
from xapi.errors import XAPIBadRequest, XAPIConflict
from xapi.models import Statement
from xapi.signals import statements_stored


def test_parcours_stores_statements_from_python_as_its_own_authority(db, settings):
    ids = services.store_statements([statement(), statement()], client=None)
    rows = {str(row.statement_id): row for row in Statement.objects.all()}
    assert set(rows) == set(ids)
    authority = rows[ids[0]].data["authority"]
    assert authority["account"] == {"homePage": settings.WAGTAILADMIN_BASE_URL, "name": "parcours"}


def test_store_statements_validates_like_the_http_layer(db):
    with pytest.raises(XAPIBadRequest, match=r"statements\[0\]\.actor"):
        services.store_statements([statement(actor={"name": "x"})], client=None)
    first = services.store_statements([statement()], client=None)[0]
    with pytest.raises(XAPIConflict):
        services.store_statements([statement(id=first, verb={"id": "http://e.com/v"})], client=None)


def test_the_signal_is_sent_on_commit_with_the_new_ids(lrs_client, django_capture_on_commit_callbacks):
    received = []

    def listener(sender, statement_ids, client, **kwargs):
        received.append((statement_ids, client))

    statements_stored.connect(listener)
    try:
        client, _auth = lrs_client
        with django_capture_on_commit_callbacks(execute=True):
            ids = services.store_statements([statement(actor=ACTOR)], client=client)
        assert received == [(ids, client)]
        with django_capture_on_commit_callbacks(execute=True):
            services.store_statements([statement(id=ids[0])], client=client)  # already stored: nothing new
        assert len(received) == 1
    finally:
        statements_stored.disconnect(listener)
