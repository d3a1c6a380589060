"""The LRS section of the admin (issue 12, item 4): the statements browser with its filters,
one statement's JSON, the statements received per course; HR only; constant queries."""

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from learning import xapi_ids
from tests.factories import AgentFactory, UserFactory
from tests.learning.factories import course_with_steps
from tests.xapi.conftest import make_client
from xapi import services
from xapi.identity import actor_for
from xapi.models import Statement

ADL = "http://adlnet.gov/expapi/verbs/"
BROWSER = "/admin/lrs/declarations/"
COUNTS = "/admin/lrs/formations/"


@pytest.fixture
def hr(db):
    return UserFactory(username="hr_browser", groups=["HR"])


@pytest.fixture
def people(db):
    ada = AgentFactory(user__username="ada", user__first_name="Ada", user__last_name="Lovelace",
                       employee_number="M424242")  # fmt: skip
    bob = AgentFactory(user__username="bob", user__first_name="Robert", user__last_name="Martin")
    return {"ada": ada.user, "bob": bob.user}


def st(actor, verb="completed", activity="http://example.com/act/1", **extra):
    return {"actor": actor, "verb": {"id": ADL + verb, "display": {"fr-FR": verb + " (fr)"}},
            "object": {"id": activity, "definition": {"name": {"fr-FR": "Activité " + activity[-1]}}}, **extra}  # fmt: skip


def browse(user, params=None):
    browser = Client()
    browser.force_login(user)
    return browser.get(BROWSER, params or {})


def listed(response):
    return [str(row.statement_id) for row in response.context["rows"]] if response.context["rows"] else []


@pytest.mark.parametrize(
    ("role", "allowed"),
    [("HR", True), ("Training editors", False), ("Recruiters", False), ("Interviewers", False), (None, False)],
)
def test_permission_matrix(db, role, allowed):
    user = UserFactory(username=f"u-{role}", groups=[role] if role else [])
    browser = Client()
    browser.force_login(user)
    for url in (BROWSER, COUNTS):
        status = browser.get(url).status_code
        assert (status == 200) is allowed, (url, status)
        if not allowed:
            assert status in (302, 403)
    anonymous = Client().get(BROWSER)
    assert anonymous.status_code == 302


def test_filters(hr, people):
    ada, bob = actor_for(people["ada"]), actor_for(people["bob"])
    external = {"mbox": "mailto:extern@example.com", "name": "Extérieur"}
    ids = {
        "ada-completed": services.store_statements([st(ada)], client=None)[0],
        "ada-passed": services.store_statements([st(ada, "passed", "http://example.com/act/2")], client=None)[0],
        "bob-completed": services.store_statements([st(bob)], client=None)[0],
        "external": services.store_statements([st(external, "experienced")], client=None)[0],
    }
    voiding = services.store_statements(
        [{"actor": bob, "verb": {"id": ADL + "voided"}, "object": {"objectType": "StatementRef", "id": ids["bob-completed"]}}],
        client=None,
    )[0]  # fmt: skip
    cases = [
        ({}, {"ada-completed", "ada-passed", "external", "voiding"}),
        ({"agent": "Lovelace"}, {"ada-completed", "ada-passed"}),
        ({"agent": "ada lovelace"}, {"ada-completed", "ada-passed"}),
        ({"agent": "M424242"}, {"ada-completed", "ada-passed"}),
        ({"agent": "extern@example.com"}, {"external"}),
        ({"agent": "personne"}, set()),
        ({"verb": ADL + "passed"}, {"ada-passed"}),
        ({"activity": "http://example.com/act/2"}, {"ada-passed"}),
        ({"voided": "yes"}, {"bob-completed"}),
        ({"voided": "all", "agent": "Martin"}, {"bob-completed", "voiding"}),
        ({"since": (timezone.localdate() + timedelta(days=1)).isoformat()}, set()),
        ({"until": timezone.localdate().isoformat()}, {"ada-completed", "ada-passed", "external", "voiding"}),
    ]
    ids["voiding"] = voiding
    names = {value: key for key, value in ids.items()}
    for params, expected in cases:
        response = browse(hr, params)
        assert response.status_code == 200
        assert {names[i] for i in listed(response)} == expected, params
    page = browse(hr, {"agent": "Lovelace"}).content.decode()
    assert "Lovelace Ada (M424242)" in page and "passed (fr)" in page and "Activité 2" in page


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"verb": "not an iri"}, "verb"),
        ({"activity": "javascript"}, "activity"),
        ({"since": "2024-02-30"}, "since"),
        ({"since": "2024-05-02", "until": "2024-05-01"}, "until"),
        ({"voided": "maybe"}, "voided"),
        ({"agent": "x" * 500}, "agent"),
    ],
)
def test_bad_filters_name_the_field_and_list_nothing(hr, params, field):
    services.store_statements([st({"mbox": "mailto:a@example.com"})], client=None)
    response = browse(hr, params)
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert response.context["rows"] == []


def test_one_statement_shows_its_json(hr, people):
    client, _auth = make_client("Storyline")
    (statement_id,) = services.store_statements([st(actor_for(people["ada"]))], client=client)
    browser = Client()
    browser.force_login(hr)
    response = browser.get(f"{BROWSER}{statement_id}/")
    assert response.status_code == 200
    assert json.loads(response.context["raw"]) == Statement.objects.get(statement_id=statement_id).data
    assert "Storyline" in response.content.decode()
    assert browser.get(f"{BROWSER}00000000-0000-4000-8000-000000000000/").status_code == 404
    assert browser.get(f"{BROWSER}not-a-uuid/").status_code == 404
    other = Client()
    other.force_login(people["ada"])
    assert other.get(f"{BROWSER}{statement_id}/").status_code in (302, 403)


def test_the_browser_runs_constant_queries(hr, people):
    actors = [actor_for(people["ada"]), actor_for(people["bob"]), {"mbox": "mailto:x@example.com"}]
    browser = Client()
    browser.force_login(hr)
    browser.get(BROWSER)
    counts = []
    for size in (3, 30):
        services.store_statements(
            [st(actors[n % 3], activity=f"http://example.com/act/{size}-{n}") for n in range(size)], client=None
        )
        for params in ({}, {"agent": "Lovelace", "verb": ADL + "completed"}):
            with CaptureQueriesContext(connection) as queries:
                assert browser.get(BROWSER, params).status_code == 200
            counts.append(len(queries))
    assert counts[:2] == counts[2:]


def test_statements_received_per_course(hr, people, django_assert_max_num_queries):
    built = course_with_steps(lessons=1, quizzes=0, slug="counts")
    other = course_with_steps(lessons=1, quizzes=0, slug="counts-2", title="Autre formation")
    course, lesson = built["course"], built["lessons"][0]
    ada = actor_for(people["ada"])
    services.store_statements(
        [
            st(ada, activity=xapi_ids.step(lesson.pk)),  # the step: counts for its course
            st(ada, activity=xapi_ids.course(course.pk)),
            st(ada, activity="http://example.com/act/x",  # the course in context: counts once
               context={"contextActivities": {"parent": [{"id": xapi_ids.course(course.pk)}],
                                              "grouping": [{"id": xapi_ids.step(lesson.pk)}]}}),
            st(ada, activity="http://example.com/act/unrelated"),
        ],
        client=None,
    )  # fmt: skip
    browser = Client()
    browser.force_login(hr)
    with django_assert_max_num_queries(30):
        response = browser.get(COUNTS)
    counts = {row["title"]: row["count"] for row in response.context["rows"]}
    assert counts[course.title] == 3 and counts[other["course"].title] == 0
    link = next(row["url"] for row in response.context["rows"] if row["course_id"] == course.pk)
    assert browse(hr, dict(p.split("=") for p in [link.split("?")[1]])).status_code == 200


def test_the_menu_shows_the_lrs_section_to_hr_only(hr, people):
    browser = Client()
    browser.force_login(hr)
    page = browser.get("/admin/").content.decode()
    assert BROWSER in page and COUNTS in page
    editor = UserFactory(username="editor_menu", groups=["Training editors"])
    browser.force_login(editor)
    assert BROWSER not in browser.get("/admin/").content.decode()
