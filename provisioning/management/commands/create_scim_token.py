"""``manage.py create_scim_token NAME``: create a bearer token for a SCIM provisioning
connector and print it once (only its SHA-256 is kept)."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from provisioning import tokens


class Command(BaseCommand):
    help = "Crée un jeton SCIM (provisionnement de l'annuaire) et l'affiche une seule fois."

    def add_arguments(self, parser):
        parser.add_argument("name", help="Nom du connecteur (ex. « Entra ID production »)")

    def handle(self, *args, name, **options):
        try:
            scim_token, token = tokens.create_token(name=name)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        self.stdout.write(f"Jeton SCIM « {scim_token.name} » créé.")
        self.stdout.write(f"Jeton : {token}")
        self.stdout.write(
            "Notez-le maintenant : il ne sera plus jamais affiché (seule son empreinte est conservée). "
            "Le connecteur l'envoie dans l'en-tête « Authorization: Bearer <jeton> » vers /scim/v2/."
        )
