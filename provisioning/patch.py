"""PATCH operations (RFC 7644 §3.5.2) applied to a resource's JSON representation.

django-scim2's adapters handle only simple ``replace`` paths; connectors send more:

- Entra ID: capitalised ops (``"Replace"``), string booleans (``"value": "False"``), no path
  with a dict of attributes, URN-qualified paths
  (``urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department``),
  ``emails[type eq "work"].value``, ``members`` add/remove with a list of ``{"value": id}``;
- Okta: ``members[value eq "12"]`` removals, ``name.givenName`` sub-attributes.

The result is then validated and saved as a whole, as a PUT would be (``provisioning.services``),
so every way of changing a user goes through the same checks.
"""

import copy
import re

from django.utils.translation import gettext as _

from provisioning import errors
from provisioning.representation import CORE_GROUP, CORE_USER, ENTERPRISE

OPS = ("add", "remove", "replace")
MAX_OPERATIONS = 1000
PATH_RE = re.compile(r"^(?P<attr>[A-Za-z$][\w$-]*)(?:\[(?P<filter>[^\[\]]*)\])?(?:\.(?P<sub>[A-Za-z$][\w$-]*))?$")
CONDITION_RE = re.compile(
    r'^\s*(?P<attr>[A-Za-z][\w-]*)\s+eq\s+(?:"(?P<string>(?:[^"\\]|\\.)*)"|(?P<bare>true|false|\d+))\s*$', re.I
)


def _key(container, name):
    """The key of ``container`` matching ``name`` case-insensitively (attribute names are
    case-insensitive), else ``name``."""
    lowered = name.lower()
    for key in container:
        if key.lower() == lowered:
            return key
    return name


def _split_urn(path):
    """``(schema URN or None, rest)``; a path that is a schema URN alone gives ``(urn, "")``."""
    for urn in (ENTERPRISE, CORE_USER, CORE_GROUP):
        if path.lower() == urn.lower():
            return urn, ""
        if path.lower().startswith(urn.lower() + ":"):
            return urn, path[len(urn) + 1 :]
    if path.lower().startswith("urn:"):
        raise errors.invalid_path(_("Schéma inconnu dans le chemin « %(path)s ».") % {"path": path[:200]})
    return None, path


def _conditions(text, path):
    conditions = []
    for part in re.split(r"\s+and\s+", text, flags=re.I):
        match = CONDITION_RE.match(part)
        if not match:
            raise errors.invalid_filter(
                _("Filtre de chemin non pris en charge : « %(path)s » (seul « attribut eq valeur » l'est).")
                % {"path": path[:200]}
            )
        value = match.group("string") if match.group("string") is not None else match.group("bare")
        conditions.append((match.group("attr"), value))
    return conditions


def _matches(item, conditions):
    if not isinstance(item, dict):
        return False
    for attr, expected in conditions:
        actual = item.get(_key(item, attr))
        if str(actual).lower() != str(expected).lower():
            return False
    return True


def apply_operations(resource, operations):
    """A copy of ``resource`` with ``operations`` applied; ``ScimError`` (400) when an
    operation cannot be understood. Nothing is saved here."""
    if not isinstance(operations, list) or not operations:
        raise errors.invalid_syntax(_("« Operations » doit être une liste non vide."))
    if len(operations) > MAX_OPERATIONS:
        raise errors.invalid_syntax(_("Trop d'opérations dans une requête."))
    resource = copy.deepcopy(resource)
    for operation in operations:
        if not isinstance(operation, dict):
            raise errors.invalid_syntax(_("Chaque opération doit être un objet."))
        op = operation.get(_key(operation, "op"))
        if not isinstance(op, str) or op.lower() not in OPS:
            raise errors.invalid_syntax(_("« op » doit valoir add, remove ou replace."))
        op = op.lower()
        path = operation.get(_key(operation, "path"))
        value = operation.get(_key(operation, "value"))
        if path in (None, ""):
            if op == "remove":
                raise errors.ScimError(_("« path » est obligatoire pour « remove »."), scim_type="noTarget")
            if not isinstance(value, dict):
                raise errors.invalid_syntax(_("Sans « path », « value » doit être un objet."))
            for key, item in value.items():
                _apply_path(resource, op, str(key), item)
        elif isinstance(path, str) and len(path) <= 500:
            _apply_path(resource, op, path, value)
        else:
            raise errors.invalid_path(_("« path » invalide."))
    return resource


def _apply_path(resource, op, path, value):
    urn, rest = _split_urn(path.strip())
    container = resource
    if urn == ENTERPRISE:
        container = resource.setdefault(ENTERPRISE, {})
        if not isinstance(container, dict):
            container = resource[ENTERPRISE] = {}
    if not rest:  # the extension as a whole
        if op == "remove":
            resource.pop(ENTERPRISE, None)
        elif isinstance(value, dict):
            for key, item in value.items():
                _apply_path(container if urn == ENTERPRISE else resource, op, str(key), item)
        else:
            raise errors.invalid_value(_("La valeur d'un schéma doit être un objet."))
        return
    match = PATH_RE.match(rest)
    if not match:
        raise errors.invalid_path(_("Chemin invalide : « %(path)s ».") % {"path": path[:200]})
    attr = _key(container, match.group("attr"))
    sub, filter_text = match.group("sub"), match.group("filter")

    if filter_text is not None:
        conditions = _conditions(filter_text, path)
        items = container.get(attr)
        items = items if isinstance(items, list) else []
        matching = [item for item in items if _matches(item, conditions)]
        if op == "remove":
            if sub:
                for item in matching:
                    item.pop(_key(item, sub), None)
            else:
                container[attr] = [item for item in items if not _matches(item, conditions)]
            return
        if not matching:  # add/replace on a value that does not exist yet: create it
            item = {name: value_ for name, value_ in conditions if name.lower() != "value"}
            items.append(item)
            matching = [item]
        for item in matching:
            if sub:
                item[_key(item, sub)] = value
            elif isinstance(value, dict):
                item.update(value)
        container[attr] = items
        return

    if sub:
        parent = container.get(attr)
        if not isinstance(parent, dict):
            parent = container[attr] = {}
        if op == "remove":
            parent.pop(_key(parent, sub), None)
        else:
            parent[_key(parent, sub)] = value
        return

    current = container.get(attr)
    if op == "remove":
        if isinstance(current, list) and isinstance(value, list):  # Entra: remove these members
            values = {str(item.get(_key(item, "value"))) for item in value if isinstance(item, dict)}
            container[attr] = [
                item for item in current if not (isinstance(item, dict) and str(item.get("value")) in values)
            ]
        else:
            container.pop(attr, None)
    elif op == "add" and isinstance(current, list):
        additions = value if isinstance(value, list) else [value]
        known = {str(item.get("value")) for item in current if isinstance(item, dict)}
        for item in additions:
            if not (isinstance(item, dict) and str(item.get(_key(item, "value"))) in known):
                current.append(item)
    elif op == "add" and isinstance(current, dict) and isinstance(value, dict):
        current.update(value)
    else:
        container[attr] = value
