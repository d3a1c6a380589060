"""The resources of the LRS (Part Three section 2) at /xapi/.

Each view reads the request through ``xapi.http.XRequest`` (usual or alternate syntax),
authenticates (``xapi.auth``), then calls a service (writes) or a selector (reads). Errors are
``XAPIError`` subclasses turned into JSON answers with their status; every answer carries the
version and CORS headers. These views are CSRF-exempt: clients authenticate with HTTP Basic;
cookie-authenticated writes are checked for the CSRF token in ``xapi.auth``.
"""

import uuid

from django.conf import settings
from django.core import signing
from django.http import HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.http import http_date
from django.views.decorators.csrf import csrf_exempt

from xapi import documents, selectors, services, validation
from xapi.auth import authenticate
from xapi.errors import XAPIBadRequest, XAPIError, XAPIForbidden, XAPIMethodNotAllowed, XAPINotFound
from xapi.http import (
    XRequest,
    check_params,
    check_version,
    error_response,
    finish,
    json_response,
    multipart_response,
    parse_multipart,
    preflight,
)
from xapi.validation import agent_key, digest

MORE_SALT = "xapi.statements.more"
BOOLEAN = {"true": True, "false": False}
QUERY_PARAMS = ("agent", "verb", "activity", "registration", "related_activities", "related_agents", "since",
                "until", "limit", "format", "attachments", "ascending")  # fmt: skip


def max_limit():
    return int(getattr(settings, "XAPI_STATEMENTS_MAX_LIMIT", 500))


def resource(methods, *, statements=False, version_required=True, auth_required=True):
    """Wrap a handler ``(xrequest, principal) -> HttpResponse`` with the protocol around it."""
    allow = ", ".join([*methods, "HEAD", "OPTIONS"] if "GET" in methods else [*methods, "OPTIONS"])

    def decorator(handler):
        @csrf_exempt
        def view(request):
            if request.method == "OPTIONS":
                return preflight(request, allow)
            head = request.method == "HEAD"
            try:
                xrequest = XRequest(request)
                if xrequest.method not in methods:
                    raise XAPIMethodNotAllowed(f"{xrequest.method} is not a method of this resource ({allow})",
                                               headers={"Allow": allow})  # fmt: skip
                if version_required:
                    check_version(xrequest)
                principal = None
                if auth_required:
                    principal = authenticate(request, xrequest.header("authorization"), unsafe=xrequest.unsafe)
                    if xrequest.unsafe:
                        principal.may_write()
                response = handler(xrequest, principal)
            except XAPIError as exc:
                response = error_response(exc)
            if statements:
                response["X-Experience-API-Consistent-Through"] = validation.format_timestamp(timezone.now())
            return finish(request, response, head=head)

        view.handler = handler
        return view

    return decorator


def no_content():
    return HttpResponse(status=204)


def _bool_param(params, name):
    if name not in params:
        return False
    value = params[name]
    if value not in BOOLEAN:
        raise XAPIBadRequest(f"{name}: must be true or false")
    return BOOLEAN[value]


def _timestamp_param(params, name):
    if name not in params:
        return None
    moment = validation.parse_timestamp(params[name])
    if moment is None:
        raise XAPIBadRequest(f"{name}: must be an ISO 8601 timestamp with a time zone")
    return moment


def _uuid_param(params, name):
    if not validation.is_uuid(params[name]):
        raise XAPIBadRequest(f"{name}: must be a UUID")
    return uuid.UUID(params[name])


# --- about ------------------------------------------------------------------------------------------


@resource(("GET",), version_required=False, auth_required=False)
def about(xrequest, principal):
    check_params(xrequest.params, (), "the About resource")
    return json_response({"version": ["1.0.3", "1.0.2", "1.0.1", "1.0.0"], "extensions": {}})


# --- statements ----------------------------------------------------------------------------------------


@resource(("GET", "PUT", "POST"), statements=True)
def statements(xrequest, principal):
    if xrequest.method == "GET":
        return _get_statements(xrequest, principal)
    allowed = ("statementId",) if xrequest.method == "PUT" else ()
    check_params(xrequest.params, allowed, f"{xrequest.method} on the Statement resource")
    if xrequest.content_type == "multipart/mixed":
        body, attachments = parse_multipart(xrequest.body, xrequest.header("content-type"))
    else:
        body, attachments = xrequest.body, None
    payload = validation.parse_json(body, what="statement" if xrequest.method == "PUT" else "statements")
    if xrequest.method == "PUT":
        if "statementId" not in xrequest.params:
            raise XAPIBadRequest("statementId: parameter is required to PUT a statement")
        statement_id = str(_uuid_param(xrequest.params, "statementId"))
        if not isinstance(payload, dict):
            raise XAPIBadRequest("statement: must be a JSON object (PUT stores one statement)")
        if "id" in payload:
            if not validation.is_uuid(payload["id"]) or payload["id"].lower() != statement_id:
                raise XAPIBadRequest("statement.id: must match the statementId parameter")
        else:
            payload = {**payload, "id": xrequest.params["statementId"]}
        services.store_statements([payload], client=principal, attachments=attachments, single=True)
        return no_content()
    single = isinstance(payload, dict)
    items = [payload] if single else payload
    if isinstance(items, list) and not items:
        raise XAPIBadRequest("statements: the array is empty")
    ids = services.store_statements(items, client=principal, attachments=attachments, single=single)
    return json_response(ids)


def _get_statements(xrequest, principal):
    params = xrequest.params
    if "more" in params:
        check_params(params, ("more",), "a more link")
        try:
            saved = signing.loads(params["more"], salt=MORE_SALT)
        except signing.BadSignature:
            raise XAPIBadRequest("more: not a more link issued by this LRS") from None
        params, after = saved["params"], (validation.parse_timestamp(saved["stored"]), saved["pk"])
    else:
        after = None
    fmt = params.get("format", "exact")
    if fmt not in ("ids", "exact", "canonical"):
        raise XAPIBadRequest("format: must be ids, exact or canonical")
    with_attachments = _bool_param(params, "attachments")
    accept_language = xrequest.header("accept-language", "")
    if "statementId" in params or "voidedStatementId" in params:
        if "statementId" in params and "voidedStatementId" in params:
            raise XAPIBadRequest("statementId and voidedStatementId cannot be used together")
        name = "statementId" if "statementId" in params else "voidedStatementId"
        check_params(params, (name, "format", "attachments"), f"a GET by {name}")
        row = selectors.get_statement(principal, _uuid_param(params, name), voided=name == "voidedStatementId")
        if row is None:
            raise XAPINotFound(f"{name}: no such statement")
        data = selectors.format_statements([row.data], fmt, accept_language)[0]
        if with_attachments:
            response = multipart_response(data, selectors.attachments_for([row.data]))
        else:
            response = json_response(data)
        response["Last-Modified"] = http_date(row.stored.timestamp())
        return response
    check_params(params, QUERY_PARAMS, "a statement query")
    query = _statement_query(params)
    query.after = after
    rows, has_more = selectors.query_statements(principal, query, max_limit())
    result = {"statements": selectors.format_statements([row.data for row in rows], fmt, accept_language), "more": ""}
    if has_more:
        last = rows[-1]
        token = signing.dumps(
            {"params": params, "stored": validation.format_timestamp(last.stored), "pk": last.pk},
            salt=MORE_SALT, compress=True,
        )  # fmt: skip
        result["more"] = f"{reverse('xapi:statements')}?more={token}"
    if with_attachments:
        response = multipart_response(result, selectors.attachments_for([row.data for row in rows]))
    else:
        response = json_response(result)
    if rows:
        response["Last-Modified"] = http_date(max(row.stored for row in rows).timestamp())
    return response


def _statement_query(params):
    query = selectors.StatementQuery()
    if "agent" in params:
        agent = validation.parse_json(params["agent"], what="agent")
        validation.agent(agent, "agent", require_ifi_group=True)
        query.agent_key = agent_key(agent)
    if "verb" in params:
        query.verb_key = digest(documents.parse_iri_param(params["verb"], "verb"))
    if "activity" in params:
        query.activity_key = digest(documents.parse_iri_param(params["activity"], "activity"))
    if "registration" in params:
        query.registration = _uuid_param(params, "registration")
    query.related_agents = _bool_param(params, "related_agents")
    query.related_activities = _bool_param(params, "related_activities")
    query.ascending = _bool_param(params, "ascending")
    query.since = _timestamp_param(params, "since")
    query.until = _timestamp_param(params, "until")
    if "limit" in params:
        raw = params["limit"]
        if not raw.isascii() or not raw.isdigit():
            raise XAPIBadRequest("limit: must be a non-negative integer")
        digits = raw.lstrip("0")
        query.limit = max_limit() if len(digits) > 9 else int(raw)  # 0: the server's maximum
    return query


# --- documents -------------------------------------------------------------------------------------------


def _document_view(resource_def, params_for_get_list):
    @resource(("GET", "PUT", "POST", "DELETE"))
    def view(xrequest, principal):
        params = xrequest.params
        single = resource_def.id_param in params
        allowed = [*resource_def.context_params, resource_def.id_param]
        if isinstance(resource_def, documents.StateResource):
            allowed.append("registration")
        if xrequest.method == "GET" and not single:
            allowed.append("since")
        check_params(params, allowed, "this document resource")
        if xrequest.method in ("PUT", "POST"):
            ident = resource_def.parse(params, doc_id_required=True)
            services.write_document(
                resource_def, ident, principal=principal, method=xrequest.method, content=xrequest.body,
                content_type=xrequest.header("content-type") or "application/octet-stream",
                if_match=xrequest.header("if-match"), if_none_match=xrequest.header("if-none-match"),
            )  # fmt: skip
            return no_content()
        if xrequest.method == "DELETE":
            if not single and not params_for_get_list:
                raise XAPIBadRequest(f"{resource_def.id_param}: parameter is required")
            ident = resource_def.parse(params, doc_id_required=False)
            services.delete_documents(resource_def, ident, principal=principal, single=single,
                                      if_match=xrequest.header("if-match"),
                                      if_none_match=xrequest.header("if-none-match"))  # fmt: skip
            return no_content()
        ident = resource_def.parse(params, doc_id_required=False)
        if single:
            document = resource_def.get(principal, ident)
            if document is None:
                raise XAPINotFound(f"{resource_def.id_param}: no such document")
            response = HttpResponse(bytes(document.content), content_type=document.content_type)
            response["ETag"] = f'"{document.etag}"'
            response["Last-Modified"] = http_date(document.updated.timestamp())
            return response
        ids, latest = resource_def.ids(principal, ident, since=_timestamp_param(params, "since"))
        response = json_response(ids)
        if latest is not None:
            response["Last-Modified"] = http_date(latest.timestamp())
        return response

    return view


state = _document_view(documents.STATE, True)
activity_profile = _document_view(documents.ACTIVITY_PROFILE, False)
agent_profile = _document_view(documents.AGENT_PROFILE, False)


# --- activities and agents --------------------------------------------------------------------------------


@resource(("GET",))
def activities(xrequest, principal):
    check_params(xrequest.params, ("activityId",), "the Activities resource")
    if "activityId" not in xrequest.params:
        raise XAPIBadRequest("activityId: parameter is required")
    activity_id = documents.parse_iri_param(xrequest.params["activityId"], "activityId")
    return json_response(selectors.activity_object(activity_id))


@resource(("GET",))
def agents(xrequest, principal):
    check_params(xrequest.params, ("agent",), "the Agents resource")
    if "agent" not in xrequest.params:
        raise XAPIBadRequest("agent: parameter is required")
    agent = documents.parse_agent_param(xrequest.params["agent"])
    if principal.scope_key and agent_key(agent) != principal.scope_key:
        raise XAPIForbidden("agent: these credentials may only read their own agent")
    return json_response(selectors.person_object(agent))


# --- cmi5 fetch URL (cmi5 §8.2) ------------------------------------------------------------------------


@csrf_exempt
def cmi5_fetch(request, fetch_key):
    """The one-time fetch URL of an AU session: ``POST`` only (405 otherwise); 200 with
    ``{"auth-token": …}`` the first time, then 200 with ``{"error-code": "1", …}`` (cmi5 §8.2.3)."""
    from xapi import cmi5

    if request.method == "OPTIONS":
        return preflight(request, "POST, OPTIONS")
    if request.method != "POST":
        response = json_response(
            {"error-code": "3", "error-text": "the fetch URL answers POST only"}, status=405
        )
        response["Allow"] = "POST, OPTIONS"
        return finish(request, response)
    return finish(request, json_response(cmi5.fetch_token(fetch_key)))
