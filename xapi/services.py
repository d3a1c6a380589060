"""Every write of the LRS: statements (append-only, voiding), attachments, canonical activity
definitions, documents, and LRS client credentials.

``store_statements`` is the one entry point for statements, from the HTTP layer and from
Python (Parcours' own courses): ``store_statements([...], client=None)`` records them with
Parcours as the authority. ``statements_stored`` (xapi.signals) is sent on commit.
"""

import hashlib
import json
import secrets
import uuid

from django.contrib.auth.hashers import make_password
from django.db import IntegrityError, transaction
from django.utils import timezone

from xapi import cmi5, signing, validation
from xapi.auth import principal_for_client
from xapi.errors import XAPIBadRequest, XAPIConflict, XAPIForbidden, XAPIPreconditionFailed
from xapi.models import (
    Activity,
    LRSClient,
    Statement,
    StatementActivity,
    StatementAgent,
    StatementAttachment,
)
from xapi.signals import statements_stored
from xapi.validation import agent_key, digest, ifi_string

HASHES = {56: hashlib.sha224, 64: hashlib.sha256, 96: hashlib.sha384, 128: hashlib.sha512}


def sha2_matches(sha2, content):
    algorithm = HASHES.get(len(sha2))
    return algorithm is not None and algorithm(content).hexdigest() == sha2.lower()


# --- statements ------------------------------------------------------------------------------


def _agents_of(value, direct, out):
    """Add the keys of an Agent/Group and of its members to ``out``."""
    if not isinstance(value, dict):
        return
    if key := agent_key(value):
        out[key] = out.get(key, False) or direct
    for member in value.get("member", []) or []:
        if key := agent_key(member):
            out[key] = out.get(key, False) or direct


def _context_activities(context):
    for items in (context or {}).get("contextActivities", {}).values():
        yield from (items if isinstance(items, list) else [items])


def index_rows(data):
    """(agent keys, activity keys), each ``{key: direct}``, that the filters match a statement by."""
    agents, activities = {}, {}
    _agents_of(data["actor"], True, agents)
    obj = data["object"]
    kind = obj.get("objectType", "Activity")
    if kind in ("Agent", "Group"):
        _agents_of(obj, True, agents)
    elif kind == "Activity":
        activities[digest(obj["id"])] = True
    _agents_of(data.get("authority"), False, agents)
    for body in (data, obj if kind == "SubStatement" else None):
        if body is None:
            continue
        context = body.get("context") or {}
        _agents_of(context.get("instructor"), False, agents)
        _agents_of(context.get("team"), False, agents)
        for item in _context_activities(context):
            key = digest(item["id"])
            activities[key] = activities.get(key, False)
    if kind == "SubStatement":
        _agents_of(obj["actor"], False, agents)
        sub_object = obj["object"]
        sub_kind = sub_object.get("objectType", "Activity")
        if sub_kind in ("Agent", "Group"):
            _agents_of(sub_object, False, agents)
        elif sub_kind == "Activity":
            key = digest(sub_object["id"])
            activities[key] = activities.get(key, False)
    return agents, activities


def defined_activities(data):
    """Every Activity object of a statement (object, context activities, SubStatement parts)."""
    found = []
    obj = data["object"]
    for body in (data, obj if obj.get("objectType") == "SubStatement" else None):
        if body is None:
            continue
        target = body["object"]
        if target.get("objectType", "Activity") == "Activity":
            found.append(target)
        found.extend(_context_activities(body.get("context")))
    return found


def merge_definition(current, incoming):
    """Canonical definition: language maps merged entry by entry, other properties replaced."""
    merged = dict(current)
    for key, value in incoming.items():
        if key in ("name", "description") and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        elif key == "extensions" and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    return merged


def _update_activities(statements):
    incoming = {}
    for data in statements:
        for item in defined_activities(data):
            definition = item.get("definition")
            if not definition:
                continue
            key = digest(item["id"])
            entry = incoming.setdefault(key, [item["id"], {}])
            entry[1] = merge_definition(entry[1], definition)
    if not incoming:
        return
    existing = {a.key: a for a in Activity.objects.filter(key__in=incoming)}
    changed, created = [], []
    for key, (activity_id, definition) in incoming.items():
        if key in existing:
            row = existing[key]
            merged = merge_definition(row.definition, definition)
            if merged != row.definition:
                row.definition = merged
                changed.append(row)
        else:
            created.append(Activity(key=key, activity_id=activity_id, definition=definition))
    if created:
        Activity.objects.bulk_create(created, ignore_conflicts=True)
    if changed:
        Activity.objects.bulk_update(changed, ["definition", "updated"])


def _check_attachments(statements, parts, paths):
    """Every attachment without fileUrl has its raw data among ``parts``; every part is used."""
    used = set()
    for data, path in zip(statements, paths, strict=True):
        for index, attachment in enumerate(data.get("attachments", [])):
            sha2 = attachment["sha2"].lower()
            if sha2 in parts:
                used.add(sha2)
            elif "fileUrl" not in attachment:
                raise XAPIBadRequest(
                    f"{path}.attachments[{index}].sha2: no attachment part carries this hash and no fileUrl is given"
                )
            if attachment["usageType"] == validation.SIGNATURE_USAGE:
                if sha2 not in parts:
                    raise XAPIBadRequest(f"{path}.attachments[{index}]: a signature must be sent as an attachment part")
                if attachment["contentType"].split(";")[0].strip() != "application/octet-stream":
                    raise XAPIBadRequest(
                        f"{path}.attachments[{index}].contentType: a signature's content type is application/octet-stream"
                    )
                signing.verify(data, parts[sha2][1], f"{path}.attachments[{index}]")
    unused = set(parts) - used
    if unused:
        raise XAPIBadRequest(f"attachment part {sorted(unused)[0]}: matches no attachment of the statements")


def _prepare(principal, raw, path, stored, stored_text):
    validation.statement(raw, path)
    if principal.scope_key and agent_key(raw["actor"]) != principal.scope_key:
        raise XAPIForbidden(f"{path}.actor: these credentials may only record statements of their own agent")
    if "id" not in raw:
        raw = {**raw, "id": validation.new_statement_id()}
    content_hash = hashlib.sha256(validation.canonical_json(validation.comparable(raw)).encode()).hexdigest()
    data = validation.normalise(raw)
    data["stored"] = stored_text
    if not ("authority" in data and principal.trusted_authority):
        data["authority"] = principal.authority
    data.setdefault("version", "1.0.0")
    data.setdefault("timestamp", stored_text)
    obj = data["object"]
    kind = obj.get("objectType", "Activity")
    registration = data.get("context", {}).get("registration")
    return Statement(
        statement_id=uuid.UUID(data["id"]),
        data=data,
        content_hash=content_hash,
        stored=stored,
        timestamp=validation.parse_timestamp(data["timestamp"]),
        actor_ifi=ifi_string(data["actor"]) or "",
        actor_key=agent_key(data["actor"]) or "",
        verb_id=data["verb"]["id"],
        verb_key=digest(data["verb"]["id"]),
        object_type=kind,
        object_activity_key=digest(obj["id"]) if kind == "Activity" else "",
        object_agent_key=(agent_key(obj) or "") if kind in ("Agent", "Group") else "",
        object_statement_id=uuid.UUID(obj["id"]) if kind == "StatementRef" else None,
        registration=uuid.UUID(registration) if registration else None,
        is_voiding=data["verb"]["id"] == validation.VOIDED_VERB,
        authority_client=principal.client,
    )


def store_statements(statements, *, client, attachments=None, single=False):
    """Validate and store ``statements`` (a list of dicts); return their ids in order.

    ``client``: the ``LRSClient`` (or an ``xapi.auth.Principal``; ``None`` for Parcours itself).
    ``attachments``: ``{sha2: (content_type, bytes)}``, the raw parts of a multipart request.
    Raises ``XAPIError`` subclasses (400 invalid, 403 not allowed, 409 conflicting id) and then
    stores nothing. A statement whose id is already stored with the same content is not stored
    again (its id is still returned).
    """
    principal = principal_for_client(client)
    principal.may_write()
    if not isinstance(statements, list):
        raise XAPIBadRequest("statements: must be a statement or an array of statements")
    parts = {sha2.lower(): value for sha2, value in (attachments or {}).items()}
    for sha2, (_content_type, content) in parts.items():
        if not sha2_matches(sha2, content):
            raise XAPIBadRequest(f"attachment part {sha2}: X-Experience-API-Hash does not match the SHA-2 of its data")
    paths = ["statement" if single else f"statements[{i}]" for i in range(len(statements))]
    stored = validation.truncate_to_ms(timezone.now())
    stored_text = validation.format_timestamp(stored)
    rows = [_prepare(principal, raw, path, stored, stored_text) for raw, path in zip(statements, paths, strict=True)]
    seen = set()
    for row, path in zip(rows, paths, strict=True):
        if row.statement_id in seen:
            raise XAPIBadRequest(f"{path}.id: the batch contains two statements with the id {row.statement_id}")
        seen.add(row.statement_id)
    _check_attachments([row.data for row in rows], parts, paths)
    try:
        with transaction.atomic():
            ids = _store(principal, rows, paths, parts)
    except IntegrityError:
        raise XAPIConflict("a statement with one of these ids was stored concurrently") from None
    return ids


def _store(principal, rows, paths, parts):
    existing = dict(
        Statement.objects.filter(statement_id__in=[r.statement_id for r in rows]).values_list(
            "statement_id", "content_hash"
        )
    )
    new_rows = []
    for row, path in zip(rows, paths, strict=True):
        if row.statement_id in existing:
            if existing[row.statement_id] != row.content_hash:
                raise XAPIConflict(f"{path}.id: a different statement with the id {row.statement_id} is already stored")
        else:
            new_rows.append((row, path))
    batch_ids = {row.statement_id: row for row, _path in new_rows}
    targets = {row.object_statement_id: path for row, path in new_rows if row.is_voiding}
    if targets:
        found = Statement.objects.filter(statement_id__in=targets).values_list("statement_id", "is_voiding", "actor_key")
        stored_targets = {sid: (voiding, actor) for sid, voiding, actor in found}
        for target, path in targets.items():
            voiding, actor = stored_targets.get(target, (None, None))
            if target in batch_ids:
                voiding, actor = batch_ids[target].is_voiding, batch_ids[target].actor_key
            if voiding:
                raise XAPIBadRequest(f"{path}.object: a voiding statement cannot be voided")
            if principal.scope_key and actor is not None and actor != principal.scope_key:
                raise XAPIForbidden(f"{path}.object: these credentials may only void their own agent's statements")
    already_voided = set(
        Statement.objects.filter(is_voiding=True, object_statement_id__in=list(batch_ids)).values_list(
            "object_statement_id", flat=True
        )
    )
    for row, _path in new_rows:
        row.voided = row.statement_id in already_voided or row.statement_id in targets
    if new_rows:  # cmi5 session rules (403), before anything is written
        cmi5.check_statements(principal, [row for row, _path in new_rows], [path for _row, path in new_rows])
    created = Statement.objects.bulk_create([row for row, _path in new_rows])
    agent_rows, activity_rows = [], []
    for row in created:
        agents, activities = index_rows(row.data)
        agent_rows += [StatementAgent(statement=row, agent_key=k, direct=d) for k, d in agents.items()]
        activity_rows += [StatementActivity(statement=row, activity_key=k, direct=d) for k, d in activities.items()]
    StatementAgent.objects.bulk_create(agent_rows, batch_size=1000)
    StatementActivity.objects.bulk_create(activity_rows, batch_size=1000)
    if targets:
        Statement.objects.filter(statement_id__in=list(targets), is_voiding=False, voided=False).update(voided=True)
    _update_activities([row.data for row in created])
    if parts:
        known = set(StatementAttachment.objects.filter(sha2__in=list(parts)).values_list("sha2", flat=True))
        StatementAttachment.objects.bulk_create(
            [
                StatementAttachment(sha2=sha2, content_type=content_type, length=len(content), content=content)
                for sha2, (content_type, content) in parts.items()
                if sha2 not in known
            ],
            ignore_conflicts=True,
        )
    ids = [row.data["id"] for row in rows]
    client = principal.client
    created_ids = [str(row.statement_id) for row in created]
    if created_ids:
        transaction.on_commit(
            lambda: statements_stored.send(sender=Statement, statement_ids=created_ids, client=client)
        )
    return ids


# --- documents ---------------------------------------------------------------------------------


def etag_of(content):
    return hashlib.sha1(content).hexdigest()  # noqa: S324 - the ETag the specification prescribes


def _etags(header):
    return {item.strip().removeprefix("W/").strip('"') for item in header.split(",") if item.strip()}


def check_preconditions(document, *, if_match, if_none_match, method, require_header):
    """HTTP preconditions on a document (Part Three 3.1): 412 when one fails; 409 when a PUT to
    an existing profile document carries neither header."""
    if if_match is not None:
        tags = _etags(if_match)
        if document is None or ("*" not in tags and document.etag not in tags):
            raise XAPIPreconditionFailed("If-Match does not match the current ETag of the document")
    if if_none_match is not None:
        tags = _etags(if_none_match)
        if document is not None and ("*" in tags or document.etag in tags):
            raise XAPIPreconditionFailed("If-None-Match: the document already exists")
    if require_header and method == "PUT" and document is not None and if_match is None and if_none_match is None:
        raise XAPIConflict(
            "the document already exists: check its current state (GET) and send If-Match with its ETag "
            "(or If-None-Match: * to create only)"
        )


def _is_json(content_type):
    return content_type.split(";")[0].strip().lower() == "application/json"


def _json_object(content, what):
    try:
        value = json.loads(bytes(content).decode("utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError):
        value = None
    if not isinstance(value, dict):
        raise XAPIBadRequest(f"{what}: must be a JSON object to be merged")
    return value


def write_document(resource, ident, *, principal, method, content, content_type, if_match=None, if_none_match=None):
    """PUT (replace) or POST (merge JSON objects, Part Three 2.2.7) one document."""
    principal.may_write()
    resource.check_scope(principal, ident, write=True)
    cmi5.check_document_write(principal, resource, ident)
    now = timezone.now()
    with transaction.atomic():
        document = resource.queryset(ident).select_for_update().first()
        check_preconditions(document, if_match=if_match, if_none_match=if_none_match, method=method,
                            require_header=resource.requires_concurrency)  # fmt: skip
        if method == "POST" and document is not None:
            if not _is_json(content_type) or not _is_json(document.content_type):
                raise XAPIBadRequest("a POST merges JSON objects: both documents must have Content-Type application/json")
            merged = _json_object(document.content, "the stored document")
            merged.update(_json_object(content, "the posted document"))
            content = json.dumps(merged, ensure_ascii=False).encode("utf-8")
            content_type = "application/json"
        elif method == "POST" and _is_json(content_type):
            _json_object(content, "the posted document")
        content = bytes(content)
        if document is None:
            try:
                with transaction.atomic():
                    resource.model.objects.create(
                        **resource.fields(ident), content=content, content_type=content_type,
                        etag=etag_of(content), updated=now,
                    )  # fmt: skip
            except IntegrityError:
                raise XAPIConflict("the document was created concurrently: fetch it and retry with If-Match") from None
        else:
            resource.model.objects.filter(pk=document.pk).update(
                content=content, content_type=content_type, etag=etag_of(content), updated=now
            )


def delete_documents(resource, ident, *, principal, single, if_match=None, if_none_match=None):
    principal.may_write()
    resource.check_scope(principal, ident, write=True)
    cmi5.check_document_write(principal, resource, ident)
    with transaction.atomic():
        queryset = resource.queryset(ident) if single else resource.context_queryset(ident)
        if single:
            document = queryset.select_for_update().first()
            check_preconditions(document, if_match=if_match, if_none_match=if_none_match, method="DELETE",
                                require_header=False)  # fmt: skip
        queryset.delete()


# --- LRS clients ----------------------------------------------------------------------------------


def create_client(*, name, read_only=False, scope_agent=None, trusted_authority=False):
    """Create credentials; returns ``(client, secret)``: the secret exists nowhere else."""
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise XAPIBadRequest("name: must be 1 to 200 characters")
    if scope_agent is not None:
        validation.agent(scope_agent, "scope_agent", allow_group=False)
    key = secrets.token_hex(16)
    secret = secrets.token_urlsafe(32)
    authority = {"objectType": "Agent", "name": name, "account": {"homePage": _home(), "name": f"lrs-client:{key}"}}
    client = LRSClient.objects.create(
        name=name, key=key, secret_hash=make_password(secret), read_only=read_only, scope_agent=scope_agent,
        scope_key=agent_key(scope_agent) if scope_agent else "", trusted_authority=trusted_authority,
        authority=authority,
    )  # fmt: skip
    return client, secret


def _home():
    from xapi.identity import home_page

    return home_page()


def can_manage_clients(user):
    from cms import roles
    from cms.selectors import has_role

    return bool(user and user.is_active and has_role(user, roles.HR))


def revoke_client(*, client, actor=None):
    """Deactivate ``client``: its credentials answer 401 at once; its statements keep their authority."""
    from wagtail.log_actions import log

    if actor is not None and not can_manage_clients(actor):
        raise XAPIForbidden("only HR may revoke LRS clients")
    with transaction.atomic():
        updated = LRSClient.objects.filter(pk=client.pk, is_active=True).update(is_active=False)
        if updated:
            log(client, "wagtail.delete", user=actor)
    return bool(updated)
