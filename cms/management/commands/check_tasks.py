import secrets
import time

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django_tasks import task_backends

from cms.models import TaskHeartbeat
from cms.tasks import heartbeat


class Command(BaseCommand):
    help = "Enqueue a heartbeat task and wait until a worker has run it (checks that workers are alive)."

    def add_arguments(self, parser):
        parser.add_argument("--timeout", type=float, default=30, help="seconds to wait for a worker (default 30)")

    def handle(self, *args, timeout, **options):
        backend = task_backends["default"].__class__.__name__
        token = secrets.token_hex(16)
        result = heartbeat.enqueue(backend, token, timezone.now().isoformat())
        self.stdout.write(f"enqueued heartbeat {result.id} on {backend}")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            beat = TaskHeartbeat.objects.filter(backend=backend, token=token).first()
            if beat is not None:
                delay = (beat.ran_at - beat.enqueued_at).total_seconds()
                self.stdout.write(self.style.SUCCESS(f"worker ran the task {delay:.2f}s after it was enqueued"))
                return
            time.sleep(0.2)
        raise CommandError(f"no worker ran the heartbeat task on {backend} within {timeout:g}s: is a worker running?")
