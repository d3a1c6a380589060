"""The completions export streamed by COPY and the completions pages built by PostgreSQL
(issue 15, items 1 and 2): the same bytes as the Python paths for the same rows, the same
bytes on SQLite and PostgreSQL, one query whatever the number of rows."""

import csv
import io
import json
from datetime import UTC, datetime

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from learning import services
from learning.api import views
from learning.models import Enrollment
from tests.factories import AgentFactory, OrgUnitFactory
from tests.learning.conftest import build_course

pytestmark = pytest.mark.django_db
API = "/api/v1/"
EXPORT = f"{API}completions/export.csv"
BASE = "http://127.0.0.1:8000"  # WAGTAILADMIN_BASE_URL of the test settings

# Cells a CSV writer must quote or neutralise, and floats whose text differs between
# PostgreSQL's float8 output and Python's repr.
NAMES = [
    ("Zoé", "Dupont; fils"),
    ('Jean "Jo"', "Martin, dit"),
    ("Line\nbreak", "Carriage\rreturn"),
    ("=HYPERLINK(1)", "Durand"),
    ("", ""),
    ("Ünïcødé", "\u2028ligne"),
    (" espacée ", "\tTab"),
]
FLOATS = [(1.0, 100.0), (0.1 + 0.2, 1e-05), (0.0, None), (1 / 3, 99.99), (0.5, 12345678.9), (1.0, 50.0), (0.25, 0.0)]
MOMENTS = [
    datetime(2026, 1, 31, 8, 0, tzinfo=UTC),
    datetime(2026, 2, 1, 9, 30, 15, 123456, tzinfo=UTC),
    datetime(2025, 12, 31, 23, 59, 59, 1, tzinfo=UTC),
    None,
]


def build_rows():
    """Seven agents with awkward names, each enrolled once, with awkward values."""
    unit = OrgUnitFactory(code="DRH-X", name="Unité ; « test »")
    course = build_course(title='Titre, "cité"\net ; multiligne', slug="awkward")["course"]
    hr = AgentFactory(user__username="hr_copy", user__groups=["HR"], org_unit=unit)
    for index, (first, last) in enumerate(NAMES):
        agent = AgentFactory(user__first_name=first, user__last_name=last, org_unit=unit)
        if index == 4:
            get_user_model().objects.filter(pk=agent.user_id).update(email="")
        enrollment, _created = services.enroll(agent=agent, course=course)
        progress, score = FLOATS[index]
        Enrollment.objects.filter(pk=enrollment.pk).update(
            progress=progress,
            score=score,
            status="completed" if index % 2 else "in_progress",
            due_at=MOMENTS[index % 4],
            started_at=MOMENTS[(index + 1) % 4],
            completed_at=MOMENTS[(index + 2) % 4],
            expires_at=MOMENTS[(index + 3) % 4],
            certificate_code=f"C{index}" if index % 2 else None,
            updated_at=MOMENTS[index % 3],
        )
    return hr


def client_for(agent):
    client = APIClient()
    client.force_login(agent.user)
    return client


def body(response):
    assert response.status_code == 200, response.content
    return b"".join(response.streaming_content)


def iso(value):
    return "" if value is None else value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def guarded(text):
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def expected_csv(delimiter):
    """The export as docs/api.md describes it, written here from the model's values."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(views.CSV_HEADER)
    rows = Enrollment.objects.select_related("agent__user", "agent__org_unit", "course").order_by("updated_at", "id")
    for e in rows:
        user = e.agent.user
        writer.writerow([
            e.pk, e.agent.employee_number, guarded(f"{user.first_name} {user.last_name}".strip(" ")),
            guarded(user.email), e.agent.org_unit.code, e.course_id, e.course.slug, guarded(e.course.title), e.status,
            e.progress, e.score, iso(e.due_at), iso(e.started_at), iso(e.completed_at), iso(e.expires_at),
            f"{BASE}{API}certificates/{e.pk}.pdf" if e.certificate_code else None, iso(e.updated_at),
        ])  # fmt: skip
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


@pytest.mark.parametrize("delimiter", ["comma", "semicolon"])
def test_export_bytes_follow_the_documented_format_on_every_database(delimiter):
    """SQLite (Python path) and PostgreSQL (COPY) write exactly the same file for the same rows."""
    hr = build_rows()
    response = client_for(hr).get(EXPORT, {"delimiter": delimiter})
    assert response["X-Accel-Buffering"] == "no" and response["Content-Type"] == "text/csv; charset=utf-8"
    assert body(response) == expected_csv(views.DELIMITERS[delimiter])


@pytest.mark.postgres
@pytest.mark.parametrize("delimiter", ["comma", "semicolon"])
@pytest.mark.parametrize("query", [{}, {"status": "completed"}, {"org_unit": "DRH-X"}, {"agent": "nobody"}])
def test_copy_and_python_paths_write_the_same_bytes(monkeypatch, delimiter, query):
    hr = build_rows()
    params = {"delimiter": delimiter, **query}
    by_copy = client_for(hr).get(EXPORT, params)
    monkeypatch.setattr(views, "COPY_EXPORTS", False)
    by_python = client_for(hr).get(EXPORT, params)
    assert by_copy["Content-Disposition"] == by_python["Content-Disposition"]
    copied, written = body(by_copy), body(by_python)
    assert copied == written
    assert copied.count(b"\r\n") >= 1 + (0 if query else len(NAMES))


@pytest.mark.postgres
def test_copy_export_is_one_query_whatever_the_rows(monkeypatch):
    client = client_for(build_rows())
    body(client.get(EXPORT))  # the session and caches warmed

    def queries():
        with CaptureQueriesContext(connection) as ctx:
            rows = body(client.get(EXPORT)).count(b"\r\n") - 1
        copies = [q["sql"] for q in ctx.captured_queries if q["sql"].startswith("COPY (")]
        return len(ctx.captured_queries), len(copies), rows

    small = queries()
    unit = OrgUnitFactory(code="DRH-Y")
    course = Enrollment.objects.first().course
    for _index in range(25):
        services.enroll(agent=AgentFactory(org_unit=unit), course=course)
    large = queries()
    assert small[:2] == large[:2] and small[1] == 1
    assert (small[2], large[2]) == (len(NAMES), len(NAMES) + 25)


# --- completions pages ------------------------------------------------------------------------


def walk(client, url, key="next"):
    pages = []
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.content
        pages.append(response)
        url = json.loads(response.content)[key]
    return pages


@pytest.mark.postgres
@pytest.mark.parametrize("page_size", [1, 3, 1000])
def test_pages_built_by_postgresql_are_the_bytes_drf_writes(monkeypatch, page_size):
    """Forward and backward, every page byte for byte: items, next and previous links."""
    hr = build_rows()
    client = client_for(hr)
    url = f"{API}completions/?page_size={page_size}"
    database = walk(client, url)
    last_previous = json.loads(database[-1].content)["previous"]
    database_back = walk(client, last_previous, "previous") if last_previous else []
    monkeypatch.setattr(views, "JSON_IN_DATABASE", False)
    python = walk(client, url)
    python_back = walk(client, last_previous, "previous") if last_previous else []
    assert [p.content for p in database] == [p.content for p in python]
    assert [p.content for p in database_back] == [p.content for p in python_back]
    assert {p["Content-Type"] for p in database + python} == {"application/json"}
    items = [item for page in database for item in json.loads(page.content)["results"]]
    assert len(items) == len(NAMES) and len({item["id"] for item in items}) == len(NAMES)
    assert len(database) == -(-len(NAMES) // page_size)


@pytest.mark.postgres
def test_pages_with_filters_and_an_empty_page_match(monkeypatch):
    hr = build_rows()
    client = client_for(hr)
    urls = [f"{API}completions/?status=completed&page_size=2", f"{API}completions/?agent=nobody",
            f"{API}completions/?org_unit=DRH-X&updated_since=2026-01-31T08:00:00Z"]  # fmt: skip
    database = [page.content for url in urls for page in walk(client, url)]
    monkeypatch.setattr(views, "JSON_IN_DATABASE", False)
    python = [page.content for url in urls for page in walk(client, url)]
    assert database == python
    assert b'"results":[]' in database[len(walk(client, urls[0]))]


def test_page_items_keep_python_values():
    """The values the item carries, on either database: floats as Python floats, instants
    ISO 8601 with "Z" (the fraction only when not zero), the full name stripped."""
    hr = build_rows()
    results = json.loads(client_for(hr).get(f"{API}completions/?page_size=1000").content)["results"]
    by_id = {item["id"]: item for item in results}
    for e in Enrollment.objects.select_related("agent__user"):
        item = by_id[e.pk]
        assert item["progress"] == e.progress and type(item["progress"]) is float
        assert item["score"] == e.score and (e.score is None or type(item["score"]) is float)
        for field in ("due_at", "started_at", "completed_at", "expires_at", "updated_at"):
            value = getattr(e, field)
            expected = None if value is None else value.astimezone(UTC).isoformat().replace("+00:00", "Z")
            assert item[field] == expected
        assert item["agent"]["full_name"] == f"{e.agent.user.first_name} {e.agent.user.last_name}".strip()
        assert list(item) == ["id", "agent", "course", "status", "progress", "score", "due_at", "started_at",
                              "completed_at", "expires_at", "certificate_url", "updated_at"]  # fmt: skip


def test_completion_page_is_one_query_whatever_the_rows():
    client = client_for(build_rows())
    client.get(f"{API}completions/")  # the session and caches warmed
    unit = OrgUnitFactory(code="DRH-Z")
    course = Enrollment.objects.first().course

    def queries():
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(f"{API}completions/?page_size=1000")
        results = json.loads(response.content)["results"]
        return len(ctx.captured_queries), sum("learning_enrollment" in q["sql"] for q in ctx.captured_queries), results

    small = queries()
    for _index in range(30):
        services.enroll(agent=AgentFactory(org_unit=unit), course=course)
    large = queries()
    assert small[:2] == large[:2] and small[1] == 1
    assert (len(small[2]), len(large[2])) == (len(NAMES), len(NAMES) + 30)
