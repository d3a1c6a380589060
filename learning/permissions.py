"""Small pure permission functions of the learning app."""

from cms import roles
from cms.selectors import has_role


def can_view_all_completions(user):
    """HR and holders of ``learning.view_all_completions`` (service accounts) see everything."""
    return user.is_authenticated and (has_role(user, roles.HR) or user.has_perm("learning.view_all_completions"))


def can_view_hr_report(user):
    return can_view_all_completions(user)


def can_manage_enrollment(user, enrollment):
    """HR, or a manager above the agent in the chain."""
    from cms.models import Agent
    from cms.selectors import agent_for_user, reports_subquery

    if has_role(user, roles.HR):
        return True
    actor = agent_for_user(user)
    return actor is not None and Agent.objects.filter(pk=enrollment.agent_id, pk__in=reports_subquery(actor.pk)).exists()
