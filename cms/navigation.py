"""The site navigation: a small registry through which each app contributes its header
links (like the "Mon espace" panels of ``cms.dashboard``). The theme's ``base.html`` loops
over ``nav.items`` and names no app URL.

An app registers its items in its ``AppConfig.ready()``::

    from cms import navigation
    from cms.navigation import NavItem

    navigation.register(
        NavItem("learning.team", _("Formations de mon équipe"), "learning:team", 20, "team", navigation.managers),
    )

``visible(nav)`` receives the request's navigation context (``nav.user``, ``nav.is_hr``,
``nav.is_manager``: computed lazily, at most one query each). Items show in ``order``.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse


def everyone(nav):
    return True


def managers(nav):
    return nav.is_manager


def hr(nav):
    return nav.is_hr


@dataclass(frozen=True)
class NavItem:
    """``current``: when the item is the current page (``aria-current="page"``): the
    current view's URL name (``"team"``, in any namespace), or its namespace followed by a
    colon (``"appraisal:"``)."""

    key: str
    label: str  # lazily translated
    url_name: str
    order: int = 100
    current: str = ""
    visible: Callable = everyone

    def is_current(self, request):
        match = getattr(request, "resolver_match", None)
        if match is None or not self.current:
            return False
        if self.current.endswith(":"):
            return match.namespace == self.current[:-1]
        return match.url_name == self.current


_ITEMS: dict[str, NavItem] = {}


def register(*items):
    for item in items:
        if not item.key:
            raise ValueError("A navigation item needs a key")
        _ITEMS[item.key] = item


def registered():
    return sorted(_ITEMS.values(), key=lambda item: (item.order, item.key))


def items_for(request, nav):
    """The visible items for this request, in order: [{"key", "label", "url", "current"}].
    An item whose URL is not routed is left out."""
    items = []
    for item in registered():
        if not item.visible(nav):
            continue
        try:
            url = reverse(item.url_name)
        except NoReverseMatch:
            continue
        items.append({"key": item.key, "label": item.label, "url": url, "current": item.is_current(request)})
    return items
