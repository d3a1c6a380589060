"""Appraisal reminders (appraisal/reminders.py): each kind once, never twice, dry run,
recipients, retries after a refused message, concurrent runs, query counts."""

import datetime
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from appraisal import reminders, services
from appraisal.choices import AppraisalState as S
from appraisal.choices import CampaignStatus
from appraisal.models import Appraisal, Campaign
from cms import reminders as cms_reminders
from cms.models import Agent, ReminderLog
from tests.appraisal.conftest import make_campaign
from tests.factories import AgentFactory

NOTHING = {"convoke": 0, "acknowledge": 0, "visa": 0, "failed": 0}


def days(n):
    return datetime.timedelta(days=n)


@pytest.fixture
def now():
    # Mid-week, mid-day: NOW ± a few hours stays in the same ISO week.
    moment = timezone.localtime().replace(hour=10, minute=0, second=0, microsecond=0)
    return moment - days(moment.weekday() - 2)  # Wednesday of this week


@pytest.fixture
def scenario(chain, org, now):
    """Interviews due by NOW + 10 days (within notice 8 + 7): the manager's own appraisal is
    still to convoke (evaluator: reviewer); the agent's was notified 3 days ago; other_agent's
    is signed and waits for the reviewer's visa."""
    today = timezone.localdate(now)
    campaign = make_campaign(org, starts_on=today - days(30), interviews_until=today + days(10))
    services.launch_campaign(campaign_id=campaign.pk)
    mine = Appraisal.objects.filter(campaign=campaign)
    mine.filter(agent=chain["agent"]).update(state=S.NOTIFIED, notified_at=now - days(3) - datetime.timedelta(hours=1))
    mine.filter(agent=chain["other_agent"]).update(
        state=S.ACKNOWLEDGED, reviewer=chain["reviewer"], notified_at=now - days(6), agent_signed_at=now - days(2)
    )
    return {**chain, "campaign": Campaign.objects.get(pk=campaign.pk), "appraisals": mine}


def by_recipient():
    return {message.to[0]: message for message in mail.outbox}


@pytest.mark.django_db
def test_each_kind_is_sent_once_and_a_second_run_sends_nothing(scenario, now):
    assert reminders.send_all(now) == {"convoke": 1, "acknowledge": 1, "visa": 1, "failed": 0}
    assert len(mail.outbox) == 3
    sent = by_recipient()
    agent, reviewer = scenario["agent"], scenario["reviewer"]
    assert set(sent) == {agent.user.email, reviewer.user.email}  # the reviewer: a convoke and a visa digest

    [convoke] = [m for m in mail.outbox if "convoquer" in m.subject]
    assert convoke.to == [reviewer.user.email]
    assert convoke.subject == "Relance : 1 entretien professionnel à convoquer"
    assert scenario["manager"].full_name in convoke.body and "au moins 8 jours" in convoke.body
    assert convoke.extra_headers["Auto-Submitted"] == "auto-generated"

    ack = sent[agent.user.email]
    assert (
        ack.subject
        == f"Relance : votre compte rendu d'entretien professionnel {scenario['campaign'].year} est à signer"
    )
    assert scenario["manager"].full_name in ack.body and "pris connaissance" in ack.body

    [visa] = [m for m in mail.outbox if "viser" in m.subject]
    assert visa.to == [reviewer.user.email] and visa.subject == "Relance : 1 compte rendu d'entretien à viser"
    assert scenario["other_agent"].full_name in visa.body and "signé par l'agent le" in visa.body

    week = "{}-W{:02d}".format(*timezone.localtime(now).isocalendar()[:2])
    a = scenario["appraisals"].get(agent=agent)
    assert set(ReminderLog.objects.values_list("kind", "key")) == {
        ("appraisal.convoke", f"convoke:{reviewer.pk}:{week}"),
        ("appraisal.acknowledge", f"acknowledge:{a.pk}:v1:3"),
        ("appraisal.visa", f"visa:{reviewer.pk}:{week}"),
    }

    mail.outbox.clear()
    assert reminders.send_all(now) == NOTHING
    assert reminders.send_all(now + datetime.timedelta(hours=5)) == NOTHING
    assert mail.outbox == [] and ReminderLog.objects.count() == 3


@pytest.mark.django_db
def test_agent_is_reminded_at_three_days_and_two_days_before_the_deadline(scenario, now):
    a = scenario["appraisals"].get(agent=scenario["agent"])
    Appraisal.objects.filter(pk=a.pk).update(notified_at=now)
    counts = {
        offset: reminders.send_all(now + days(offset))["acknowledge"] for offset in (1, 2, 3, 4, 8, 13, 14, 15, 16)
    }
    assert counts == {1: 0, 2: 0, 3: 1, 4: 0, 8: 0, 13: 1, 14: 0, 15: 0, 16: 0}
    first, last = [m for m in mail.outbox if m.to == [scenario["agent"].user.email]]
    assert first.subject.startswith("Relance : votre compte rendu") and last.subject.startswith("Dernière relance")
    deadline = timezone.localdate(now) + days(15)
    assert f"avant le {deadline.day} " in last.body

    # A report notified again after an accepted revision is a new version: reminded again.
    Appraisal.objects.filter(pk=a.pk).update(version=2, notified_at=now + days(20))
    assert reminders.send_all(now + days(23))["acknowledge"] == 1


@pytest.mark.django_db
def test_a_report_the_agent_signed_is_no_longer_reminded(scenario, now):
    scenario["appraisals"].filter(agent=scenario["agent"]).update(state=S.ACKNOWLEDGED, agent_signed_at=now)
    assert reminders.send_all(now)["acknowledge"] == 0


@pytest.mark.django_db
def test_convoke_digest_groups_per_evaluator_waits_for_the_window_and_comes_back_weekly(chain, org, now):
    today = timezone.localdate(now)
    campaign = make_campaign(org, starts_on=today - days(30), interviews_until=today + days(20))
    for _ in range(3):
        AgentFactory(manager=chain["manager"], org_unit=org["bureau"])
    services.launch_campaign(campaign_id=campaign.pk)
    # interviews by D+20, notice 8 days: reminded from D+20 - 15 = D+5 on
    assert reminders.send_all(now)["convoke"] == 0
    assert reminders.send_all(now + days(5))["convoke"] == 3  # manager, reviewer, other_manager
    [digest] = [m for m in mail.outbox if m.to == [chain["manager"].user.email]]
    assert digest.subject == "Relance : 4 entretiens professionnels à convoquer"
    assert chain["agent"].full_name in digest.body
    assert reminders.send_all(now + days(6))["convoke"] == 0  # same ISO week
    Appraisal.objects.filter(campaign=campaign, evaluator=chain["other_manager"]).update(state=S.CONVOKED)
    assert reminders.send_all(now + days(12))["convoke"] == 2  # next week; other_manager is done
    # once the deadline minus the notice has passed, the digest says so
    mail.outbox.clear()
    reminders.send_all(now + days(19))
    [late] = [m for m in mail.outbox if m.to == [chain["manager"].user.email]]
    assert "n'est plus tenable" in late.body


@pytest.mark.django_db
def test_dry_run_sends_and_writes_nothing(scenario, now):
    expected = {"convoke": 1, "acknowledge": 1, "visa": 1, "failed": 0}
    assert reminders.send_all(now, dry_run=True) == expected
    assert mail.outbox == [] and not ReminderLog.objects.exists()
    assert reminders.send_all(now) == expected  # the real run still sends them


@pytest.mark.django_db
def test_command_dry_run_lists_and_writes_nothing_then_sends(scenario, now, monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: now)
    out = StringIO()
    call_command("send_appraisal_reminders", "--dry-run", stdout=out)
    text = out.getvalue()
    assert "Simulation" in text and "Total : 3 relance(s) à envoyer." in text
    assert scenario["agent"].user.email in text
    assert mail.outbox == [] and not ReminderLog.objects.exists()
    out = StringIO()
    call_command("send_appraisal_reminders", stdout=out)
    assert "Total : 3 relance(s) envoyées." in out.getvalue() and len(mail.outbox) == 3
    out = StringIO()
    call_command("send_appraisal_reminders", stdout=out)
    assert "Total : 0 relance(s) envoyées." in out.getvalue() and len(mail.outbox) == 3


@pytest.mark.django_db
def test_inactive_recipients_without_email_and_closed_campaigns_are_skipped(scenario, now):
    get_user_model().objects.filter(pk=scenario["agent"].user_id).update(email="")
    Agent.objects.filter(pk=scenario["reviewer"].pk).update(active=False)
    assert reminders.send_all(now) == NOTHING
    Campaign.objects.filter(pk=scenario["campaign"].pk).update(status=CampaignStatus.CLOSED)
    Agent.objects.filter(pk=scenario["reviewer"].pk).update(active=True)
    assert reminders.send_all(now) == NOTHING


@pytest.mark.django_db
def test_names_are_not_html_escaped_in_the_text_mails(scenario, now):
    user = scenario["manager"].user
    user.last_name = "D'Artagnan & fils"
    user.save()
    reminders.send_all(now)
    [convoke] = [m for m in mail.outbox if "convoquer" in m.subject]
    assert "D'Artagnan & fils" in convoke.body and "&#x27;" not in convoke.body


@pytest.mark.django_db
def test_a_refused_message_is_not_logged_and_is_retried(scenario, now, monkeypatch):
    original = EmailBackend.send_messages
    refused = scenario["agent"].user.email

    def flaky(self, messages):
        if any(refused in m.to for m in messages):
            raise OSError("550 mailbox unavailable")
        return original(self, messages)

    monkeypatch.setattr(EmailBackend, "send_messages", flaky)
    assert reminders.send_all(now) == {"convoke": 1, "acknowledge": 0, "visa": 1, "failed": 1}
    assert not ReminderLog.objects.filter(kind="appraisal.acknowledge").exists()
    monkeypatch.setattr(EmailBackend, "send_messages", original)
    assert reminders.send_all(now) == {"convoke": 0, "acknowledge": 1, "visa": 0, "failed": 0}


@pytest.mark.django_db
def test_a_key_claimed_by_another_run_is_not_sent(scenario, now):
    pending = reminders.collect(now)
    assert len(pending) == 3 and not ReminderLog.objects.exists()
    taken = next(r for r in pending if r.kind == "acknowledge")
    ReminderLog.objects.create(kind=f"appraisal.{taken.kind}", key=taken.key)  # a concurrent run got there first
    sent, failed = reminders.deliver(pending, now)
    assert {r.kind for r in sent} == {"convoke", "visa"} and failed == []
    assert [m.to for m in mail.outbox if m.to == [scenario["agent"].user.email]] == []
    assert ReminderLog.objects.count() == 3


@pytest.mark.django_db
def test_claim_returns_only_the_keys_it_inserted(scenario, now):
    pending = reminders.collect(now)
    assert cms_reminders.claim("appraisal", pending, now) == {(r.kind, r.key) for r in pending}
    assert cms_reminders.claim("appraisal", pending, now) == set()
    assert cms_reminders.claim("learning", pending, now) == {(r.kind, r.key) for r in pending}  # another namespace
    ReminderLog.objects.filter(kind__startswith="learning.").delete()
    assert ReminderLog.objects.count() == 3


def add_population(campaign, chain, org, size, now):
    """``size`` more reports of the manager (to convoke) and of other_manager (notified, to
    acknowledge; acknowledged, to visa)."""
    evaluators = [chain["manager"], chain["other_manager"]]
    agents = [AgentFactory(org_unit=org["bureau"], manager=evaluators[i % 2]) for i in range(size)]
    states = [
        {"state": S.CREATED},
        {"state": S.NOTIFIED, "notified_at": now - days(4)},
        {"state": S.ACKNOWLEDGED, "notified_at": now - days(6), "agent_signed_at": now - days(1)},
    ]
    Appraisal.objects.bulk_create(
        [
            Appraisal(campaign=campaign, agent=a, evaluator=a.manager, reviewer=chain["reviewer"], **states[i % 3])
            for i, a in enumerate(agents)
        ]
    )


@pytest.mark.django_db
def test_query_count_does_not_grow_with_the_population(scenario, org, now):
    campaign = scenario["campaign"]
    add_population(campaign, scenario, org, 3, now)
    with CaptureQueriesContext(connection) as small:
        small_result = reminders.send_all(now)
    ReminderLog.objects.all().delete()
    add_population(campaign, scenario, org, 30, now)
    with CaptureQueriesContext(connection) as large:
        large_result = reminders.send_all(now)
    assert small_result["acknowledge"] < large_result["acknowledge"]
    assert len(small.captured_queries) == len(large.captured_queries)
    with CaptureQueriesContext(connection) as dry:
        reminders.send_all(now + days(7), dry_run=True)
    assert not any(q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")) for q in dry.captured_queries)
