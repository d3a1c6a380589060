from datetime import datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cms.models import ReminderLog
from learning import reminders
from learning.choices import EnrollmentStatus, ReminderKind
from learning.models import Enrollment
from tests.factories import AgentFactory

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 3, 11, 10, 0, tzinfo=PARIS)  # a Wednesday morning, ISO week 2026-W11
NOTHING = {"due_soon": 0, "overdue": 0, "expiring": 0, "manager_digest": 0, "failed": 0}


def _enroll(agent, course, **fields):
    return Enrollment.objects.create(agent=agent, course=course, **fields)


@pytest.fixture
def scenario(course, chain):
    """agent: due in 3 days; other_agent (reports to other_manager): 2 days late;
    reviewer: completed, expiring in 10 days."""
    rgpd = course["course"]
    due_soon = _enroll(chain["agent"], rgpd, due_at=NOW + timedelta(days=3))
    overdue = _enroll(
        chain["other_agent"], rgpd, due_at=NOW - timedelta(days=2), status=EnrollmentStatus.IN_PROGRESS, progress=0.33
    )
    expiring = _enroll(
        chain["reviewer"], rgpd, status=EnrollmentStatus.COMPLETED, progress=1.0,
        completed_at=NOW - timedelta(days=355), expires_at=NOW + timedelta(days=10), certificate_code="CAFE01",
    )
    return {**chain, "course": rgpd, "due_soon": due_soon, "overdue": overdue, "expiring": expiring}


def _by_recipient():
    return {message.to[0]: message for message in mail.outbox}


@pytest.mark.django_db
def test_each_kind_is_sent_once_and_a_second_run_sends_nothing(scenario):
    result = reminders.send_all(NOW)
    assert result == {"due_soon": 1, "overdue": 1, "expiring": 1, "manager_digest": 1, "failed": 0}
    sent = _by_recipient()
    assert set(sent) == {
        scenario["agent"].user.email, scenario["other_agent"].user.email,
        scenario["reviewer"].user.email, scenario["other_manager"].user.email,
    }
    due = sent[scenario["agent"].user.email]
    assert due.subject == "Rappel : la formation « Protection des données » est à terminer avant le 14 mars 2026"
    assert "http://127.0.0.1:8000/formations/rgpd/" in due.body
    html, mimetype = due.alternatives[0]
    assert mimetype == "text/html" and 'lang="fr"' in html and "http://127.0.0.1:8000/formations/rgpd/" in html
    assert due.extra_headers["Auto-Submitted"] == "auto-generated"

    late = sent[scenario["other_agent"].user.email]
    assert late.subject.startswith("Formation en retard : « Protection des données » (échéance du 9 mars 2026)")
    assert "33 %" in late.body

    expiring = sent[scenario["reviewer"].user.email]
    assert "arrive à expiration le 21 mars 2026" in expiring.subject

    digest = sent[scenario["other_manager"].user.email]
    assert "1 formation en retard" in digest.subject
    assert scenario["other_agent"].full_name in digest.body
    assert "http://127.0.0.1:8000/formation/equipe/formations/" in digest.body
    assert scenario["agent"].full_name not in digest.body  # not late, and not other_manager's report

    keys = set(ReminderLog.objects.values_list("kind", "key", "object_id"))
    assert keys == {
        ("learning.due_soon", f"due_soon:{scenario['due_soon'].pk}:2026-03-14", scenario["due_soon"].pk),
        ("learning.overdue", f"overdue:{scenario['overdue'].pk}:2026-03-09", scenario["overdue"].pk),
        ("learning.expiring", f"expiring:{scenario['expiring'].pk}:2026-03-21", scenario["expiring"].pk),
        ("learning.manager_digest", f"manager_digest:{scenario['other_manager'].pk}:2026-W11", None),
    }
    due_log = ReminderLog.objects.get(kind="learning.due_soon")
    assert due_log.user_id == scenario["agent"].user_id
    digest_log = ReminderLog.objects.get(kind="learning.manager_digest")
    assert digest_log.user_id == scenario["other_manager"].user_id and digest_log.object_id is None

    assert reminders.send_all(NOW + timedelta(hours=1)) == NOTHING
    assert len(mail.outbox) == 4


@pytest.mark.django_db
def test_a_new_due_date_or_a_new_week_gives_a_new_reminder(scenario):
    reminders.send_all(NOW)
    mail.outbox.clear()
    Enrollment.objects.filter(pk=scenario["due_soon"].pk).update(due_at=NOW + timedelta(days=5))
    assert reminders.send_all(NOW)["due_soon"] == 1

    mail.outbox.clear()
    next_week = NOW + timedelta(days=7)
    result = reminders.send_all(next_week)
    assert result["manager_digest"] == 2  # other_manager again; manager now that agent is late too
    assert result["overdue"] == 1 and result["due_soon"] == 0  # only agent's, newly late
    assert {m.to[0] for m in mail.outbox if "retard" in m.subject and "équipe" in m.subject} == {
        scenario["other_manager"].user.email, scenario["manager"].user.email,
    }


@pytest.mark.django_db
def test_digest_waits_for_monday_seven_oclock(scenario):
    monday_early = datetime(2026, 3, 16, 6, 30, tzinfo=PARIS)
    assert reminders.send_all(monday_early)["manager_digest"] == 0
    assert reminders.send_all(monday_early + timedelta(hours=1))["manager_digest"] == 2  # both managers: agent is late too


@pytest.mark.django_db
def test_dry_run_sends_and_writes_nothing(scenario):
    assert reminders.send_all(NOW, dry_run=True) == {
        "due_soon": 1, "overdue": 1, "expiring": 1, "manager_digest": 1, "failed": 0,
    }
    assert mail.outbox == []
    assert not ReminderLog.objects.exists()


@pytest.mark.django_db
def test_recipients_without_email_or_inactive_are_skipped(scenario):
    agent_user = scenario["agent"].user
    agent_user.email = ""
    agent_user.save()
    scenario["other_agent"].active = False  # left the organisation: no reminder, not in the digest
    scenario["other_agent"].save()
    reviewer_user = scenario["reviewer"].user
    reviewer_user.is_active = False
    reviewer_user.save()
    assert reminders.send_all(NOW) == NOTHING
    assert mail.outbox == []
    assert not ReminderLog.objects.exists()


@pytest.mark.django_db
def test_manager_without_email_gets_no_digest(scenario):
    manager_user = scenario["other_manager"].user
    manager_user.email = ""
    manager_user.save()
    result = reminders.send_all(NOW)
    assert result["manager_digest"] == 0 and result["overdue"] == 1


@pytest.mark.django_db
def test_unpublished_course_is_not_reminded(scenario):
    scenario["course"].unpublish()
    assert reminders.send_all(NOW) == NOTHING


@pytest.mark.django_db
def test_a_refused_message_is_not_logged_and_is_retried(scenario, monkeypatch):
    real_send = EmailBackend.send_messages

    def flaky(self, messages):
        if any(m.to == [scenario["reviewer"].user.email] for m in messages):
            raise OSError("450 mailbox busy")
        return real_send(self, messages)

    monkeypatch.setattr(EmailBackend, "send_messages", flaky)
    result = reminders.send_all(NOW)
    assert result["expiring"] == 0 and result["failed"] == 1
    assert result["due_soon"] == result["overdue"] == result["manager_digest"] == 1
    assert not ReminderLog.objects.filter(kind=f"learning.{ReminderKind.EXPIRING}").exists()

    monkeypatch.setattr(EmailBackend, "send_messages", real_send)
    assert reminders.send_all(NOW) == {**NOTHING, "expiring": 1}


@pytest.mark.django_db
def test_a_concurrent_run_cannot_make_a_reminder_go_twice(scenario):
    pending = reminders.collect(NOW)
    assert len(pending) == 4
    # Another run sends the due_soon reminder between our selection and our delivery: our
    # claim skips its key (the unique index), so we do not send it again.
    other = next(r for r in pending if r.kind == ReminderKind.DUE_SOON)
    ReminderLog.objects.create(
        kind=f"learning.{other.kind}", key=other.key, user_id=other.user_id, object_id=other.enrollment_id
    )
    sent, failed = reminders.deliver(pending)
    assert {r.kind for r in sent} == {"overdue", "expiring", "manager_digest"} and failed == []
    assert [m for m in mail.outbox if m.to == [scenario["agent"].user.email]] == []
    assert len(mail.outbox) == 3
    assert ReminderLog.objects.count() == 4


@pytest.mark.django_db
def test_command_dry_run_lists_and_writes_nothing(scenario, monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: NOW)
    out = StringIO()
    call_command("send_learning_reminders", "--dry-run", stdout=out)
    output = out.getvalue()
    assert f"[due_soon] {scenario['agent'].user.email}" in output
    assert "Total : 4" in output
    assert mail.outbox == [] and not ReminderLog.objects.exists()

    out = StringIO()
    call_command("send_learning_reminders", stdout=out)
    assert "Total : 4 relance(s) envoyées." in out.getvalue()
    assert len(mail.outbox) == 4 and ReminderLog.objects.count() == 4


def _population(org, course, n):
    """n agents under ceil(n / 5) managers, one enrolment each, cycling through the kinds."""
    managers = [AgentFactory(org_unit=org["service"]) for _ in range((n + 4) // 5)]
    for i in range(n):
        agent = AgentFactory(org_unit=org["bureau"], manager=managers[(i // 3) % len(managers)])
        kind = i % 3
        if kind == 0:
            _enroll(agent, course, due_at=NOW + timedelta(days=2))
        elif kind == 1:
            _enroll(agent, course, due_at=NOW - timedelta(days=1))
        else:
            _enroll(
                agent, course, status=EnrollmentStatus.COMPLETED, completed_at=NOW - timedelta(days=340),
                expires_at=NOW + timedelta(days=20), progress=1.0,
            )


def _measure(org, course, n):
    Enrollment.objects.all().delete()
    ReminderLog.objects.all().delete()
    mail.outbox.clear()
    _population(org, course, n)
    reminders.collect(NOW)  # warm Wagtail's site-root cache, as any earlier run would have
    with CaptureQueriesContext(connection) as queries:
        result = reminders.send_all(NOW)
    return len(queries), result


@pytest.mark.django_db
def test_send_all_query_count_does_not_grow_with_enrolments(org, course):
    small, small_result = _measure(org, course["course"], 3)
    large, large_result = _measure(org, course["course"], 15)
    assert small_result == {"due_soon": 1, "overdue": 1, "expiring": 1, "manager_digest": 1, "failed": 0}
    assert large_result == {"due_soon": 5, "overdue": 5, "expiring": 5, "manager_digest": 3, "failed": 0}
    assert small == large
