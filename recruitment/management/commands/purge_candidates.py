"""Apply the candidates' data retention rules (CNIL).

    manage.py purge_candidates            # erase what is due, list it
    manage.py purge_candidates --dry-run  # list what would be erased; change nothing

Run it once a day, e.g. from cron:

    30 3 * * * cd /srv/parcours && .venv/bin/python manage.py purge_candidates

or enqueue the ``recruitment.tasks.purge_candidates_task`` task daily from the scheduler
that runs the workers.
"""

from django.core.management.base import BaseCommand

from recruitment import gdpr


class Command(BaseCommand):
    help = (
        "Efface les données des candidats arrivées à échéance : candidatures non retenues 3 mois après la fin du "
        "recrutement (sans accord pour le vivier), vivier 2 ans après le dernier contact. Les candidatures restent, "
        "anonymes, pour les statistiques. À lancer chaque jour, par exemple avec cron : "
        "« 30 3 * * * cd /srv/parcours && .venv/bin/python manage.py purge_candidates »."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Liste ce qui serait effacé, sans rien modifier.",
        )

    def handle(self, *args, dry_run=False, **options):
        entries = gdpr.purge(dry_run=dry_run)
        for entry in entries:
            self.stdout.write(str(entry))
        if dry_run:
            self.stdout.write(self.style.WARNING("Simulation : rien n'a été effacé."))
            self.stdout.write(self.style.SUCCESS(f"{len(entries)} candidat(s) à effacer."))
        else:
            self.stdout.write(self.style.SUCCESS(f"{len(entries)} candidat(s) effacé(s)."))
