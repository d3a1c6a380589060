"""Expire what is due, then send the training reminders (safe to run every hour, e.g. from cron).

    manage.py send_learning_reminders            # send, print counts per kind
    manage.py send_learning_reminders --dry-run  # list what would be sent; send and write nothing
"""

from django.core.management.base import BaseCommand

from learning import reminders, services
from learning.choices import ReminderKind


class Command(BaseCommand):
    help = "Envoie les relances de formation dues (échéances, retards, expirations, récapitulatifs managers)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Liste les relances qui seraient envoyées, sans rien envoyer ni enregistrer.",
        )

    def handle(self, *args, dry_run=False, **options):
        if dry_run:
            pending = reminders.collect()
            for reminder in pending:
                self.stdout.write(f"[{reminder.kind}] {reminder.to} — {reminder.subject}")
            result = {**reminders.counts(pending), "failed": 0}
            self.stdout.write(self.style.WARNING("Simulation : aucun message envoyé, rien n'a été enregistré."))
        else:
            expired = services.expire_enrollments()  # completed → expired, next cycle opened
            if expired:
                self.stdout.write(f"Formations arrivées à expiration (nouveau cycle ouvert) : {expired}")
            result = reminders.send_all()
        verb = "à envoyer" if dry_run else "envoyées"
        for kind in ReminderKind:
            self.stdout.write(f"{kind.label} ({kind.value}) : {result[kind.value]} {verb}")
        if result["failed"]:
            self.stderr.write(self.style.ERROR(f"Échecs d'envoi (réessayés au prochain passage) : {result['failed']}"))
        total = sum(result[kind] for kind in ReminderKind.values)
        self.stdout.write(self.style.SUCCESS(f"Total : {total} relance(s) {verb}."))
