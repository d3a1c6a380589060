"""Health report for /api/v1/health/ and operators.

Besides the database and the worker's last run, the task part reports the queue: how many
tasks wait (``queued``) and how long the oldest has waited (``oldest_queued_at``,
``oldest_queued_age_seconds``), for the database backend (django_tasks_db) and for RQ. A
queue that only grows or an oldest task hours old means the workers do not keep up (or
none runs): see docs/operations.md."""

from datetime import UTC

from django.db import connection
from django.utils import timezone
from django_tasks import task_backends


def _database():
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return {"status": "ok", "vendor": connection.vendor}
    except Exception as exc:  # noqa: BLE001 - a health check reports, it does not raise
        return {"status": "error", "vendor": connection.vendor, "error": exc.__class__.__name__}


def _queue(depth, oldest, now):
    """The queue's part of the report: depth, enqueue time of the oldest waiting task and its age."""
    return {
        "queued": depth,
        "oldest_queued_at": oldest.isoformat() if oldest else None,
        "oldest_queued_age_seconds": round(max((now - oldest).total_seconds(), 0.0), 1) if oldest else None,
    }


def db_queue(backend, now):
    """Tasks of the database backend ready to run now (``READY``, due): two indexed queries."""
    from django.db.models import Min
    from django_tasks_db.models import DBTaskResult

    ready = DBTaskResult.objects.ready().filter(backend_name=backend.alias, queue_name__in=backend.queues)
    stats = ready.order_by().aggregate(oldest=Min("enqueued_at"))
    return _queue(ready.order_by().count(), stats["oldest"], now)


def rq_queue(backend, now):
    """Jobs waiting in the backend's RQ queues (a ping, then per queue its length and first job)."""
    import django_rq

    depth, oldest = 0, None
    for position, name in enumerate(sorted(backend.queues)):
        queue = django_rq.get_queue(name)
        if position == 0:
            queue.connection.ping()
        depth += queue.count
        first = queue.get_job_ids(0, 1)
        job = queue.fetch_job(first[0]) if first else None
        if job is not None and job.enqueued_at is not None:
            at = job.enqueued_at if timezone.is_aware(job.enqueued_at) else job.enqueued_at.replace(tzinfo=UTC)
            oldest = at if oldest is None or at < oldest else oldest
    return _queue(depth, oldest, now)


def _tasks():
    backend = task_backends["default"]
    name = backend.__class__.__name__
    info = {"backend": name, "status": "ok"}
    now = timezone.now()
    try:
        if name == "RQBackend":
            info.update(rq_queue(backend, now))
        elif name == "DatabaseBackend":
            info.update(db_queue(backend, now))
        else:  # the immediate backend (tests) runs each task at once: nothing ever waits
            info.update(_queue(0, None, now))
        from cms.models import TaskHeartbeat
        from cms.tasks import LAST_JOB

        # The last heartbeat of ``check_tasks`` or the last job a worker finished.
        beat = (
            TaskHeartbeat.objects.filter(backend__in=(name, name + LAST_JOB)).order_by("-ran_at").only("ran_at").first()
        )
        info["last_worker_run"] = beat.ran_at.isoformat() if beat else None
    except Exception as exc:  # noqa: BLE001
        info.update(status="error", error=exc.__class__.__name__)
    return info


def report():
    database, tasks = _database(), _tasks()
    ok = database["status"] == "ok" and tasks["status"] == "ok"
    return {"status": "ok" if ok else "error", "database": database, "tasks": tasks}
