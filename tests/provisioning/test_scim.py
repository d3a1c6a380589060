"""SCIM 2.0 (RFC 7643/7644) at /scim/v2/, table-driven from the RFC's requirements, with the
forms Entra ID and Okta send."""

import json

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cms.models import Agent, OrgUnit
from provisioning import tokens
from provisioning.models import ProvisioningEvent
from tests.factories import AgentFactory
from tests.provisioning.conftest import ENTERPRISE, ERROR, SCIM, user_body

pytestmark = pytest.mark.django_db


def create(scim, number="M100001", **kw):
    response = scim.post("Users", user_body(number, **kw))
    assert response.status_code == 201, response.content
    return response.json()


def assert_error(response, status, scim_type=None):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith(SCIM)
    body = response.json()
    assert body["schemas"] == [ERROR]
    assert body["status"] == str(status)  # RFC 7644 §3.12: a string
    if scim_type:
        assert body["scimType"] == scim_type
    return body


# --- authentication (RFC 7644 §2) -------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    ["", "Bearer", "Bearer wrong", "Basic dXNlcjpwYXNz", "Bearer " + "x" * 5000, "Bearer é"],
)
def test_requests_without_a_valid_bearer_token_answer_401(client, scim_token, header):
    response = client.get("/scim/v2/Users", HTTP_AUTHORIZATION=header)
    assert_error(response, 401)
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_revoked_token_stops_working_and_use_is_recorded(scim, scim_token):
    assert scim.get("Users").status_code == 200
    scim_token[0].refresh_from_db()
    assert scim_token[0].last_used_at is not None
    tokens.revoke_token(scim_token=scim_token[0])
    assert_error(scim.get("Users"), 401)


def test_a_browser_session_is_not_a_provisioning_client(client, django_user_model):
    admin = django_user_model.objects.create_superuser("root", "root@example.org", "pw")
    client.force_login(admin)
    assert_error(client.get("/scim/v2/Users"), 401)


def test_only_the_digest_of_the_token_is_stored(scim_token):
    row, token = scim_token
    assert token not in {row.digest, row.prefix} and row.digest == tokens.digest_of(token)
    assert token.startswith(row.prefix)


def test_create_scim_token_command_prints_the_token_once(db, capsys):
    from django.core.management import call_command

    call_command("create_scim_token", "Okta")
    out = capsys.readouterr().out
    token = next(line.split(" : ", 1)[1] for line in out.splitlines() if line.startswith("Jeton :"))
    assert tokens.authenticate(token).name == "Okta"


# --- create, read (RFC 7644 §3.3, §3.4.1) ------------------------------------------------------


def test_post_creates_the_agent_and_its_account(scim, org):
    body = create(scim, department="DRH-SF", externalId="aad-1")
    agent = Agent.objects.select_related("user").get(pk=body["id"])
    assert (agent.employee_number, agent.user.username, agent.org_unit.code) == ("M100001", "m100001", "DRH-SF")
    assert (agent.user.first_name, agent.user.last_name, agent.job_title) == ("Camille", "Martin", "Chargée d'accueil")
    assert not agent.user.has_usable_password()
    assert body["externalId"] == "aad-1" and body["meta"]["resourceType"] == "User"
    assert body["meta"]["location"].endswith(f"/scim/v2/Users/{agent.pk}")


def test_post_answers_201_with_location_etag_and_content_type(scim, org):
    response = scim.post("Users", user_body(department="DRH"))
    assert response.status_code == 201
    assert response["Content-Type"].startswith(SCIM)
    assert response["Location"] == response.json()["meta"]["location"]
    assert response["ETag"] == response.json()["meta"]["version"]


def test_a_duplicate_user_name_answers_409_uniqueness(scim, org):
    create(scim)
    assert_error(scim.post("Users", user_body("m100001")), 409, "uniqueness")


def test_department_and_organization_create_missing_units(scim, db):
    body = create(scim, department="Service des piscines", organization="Direction de la jeunesse et des sports")
    agent = Agent.objects.get(pk=body["id"])
    unit = agent.org_unit
    assert unit.name == "Service des piscines"
    assert unit.get_parent().name == "Direction de la jeunesse et des sports"
    # The same names again find the same units.
    create(scim, "M100002", department="Service des piscines")
    assert OrgUnit.objects.count() == 2


def test_without_department_the_agent_joins_the_default_unit(scim, db):
    body = create(scim)
    assert Agent.objects.get(pk=body["id"]).org_unit.code == "A-AFFECTER"


def test_manager_value_is_the_managers_scim_id(scim, org):
    boss = create(scim, "M1", department="DRH")
    body = create(scim, "M2", department="DRH", manager=boss["id"])
    assert body[ENTERPRISE]["manager"]["value"] == boss["id"]
    assert Agent.objects.get(pk=body["id"]).manager_id == int(boss["id"])


def test_a_manager_cycle_is_refused_naming_the_attribute(scim, org):
    boss = create(scim, "M1", department="DRH")
    report = create(scim, "M2", department="DRH", manager=boss["id"])
    response = scim.patch(
        f"Users/{boss['id']}", [{"op": "replace", "path": f"{ENTERPRISE}:manager", "value": report["id"]}]
    )
    assert "manager" in assert_error(response, 400, "invalidValue")["detail"]
    assert Agent.objects.get(pk=boss["id"]).manager_id is None


@pytest.mark.parametrize(
    "change, attribute",
    [
        ({"userName": "", ENTERPRISE: {}}, "userName"),
        ({"name": {"givenName": "", "familyName": "X"}}, "name.givenName"),
        ({"emails": [{"value": "pas-une-adresse", "primary": True}]}, "emails"),
        ({"active": "peut-être"}, "active"),
        ({"emails": "x"}, "emails"),
        ({"name": "x"}, "name"),
        ({"userName": "a" * 40}, "userName"),
        ({"userName": "bad name!"}, "userName"),
        ({ENTERPRISE: {"employeeNumber": "OTHER"}}, "employeeNumber"),
        ({ENTERPRISE: {"employeeNumber": "M100001", "manager": {"value": "99999"}}}, "manager"),
    ],
)
def test_bad_input_names_the_attribute_and_changes_nothing(scim, org, change, attribute):
    body = user_body()
    body.update(change)
    detail = assert_error(scim.post("Users", body), 400)["detail"]
    assert attribute in detail
    assert not Agent.objects.exists() and not ProvisioningEvent.objects.exists()


def test_get_one_user_and_unknown_ids_answer_404(scim, org):
    body = create(scim, department="DRH")
    response = scim.get(f"Users/{body['id']}")
    assert response.status_code == 200 and response.json() == body
    for bad in ("999999", "9" * 40, "abc", "-1", "1.5"):
        assert_error(scim.get(f"Users/{bad}"), 404)


# --- filters and pagination (RFC 7644 §3.4.2) --------------------------------------------------


@pytest.fixture
def three(scim, org):
    created = [
        create(
            scim, "M1", given="Alice", family="Durand", email="alice@ville.example", department="DRH", externalId="e1"
        ),
        create(
            scim, "M2", given="Bruno", family="Dupont", email="bruno@ville.example", department="DRH", externalId="e2"
        ),
        create(scim, "X3", given="Chloé", family="Martin", email="chloe@autre.example", department="DRH", active=False),
    ]
    return [item["id"] for item in created]


@pytest.mark.parametrize(
    "query, expected",
    [
        ('userName eq "m1"', [0]),
        ('userName eq "M1"', [0]),
        ('userName sw "M"', [0, 1]),
        ('userName co "3"', [2]),
        ('externalId eq "e2"', [1]),
        ('emails eq "alice@ville.example"', [0]),
        ('emails.value co "ville"', [0, 1]),
        ('emails[type eq "work"].value eq "bruno@ville.example"', [1]),
        ("active eq true", [0, 1]),
        ("active eq false", [2]),
        ("externalId pr", [0, 1]),
        ('userName sw "M" and emails co "alice"', [0]),
        ('userName eq "M1" or userName eq "X3"', [0, 2]),
        ('not (userName eq "M1")', [1, 2]),
        ('name.familyName eq "Dupont"', [1]),
        (f'{ENTERPRISE}:employeeNumber eq "M2"', [1]),
        ('urn:ietf:params:scim:schemas:core:2.0:User:userName eq "M2"', [1]),
        ('userName ne "M1"', [1, 2]),
        ('id eq "99999999999999999999999"', []),
        ('userName eq "nobody"', []),
    ],
)
def test_filters(scim, three, query, expected):
    response = scim.get("Users", {"filter": query})
    assert response.status_code == 200, response.content
    body = response.json()
    assert [item["id"] for item in body["Resources"]] == [three[i] for i in expected]
    assert body["totalResults"] == len(expected)


@pytest.mark.parametrize(
    "query",
    ['userName eq', 'password eq "x"', 'userName zz "x"', "(" * 500 + 'userName eq "x"' + ")" * 500,
     'userName eq "x" and', "x" * 3000, 'meta.lastModified gt "not a date"', "userName eq \"x\" \x00"],
)  # fmt: skip
def test_bad_filters_answer_400_invalid_filter(scim, three, query):
    assert_error(scim.get("Users", {"filter": query}), 400, "invalidFilter")


def test_pagination_start_index_and_count(scim, three):
    body = scim.get("Users", {"startIndex": 2, "count": 1}).json()
    assert (body["totalResults"], body["itemsPerPage"], body["startIndex"]) == (3, 1, 2)
    assert [item["id"] for item in body["Resources"]] == [three[1]]
    assert scim.get("Users", {"count": 0}).json()["Resources"] == []
    assert scim.get("Users", {"startIndex": 0}).json()["startIndex"] == 1  # RFC: below 1 is 1
    assert_error(scim.get("Users", {"count": "lots"}), 400, "invalidValue")


def test_post_search(scim, three):
    response = scim.post(
        "Users/.search",
        {"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "filter": 'userName sw "M"', "count": 1},
    )
    assert response.status_code == 200
    assert response.json()["totalResults"] == 2 and len(response.json()["Resources"]) == 1


def test_attributes_and_excluded_attributes(scim, three):
    body = scim.get(f"Users/{three[0]}", {"attributes": "userName"}).json()
    assert set(body) == {"id", "schemas", "meta", "userName"}
    assert "groups" not in scim.get(f"Users/{three[0]}", {"excludedAttributes": "groups"}).json()


def test_list_queries_do_not_grow_with_the_users(scim, org, django_assert_max_num_queries):
    def count_queries():
        with CaptureQueriesContext(connection) as context:
            assert scim.get("Users", {"filter": 'userName sw "M"'}).status_code == 200
        return len(context)

    for number in range(3):
        create(scim, f"M{number}", department="DRH")
    small = count_queries()
    for number in range(3, 15):
        create(scim, f"M{number}", department="DRH")
    assert count_queries() == small


# --- replace, patch (RFC 7644 §3.5) -------------------------------------------------------------


def test_put_replaces_the_user(scim, org):
    body = create(scim, department="DRH", externalId="e1")
    replacement = user_body(given="Camille", family="Bernard", email="cb@ville.example", department="DRH-SF")
    response = scim.put(f"Users/{body['id']}", replacement)
    assert response.status_code == 200, response.content
    agent = Agent.objects.select_related("user", "org_unit").get(pk=body["id"])
    assert (agent.user.last_name, agent.user.email, agent.org_unit.code) == ("Bernard", "cb@ville.example", "DRH-SF")
    assert "externalId" not in response.json()  # left out of a PUT: cleared


ENTRA = [
    # Entra ID: capitalised op, string boolean.
    ([{"op": "Replace", "path": "active", "value": "False"}], lambda a: not a.active and not a.user.is_active),
    ([{"op": "Replace", "path": "active", "value": "True"}], lambda a: a.active and a.user.is_active),
    ([{"op": "replace", "path": 'emails[type eq "work"].value', "value": "new@ville.example"}],
     lambda a: a.user.email == "new@ville.example"),
    ([{"op": "Add", "path": "title", "value": "Cheffe de bureau"}], lambda a: a.job_title == "Cheffe de bureau"),
    ([{"op": "Replace", "path": "name.familyName", "value": "Petit"}], lambda a: a.user.last_name == "Petit"),
    ([{"op": "Replace", "path": f"{ENTERPRISE}:department", "value": "DRH-SF-B1"}],
     lambda a: a.org_unit.code == "DRH-SF-B1"),
    ([{"op": "replace", "value": {"active": False, "title": "Archiviste"}}],
     lambda a: not a.active and a.job_title == "Archiviste"),
    ([{"op": "replace", "value": {f"{ENTERPRISE}:department": "DRH"}}], lambda a: a.org_unit.code == "DRH"),
    ([{"op": "Add", "path": "externalId", "value": "aad-42"}], lambda a: a.scim_link.external_id == "aad-42"),
    ([{"op": "Remove", "path": "title"}], lambda a: a.job_title == ""),
    ([{"op": "replace", "path": "userName", "value": "M200000"}], lambda a: a.employee_number == "M200000"),
]  # fmt: skip


@pytest.mark.parametrize("operations, check", ENTRA)
def test_patch_forms_sent_by_entra_and_okta(scim, org, operations, check):
    body = create(scim, department="DRH-SF")
    if operations[0].get("value") == "True":
        body = scim.patch(f"Users/{body['id']}", [{"op": "replace", "path": "active", "value": False}]).json()
    operations = [dict(op, **({"path": op["path"]} if "path" in op else {})) for op in operations]
    if operations[0].get("path") == "userName":
        operations.append({"op": "replace", "path": f"{ENTERPRISE}:employeeNumber", "value": "M200000"})
    response = scim.patch(f"Users/{body['id']}", operations)
    assert response.status_code == 200, response.content
    agent = Agent.objects.select_related("user", "org_unit", "scim_link").get(pk=body["id"])
    assert check(agent)
    assert response.json()["meta"]["version"] != body["meta"]["version"]


def test_set_manager_by_patch_with_a_plain_value(scim, org):
    boss, body = create(scim, "M1", department="DRH"), create(scim, "M2", department="DRH")
    response = scim.patch(f"Users/{body['id']}", [{"op": "Add", "path": f"{ENTERPRISE}:manager", "value": boss["id"]}])
    assert response.status_code == 200
    assert Agent.objects.get(pk=body["id"]).manager_id == int(boss["id"])
    scim.patch(f"Users/{body['id']}", [{"op": "Remove", "path": f"{ENTERPRISE}:manager"}])
    assert Agent.objects.get(pk=body["id"]).manager_id is None


@pytest.mark.parametrize(
    "body, scim_type",
    [
        ({"Operations": []}, "invalidSyntax"),
        ({"Operations": [{"op": "move", "path": "title", "value": "x"}]}, "invalidSyntax"),
        ({"Operations": [{"op": "remove"}]}, "noTarget"),
        ({"Operations": [{"op": "replace", "path": "emails[type gt 1].value", "value": "x"}]}, "invalidFilter"),
        ({"Operations": [{"op": "replace", "path": "urn:nope:title", "value": "x"}]}, "invalidPath"),
        ({"Operations": [{"op": "replace", "path": "a..b", "value": "x"}]}, "invalidPath"),
        ({"Operations": [{"op": "replace", "value": "x"}]}, "invalidSyntax"),
        ({"Operations": "x"}, "invalidSyntax"),
        ({"Operations": [{"op": "replace", "path": "active", "value": "sometimes"}]}, "invalidValue"),
    ],
)
def test_bad_patches_answer_400(scim, org, body, scim_type):
    user = create(scim, department="DRH")
    response = scim.send("patch", f"Users/{user['id']}", body)
    assert_error(response, 400, scim_type)
    assert scim.get(f"Users/{user['id']}").json() == user


# --- ETags (RFC 7644 §3.14) --------------------------------------------------------------------


def test_etags(scim, org):
    body = create(scim, department="DRH")
    path, version = f"Users/{body['id']}", body["meta"]["version"]
    assert scim.get(path, HTTP_IF_NONE_MATCH=version).status_code == 304
    operations = [{"op": "replace", "path": "title", "value": "A"}]
    response = scim.patch(path, operations, HTTP_IF_MATCH=version)
    assert response.status_code == 200
    assert_error(scim.patch(path, operations, HTTP_IF_MATCH=version), 412)  # stale
    assert_error(scim.put(path, user_body(department="DRH"), HTTP_IF_MATCH=version), 412)
    assert_error(scim.delete(path, HTTP_IF_MATCH=version), 412)
    assert Agent.objects.get(pk=body["id"]).active
    assert scim.patch(path, operations, HTTP_IF_MATCH="*").status_code == 200
    assert scim.get(path).status_code == 200


# --- delete (deactivates) -----------------------------------------------------------------------


def test_delete_deactivates_and_never_deletes(scim, org):
    body = create(scim, department="DRH")
    response = scim.delete(f"Users/{body['id']}")
    assert response.status_code == 204
    agent = Agent.objects.select_related("user").get(pk=body["id"])
    assert not agent.active and not agent.user.is_active
    assert scim.get(f"Users/{body['id']}").json()["active"] is False
    # Reactivated by the client: the same agent comes back.
    response = scim.patch(f"Users/{body['id']}", [{"op": "replace", "path": "active", "value": True}])
    assert response.json()["active"] is True and Agent.objects.count() == 1
    assert_error(scim.delete("Users/99999"), 404)


# --- groups (roles) -----------------------------------------------------------------------------


def test_groups_are_the_roles_and_members_are_added_and_removed(scim, org):
    alice, bruno = create(scim, "M1", department="DRH"), create(scim, "M2", department="DRH")
    groups = {g["displayName"]: g for g in scim.get("Groups").json()["Resources"]}
    assert set(groups) == {"HR", "Training editors", "Recruiters", "Interviewers"}
    recruiters = groups["Recruiters"]["id"]
    add = [{"op": "Add", "path": "members", "value": [{"value": alice["id"]}, {"value": bruno["id"]}]}]
    response = scim.patch(f"Groups/{recruiters}", add)
    assert response.status_code == 200, response.content
    assert {m["value"] for m in response.json()["members"]} == {alice["id"], bruno["id"]}
    assert Group.objects.get(name="Recruiters").user_set.count() == 2
    # Okta's removal by filter, then Entra's removal by value list.
    scim.patch(f"Groups/{recruiters}", [{"op": "remove", "path": f'members[value eq "{alice["id"]}"]'}])
    scim.patch(f"Groups/{recruiters}", [{"op": "Remove", "path": "members", "value": [{"value": bruno["id"]}]}])
    assert Group.objects.get(name="Recruiters").user_set.count() == 0
    user = scim.get(f"Users/{alice['id']}").json()
    assert user["groups"] == []
    events = ProvisioningEvent.objects.filter(resource_type="Group").values_list("action", flat=True)
    assert sorted(events) == ["group_add", "group_remove", "group_remove"]


def test_groups_put_filter_and_refusals(scim, org):
    alice = create(scim, "M1", department="DRH")
    hr = scim.get("Groups", {"filter": 'displayName eq "HR"'}).json()["Resources"][0]
    response = scim.put(f"Groups/{hr['id']}", {"displayName": "HR", "members": [{"value": alice["id"]}]})
    assert response.status_code == 200 and [m["value"] for m in response.json()["members"]] == [alice["id"]]
    assert scim.get(f"Users/{alice['id']}").json()["groups"][0]["display"] == "HR"
    assert_error(
        scim.patch(f"Groups/{hr['id']}", [{"op": "add", "path": "members", "value": [{"value": "424242"}]}]), 400
    )
    assert_error(
        scim.patch(f"Groups/{hr['id']}", [{"op": "replace", "path": "displayName", "value": "X"}]), 400, "mutability"
    )
    assert_error(scim.post("Groups", {"displayName": "HR"}), 409, "uniqueness")
    assert_error(scim.post("Groups", {"displayName": "Nouveau"}), 400, "mutability")
    assert_error(scim.delete(f"Groups/{hr['id']}"), 400, "mutability")
    other = Group.objects.create(name="Not a role")
    assert_error(scim.get(f"Groups/{other.pk}"), 404)
    assert "members" not in scim.get("Groups", {"excludedAttributes": "members"}).json()["Resources"][0]


# --- discovery (RFC 7644 §4) --------------------------------------------------------------------


def test_service_provider_config_resource_types_and_schemas(scim):
    config = scim.get("ServiceProviderConfig").json()
    assert config["patch"]["supported"] and config["filter"]["supported"] and config["etag"]["supported"]
    assert not config["bulk"]["supported"] and not config["changePassword"]["supported"]
    assert config["authenticationSchemes"][0]["type"] == "oauthbearertoken"
    types = {t["id"]: t for t in scim.get("ResourceTypes").json()["Resources"]}
    assert types["User"]["schemaExtensions"][0]["schema"] == ENTERPRISE
    assert types["User"]["endpoint"] == "/scim/v2/Users"
    schemas = {s["id"] for s in scim.get("Schemas").json()["Resources"]}
    assert {"urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE} <= schemas
    assert scim.get(f"Schemas/{ENTERPRISE}").status_code == 200
    assert_error(scim.get("ResourceTypes/Nope"), 404)
    for path in ("Bulk", "Me", ""):
        assert_error(scim.get(path), 501)


# --- hostile input --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    ["{", "[1, 2]", "null", '"x"', "[" * 100000 + "]" * 100000, json.dumps(json.loads("[" * 40 + "]" * 40)),
     '{"a":' * 50 + "1" + "}" * 50, b"\xff\xfe"],
)  # fmt: skip
def test_hostile_bodies_answer_400(scim, org, raw):
    assert_error(scim.send("post", "Users", raw=raw), 400)
    assert not Agent.objects.exists()


def test_wrong_methods_answer_405(scim, org):
    body = create(scim, department="DRH")
    assert_error(scim.post(f"Users/{body['id']}", user_body()), 405)
    assert_error(scim.put("Users", user_body()), 405)
    assert_error(scim.send("get", "Users/.search"), 405)


# --- audit ------------------------------------------------------------------------------------------


def test_every_change_is_audited_with_the_connector_and_the_fields(scim, scim_token, org):
    body = create(scim, department="DRH")
    scim.patch(f"Users/{body['id']}", [{"op": "replace", "path": "title", "value": "Juriste"}])
    scim.patch(f"Users/{body['id']}", [{"op": "replace", "path": "title", "value": "Juriste"}])  # no change
    scim.delete(f"Users/{body['id']}")
    events = list(ProvisioningEvent.objects.order_by("pk"))
    assert [e.action for e in events] == ["create", "update", "deactivate"]
    assert all(e.token == scim_token[0] and e.token_name == "Entra ID" for e in events)
    assert events[1].changes == {"title": ["Chargée d'accueil", "Juriste"]}
    assert events[2].changes == {"active": [True, False]}
    assert events[0].ip == "127.0.0.1" and events[0].label == "M100001"


# --- directory services and listeners ----------------------------------------------------------------


def test_newcomers_get_their_mandatory_courses_through_the_import_listeners(scim, org):
    from cms import importer

    calls = []
    importer.register_import_listener(listener := lambda created, updated: calls.append((created, updated)))
    try:
        body = create(scim, department="DRH")
        scim.patch(f"Users/{body['id']}", [{"op": "replace", "path": "title", "value": "B"}])
        scim.delete(f"Users/{body['id']}")  # leavers reach the listeners too
    finally:
        importer.unregister_import_listener(listener)
    agent_id = int(body["id"])
    assert calls == [([agent_id], []), ([], [agent_id]), ([], [agent_id])]


def test_agents_created_elsewhere_are_visible_and_patchable(scim, org):
    agent = AgentFactory(employee_number="CSV1", org_unit=org["direction"])
    found = scim.get("Users", {"filter": 'userName eq "CSV1"'}).json()["Resources"]
    assert [item["id"] for item in found] == [str(agent.pk)]
    response = scim.patch(f"Users/{agent.pk}", [{"op": "replace", "path": "title", "value": "Agent d'accueil"}])
    assert response.status_code == 200
    agent.refresh_from_db()
    assert agent.job_title == "Agent d'accueil" and agent.category == "B"  # fields SCIM does not carry are kept
