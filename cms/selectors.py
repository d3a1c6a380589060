"""Reads that depend on who asks. Every list is filtered in the queryset."""

from django.contrib.auth.models import AnonymousUser
from django.db.models import Q
from django.db.models.expressions import RawSQL

from cms import roles
from cms.models import Agent, OrgUnit

_NO_AGENT = object()


def agent_for_user(user):
    """The user's Agent (with unit, N+1 and N+2), cached on the user object for the request."""
    if user is None or isinstance(user, AnonymousUser) or not user.is_authenticated:
        return None
    cached = getattr(user, "_parcours_agent", None)
    if cached is None:
        cached = (
            Agent.objects.select_related("org_unit", "manager__user", "manager__manager__user").filter(user=user).first()
            or _NO_AGENT
        )
        user._parcours_agent = cached
    return None if cached is _NO_AGENT else cached


def role_names(user):
    """Group-based role names of a user (one query, cached on the user object)."""
    if not user.is_authenticated:
        return set()
    cached = getattr(user, "_parcours_roles", None)
    if cached is None:
        cached = set(user.groups.values_list("name", flat=True))
        user._parcours_roles = cached
    return cached


def has_role(user, role):
    return user.is_authenticated and (user.is_superuser or role in role_names(user))


def is_manager(agent):
    return agent is not None and Agent.objects.filter(manager=agent, active=True).exists()


def roles_for_user(user):
    """Role keys for display and for the API: groups plus the derived "manager" role."""
    names = sorted(role_names(user))
    agent = agent_for_user(user)
    if is_manager(agent):
        names.append("manager")
    return [{"key": name, "label": str(roles.LABELS.get(name, name))} for name in names]


def direct_reports(agent):
    return Agent.objects.filter(manager=agent, active=True).select_related("user", "org_unit")


def reports_subquery(agent_pk):
    """SQL (recursive CTE) selecting the ids of every agent below ``agent_pk``.

    One statement whatever the depth or size of the team; works on SQLite and PostgreSQL.
    """
    table = Agent._meta.db_table
    return RawSQL(
        f"WITH RECURSIVE reports(id) AS ("
        f" SELECT id FROM {table} WHERE manager_id = %s"
        f" UNION SELECT a.id FROM {table} a JOIN reports r ON a.manager_id = r.id"
        f") SELECT id FROM reports",
        (agent_pk,),
    )


def org_units_visible_to(user):
    """HR sees the whole org chart; others see nothing here (units show through agents)."""
    if has_role(user, roles.HR):
        return OrgUnit.objects.all()
    return OrgUnit.objects.none()


def agents_visible_to(user):
    """The directory a user may browse: HR everything; a manager their reports; else themselves."""
    if has_role(user, roles.HR):
        return Agent.objects.select_related("user", "org_unit", "manager__user")
    agent = agent_for_user(user)
    if agent is None:
        return Agent.objects.none()
    return Agent.objects.filter(Q(pk__in=reports_subquery(agent.pk)) | Q(pk=agent.pk)).select_related(
        "user", "org_unit", "manager__user"
    )
