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
``nav.is_manager``, ``nav.has_role(name)``: computed lazily, at most one query each).
Items show in ``order``. An item leads to a named URL (``url_name``) or to whatever
``url(request)`` returns (a Wagtail page such as the course catalogue; None hides it).
Anonymous visitors get the items whose ``visible`` is :func:`anonymous` or :func:`everyone`.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse


def everyone(nav):
    return True


def signed_in(nav):
    return nav.user.is_authenticated


def anonymous(nav):
    return not nav.user.is_authenticated


def managers(nav):
    return nav.is_manager


def hr(nav):
    return nav.is_hr


def role(name):
    """``visible`` for the members of one role group (and superusers)."""

    def visible(nav):
        return nav.has_role(name)

    visible.__name__ = f"role_{name}"
    return visible


def first_live_page_url(model_label):
    """``url`` for the first live page of a page model (``"learning.CourseIndexPage"``):
    one query; None when there is none."""

    def url(request):
        from django.apps import apps

        page = apps.get_model(model_label).objects.live().order_by("path").first()
        return page.get_url(request) if page is not None else None

    return url


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
    visible: Callable = signed_in
    url: Callable | None = None  # (request) -> str | None, instead of url_name

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
        if item.url is not None:
            url = item.url(request)
            if not url:
                continue
        else:
            try:
                url = reverse(item.url_name)
            except NoReverseMatch:
                continue
        items.append({"key": item.key, "label": item.label, "url": url, "current": item.is_current(request)})
    return items
