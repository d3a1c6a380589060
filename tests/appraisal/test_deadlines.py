"""One computation of each time limit (appraisal/deadlines.py): the action guards, the HR
overdue list, the reminders, the manager's list and the agent's panel agree on the same
dates, across weekends and public holidays (14 July, Easter Monday)."""

import datetime

import pytest
from django.utils import timezone

from appraisal import deadlines, hr_views, reminders, selectors
from appraisal.actions import expire_revision_requests
from appraisal.choices import AppraisalState as S
from appraisal.choices import RevisionState as R
from appraisal.dashboard import own_step
from appraisal.models import Appraisal
from appraisal.views import time_limits
from cms.dates import local_day
from cms.exceptions import Conflict
from tests.appraisal.factories import CampaignFactory, act, put_in

pytestmark = pytest.mark.django_db
date = datetime.date


def at(day, hour=10, minute=0):
    return timezone.make_aware(datetime.datetime(day.year, day.month, day.day, hour, minute))


@pytest.fixture
def campaign(chain, org):
    """Interviews until Wednesday 22 July 2026: with 8 days' notice, convoke by Tuesday
    14 July (a public holiday)."""
    return CampaignFactory(
        org_units=[org["direction"]], year=2026, starts_on=date(2026, 1, 5), interviews_until=date(2026, 7, 22),
        ends_on=date(2026, 12, 18), launched=True,
    )  # fmt: skip


@pytest.fixture
def appraisal(campaign, chain):
    return Appraisal.objects.select_related("campaign").get(campaign=campaign, agent=chain["agent"])


def overdue_ids(campaign, now):
    return set(selectors.overdue(campaign, now).values_list("pk", flat=True))


def convoke_reminder(now, evaluator):
    return next(r for r in reminders.collect(now) if r.kind == reminders.CONVOKE and r.to == evaluator.user.email)


def test_convocation_limit_on_14_july(campaign, appraisal, chain):
    limit = date(2026, 7, 14)
    assert deadlines.convoke_by(campaign) == limit
    assert hr_views._overdue_row(campaign, appraisal)["limit"] == limit
    for now, late in ((at(limit, 18), False), (at(limit + datetime.timedelta(days=1), 8), True)):
        manager_list = time_limits(appraisal, local_day(now))
        assert manager_list["convoke_by"] == limit
        assert manager_list["convoke_late"] is late
        assert (appraisal.pk in overdue_ids(campaign, now)) is late
        reminder = convoke_reminder(now, chain["manager"])
        assert ("n'est plus tenable" in reminder.body) is late
        assert ("à convoquer au plus tard le 14 juillet 2026" in reminder.body) is not late
    # The guard: the day after, the interview can no longer be held by 22 July.
    with pytest.raises(Conflict, match="au moins 8 jours"):
        act(appraisal, "convoke", chain["manager"].user, now=at(date(2026, 7, 15), 9),
            interview_at=at(date(2026, 7, 22), 17).isoformat())  # fmt: skip
    act(
        appraisal, "convoke", chain["manager"].user, now=at(limit, 9), interview_at=at(date(2026, 7, 22), 9).isoformat()
    )


def test_notification_limit_on_14_july_agrees_to_the_day(campaign, appraisal, chain):
    """Held on Monday 29 June at 16:00: notify by 14 July (15 calendar days). At 17:00 on
    14 July, 15 days and one hour have passed, yet the report is not late: the limit is a
    day, in the guard, the overdue list and the manager's list alike."""
    put_in(appraisal, S.HELD, held_at=at(date(2026, 6, 29), 16))
    appraisal = Appraisal.objects.select_related("campaign").get(pk=appraisal.pk)
    limit = date(2026, 7, 14)
    assert deadlines.notify_by(appraisal) == limit
    assert hr_views._overdue_row(campaign, appraisal)["limit"] == limit
    for now, late in ((at(limit, 17), False), (at(limit, 23, 59), False), (at(date(2026, 7, 15), 8), True)):
        manager_list = time_limits(appraisal, local_day(now))
        assert manager_list["notify_by"] == limit and manager_list["notify_late"] is late
        assert (appraisal.pk in overdue_ids(campaign, now)) is late, now
    manager = chain["manager"].user
    with pytest.raises(Conflict, match="au plus tard le 14 juillet 2026"):
        act(appraisal, "notify", manager, now=at(date(2026, 7, 15), 8))
    act(appraisal, "notify", manager, now=at(limit, 17))  # on time: no reason needed


@pytest.mark.parametrize(
    "notified, limit",
    [
        (date(2026, 1, 30), date(2026, 2, 16)),  # Friday; D+16 is Sunday 15 → Monday 16
        (date(2026, 3, 20), date(2026, 4, 7)),  # D+16 is Easter Sunday, then Easter Monday → Tuesday 7
    ],
)
def test_revision_window_in_jours_francs_across_a_weekend_and_easter(campaign, appraisal, chain, notified, limit):
    put_in(appraisal, S.NOTIFIED, notified_at=at(notified))
    appraisal = Appraisal.objects.select_related("campaign").get(pk=appraisal.pk)
    assert deadlines.revision_by(appraisal) == limit
    assert time_limits(appraisal, limit)["revision_by"] == limit
    assert not time_limits(appraisal, limit)["revision_late"]
    assert time_limits(appraisal, limit + datetime.timedelta(days=1))["revision_late"]
    assert own_step(appraisal, limit)["revision_by"] == limit  # the agent's panel
    assert "revision_by" not in own_step(appraisal, limit + datetime.timedelta(days=1))
    agent = chain["agent"].user
    with pytest.raises(Conflict, match="jours francs"):
        act(appraisal, "request_revision", agent, now=at(limit + datetime.timedelta(days=1), 8), reason="Trop tard")
    act(appraisal, "request_revision", agent, now=at(limit, 18), reason="Dans le délai")


def test_signature_limit_in_the_panel_and_the_reminder(campaign, appraisal, chain):
    """Notified on Friday 30 January: to sign by Saturday 14 February (15 days)."""
    put_in(appraisal, S.NOTIFIED, notified_at=at(date(2026, 1, 30)))
    appraisal = Appraisal.objects.select_related("campaign").get(pk=appraisal.pk)
    limit = date(2026, 2, 14)
    assert deadlines.sign_by(appraisal) == limit
    assert own_step(appraisal, limit)["sign_by"] == limit and not own_step(appraisal, limit)["sign_late"]
    assert own_step(appraisal, limit + datetime.timedelta(days=1))["sign_late"]
    reminder = next(r for r in reminders.collect(at(date(2026, 2, 2), 12)) if r.kind == reminders.ACKNOWLEDGE)
    assert "avant le 14 février 2026" in reminder.body


def test_revision_answer_and_cap_limits(campaign, appraisal, chain):
    """Requested on Monday 29 June: answer by 14 July, else implicit rejection on the 15th;
    then refer to the CAP within one month of 14 July."""
    put_in(appraisal, S.FINAL, revision_state=R.REQUESTED, revision_requested_at=at(date(2026, 6, 29)))
    appraisal = Appraisal.objects.select_related("campaign").get(pk=appraisal.pk)
    answer_by = date(2026, 7, 14)
    assert deadlines.revision_answer_by(appraisal) == answer_by
    assert time_limits(appraisal, answer_by)["answer_by"] == answer_by == own_step(appraisal, answer_by)["answer_by"]
    assert expire_revision_requests(now=at(answer_by, 23, 59)) == 0
    with pytest.raises(Conflict, match="expiré le 14 juillet 2026"):
        act(appraisal, "answer_revision", chain["reviewer"].user, now=at(date(2026, 7, 15), 8),
            decision="reject", reason="Non fondé")  # fmt: skip
    assert expire_revision_requests(now=at(date(2026, 7, 15), 8)) == 1
    appraisal = Appraisal.objects.select_related("campaign").get(pk=appraisal.pk)
    assert appraisal.revision_state == R.IMPLICITLY_REJECTED
    cap_by = date(2026, 8, 14)
    assert deadlines.cap_by(appraisal) == cap_by == time_limits(appraisal, cap_by)["cap_by"]
    with pytest.raises(Conflict, match="14 août 2026"):
        act(appraisal, "refer_cap", chain["agent"].user, now=at(date(2026, 8, 15), 8))
    act(appraisal, "refer_cap", chain["agent"].user, now=at(cap_by, 18))
