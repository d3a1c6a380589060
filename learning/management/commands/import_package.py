"""``manage.py import_package FILE.zip (--course COURSE_PAGE_ID | --new-course "Titre") [--title T]``:
import a SCORM 1.2 / 2004 package as a new step (see docs/packages.md)."""

import sys
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from tqdm import tqdm

from learning.models import CoursePage
from learning.packages import importer
from learning.packages.manifest import unsupported_sentence

LARGE_BYTES = 50 * 1024**2


class Command(BaseCommand):
    help = _(
        "Importe un paquet SCORM 1.2 ou SCORM 2004 (fichier .zip) comme nouvelle étape d'une formation existante "
        "(--course) ou d'une nouvelle formation publiée en inscription libre (--new-course). Un paquet refusé "
        "n'enregistre rien."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help=_("paquet .zip à importer"))
        target = parser.add_mutually_exclusive_group(required=True)
        target.add_argument("--course", type=int, metavar="COURSE_PAGE_ID", help=_("identifiant de la formation"))
        target.add_argument("--new-course", metavar="TITRE", help=_("titre de la formation à créer"))
        parser.add_argument("--title", help=_("titre de l'étape (par défaut : celui du paquet)"))
        parser.add_argument("--no-progress", action="store_true", help=_("n'affiche pas la barre de progression"))

    def handle(self, *args, file, course, new_course, title, no_progress, verbosity, **options):
        if not file.is_file():
            raise CommandError(_("fichier introuvable : %(path)s") % {"path": file})
        target = None
        if course is not None:
            target = CoursePage.objects.filter(pk=course).first() if 0 < course < 2**63 else None
            if target is None:
                raise CommandError(_("Aucune formation n'a l'identifiant %(id)s.") % {"id": course})
        if new_course is not None and not new_course.strip():
            raise CommandError(_("Le titre de la nouvelle formation (--new-course) est vide."))

        stream = getattr(self.stderr, "_out", sys.stderr)  # tqdm needs the raw stream
        large = file.stat().st_size >= getattr(settings, "PACKAGE_INLINE_MAX_BYTES", LARGE_BYTES)
        bar = None

        def progress(done, total):
            nonlocal bar
            if bar is None:
                bar = tqdm(
                    total=total, desc=_("Extraction"), unit="o", unit_scale=True, file=stream, leave=False,
                    disable=True if (no_progress or verbosity == 0 or not large) else None,
                )
            bar.update(done - bar.n)

        try:
            with file.open("rb") as handle:
                result = importer.import_package(
                    handle, course=target, new_course_title=new_course, title=title, progress=progress
                )
        except ValidationError as exc:
            raise CommandError(" ".join(importer.messages_of(exc))) from exc
        except OSError as exc:
            raise CommandError(_("lecture impossible de %(path)s : %(error)s") % {"path": file, "error": exc}) from exc
        finally:
            if bar is not None:
                bar.close()

        step = result.step
        standard = result.package.get_standard_display()
        self.stdout.write(
            self.style.SUCCESS(
                _("Étape %(id)s créée : %(url)s (norme : %(standard)s)")
                % {"id": step.pk, "url": step.get_full_url() or step.url_path, "standard": standard}
            )
        )
        warning = unsupported_sentence(result.package.manifest)
        if warning:
            self.stdout.write(self.style.WARNING(warning))
        if not result.created:
            self.stdout.write(_("Ce paquet était déjà stocké (même empreinte SHA-256) : ses fichiers ont été réutilisés."))
        if new_course is not None:
            course_page = step.get_parent()
            self.stdout.write(
                _("Formation %(id)s créée : %(url)s") % {"id": course_page.pk, "url": course_page.get_full_url() or ""}
            )
