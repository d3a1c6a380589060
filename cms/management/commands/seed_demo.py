"""``manage.py seed_demo [--agents N] [--seed S]``: demo data for a development site.

Builds the demo org chart (see :mod:`cms.demo`), the seven demo logins, then calls every
seeder registered in :mod:`cms.seed` so that each app adds its own content. Idempotent:
run it again and nothing is duplicated. Refuses to run with production settings.
"""

import os
import random
import time
import traceback

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.translation import gettext as _

from cms import demo
from cms.models import OrgUnit
from cms.seed import SeedContext, registered_seeders


def production_settings_in_use():
    """True with ``settings.PRODUCTION`` or a settings module whose name ends in "production"."""
    if getattr(settings, "PRODUCTION", False):
        return True
    modules = (getattr(settings, "SETTINGS_MODULE", None), os.environ.get("DJANGO_SETTINGS_MODULE"))
    return any(module and module.endswith("production") for module in modules)


class Command(BaseCommand):
    @property
    def help(self):  # translated when asked (argparse needs a real str, not a lazy proxy)
        return _(
            "Crée les données de démonstration : annuaire (directions, services, bureaux, agents), "
            "comptes de démonstration et contenu de chaque application. Sans effet si elles existent déjà."
        )

    def add_arguments(self, parser):
        parser.add_argument(
            "--agents",
            type=int,
            default=demo.DEFAULT_AGENTS,
            help=_("nombre d'agents de l'annuaire (%(default)s par défaut, 55000 pour une ville entière)"),
        )
        parser.add_argument(
            "--seed",
            type=int,
            default=demo.DEFAULT_SEED,
            help=_("graine du générateur : mêmes arguments, mêmes données (%(default)s par défaut)"),
        )

    def handle(self, *args, agents, seed, verbosity, **options):
        if production_settings_in_use():
            raise CommandError(
                _(
                    "seed_demo refuse de s'exécuter avec les réglages de production : il crée des comptes "
                    "de démonstration avec un mot de passe connu. Utilisez cms.settings.dev."
                )
            )
        if not demo.MIN_AGENTS <= agents <= demo.MAX_AGENTS:
            raise CommandError(
                _("--agents doit être compris entre %(min)d et %(max)d.")
                % {"min": demo.MIN_AGENTS, "max": demo.MAX_AGENTS}
            )
        self.verbosity = verbosity
        started = time.perf_counter()

        directory = demo.build_directory(agents=agents, seed=seed)
        self.say(
            _("Annuaire de démonstration : %(agents)d agents, %(units)d unités (graine %(seed)d).")
            % {"agents": agents, "units": len(directory.units), "seed": seed}
        )
        password = os.environ.get("DEMO_PASSWORD") or None
        try:
            with transaction.atomic():
                result = demo.write_directory(directory, progress=verbosity >= 1)
                logins = demo.ensure_demo_logins(directory, password=password)
        except demo.DirectoryConflict as exc:
            raise CommandError(
                _(
                    "La base contient déjà un autre annuaire (autre --agents ou --seed, ou un annuaire importé) : "
                    "%(problems)s. Rien n'a été modifié. Relancez avec les mêmes arguments que la première fois, "
                    "ou repartez d'une base vide (manage.py flush)."
                )
                % {"problems": exc}
            ) from exc
        except demo.MissingGroup as exc:
            raise CommandError(str(exc)) from exc
        if result.units_created or result.users_created or result.agents_created:
            self.say(
                _("  créés : %(units)d unités, %(users)d comptes, %(agents)d agents en %(seconds).1f s.")
                % {
                    "units": result.units_created,
                    "users": result.users_created,
                    "agents": result.agents_created,
                    "seconds": time.perf_counter() - started,
                }
            )
        else:
            self.say(_("  déjà en place : rien de nouveau."))

        failures = self.run_seeders(directory, logins, seed=seed, agents=agents)
        self.print_logins(logins, password=password)
        self.say(_("Terminé en %(seconds).1f s.") % {"seconds": time.perf_counter() - started})
        if failures:
            raise CommandError(
                _("Contenu de démonstration en échec : %(keys)s (voir les messages ci-dessus).")
                % {"keys": ", ".join(failures)}
            )

    def say(self, message, style=None):
        if self.verbosity >= 1:
            self.stdout.write(style(message) if style else message)

    def run_seeders(self, directory, logins, *, seed, agents):
        """Call every registered seeder, each in its own transaction; returns the keys that failed."""
        users = {row.login: row.user for row in logins}
        agent_profiles = {row.login: row.agent for row in logins}
        org_root = OrgUnit.objects.get(code=demo.ROOT_CODE)
        failures = []
        for key, func in registered_seeders():
            self.say(_("Contenu « %(key)s »…") % {"key": key})
            context = SeedContext(
                rng=random.Random(f"{seed}:{key}"),
                users=users,
                agents=agent_profiles,
                stdout=self.stdout if self.verbosity >= 1 else None,
                seed=seed,
                agent_count=agents,
                verbosity=self.verbosity,
                key=key,
                org_root=org_root,
            )
            started = time.perf_counter()
            try:
                with transaction.atomic():
                    func(context)
            except Exception as exc:  # one broken app must not hide the logins of the others
                failures.append(key)
                self.stderr.write(_("Contenu « %(key)s » : échec (%(error)s).") % {"key": key, "error": exc})
                if self.verbosity >= 2:
                    self.stderr.write(traceback.format_exc())
                continue
            self.say(
                _("Contenu « %(key)s » : fait en %(seconds).1f s.")
                % {"key": key, "seconds": time.perf_counter() - started},
                self.style.SUCCESS,
            )
        return failures

    def print_logins(self, logins, *, password):
        base = settings.WAGTAILADMIN_BASE_URL
        base = base.rstrip("/") + "/"
        unchanged = _("(inchangé)")
        header = (_("identifiant"), _("rôle"), _("nom"), _("unité"), _("mot de passe"))
        table = [header] + [
            (row.login, row.label, row.full_name, row.unit, row.password if row.password else unchanged)
            for row in logins
        ]
        widths = [max(len(str(line[i])) for line in table) for i in range(len(header))]
        out = self.stdout
        out.write("")
        out.write(self.style.MIGRATE_HEADING(_("Comptes de démonstration")))
        out.write(_("Site : %(site)s — administration : %(admin)s") % {"site": base, "admin": base + "admin/"})
        for i, line in enumerate(table):
            out.write(
                "  " + "  ".join(str(cell).ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
            )
            if i == 0:
                out.write("  " + "  ".join("-" * width for width in widths))
        if password:
            out.write(_("Mot de passe : celui de la variable d'environnement DEMO_PASSWORD."))
        elif all(row.password is None for row in logins):
            out.write(
                _(
                    "Ces comptes existaient déjà : leur mot de passe est inchangé. "
                    "Définissez DEMO_PASSWORD et relancez pour le réinitialiser."
                )
            )
        else:
            out.write(
                _(
                    "Mot de passe généré pour cette base : %(password)s (il ne sera plus affiché ; "
                    "définissez DEMO_PASSWORD pour choisir le vôtre)."
                )
                % {"password": next(row.password for row in logins if row.password)}
            )
            if any(row.password is None for row in logins):
                out.write(_("Les comptes marqués (inchangé) gardent leur mot de passe."))
