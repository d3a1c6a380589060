"""Closes to applications the openings whose deadline has passed (run daily, e.g. from cron,
or enqueue ``recruitment.tasks.close_openings_past_deadline_task``)::

    manage.py close_past_deadline
"""

from django.core.management.base import BaseCommand

from recruitment import actions


class Command(BaseCommand):
    help = "Clôt aux candidatures les offres dont la date limite est dépassée."

    def handle(self, *args, **options):
        references = actions.close_openings_past_deadline()
        for reference in references:
            self.stdout.write(f"  {reference} : candidatures closes")
        self.stdout.write(f"{len(references)} offre(s) close(s) aux candidatures.")
