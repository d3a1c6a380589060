"""Send the appraisal reminders that are due (safe to run as often as wanted, e.g. daily from cron).

manage.py send_appraisal_reminders            # send, print counts per kind
manage.py send_appraisal_reminders --dry-run  # list what would be sent; send and write nothing
"""

from appraisal import reminders
from cms.management.commands._reminders import ReminderCommand


class Command(ReminderCommand):
    help = "Envoie les relances d'entretiens professionnels dues (convocations, signatures, visas)."
    reminders = reminders

    def kinds(self):
        return [(kind, reminders.LABELS[kind]) for kind in reminders.KINDS]

    def before_sending(self):
        """The daily work of ``appraisal.tasks.daily`` before its reminders: revision requests
        left unanswered past their window are rejected implicitly, and HR is told of leavers'
        open appraisals that no import listener saw."""
        from appraisal import actions, leavers

        expired = actions.expire_revision_requests()
        if expired:
            self.stdout.write(f"Demandes de révision sans réponse, rejetées implicitement : {expired}")
        leavers.notify_pending()
