"""The statement query at scale: the same answers as the xAPI rules computed naively (filters,
StatementRef targets up to three references away, voided statements left out, order, ``more``
pages), in one query whatever the number of statements; and the fast paths of validation
giving the same verdicts."""

import json
import random
import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from xapi import selectors, services, validation
from xapi.auth import principal_for_client
from xapi.errors import XAPIBadRequest
from xapi.models import Statement

pytestmark = pytest.mark.django_db

ADL = "http://adlnet.gov/expapi/verbs/"
VERBS = [ADL + "completed", ADL + "passed", ADL + "commented"]
ACTIVITIES = ["https://parcours.example.com/a/1", "https://parcours.example.com/a/2"]
AGENTS = [{"mbox": f"mailto:learner{n}@example.com"} for n in range(3)]
REGISTRATIONS = [str(uuid.UUID(int=n + 1)) for n in range(2)]


def make_store(size, seed=7):
    """``size`` plain statements, then StatementRef chains (up to four references long) to some
    of them, voided statements and their voiding statements, a reference to a voided one."""
    rng = random.Random(seed)
    plain = []
    for n in range(size):
        body = {
            "actor": rng.choice(AGENTS),
            "verb": {"id": rng.choice(VERBS)},
            "object": {"id": rng.choice(ACTIVITIES)},
            "context": {"registration": rng.choice(REGISTRATIONS),
                        "instructor": AGENTS[(n + 1) % len(AGENTS)],
                        "contextActivities": {"parent": [{"id": ACTIVITIES[(n + 1) % 2]}]}},
        }  # fmt: skip
        plain.append(body)
    ids = services.store_statements(plain, client=None)
    refs = []
    for target in ids[: max(3, size // 4)]:
        chain = target
        for _depth in range(rng.randint(1, 4)):
            [chain] = services.store_statements(
                [{"actor": rng.choice(AGENTS), "verb": {"id": ADL + "commented"},
                  "object": {"objectType": "StatementRef", "id": chain}}], client=None,
            )  # fmt: skip
            refs.append(chain)
    voided = ids[-2:]
    for target in voided:
        services.store_statements(
            [{"actor": AGENTS[0], "verb": {"id": validation.VOIDED_VERB},
              "object": {"objectType": "StatementRef", "id": target}}], client=None,
        )  # fmt: skip
    services.store_statements(
        [{"actor": AGENTS[2], "verb": {"id": ADL + "commented"}, "object": {"objectType": "StatementRef", "id": voided[0]}}],
        client=None,
    )  # fmt: skip
    return ids


def naive(query):
    """Part Three 2.1.3 read literally, in Python, over every stored statement."""
    rows = list(Statement.objects.prefetch_related("agents", "activities"))

    def matches(row):
        if query.agent_key and not any(
            a.agent_key == query.agent_key and (a.direct or query.related_agents) for a in row.agents.all()
        ):
            return False
        if query.verb_key and row.verb_key != query.verb_key:
            return False
        if query.activity_key and not any(
            a.activity_key == query.activity_key and (a.direct or query.related_activities)
            for a in row.activities.all()
        ):
            return False
        return not (query.registration and str(row.registration) != query.registration)

    matching = {row.statement_id for row in rows if matches(row)}
    for _level in range(selectors.STATEMENT_REF_DEPTH):
        matching |= {row.statement_id for row in rows if row.object_statement_id in matching}
    selected = [
        row for row in rows
        if row.statement_id in matching and not row.voided
        and (query.since is None or row.stored > query.since) and (query.until is None or row.stored <= query.until)
    ]  # fmt: skip
    selected.sort(key=lambda row: (row.stored, row.pk), reverse=not query.ascending)
    return [row.pk for row in selected]


def queries():
    agent = validation.agent_key(AGENTS[0])
    verb = validation.digest(VERBS[0])
    activity = validation.digest(ACTIVITIES[0])
    return [
        selectors.StatementQuery(agent_key=agent),
        selectors.StatementQuery(agent_key=agent, related_agents=True),
        selectors.StatementQuery(verb_key=verb),
        selectors.StatementQuery(agent_key=agent, verb_key=verb),
        selectors.StatementQuery(activity_key=activity),
        selectors.StatementQuery(activity_key=activity, related_activities=True, ascending=True),
        selectors.StatementQuery(registration=REGISTRATIONS[1]),
        selectors.StatementQuery(agent_key=agent, verb_key=verb, since=timezone.now() - timedelta(days=1)),
        selectors.StatementQuery(verb_key=validation.digest(ADL + "commented")),
        selectors.StatementQuery(),
    ]


def walk(query, page):
    """Every statement of the query, through pages of ``page`` rows (what ``more`` does)."""
    principal = principal_for_client(None)
    found, query.limit = [], page
    while True:
        rows, has_more = selectors.query_statements(principal, query, 500)
        found += [row.pk for row in rows]
        if not has_more:
            return found
        query.after = (rows[-1].stored, rows[-1].pk)


def test_answers_are_the_naive_ones_page_by_page_and_whole():
    make_store(24)
    for query in queries():
        expected = naive(query)
        assert walk(query, 1000) == expected, query
        query.after = None
        assert walk(query, 3) == expected, query
    agent = validation.agent_key(AGENTS[0])
    assert naive(selectors.StatementQuery(agent_key=agent)), "the reference data set exercises the agent filter"


def test_statement_ref_depth_is_three_references_and_voided_targets_still_match():
    [target] = services.store_statements(
        [{"actor": AGENTS[1], "verb": {"id": VERBS[1]}, "object": {"id": ACTIVITIES[1]}}], client=None
    )
    chain = [target]
    for _depth in range(4):
        chain += services.store_statements(
            [{"actor": AGENTS[2], "verb": {"id": ADL + "commented"},
              "object": {"objectType": "StatementRef", "id": chain[-1]}}], client=None,
        )  # fmt: skip
    principal = principal_for_client(None)
    query = selectors.StatementQuery(verb_key=validation.digest(VERBS[1]))
    rows, _more = selectors.query_statements(principal, query, 100)
    assert {str(row.statement_id) for row in Statement.objects.filter(pk__in=[r.pk for r in rows])} == set(chain[:4])
    services.store_statements(
        [{"actor": AGENTS[1], "verb": {"id": validation.VOIDED_VERB}, "object": {"objectType": "StatementRef", "id": target}}],
        client=None,
    )  # fmt: skip
    rows, _more = selectors.query_statements(principal, query, 100)
    returned = {str(row.statement_id) for row in Statement.objects.filter(pk__in=[r.pk for r in rows])}
    assert target not in returned
    assert set(chain[1:4]) <= returned  # references to the voided statement still match


@pytest.mark.parametrize("size", [8, 40])
def test_one_query_whatever_the_number_of_statements(size):
    make_store(size, seed=size)
    principal = principal_for_client(None)
    for query in queries():
        with CaptureQueriesContext(connection) as captured:
            rows, _more = selectors.query_statements(principal, query, 5)
        assert len(captured) == 1, query
        assert len(rows) <= 5


# --- validation fast paths ----------------------------------------------------------------------


def nested(depth):
    return "[" * depth + "]" * depth


def test_nesting_limit_is_counted_outside_strings():
    assert validation.parse_json(nested(validation.MAX_JSON_DEPTH)) == json.loads(nested(validation.MAX_JSON_DEPTH))
    with pytest.raises(XAPIBadRequest, match="nested deeper than 64"):
        validation.parse_json(nested(validation.MAX_JSON_DEPTH + 1))
    with pytest.raises(XAPIBadRequest, match="nested deeper than 64"):
        validation.parse_json(nested(5000))
    with pytest.raises(XAPIBadRequest, match="nested deeper than 64"):
        validation.parse_json("[" * 70 + "x")  # invalid and too deep: the nesting is named
    tricky = {"a": "[[[{{{" * 30, "b": '\\"[[[' * 30, "c": "\\" * 7, "d": [[["]]]"]]]}
    assert validation.parse_json(json.dumps(tricky)) == tricky
    assert validation.parse_json(json.dumps(tricky, ensure_ascii=False, indent=2).encode()) == tricky
    deep_in_object = {"k": json.loads(nested(validation.MAX_JSON_DEPTH))}
    with pytest.raises(XAPIBadRequest, match="nested deeper than 64"):
        validation.parse_json(json.dumps(deep_in_object))


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("http://adlnet.gov/expapi/verbs/completed", True),
        ("urn:uuid:6f1c", True),
        ("http://example.com/a b", False),
        ("http://example.com/a\u00a0b", False),  # a Unicode space
        ("http://example.com/a\u2003", False),
        ("http://example.com/<x>", False),
        ("http://example.com/a^b", False),
        ("http:", False),
        ("noscheme", False),
        ("", False),
        (None, False),
        (["http://example.com"], False),
        ("http://example.com/" + "a" * 2100, False),
    ],
)
def test_iri_verdicts_are_the_same_twice(value, valid):
    assert validation.is_iri(value) is valid
    assert validation.is_iri(value) is valid  # the second answer comes from the cache


@pytest.mark.parametrize(
    ("tag", "valid"),
    [("fr-FR", True), ("en-US", True), ("zh-Hant-TW", True), ("i-klingon", True), ("fr--FR", False),
     ("de-DE-1996-1996", False), ("", False), (None, False), (12, False), ("a" * 130, False)],
)  # fmt: skip
def test_language_tag_verdicts_are_the_same_twice(tag, valid):
    assert validation.is_language_tag(tag) is valid
    assert validation.is_language_tag(tag) is valid


def test_interaction_component_ids_refuse_any_whitespace():
    definition = {"interactionType": "choice", "choices": [{"id": "a\u2003b"}]}
    with pytest.raises(XAPIBadRequest, match=r"choices\[0\]\.id: must not contain whitespace"):
        validation.activity_definition(definition, "d")
    validation.activity_definition({"interactionType": "choice", "choices": [{"id": "a-b"}]}, "d")
