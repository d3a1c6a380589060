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
