"""Authentication and scopes: who may read and write what, the credentials command and the
admin list of clients."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from tests.factories import UserFactory
from tests.xapi.conftest import ACTOR, LRS, OTHER, basic, make_client, statement
from xapi import identity, services
from xapi.models import LRSClient


def test_no_credentials_is_401_with_the_basic_challenge(db):
    response = LRS(None).get("statements")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Basic realm="xAPI"'


@pytest.mark.parametrize(
    ("rule", "authorization"),
    [
        ("a wrong secret is 401", "WRONG"),
        ("an unknown key is 401", basic("unknown", "secret")),
        ("credentials that are not Basic are 401", "Bearer abc"),
        ("malformed Basic credentials are 401", "Basic !!!"),
        ("an enormous key is 401", basic("k" * 5000, "s")),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_refused_credentials(lrs_client, rule, authorization):
    client, _auth = lrs_client
    if authorization == "WRONG":
        authorization = basic(client.key, "not the secret")
    assert LRS(authorization).get("statements").status_code == 401, rule


def test_a_revoked_client_is_401_at_once(lrs_client):
    client, auth = lrs_client
    lrs = LRS(auth)
    assert lrs.get("statements").status_code == 200
    assert services.revoke_client(client=client) is True
    assert lrs.get("statements").status_code == 401


def test_the_secret_is_stored_hashed_and_last_use_recorded(lrs_client):
    client, auth = lrs_client
    secret = auth  # the Authorization header holds the only copy
    client.refresh_from_db()
    assert client.secret_hash and client.secret_hash not in secret
    assert client.last_used_at is None
    LRS(auth).get("statements")
    client.refresh_from_db()
    assert client.last_used_at is not None


@pytest.mark.parametrize(
    ("method", "path", "params"),
    [
        ("post", "statements", {}),
        ("put", "statements", {"statementId": "fd41c918-b88b-4b20-a0a5-a4c32391aaa0"}),
        ("put", "activities/state", {"activityId": "http://e.com/a", "agent": ACTOR, "stateId": "s"}),
        ("post", "activities/profile", {"activityId": "http://e.com/a", "profileId": "p"}),
        ("delete", "agents/profile", {"agent": ACTOR, "profileId": "p"}),
    ],
)
def test_a_read_only_client_gets_403_on_writes(db, method, path, params):
    lrs = LRS(make_client("reader", read_only=True)[1])
    body = statement() if path == "statements" else {"a": 1}
    kwargs = {} if method == "delete" else {"body": body}
    assert getattr(lrs, method)(path, params=params, **kwargs).status_code == 403
    assert lrs.get("statements").status_code == 200


def test_a_read_only_client_may_query_with_the_alternate_syntax(db):
    from urllib.parse import urlencode

    lrs = LRS(make_client("reader", read_only=True)[1])
    form = urlencode({"Authorization": lrs.authorization, "X-Experience-API-Version": "1.0.3"})
    response = lrs.http.post("/xapi/statements?method=GET", form, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200


def test_an_agent_scoped_client_reads_and_writes_only_its_agent(lrs):
    scoped = LRS(make_client("session", scope_agent={"mbox": ACTOR["mbox"]})[1])
    lrs.post("statements", [statement(actor=OTHER)])
    own = scoped.post("statements", statement())
    assert own.status_code == 200
    assert scoped.post("statements", statement(actor=OTHER)).status_code == 403
    listed = [s["id"] for s in scoped.get("statements").json()["statements"]]
    assert listed == own.json()
    other_id = lrs.get("statements", {"agent": OTHER}).json()["statements"][0]["id"]
    assert scoped.get("statements", {"statementId": other_id}).status_code == 404
    state = {"activityId": "http://e.com/a", "stateId": "s"}
    assert scoped.put("activities/state", {"a": 1}, {**state, "agent": ACTOR}).status_code == 204
    assert scoped.put("activities/state", {"a": 1}, {**state, "agent": OTHER}).status_code == 403
    assert scoped.get("activities/state", {**state, "agent": OTHER}).status_code == 403
    assert scoped.get("agents", {"agent": OTHER}).status_code == 403
    assert scoped.get("agents/profile", {"agent": OTHER}).status_code == 403
    void = {"id": "http://adlnet.gov/expapi/verbs/voided"}
    assert scoped.post("statements", statement(verb=void, object={"objectType": "StatementRef", "id": other_id})
                       ).status_code == 403  # fmt: skip


def test_a_signed_in_user_reads_their_own_statements_only(lrs):
    user = UserFactory()
    actor = identity.actor_for(user)
    mine = lrs.post("statements", statement(actor=actor)).json()
    lrs.post("statements", statement(actor=OTHER))
    browser = Client()
    browser.force_login(user)
    session = LRS(None, client=browser)
    assert [s["id"] for s in session.get("statements").json()["statements"]] == mine
    assert session.post("statements", statement(actor=OTHER)).status_code == 403
    assert session.post("statements", statement(actor=actor)).status_code == 200


def test_session_writes_need_the_csrf_token(db):
    user = UserFactory()
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)
    response = LRS(None, client=browser).post("statements", statement(actor=identity.actor_for(user)))
    assert response.status_code == 403


def test_actor_for_is_an_opaque_stable_account(db, settings):
    user = UserFactory(first_name="Ada", last_name="Lovelace", email="ada@example.org")
    actor = identity.actor_for(user)
    assert actor == identity.actor_for(user)
    assert actor["account"]["homePage"] == settings.WAGTAILADMIN_BASE_URL
    name = actor["account"]["name"]
    assert user.username not in name and "ada" not in name.lower() and str(user.pk) != name
    assert "name" not in actor and "mbox" not in actor
    assert identity.actor_for(UserFactory()) != actor


# --- the command and the admin ---------------------------------------------------------------------


def test_create_lrs_client_prints_the_key_and_secret_once(db):
    out = io.StringIO()
    call_command("create_lrs_client", "Storyline", "--read-only", stdout=out)
    lines = dict(line.split(" : ", 1) for line in out.getvalue().splitlines() if " : " in line)
    client = LRSClient.objects.get()
    assert client.name == "Storyline" and client.read_only
    assert lines["Clé"] == client.key
    assert lines["Secret"] not in client.secret_hash
    assert LRS(basic(lines["Clé"], lines["Secret"])).get("statements").status_code == 200


def test_create_lrs_client_rejects_a_bad_agent(db):
    with pytest.raises(CommandError):
        call_command("create_lrs_client", "x", "--agent", '{"name": "no ifi"}', stdout=io.StringIO())


@pytest.fixture
def hr_user(db):
    return UserFactory(username="hr_lrs", groups=["HR"])


def test_hr_lists_and_revokes_clients_with_confirmation(hr_user, lrs_client):
    client, auth = lrs_client
    browser = Client()
    browser.force_login(hr_user)
    listing = browser.get("/admin/clients-lrs/")
    assert listing.status_code == 200
    assert client.name.encode() in listing.content
    confirm = browser.get(f"/admin/clients-lrs/delete/{client.pk}/")
    assert confirm.status_code == 200 and "Révoquer".encode() in confirm.content
    client.refresh_from_db()
    assert client.is_active  # asking is not revoking
    assert browser.post(f"/admin/clients-lrs/delete/{client.pk}/").status_code == 302
    client.refresh_from_db()
    assert not client.is_active
    assert LRS(auth).get("statements").status_code == 401


def test_the_client_list_is_forbidden_to_others(db, lrs_client):
    editor = UserFactory(username="editor_lrs", groups=["Training editors"])
    browser = Client()
    browser.force_login(editor)
    assert browser.get("/admin/clients-lrs/").status_code in (302, 403)
    client, _auth = lrs_client
    assert browser.post(f"/admin/clients-lrs/delete/{client.pk}/").status_code in (302, 403)
    client.refresh_from_db()
    assert client.is_active


@pytest.mark.parametrize("size", [3, 9])
def test_the_client_list_runs_constant_queries(hr_user, size, django_assert_max_num_queries):
    for index in range(size):
        make_client(f"client {index}")
    browser = Client()
    browser.force_login(hr_user)
    browser.get("/admin/clients-lrs/")
    with django_assert_max_num_queries(25):
        assert browser.get("/admin/clients-lrs/").status_code == 200
