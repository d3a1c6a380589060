"""Wagtail admin integration of the LRS: the "Clients LRS (xAPI)" list (HR)."""

from wagtail import hooks
from wagtail.permissions import register_permission_policy

from xapi.admin_views import LRSClientPermissionPolicy, LRSClientViewSet
from xapi.models import LRSClient

register_permission_policy(LRSClient, LRSClientPermissionPolicy(LRSClient), exact_class=True)


@hooks.register("register_admin_viewset")
def register_lrs_client_viewset():
    return LRSClientViewSet()
