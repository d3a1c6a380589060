"""Every write of the cms app goes through a function here."""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from wagtail.log_actions import log as log_action
from wagtail.models import Page, Site

from cms import roles
from cms.choices import EmploymentStatus
from cms.models import Agent, ApiToken, HomePage, OrgUnit
from cms.selectors import has_role, reports_subquery
from cms.text import strip_invisible


@transaction.atomic
def ensure_home_page(*, title=None, intro=None):
    """Make sure the default site's root is a published HomePage (idempotent).

    Wagtail's initial migration creates a plain "Welcome" page; it is replaced by a
    HomePage the first time, through ``save_revision().publish()``.
    """
    home = HomePage.objects.first()
    if home is None:
        root = Page.get_first_root_node()
        home = HomePage(
            title=title or _("Parcours"),
            slug="accueil",
            intro=intro
            or _("La plateforme des agents : formations, entretien professionnel annuel et offres d'emploi."),
        )
        root.add_child(instance=home)
        home.save_revision().publish()
    site = Site.objects.filter(is_default_site=True).first()
    if site is None:
        Site.objects.create(hostname="localhost", port=80, root_page=home, is_default_site=True, site_name="Parcours")
    elif site.root_page_id != home.pk:
        old_root = site.root_page
        site.root_page = home
        site.site_name = site.site_name or "Parcours"
        site.save()
        if old_root.specific_class is Page and old_root.depth == 2 and not old_root.get_children().exists():
            old_root.delete()  # Wagtail's placeholder "Welcome to your new Wagtail site!"
    return home


def align_site_with_base_url(base_url):
    """Set the default Wagtail Site's hostname and port from the public base URL
    (``WAGTAILADMIN_BASE_URL``), so that every absolute URL Wagtail builds (pages'
    ``full_url``, e-mails, feeds, the API) follows the address the site is served at.
    Returns the site, or None when the URL has no host or there is no default site."""
    from urllib.parse import urlsplit

    parts = urlsplit(base_url or "")
    site = Site.objects.filter(is_default_site=True).first()
    if site is None or not parts.hostname:
        return None
    port = parts.port or (443 if parts.scheme == "https" else 80)
    if (site.hostname, site.port) != (parts.hostname, port):
        site.hostname, site.port = parts.hostname, port
        site.save(update_fields=["hostname", "port"])
    return site


# --- Organisation directory -------------------------------------------------------------
#
# The Wagtail admin ("Annuaire"), imports and seeds all write the directory through these
# functions. ``actor`` is the user acting (None for system jobs): when given, their model
# permission is checked and the change is recorded in Wagtail's history under their name.
# Bad input raises ``ValidationError`` keyed by field name, and nothing is written.

ORG_UNIT_TREE_FIELDS = ["path", "depth", "numchild"]


def _check_permission(actor, codename):
    if actor is not None and not actor.has_perm(codename):
        raise PermissionDenied


def _field_errors(instance, *, exclude):
    """``full_clean`` errors of ``instance`` as ``{field: [ValidationError, ...]}``."""
    try:
        instance.full_clean(exclude=exclude)
    except ValidationError as error:
        return dict(error.error_dict)
    return {}


def _raise_if_errors(*error_dicts):
    errors = {}
    for error_dict in error_dicts:
        for field, field_errors in error_dict.items():
            if not isinstance(field_errors, list):
                field_errors = [field_errors]
            errors.setdefault(field, []).extend(field_errors)
    if errors:
        raise ValidationError(errors)


def _parent_path(path):
    return path[: -OrgUnit.steplen]


@transaction.atomic
def create_org_unit(*, code, name, kind, parent=None, actor=None):
    """Create a unit at the root of the org chart, or under ``parent`` (sorted by code)."""
    _check_permission(actor, "cms.add_orgunit")
    unit = OrgUnit(code=(code or "").strip(), name=strip_invisible(name or ""), kind=kind)
    _raise_if_errors(_field_errors(unit, exclude=ORG_UNIT_TREE_FIELDS))
    if parent is None:
        unit = OrgUnit.add_root(instance=unit)
    else:
        # Fresh, locked parent: treebeard computes the new path from its numchild.
        parent = OrgUnit.objects.select_for_update().get(pk=parent.pk)
        unit = parent.add_child(instance=unit)
    log_action(unit, "wagtail.create", user=actor)
    return unit


def validate_org_unit_parent(org_unit, parent):
    """Errors (``{"parent": [...]}``) if ``org_unit`` cannot be moved under ``parent``."""
    if parent is None or org_unit is None or org_unit.pk is None:
        return {}
    if parent.pk == org_unit.pk:
        return {"parent": [ValidationError(_("Une unité ne peut pas être rattachée à elle-même."), code="self")]}
    if parent.path.startswith(org_unit.path):
        return {
            "parent": [
                ValidationError(
                    _(
                        "« %(parent)s » est une sous-unité de « %(unit)s » : une unité ne peut pas être "
                        "rattachée à l'une de ses propres sous-unités."
                    ),
                    code="descendant",
                    params={"parent": parent, "unit": org_unit},
                )
            ]
        }
    return {}


@transaction.atomic
def update_org_unit(*, org_unit, code, name, kind, parent, actor=None):
    """Rename / recode a unit and, when ``parent`` changes, move it with its whole subtree.

    ``parent=None`` makes it a root unit. A unit cannot be moved under itself or under one
    of its own sub-units (the error names the ``parent`` field).
    """
    _check_permission(actor, "cms.change_orgunit")
    unit = OrgUnit.objects.select_for_update().get(pk=org_unit.pk)
    old_code = unit.code
    if parent is not None:
        parent = OrgUnit.objects.select_for_update().get(pk=parent.pk)
    errors = validate_org_unit_parent(unit, parent)
    unit.code, unit.name, unit.kind = (code or "").strip(), strip_invisible(name or ""), kind
    _raise_if_errors(errors, _field_errors(unit, exclude=ORG_UNIT_TREE_FIELDS))
    unit.save(update_fields=["code", "name", "kind"])

    new_parent_path = parent.path if parent is not None else ""
    if new_parent_path != _parent_path(unit.path) or unit.code != old_code:
        # Siblings are kept sorted by code (OrgUnit.node_order_by), hence the "sorted" positions.
        if parent is None:
            unit.move(OrgUnit.get_first_root_node(), "sorted-sibling")
        else:
            unit.move(parent, "sorted-child")
        unit.refresh_from_db()
    log_action(unit, "wagtail.edit", user=actor)
    return unit


def validate_manager(agent, manager):
    """Errors (``{"manager": [...]}``) if ``manager`` cannot be the N+1 of ``agent``.

    An agent cannot be their own manager, nor be managed by someone below them in the
    manager chain (walking up from the proposed manager must never reach the agent): one
    recursive query, whatever the depth.
    """
    if manager is None or agent is None or agent.pk is None:
        return {}
    if manager.pk == agent.pk:
        return {"manager": [ValidationError(_("Un agent ne peut pas être son propre responsable."), code="self")]}
    if Agent.objects.filter(pk=manager.pk, id__in=reports_subquery(agent.pk)).exists():
        return {
            "manager": [
                ValidationError(
                    _(
                        "%(manager)s est déjà sous la responsabilité de %(agent)s (directement ou non) : "
                        "la chaîne hiérarchique formerait une boucle."
                    ),
                    code="cycle",
                    params={"manager": manager.full_name, "agent": agent.full_name},
                )
            ]
        }
    return {}


@transaction.atomic
def save_agent(
    *,
    agent=None,
    employee_number,
    first_name,
    last_name,
    email="",
    org_unit,
    manager=None,
    job_title="",
    category="",
    corps="",
    grade="",
    employment_status=EmploymentStatus.TITULAIRE,
    active=True,
    actor=None,
):
    """Create (``agent=None``) or update an agent profile together with its user account.

    On creation the account's username is the employee number in lower case and it gets an
    unusable password (agents sign in through the identity provider or a reset link). On
    update the username is left alone. Agents are never deleted: set ``active=False``.
    """
    creating = agent is None
    _check_permission(actor, "cms.add_agent" if creating else "cms.change_agent")
    User = get_user_model()
    employee_number = (employee_number or "").strip()
    errors = {}
    if creating:
        username = employee_number.lower()
        user = User(username=username)
        user.set_unusable_password()
        agent = Agent()
        if username:
            try:
                User._meta.get_field(User.USERNAME_FIELD).run_validators(username)
            except ValidationError:
                errors["employee_number"] = [
                    ValidationError(
                        _("Le matricule sert d'identifiant de connexion : lettres, chiffres et @ . + - _ uniquement."),
                        code="invalid_username",
                    )
                ]
            else:
                if User.objects.filter(username__iexact=username).exists():
                    errors["employee_number"] = [
                        ValidationError(
                            _("Un compte utilisateur « %(username)s » existe déjà."),
                            code="username_taken",
                            params={"username": username},
                        )
                    ]
    else:
        agent = Agent.objects.select_for_update().select_related("user").get(pk=agent.pk)
        user = agent.user
    was_active = None if creating else agent.active

    # Bidi controls and zero-width characters could make a name display as another one.
    user.first_name = strip_invisible(first_name or "")
    user.last_name = strip_invisible(last_name or "")
    user.email = (email or "").strip()
    agent.employee_number = employee_number
    agent.org_unit = org_unit
    agent.manager = manager
    agent.job_title = strip_invisible(job_title or "")
    agent.category = category or ""
    agent.corps = (corps or "").strip()
    agent.grade = (grade or "").strip()
    agent.employment_status = employment_status
    agent.active = bool(active)

    for name, label in (("last_name", _("Le nom est obligatoire.")), ("first_name", _("Le prénom est obligatoire."))):
        if not getattr(user, name):
            errors.setdefault(name, []).append(ValidationError(label, code="required"))
    manager_errors = validate_manager(agent, manager)
    _raise_if_errors(
        errors,
        _field_errors(user, exclude=["username", "password"]),
        # The manager errors say more than the "agent_not_own_manager" constraint would.
        _field_errors(agent, exclude=["user", "manager"] if manager_errors else ["user"]),
        manager_errors,
    )

    if creating or was_active != agent.active:
        user.is_active = agent.active  # an inactive agent's account cannot sign in by any path
    user.save()
    agent.user = user
    agent.save()
    if was_active and not agent.active:
        lock_out_accounts([user.pk])
    log_action(agent, "wagtail.create" if creating else "wagtail.edit", user=actor)
    return agent


# --- Deactivation: an inactive agent is locked out -----------------------------------------
#
# An agent becomes inactive through ``save_agent`` (the admin, SCIM), ``set_agent_active``
# (SCIM ``DELETE``) or the CSV import (``apply_agent_activation``, in bulk). Each path ends
# here: the account is disabled (``User.is_active``: password, OpenID Connect, API tokens and
# sessions all refuse it), its sessions and API tokens are deleted, and the LRS clients scoped
# to the agent are revoked. Reactivation enables the account again: the agent, its history
# and its records were never touched.


def lock_out_accounts(user_ids):
    """Disable the accounts ``user_ids`` and revoke their credentials, in a constant number
    of queries per batch of 500 accounts: ``is_active`` false, sessions ended and API tokens
    deleted (``identity.sessions.revoke_credentials``), LRS clients scoped to them revoked."""
    from django.apps import apps

    User = get_user_model()
    user_ids = list(user_ids)
    for start in range(0, len(user_ids), 500):
        chunk = user_ids[start : start + 500]
        User.objects.filter(pk__in=chunk, is_active=True).update(is_active=False)
        if apps.is_installed("identity"):
            from identity.sessions import revoke_credentials

            revoke_credentials(chunk)
        if apps.is_installed("xapi"):
            _revoke_scoped_lrs_clients(chunk)


def _revoke_scoped_lrs_clients(user_ids):
    """Deactivate the LRS clients whose scope is one of these users (their xAPI account, or
    their e-mail address as ``mbox``): two reads and one update."""
    from xapi.identity import account_agent
    from xapi.models import AgentIdentity, LRSClient
    from xapi.validation import agent_key

    User = get_user_model()
    keys = {
        agent_key(account_agent(name))
        for name in AgentIdentity.objects.filter(user_id__in=user_ids).values_list("account_name", flat=True)
    }
    keys |= {
        agent_key({"objectType": "Agent", "mbox": f"mailto:{email}"})
        for email in User.objects.filter(pk__in=user_ids).exclude(email="").values_list("email", flat=True)
    }
    keys.discard(None)
    if keys:
        LRSClient.objects.filter(scope_key__in=keys, is_active=True).update(is_active=False)


def restore_accounts(user_ids):
    """Enable the accounts ``user_ids`` again (reactivated agents), one update per batch."""
    User = get_user_model()
    user_ids = list(user_ids)
    for start in range(0, len(user_ids), 500):
        User.objects.filter(pk__in=user_ids[start : start + 500], is_active=False).update(is_active=True)


def apply_agent_activation(*, deactivated_agent_ids=(), reactivated_agent_ids=()):
    """The account side of agents whose ``active`` flag was just changed in bulk (the CSV
    import): the deactivated ones are locked out, the reactivated ones enabled again."""
    for ids, apply in ((deactivated_agent_ids, lock_out_accounts), (reactivated_agent_ids, restore_accounts)):
        ids = list(ids)
        user_ids = []
        for start in range(0, len(ids), 500):
            user_ids += Agent.objects.filter(pk__in=ids[start : start + 500]).values_list("user_id", flat=True)
        if user_ids:
            apply(user_ids)


@transaction.atomic
def set_agent_active(*, agent, active, actor=None):
    """Deactivate (``active=False``) or reactivate an agent, nothing else changing: the
    account follows (see ``lock_out_accounts``). Agents are never deleted. Returns the agent."""
    _check_permission(actor, "cms.change_agent")
    agent = Agent.objects.select_for_update().select_related("user").get(pk=agent.pk)
    active = bool(active)
    if agent.active == active and agent.user.is_active == active:
        return agent
    agent.active = active
    agent.save(update_fields=["active", "updated_at"])
    if active:
        restore_accounts([agent.user_id])
    else:
        lock_out_accounts([agent.user_id])
    agent.user.is_active = active
    log_action(agent, "wagtail.edit", user=actor)
    return agent


# --- API tokens (django-rest-knox) ------------------------------------------------------
#
# knox stores a SHA-512 digest of the key and its first characters, never the key: the key
# is returned once, by ``create_api_token``, and cannot be shown again.


def can_manage_api_tokens(user):
    """HR and superusers list and revoke API tokens."""
    return bool(user and user.is_active and has_role(user, roles.HR))


@transaction.atomic
def create_api_token(*, user, name, days=None):
    """Create a token for ``user`` valid ``days`` days (``API_TOKEN_DAYS`` by default).

    Returns ``(api_token, key)``: ``key`` is what the client sends and exists nowhere else.
    """
    from knox.models import get_token_model

    name = strip_invisible(name or "")
    days = settings.API_TOKEN_DAYS if days is None else days
    errors = {}
    if not name:
        errors["name"] = [ValidationError(_("Le nom du jeton est obligatoire."), code="required")]
    elif len(name) > ApiToken._meta.get_field("name").max_length:
        errors["name"] = [
            ValidationError(
                _("Le nom du jeton ne doit pas dépasser %(max)s caractères."),
                code="max_length",
                params={"max": ApiToken._meta.get_field("name").max_length},
            )
        ]
    if not isinstance(days, int) or not 1 <= days <= settings.API_TOKEN_MAX_DAYS:
        errors["days"] = [
            ValidationError(
                _("La durée de validité doit être comprise entre 1 et %(max)s jours."),
                code="invalid_days",
                params={"max": settings.API_TOKEN_MAX_DAYS},
            )
        ]
    if not user.is_active:
        errors["user"] = [ValidationError(_("Ce compte est désactivé."), code="inactive")]
    _raise_if_errors(errors)
    token, key = get_token_model().objects.create(user=user, expiry=timedelta(days=days))
    api_token = ApiToken.objects.create(token=token, name=name)
    log_action(api_token, "wagtail.create", user=None)
    return api_token, key


@transaction.atomic
def revoke_api_token(*, api_token, actor=None):
    """Delete the knox token (and so its ``ApiToken``): the key stops working at once.

    ``actor`` (None for system jobs) must be HR or a superuser; the revocation is recorded
    in Wagtail's history under their name.
    """
    if actor is not None and not can_manage_api_tokens(actor):
        raise PermissionDenied
    api_token = ApiToken.objects.select_for_update().select_related("token").get(pk=api_token.pk)
    log_action(api_token, "wagtail.delete", user=actor)
    api_token.token.delete()
