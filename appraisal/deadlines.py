"""The time limits of the entretien professionnel, computed once (with ``cms.dates``).

Every limit is a day (the last day on which one may act, inclusive) in the site's time
zone; a limit is passed when today is after it (``passed``). The action guards
(appraisal/actions.py), the manager's list and detail page (views.py), the agent's panel
(dashboard.py), the HR overdue list (``selectors.overdue`` through the ``late_*`` query
conditions below, shown by hr_views.py) and the reminders (reminders.py) all use these
functions, so that they agree on the same dates.

- convocation: the interview is at least ``notice_days`` after the convocation
  (``earliest_interview``); to hold every interview by ``interviews_until``, convoke by
  ``interviews_until - notice_days`` (``convoke_by``);
- notification: within ``notification_limit_days`` calendar days of the interview
  (``notify_by``; later, a reason is required);
- the agent's signature: within ``agent_return_days`` of the notification (``sign_by``);
- revision request: within ``revision_window_days`` jours francs of the notification
  (``revision_by``, moved to the next working day);
- answer to the request: within ``revision_answer_days`` of the request
  (``revision_answer_by``; no answer: implicit rejection the day after);
- CAP referral: within ``cap_referral_months`` of the rejection, explicit or implicit
  (``cap_by``).
"""

from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from appraisal.choices import AppraisalState as S
from cms import dates


def today(now=None):
    return dates.local_day(now or timezone.now())


def passed(limit, now=None):
    """Whether the day ``limit`` is over (today is after it)."""
    return limit is not None and today(now) > limit


def earliest_interview(campaign, now):
    """The earliest moment of an interview convoked at ``now``."""
    return now + timedelta(days=campaign.notice_days)


def convoke_by(campaign):
    """The last day to convoke so that the interview can be held by ``interviews_until``."""
    return campaign.interviews_until - timedelta(days=campaign.notice_days)


def notify_by(appraisal, now=None, campaign=None):
    """The last day to notify the report without a reason for the delay."""
    held = appraisal.held_at or now or timezone.now()
    return dates.calendar_deadline(dates.local_day(held), (campaign or appraisal.campaign).notification_limit_days)


def sign_by(appraisal, campaign=None):
    """The agent's return limit after the notification."""
    return dates.local_day(appraisal.notified_at) + timedelta(days=(campaign or appraisal.campaign).agent_return_days)


def revision_by(appraisal, campaign=None):
    """The last day to request a revision (jours francs after the notification)."""
    days = (campaign or appraisal.campaign).revision_window_days
    return dates.jours_francs_deadline(dates.local_day(appraisal.notified_at), days)


def revision_answer_by(appraisal, campaign=None):
    """The last day for the reviewer to answer a revision request."""
    days = (campaign or appraisal.campaign).revision_answer_days
    return dates.calendar_deadline(dates.local_day(appraisal.revision_requested_at), days)


def cap_by(appraisal, campaign=None):
    """The last day to refer to the CAP: ``cap_referral_months`` after the rejection (the
    answer, or the end of the answer period for an implicit rejection)."""
    rejected_on = (
        dates.local_day(appraisal.revision_answered_at)
        if appraisal.revision_answered_at
        else revision_answer_by(appraisal, campaign)
    )
    return dates.add_months(rejected_on, (campaign or appraisal.campaign).cap_referral_months)


# --- the same limits as query conditions (lists filter in the queryset) --------------------------


def late_convocation(campaign, now=None):
    """Appraisals of ``campaign`` still to convoke once ``convoke_by`` is passed."""
    return Q(state=S.CREATED) if passed(convoke_by(campaign), now) else Q(pk__in=[])


def late_notification(campaign, now=None):
    """Reports held and not notified once ``notify_by`` is passed: today > held day + N,
    i.e. held before the start of the day ``today - N`` (in the site's time zone)."""
    first_day_on_time = today(now) - timedelta(days=campaign.notification_limit_days)
    return Q(state=S.HELD, held_at__lt=dates.start_of_day(first_day_on_time))
