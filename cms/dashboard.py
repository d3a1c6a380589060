""""Mon espace": a small registry through which each app contributes a panel.

An app registers a panel in its ``AppConfig.ready()``::

    from cms.dashboard import Panel, register_panel
    register_panel(MyCoursesPanel())

A panel decides whether it shows for the request's user and builds its own context with
a constant number of queries (the dashboard is the page every agent opens first).
"""

from django.utils.translation import gettext_lazy as _

_PANELS = {}


class Panel:
    key = ""
    title = ""
    order = 100
    template_name = ""

    def is_visible(self, request):
        return request.user.is_authenticated

    def get_context(self, request):
        return {}


def register_panel(panel):
    if not panel.key:
        raise ValueError("A dashboard panel needs a key")
    _PANELS[panel.key] = panel
    return panel


def panels_for(request):
    """The visible panels for this request, in order, each with its rendered context."""
    result = []
    for panel in sorted(_PANELS.values(), key=lambda p: (p.order, p.key)):
        if panel.is_visible(request):
            result.append({"panel": panel, "template_name": panel.template_name, "context": panel.get_context(request)})
    return result


class ProfilePanel(Panel):
    key = "cms.profile"
    title = _("Mon profil")
    order = 1
    template_name = "cms/panels/profile.html"

    def get_context(self, request):
        from cms import selectors

        agent = selectors.agent_for_user(request.user)
        context = {"agent": agent, "roles": selectors.roles_for_user(request.user)}
        if agent is not None:
            context["direct_reports_count"] = selectors.direct_reports(agent).count()
        return context
