"""Wagtail admin integration of the LRS (HR): the "Entrepôt xAPI" menu (statements browser,
statements per course) and the "Clients LRS (xAPI)" list under Settings."""

from django.urls import include, path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import Menu, MenuItem, SubmenuMenuItem
from wagtail.permissions import register_permission_policy

from xapi import admin_views, services
from xapi.admin_views import LRSClientPermissionPolicy, LRSClientViewSet
from xapi.models import LRSClient

register_permission_policy(LRSClient, LRSClientPermissionPolicy(LRSClient), exact_class=True)


@hooks.register("register_admin_viewset")
def register_lrs_client_viewset():
    return LRSClientViewSet()


admin_urlpatterns = [
    path("declarations/", admin_views.StatementBrowserView.as_view(), name="statements"),
    path("declarations/<uuid:statement_id>/", admin_views.StatementDetailView.as_view(), name="statement"),
    path("formations/", admin_views.CourseStatementCountsView.as_view(), name="course_counts"),
]


@hooks.register("register_admin_urls")
def register_lrs_admin_urls():
    return [path("lrs/", include((admin_urlpatterns, "xapi_admin"), namespace="xapi_admin"))]


class HRMenuItem(MenuItem):
    def is_shown(self, request):
        return services.can_manage_clients(request.user)


class HRSubmenuMenuItem(SubmenuMenuItem):
    def is_shown(self, request):
        return services.can_manage_clients(request.user)


MENU = [
    (_("Déclarations"), "xapi_admin:statements", "xapi-declarations", "list-ul"),
    (_("Par formation"), "xapi_admin:course_counts", "xapi-formations", "doc-full"),
    (_("Clients LRS"), "clients_lrs:index", "xapi-clients", "key"),
]


@hooks.register("register_admin_menu_item")
def register_lrs_menu():
    items = [
        HRMenuItem(label, reverse(url_name), name=name, icon_name=icon, order=10 * (position + 1))
        for position, (label, url_name, name, icon) in enumerate(MENU)
    ]
    return HRSubmenuMenuItem(_("Entrepôt xAPI"), Menu(items=items), name="xapi", icon_name="list-ul", order=280)
