"""The learner's record in Mon espace (issue 12, item 4): the statements about the signed-in
user only (never another's, even by id), readable, paginated, and downloadable as a JSON array
of xAPI statements, streamed in a constant number of queries."""

import json

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests.factories import AgentFactory
from xapi import services
from xapi.identity import actor_for
from xapi.models import Statement

ADL = "http://adlnet.gov/expapi/verbs/"
RECORD = "/mon-espace/releve-xapi/"
EXPORT = "/mon-espace/releve-xapi/export.json"


@pytest.fixture
def ada(db):
    return AgentFactory(user__username="ada_record").user


@pytest.fixture
def bob(db):
    return AgentFactory(user__username="bob_record").user


def st(user, n, **extra):
    return {
        "actor": actor_for(user),
        "verb": {"id": ADL + "passed", "display": {"en-US": "passed", "fr-FR": "a réussi"}},
        "object": {"id": f"http://example.com/activities/{n}", "definition": {"name": {"fr-FR": f"Module {n}"}}},
        "result": {"score": {"scaled": 0.85}, "success": True},
        **extra,
    }


def signed_in(user):
    browser = Client()
    browser.force_login(user)
    return browser


def export(browser):
    response = browser.get(EXPORT)
    assert response.status_code == 200 and response.streaming
    return response, json.loads(b"".join(response.streaming_content))


def test_the_record_lists_my_statements_readably(ada, bob):
    services.store_statements([st(ada, 1), st(ada, 2)], client=None)
    services.store_statements([st(bob, 3)], client=None)
    response = signed_in(ada).get(RECORD)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Module 1" in page and "Module 2" in page and "Module 3" not in page
    assert "a réussi" in page and "85 %" in page and "réussi" in page
    assert [row.object for row in response.context["rows"]] == ["Module 2", "Module 1"]


def test_mon_espace_links_the_record(ada):
    assert RECORD in signed_in(ada).get("/mon-espace/").content.decode()


def test_anonymous_is_sent_to_login(db):
    for url in (RECORD, EXPORT, f"{RECORD}00000000-0000-4000-8000-000000000000/"):
        response = Client().get(url)
        assert response.status_code == 302 and "next=" in response["Location"]


def test_another_agent_statement_is_never_shown_even_by_id(ada, bob):
    (mine,) = services.store_statements([st(ada, 1)], client=None)
    (theirs,) = services.store_statements([st(bob, 2)], client=None)
    browser = signed_in(ada)
    assert browser.get(f"{RECORD}{mine}/").status_code == 200
    assert browser.get(f"{RECORD}{theirs}/").status_code == 404
    assert browser.get(f"{RECORD}not-a-uuid/").status_code == 404
    _response, exported = export(browser)
    assert [s["id"] for s in exported] == [mine]


def test_one_statement_shows_its_json(ada):
    (mine,) = services.store_statements([st(ada, 1)], client=None)
    response = signed_in(ada).get(f"{RECORD}{mine}/")
    assert json.loads(response.context["raw"]) == Statement.objects.get(statement_id=mine).data


def test_voided_statements_leave_the_record(ada):
    (mine,) = services.store_statements([st(ada, 1)], client=None)
    services.store_statements(
        [
            {
                "actor": actor_for(ada),
                "verb": {"id": ADL + "voided"},
                "object": {"objectType": "StatementRef", "id": mine},
            }
        ],
        client=None,
    )
    browser = signed_in(ada)
    assert browser.get(f"{RECORD}{mine}/").status_code == 404
    _response, exported = export(browser)
    assert mine not in [s["id"] for s in exported]


def test_the_export_is_a_json_array_of_full_statements(ada):
    ids = services.store_statements([st(ada, n) for n in range(3)], client=None)
    response, exported = export(signed_in(ada))
    assert response["Content-Type"].startswith("application/json")
    assert response["Content-Disposition"].startswith('attachment; filename="releve-xapi-')
    assert [s["id"] for s in exported] == ids  # oldest first
    for statement in exported:
        assert {"id", "actor", "verb", "object", "stored", "timestamp", "authority", "version"} <= set(statement)


def test_an_empty_record(ada):
    response = signed_in(ada).get(RECORD)
    assert "Aucune déclaration" in response.content.decode()
    assert export(signed_in(ada))[1] == []


def test_pagination(ada):
    services.store_statements([st(ada, n) for n in range(30)], client=None)
    browser = signed_in(ada)
    first = browser.get(RECORD)
    second = browser.get(RECORD, {"page": 2})
    assert len(first.context["rows"]) == 25 and len(second.context["rows"]) == 5
    assert browser.get(RECORD, {"page": "zzz"}).status_code == 200


def test_record_and_export_run_constant_queries(ada, bob):
    browser = signed_in(ada)
    browser.get(RECORD)
    counts = []
    for size in (2, 40):
        services.store_statements([st(ada, f"{size}-{n}") for n in range(size)], client=None)
        services.store_statements([st(bob, f"{size}-{n}") for n in range(size)], client=None)
        with CaptureQueriesContext(connection) as record_queries:
            assert browser.get(RECORD).status_code == 200
        with CaptureQueriesContext(connection) as export_queries:
            response, exported = export(browser)
        counts.append((len(record_queries), len(export_queries)))
    assert counts[0] == counts[1]
    assert len(exported) == 42
