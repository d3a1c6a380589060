"""Wagtail admin integration of the cms app: the "Annuaire" (org units and agents) and the
"Jetons d'API" list (HR)."""

from wagtail import hooks
from wagtail.permissions import register_permission_policy

from cms.admin_views import (
    AgentChooserViewSet,
    ApiTokenPermissionPolicy,
    ApiTokenViewSet,
    DirectoryPermissionPolicy,
    DirectoryViewSetGroup,
)
from cms.models import Agent, ApiToken, OrgUnit

# Registered before any view asks for a policy (Wagtail would otherwise create a fallback).
register_permission_policy(OrgUnit, DirectoryPermissionPolicy(OrgUnit), exact_class=True)
register_permission_policy(Agent, DirectoryPermissionPolicy(Agent), exact_class=True)
register_permission_policy(ApiToken, ApiTokenPermissionPolicy(ApiToken), exact_class=True)


@hooks.register("register_admin_viewset")
def register_directory_viewsets():
    return [DirectoryViewSetGroup(), AgentChooserViewSet(), ApiTokenViewSet()]
