from functools import cached_property

from cms import navigation as registry
from cms import roles
from cms.selectors import agent_for_user, has_role, role_names


class Nav:
    """The site header's navigation for one request: its items (``cms.navigation``) and the
    roles they depend on, computed lazily (only when the template reads them; at most one
    small query each)."""

    def __init__(self, request, user):
        self.request = request
        self.user = user

    @cached_property
    def is_hr(self):
        return has_role(self.user, roles.HR)

    def has_role(self, name):
        """Superusers and members of the group ``name`` (one query for all the roles)."""
        return self.user.is_authenticated and (self.user.is_superuser or name in role_names(self.user))

    @cached_property
    def is_manager(self):
        from cms.models import Agent

        if not self.user.is_authenticated:
            return False
        agent = agent_for_user(self.user)
        return agent is not None and Agent.objects.filter(manager=agent, active=True).exists()

    @cached_property
    def items(self):
        return registry.items_for(self.request, self)


def navigation(request):
    """``nav``: what the site header needs to show each role (anonymous visitors too) its
    entry points."""
    from django.contrib.auth.models import AnonymousUser

    return {"nav": Nav(request, getattr(request, "user", None) or AnonymousUser())}

