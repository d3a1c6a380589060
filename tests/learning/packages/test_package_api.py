"""The package API: launch, read, commit, beacon. Permission matrix, refusals (4xx, never
500), and query counts that do not grow with SCOs or interactions."""

import json
from urllib.parse import urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from learning import services
from learning.models import Enrollment, PackageAttempt
from learning.packages import sample
from tests.factories import UserFactory
from tests.learning.conftest import build_course
from tests.learning.packages.conftest import add_package_step, scorm2004_launchables, store_package

API = "/api/v1/"
CSRF = "a" * 32
PASSED_12 = {"cmi.core.lesson_status": "passed", "cmi.core.score.raw": "90"}


def launch_url(step_id):
    return f"{API}me/packages/{step_id}/launch/"


def attempt_url(attempt_id, suffix=""):
    return f"{API}me/package-attempts/{attempt_id}/{suffix}"


def client_for(user, *, csrf=False):
    client = APIClient(enforce_csrf_checks=csrf)
    if user is not None:
        client.force_login(user)
    if csrf:
        client.cookies["csrftoken"] = CSRF
    return client


def post_commit(client, attempt_id, body, **extra):
    return client.post(attempt_url(attempt_id, "commit/"), json.dumps(body), content_type="application/json", **extra)


def body(seq, cmi=None, *, sco="ITEM-1", terminate=False):
    return {"sco": sco, "seq": seq, "cmi": cmi or {}, "terminate": terminate}


@pytest.fixture
def owner(chain):
    return chain["agent"].user


@pytest.fixture
def attempt(owner, scorm12_course):
    return services.launch_package(user=owner, step=scorm12_course["step"])


# --- launch ----------------------------------------------------------------------------------------------


def test_launch_returns_the_player_url_and_the_attempt(owner, scorm12_course):
    response = client_for(owner).post(launch_url(scorm12_course["step"].pk))
    assert response.status_code == 200, response.content
    attempt = PackageAttempt.objects.get()
    assert response.json()["attempt"] == attempt.pk
    url = urlsplit(response.json()["url"])
    assert url.scheme == "http" and url.path == services.player_url(attempt.pk)
    again = client_for(owner).post(launch_url(scorm12_course["step"].pk))
    assert again.json()["attempt"] == attempt.pk


@pytest.mark.parametrize("role", ["agent", "manager", "other_agent", "hr"])
def test_every_agent_launches_their_own_attempt(chain, scorm12_course, role):
    response = client_for(chain[role].user).post(launch_url(scorm12_course["step"].pk))
    assert response.status_code == 200
    assert PackageAttempt.objects.get(pk=response.json()["attempt"]).enrollment.agent == chain[role]


def test_launch_refusals(chain, scorm12_course, db):
    step = scorm12_course["step"]
    assert APIClient().post(launch_url(step.pk)).status_code == 401
    assert client_for(UserFactory()).post(launch_url(step.pk)).status_code == 403  # no agent profile
    owner = chain["agent"].user
    for bad in (10**6, 2**63, 10**40):
        assert client_for(owner).post(f"{API}me/packages/{bad}/launch/").status_code == 404
    assert client_for(owner).post(launch_url(scorm12_course["course"].pk)).status_code == 404  # not a package step
    course = scorm12_course["course"]
    course.self_enrollment = False
    course.save_revision().publish()
    response = client_for(owner).post(launch_url(step.pk))
    assert response.status_code == 403 and response.json()["detail"]
    step.unpublish()
    assert client_for(owner).post(launch_url(step.pk)).status_code == 404


def test_launch_on_a_failed_enrolment_is_409(owner, attempt, scorm12_course):
    post_commit(client_for(owner), attempt.pk, body(1, {"cmi.core.lesson_status": "failed"}, terminate=True))
    assert Enrollment.objects.get().status == "failed"
    response = client_for(owner).post(launch_url(scorm12_course["step"].pk))
    assert response.status_code == 409 and "inscription" in response.json()["detail"]


# --- read ------------------------------------------------------------------------------------------------


def test_the_owner_reads_the_attempt(owner, attempt):
    post_commit(client_for(owner), attempt.pk, body(1, {**PASSED_12, "cmi.core.session_time": "00:01:05",
                                                        "cmi.interactions.0.id": "q1"}, terminate=True))
    response = client_for(owner).get(attempt_url(attempt.pk))
    assert response.status_code == 200
    data = response.json()
    assert (data["status"], data["score"], data["progress"], data["number"], data["last_seq"]) == (
        "passed", 90, 1.0, 1, 1,
    )
    assert data["package"] == {"uuid": str(attempt.package.uuid), "version": 1, "standard": "scorm12",
                               "title": attempt.package.title}
    [sco] = data["scos"]
    assert (sco["identifier"], sco["completion"], sco["success"], sco["score"]) == ("ITEM-1", "completed", "passed", 90)
    assert (sco["total_seconds"], sco["total_time"], sco["terminated"]) == (65, "0000:01:05.00", True)
    assert sco["cmi"]["cmi.interactions.0.id"] == "q1"


ROLES = ["owner", "other_agent", "manager", "reviewer", "hr", "anonymous"]
READ_STATUS = {"owner": 200, "anonymous": 401}


@pytest.mark.parametrize("role", ROLES)
def test_read_commit_permission_matrix(chain, attempt, role):
    user = chain["agent"].user if role == "owner" else (None if role == "anonymous" else chain[role].user)
    client = client_for(user)
    expected = READ_STATUS.get(role, 404)
    assert client.get(attempt_url(attempt.pk)).status_code == expected
    response = post_commit(client, attempt.pk, body(1, {"cmi.core.lesson_location": "2"}))
    assert response.status_code == expected
    attempt.refresh_from_db()
    assert attempt.last_seq == (1 if role == "owner" else 0)


@pytest.mark.parametrize("role", ROLES)
def test_beacon_permission_matrix(chain, attempt, role):
    """The token authenticates: whoever posts it (even without a session) commits for the
    owner, once; anyone without it gets 403."""
    user = chain["agent"].user if role == "owner" else (None if role == "anonymous" else chain[role].user)
    client = client_for(user, csrf=True)
    path = services.beacon_url(attempt)
    bare = path.split("?")[0]
    text = json.dumps(body(1, PASSED_12, terminate=True))
    assert client.post(bare, text, content_type="text/plain").status_code == 403
    assert client.post(bare + "?token=forged", text, content_type="text/plain").status_code == 403
    response = client.post(path, text, content_type="text/plain;charset=UTF-8")
    assert response.status_code == 204
    assert client.post(path, text, content_type="text/plain").status_code == 403  # used
    attempt.refresh_from_db()
    assert attempt.last_seq == 1 and attempt.status == "passed"


def test_beacon_of_another_attempt_is_403(chain, attempt, scorm12_course):
    other = services.launch_package(user=chain["other_agent"].user, step=scorm12_course["step"])
    token = services.beacon_url(other).split("?")[1]
    response = APIClient().post(attempt_url(attempt.pk, "beacon/") + "?" + token, json.dumps(body(1)),
                                content_type="text/plain")
    assert response.status_code == 403
    response = APIClient().post(attempt_url(other.pk, "beacon/") + "?" + token, json.dumps(body(1)),
                                content_type="application/json")
    assert response.status_code == 204


# --- commit --------------------------------------------------------------------------------------------


def test_commit_with_session_and_csrf(owner, attempt):
    client = client_for(owner, csrf=True)
    assert post_commit(client, attempt.pk, body(1)).status_code == 403  # no CSRF header
    response = post_commit(client, attempt.pk, body(1, PASSED_12, terminate=True), HTTP_X_CSRFTOKEN=CSRF)
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["applied"] is True and data["last_seq"] == 1
    assert data["attempt"] == {"id": attempt.pk, "status": "passed", "score": 90, "progress": 1.0}
    assert data["enrollment"] == {"status": "completed", "progress": 1.0, "score": 90}
    assert "/beacon/?token=" in data["beacon_url"]
    replay = post_commit(client, attempt.pk, body(1, {"cmi.core.lesson_status": "failed"}), HTTP_X_CSRFTOKEN=CSRF)
    assert replay.status_code == 200 and replay.json()["applied"] is False


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ("{not json", None),
        ("[" * 10000 + "]" * 10000, None),
        (json.dumps([1, 2]), "non_field_errors"),
        (json.dumps({"sco": "ITEM-1", "seq": "x", "cmi": {}}), "seq"),
        (json.dumps({"sco": 3, "seq": 1, "cmi": {}}), "sco"),
        (json.dumps({"sco": "ITEM-1", "seq": 1, "cmi": "x"}), "cmi"),
        (json.dumps({"sco": "ITEM-1", "seq": 1, "cmi": {"core.entry": "resume"}}), "core.entry"),
        (json.dumps({"sco": "ITEM-1", "seq": 1, "cmi": {"cmi.suspend_data": {"a": 1}}}), "cmi.suspend_data"),
        (json.dumps({"sco": "ITEM-1", "seq": 1, "cmi": {"bad.key": "1"}}), "bad.key"),
        (json.dumps({"sco": "ZZZ", "seq": 1, "cmi": {}}), "sco"),
        (json.dumps({"sco": "ITEM-1", "seq": 10**30, "cmi": {}}), "seq"),
    ],
)
def test_bad_commit_bodies_are_400_naming_the_field(owner, attempt, raw, field):
    response = client_for(owner).post(attempt_url(attempt.pk, "commit/"), raw, content_type="application/json")
    assert response.status_code == 400, response.content
    if field:
        assert field in response.json()["errors"]
    attempt.refresh_from_db()
    assert attempt.last_seq == 0


def test_oversized_commit_is_413_and_80_kb_suspend_data_is_fine(owner, attempt):
    suspend = "x" * (80 * 1024)
    ok = post_commit(client_for(owner), attempt.pk, body(1, {"cmi.suspend_data": suspend}))
    assert ok.status_code == 200
    huge = json.dumps(body(2, {"cmi.suspend_data": "x" * (4 * 1024 * 1024 + 10)}))
    response = client_for(owner).post(attempt_url(attempt.pk, "commit/"), huge, content_type="application/json")
    assert response.status_code == 413 and "4 Mo" in response.json()["detail"]
    attempt.refresh_from_db()
    assert attempt.scos["ITEM-1"]["cmi"]["cmi.suspend_data"] == suspend and attempt.last_seq == 1


def test_huge_and_unknown_attempt_ids_are_404(owner):
    client = client_for(owner)
    for bad in (99999, 2**63, 10**50):
        assert client.get(attempt_url(bad)).status_code == 404
        assert post_commit(client, bad, body(1)).status_code == 404
        assert client.post(attempt_url(bad, "beacon/") + "?token=x", "{}", content_type="text/plain").status_code in (
            403, 404,
        )


def test_beacon_bad_body_is_400_and_keeps_the_token(owner, attempt):
    path = services.beacon_url(attempt)
    client = APIClient()
    assert client.post(path, "{oops", content_type="text/plain").status_code == 400
    assert client.post(path, json.dumps(body(1, {"core.credit": "x"})), content_type="text/plain").status_code == 400
    assert client.post(path, json.dumps(body(1, PASSED_12)), content_type="text/plain").status_code == 204


# --- query counts ------------------------------------------------------------------------------------------


def course_with_package(files, launchables, organization, slug):
    package = store_package(files, standard="scorm2004", launchables=launchables, organization=organization,
                            title=f"Paquet {slug}")
    built = build_course(slug=slug, title=f"Cours {slug}")
    for step in [*built["lessons"], built["quiz"]]:
        step.delete()
    return add_package_step(built["course"], package, title=f"Module {slug}", slug=f"module-{slug}")


def measure(client, attempt_id, seq, cmi, sco):
    with CaptureQueriesContext(connection) as commit_queries:
        response = post_commit(client, attempt_id, body(seq, cmi, sco=sco))
    assert response.status_code == 200 and response.json()["applied"]
    with CaptureQueriesContext(connection) as read_queries:
        assert client.get(attempt_url(attempt_id)).status_code == 200
    return len(commit_queries), len(read_queries)


def test_commit_and_read_query_counts_do_not_grow_with_scos_or_interactions(owner, scorm2004_course):
    ten = course_with_package(
        sample.scorm2004_files(scos=[(f"SCO {n}", 1) for n in range(1, 11)], suspend_kb=1),
        [
            {**scorm2004_launchables(1)[0], "identifier": f"ITEM-{n}", "href": f"sco{n}/index.html"}
            for n in range(1, 11)
        ],
        [{"identifier": f"ITEM-{n}", "title": f"SCO {n}", "sco": f"ITEM-{n}", "children": []} for n in range(1, 11)],
        slug="dix",
    )
    client = client_for(owner)
    small = services.launch_package(user=owner, step=scorm2004_course["step"])
    large = services.launch_package(user=owner, step=ten)
    one = {"cmi.interactions.0.id": "q0", "cmi.completion_status": "incomplete"}
    fifty = {f"cmi.interactions.{n}.id": f"q{n}" for n in range(50)} | {"cmi.completion_status": "incomplete"}
    measure(client, small.pk, 1, one, "ITEM-1")  # warm caches (content types, site root)
    for n in range(1, 11):
        services.commit_package(user=owner, attempt_id=large.pk,
                                data=body(n, {"cmi.completion_status": "incomplete"}, sco=f"ITEM-{n}"))
    baseline = measure(client, small.pk, 2, one, "ITEM-2")
    assert measure(client, large.pk, 11, fifty, "ITEM-3") == baseline
    assert measure(client, small.pk, 3, fifty, "ITEM-3") == baseline
