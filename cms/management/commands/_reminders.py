"""The base of the apps' ``send_<app>_reminders`` commands (not a command itself: Django
skips the modules of ``management/commands`` whose name starts with "_").

A subclass names its reminders module (``collect()``, ``counts()`` and ``send_all()``, see
``cms.reminders``) and its kinds with their labels; ``before_sending()`` may do the app's
own work first on a real run (learning expires what is due).
"""

from django.core.management.base import BaseCommand


class ReminderCommand(BaseCommand):
    reminders = None  # the app's reminders module

    def kinds(self):
        """[(kind, label)] in the order they are reported."""
        raise NotImplementedError

    def before_sending(self):
        """Called before a real run (not a dry run)."""

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Liste les relances qui seraient envoyées, sans rien envoyer ni enregistrer.",
        )

    def handle(self, *args, dry_run=False, **options):
        if dry_run:
            pending = self.reminders.collect()
            for reminder in pending:
                self.stdout.write(f"[{reminder.kind}] {reminder.to} — {reminder.subject}")
            result = {**self.reminders.counts(pending), "failed": 0}
            self.stdout.write(self.style.WARNING("Simulation : aucun message envoyé, rien n'a été enregistré."))
        else:
            self.before_sending()
            result = self.reminders.send_all()
        verb = "à envoyer" if dry_run else "envoyées"
        kinds = self.kinds()
        for kind, label in kinds:
            self.stdout.write(f"{label} ({kind}) : {result[kind]} {verb}")
        if result["failed"]:
            self.stderr.write(self.style.ERROR(f"Échecs d'envoi (réessayés au prochain passage) : {result['failed']}"))
        total = sum(result[kind] for kind, _label in kinds)
        self.stdout.write(self.style.SUCCESS(f"Total : {total} relance(s) {verb}."))
