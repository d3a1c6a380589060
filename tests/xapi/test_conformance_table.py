"""xAPI 1.0.3 Part Three requirements not exercised elsewhere in tests/xapi, one row each with
the requirement's text: the Activities and Agents resources' parameters, document ``since``
rules, the version header on errors, and voiding seen through the single and query GETs.
Runs on SQLite and PostgreSQL (set DATABASE_URL)."""

import json

import pytest

from tests.xapi.conftest import ACTIVITY, ACTOR, statement

UUID = "9e13cefd-53d3-4eac-b5ed-2cf6693903bb"
VOIDED = "http://adlnet.gov/expapi/verbs/voided"


def void(target):
    return statement(verb={"id": VOIDED}, object={"objectType": "StatementRef", "id": target})


def body(response):
    return json.loads(response.content) if response.content else None


# (requirement text, setup statements, method, path, params, expected status, check on the answer)
ROWS = [
    ("2.5 Activities Resource: activityId is required (400 when missing)",
     [], "GET", "activities", {}, 400, None),
    ("2.5 Activities Resource: activityId must be an IRI",
     [], "GET", "activities", {"activityId": "not an iri"}, 400, None),
    ("2.5 Activities Resource: an unknown parameter is rejected",
     [], "GET", "activities", {"activityId": ACTIVITY["id"], "foo": "1"}, 400, None),
    ("2.5 Activities Resource: an Activity with no stored definition is returned as an Activity object",
     [], "GET", "activities", {"activityId": "http://example.com/never-seen"}, 200,
     lambda r: body(r) == {"objectType": "Activity", "id": "http://example.com/never-seen"}),
    ("2.4 Agents Resource: agent is required (400 when missing)",
     [], "GET", "agents", {}, 400, None),
    ("2.4 Agents Resource: agent must be a valid Agent JSON object",
     [], "GET", "agents", {"agent": "ada"}, 400, None),
    ("2.4 Agents Resource: an Agent with no IFI is rejected",
     [], "GET", "agents", {"agent": {"name": "Ada"}}, 400, None),
    ("2.4 Agents Resource: the Person object has objectType Person and array properties",
     [], "GET", "agents", {"agent": ACTOR}, 200,
     lambda r: body(r)["objectType"] == "Person" and body(r)["mbox"] == [ACTOR["mbox"]]),
    ("2.3 State Resource (multiple documents): since must be a timestamp",
     [], "GET", "activities/state", {"activityId": ACTIVITY["id"], "agent": ACTOR, "since": "yesterday"}, 400, None),
    ("2.7 Activity Profile Resource (multiple documents): since must be a timestamp",
     [], "GET", "activities/profile", {"activityId": ACTIVITY["id"], "since": "2024"}, 400, None),
    ("2.8 Agent Profile Resource (multiple documents): since must be a timestamp",
     [], "GET", "agents/profile", {"agent": ACTOR, "since": "soon"}, 400, None),
    ("2.8 Agent Profile Resource: a Group is not accepted as the agent",
     [], "GET", "agents/profile", {"agent": {"objectType": "Group", "member": [ACTOR]}}, 400, None),
    ("1.3 Versioning: the LRS sends X-Experience-API-Version on a 400 answer too",
     [], "GET", "statements", {"verb": "not an iri"}, 400,
     lambda r: r["X-Experience-API-Version"].startswith("1.0")),
    ("1.3 Versioning: the LRS sends X-Experience-API-Version on a 404 answer too",
     [], "GET", "statements", {"statementId": UUID}, 404,
     lambda r: r["X-Experience-API-Version"].startswith("1.0")),
    ("2.1.4 Voided Statements: a statement that is not voided is not returned by voidedStatementId (404)",
     [statement(id=UUID)], "GET", "statements", {"voidedStatementId": UUID}, 404, None),
    ("2.1.4 Voided Statements: a voided statement is returned by voidedStatementId",
     [statement(id=UUID), void(UUID)], "GET", "statements", {"voidedStatementId": UUID}, 200,
     lambda r: body(r)["id"] == UUID),
    ("2.1.4 Voided Statements: a voided statement is not returned by statementId (404)",
     [statement(id=UUID), void(UUID)], "GET", "statements", {"statementId": UUID}, 404, None),
    ("2.1.4 Voided Statements: the voiding statement itself is returned by queries",
     [statement(id=UUID), void(UUID)], "GET", "statements", {"verb": VOIDED}, 200,
     lambda r: [s["object"]["id"] for s in body(r)["statements"]] == [UUID]),
    ("2.1.3 GET Statements: the answer is a StatementResult with statements and more",
     [statement()], "GET", "statements", {"limit": "1"}, 200,
     lambda r: set(body(r)) == {"statements", "more"} and len(body(r)["statements"]) == 1),
    ("2.1.3 GET Statements: more is an empty string when there is nothing more",
     [statement()], "GET", "statements", {"limit": "5"}, 200, lambda r: body(r)["more"] == ""),
    ("2.1.3 GET Statements: more is a relative IRL when results remain",
     [statement(), statement()], "GET", "statements", {"limit": "1"}, 200,
     lambda r: body(r)["more"].startswith("/xapi/statements")),
    ("2.1.3 GET Statements: the answer's Content-Type is application/json",
     [statement()], "GET", "statements", {}, 200, lambda r: r["Content-Type"].startswith("application/json")),
    ("2.1.2 POST Statements: the answer is the array of the statement ids, in order",
     [], "POST", "statements", [statement(id=UUID), statement()], 200,
     lambda r: len(body(r)) == 2 and body(r)[0] == UUID),
    ("2.1.1 PUT Statements: statementId is required (400 without it)",
     [], "PUT", "statements", statement(), 400, None),
    ("2.1.2 POST Statements: a statement whose verb is voided must target a StatementRef",
     [], "POST", "statements", statement(verb={"id": VOIDED}), 400, None),
    ("2.1.4 Voided Statements: voiding a statement the LRS does not hold is accepted (it may arrive later)",
     [], "POST", "statements", void(UUID), 200, None),
]  # fmt: skip


@pytest.mark.parametrize(("requirement", "setup", "method", "path", "params", "expected", "check"), ROWS,
                         ids=[row[0] for row in ROWS])  # fmt: skip
def test_part_three_requirement(lrs, requirement, setup, method, path, params, expected, check):
    if setup:
        assert lrs.post("statements", setup).status_code == 200
    if method == "GET":
        response = lrs.get(path, params)
    elif method == "POST":
        response = lrs.post(path, params)
    else:
        response = lrs.put(path, params)
    assert response.status_code == expected, (requirement, response.content[:300])
    if check is not None:
        assert check(response), (requirement, response.content[:300])


def test_rows_cite_requirements():
    assert len({row[0] for row in ROWS}) == len(ROWS)
    assert all(row[0][:1].isdigit() for row in ROWS)
