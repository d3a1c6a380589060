from functools import cached_property

from cms import navigation as registry
from cms import roles
from cms.selectors import agent_for_user, has_role


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

    @cached_property
    def is_manager(self):
        from cms.models import Agent

        agent = agent_for_user(self.user)
        return agent is not None and Agent.objects.filter(manager=agent, active=True).exists()

    @cached_property
    def items(self):
        return registry.items_for(self.request, self)


def navigation(request):
    """``nav``: what the site header needs to show each role its entry points."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"nav": Nav(request, user)}

