"""Part Three section 1: version header, alternate request syntax, CORS, HEAD, encoding and
hostile input (4xx, never 500)."""

import json
from urllib.parse import urlencode

import pytest

from tests.xapi.conftest import ACTOR, statement

RESOURCES = ["statements", "activities/state", "activities/profile", "agents/profile", "activities", "agents"]


@pytest.mark.parametrize("path", RESOURCES)
def test_a_request_without_the_version_header_is_400(lrs, path):
    response = lrs.get(path, version=None)
    assert response.status_code == 400
    assert "X-Experience-API-Version" in response.json()["error"]["message"]
    assert response["X-Experience-API-Version"] == "1.0.3"


@pytest.mark.parametrize(("version", "expected"), [("1.0.0", 200), ("1.0", 200), ("1.0.9", 200), ("0.95", 400),
                                                   ("2.0.0", 400), ("1.1.0", 400)])  # fmt: skip
def test_accepted_versions(lrs, version, expected):
    assert lrs.get("statements", version=version).status_code == expected


def test_about_needs_neither_version_nor_credentials(db):
    from django.test import Client

    response = Client().get("/xapi/about")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"version", "extensions"}
    assert "1.0.3" in body["version"] and "1.0.0" in body["version"]
    assert response["X-Experience-API-Version"] == "1.0.3"
    assert Client().head("/xapi/about").content == b""


@pytest.mark.parametrize("path", ["about", *RESOURCES])
def test_every_answer_carries_the_version_header(lrs, path):
    assert lrs.get(path)["X-Experience-API-Version"] == "1.0.3"


@pytest.mark.parametrize("path", ["statements", "activities/state", "agents/profile", "about"])
def test_cors_preflight_without_credentials(db, path):
    from django.test import Client

    response = Client().options(f"/xapi/{path}", headers={
        "origin": "https://content.example.org", "access-control-request-method": "PUT",
        "access-control-request-headers": "authorization, content-type, x-experience-api-version"})  # fmt: skip
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "https://content.example.org"
    allowed = response["Access-Control-Allow-Headers"].lower()
    for header in ("authorization", "content-type", "x-experience-api-version", "if-match", "if-none-match"):
        assert header in allowed
    assert ("GET" if path == "about" else "PUT") in response["Access-Control-Allow-Methods"]


def test_cors_headers_on_answers(lrs):
    response = lrs.get("statements", headers={"origin": "https://content.example.org"})
    assert response["Access-Control-Allow-Origin"] == "https://content.example.org"
    exposed = response["Access-Control-Expose-Headers"]
    for header in ("ETag", "Last-Modified", "X-Experience-API-Consistent-Through", "X-Experience-API-Version"):
        assert header in exposed


def test_consistent_through_on_every_statement_answer(lrs):
    for response in (lrs.get("statements"), lrs.post("statements", statement()), lrs.get("statements", {"limit": "x"})):
        assert response["X-Experience-API-Consistent-Through"]


def test_writes_are_csrf_exempt(lrs_client):
    from django.test import Client

    from tests.xapi.conftest import LRS

    strict = LRS(lrs_client[1], client=Client(enforce_csrf_checks=True))
    assert strict.post("statements", statement()).status_code == 200


@pytest.mark.parametrize("path", ["activities", "agents", "about"])
def test_head_on_get_resources(lrs, path):
    params = {"activities": {"activityId": "http://example.com/a"}, "agents": {"agent": ACTOR}, "about": {}}[path]
    get, head = lrs.get(path, params), lrs.head(path, params)
    assert get.status_code == head.status_code == 200
    assert head.content == b"" and head["Content-Length"] == str(len(get.content))


def test_unsupported_methods_are_405(lrs):
    assert lrs.delete("statements").status_code == 405
    assert lrs.post("activities").status_code == 405
    assert lrs.put("about").status_code == 405


# --- alternate request syntax ------------------------------------------------------------------------


def alternate(lrs, path, method, fields, *, query=None, include_auth=True):
    form = {"X-Experience-API-Version": "1.0.3", **fields}
    if include_auth:
        form["Authorization"] = lrs.authorization
    url = f"/xapi/{path}?" + urlencode(query or {"method": method})
    return lrs.http.post(url, urlencode(form), content_type="application/x-www-form-urlencoded")


def test_alternate_put_and_get_statements(lrs):
    statement_id = "fd41c918-b88b-4b20-a0a5-a4c32391aaa0"
    response = alternate(lrs, "statements", "PUT", {"statementId": statement_id, "content": json.dumps(statement()),
                                                    "Content-Type": "application/json"})  # fmt: skip
    assert response.status_code == 204, response.content
    response = alternate(lrs, "statements", "GET", {"statementId": statement_id})
    assert response.status_code == 200 and response.json()["id"] == statement_id
    response = alternate(lrs, "statements", "GET", {"verb": statement()["verb"]["id"]})
    assert [s["id"] for s in response.json()["statements"]] == [statement_id]


def test_alternate_post_stores_statements(lrs):
    response = alternate(lrs, "statements", "POST", {"content": json.dumps([statement()])})
    assert response.status_code == 200 and len(response.json()) == 1


@pytest.mark.parametrize(
    ("rule", "query", "fields"),
    [
        ("other query parameters are refused", {"method": "GET", "limit": "1"}, {}),
        ("the method must be GET, PUT, POST or DELETE", {"method": "PATCH"}, {}),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_alternate_syntax_rules(lrs, rule, query, fields):
    assert alternate(lrs, "statements", None, fields, query=query).status_code == 400, rule


def test_alternate_syntax_carries_the_credentials_and_version(lrs):
    assert alternate(lrs, "statements", "GET", {}, include_auth=False).status_code == 401
    response = lrs.http.post("/xapi/statements?method=GET", urlencode({"Authorization": lrs.authorization}),
                             content_type="application/x-www-form-urlencoded")  # fmt: skip
    assert response.status_code == 400


# --- hostile input ------------------------------------------------------------------------------------


def test_deep_json_is_400(lrs):
    deep = "[" * 100 + "]" * 100
    assert lrs.post("statements", deep).status_code == 400
    very_deep = "[" * 200_000
    assert lrs.post("statements", very_deep).status_code == 400
    deep_agent = json.dumps({"mbox": "mailto:a@example.com", "x": json.loads("[" * 70 + "]" * 70)})
    assert lrs.get("statements", {"agent": deep_agent}).status_code == 400


def test_invalid_utf8_is_400(lrs):
    assert lrs.post("statements", b'{"actor": "\xff\xfe"}').status_code == 400
    response = lrs.put("agents/profile", b"\xff", {"agent": ACTOR, "profileId": "p"},
                       content_type="application/json", headers={"if-none-match": "*"})  # fmt: skip
    assert response.status_code == 204  # documents are bytes: any content is stored as sent
    assert lrs.post("agents/profile", {"a": 1}, {"agent": ACTOR, "profileId": "p"}).status_code == 400


def test_a_body_beyond_the_limit_is_refused(lrs, settings):
    settings.MAX_REQUEST_BODY_BYTES = 10 * 1024 * 1024
    huge = b"[" + b" " * (10 * 1024 * 1024) + b"]"
    assert lrs.post("statements", huge).status_code == 413


def test_nan_and_malformed_json_are_400(lrs):
    assert lrs.post("statements", '{"actor": NaN}').status_code == 400
    assert lrs.post("statements", "{").status_code == 400
    assert lrs.post("statements", "").status_code == 400


def test_enormous_ids_and_values_are_400(lrs):
    assert lrs.get("statements", {"statementId": "9" * 10_000}).status_code == 400
    assert lrs.get("statements", {"verb": "http://example.com/" + "v" * 5000}).status_code == 400
    assert lrs.post("statements", statement(verb={"id": "http://example.com/" + "v" * 5000})).status_code == 400
    assert lrs.get("statements", {"limit": "9" * 500}).status_code == 200
    assert lrs.get("statements", {"limit": "1e3"}).status_code == 400


def test_repeated_parameters_are_400(lrs):
    response = lrs.http.get("/xapi/statements?limit=1&limit=2",
                            headers={"authorization": lrs.authorization, "x-experience-api-version": "1.0.3"})
    assert response.status_code == 400


def test_timestamps_beyond_the_calendar_are_400(lrs):
    assert lrs.get("statements", {"since": "9999-12-31T23:59:59-05:00"}).status_code == 400
    assert lrs.post("statements", statement(timestamp="0001-01-01T00:00:00+01:00")).status_code == 400
