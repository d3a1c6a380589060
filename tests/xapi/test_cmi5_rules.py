# ruff: noqa: F811  (the cmi5 fixtures are imported from tests/learning/cmi5/conftest.py)
"""The cmi5 LMS requirements on AU sessions, table-driven (cmi5 "Quartz" §8.2, §9.3, §9.5,
§9.6, §10): each row names the requirement, sends what an AU would, and expects the LRS's
answer. A statement that breaks the session rules gets 403 (XAPIForbidden, with the reason);
one that breaks xAPI itself 400; nothing of a refused batch is stored."""

import json

import pytest

from tests.learning.cmi5.conftest import AU, agent_client, cmi5_step, completed, passed  # noqa: F401 (fixtures)
from xapi.models import Statement

SESSION = "https://w3id.org/xapi/cmi5/context/extensions/sessionid"
OTHER = "00000000-0000-4000-8000-000000000000"


def _steps(au, *sends):
    """Send each item (a statement or a list) in turn; the last answer is returned."""
    response = None
    for item in sends:
        items = item if isinstance(item, list) else [item]
        response = au.send(*items)
    return response


ROWS = [
    # (requirement, what the AU sends after fetching its token, expected status of the last send)
    (
        "9.3.2 initialized is the first statement of a session",
        lambda au: _steps(au, au.statement("completed", result=completed(), moveon=True)),
        403,
        False,
    ),
    (
        "9.3.2 a cmi5 allowed statement cannot come before initialized",
        lambda au: _steps(au, au.statement("http://adlnet.gov/expapi/verbs/experienced", category=False)),
        403,
        False,
    ),
    (
        "9.3.2 initialized is sent once per session",
        lambda au: _steps(au, au.statement("initialized"), au.statement("initialized")),
        403,
        False,
    ),
    (
        "9.3 a cmi5 allowed statement between initialized and terminated is recorded",
        lambda au: _steps(
            au,
            au.statement("initialized"),
            au.statement(
                "http://adlnet.gov/expapi/verbs/experienced",
                category=False,
                object_id="https://parcours.example/page/1",
            ),
        ),
        200,
        True,
    ),
    (
        "9.3.8 nothing may follow terminated",
        lambda au: _steps(
            au,
            au.statement("initialized"),
            au.statement("terminated", result={"duration": "PT1S"}),
            au.statement("http://adlnet.gov/expapi/verbs/experienced", category=False),
        ),
        403,
        False,
    ),
    (
        "9.5.4.1 terminated carries a duration",
        lambda au: _steps(au, au.statement("initialized"), au.statement("terminated")),
        403,
        False,
    ),
    (
        "9.3.6 passed with a scaled score at or above masteryScore is recorded",
        lambda au: _steps(au, au.statement("initialized"), au.statement("passed", result=passed(0.8), moveon=True)),
        200,
        True,
    ),
    (
        "9.3.6 / 9.5 passed below masteryScore is refused",
        lambda au: _steps(au, au.statement("initialized"), au.statement("passed", result=passed(0.5), moveon=True)),
        403,
        False,
    ),
    (
        "9.3.5 failed at or above masteryScore is refused",
        lambda au: _steps(
            au,
            au.statement("initialized"),
            au.statement(
                "failed", result={"success": False, "duration": "PT1S", "score": {"scaled": 0.9}}, moveon=True
            ),
        ),
        403,
        False,
    ),
    (
        "9.5.2 passed needs result.success true",
        lambda au: _steps(
            au, au.statement("initialized"), au.statement("passed", result=passed(success=False), moveon=True)
        ),
        403,
        False,
    ),
    (
        "9.5.3 completed needs result.completion true",
        lambda au: _steps(
            au, au.statement("initialized"), au.statement("completed", result={"duration": "PT1S"}, moveon=False)
        ),
        403,
        False,
    ),
    (
        "9.5.1 only passed and failed carry a score",
        lambda au: _steps(
            au,
            au.statement("initialized"),
            au.statement("completed", result=completed(score={"scaled": 0.9}), moveon=True),
        ),
        403,
        False,
    ),
    (
        "9.5.1 score.raw needs min and max",
        lambda au: _steps(
            au,
            au.statement("initialized"),
            au.statement(
                "passed", result={"success": True, "duration": "PT1S", "score": {"raw": 90, "scaled": 0.9}}, moveon=True
            ),
        ),
        403,
        False,
    ),
    (
        "9.6.2.2 the moveon category goes with success or completion",
        lambda au: _steps(au, au.statement("initialized"), au.statement("passed", result=passed(), moveon=False)),
        403,
        False,
    ),
    (
        "9.6.2.2 no moveon category on initialized",
        lambda au: _steps(au, au.statement("initialized", moveon=True)),
        403,
        False,
    ),
    (
        "9.6.2.1 cmi5 defined statements carry the cmi5 category",
        lambda au: _steps(au, au.statement("initialized", category=False, object_id=None)),
        403,
        False,
    ),
    (
        "9.6.2.3 the publisher id stays in contextActivities.grouping",
        lambda au: _steps(au, au.statement("initialized", grouping=False)),
        403,
        False,
    ),
    (
        "9.6.3.1 the session id of the launch is in the context",
        lambda au: _steps(au, au.statement("initialized", session=OTHER)),
        403,
        False,
    ),
    (
        "9.6.1 the registration of the launch is in the context",
        lambda au: _steps(au, au.statement("initialized", registration=OTHER)),
        403,
        False,
    ),
    (
        "9.4 the object of a cmi5 defined statement is the launch activityId",
        lambda au: _steps(au, au.statement("initialized", object_id="https://elsewhere.example/au")),
        403,
        False,
    ),
    (
        "9.3.4 completed once per registration",
        lambda au: _steps(
            au,
            au.statement("initialized"),
            au.statement("completed", result=completed(), moveon=True),
            au.statement("completed", result=completed(), moveon=True),
        ),
        403,
        False,
    ),
    (
        "9.3 one passed or failed per session",
        lambda au: _steps(
            au,
            au.statement("initialized"),
            au.statement(
                "failed", result={"success": False, "duration": "PT1S", "score": {"scaled": 0.2}}, moveon=True
            ),
            au.statement("passed", result=passed(), moveon=True),
        ),
        403,
        False,
    ),
    (
        "6.3 the AU may not void statements",
        lambda au: _steps(
            au,
            au.statement("initialized"),
            {
                "actor": au.actor,
                "verb": {"id": "http://adlnet.gov/expapi/verbs/voided"},
                "object": {"objectType": "StatementRef", "id": OTHER},
            },
        ),
        403,
        False,
    ),
    (
        "9.2 the actor is the launch actor",
        lambda au: _steps(
            au, au.statement("initialized", actor={"account": {"homePage": "https://x.example", "name": "someone"}})
        ),
        403,
        False,
    ),
    (
        "xAPI: an invalid statement is a 400, not a 403",
        lambda au: _steps(au, {**au.statement("initialized"), "verb": {"id": "not an iri"}}),
        400,
        False,
    ),
]


@pytest.mark.parametrize(("requirement", "play", "status", "last_stored"), ROWS, ids=[row[0] for row in ROWS])
def test_session_rules(agent_client, cmi5_step, requirement, play, status, last_stored):
    au = AU(agent_client, cmi5_step)
    au.fetch()
    before = Statement.objects.count()
    response = play(au)
    assert response.status_code == status, (requirement, response.content)
    if status == 403:  # the reason is given (the actor row is refused by the token's agent scope)
        message = response.json()["error"]["message"]
        assert "cmi5" in message or "own agent" in message
    assert Statement.objects.count() >= before


def test_a_refused_batch_stores_nothing(agent_client, cmi5_step):
    au = AU(agent_client, cmi5_step)
    au.fetch()
    before = Statement.objects.count()
    response = au.send(au.statement("initialized"), au.statement("passed", result=passed(0.1), moveon=True))
    assert response.status_code == 403
    assert Statement.objects.count() == before


def test_fetch_gives_the_token_once_then_error_1_and_only_to_post(agent_client, cmi5_step):
    au = AU(agent_client, cmi5_step)
    path = au.path(au.query["fetch"])
    assert au.http.get(path).status_code == 405
    first = au.fetch()
    assert set(first) == {"auth-token"}
    again = au.http.post(path)
    assert again.status_code == 200 and again.json()["error-code"] == "1"
    assert au.http.post("/xapi/cmi5/fetch/" + "x" * 40 + "/").json()["error-code"] == "2"


def test_the_token_is_scoped_to_its_agent_and_may_not_touch_launch_data(agent_client, cmi5_step, chain):
    from xapi.identity import actor_for

    au = AU(agent_client, cmi5_step).start()
    other = actor_for(chain["other_agent"].user)
    response = au.http.get("/xapi/statements", {"agent": json.dumps(other)}, **au.headers())
    assert response.status_code in (200, 403)
    if response.status_code == 200:
        assert response.json()["statements"] == []
    params = {"stateId": "LMS.LaunchData", "activityId": au.activity_id, "agent": json.dumps(au.actor),
              "registration": au.registration}  # fmt: skip
    from urllib.parse import urlencode

    put = au.http.put("/xapi/activities/state?" + urlencode(params), data="{}", content_type="application/json",
                      **au.headers())  # fmt: skip
    assert put.status_code == 403
    wrong = au.headers() | {"HTTP_AUTHORIZATION": "Basic Y21pNS14eHg6eXl5"}
    assert au.http.get("/xapi/statements", **wrong).status_code == 401


def test_a_new_launch_abandons_the_open_session_and_its_token_records_nothing(agent_client, cmi5_step):
    first = AU(agent_client, cmi5_step).start()
    second = AU(agent_client, cmi5_step)
    assert second.registration == first.registration and second.activity_id == first.activity_id
    abandoned = Statement.objects.filter(registration=first.registration,
                                         verb_id="https://w3id.org/xapi/adl/verbs/abandoned")  # fmt: skip
    assert abandoned.count() == 1 and "duration" in abandoned.get().data["result"]
    late = first.send(first.statement("http://adlnet.gov/expapi/verbs/experienced", category=False))
    assert late.status_code == 403 and "abandoned" in late.json()["error"]["message"]
