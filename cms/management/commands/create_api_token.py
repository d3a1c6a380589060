"""``manage.py create_api_token USERNAME [--days N] [--name NAME]``: a key for an API client.

The key is printed once: only its hash is stored. HR sees the token (name, account, dates,
first characters) in the Wagtail admin, "Jetons d'API", and can revoke it there.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from cms import services


class Command(BaseCommand):
    help = "Create an expiring API token for USERNAME and print its key once (only a hash is stored)."

    def add_arguments(self, parser):
        parser.add_argument("username", help="account the client acts as (give it only the permissions it needs)")
        parser.add_argument(
            "--days",
            type=int,
            default=None,
            help=f"validity in days, 1 to {settings.API_TOKEN_MAX_DAYS} (default API_TOKEN_DAYS = "
            f"{settings.API_TOKEN_DAYS})",
        )
        parser.add_argument("--name", default=None, help="what the token is for, shown to HR (default: the username)")

    def handle(self, *args, username, days, name, **options):
        user = get_user_model().objects.filter(**{get_user_model().USERNAME_FIELD: username}).first()
        if user is None:
            raise CommandError(_("Aucun compte « %(username)s ».") % {"username": username})
        try:
            api_token, key = services.create_api_token(user=user, name=name or username, days=days)
        except ValidationError as error:
            messages = [message for field_messages in error.message_dict.values() for message in field_messages]
            raise CommandError(" ".join(messages)) from None
        expiry = formats.date_format(timezone.localtime(api_token.token.expiry), "SHORT_DATETIME_FORMAT")
        self.stdout.write(
            _("Jeton « %(name)s » pour %(username)s, valable jusqu'au %(expiry)s :")
            % {"name": api_token.name, "username": username, "expiry": expiry}
        )
        self.stdout.write(key)
        self.stdout.write(
            _(
                "Copiez-le maintenant : il n'est pas conservé et ne pourra plus être affiché. "
                "Le client l'envoie dans l'en-tête « Authorization: Token <clé> »."
            )
        )
