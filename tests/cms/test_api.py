import pytest
from django.core.management import call_command
from rest_framework.test import APIClient


@pytest.fixture
def api():
    return APIClient()


@pytest.mark.django_db
def test_health_is_public_and_reports_database_and_tasks(api):
    response = api.get("/api/v1/health/")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"]["status"] == "ok"
    assert body["tasks"]["backend"] == "ImmediateBackend"
    assert body["tasks"]["status"] == "ok"


@pytest.mark.django_db
def test_health_reports_last_worker_run_after_a_heartbeat(api):
    call_command("check_tasks", timeout=5)
    assert api.get("/api/v1/health/").json()["tasks"]["last_worker_run"] is not None


@pytest.mark.django_db
def test_health_reports_the_last_job_a_database_worker_ran(api, settings, monkeypatch):
    """Any job a worker finishes counts, not only ``check_tasks``' heartbeat."""
    from cms.tasks import heartbeat

    # The worker closes "old" connections around each job; on PostgreSQL that would end the
    # test's transaction (SQLite's in-memory test database is never closed).
    monkeypatch.setattr("django_tasks_db.management.commands.db_worker.close_old_connections", lambda: None)
    monkeypatch.setattr("django.db.connections.close_all", lambda: None)

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
    assert api.get("/api/v1/health/").json()["tasks"]["last_worker_run"] is None
    heartbeat.enqueue("another-backend", "token", "2026-01-01T00:00:00+00:00")  # a job that is not the check's
    call_command("db_worker", batch=True, no_startup_delay=True, verbosity=0)
    from django_tasks_db.models import DBTaskResult

    assert list(DBTaskResult.objects.values_list("status", flat=True)) == ["SUCCESSFUL"]  # the receiver did not break it
    tasks = api.get("/api/v1/health/").json()["tasks"]
    assert tasks["backend"] == "DatabaseBackend"
    assert tasks["last_worker_run"] is not None


@pytest.mark.django_db
def test_health_answers_503_when_the_database_fails(api, monkeypatch):
    from cms import health

    monkeypatch.setattr(health, "_database", lambda: {"status": "error", "vendor": "x", "error": "RuntimeError"})
    response = api.get("/api/v1/health/")
    assert response.status_code == 503
    assert response.json()["status"] == "error"


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/v1/me/"])
def test_anonymous_is_refused_with_json_detail(api, path):
    response = api.get(path)
    assert response.status_code == 401
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["detail"]
    assert response["WWW-Authenticate"].startswith("Token")


@pytest.mark.django_db
def test_bad_token_is_refused(api):
    api.credentials(HTTP_AUTHORIZATION="Token not-a-real-key")
    response = api.get("/api/v1/me/")
    assert response.status_code == 401
    assert "detail" in response.json()


@pytest.mark.django_db
def test_token_from_create_api_token_is_accepted(api, chain, capsys):
    call_command("create_api_token", "agent", "--name", "SIRH")
    key = capsys.readouterr().out.splitlines()[1]
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    response = api.get("/api/v1/me/")
    assert response.status_code == 200
    body = response.json()
    assert body["username"] == "agent"
    assert body["employee_number"] == chain["agent"].employee_number
    assert body["org_unit"]["code"] == "DRH-SF-B1"
    assert body["manager"]["employee_number"] == chain["manager"].employee_number
    assert body["roles"] == []


@pytest.mark.django_db
def test_me_lists_group_roles_and_derived_manager_role(api, chain):
    api.force_authenticate(chain["manager"].user)
    assert [r["key"] for r in api.get("/api/v1/me/").json()["roles"]] == ["manager"]
    api.force_authenticate(chain["hr"].user)
    assert [r["key"] for r in api.get("/api/v1/me/").json()["roles"]] == ["HR"]


@pytest.mark.django_db
def test_me_for_a_user_without_agent_profile(api, user):
    api.force_authenticate(user)
    body = api.get("/api/v1/me/").json()
    assert body["employee_number"] is None and body["org_unit"] is None


@pytest.mark.django_db
def test_session_authentication_works_for_the_browser(client, chain):
    client.force_login(chain["agent"].user)
    assert client.get("/api/v1/me/").json()["username"] == "agent"


@pytest.mark.django_db
def test_unknown_api_path_is_404(api):
    assert api.get("/api/v1/nope/").status_code == 404


@pytest.mark.django_db
def test_schema_documents_only_our_api(api):
    response = api.get("/api/v1/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert "/api/v1/me/" in paths and "/api/v1/health/" in paths
    assert all(p.startswith("/api/v1/") for p in paths)


@pytest.mark.django_db
def test_docs_load_their_assets_locally(client):
    response = client.get("/api/v1/docs/")
    assert response.status_code == 200
    html = response.text
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in html
    assert "cdn" not in html.lower()


def test_cursor_pagination_caps_page_size():
    from cms.api.pagination import CursorPagination

    assert CursorPagination.max_page_size == 1000
    assert CursorPagination.page_size_query_param == "page_size"
