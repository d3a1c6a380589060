"""The three document resources (Part Three 2.3, 2.6, 2.7): how their parameters name a
document, which rows a caller may see, and the reads. Writes are in ``xapi.services``."""

from django.db.models import Max

from xapi import validation
from xapi.errors import XAPIBadRequest, XAPIForbidden
from xapi.models import ActivityProfileDocument, AgentProfileDocument, StateDocument
from xapi.validation import MAX_STRING_ID_LENGTH, agent_key, digest


def parse_agent_param(raw, name="agent"):
    value = validation.parse_json(raw, what=name)
    validation.agent(value, name, allow_group=False)
    return value


def parse_iri_param(raw, name):
    if not validation.is_iri(raw):
        raise XAPIBadRequest(f"{name}: must be an absolute IRI (at most {validation.MAX_IRI_LENGTH} characters)")
    return raw


def parse_doc_id(raw, name):
    if not raw:
        raise XAPIBadRequest(f"{name}: must not be empty")
    if len(raw) > MAX_STRING_ID_LENGTH:
        raise XAPIBadRequest(f"{name}: must be at most {MAX_STRING_ID_LENGTH} characters")
    return raw


class Resource:
    model = None
    id_param = ""
    id_field = ""
    context_params = ()
    requires_concurrency = True

    def parse(self, params, *, doc_id_required):
        """``ident``: the parsed parameters naming the document (or its context)."""
        ident = {}
        for name in self.context_params:
            if name not in params:
                raise XAPIBadRequest(f"{name}: parameter is required")
        if "activityId" in self.context_params:
            ident["activityId"] = parse_iri_param(params["activityId"], "activityId")
        if "agent" in self.context_params:
            ident["agent"] = parse_agent_param(params["agent"])
        if "registration" in params and isinstance(self, StateResource):
            if not validation.is_uuid(params["registration"]):
                raise XAPIBadRequest("registration: must be a UUID")
            ident["registration"] = params["registration"].lower()
        if self.id_param in params:
            ident["doc_id"] = parse_doc_id(params[self.id_param], self.id_param)
        elif doc_id_required:
            raise XAPIBadRequest(f"{self.id_param}: parameter is required")
        return ident

    def context_filter(self, ident):
        raise NotImplementedError

    def context_queryset(self, ident):
        return self.model.objects.filter(**self.context_filter(ident))

    def queryset(self, ident):
        return self.context_queryset(ident).filter(doc_key=digest(ident["doc_id"]))

    def fields(self, ident):
        raise NotImplementedError

    def agent_of(self, ident):
        return ident.get("agent")

    def check_scope(self, principal, ident, *, write):
        if not principal.scope_key:
            return
        agent = self.agent_of(ident)
        if agent is None:
            if write:
                raise XAPIForbidden("these credentials may not write activity profiles")
            return
        if agent_key(agent) != principal.scope_key:
            raise XAPIForbidden("agent: these credentials may only use their own agent's documents")

    # --- reads
    def get(self, principal, ident):
        self.check_scope(principal, ident, write=False)
        return self.queryset(ident).first()

    def ids(self, principal, ident, since=None):
        """(ids, last modified) of the documents of the context, updated after ``since``."""
        self.check_scope(principal, ident, write=False)
        queryset = self.context_queryset(ident)
        if since is not None:
            queryset = queryset.filter(updated__gt=since)
        rows = list(queryset.order_by("updated", "pk").values_list(self.id_field, "updated"))
        latest = queryset.aggregate(latest=Max("updated"))["latest"] if rows else None
        return [row[0] for row in rows], latest


class StateResource(Resource):
    model = StateDocument
    id_param = "stateId"
    id_field = "state_id"
    context_params = ("activityId", "agent")
    requires_concurrency = False  # Part Three 3.1: State permits writes without concurrency headers

    def context_filter(self, ident):
        filters = {"activity_key": digest(ident["activityId"]), "agent_key": agent_key(ident["agent"])}
        if "registration" in ident:
            filters["registration"] = ident["registration"]
        elif "doc_id" in ident:
            filters["registration"] = ""
        return filters

    def fields(self, ident):
        return {
            "activity_id": ident["activityId"], "activity_key": digest(ident["activityId"]),
            "agent": ident["agent"], "agent_key": agent_key(ident["agent"]),
            "registration": ident.get("registration", ""),
            "state_id": ident["doc_id"], "doc_key": digest(ident["doc_id"]),
        }  # fmt: skip


class ActivityProfileResource(Resource):
    model = ActivityProfileDocument
    id_param = "profileId"
    id_field = "profile_id"
    context_params = ("activityId",)

    def context_filter(self, ident):
        return {"activity_key": digest(ident["activityId"])}

    def fields(self, ident):
        return {
            "activity_id": ident["activityId"], "activity_key": digest(ident["activityId"]),
            "profile_id": ident["doc_id"], "doc_key": digest(ident["doc_id"]),
        }  # fmt: skip


class AgentProfileResource(Resource):
    model = AgentProfileDocument
    id_param = "profileId"
    id_field = "profile_id"
    context_params = ("agent",)

    def context_filter(self, ident):
        return {"agent_key": agent_key(ident["agent"])}

    def fields(self, ident):
        return {
            "agent": ident["agent"], "agent_key": agent_key(ident["agent"]),
            "profile_id": ident["doc_id"], "doc_key": digest(ident["doc_id"]),
        }  # fmt: skip


STATE = StateResource()
ACTIVITY_PROFILE = ActivityProfileResource()
AGENT_PROFILE = AgentProfileResource()
