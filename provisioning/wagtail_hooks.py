"""Wagtail admin integration of provisioning: « Jetons SCIM » and « Journal du provisionnement » (HR)."""

from wagtail import hooks
from wagtail.permissions import register_permission_policy

from provisioning.admin_views import (
    ProvisioningEventPermissionPolicy,
    ProvisioningEventViewSet,
    ScimTokenPermissionPolicy,
    ScimTokenViewSet,
)
from provisioning.models import ProvisioningEvent, ScimToken

register_permission_policy(ScimToken, ScimTokenPermissionPolicy(ScimToken), exact_class=True)
register_permission_policy(ProvisioningEvent, ProvisioningEventPermissionPolicy(ProvisioningEvent), exact_class=True)


@hooks.register("register_admin_viewset")
def register_provisioning_viewsets():
    return [ScimTokenViewSet(), ProvisioningEventViewSet()]
