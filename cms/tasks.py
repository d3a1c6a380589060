from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django_tasks import task


@task()
def heartbeat(backend, token, enqueued_at):
    """Record that a worker ran a job: used by ``check_tasks`` and shown by the health API."""
    from cms.models import TaskHeartbeat

    TaskHeartbeat.objects.update_or_create(
        backend=backend,
        defaults={"token": token, "enqueued_at": parse_datetime(enqueued_at), "ran_at": timezone.now()},
    )
    return token


#: The ``TaskHeartbeat.backend`` suffix of the row that records the last job any worker ran.
LAST_JOB = ":last_job"


def record_worker_run(sender, task_result, **kwargs):
    """``task_finished`` receiver: a worker (not the in-process immediate backend of the
    tests) finished a job, so the health report's ``last_worker_run`` moves on. Written
    to a row of its own, so ``check_tasks``' heartbeat token is never overwritten."""
    from cms.models import TaskHeartbeat

    name = sender.__name__ if isinstance(sender, type) else type(sender).__name__  # backends send either
    if name in ("ImmediateBackend", "DummyBackend"):
        return
    now = timezone.now()
    TaskHeartbeat.objects.update_or_create(
        backend=f"{name}{LAST_JOB}",
        defaults={"token": str(task_result.id)[:64], "enqueued_at": task_result.enqueued_at or now, "ran_at": now},
    )
