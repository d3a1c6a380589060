"""Health report for /api/v1/health/ and operators."""

from django.db import connection
from django_tasks import task_backends


def _database():
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return {"status": "ok", "vendor": connection.vendor}
    except Exception as exc:  # noqa: BLE001 - a health check reports, it does not raise
        return {"status": "error", "vendor": connection.vendor, "error": exc.__class__.__name__}


def _tasks():
    backend = task_backends["default"]
    name = backend.__class__.__name__
    info = {"backend": name, "status": "ok"}
    try:
        if name == "RQBackend":
            import django_rq

            django_rq.get_connection("default").ping()
        elif name == "DatabaseBackend":
            from django_tasks_db.models import DBTaskResult

            info["queued"] = DBTaskResult.objects.filter(status="READY").count()
        from cms.models import TaskHeartbeat
        from cms.tasks import LAST_JOB

        # The last heartbeat of ``check_tasks`` or the last job a worker finished.
        beat = TaskHeartbeat.objects.filter(backend__in=(name, name + LAST_JOB)).order_by("-ran_at").only("ran_at").first()
        info["last_worker_run"] = beat.ran_at.isoformat() if beat else None
    except Exception as exc:  # noqa: BLE001
        info.update(status="error", error=exc.__class__.__name__)
    return info


def report():
    database, tasks = _database(), _tasks()
    ok = database["status"] == "ok" and tasks["status"] == "ok"
    return {"status": "ok" if ok else "error", "database": database, "tasks": tasks}
