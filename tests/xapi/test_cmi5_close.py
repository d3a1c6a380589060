"""The periodic close of cmi5 AU sessions (cmi5 §9.3.8 abandoned): sessions left open past
``XAPI_CMI5_SESSION_HOURS`` get ``abandoned`` recorded by ``manage.py close_cmi5_sessions``
(or the task), once, in a fixed number of queries; terminated, abandoned, waiver and
still-valid sessions are left alone."""

import io
import secrets
import uuid
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.learning.cmi5.conftest import AU, agent_client, cmi5_step  # noqa: F401 (fixtures)
from xapi import cmi5
from xapi.models import Cmi5Session, Statement
from xapi.validation import agent_key, digest

ABANDONED = "https://w3id.org/xapi/adl/verbs/abandoned"
SESSION = "https://w3id.org/xapi/cmi5/context/extensions/sessionid"


def session(*, hours_ago=13, **fields):
    """An AU session launched ``hours_ago`` hours ago (its lifetime: the setting, 12 h by default)."""
    launched = timezone.now() - timedelta(hours=hours_ago)
    actor = {"objectType": "Agent", "account": {"homePage": "https://parcours.example", "name": secrets.token_hex(8)}}
    activity = f"https://parcours.example/xapi/activities/cmi5/{uuid.uuid4()}/au/0"
    values = {
        "session_id": uuid.uuid4(), "registration": uuid.uuid4(), "activity_id": activity,
        "activity_key": digest(activity), "publisher_id": "https://editeur.example/au/1", "actor": actor,
        "actor_key": agent_key(actor), "fetch_key": secrets.token_urlsafe(32), "launched_at": launched,
        "expires_at": launched + timedelta(hours=cmi5.session_hours()),
    }  # fmt: skip
    values.update(fields)
    return Cmi5Session.objects.create(**values)


def abandoned():
    return Statement.objects.filter(verb_id=ABANDONED)


def test_a_session_left_open_past_its_lifetime_is_abandoned_once(agent_client, cmi5_step):  # noqa: F811
    au = AU(agent_client, cmi5_step).start()
    open_session = Cmi5Session.objects.get(registration=au.registration)
    assert cmi5.abandon_expired_sessions() == 0  # still within its lifetime
    later = open_session.expires_at + timedelta(seconds=1)
    assert cmi5.abandon_expired_sessions(now=later) == 1
    statement = abandoned().get()
    assert str(statement.registration) == au.registration
    assert statement.data["context"]["extensions"][SESSION] == str(open_session.session_id)
    assert statement.data["actor"] == au.actor and statement.data["object"]["id"] == au.activity_id
    assert statement.data["result"]["duration"].startswith("PT")
    open_session.refresh_from_db()
    assert open_session.abandoned_at == later
    # idempotent: a second run records nothing more
    assert cmi5.abandon_expired_sessions(now=later + timedelta(hours=1)) == 0
    assert abandoned().count() == 1
    # a new launch of the registration does not abandon it a second time
    AU(agent_client, cmi5_step)
    assert abandoned().count() == 1


def test_terminated_abandoned_waiver_and_valid_sessions_are_left_alone(db):
    now = timezone.now()
    kept = [
        session(terminated_at=now - timedelta(hours=12)),
        session(abandoned_at=now - timedelta(hours=12)),
        session(waiver=True),
        session(hours_ago=1),
    ]
    expired = session()
    assert cmi5.abandon_expired_sessions() == 1
    assert set(abandoned().values_list("registration", flat=True)) == {expired.registration}
    for row in kept:
        before = (row.abandoned_at, row.terminated_at)
        row.refresh_from_db()
        assert (row.abandoned_at, row.terminated_at) == before


def test_query_count_does_not_grow_with_the_sessions(db):
    def run(count):
        for _ in range(count):
            session()
        with CaptureQueriesContext(connection) as queries:
            assert cmi5.abandon_expired_sessions() == count
        return len(queries)

    assert run(2) == run(7)
    assert abandoned().count() == 9


def test_batches_cover_every_expired_session(db):
    for _ in range(5):
        session()
    assert cmi5.abandon_expired_sessions(batch_size=2) == 5
    assert not Cmi5Session.objects.filter(abandoned_at=None).exists()


def test_the_command_and_the_task(db):
    from xapi.tasks import close_cmi5_sessions

    session()
    out = io.StringIO()
    call_command("close_cmi5_sessions", stdout=out)
    assert out.getvalue().startswith("1 session(s) cmi5 abandonnée(s)")
    session()
    assert close_cmi5_sessions.call() == 1
    call_command("close_cmi5_sessions", stdout=out)
    assert abandoned().count() == 2


@pytest.mark.parametrize("hours", [1, 24])
def test_the_lifetime_follows_the_setting(settings, db, hours):
    settings.XAPI_CMI5_SESSION_HOURS = hours
    row = session(hours_ago=hours + 0.5)
    session(hours_ago=hours - 0.5)
    assert cmi5.abandon_expired_sessions() == 1
    row.refresh_from_db()
    assert row.abandoned_at is not None
