"""Wagtail admin integration of the cms app: the "Annuaire" (org units and agents)."""

from wagtail import hooks
from wagtail.permissions import register_permission_policy

from cms.admin_views import AgentChooserViewSet, DirectoryPermissionPolicy, DirectoryViewSetGroup
from cms.models import Agent, OrgUnit

# Registered before any view asks for a policy (Wagtail would otherwise create a fallback).
register_permission_policy(OrgUnit, DirectoryPermissionPolicy(OrgUnit), exact_class=True)
register_permission_policy(Agent, DirectoryPermissionPolicy(Agent), exact_class=True)


@hooks.register("register_admin_viewset")
def register_directory_viewsets():
    return [DirectoryViewSetGroup(), AgentChooserViewSet()]
