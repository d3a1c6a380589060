"""The completion API (docs/api.md, DESIGN.md section 5): permissions, filters, cursor
pagination, CSV export, self-enrolment, lessons and quizzes, and query counts."""

import base64
import csv
import io
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from learning import selectors, services
from learning.choices import EnrollmentStatus
from learning.models import Enrollment, LessonPage, QuizPage
from tests.factories import AgentFactory, OrgUnitFactory, api_token_for
from tests.learning.conftest import ALL_RIGHT, HALF_RIGHT, build_course, publish

API = "/api/v1/"
ITEM_KEYS = {
    "id", "agent", "course", "status", "progress", "score", "due_at", "started_at", "completed_at", "expires_at",
    "certificate_url", "updated_at",
}  # fmt: skip
CSV_HEADER = [
    "id", "agent_employee_number", "agent_full_name", "agent_email", "agent_org_unit", "course_id", "course_slug",
    "course_title", "status", "progress", "score", "due_at", "started_at", "completed_at", "expires_at",
    "certificate_url", "updated_at",
]  # fmt: skip
ROLES = ["anonymous", "agent", "manager", "reviewer", "other_manager", "hr", "service"]
AGENT_ROLES = ["agent", "manager", "reviewer", "other_manager", "other_agent", "hr"]
# Whose enrolments each role sees in completions/ and export.csv.
VISIBLE = {
    "agent": {"agent"},
    "manager": {"manager", "agent"},
    "reviewer": {"reviewer", "manager", "agent"},  # N+2: the agent transitively
    "other_manager": {"other_manager", "other_agent"},
    "hr": set(AGENT_ROLES),
    "service": set(AGENT_ROLES),
}


def make_world():
    """The chain of tests/conftest.py, the course of tests/learning/conftest.py, every agent of
    the chain enrolled, and a service account with only the permission and a token."""
    direction = OrgUnitFactory(code="DRH", name="Direction des ressources humaines", kind="direction")
    service = OrgUnitFactory(code="DRH-SF", name="Service de la formation", kind="service", parent=direction)
    bureau = OrgUnitFactory(code="DRH-SF-B1", name="Bureau des parcours", kind="bureau", parent=service)
    reviewer = AgentFactory(user__username="reviewer", org_unit=direction)
    manager = AgentFactory(user__username="manager", org_unit=service, manager=reviewer)
    agent = AgentFactory(user__username="agent", org_unit=bureau, manager=manager)
    other_manager = AgentFactory(user__username="other_manager", org_unit=direction)
    other_agent = AgentFactory(user__username="other_agent", org_unit=direction, manager=other_manager)
    hr = AgentFactory(user__username="hr", user__groups=["HR"], org_unit=direction)
    chain = {"reviewer": reviewer, "manager": manager, "agent": agent, "other_manager": other_manager,
             "other_agent": other_agent, "hr": hr}  # fmt: skip
    course = build_course()
    for member in chain.values():
        services.enroll(agent=member, course=course["course"])
    service_user = get_user_model().objects.create_user("sirh", email="sirh@example.org")
    service_user.user_permissions.add(
        Permission.objects.get(codename="view_all_completions", content_type__app_label="learning")
    )
    token = api_token_for(service_user)
    numbers = {role: member.employee_number for role, member in chain.items()}
    return SimpleNamespace(chain=chain, course=course, token=token, service_user=service_user, numbers=numbers)


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """Built once for the module inside a transaction rolled back at its end; each test runs
    in its own savepoint, so writes never leak from one test to the next. Tests must not
    mutate these objects in memory (re-read what they change)."""
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            yield make_world()
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


def client_for(world, role):
    client = APIClient()
    if role == "service":
        client.credentials(HTTP_AUTHORIZATION=f"Token {world.token}")
    elif role != "anonymous":
        client.force_login(world.chain[role].user)
    return client


def owners(world, roles):
    return {world.numbers[role] for role in roles}


def csv_rows(response):
    assert response.streaming is True
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body[1:])))


def walk(client, url):
    """Every item of a cursor-paginated collection, following ``next``."""
    items, pages = [], 0
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.content
        body = response.json()
        items += body["results"]
        url, pages = body["next"], pages + 1
    return items, pages


# --- permission matrix ------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_matrix_courses(world, role):
    response = client_for(world, role).get(f"{API}courses/")
    if role == "anonymous":
        assert response.status_code == 401 and response.json()["detail"]
        return
    assert response.status_code == 200
    [item] = response.json()["results"]
    assert item["id"] == world.course["course"].pk and item["slug"] == "rgpd"


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_matrix_completions(world, role):
    response = client_for(world, role).get(f"{API}completions/")
    if role == "anonymous":
        assert response.status_code == 401 and response["WWW-Authenticate"].startswith("Token")
        return
    assert response.status_code == 200
    seen = {item["agent"]["employee_number"] for item in response.json()["results"]}
    assert seen == owners(world, VISIBLE[role])


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_matrix_export_csv(world, role):
    response = client_for(world, role).get(f"{API}completions/export.csv")
    if role == "anonymous":
        assert response.status_code == 401 and response.json()["detail"]
        return
    assert response.status_code == 200
    rows = csv_rows(response)
    assert {row[1] for row in rows[1:]} == owners(world, VISIBLE[role])


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_matrix_my_enrollments_get(world, role):
    response = client_for(world, role).get(f"{API}me/enrollments/")
    if role == "anonymous":
        assert response.status_code == 401
        return
    assert response.status_code == 200
    seen = [item["agent"]["employee_number"] for item in response.json()]
    assert seen == ([] if role == "service" else [world.numbers[role]])


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_matrix_my_enrollments_post(world, role):
    other = build_course(title="Sécurité incendie", slug="incendie")
    response = client_for(world, role).post(f"{API}me/enrollments/", {"course": other["course"].pk}, format="json")
    expected = {"anonymous": 401, "service": 403}.get(role, 201)
    assert response.status_code == expected, response.content
    if expected == 201:
        assert response.json()["agent"]["employee_number"] == world.numbers[role]
        assert response.json()["course"]["id"] == other["course"].pk
    assert Enrollment.objects.filter(course=other["course"]).count() == (1 if expected == 201 else 0)


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_matrix_complete_lesson(world, role):
    lesson = world.course["lessons"][0]
    response = client_for(world, role).post(f"{API}me/lessons/{lesson.pk}/complete/")
    expected = {"anonymous": 401, "service": 403}.get(role, 200)
    assert response.status_code == expected, response.content
    if expected == 200:
        body = response.json()
        assert body["agent"]["employee_number"] == world.numbers[role]
        assert body["status"] == "in_progress" and body["progress"] == pytest.approx(1 / 3, abs=0.001)
    else:
        assert not Enrollment.objects.filter(lesson_progress__isnull=False).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_matrix_quiz_attempt(world, role):
    quiz = world.course["quiz"]
    response = client_for(world, role).post(
        f"{API}me/quizzes/{quiz.pk}/attempts/", {"answers": ALL_RIGHT}, format="json"
    )
    expected = {"anonymous": 401, "service": 403}.get(role, 200)
    assert response.status_code == expected, response.content
    if expected == 200:
        assert response.json()["enrollment"]["agent"]["employee_number"] == world.numbers[role]
    else:
        assert not Enrollment.objects.filter(attempts__isnull=False).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["agent", "manager", "reviewer", "other_manager", "hr", "service"])
def test_paged_visibility_reads_the_same_rows_with_the_team_materialised(world, role):
    """The PostgreSQL shape of the visibility filter (team ids read first) selects exactly
    the rows of completions_visible_to, whatever the database it runs on."""
    user = world.service_user if role == "service" else world.chain[role].user
    expected = set(selectors.completions_visible_to(user).values_list("pk", flat=True))
    for materialise in (True, False):
        rows = selectors.completions_visible_to_paged(user, materialise_team=materialise)
        assert set(rows.values_list("pk", flat=True)) == expected
    assert {number for number in Enrollment.objects.filter(pk__in=expected).values_list(
        "agent__employee_number", flat=True)} == owners(world, VISIBLE[role])  # fmt: skip


@pytest.mark.django_db
def test_courses_keyset_pages_by_title_and_constant_queries(world):
    client = client_for(world, "agent")
    count_queries(client, f"{API}courses/")  # warm Wagtail's site root-path cache (filled once per process)
    one = count_queries(client, f"{API}courses/")
    first = build_course(title="Accueil des usagers", slug="accueil-1")["course"]
    second = build_course(title="Accueil des usagers", slug="accueil-2")["course"]  # same title
    draft = build_course(title="Brouillon", slug="brouillon")["course"]
    draft.unpublish()
    items, pages = walk(client, f"{API}courses/?page_size=1")
    assert [item["id"] for item in items] == [first.pk, second.pk, world.course["course"].pk] and pages == 3
    assert set(items[0]) == {"id", "slug", "title", "summary", "theme", "estimated_minutes", "self_enrollment",
                             "validity_months", "url"}  # fmt: skip
    assert items[0]["url"].startswith("http") and items[0]["url"].rstrip("/").endswith("accueil-1")
    assert count_queries(client, f"{API}courses/") == one


# --- completions: items, filters ------------------------------------------------------------------


@pytest.mark.django_db
def test_completion_item_shape_and_certificate_url(world):
    agent = world.chain["agent"]
    for lesson in world.course["lessons"]:
        services.complete_lesson(user=agent.user, lesson=lesson)
    services.submit_quiz(user=agent.user, quiz=world.course["quiz"], answers=ALL_RIGHT)
    client = client_for(world, "hr")
    results = client.get(f"{API}completions/", {"agent": agent.employee_number}).json()["results"]
    [item] = results
    assert set(item) == ITEM_KEYS
    enrollment = Enrollment.objects.get(agent=agent)
    assert item["id"] == enrollment.pk
    assert item["agent"] == {
        "employee_number": agent.employee_number,
        "full_name": agent.user.get_full_name(),
        "email": agent.user.email,
        "org_unit": "DRH-SF-B1",
    }
    assert item["course"] == {"id": world.course["course"].pk, "slug": "rgpd", "title": "Protection des données"}
    assert item["status"] == "completed" and item["progress"] == 1.0 and item["score"] == 100.0
    assert item["certificate_url"] == f"http://127.0.0.1:8000/api/v1/certificates/{enrollment.pk}.pdf"
    assert datetime.fromisoformat(item["completed_at"]) == enrollment.completed_at
    assert datetime.fromisoformat(item["updated_at"]) == enrollment.updated_at
    others = client.get(f"{API}completions/", {"agent": world.numbers["other_agent"]}).json()["results"]
    assert others[0]["certificate_url"] is None and others[0]["completed_at"] is None


@pytest.mark.django_db
def test_filter_course(world):
    other = build_course(title="Sécurité incendie", slug="incendie")
    services.enroll(agent=world.chain["agent"], course=other["course"])
    client = client_for(world, "hr")
    results = client.get(f"{API}completions/", {"course": other["course"].pk}).json()["results"]
    assert [(r["course"]["slug"], r["agent"]["employee_number"]) for r in results] == [
        ("incendie", world.numbers["agent"])
    ]
    assert client.get(f"{API}completions/", {"course": 999999}).json()["results"] == []


@pytest.mark.django_db
def test_filter_org_unit_takes_the_subtree(world):
    client = client_for(world, "hr")
    results = client.get(f"{API}completions/", {"org_unit": "DRH-SF"}).json()["results"]
    assert {r["agent"]["employee_number"] for r in results} == owners(world, ["manager", "agent"])
    results = client.get(f"{API}completions/", {"org_unit": "DRH"}).json()["results"]
    assert len(results) == len(AGENT_ROLES)


@pytest.mark.django_db
def test_filter_agent(world):
    results = client_for(world, "hr").get(f"{API}completions/", {"agent": world.numbers["other_agent"]}).json()
    assert [r["agent"]["employee_number"] for r in results["results"]] == [world.numbers["other_agent"]]
    # a manager filtering on someone outside their team sees nothing, not an error
    results = client_for(world, "manager").get(f"{API}completions/", {"agent": world.numbers["other_agent"]}).json()
    assert results["results"] == []


@pytest.mark.django_db
def test_filter_status_single_list_and_repeated(world):
    Enrollment.objects.filter(agent=world.chain["agent"]).update(status=EnrollmentStatus.COMPLETED)
    Enrollment.objects.filter(agent=world.chain["manager"]).update(status=EnrollmentStatus.FAILED)
    client = client_for(world, "hr")

    def numbers(params):
        return {r["agent"]["employee_number"] for r in client.get(f"{API}completions/", params).json()["results"]}

    assert numbers({"status": "completed"}) == owners(world, ["agent"])
    assert numbers({"status": "completed,failed"}) == owners(world, ["agent", "manager"])
    assert numbers({"status": ["completed", "failed"]}) == owners(world, ["agent", "manager"])
    assert len(numbers({"status": "not_started"})) == len(AGENT_ROLES) - 2


@pytest.mark.django_db
def test_filter_updated_since_gives_an_incremental_sync(world):
    t0 = datetime(2020, 1, 10, 8, 0, tzinfo=UTC)
    enrollments = list(Enrollment.objects.order_by("pk"))
    for index, enrollment in enumerate(enrollments):  # update() bypasses auto_now
        Enrollment.objects.filter(pk=enrollment.pk).update(updated_at=t0 + timedelta(hours=index))
    client = client_for(world, "service")
    everything, _pages = walk(client, f"{API}completions/")
    assert len(everything) == len(enrollments)
    watermark = max(datetime.fromisoformat(item["updated_at"]) for item in everything)

    # nothing changed since the last sync: only the rows at the watermark itself (inclusive)
    since = client.get(f"{API}completions/", {"updated_since": watermark.isoformat()}).json()["results"]
    assert [item["id"] for item in since] == [enrollments[-1].pk]
    # an agent makes progress: the next sync returns that row, and only rows changed after
    services.complete_lesson(user=world.chain["agent"].user, lesson=world.course["lessons"][0])
    after = watermark + timedelta(microseconds=1)
    changed = client.get(f"{API}completions/", {"updated_since": after.isoformat()}).json()["results"]
    assert [(item["agent"]["employee_number"], item["status"]) for item in changed] == [
        (world.numbers["agent"], "in_progress")
    ]
    # offsets and "Z" are understood; a raw "+" (decoded as a space) too
    paris = (t0 + timedelta(hours=2)).astimezone(timezone_paris())
    rows = client.get(f"{API}completions/?updated_since={paris.isoformat()}").json()["results"]
    assert len(rows) == len(enrollments) - 2
    rows = client.get(f"{API}completions/", {"updated_since": "2020-01-10T10:00:00Z"}).json()["results"]
    assert len(rows) == len(enrollments) - 2


def timezone_paris():
    from zoneinfo import ZoneInfo

    return ZoneInfo("Europe/Paris")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "param, value",
    [
        ("course", "abc"),
        ("course", "²"),
        ("course", "99999999999999999999999"),
        ("org_unit", "NOPE"),
        ("agent", "x" * 40),
        ("status", "done"),
        ("status", "completed,nope"),
        ("updated_since", "yesterday"),
        ("updated_since", "2026-13-45"),
    ],
)
@pytest.mark.parametrize("endpoint", ["completions/", "completions/export.csv"])
def test_bad_filter_is_a_400_naming_the_parameter(world, endpoint, param, value):
    response = client_for(world, "hr").get(f"{API}{endpoint}", {param: value})
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert list(body["errors"]) == [param] and body["errors"][param]
    assert param in body["detail"]


# --- cursor pagination ---------------------------------------------------------------------------------


@pytest.fixture
def many(world):
    """13 enrolments; some share the exact same updated_at (as after a bulk update)."""
    agent = world.chain["agent"]
    Enrollment.objects.bulk_create(
        [Enrollment(agent=agent, course=world.course["course"], cycle=c, status="expired") for c in range(2, 9)]
    )
    same = datetime(2020, 2, 1, 12, 0, tzinfo=UTC)
    ids = list(Enrollment.objects.order_by("pk").values_list("pk", flat=True))
    Enrollment.objects.filter(pk__in=ids[::2]).update(updated_at=same)  # 7 rows tie
    Enrollment.objects.filter(pk__in=ids[1::4]).update(updated_at=same - timedelta(days=1))
    return Enrollment.objects.order_by("updated_at", "pk")


@pytest.mark.django_db
def test_cursor_pages_walk_every_row_once_in_sync_order(world, many):
    client = client_for(world, "hr")
    items, pages = walk(client, f"{API}completions/?page_size=2")
    assert [item["id"] for item in items] == list(many.values_list("pk", flat=True))
    assert pages == 7 and len(items) == 13 and len({item["id"] for item in items}) == 13
    first = client.get(f"{API}completions/?page_size=2").json()
    assert first["previous"] is None and set(first["results"][0]) == ITEM_KEYS


@pytest.mark.django_db
def test_cursor_previous_links_walk_back(world, many):
    client = client_for(world, "hr")
    url, last = f"{API}completions/?page_size=3", None
    while url:
        last = client.get(url).json()
        url = last["next"]
    backwards = [item["id"] for item in last["results"]]
    url = last["previous"]
    while url:
        page = client.get(url).json()
        backwards = [item["id"] for item in page["results"]] + backwards
        url = page["previous"]
    assert backwards == list(many.values_list("pk", flat=True))


@pytest.mark.django_db
def test_cursor_sees_rows_updated_during_the_walk_at_the_end(world, many):
    client = client_for(world, "hr")
    page = client.get(f"{API}completions/?page_size=5").json()
    first_id = page["results"][0]["id"]
    Enrollment.objects.get(pk=first_id).save()  # updated now: moves after every other row
    rest, _pages = walk(client, page["next"])
    assert rest[-1]["id"] == first_id
    assert len(page["results"]) + len(rest) == 14


@pytest.mark.django_db
def test_page_size_is_capped_at_1000(world):
    agent = world.chain["agent"]
    Enrollment.objects.bulk_create(
        [Enrollment(agent=agent, course=world.course["course"], cycle=c, status="expired") for c in range(2, 1003)]
    )
    body = client_for(world, "hr").get(f"{API}completions/", {"page_size": 5000}).json()
    assert len(body["results"]) == 1000 and body["next"]
    assert len(client_for(world, "hr").get(f"{API}completions/").json()["results"]) == 100  # default


@pytest.mark.django_db
def test_invalid_cursor_is_a_404_with_detail(world):
    client = client_for(world, "hr")
    for position in (b"p=not-a-position", b"p=2026-01-01T00:00:00|x", b"p=yesterday|12"):
        response = client.get(f"{API}completions/", {"cursor": base64.b64encode(position).decode()})
        assert response.status_code == 404 and response.json()["detail"]


# --- CSV export -----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_export_csv_header_rows_and_headers(world):
    agent = world.chain["agent"]
    for lesson in world.course["lessons"]:
        services.complete_lesson(user=agent.user, lesson=lesson)
    services.submit_quiz(user=agent.user, quiz=world.course["quiz"], answers=ALL_RIGHT)
    client = client_for(world, "hr")
    response = client.get(f"{API}completions/export.csv", HTTP_ACCEPT="text/csv")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="completions-')
    rows = csv_rows(response)
    assert rows[0] == CSV_HEADER
    api_items, _pages = walk(client, f"{API}completions/")
    assert [int(row[0]) for row in rows[1:]] == [item["id"] for item in api_items]  # same rows, same order
    record = dict(zip(CSV_HEADER, next(row for row in rows[1:] if row[1] == agent.employee_number), strict=True))
    enrollment = Enrollment.objects.get(agent=agent)
    assert record["agent_full_name"] == agent.user.get_full_name()
    assert record["agent_org_unit"] == "DRH-SF-B1" and record["course_slug"] == "rgpd"
    assert record["status"] == "completed" and float(record["progress"]) == 1.0 and float(record["score"]) == 100.0
    assert record["certificate_url"] == f"http://127.0.0.1:8000/api/v1/certificates/{enrollment.pk}.pdf"
    assert datetime.fromisoformat(record["completed_at"]) == enrollment.completed_at
    assert record["completed_at"].endswith("Z") and record["due_at"] == ""


@pytest.mark.django_db
def test_export_csv_applies_filters_and_visibility(world):
    Enrollment.objects.filter(agent__in=[world.chain["agent"], world.chain["other_agent"]]).update(status="completed")
    response = client_for(world, "hr").get(f"{API}completions/export.csv", {"status": "completed"})
    assert {row[1] for row in csv_rows(response)[1:]} == owners(world, ["agent", "other_agent"])
    response = client_for(world, "manager").get(f"{API}completions/export.csv", {"status": "completed"})
    assert {row[1] for row in csv_rows(response)[1:]} == owners(world, ["agent"])
    response = client_for(world, "hr").get(f"{API}completions/export.csv", {"org_unit": "DRH-SF-B1"})
    assert {row[1] for row in csv_rows(response)[1:]} == owners(world, ["agent"])


@pytest.mark.django_db
def test_export_csv_semicolon_for_excel_and_formula_cells_neutralised(world):
    get_user_model().objects.filter(pk=world.chain["agent"].user_id).update(
        first_name="=HYPERLINK(1)", last_name="Dupont"
    )
    response = client_for(world, "hr").get(f"{API}completions/export.csv", {"delimiter": "semicolon"})
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    assert body.splitlines()[0] == ";".join(CSV_HEADER)
    rows = list(csv.reader(io.StringIO(body), delimiter=";"))
    assert "'=HYPERLINK(1) Dupont" in [row[2] for row in rows]
    bad = client_for(world, "hr").get(f"{API}completions/export.csv", {"delimiter": "tab"})
    assert bad.status_code == 400 and list(bad.json()["errors"]) == ["delimiter"]


# --- query counts do not grow with the rows ----------------------------------------------------------


def count_queries(client, url, stream=False):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
        assert response.status_code == 200
        if stream:
            b"".join(response.streaming_content)
    return len(ctx.captured_queries)


def add_team(world, size):
    """``size`` more reports of the manager, each enrolled; some with a certificate."""
    for index in range(size):
        agent = AgentFactory(manager=world.chain["manager"], org_unit=world.chain["manager"].org_unit)
        enrollment, _created = services.enroll(agent=agent, course=world.course["course"])
        if index % 2:
            Enrollment.objects.filter(pk=enrollment.pk).update(status="completed", certificate_code=f"C{agent.pk}")


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["hr", "manager", "service"])
def test_completions_and_export_queries_do_not_grow(world, role):
    urls = [(f"{API}completions/?page_size=1000", False), (f"{API}completions/?org_unit=DRH", False),
            (f"{API}completions/export.csv", True), (f"{API}completions/export.csv?org_unit=DRH", True)]  # fmt: skip
    add_team(world, 5)
    small = [count_queries(client_for(world, role), url, stream) for url, stream in urls]
    add_team(world, 35)
    large = [count_queries(client_for(world, role), url, stream) for url, stream in urls]
    assert small == large
    assert Enrollment.objects.count() == len(AGENT_ROLES) + 40


@pytest.mark.django_db
def test_my_enrollments_queries_do_not_grow(world):
    agent = world.chain["agent"]

    def add_cycles(first, last):
        Enrollment.objects.bulk_create(
            [
                Enrollment(
                    agent=agent, course=world.course["course"], cycle=c, status="expired", certificate_code=f"X{c}"
                )
                for c in range(first, last)
            ]
        )

    add_cycles(2, 6)
    client = client_for(world, "agent")
    assert len(client.get(f"{API}me/enrollments/").json()) == 5
    small = count_queries(client, f"{API}me/enrollments/")
    add_cycles(6, 41)
    assert len(client.get(f"{API}me/enrollments/").json()) == 40
    assert count_queries(client, f"{API}me/enrollments/") == small


# --- quizzes, lessons ---------------------------------------------------------------------------------


def no_answer_leak(text):
    return '"correct"' not in text and "accepted_answers" not in text and "CNIL" not in text


@pytest.mark.django_db
def test_quiz_wrong_then_right_answers(world):
    client = client_for(world, "agent")
    url = f"{API}me/quizzes/{world.course['quiz'].pk}/attempts/"
    for path in (f"{API}courses/", f"{API}me/enrollments/", f"{API}completions/"):
        assert no_answer_leak(client.get(path).content.decode())  # nothing reveals answers before
    response = client.post(url, {"answers": HALF_RIGHT}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["score"], body["passed"], body["attempt"], body["attempts_remaining"]) == (50.0, False, 1, 1)
    assert body["feedback"]["q-multi"] == {
        "correct": False,
        "feedback": "Le nom et l'e-mail sont des données personnelles.",
    }
    assert body["feedback"]["q-single"]["correct"] is True
    assert body["enrollment"]["status"] == "in_progress" and body["enrollment"]["score"] == 50.0

    for lesson in world.course["lessons"]:
        assert client.post(f"{API}me/lessons/{lesson.pk}/complete/").status_code == 200
    body = client.post(url, {"answers": ALL_RIGHT}, format="json").json()
    assert (body["score"], body["passed"], body["attempt"]) == (100.0, True, 2)
    enrollment = body["enrollment"]
    assert enrollment["status"] == "completed" and enrollment["progress"] == 1.0
    assert enrollment["certificate_url"].endswith(f"/api/v1/certificates/{enrollment['id']}.pdf")
    # already passed for this cycle
    again = client.post(url, {"answers": ALL_RIGHT}, format="json")
    assert again.status_code == 409 and again.json()["detail"]


@pytest.mark.django_db
def test_quiz_attempt_limit_is_a_409(world):
    client = client_for(world, "agent")
    url = f"{API}me/quizzes/{world.course['quiz'].pk}/attempts/"
    assert client.post(url, {"answers": HALF_RIGHT}, format="json").json()["attempts_remaining"] == 1
    last = client.post(url, {"answers": HALF_RIGHT}, format="json").json()
    assert last["attempts_remaining"] == 0 and last["enrollment"]["status"] == "failed"
    response = client.post(url, {"answers": ALL_RIGHT}, format="json")
    assert response.status_code == 409
    assert "tentatives" in response.json()["detail"]
    assert Enrollment.objects.get(agent=world.chain["agent"]).attempts.count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize(
    "payload, field, mentioned",
    [
        ({"answers": {"nope": ["x"]}}, "answers", "nope"),
        ({"answers": {"q-single": ["c-unknown"]}}, "q-single", "c-unknown"),
        ({"answers": {"q-tf": ["yes"]}}, "q-tf", "q-tf"),
        ({"answers": ["c-8"]}, "answers", "answers"),
        ({}, "answers", "answers"),
    ],
)
def test_quiz_bad_answers_are_a_400_naming_the_question(world, payload, field, mentioned):
    client = client_for(world, "agent")
    response = client.post(f"{API}me/quizzes/{world.course['quiz'].pk}/attempts/", payload, format="json")
    assert response.status_code == 400, response.content
    body = response.json()
    assert field in body["errors"] and mentioned in body["detail"] + str(body["errors"])
    assert not Enrollment.objects.filter(attempts__isnull=False).exists()


@pytest.mark.django_db
def test_quiz_has_no_get_and_unknown_or_unpublished_quiz_is_a_404(world):
    client = client_for(world, "agent")
    quiz = QuizPage.objects.get(pk=world.course["quiz"].pk)  # a fresh copy: the shared one stays published
    response = client.get(f"{API}me/quizzes/{quiz.pk}/attempts/")
    assert response.status_code == 405 and no_answer_leak(response.content.decode())
    lesson = world.course["lessons"][0]
    assert client.post(f"{API}me/quizzes/{lesson.pk}/attempts/", {"answers": {}}, format="json").status_code == 404
    quiz.unpublish()
    response = client.post(f"{API}me/quizzes/{quiz.pk}/attempts/", {"answers": ALL_RIGHT}, format="json")
    assert response.status_code == 404 and response.json()["detail"]


@pytest.mark.django_db
def test_complete_lesson_unknown_or_unpublished_is_a_404(world):
    client = client_for(world, "agent")
    lesson = LessonPage.objects.get(pk=world.course["lessons"][1].pk)  # a fresh copy, unpublished below
    assert client.post(f"{API}me/lessons/999999/complete/").status_code == 404
    assert client.post(f"{API}me/lessons/{world.course['quiz'].pk}/complete/").status_code == 404
    lesson.unpublish()
    response = client.post(f"{API}me/lessons/{lesson.pk}/complete/")
    assert response.status_code == 404 and response.json()["detail"]
    publish(lesson)
    body = client.post(f"{API}me/lessons/{lesson.pk}/complete/").json()
    assert body["progress"] == pytest.approx(1 / 3, abs=0.001)
    again = client.post(f"{API}me/lessons/{lesson.pk}/complete/").json()  # idempotent
    assert again["id"] == body["id"] and again["progress"] == body["progress"]


@pytest.mark.django_db
def test_complete_lesson_on_failed_enrolment_is_a_409(world):
    client = client_for(world, "agent")
    Enrollment.objects.filter(agent=world.chain["agent"]).update(status=EnrollmentStatus.FAILED)
    response = client.post(f"{API}me/lessons/{world.course['lessons'][0].pk}/complete/")
    assert response.status_code == 409 and response.json()["detail"]


# --- self-enrolment --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_self_enrolment_created_then_existing(world):
    built = build_course(slug="libre")
    client = client_for(world, "agent")
    first = client.post(f"{API}me/enrollments/", {"course": built["course"].pk}, format="json")
    assert first.status_code == 201 and set(first.json()) == ITEM_KEYS
    assert first.json()["status"] == "not_started"
    again = client.post(f"{API}me/enrollments/", {"course": built["course"].pk}, format="json")
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    mine = {item["id"] for item in client.get(f"{API}me/enrollments/").json()}
    assert first.json()["id"] in mine and len(mine) == 2


@pytest.mark.django_db
def test_self_enrolment_on_assignment_only_course_is_a_403(world):
    built = build_course(slug="obligatoire", self_enrollment=False)
    client = client_for(world, "agent")
    response = client.post(f"{API}me/enrollments/", {"course": built["course"].pk}, format="json")
    assert response.status_code == 403 and "assignation" in response.json()["detail"]
    assert not Enrollment.objects.filter(course=built["course"]).exists()


@pytest.mark.django_db
def test_self_enrolment_after_failure_is_a_409(world):
    user = world.chain["agent"].user
    for _attempt in range(2):
        services.submit_quiz(user=user, quiz=world.course["quiz"], answers=HALF_RIGHT)
    client = client_for(world, "agent")
    response = client.post(f"{API}me/enrollments/", {"course": world.course["course"].pk}, format="json")
    assert response.status_code == 409 and response.json()["detail"]
    assert Enrollment.objects.filter(agent=world.chain["agent"]).count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("payload", [{"course": 999999}, {"course": "abc"}, {}, {"course": -1}])
def test_self_enrolment_bad_course_is_a_400_naming_course(world, payload):
    response = client_for(world, "agent").post(f"{API}me/enrollments/", payload, format="json")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["course"] and "course" in response.json()["detail"]
    assert Enrollment.objects.count() == len(AGENT_ROLES)


@pytest.mark.django_db
def test_self_enrolment_on_unpublished_course_is_a_400(world):
    built = build_course(slug="brouillon")
    built["course"].unpublish()
    response = client_for(world, "agent").post(f"{API}me/enrollments/", {"course": built["course"].pk}, format="json")
    assert response.status_code == 400 and "course" in response.json()["errors"]


# --- schema -------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_schema_documents_the_learning_endpoints():
    response = APIClient().get(f"{API}schema/")
    assert response.status_code == 200
    text = response.content.decode()
    for path in ("/api/v1/courses/", "/api/v1/completions/", "/api/v1/completions/export.csv",
                 "/api/v1/me/enrollments/", "/api/v1/me/lessons/{lesson_id}/complete/",
                 "/api/v1/me/quizzes/{quiz_id}/attempts/"):  # fmt: skip
        assert path in text


# --- certificates through the API (issue 13, item 20) -------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "role, allowed",
    [("agent", True), ("manager", True), ("hr", True), ("service", True), ("other_agent", False), ("anonymous", False)],
)
def test_certificate_url_works_with_the_api_credentials_of_whoever_may_read_it(world, role, allowed):
    agent = world.chain["agent"]
    for lesson in world.course["lessons"]:
        services.complete_lesson(user=agent.user, lesson=lesson)
    services.submit_quiz(user=agent.user, quiz=world.course["quiz"], answers=ALL_RIGHT)
    [item] = client_for(world, "hr").get(f"{API}completions/", {"agent": agent.employee_number}).json()["results"]
    response = client_for(world, role).get(item["certificate_url"], HTTP_ACCEPT="application/pdf")
    if allowed:
        assert response.status_code == 200, response.content[:200]
        assert response["Content-Type"] == "application/pdf"
        assert b"".join(response.streaming_content).startswith(b"%PDF")
    elif role == "anonymous":
        assert response.status_code == 401  # a token client is told to authenticate, not sent to a login page
    else:
        assert response.status_code == 404
        assert response["Content-Type"].startswith("application/json")


@pytest.mark.django_db
def test_certificate_of_an_unfinished_enrolment_is_404(world):
    enrollment = Enrollment.objects.get(agent=world.chain["agent"])
    assert client_for(world, "service").get(f"{API}certificates/{enrollment.pk}.pdf").status_code == 404
    assert client_for(world, "service").get(f"{API}certificates/99999999999999999999.pdf").status_code == 404


@pytest.mark.django_db
def test_links_in_the_api_follow_the_public_base_url_not_the_host_header(world, settings):
    """Behind a reverse proxy the Host header may be an internal name: ``next`` and
    ``certificate_url`` are built on WAGTAILADMIN_BASE_URL (issue 13, item 2)."""
    settings.WAGTAILADMIN_BASE_URL = "https://parcours.ville.example"
    agent = world.chain["agent"]
    for lesson in world.course["lessons"]:
        services.complete_lesson(user=agent.user, lesson=lesson)
    services.submit_quiz(user=agent.user, quiz=world.course["quiz"], answers=ALL_RIGHT)
    client = client_for(world, "service")
    body = client.get(f"{API}completions/", {"page_size": 1}, HTTP_HOST="10.0.0.7:8000").json()
    assert body["next"].startswith("https://parcours.ville.example/api/v1/completions/?")
    [item] = client.get(f"{API}completions/", {"agent": agent.employee_number}, HTTP_HOST="10.0.0.7").json()["results"]
    assert item["certificate_url"].startswith("https://parcours.ville.example/api/v1/certificates/")
