"""``manage.py create_lrs_client NAME [--read-only] [--agent JSON] [--trusted-authority]``: create
LRS credentials and print the key and the secret once (only a hash of the secret is kept)."""

import json

from django.core.management.base import BaseCommand, CommandError

from xapi import services
from xapi.errors import XAPIError


class Command(BaseCommand):
    help = "Crée un client du LRS xAPI et affiche sa clé et son secret (une seule fois)."

    def add_arguments(self, parser):
        parser.add_argument("name", help="Nom du client (l'application ou le contenu qui l'utilise)")
        parser.add_argument("--read-only", action="store_true", help="Lecture seule : toute écriture reçoit 403")
        parser.add_argument("--agent", help="Agent xAPI (JSON) : le client ne lit et n'écrit que ses déclarations")
        parser.add_argument("--trusted-authority", action="store_true",
                            help="Conserve l'autorité fournie dans les déclarations au lieu de la remplacer")

    def handle(self, *args, name, read_only, agent, trusted_authority, **options):
        scope = None
        if agent:
            try:
                scope = json.loads(agent)
            except ValueError as exc:
                raise CommandError(f"--agent : JSON invalide ({exc})") from None
        try:
            client, secret = services.create_client(
                name=name, read_only=read_only, scope_agent=scope, trusted_authority=trusted_authority
            )
        except XAPIError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(f"Client LRS « {client.name} » créé.")
        self.stdout.write(f"Clé : {client.key}")
        self.stdout.write(f"Secret : {secret}")
        self.stdout.write("Notez le secret maintenant : il ne sera plus jamais affiché (seule son empreinte est conservée).")
