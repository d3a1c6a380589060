"""The SCIM representation of agents (``User``) and roles (``Group``), and their version.

Pure mapping, shared by the services (which compare versions under a row lock and apply
PATCH operations to the current representation) and the views. The version (``meta.version``
and the ``ETag`` header) is a digest of the representation without ``meta``: any change a
client can see changes it, nothing else does.
"""

import hashlib
import json

from django.contrib.auth.models import Group
from django.db.models import Prefetch
from django.urls import reverse

from cms import roles
from cms.models import Agent
from provisioning.config import location

CORE_USER = "urn:ietf:params:scim:schemas:core:2.0:User"
CORE_GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


def agent_queryset():
    """Agents with everything their representation reads, in a constant number of queries."""
    return Agent.objects.select_related("user", "org_unit", "manager__user", "scim_link").prefetch_related(
        Prefetch("user__groups", queryset=Group.objects.filter(name__in=roles.GROUPS).order_by("pk"))
    )


def role_queryset():
    return Group.objects.filter(name__in=roles.GROUPS)


def user_location(agent_id):
    return location(reverse("scim:users", kwargs={"uuid": str(agent_id)}))


def group_location(group_id):
    return location(reverse("scim:groups", kwargs={"uuid": str(group_id)}))


def version_of(resource):
    body = {key: value for key, value in resource.items() if key != "meta"}
    digest = hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()[:32]
    return f'W/"{digest}"'


def external_id_of(agent):
    try:
        return agent.scim_link.external_id
    except Agent.scim_link.RelatedObjectDoesNotExist:
        return ""


def user_resource(agent):
    """The SCIM User of ``agent`` (core schema + enterprise extension)."""
    user = agent.user
    full_name = user.get_full_name() or agent.employee_number
    resource = {
        "schemas": [CORE_USER, ENTERPRISE],
        "id": str(agent.pk),
        "userName": agent.employee_number,
        "name": {"givenName": user.first_name, "familyName": user.last_name, "formatted": full_name},
        "displayName": full_name,
        "active": bool(agent.active),
        "title": agent.job_title,
        "emails": [{"value": user.email, "type": "work", "primary": True}] if user.email else [],
        "groups": [
            {"value": str(group.pk), "display": group.name, "$ref": group_location(group.pk)}
            for group in user.groups.all()
            if group.name in roles.GROUPS
        ],
        ENTERPRISE: {
            "employeeNumber": agent.employee_number,
            "department": agent.org_unit.code,
        },
    }
    external_id = external_id_of(agent)
    if external_id:
        resource["externalId"] = external_id
    if agent.manager_id:
        manager = agent.manager
        resource[ENTERPRISE]["manager"] = {
            "value": str(manager.pk),
            "$ref": user_location(manager.pk),
            "displayName": manager.user.get_full_name() or manager.employee_number,
        }
    resource["meta"] = {
        "resourceType": "User",
        "created": user.date_joined.isoformat(),
        "lastModified": agent.updated_at.isoformat(),
        "location": user_location(agent.pk),
        "version": version_of(resource),
    }
    return resource


def group_members(group):
    """The agents holding the role (accounts without an agent are not SCIM resources)."""
    return (
        Agent.objects.filter(user__groups=group)
        .select_related("user")
        .only("pk", "employee_number", "user__first_name", "user__last_name")
        .order_by("pk")
    )


def group_resource(group, members=None):
    members = group_members(group) if members is None else members
    resource = {
        "schemas": [CORE_GROUP],
        "id": str(group.pk),
        "displayName": group.name,
        "members": [
            {
                "value": str(agent.pk),
                "display": agent.user.get_full_name() or agent.employee_number,
                "$ref": user_location(agent.pk),
                "type": "User",
            }
            for agent in members
        ],
    }
    resource["meta"] = {
        "resourceType": "Group",
        "location": group_location(group.pk),
        "version": version_of(resource),
    }
    return resource
