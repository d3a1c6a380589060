"""``manage.py close_cmi5_sessions``: record ``abandoned`` for the cmi5 AU sessions left open
past ``XAPI_CMI5_SESSION_HOURS`` (run it every hour, from cron or as the task
``xapi.tasks.close_cmi5_sessions``). Idempotent."""

from django.core.management.base import BaseCommand

from xapi import cmi5


class Command(BaseCommand):
    help = "Enregistre « abandoned » pour les sessions cmi5 restées ouvertes au-delà de leur durée de vie."

    def handle(self, *args, **options):
        count = cmi5.abandon_expired_sessions()
        self.stdout.write(f"{count} session(s) cmi5 abandonnée(s).")
