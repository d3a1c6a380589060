"""API tokens: the name and last use of a django-rest-knox token.

knox's ``AuthToken`` keeps only a SHA-512 digest of the key, its first characters
(``token_key``, to find candidates) and its expiry; it has no name. ``ApiToken`` adds what
HR needs to recognise and revoke a token. Revoking deletes the knox token, which deletes
this row with it (``cms.services.revoke_api_token``).
"""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# Characters of the key shown to HR (never more: the rest is the secret).
DISPLAYED_PREFIX_LENGTH = 8


class ApiToken(models.Model):
    token = models.OneToOneField(
        "knox.AuthToken", on_delete=models.CASCADE, related_name="label", verbose_name=_("jeton")
    )
    name = models.CharField(_("nom"), max_length=100)
    last_used_at = models.DateTimeField(_("dernière utilisation"), null=True, blank=True)

    class Meta:
        verbose_name = _("jeton d'API")
        verbose_name_plural = _("jetons d'API")
        ordering = ["name", "pk"]

    def __str__(self):
        return self.name

    @property
    def prefix(self):
        return f"{self.token.token_key[:DISPLAYED_PREFIX_LENGTH]}…"

    @property
    def expired(self):
        return self.token.expiry is not None and self.token.expiry <= timezone.now()
