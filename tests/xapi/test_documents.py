"""Document resources (Part Three 2.2, 2.3, 2.6, 2.7) and concurrency (3.1)."""

import hashlib
import json

import pytest

from tests.xapi.conftest import ACTOR, OTHER

ACTIVITY_ID = "http://example.com/activities/course"
REGISTRATION = "fd41c918-b88b-4b20-a0a5-a4c32391aaa0"

RESOURCES = {
    "state": ("activities/state", {"activityId": ACTIVITY_ID, "agent": ACTOR}, "stateId"),
    "activity profile": ("activities/profile", {"activityId": ACTIVITY_ID}, "profileId"),
    "agent profile": ("agents/profile", {"agent": ACTOR}, "profileId"),
}


@pytest.fixture(params=list(RESOURCES))
def resource(request):
    return RESOURCES[request.param]


def params_for(resource, doc_id=None, **extra):
    _path, context, id_name = resource
    params = dict(context)
    if doc_id is not None:
        params[id_name] = doc_id
    params.update(extra)
    return params


def put(lrs, resource, doc_id, body, content_type="application/json", headers=None, **extra):
    headers = {"if-none-match": "*"} if headers is None else headers
    return lrs.put(resource[0], body, params_for(resource, doc_id, **extra), content_type=content_type, headers=headers)


def test_put_then_get_with_etag_and_last_modified(lrs, resource):
    assert put(lrs, resource, "doc", {"x": "foo"}).status_code == 204
    response = lrs.get(resource[0], params_for(resource, "doc"))
    assert response.status_code == 200
    assert response.json() == {"x": "foo"}
    assert response["ETag"] == f'"{hashlib.sha1(response.content).hexdigest()}"'  # noqa: S324
    assert response["Last-Modified"]
    assert response["Content-Type"] == "application/json"


def test_documents_keep_any_content_type_as_bytes(lrs, resource):
    data = bytes(range(256))
    assert put(lrs, resource, "bin", data, content_type="application/octet-stream").status_code == 204
    response = lrs.get(resource[0], params_for(resource, "bin"))
    assert response.content == data and response["Content-Type"] == "application/octet-stream"


def test_post_merges_top_level_properties(lrs, resource):
    put(lrs, resource, "doc", {"x": "foo", "y": "bar"})
    etag = lrs.get(resource[0], params_for(resource, "doc"))["ETag"]
    response = lrs.post(resource[0], {"x": "bash", "z": "faz"}, params_for(resource, "doc"), headers={"if-match": etag})
    assert response.status_code == 204
    assert lrs.get(resource[0], params_for(resource, "doc")).json() == {"x": "bash", "y": "bar", "z": "faz"}


def test_post_creates_a_missing_document(lrs, resource):
    assert lrs.post(resource[0], {"a": 1}, params_for(resource, "new")).status_code == 204
    assert lrs.get(resource[0], params_for(resource, "new")).json() == {"a": 1}


@pytest.mark.parametrize(
    ("rule", "existing", "existing_type", "posted", "posted_type"),
    [
        ("POST to a non-JSON document is rejected", b"text", "text/plain", {"a": 1}, "application/json"),
        ("POST of a non-JSON document is rejected", {"a": 1}, "application/json", b"text", "text/plain"),
        ("POST of a JSON array is rejected", {"a": 1}, "application/json", [1, 2], "application/json"),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_merge_rules(lrs, resource, rule, existing, existing_type, posted, posted_type):
    put(lrs, resource, "doc", existing, content_type=existing_type)
    before = lrs.get(resource[0], params_for(resource, "doc")).content
    response = lrs.post(resource[0], posted, params_for(resource, "doc"), content_type=posted_type)
    assert response.status_code == 400, rule
    assert lrs.get(resource[0], params_for(resource, "doc")).content == before


def test_get_without_id_lists_ids_and_since_filters(lrs, resource):
    put(lrs, resource, "a", {"v": 1})
    put(lrs, resource, "b", {"v": 2})
    listing = lrs.get(resource[0], params_for(resource))
    assert listing.status_code == 200 and sorted(listing.json()) == ["a", "b"]
    assert listing["Last-Modified"]
    from xapi.documents import ACTIVITY_PROFILE, AGENT_PROFILE, STATE

    model = {"activities/state": STATE, "activities/profile": ACTIVITY_PROFILE, "agents/profile": AGENT_PROFILE}
    updated_a = model[resource[0]].model.objects.get(**{model[resource[0]].id_field: "a"}).updated
    assert lrs.get(resource[0], params_for(resource, since=updated_a.isoformat())).json() == ["b"]
    assert lrs.get(resource[0], params_for(resource, since="2999-01-01T00:00:00Z")).json() == []


def test_missing_document_is_404(lrs, resource):
    assert lrs.get(resource[0], params_for(resource, "nope")).status_code == 404


def test_delete_single(lrs, resource):
    put(lrs, resource, "doc", {"a": 1})
    assert lrs.delete(resource[0], params_for(resource, "doc")).status_code == 204
    assert lrs.get(resource[0], params_for(resource, "doc")).status_code == 404


# --- concurrency --------------------------------------------------------------------------------------


def test_if_match_with_the_current_etag_succeeds_and_a_stale_one_gets_412(lrs, resource):
    put(lrs, resource, "doc", {"v": 1})
    etag = lrs.get(resource[0], params_for(resource, "doc"))["ETag"]
    assert put(lrs, resource, "doc", {"v": 2}, headers={"if-match": etag}).status_code == 204
    assert put(lrs, resource, "doc", {"v": 3}, headers={"if-match": etag}).status_code == 412
    assert lrs.post(resource[0], {"v": 4}, params_for(resource, "doc"), headers={"if-match": etag}).status_code == 412
    assert lrs.delete(resource[0], params_for(resource, "doc"), headers={"if-match": etag}).status_code == 412
    assert lrs.get(resource[0], params_for(resource, "doc")).json() == {"v": 2}


def test_if_none_match_star_fails_when_the_document_exists(lrs, resource):
    assert put(lrs, resource, "doc", {"v": 1}, headers={"if-none-match": "*"}).status_code == 204
    assert put(lrs, resource, "doc", {"v": 2}, headers={"if-none-match": "*"}).status_code == 412
    assert lrs.get(resource[0], params_for(resource, "doc")).json() == {"v": 1}


def test_if_match_on_a_missing_document_is_412(lrs, resource):
    assert put(lrs, resource, "doc", {"v": 1}, headers={"if-match": '"abc"'}).status_code == 412


@pytest.mark.parametrize("name", ["activity profile", "agent profile"])
def test_a_put_to_an_existing_profile_without_precondition_headers_is_409(lrs, name):
    resource = RESOURCES[name]
    assert put(lrs, resource, "doc", {"v": 1}, headers={}).status_code == 204  # creating needs no header
    response = put(lrs, resource, "doc", {"v": 2}, headers={})
    assert response.status_code == 409
    assert "If-Match" in response.json()["error"]["message"]
    assert lrs.get(resource[0], params_for(resource, "doc")).json() == {"v": 1}


def test_state_accepts_writes_without_precondition_headers(lrs):
    resource = RESOURCES["state"]
    assert put(lrs, resource, "doc", {"v": 1}, headers={}).status_code == 204
    assert put(lrs, resource, "doc", {"v": 2}, headers={}).status_code == 204


# --- state specifics -------------------------------------------------------------------------------------


def test_state_is_scoped_by_registration_and_delete_without_id_clears_the_context(lrs):
    resource = RESOURCES["state"]
    put(lrs, resource, "s1", {"v": 1})
    put(lrs, resource, "s2", {"v": 2}, registration=REGISTRATION)
    assert lrs.get(resource[0], params_for(resource, "s2")).status_code == 404
    assert lrs.get(resource[0], params_for(resource, "s2", registration=REGISTRATION)).json() == {"v": 2}
    assert lrs.get(resource[0], params_for(resource, registration=REGISTRATION)).json() == ["s2"]
    assert sorted(lrs.get(resource[0], params_for(resource)).json()) == ["s1", "s2"]
    other = {"activityId": ACTIVITY_ID, "agent": OTHER, "stateId": "s1"}
    lrs.put(resource[0], {"v": 3}, other)
    assert lrs.delete(resource[0], params_for(resource)).status_code == 204
    assert lrs.get(resource[0], params_for(resource)).json() == []
    assert lrs.get(resource[0], other).json() == {"v": 3}


@pytest.mark.parametrize(
    ("rule", "path", "params"),
    [
        ("state needs activityId", "activities/state", {"agent": ACTOR, "stateId": "s"}),
        ("state needs agent", "activities/state", {"activityId": ACTIVITY_ID, "stateId": "s"}),
        ("state agent must be valid JSON", "activities/state", {"activityId": ACTIVITY_ID, "agent": "x", "stateId": "s"}),
        ("state agent must be an Agent, not a Group", "activities/state",
         {"activityId": ACTIVITY_ID, "agent": {"objectType": "Group", "mbox": "mailto:t@e.com"}, "stateId": "s"}),
        ("state activityId must be an IRI", "activities/state", {"activityId": "course", "agent": ACTOR, "stateId": "s"}),
        ("state registration must be a UUID", "activities/state",
         {"activityId": ACTIVITY_ID, "agent": ACTOR, "stateId": "s", "registration": "x"}),
        ("activity profile needs activityId", "activities/profile", {"profileId": "p"}),
        ("agent profile needs agent", "agents/profile", {"profileId": "p"}),
        ("an unknown parameter is rejected", "agents/profile", {"agent": ACTOR, "profileId": "p", "foo": "1"}),
        ("an enormous id is rejected", "agents/profile", {"agent": ACTOR, "profileId": "p" * 5000}),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_document_parameter_rules(lrs, rule, path, params):
    assert lrs.put(path, {"v": 1}, params, headers={"if-none-match": "*"}).status_code == 400, rule
    assert lrs.get(path, params).status_code == 400, rule


def test_profile_delete_needs_the_id(lrs):
    assert lrs.delete("agents/profile", {"agent": ACTOR}).status_code == 400


def test_alternate_syntax_reaches_documents(lrs):
    form = {"agent": json.dumps(ACTOR), "profileId": "p", "content": json.dumps({"a": 1}),
            "Content-Type": "application/json", "If-None-Match": "*",
            "X-Experience-API-Version": "1.0.3", "Authorization": lrs.authorization}  # fmt: skip
    from urllib.parse import urlencode

    response = lrs.http.post("/xapi/agents/profile?method=PUT", urlencode(form),
                             content_type="application/x-www-form-urlencoded")  # fmt: skip
    assert response.status_code == 204, response.content
    assert lrs.get("agents/profile", {"agent": ACTOR, "profileId": "p"}).json() == {"a": 1}


def test_deleting_a_missing_document_is_204_and_if_match_on_it_412(lrs, resource):
    assert lrs.delete(resource[0], params_for(resource, "never")).status_code == 204
    assert lrs.delete(resource[0], params_for(resource, "never"), headers={"if-match": '"abc"'}).status_code == 412
