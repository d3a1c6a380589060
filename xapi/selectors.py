"""Reads of the LRS that depend on the caller: what statements a principal may see, the
statement query with its filters (Part Three 2.1.3) and StatementRef rules, the output formats,
the Person and Activity objects. Every read runs a fixed number of queries."""

import copy
import uuid
from dataclasses import dataclass, field
from datetime import datetime

from django.db import connections
from django.db.models import Q

from xapi import validation
from xapi.models import Activity, Statement, StatementActivity, StatementAgent, StatementAttachment
from xapi.validation import IFI_KEYS, digest

STATEMENT_REF_DEPTH = 3  # a targets b targets c targets d: all match when d does


@dataclass
class StatementQuery:
    agent_key: str | None = None
    related_agents: bool = False
    verb_key: str | None = None
    activity_key: str | None = None
    related_activities: bool = False
    registration: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    ascending: bool = False
    limit: int = 0
    after: tuple | None = None  # (stored, pk) of the last row of the previous page
    extra: dict = field(default_factory=dict)


def statements_visible_to(principal):
    queryset = Statement.objects.all()
    if principal.scope_key:
        queryset = queryset.filter(actor_key=principal.scope_key)
    return queryset


def get_statement(principal, statement_id, *, voided):
    """The statement ``statement_id`` if visible; a voided one only when asked by ``voidedStatementId``."""
    return statements_visible_to(principal).filter(statement_id=statement_id, voided=voided).first()


def _filter_condition(query):
    condition = Q()
    if query.agent_key:
        agents = StatementAgent.objects.filter(agent_key=query.agent_key)
        if not query.related_agents:
            agents = agents.filter(direct=True)
        condition &= Q(pk__in=agents.values("statement_id"))
    if query.verb_key:
        condition &= Q(verb_key=query.verb_key)
    if query.activity_key:
        activities = StatementActivity.objects.filter(activity_key=query.activity_key)
        if not query.related_activities:
            activities = activities.filter(direct=True)
        condition &= Q(pk__in=activities.values("statement_id"))
    if query.registration:
        condition &= Q(registration=query.registration)
    return condition


def _targets_matching(condition):
    """The ``statement_id`` of every statement a StatementRef may target for the filters to match
    the referring statement: the matching statements that are referenced, and the StatementRef
    statements that refer to them, up to ``STATEMENT_REF_DEPTH - 1`` references away (voided or
    not: a reference to a voided statement still matches, 2.1.3). A UNION the planner hashes once
    and drives from the (few) statements that are references, instead of nested ``OR ... IN``
    conditions re-evaluated row by row."""
    references = Statement.objects.filter(object_statement_id__isnull=False)
    level = Statement.objects.filter(condition, statement_id__in=references.values("object_statement_id")).values(
        "statement_id"
    )
    levels = [level]
    for _depth in range(STATEMENT_REF_DEPTH - 1):
        level = references.filter(object_statement_id__in=level).values("statement_id")
        levels.append(level)
    return levels[0].union(*levels[1:])


def query_statements(principal, query, max_limit):
    """(rows, has_more): one query, whatever the page size and the number of statements.

    With filters, the page is the newest (or oldest) of two disjoint parts, each walked in
    ``stored`` order with its own index: the statements the filters match, and the StatementRef
    statements (``object_statement_id`` set) that do not match themselves but target, directly
    or through up to ``STATEMENT_REF_DEPTH`` references, a statement that does (Part Three
    2.1.3.s3). A ``UNION ALL ... ORDER BY ... LIMIT`` of both, which PostgreSQL merges without
    reading either part beyond the page: each part is ordered and limited on its own."""
    queryset = statements_visible_to(principal).filter(voided=False)
    if query.since is not None:
        queryset = queryset.filter(stored__gt=query.since)
    if query.until is not None:
        queryset = queryset.filter(stored__lte=query.until)
    if query.after is not None:
        stored, pk = query.after
        if query.ascending:
            queryset = queryset.filter(Q(stored__gt=stored) | Q(stored=stored, pk__gt=pk))
        else:
            queryset = queryset.filter(Q(stored__lt=stored) | Q(stored=stored, pk__lt=pk))
    ordering = ("stored", "pk") if query.ascending else ("-stored", "-pk")
    limit = min(query.limit or max_limit, max_limit)
    fields = ("pk", "data", "stored")
    condition = _filter_condition(query)
    if not condition:
        rows = list(queryset.order_by(*ordering).only(*fields)[: limit + 1])
        return rows[:limit], len(rows) > limit
    direct = queryset.filter(condition)
    referring = (
        queryset.filter(object_statement_id__isnull=False)
        .exclude(condition)
        .filter(object_statement_id__in=_targets_matching(condition))
    )
    parts = [part.only(*fields) for part in (direct, referring)]
    if connections[queryset.db].features.supports_slicing_ordering_in_compound:  # PostgreSQL
        # Each part ordered and limited on its own: the planner walks its index and stops at the page.
        parts = [part.order_by(*ordering)[: limit + 1] for part in parts]
    rows = list(parts[0].union(parts[1], all=True).order_by(*ordering)[: limit + 1])
    return rows[:limit], len(rows) > limit


def attachments_for(statements):
    """The stored raw attachments the statements reference, in one query: ``[(sha2, content_type, bytes)]``."""
    hashes = []
    for data in statements:
        for body in (data, data["object"] if data["object"].get("objectType") == "SubStatement" else None):
            for attachment in (body or {}).get("attachments", []):
                sha2 = attachment["sha2"].lower()
                if sha2 not in hashes:
                    hashes.append(sha2)
    if not hashes:
        return []
    rows = {a.sha2: a for a in StatementAttachment.objects.filter(sha2__in=hashes)}
    return [(sha2, rows[sha2].content_type, bytes(rows[sha2].content)) for sha2 in hashes if sha2 in rows]


# --- formats ---------------------------------------------------------------------------------


def _agents_ids(node):
    if isinstance(node, dict) and (node.get("objectType") == "Group" or any(k in node for k in IFI_KEYS)):
        return validation.ifi_only(node)
    return node


def _ids_body(body):
    body["actor"] = _agents_ids(body["actor"])
    body["verb"] = {"id": body["verb"]["id"]}
    obj = body["object"]
    kind = obj.get("objectType", "Activity")
    if kind == "Activity":
        body["object"] = {"objectType": "Activity", "id": obj["id"]}
    elif kind in ("Agent", "Group"):
        body["object"] = _agents_ids(obj)
    elif kind == "SubStatement":
        _ids_body(obj)
    context = body.get("context")
    if context:
        for key in ("instructor", "team"):
            if key in context:
                context[key] = _agents_ids(context[key])
        for key, items in context.get("contextActivities", {}).items():
            context["contextActivities"][key] = [{"objectType": "Activity", "id": item["id"]} for item in items]
    if "authority" in body:
        body["authority"] = _agents_ids(body["authority"])


def parse_accept_language(header):
    """Language ranges by preference (RFC 2616 14.4)."""
    ranges = []
    for position, item in enumerate((header or "").split(",")[:32]):
        tag, _, params = item.strip().partition(";")
        quality = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                quality = float(params[2:])
            except ValueError:
                quality = 0.0
        if tag and quality > 0:
            ranges.append((-quality, position, tag.strip().lower()))
    return [tag for _q, _p, tag in sorted(ranges)]


def pick_language(language_map, preferences):
    """The one entry of ``language_map`` that best matches the preferences (or the first one)."""
    if not isinstance(language_map, dict) or not language_map:
        return language_map
    lowered = {tag.lower(): tag for tag in language_map}
    for wanted in preferences:
        if wanted == "*":
            break
        if wanted in lowered:
            tag = lowered[wanted]
            return {tag: language_map[tag]}
        for candidate_lower, tag in lowered.items():
            if candidate_lower.startswith(wanted + "-") or wanted.startswith(candidate_lower + "-"):
                return {tag: language_map[tag]}
    tag = next(iter(language_map))
    return {tag: language_map[tag]}


def _canonical_definition(definition, preferences):
    definition = copy.deepcopy(definition)
    for key in ("name", "description"):
        if key in definition:
            definition[key] = pick_language(definition[key], preferences)
    for key in validation.COMPONENT_LISTS:
        for component in definition.get(key, []):
            if "description" in component:
                component["description"] = pick_language(component["description"], preferences)
    return definition


def _canonical_activity(item, canonical, preferences):
    definition = canonical.get(digest(item["id"]), item.get("definition"))
    out = {"objectType": "Activity", "id": item["id"]}
    if definition:
        out["definition"] = _canonical_definition(definition, preferences)
    return out


def _canonical_body(body, canonical, preferences):
    if "display" in body["verb"]:
        body["verb"]["display"] = pick_language(body["verb"]["display"], preferences)
    obj = body["object"]
    kind = obj.get("objectType", "Activity")
    if kind == "Activity":
        body["object"] = _canonical_activity(obj, canonical, preferences)
    elif kind == "SubStatement":
        _canonical_body(obj, canonical, preferences)
    for key, items in body.get("context", {}).get("contextActivities", {}).items():
        body["context"]["contextActivities"][key] = [_canonical_activity(i, canonical, preferences) for i in items]


def format_statements(statements, fmt, accept_language=""):
    """The statements (stored dicts) in the ``exact``, ``ids`` or ``canonical`` format; canonical
    reads the canonical activity definitions in one query."""
    if fmt == "exact":
        return statements
    out = copy.deepcopy(statements)
    if fmt == "ids":
        for data in out:
            _ids_body(data)
        return out
    from xapi.services import defined_activities

    keys = {digest(item["id"]) for data in out for item in defined_activities(data)}
    canonical = dict(Activity.objects.filter(key__in=keys).values_list("key", "definition")) if keys else {}
    preferences = parse_accept_language(accept_language)
    for data in out:
        _canonical_body(data, canonical, preferences)
    return out


# --- Activities and Agents resources -------------------------------------------------------------


def activity_object(activity_id):
    """The canonical Activity object (Part Three 2.5); just the id when the LRS knows no definition."""
    row = Activity.objects.filter(key=digest(activity_id)).only("definition").first()
    out = {"objectType": "Activity", "id": activity_id}
    if row is not None and row.definition:
        out["definition"] = row.definition
    return out


def person_object(agent):
    """The Person object of ``agent`` (Part Three 2.4): Parcours links no personas together, so
    it holds what the request gave (name, identifier) as one-item arrays."""
    person = {"objectType": "Person"}
    if "name" in agent:
        person["name"] = [agent["name"]]
    for key in IFI_KEYS:
        if key in agent:
            person[key] = [agent[key]]
    return person


# --- the HR statements browser and the learner's record -------------------------------------------

BROWSER_AGENT_MATCHES = 50  # a name search naming more people than this is refined, not listed


def pick_text(language_map, preferences=("fr", "fr-fr", "en", "en-us")):
    """One text of a language map (the user's language first), or ""."""
    if not isinstance(language_map, dict) or not language_map:
        return ""
    chosen = pick_language(language_map, list(preferences))
    return str(next(iter(chosen.values())))


def verb_label(verb):
    """A human label of a verb: its display (French first), else the last part of its id."""
    label = pick_text(verb.get("display"))
    return label or verb["id"].rstrip("/").rsplit("/", 1)[-1]


def object_label(obj):
    kind = obj.get("objectType", "Activity")
    if kind == "Activity":
        return pick_text((obj.get("definition") or {}).get("name")) or obj["id"]
    if kind in ("Agent", "Group"):
        return obj.get("name") or validation.ifi_string(obj) or kind
    if kind == "StatementRef":
        return obj["id"]
    return verb_label(obj.get("verb", {"id": kind})) + " " + object_label(obj.get("object", {"id": ""}))


def result_label(result):
    """« 85 % », « réussi », « terminé »… of a statement's result, or ""."""
    from django.utils.translation import gettext as _

    if not result:
        return ""
    parts = []
    score = result.get("score") or {}
    if "scaled" in score:
        parts.append(f"{round(score['scaled'] * 100)} %")
    elif "raw" in score:
        parts.append(str(score["raw"]) + (f" / {score['max']}" if "max" in score else ""))
    if result.get("success") is True:
        parts.append(_("réussi"))
    elif result.get("success") is False:
        parts.append(_("non réussi"))
    if result.get("completion") is True:
        parts.append(_("terminé"))
    if "response" in result and not parts:
        parts.append(str(result["response"])[:80])
    return ", ".join(parts)


@dataclass
class StatementRow:
    """One statement as a line of a list (no query)."""

    statement_id: str
    stored: datetime
    timestamp: datetime
    voided: bool
    actor: dict
    verb: str
    verb_id: str
    object: str
    object_id: str
    result: str
    actor_label: str = ""

    @classmethod
    def of(cls, row):
        data = row.data
        obj = data["object"]
        return cls(
            statement_id=str(row.statement_id), stored=row.stored, timestamp=row.timestamp, voided=row.voided,
            actor=data["actor"], verb=verb_label(data["verb"]), verb_id=data["verb"]["id"], object=object_label(obj),
            object_id=obj.get("id", ""), result=result_label(data.get("result")),
        )  # fmt: skip


LIST_FIELDS = ("pk", "statement_id", "data", "stored", "timestamp", "voided")


def agent_keys_matching(search):
    """Actor keys of the Parcours people whose name or employee number matches ``search``
    (their opaque xAPI account), plus the key of ``search`` itself when it is an e-mail
    (``mailto:`` optional) or an xAPI account name. One query."""
    from xapi.identity import account_agent
    from xapi.models import AgentIdentity

    search = (search or "").strip()[:200]
    if not search:
        return []
    keys = []
    terms = search.split()
    people = Q()
    for term in terms[:4]:
        people &= (Q(user__first_name__icontains=term) | Q(user__last_name__icontains=term)
                   | Q(user__username__iexact=term) | Q(user__agent__employee_number__iexact=term))  # fmt: skip
    names = AgentIdentity.objects.filter(people).values_list("account_name", flat=True)[:BROWSER_AGENT_MATCHES]
    keys += [validation.agent_key(account_agent(name)) for name in names]
    if "@" in search and " " not in search:
        keys.append(validation.agent_key({"mbox": search if search.startswith("mailto:") else f"mailto:{search}"}))
    elif len(terms) == 1:
        keys.append(validation.agent_key(account_agent(search)))
    return keys


def browse_statements(*, agent_keys=None, verb_id="", activity_id="", since=None, until=None, voided=None):
    """The statements HR browses, newest first: ``agent_keys`` (the actor is one of them),
    ``verb_id``, ``activity_id`` (the object or a context activity), ``since``/``until``
    (``stored``), ``voided`` (True, False or None for both). A queryset; a page of it is one query."""
    queryset = Statement.objects.all()
    if agent_keys is not None:
        queryset = queryset.filter(actor_key__in=agent_keys)
    if verb_id:
        queryset = queryset.filter(verb_key=digest(verb_id))
    if activity_id:
        queryset = queryset.filter(
            pk__in=StatementActivity.objects.filter(activity_key=digest(activity_id)).values("statement_id")
        )
    if since is not None:
        queryset = queryset.filter(stored__gte=since)
    if until is not None:
        queryset = queryset.filter(stored__lt=until)
    if voided is not None:
        queryset = queryset.filter(voided=voided)
    return queryset.order_by("-stored", "-pk").only(*LIST_FIELDS)


def label_actors(rows):
    """Name the Parcours people among the actors of ``rows`` (one query): « Nom Prénom (matricule) »."""
    from xapi.identity import home_page
    from xapi.models import AgentIdentity

    names = {}
    for row in rows:
        account = row.actor.get("account") or {}
        if account.get("homePage") == home_page():
            names.setdefault(str(account.get("name")), []).append(row)
        else:
            row.actor_label = row.actor.get("name") or validation.ifi_string(row.actor) or ""
    valid = []
    for name in names:
        try:
            valid.append(uuid.UUID(name))
        except ValueError:
            pass
    people = AgentIdentity.objects.filter(account_name__in=valid).values_list(
        "account_name", "user__first_name", "user__last_name", "user__username", "user__agent__employee_number"
    )
    found = {str(n): (f"{last} {first}".strip() or username, number) for n, first, last, username, number in people}
    for name, items in names.items():
        label, number = found.get(name, (name, None))
        for row in items:
            row.actor_label = f"{label} ({number})" if number else label
    return rows


def course_statement_counts():
    """Per course: the number of statements received about it or one of its steps (object or
    context activity), and the last ``stored``. Three queries whatever the number of courses."""
    from django.db.models import Case, CharField, Count, Max, Value, When
    from wagtail.models import Page

    from learning import xapi_ids
    from learning.models import CoursePage

    courses = list(CoursePage.objects.order_by("title", "pk").values_list("pk", "title", "path", "depth"))
    if not courses:
        return []
    key_course = {}
    for pk, _title, _path, _depth in courses:
        key_course[digest(xapi_ids.course(pk))] = pk
    step_filter = Q()
    for _pk, _title, path, depth in courses:
        step_filter |= Q(path__startswith=path, depth=depth + 1)
    by_path = {path: pk for pk, _title, path, _depth in courses}
    for step_pk, path in Page.objects.filter(step_filter).values_list("pk", "path"):
        key_course[digest(xapi_ids.step(step_pk))] = by_path.get(path[: -Page.steplen])
    whens = [When(activity_key=key, then=Value(str(pk))) for key, pk in key_course.items() if pk is not None]
    counts = {
        int(row["course"]): (row["n"], row["last"])
        for row in StatementActivity.objects.filter(activity_key__in=list(key_course))
        .annotate(course=Case(*whens, output_field=CharField()))
        .values("course")
        .annotate(n=Count("statement_id", distinct=True), last=Max("statement__stored"))
    }
    return [
        {"course_id": pk, "title": title, "count": counts.get(pk, (0, None))[0], "last": counts.get(pk, (0, None))[1]}
        for pk, title, _path, _depth in courses
    ]


def statements_of_user(user):
    """The statements whose actor is ``user``'s xAPI account (not voided), newest first."""
    from xapi.identity import actor_key_for

    return Statement.objects.filter(actor_key=actor_key_for(user), voided=False).order_by("-stored", "-pk")
