"""Every write of SCIM provisioning: users (agents) and role memberships.

Provisioning goes through the directory services of ``import_agents`` and the admin
(``cms.services.save_agent``: validation, manager-cycle checks, deactivation that locks the
account out; ``cms.services.set_agent_active`` for ``DELETE``), then calls the import
listeners (``cms.importer.run_import_listeners``: newcomers get their mandatory courses).
Each change writes one ``ProvisioningEvent`` (connector, resource, fields before → after) in
the same transaction. Bad input raises ``ScimError`` naming the SCIM attribute; nothing is
written then.
"""

import ipaddress
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from cms import services as directory
from cms.choices import OrgUnitKind
from cms.importer import run_import_listeners
from cms.models import Agent, OrgUnit
from provisioning import errors
from provisioning.models import ProvisioningAction, ProvisioningEvent, ScimLink
from provisioning.patch import apply_operations
from provisioning.representation import (
    ENTERPRISE,
    agent_queryset,
    group_members,
    group_resource,
    role_queryset,
    user_resource,
)

MAX_ID = 2**63 - 1
TRUE, FALSE = frozenset({"true", "1", "yes", "vrai"}), frozenset({"false", "0", "no", "faux"})
# SCIM attribute named in an error, for each field of the directory services.
ATTRIBUTE_OF = {
    "employee_number": "userName",
    "first_name": "name.givenName",
    "last_name": "name.familyName",
    "email": "emails",
    "job_title": "title",
    "manager": f"{ENTERPRISE}:manager",
    "org_unit": f"{ENTERPRISE}:department",
    "code": f"{ENTERPRISE}:department",
    "name": f"{ENTERPRISE}:department",
    "__all__": "userName",
}
SENSITIVE = frozenset({"password"})  # never stored, only named in the audit
DEFAULT_UNIT_NAME = "Agents à affecter"


# --- parsing ------------------------------------------------------------------------------


def _get(container, name, default=None):
    """``container[name]``, attribute names being case-insensitive (RFC 7643 §2.1)."""
    if not isinstance(container, dict):
        return default
    lowered = name.lower()
    for key, value in container.items():
        if isinstance(key, str) and key.lower() == lowered:
            return value
    return default


def _string(value, attribute, *, max_length=255):
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise errors.invalid_value(_("« %(attr)s » doit être une chaîne de caractères.") % {"attr": attribute})
    value = str(value).strip()
    if len(value) > max_length:
        raise errors.invalid_value(
            _("« %(attr)s » ne doit pas dépasser %(max)s caractères.") % {"attr": attribute, "max": max_length}
        )
    return value


def parse_boolean(value, attribute="active"):
    """SCIM booleans, and the strings Entra ID sends ("True", "False")."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in TRUE | FALSE:
        return value.strip().lower() in TRUE
    raise errors.invalid_value(_("« %(attr)s » doit être un booléen (true ou false).") % {"attr": attribute})


def parse_id(value):
    """A resource id as an integer, or None when it cannot be one of ours."""
    value = str(value or "").strip()
    if not value.isdigit() or len(value) > 19 or int(value) > MAX_ID:
        return None
    return int(value)


@dataclass
class UserRecord:
    employee_number: str
    first_name: str
    last_name: str
    email: str
    active: bool | None
    job_title: str
    external_id: str
    department: str
    organization: str
    manager: str | None  # SCIM id (or employee number) of the manager; None: no manager


def parse_user(body):
    """The directory fields of a SCIM User body (POST, PUT, or a patched representation)."""
    if not isinstance(body, dict):
        raise errors.invalid_syntax(_("Le corps de la requête doit être un objet JSON."))
    enterprise = _get(body, ENTERPRISE) or {}
    if not isinstance(enterprise, dict):
        raise errors.invalid_value(_("L'extension entreprise doit être un objet."))
    user_name = _string(_get(body, "userName"), "userName", max_length=32)
    employee_number = _string(_get(enterprise, "employeeNumber"), "employeeNumber", max_length=32)
    if employee_number and user_name and employee_number.lower() != user_name.lower():
        raise errors.invalid_value(
            _("« userName » et « employeeNumber » doivent être identiques : le matricule identifie l'agent.")
        )
    employee_number = user_name or employee_number
    if not employee_number:
        raise errors.invalid_value(_("« userName » (le matricule) est obligatoire."))

    name = _get(body, "name") or {}
    if not isinstance(name, dict):
        raise errors.invalid_value(_("« name » doit être un objet."))
    first_name = _string(_get(name, "givenName"), "name.givenName", max_length=150)
    last_name = _string(_get(name, "familyName"), "name.familyName", max_length=150)
    display_name = _string(_get(body, "displayName"), "displayName", max_length=300)
    if display_name and not (first_name and last_name) and " " in display_name:
        given, family = display_name.split(" ", 1)
        first_name, last_name = first_name or given, last_name or family

    active = _get(body, "active")
    manager = _get(enterprise, "manager")
    if isinstance(manager, dict):
        manager = _get(manager, "value")
    manager = _string(manager, f"{ENTERPRISE}:manager", max_length=64) or None
    return UserRecord(
        employee_number=employee_number,
        first_name=first_name,
        last_name=last_name,
        email=_parse_email(_get(body, "emails")),
        active=None if active is None else parse_boolean(active),
        job_title=_string(_get(body, "title"), "title"),
        external_id=_string(_get(body, "externalId"), "externalId"),
        department=_string(_get(enterprise, "department"), "department"),
        organization=_string(_get(enterprise, "organization"), "organization"),
        manager=manager,
    )


def _parse_email(emails):
    """The primary e-mail, else the work one, else the first (OneLogin sends one object)."""
    if emails in (None, "", []):
        return ""
    if isinstance(emails, dict):
        emails = [emails]
    if not isinstance(emails, list) or not all(isinstance(item, dict) for item in emails):
        raise errors.invalid_value(_("« emails » doit être une liste d'objets."))
    ranked = sorted(
        emails,
        key=lambda item: (
            not parse_boolean(_get(item, "primary", False), "emails.primary"),
            str(_get(item, "type", "")).lower() != "work",
        ),
    )
    return _string(_get(ranked[0], "value"), "emails.value", max_length=254)


# --- helpers ------------------------------------------------------------------------------


def client_ip(request):
    if request is None:
        return None
    from cms.net import client_ip as ip_of

    try:
        return str(ipaddress.ip_address(ip_of(request)))
    except ValueError:
        return None


def _scim_error(error):
    """A directory ``ValidationError`` as a SCIM 400/409 naming the attributes."""
    messages, codes = [], set()
    error_dict = error.error_dict if hasattr(error, "error_dict") else {"__all__": error.error_list}
    for field, field_errors in error_dict.items():
        for item in field_errors:
            codes.add(item.code)
            text = " ".join(item.messages) if hasattr(item, "messages") else str(item)
            messages.append(f"{ATTRIBUTE_OF.get(field, field)} : {text}")
    detail = " ; ".join(messages)
    if codes & {"unique", "username_taken"}:
        return errors.uniqueness(detail)
    return errors.invalid_value(detail)


def _snapshot(agent):
    if agent is None:
        return {}
    resource = user_resource(agent)
    enterprise = resource.get(ENTERPRISE, {})
    return {
        "userName": resource["userName"],
        "name.givenName": resource["name"]["givenName"],
        "name.familyName": resource["name"]["familyName"],
        "emails": resource["emails"][0]["value"] if resource["emails"] else "",
        "active": resource["active"],
        "title": resource["title"],
        "externalId": resource.get("externalId", ""),
        "department": enterprise.get("department", ""),
        "manager": (enterprise.get("manager") or {}).get("value", ""),
    }


def _record_event(*, token, request, action, resource_type, resource_id, label, changes, agent=None):
    return ProvisioningEvent.objects.create(
        token=token,
        token_name=getattr(token, "name", "") or "",
        action=action,
        resource_type=resource_type,
        resource_id=str(resource_id)[:32],
        agent=agent,
        label=str(label)[:255],
        changes=changes,
        ip=client_ip(request),
    )


def _check_version(resource, if_match):
    """``If-Match`` (RFC 7644 §3.14): 412 unless it names the current version (or ``*``)."""
    if not if_match:
        return
    candidates = {item.strip() for item in if_match.split(",")}
    current = resource["meta"]["version"]
    if "*" in candidates or current in candidates or current.removeprefix("W/") in candidates:
        return
    raise errors.precondition_failed()


def lock_agent(agent_id):
    try:
        return agent_queryset().select_for_update(of=("self",)).get(pk=agent_id)
    except Agent.DoesNotExist:
        raise errors.not_found(agent_id) from None


def _find_unit(value):
    return OrgUnit.objects.filter(code=value).first() or OrgUnit.objects.filter(name__iexact=value).first()


def _unit_code_for(value):
    """A code for a unit created from a department name (the value itself when it is short)."""
    from django.utils.text import slugify

    max_length = OrgUnit._meta.get_field("code").max_length
    if len(value) <= max_length and " " not in value:
        return value
    base = slugify(value).upper()[: max_length - 4] or "UNITE"
    code, counter = base, 1
    while OrgUnit.objects.filter(code=code).exists():
        counter += 1
        code = f"{base}-{counter}"
    return code


def _resolve_unit(record, agent):
    """The org unit of ``department`` (by code, else by name), created when missing (under
    ``organization``, itself created as a root unit when missing)."""
    if not record.department:
        if agent is not None:
            return agent.org_unit
        code = settings.SCIM_DEFAULT_ORG_UNIT
        if not code:
            raise errors.invalid_value(_("« %(attr)s » est obligatoire.") % {"attr": f"{ENTERPRISE}:department"})
        return OrgUnit.objects.filter(code=code).first() or directory.create_org_unit(
            code=code, name=DEFAULT_UNIT_NAME, kind=OrgUnitKind.SERVICE
        )
    unit = _find_unit(record.department)
    if unit is not None:
        return unit
    parent = None
    if record.organization and record.organization != record.department:
        parent = _find_unit(record.organization) or directory.create_org_unit(
            code=_unit_code_for(record.organization), name=record.organization, kind=OrgUnitKind.DIRECTION
        )
    return directory.create_org_unit(
        code=_unit_code_for(record.department),
        name=record.department,
        kind=OrgUnitKind.SERVICE if parent else OrgUnitKind.DIRECTION,
        parent=parent,
    )


def _resolve_manager(value):
    if not value:
        return None
    pk = parse_id(value)
    manager = Agent.objects.filter(pk=pk).first() if pk is not None else None
    manager = manager or Agent.objects.filter(employee_number__iexact=value).first()
    if manager is None:
        raise errors.invalid_value(
            _("%(attr)s : aucun agent n'a l'identifiant « %(value)s ».")
            % {"attr": f"{ENTERPRISE}:manager", "value": value[:64]}
        )
    return manager


# --- users --------------------------------------------------------------------------------


def _save(*, agent, record, token, request):
    """Create (``agent=None``) or replace an agent from ``record``; returns the saved agent."""
    before = _snapshot(agent)
    creating = agent is None
    try:
        with transaction.atomic():
            unit = _resolve_unit(record, agent)
            manager = _resolve_manager(record.manager)
            active = record.active if record.active is not None else (True if creating else agent.active)
            saved = directory.save_agent(
                agent=agent,
                employee_number=record.employee_number,
                first_name=record.first_name,
                last_name=record.last_name,
                email=record.email,
                org_unit=unit,
                manager=manager,
                job_title=record.job_title,
                category=agent.category if agent else "",
                corps=agent.corps if agent else "",
                grade=agent.grade if agent else "",
                employment_status=agent.employment_status
                if agent
                else Agent._meta.get_field("employment_status").default,
                active=active,
            )
    except ValidationError as error:
        raise _scim_error(error) from None
    except IntegrityError:
        raise errors.uniqueness(_("Un agent porte déjà ce matricule (userName).")) from None
    if record.external_id or not creating:
        ScimLink.objects.update_or_create(agent=saved, defaults={"external_id": record.external_id})
    saved = agent_queryset().get(pk=saved.pk)
    after = _snapshot(saved)
    changes = {
        field: [None, None] if field in SENSITIVE else [before.get(field), value]
        for field, value in after.items()
        if creating or before.get(field) != value
    }
    if creating:
        action = ProvisioningAction.CREATE
    elif before["active"] and not after["active"]:
        action = ProvisioningAction.DEACTIVATE
    elif not before["active"] and after["active"]:
        action = ProvisioningAction.REACTIVATE
    else:
        action = ProvisioningAction.UPDATE
    if changes:
        _record_event(
            token=token, request=request, action=action, resource_type="User", resource_id=saved.pk,
            label=saved.employee_number, changes=changes, agent=saved,
        )  # fmt: skip
        # Newcomers (and agents who moved) get the mandatory courses of their unit, as on import.
        run_import_listeners([saved.pk] if creating else [], [] if creating else [saved.pk])
    return saved


@transaction.atomic
def create_user(*, body, token, request=None):
    """POST /Users: a new agent and its account; 409 ``uniqueness`` if the matricule exists."""
    record = parse_user(body)
    if Agent.objects.filter(employee_number__iexact=record.employee_number).exists() or (
        get_user_model().objects.filter(username__iexact=record.employee_number).exists()
    ):
        raise errors.uniqueness(
            _("Un agent porte déjà le matricule « %(number)s » (userName).") % {"number": record.employee_number}
        )
    return _save(agent=None, record=record, token=token, request=request)


@transaction.atomic
def replace_user(*, agent_id, body, token, request=None, if_match=None):
    """PUT /Users/<id>: the agent as given (attributes left out are cleared, except the unit
    and the HR fields SCIM does not carry)."""
    agent = lock_agent(agent_id)
    _check_version(user_resource(agent), if_match)
    return _save(agent=agent, record=parse_user(body), token=token, request=request)


@transaction.atomic
def patch_user(*, agent_id, operations, token, request=None, if_match=None):
    """PATCH /Users/<id>: the operations applied to the current representation, saved as a PUT."""
    agent = lock_agent(agent_id)
    current = user_resource(agent)
    _check_version(current, if_match)
    patched = apply_operations(current, operations)
    return _save(agent=agent, record=parse_user(patched), token=token, request=request)


@transaction.atomic
def deactivate_user(*, agent_id, token, request=None, if_match=None):
    """DELETE /Users/<id>: the agent is deactivated and locked out, never deleted."""
    agent = lock_agent(agent_id)
    _check_version(user_resource(agent), if_match)
    if not agent.active and not agent.user.is_active:
        return agent
    directory.set_agent_active(agent=agent, active=False)
    _record_event(
        token=token, request=request, action=ProvisioningAction.DEACTIVATE, resource_type="User",
        resource_id=agent.pk, label=agent.employee_number, changes={"active": [True, False]}, agent=agent,
    )  # fmt: skip
    run_import_listeners([], [agent.pk])  # as for an agent deactivated by the CSV import
    return agent


# --- groups (roles) -----------------------------------------------------------------------


def lock_group(group_id):
    pk = parse_id(group_id)
    group = role_queryset().select_for_update().filter(pk=pk).first() if pk is not None else None
    if group is None:
        raise errors.not_found(group_id)
    return group


def _member_ids(resource):
    members = _get(resource, "members") or []
    if not isinstance(members, list):
        raise errors.invalid_value(_("« members » doit être une liste."))
    ids = set()
    for member in members:
        value = _get(member, "value") if isinstance(member, dict) else None
        pk = parse_id(value)
        if pk is None:
            raise errors.invalid_value(
                _("members : identifiant d'utilisateur invalide « %(value)s ».") % {"value": str(value)[:64]}
            )
        ids.add(pk)
    return ids


def _set_members(*, group, resource, token, request):
    name = _get(resource, "displayName")
    if name is not None and str(name).lower() != group.name.lower():
        raise errors.mutability(_("Les rôles de Parcours ne se renomment pas (displayName)."))
    current = {agent.pk: agent for agent in group_members(group)}
    wanted = _member_ids(resource)
    added_ids, removed_ids = wanted - set(current), set(current) - wanted
    added = list(Agent.objects.filter(pk__in=added_ids).only("pk", "user_id", "employee_number"))
    if len(added) != len(added_ids):
        missing = sorted(added_ids - {agent.pk for agent in added})
        raise errors.invalid_value(
            _("members : utilisateur(s) inconnu(s) : %(ids)s.") % {"ids": ", ".join(map(str, missing[:20]))}
        )
    Membership = get_user_model().groups.through
    if added:
        Membership.objects.bulk_create(
            [Membership(user_id=agent.user_id, group_id=group.pk) for agent in added], ignore_conflicts=True
        )
        _record_event(
            token=token, request=request, action=ProvisioningAction.GROUP_ADD, resource_type="Group",
            resource_id=group.pk, label=group.name,
            changes={"members": [None, sorted(agent.employee_number for agent in added)]},
        )  # fmt: skip
    if removed_ids:
        removed = [current[pk] for pk in removed_ids]
        Membership.objects.filter(group_id=group.pk, user_id__in=[agent.user_id for agent in removed]).delete()
        _record_event(
            token=token, request=request, action=ProvisioningAction.GROUP_REMOVE, resource_type="Group",
            resource_id=group.pk, label=group.name,
            changes={"members": [sorted(agent.employee_number for agent in removed), None]},
        )  # fmt: skip
    return group


@transaction.atomic
def replace_group(*, group_id, body, token, request=None, if_match=None):
    """PUT /Groups/<id>: the role's members become exactly the given ones."""
    if not isinstance(body, dict):
        raise errors.invalid_syntax(_("Le corps de la requête doit être un objet JSON."))
    group = lock_group(group_id)
    _check_version(group_resource(group), if_match)
    return _set_members(group=group, resource=body, token=token, request=request)


@transaction.atomic
def patch_group(*, group_id, operations, token, request=None, if_match=None):
    """PATCH /Groups/<id>: ``members`` add / remove / replace."""
    group = lock_group(group_id)
    current = group_resource(group)
    _check_version(current, if_match)
    return _set_members(group=group, resource=apply_operations(current, operations), token=token, request=request)


def existing_role(body):
    """POST /Groups: roles are fixed; the existing one of that name answers 409."""
    name = _get(body, "displayName") if isinstance(body, dict) else None
    group = Group.objects.filter(name__iexact=str(name or "")[:150]).first()
    if group is not None and group.name in role_queryset().values_list("name", flat=True):
        raise errors.uniqueness(_("Le rôle « %(name)s » existe déjà.") % {"name": group.name})
    raise errors.mutability(_("Les rôles de Parcours sont fixes : un groupe ne se crée pas par SCIM."))
