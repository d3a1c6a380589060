"""/api/v1/health/ reports the task queue: depth and the oldest waiting task, for the
database backend (django_tasks_db) and for RQ, in a number of queries that does not grow
with the queue."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from rest_framework.test import APIClient

from cms.tasks import heartbeat

DB_BACKEND = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}


@pytest.fixture
def api():
    return APIClient()


def health_tasks(api):
    response = api.get("/api/v1/health/")
    assert response.status_code == 200, response.content
    return response.json()["tasks"]


def enqueue(count):
    for number in range(count):
        heartbeat.enqueue("probe", f"token-{number}", timezone.now().isoformat())


@pytest.mark.django_db
def test_immediate_backend_reports_an_empty_queue(api):
    tasks = health_tasks(api)
    assert tasks["queued"] == 0 and tasks["oldest_queued_at"] is None and tasks["oldest_queued_age_seconds"] is None
    assert tasks["backend"] == "ImmediateBackend" and tasks["status"] == "ok" and "last_worker_run" in tasks


@pytest.mark.django_db
def test_database_backend_reports_depth_and_oldest_waiting_task(api, settings):
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = DB_BACKEND
    assert health_tasks(api)["queued"] == 0
    enqueue(3)
    an_hour_ago = timezone.now() - timedelta(hours=1)
    oldest = DBTaskResult.objects.order_by("enqueued_at").first()
    DBTaskResult.objects.filter(pk=oldest.pk).update(enqueued_at=an_hour_ago)
    # a task already running or finished is not waiting, nor one scheduled for later
    finished = DBTaskResult.objects.exclude(pk=oldest.pk).first()
    DBTaskResult.objects.filter(pk=finished.pk).update(status="SUCCESSFUL")
    heartbeat.using(run_after=timezone.now() + timedelta(hours=2)).enqueue(
        "probe", "later", "2026-01-01T00:00:00+00:00"
    )
    tasks = health_tasks(api)
    assert tasks["backend"] == "DatabaseBackend" and tasks["status"] == "ok"
    assert tasks["queued"] == 2
    assert parse_datetime(tasks["oldest_queued_at"]) == an_hour_ago
    assert 3600 <= tasks["oldest_queued_age_seconds"] < 3600 + 120


@pytest.mark.django_db
def test_health_query_count_does_not_grow_with_the_queue(api, settings):
    settings.TASKS = DB_BACKEND
    enqueue(1)
    with CaptureQueriesContext(connection) as few:
        assert health_tasks(api)["queued"] == 1
    enqueue(20)
    with CaptureQueriesContext(connection) as many:
        assert health_tasks(api)["queued"] == 21
    assert len(many) == len(few)


def redis_or_skip(url):
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.exceptions.ConnectionError:
        pytest.skip(f"no Redis at {url} (start redis-server to run the RQ health test)")


@pytest.mark.django_db
def test_rq_backend_reports_depth_and_oldest_waiting_job(api, settings):
    import django_rq

    url = "redis://127.0.0.1:6379/0"
    redis_or_skip(url)
    queue_name = "h2-health-probe"  # a queue of its own: no worker, nobody else's jobs
    settings.RQ_QUEUES = {**settings.RQ_QUEUES, queue_name: {"URL": url, "DEFAULT_TIMEOUT": 60}}
    settings.TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": [queue_name]}}
    queue = django_rq.get_queue(queue_name)
    queue.empty()
    try:
        assert health_tasks(api)["queued"] == 0
        before = timezone.now()
        for number in range(2):
            heartbeat.using(queue_name=queue_name).enqueue("probe", f"rq-{number}", before.isoformat())
        tasks = health_tasks(api)
        assert tasks["backend"] == "RQBackend" and tasks["status"] == "ok"
        assert tasks["queued"] == 2
        oldest = parse_datetime(tasks["oldest_queued_at"])
        assert before - timedelta(seconds=1) <= oldest <= timezone.now()
        assert tasks["oldest_queued_age_seconds"] >= 0
    finally:
        queue.empty()


@pytest.mark.django_db
def test_an_unreachable_rq_server_is_an_error_not_a_crash(api, settings):
    settings.RQ_QUEUES = {"default": {"URL": "redis://127.0.0.1:1/0", "DEFAULT_TIMEOUT": 60}}
    settings.TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
    response = api.get("/api/v1/health/")
    assert response.status_code == 503
    assert response.json()["tasks"]["status"] == "error" and response.json()["tasks"]["error"]
