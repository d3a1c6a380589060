"""Statement resource (Part Three 2.1): PUT, POST, GET, immutability, voiding, the query
filters (with the StatementRef rules), formats and the more link."""

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.xapi.conftest import ACTIVITY, ACTOR, OTHER, VERB, statement
from xapi import validation
from xapi.models import Statement

VOIDED = {"id": validation.VOIDED_VERB, "display": {"en-US": "voided"}}


def new_id():
    return str(uuid.uuid4())


def ids_of(response):
    assert response.status_code == 200, response.content
    return [s["id"] for s in response.json()["statements"]]


def store(lrs, *statements):
    response = lrs.post("statements", list(statements))
    assert response.status_code == 200, response.content
    return response.json()


# --- PUT and POST ------------------------------------------------------------------------------


def test_put_stores_with_the_given_id_and_answers_204(lrs):
    statement_id = new_id()
    response = lrs.put("statements", statement(), {"statementId": statement_id})
    assert response.status_code == 204
    stored = lrs.get("statements", {"statementId": statement_id}).json()
    assert stored["id"] == statement_id
    assert stored["version"] == "1.0.0"
    assert stored["timestamp"] == stored["stored"]
    assert stored["authority"]["account"]["name"].startswith("lrs-client:")


@pytest.mark.parametrize(
    ("rule", "params", "body", "expected"),
    [
        ("PUT requires the statementId parameter", {}, statement(), 400),
        ("statementId must be a UUID", {"statementId": "nope"}, statement(), 400),
        ("the statement id must match statementId", {"statementId": str(uuid.uuid4())}, statement(id=str(uuid.uuid4())),
         400),
        ("PUT takes one statement, not an array", {"statementId": str(uuid.uuid4())}, [statement()], 400),
        ("PUT refuses other parameters", {"statementId": str(uuid.uuid4()), "limit": "1"}, statement(), 400),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_put_rules(lrs, rule, params, body, expected):
    assert lrs.put("statements", body, params).status_code == expected


def test_post_returns_the_ids_in_order_and_sets_missing_ids(lrs):
    given = new_id()
    ids = store(lrs, statement(), statement(id=given), statement())
    assert len(ids) == 3 and ids[1] == given
    assert all(validation.is_uuid(i) for i in ids)


def test_post_of_a_single_statement_returns_a_list(lrs):
    response = lrs.post("statements", statement())
    assert response.status_code == 200 and len(response.json()) == 1


def test_a_batch_with_a_duplicate_id_is_rejected_and_nothing_is_stored(lrs):
    same = new_id()
    response = lrs.post("statements", [statement(id=same), statement(id=same, verb={"id": "http://e.com/v"})])
    assert response.status_code == 400
    assert not Statement.objects.exists()


def test_an_invalid_statement_rejects_the_whole_batch(lrs):
    response = lrs.post("statements", [statement(), statement(actor={"name": "no ifi"})])
    assert response.status_code == 400
    assert not Statement.objects.exists()


def test_an_empty_batch_is_rejected(lrs):
    assert lrs.post("statements", []).status_code == 400


def test_same_id_different_content_is_409_and_changes_nothing(lrs):
    statement_id = new_id()
    assert lrs.put("statements", statement(), {"statementId": statement_id}).status_code == 204
    response = lrs.put("statements", statement(verb={"id": "http://example.com/other"}), {"statementId": statement_id})
    assert response.status_code == 409
    response = lrs.post("statements", [statement(id=statement_id, object={"id": "http://example.com/other"})])
    assert response.status_code == 409
    assert Statement.objects.get().data["verb"] == VERB


def test_same_id_same_content_is_accepted_without_change(lrs):
    statement_id = new_id()
    body = statement(id=statement_id, timestamp="2024-01-02T03:04:05.000Z",
                     context={"contextActivities": {"parent": ACTIVITY}})  # fmt: skip
    assert lrs.post("statements", body).status_code == 200
    stored_before = Statement.objects.get().stored
    # the same statement: an equivalent timestamp, the context activity as an array, another authority
    same = {**body, "timestamp": "2024-01-02T05:04:05+02:00", "context": {"contextActivities": {"parent": [ACTIVITY]}},
            "authority": {"mbox": "mailto:someone@example.com"}}  # fmt: skip
    assert lrs.put("statements", same, {"statementId": statement_id}).status_code == 204
    assert lrs.post("statements", [same]).json() == [statement_id]
    assert Statement.objects.get().stored == stored_before


def test_the_lrs_overwrites_authority_with_the_client_and_keeps_it_for_a_trusted_client(db):
    from tests.xapi.conftest import LRS, make_client

    plain = LRS(make_client("plain")[1])
    trusted = LRS(make_client("trusted", trusted_authority=True)[1])
    given = {"objectType": "Agent", "mbox": "mailto:auth@example.com"}
    first = plain.post("statements", statement(authority=given)).json()[0]
    second = trusted.post("statements", statement(authority=given)).json()[0]
    assert plain.get("statements", {"statementId": first}).json()["authority"]["name"] == "plain"
    assert trusted.get("statements", {"statementId": second}).json()["authority"] == given


def test_context_activities_are_returned_as_arrays(lrs):
    statement_id = store(lrs, statement(context={"contextActivities": {"parent": ACTIVITY}}))[0]
    stored = lrs.get("statements", {"statementId": statement_id}).json()
    assert stored["context"]["contextActivities"]["parent"] == [ACTIVITY]


def test_numbers_keep_their_precision(lrs):
    statement_id = store(lrs, statement(result={"score": {"scaled": 0.123456789012345}}))[0]
    stored = lrs.get("statements", {"statementId": statement_id}).json()
    assert stored["result"]["score"]["scaled"] == 0.123456789012345


# --- GET single ---------------------------------------------------------------------------------


def test_get_single_has_last_modified_and_consistent_through(lrs):
    statement_id = store(lrs, statement())[0]
    response = lrs.get("statements", {"statementId": statement_id})
    assert response.status_code == 200
    assert response["Last-Modified"]
    assert validation.parse_timestamp(response["X-Experience-API-Consistent-Through"])


@pytest.mark.parametrize(
    ("rule", "params", "expected"),
    [
        ("an unknown statementId is 404", {"statementId": "fd41c918-b88b-4b20-a0a5-a4c32391aaa0"}, 404),
        ("statementId and voidedStatementId together are rejected",
         {"statementId": "fd41c918-b88b-4b20-a0a5-a4c32391aaa0",
          "voidedStatementId": "fd41c918-b88b-4b20-a0a5-a4c32391aaa0"}, 400),
        ("statementId with another filter is rejected",
         {"statementId": "fd41c918-b88b-4b20-a0a5-a4c32391aaa0", "verb": VERB["id"]}, 400),
        ("statementId with format and attachments is allowed (404 when absent)",
         {"statementId": "fd41c918-b88b-4b20-a0a5-a4c32391aaa0", "format": "ids", "attachments": "false"}, 404),
        ("an invalid statementId is rejected", {"statementId": "nope"}, 400),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_get_single_rules(lrs, rule, params, expected):
    assert lrs.get("statements", params).status_code == expected


# --- voiding ------------------------------------------------------------------------------------------


def test_voiding_hides_the_target_from_statementid_and_queries(lrs):
    target = store(lrs, statement())[0]
    voiding = store(lrs, statement(verb=VOIDED, object={"objectType": "StatementRef", "id": target}))[0]
    assert lrs.get("statements", {"statementId": target}).status_code == 404
    assert lrs.get("statements", {"voidedStatementId": target}).json()["id"] == target
    assert lrs.get("statements", {"voidedStatementId": voiding}).status_code == 404
    assert ids_of(lrs.get("statements")) == [voiding]
    # a statement targeting the voided statement matches a filter the voided one matches
    assert ids_of(lrs.get("statements", {"activity": ACTIVITY["id"]})) == [voiding]


def test_a_voiding_statement_cannot_be_voided(lrs):
    target = store(lrs, statement())[0]
    voiding = store(lrs, statement(verb=VOIDED, object={"objectType": "StatementRef", "id": target}))[0]
    response = lrs.post("statements", statement(verb=VOIDED, object={"objectType": "StatementRef", "id": voiding}))
    assert response.status_code == 400
    assert lrs.get("statements", {"statementId": voiding}).status_code == 200


def test_voiding_a_statement_stored_later_or_in_the_same_batch(lrs):
    later, same_batch = new_id(), new_id()
    store(lrs, statement(verb=VOIDED, object={"objectType": "StatementRef", "id": later}))
    store(lrs, statement(id=later))
    store(lrs, statement(id=same_batch), statement(verb=VOIDED, object={"objectType": "StatementRef", "id": same_batch}))
    assert lrs.get("statements", {"statementId": later}).status_code == 404
    assert lrs.get("statements", {"statementId": same_batch}).status_code == 404
    assert lrs.get("statements", {"voidedStatementId": later}).status_code == 200


# --- query filters -------------------------------------------------------------------------------------


@pytest.fixture
def corpus(lrs):
    """A small record: the filters below each select a known subset."""
    registration = str(uuid.uuid4())
    team = {"objectType": "Group", "mbox": "mailto:team@example.com", "member": [OTHER]}
    other_activity = {"id": "http://example.com/activities/other"}
    ids = {}
    ids["plain"] = store(lrs, statement())[0]
    ids["other_actor"] = store(lrs, statement(actor=OTHER, verb={"id": "http://example.com/verbs/other"}))[0]
    ids["agent_object"] = store(lrs, statement(actor=OTHER, object={"objectType": "Agent", **{"mbox": ACTOR["mbox"]}}))[0]
    ids["group_actor"] = store(lrs, statement(actor={"objectType": "Group", "member": [ACTOR]}, object=other_activity))[0]
    ids["instructor"] = store(lrs, statement(actor=OTHER, object=other_activity, context={"instructor": ACTOR,
                                                                                         "team": team}))[0]
    ids["context_activity"] = store(lrs, statement(actor=OTHER, object=other_activity, context={
        "registration": registration, "contextActivities": {"parent": ACTIVITY}}))[0]
    ids["substatement"] = store(lrs, statement(actor=OTHER, object={
        "objectType": "SubStatement", "actor": ACTOR, "verb": VERB, "object": ACTIVITY}))[0]
    ids["ref"] = store(lrs, statement(actor=OTHER, verb={"id": "http://example.com/verbs/confirmed"},
                                      object={"objectType": "StatementRef", "id": ids["plain"]}))[0]
    return {"ids": ids, "registration": registration}


def expect(corpus, *names):
    return {corpus["ids"][name] for name in names}


@pytest.mark.parametrize(
    ("rule", "params", "names"),
    [
        ("agent matches the actor, the object agent and groups with that member, and refs to them",
         {"agent": {"mbox": ACTOR["mbox"]}}, ("plain", "agent_object", "group_actor", "ref")),
        ("related_agents also matches instructor and SubStatement parts",
         {"agent": {"mbox": ACTOR["mbox"]}, "related_agents": "true"},
         ("plain", "agent_object", "group_actor", "instructor", "substatement", "ref")),
        ("related_agents matches a team and its members",
         {"agent": {"objectType": "Group", "mbox": "mailto:team@example.com"}, "related_agents": "true"},
         ("instructor",)),
        ("verb matches the verb id", {"verb": "http://example.com/verbs/other"}, ("other_actor",)),
        ("verb: a statement targeting a matching statement matches", {"verb": VERB["id"]},
         ("plain", "agent_object", "group_actor", "instructor", "context_activity", "substatement", "ref")),
        ("activity matches the object activity (and refs to it)", {"activity": ACTIVITY["id"]},
         ("plain", "other_actor", "ref")),
        ("related_activities also matches context activities and SubStatement objects",
         {"activity": ACTIVITY["id"], "related_activities": "true"},
         ("plain", "other_actor", "context_activity", "substatement", "ref")),
        ("registration matches the context registration", {"registration": "REG"}, ("context_activity",)),
        ("filters combine", {"agent": {"mbox": OTHER["mbox"]}, "verb": "http://example.com/verbs/other"},
         ("other_actor",)),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_query_filters(lrs, corpus, rule, params, names):
    params = {k: corpus["registration"] if v == "REG" else v for k, v in params.items()}
    assert set(ids_of(lrs.get("statements", params))) == expect(corpus, *names)


@pytest.mark.parametrize(
    ("rule", "params"),
    [
        ("agent must be JSON", {"agent": "ada"}),
        ("agent must be an Agent with one IFI", {"agent": {"name": "Ada"}}),
        ("verb must be an IRI", {"verb": "experienced"}),
        ("activity must be an IRI", {"activity": "course"}),
        ("registration must be a UUID", {"registration": "x"}),
        ("since must be a timestamp", {"since": "yesterday"}),
        ("until must be a timestamp", {"until": "2024"}),
        ("limit must be a non-negative integer", {"limit": "-1"}),
        ("format must be ids, exact or canonical", {"format": "full"}),
        ("ascending must be true or false", {"ascending": "yes"}),
        ("attachments must be true or false", {"attachments": "1"}),
        ("an unknown parameter is rejected", {"actor": "x"}),
        ("a forged more link is rejected", {"more": "forged"}),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_query_parameter_validation(lrs, rule, params):
    response = lrs.get("statements", params)
    assert response.status_code == 400, rule


def test_since_is_exclusive_and_until_inclusive_on_stored(lrs):
    first = store(lrs, statement())[0]
    second = store(lrs, statement())[0]
    first_stored = lrs.get("statements", {"statementId": first}).json()["stored"]
    assert ids_of(lrs.get("statements", {"since": first_stored})) == [second]
    assert ids_of(lrs.get("statements", {"until": first_stored})) == [first]


def test_ascending_and_default_order(lrs):
    ids = [store(lrs, statement())[0] for _ in range(3)]
    assert ids_of(lrs.get("statements")) == ids[::-1]
    assert ids_of(lrs.get("statements", {"ascending": "true"})) == ids


def test_no_match_is_200_with_an_empty_list(lrs):
    response = lrs.get("statements", {"verb": "http://example.com/verbs/never"})
    assert response.json() == {"statements": [], "more": ""}


def test_huge_limit_values_are_capped(lrs, settings):
    settings.XAPI_STATEMENTS_MAX_LIMIT = 2
    store(lrs, statement(), statement(), statement())
    for limit in ("0", "99999999999999999999999999", "3"):
        response = lrs.get("statements", {"limit": limit})
        assert len(ids_of(response)) == 2 and response.json()["more"]


# --- formats -------------------------------------------------------------------------------------------


def test_format_ids_keeps_only_identifiers(lrs):
    definition = {"name": {"en-US": "Course"}}
    statement_id = store(lrs, statement(object={**ACTIVITY, "definition": definition},
                                        actor={"objectType": "Group", "name": "G", "member": [ACTOR]}))[0]
    stored = lrs.get("statements", {"statementId": statement_id, "format": "ids"}).json()
    assert stored["object"] == {"objectType": "Activity", "id": ACTIVITY["id"]}
    assert stored["verb"] == {"id": VERB["id"]}
    assert stored["actor"] == {"objectType": "Group", "member": [{"objectType": "Agent", "mbox": ACTOR["mbox"]}]}


def test_format_canonical_uses_the_merged_definition_and_one_language(lrs):
    first = {**ACTIVITY, "definition": {"name": {"en-US": "Course", "fr-FR": "Cours"}}}
    second = {**ACTIVITY, "definition": {"description": {"fr-FR": "Une description"}}}
    store(lrs, statement(object=first))
    statement_id = store(lrs, statement(object=second, verb={**VERB, "display": {"en-US": "did", "fr": "a fait"}}))[0]
    response = lrs.get("statements", {"statementId": statement_id, "format": "canonical"},
                       headers={"accept-language": "fr-FR, en;q=0.5"})  # fmt: skip
    stored = response.json()
    assert stored["object"]["definition"] == {"name": {"fr-FR": "Cours"}, "description": {"fr-FR": "Une description"}}
    assert stored["verb"]["display"] == {"fr": "a fait"}
    exact = lrs.get("statements", {"statementId": statement_id}).json()
    assert exact["object"] == second


def test_activities_resource_returns_the_canonical_definition(lrs):
    store(lrs, statement(object={**ACTIVITY, "definition": {"name": {"en-US": "Course"}}}))
    store(lrs, statement(object={**ACTIVITY, "definition": {"name": {"fr-FR": "Cours"}, "type": "http://e.com/t"}}))
    response = lrs.get("activities", {"activityId": ACTIVITY["id"]})
    assert response.json() == {"objectType": "Activity", "id": ACTIVITY["id"], "definition": {
        "name": {"en-US": "Course", "fr-FR": "Cours"}, "type": "http://e.com/t"}}
    unknown = lrs.get("activities", {"activityId": "http://example.com/unknown"})
    assert unknown.json() == {"objectType": "Activity", "id": "http://example.com/unknown"}
    assert lrs.get("activities").status_code == 400


def test_agents_resource_returns_a_person(lrs):
    response = lrs.get("agents", {"agent": ACTOR})
    assert response.json() == {"objectType": "Person", "name": ["Ada"], "mbox": [ACTOR["mbox"]]}
    assert lrs.get("agents", {"agent": {"objectType": "Group", "mbox": "mailto:t@e.com"}}).status_code == 400


# --- the more link ---------------------------------------------------------------------------------------


def page_through(lrs, params):
    seen, pages = [], 0
    response = lrs.get("statements", params)
    while True:
        pages += 1
        seen += ids_of(response)
        more = response.json()["more"]
        if not more:
            return seen, pages
        assert more.startswith("/xapi/statements?more=")
        response = lrs.http.get(more, headers={"authorization": lrs.authorization, "x-experience-api-version": "1.0.3"})


def test_more_pages_through_everything_once_even_with_concurrent_inserts(lrs):
    ids = store(lrs, *[statement() for _ in range(7)])
    first = lrs.get("statements", {"limit": "3", "verb": VERB["id"]})
    newer = store(lrs, statement())  # inserted while a client pages
    seen = ids_of(first)
    response = first
    while more := response.json()["more"]:
        response = lrs.http.get(more, headers={"authorization": lrs.authorization, "x-experience-api-version": "1.0.3"})
        seen += ids_of(response)
    assert seen == ids[::-1]
    assert newer[0] not in seen
    ascending, _pages = page_through(lrs, {"limit": "2", "ascending": "true"})
    assert ascending == [*ids, *newer]


@pytest.mark.parametrize("size", [4, 12])
def test_a_page_runs_a_constant_number_of_queries(lrs, size):
    attachment = {"usageType": "http://e.com/u", "display": {"en": "a"}, "contentType": "text/plain", "length": 1,
                  "sha2": "a" * 64, "fileUrl": "http://e.com/f"}  # fmt: skip
    store(lrs, *[statement(attachments=[attachment], object={**ACTIVITY, "definition": {"name": {"en": "C"}}})
                 for _ in range(size)])  # fmt: skip
    for params in ({"limit": str(size)}, {"limit": str(size), "format": "canonical", "attachments": "true",
                                          "agent": {"mbox": ACTOR["mbox"]}, "related_activities": "true",
                                          "activity": ACTIVITY["id"]}):
        lrs.get("statements", params)  # warm: sessions, content types
        with CaptureQueriesContext(connection) as queries:
            response = lrs.get("statements", params)
        assert response.status_code == 200
        # credentials (1), the page (1), canonical definitions and attachment data (1 each)
        assert len(queries) <= 4, [q["sql"] for q in queries]


def test_head_answers_the_get_headers_without_a_body(lrs):
    statement_id = store(lrs, statement())[0]
    get = lrs.get("statements", {"statementId": statement_id})
    head = lrs.head("statements", {"statementId": statement_id})
    assert head.status_code == 200 and head.content == b""
    assert head["Content-Length"] == str(len(get.content))
    assert head["Last-Modified"] == get["Last-Modified"]
    assert head["X-Experience-API-Version"] == "1.0.3"


def test_statements_of_the_record_store_are_append_only(lrs):
    target = store(lrs, statement())[0]
    data_before = Statement.objects.get().data
    store(lrs, statement(verb=VOIDED, object={"objectType": "StatementRef", "id": target}))
    row = Statement.objects.get(statement_id=target)
    assert row.voided and row.data == data_before
    assert lrs.delete("statements", {"statementId": target}).status_code == 405
