"""Reads of the appraisal app that depend on who asks (confidentiality)."""

from django.db.models import Count, Q
from django.utils import timezone

from appraisal.choices import AppraisalState as S
from appraisal.models import Appraisal, Campaign
from cms import roles
from cms.selectors import agent_for_user, has_role


def can_view_all(user):
    return user.is_authenticated and (has_role(user, roles.HR) or user.has_perm("appraisal.view_all_appraisals"))


def appraisals_visible_to(user):
    """The agent their own; the evaluator (including a delegate) and the reviewer theirs;
    HR everything (each read of someone else's report is logged by the caller); others none."""
    base = Appraisal.objects.select_related("campaign", "agent__user", "agent__org_unit", "evaluator__user", "reviewer__user")
    if can_view_all(user):
        return base
    agent = agent_for_user(user)
    if agent is None:
        return base.none()
    return base.filter(Q(agent=agent) | Q(evaluator=agent) | Q(reviewer=agent))


def campaigns_visible_to(user):
    if can_view_all(user):
        return Campaign.objects.all()
    agent = agent_for_user(user)
    if agent is None:
        return Campaign.objects.none()
    return Campaign.objects.filter(
        Q(appraisals__agent=agent) | Q(appraisals__evaluator=agent) | Q(appraisals__reviewer=agent)
    ).distinct()


def evaluator_queue(agent):
    """The manager's appraisals to conduct, by state, with deadlines (one query)."""
    return (
        Appraisal.objects.filter(evaluator=agent)
        .exclude(state=S.CANCELLED)
        .select_related("campaign", "agent__user", "agent__org_unit")
        .order_by("state", "interview_at", "agent__user__last_name")
    )


def reviewer_queue(agent):
    return (
        Appraisal.objects.filter(reviewer=agent, state=S.ACKNOWLEDGED)
        .select_related("campaign", "agent__user", "evaluator__user")
        .order_by("agent_signed_at", "refusal_recorded_at")
    )


def progress_by_unit(campaign, parent=None):
    """Counts by state per org unit (children of ``parent`` or directions): one aggregate query."""
    from cms.models import OrgUnit

    units = list(OrgUnit.get_root_nodes() if parent is None else parent.get_children())
    aggregates = {}
    for unit in units:
        in_unit = Q(agent__org_unit__path__startswith=unit.path)
        for state in S.values:
            aggregates[f"{unit.pk}:{state}"] = Count("pk", filter=in_unit & Q(state=state))
    totals = Appraisal.objects.filter(campaign=campaign).aggregate(**aggregates) if aggregates else {}
    return [
        {"unit": unit, "counts": {state: totals[f"{unit.pk}:{state}"] for state in S.values}, "has_children": unit.numchild > 0}
        for unit in units
    ]


def overdue(campaign, now=None):
    """Convocations not sent although the interview deadline is within the notice period,
    and reports held but not notified within the notification limit."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    late_convocation = Q(state=S.CREATED) & Q(
        campaign__interviews_until__lte=today + timezone.timedelta(days=campaign.notice_days)
    )
    late_notification = Q(state=S.HELD, held_at__lt=now - timezone.timedelta(days=campaign.notification_limit_days))
    return (
        Appraisal.objects.filter(campaign=campaign)
        .filter(late_convocation | late_notification)
        .select_related("agent__user", "agent__org_unit", "evaluator__user")
        .order_by("state", "agent__org_unit__path")
    )
