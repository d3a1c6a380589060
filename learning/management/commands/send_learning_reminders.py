"""Expire what is due, then send the training reminders (safe to run every hour, e.g. from cron).

    manage.py send_learning_reminders            # send, print counts per kind
    manage.py send_learning_reminders --dry-run  # list what would be sent; send and write nothing
"""

from cms.management.commands._reminders import ReminderCommand
from learning import reminders, services
from learning.choices import ReminderKind


class Command(ReminderCommand):
    help = "Envoie les relances de formation dues (échéances, retards, expirations, récapitulatifs managers)."
    reminders = reminders

    def kinds(self):
        return [(kind.value, kind.label) for kind in ReminderKind]

    def before_sending(self):
        expired = services.expire_enrollments()  # completed → expired, next cycle opened
        if expired:
            self.stdout.write(f"Formations arrivées à expiration (nouveau cycle ouvert) : {expired}")
