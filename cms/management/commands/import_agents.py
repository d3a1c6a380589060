"""``manage.py import_agents FILE.csv [--dry-run]``: import the agent directory (see docs/import.md)."""

import sys
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from tqdm import tqdm

from cms.importer import import_agents


class Command(BaseCommand):
    help = _(
        "Importe l'annuaire des agents et l'organigramme depuis un fichier CSV (UTF-8, séparateur ; ou ,). "
        "Un fichier comportant la moindre erreur n'enregistre rien. Voir docs/import.md."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help=_("fichier CSV à importer"))
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help=_("vérifie le fichier et indique ce qui changerait, sans rien enregistrer"),
        )
        parser.add_argument("--no-progress", action="store_true", help=_("n'affiche pas la barre de progression"))

    def handle(self, *args, file, dry_run, no_progress, verbosity, **options):
        if not file.is_file():
            raise CommandError(_("fichier introuvable : %(path)s") % {"path": file})
        labels = {"validate": _("Vérification"), "apply": _("Enregistrement")}
        bars = {}
        stream = getattr(self.stderr, "_out", sys.stderr)  # tqdm needs the raw stream (no added newlines)

        def progress(phase, done, total):
            bar = bars.get(phase)
            if bar is None:
                bar = bars[phase] = tqdm(
                    total=total,
                    desc=labels.get(phase, phase),
                    unit=_(" lignes"),
                    file=stream,
                    disable=True if (no_progress or verbosity == 0) else None,  # None: only on a terminal
                    leave=False,
                )
            bar.update(done - bar.n)

        started = time.monotonic()
        try:
            with file.open("rb") as handle:
                report = import_agents(file=handle, dry_run=dry_run, progress=progress)
        except OSError as exc:
            raise CommandError(_("lecture impossible de %(path)s : %(error)s") % {"path": file, "error": exc}) from exc
        finally:
            for bar in bars.values():
                bar.close()
        elapsed = time.monotonic() - started

        if report.errors:
            for error in report.errors:
                self.stderr.write(str(error))
            raise CommandError(
                ngettext(
                    "%(count)d erreur dans %(path)s : aucune modification n'a été enregistrée.",
                    "%(count)d erreurs dans %(path)s : aucune modification n'a été enregistrée.",
                    len(report.errors),
                )
                % {"count": len(report.errors), "path": file}
            )

        if dry_run:
            self.stdout.write(
                self.style.WARNING(
                    _("Simulation (--dry-run) : %(rows)s lignes vérifiées, aucune modification enregistrée.")
                    % {"rows": report.rows}
                )
            )
        else:
            self.stdout.write(
                self.style.SUCCESS(
                    _("Import terminé : %(rows)s lignes en %(seconds).1f s.")
                    % {"rows": report.rows, "seconds": elapsed}
                )
            )
        counts = {
            "units_created": report.units_created,
            "units_updated": report.units_updated,
            "units_unchanged": report.units_unchanged,
            "created": report.agents_created,
            "updated": report.agents_updated,
            "deactivated": report.agents_deactivated,
            "reactivated": report.agents_reactivated,
            "unchanged": report.agents_unchanged,
            "absent": report.agents_absent,
        }
        if dry_run:
            lines = [
                _("Unités : %(units_created)s à créer, %(units_updated)s à modifier, %(units_unchanged)s inchangées."),
                _(
                    "Agents : %(created)s à créer, %(updated)s à modifier (dont %(deactivated)s à désactiver, "
                    "%(reactivated)s à réactiver), %(unchanged)s inchangés."
                ),
            ]
        else:
            lines = [
                _("Unités : %(units_created)s créées, %(units_updated)s modifiées, %(units_unchanged)s inchangées."),
                _(
                    "Agents : %(created)s créés, %(updated)s modifiés (dont %(deactivated)s désactivés, "
                    "%(reactivated)s réactivés), %(unchanged)s inchangés."
                ),
            ]
        lines.append(_("Agents actifs absents du fichier (laissés actifs) : %(absent)s."))
        for line in lines:
            self.stdout.write(line % counts)
