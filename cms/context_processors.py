from cms import roles
from cms.selectors import agent_for_user, has_role


def navigation(request):
    """What the site header needs to show each role its entry points (two small queries,
    lazily: only when the template reads them)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    class Nav:
        @property
        def is_hr(self):
            return has_role(user, roles.HR)

        @property
        def is_manager(self):
            from cms.models import Agent

            agent = agent_for_user(user)
            return agent is not None and Agent.objects.filter(manager=agent, active=True).exists()

    return {"nav": Nav()}
