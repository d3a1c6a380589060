"""SCIM provisioning: the connectors' bearer tokens, the client's identifiers of agents and the
provisioning audit.

- ``ScimToken``: one provisioning connector (Entra ID, Okta, Keycloak…). Only the SHA-256 of
  the token and its first characters are stored; the token is printed once by
  ``manage.py create_scim_token NAME``. Revoking keeps the row (the audit names it).
- ``ScimLink``: what SCIM adds to an agent: the client's ``externalId``.
- ``ProvisioningEvent``: one row per change made through SCIM (append-only), read by HR.
"""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# Characters of the token shown to HR (never more: the rest is the secret).
DISPLAYED_PREFIX_LENGTH = 8


class ScimToken(models.Model):
    name = models.CharField(_("nom"), max_length=100)
    prefix = models.CharField(_("début du jeton"), max_length=DISPLAYED_PREFIX_LENGTH)
    digest = models.CharField(max_length=64, unique=True)  # SHA-256 (hex) of the whole token
    created_at = models.DateTimeField(_("créé le"), default=timezone.now)
    last_used_at = models.DateTimeField(_("dernière utilisation"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("révoqué le"), null=True, blank=True)

    class Meta:
        verbose_name = _("jeton SCIM")
        verbose_name_plural = _("jetons SCIM")
        ordering = ["name", "pk"]

    def __str__(self):
        return self.name

    @property
    def is_active(self):
        return self.revoked_at is None


class ScimLink(models.Model):
    """The provisioning client's identifier of an agent (SCIM ``externalId``)."""

    agent = models.OneToOneField(
        "cms.Agent", on_delete=models.CASCADE, primary_key=True, related_name="scim_link", verbose_name=_("agent")
    )
    external_id = models.CharField(_("identifiant externe"), max_length=255, blank=True, db_index=True)

    class Meta:
        verbose_name = _("identifiant externe SCIM")
        verbose_name_plural = _("identifiants externes SCIM")

    def __str__(self):
        return self.external_id


class ProvisioningAction(models.TextChoices):
    CREATE = "create", _("création")
    UPDATE = "update", _("modification")
    DEACTIVATE = "deactivate", _("désactivation")
    REACTIVATE = "reactivate", _("réactivation")
    GROUP_ADD = "group_add", _("ajout au rôle")
    GROUP_REMOVE = "group_remove", _("retrait du rôle")


class ProvisioningEvent(models.Model):
    """One change made through SCIM: which connector, which resource, which fields
    (``changes``: ``{field: [before, after]}``; sensitive fields only named, with ``null``)."""

    at = models.DateTimeField(_("date"), default=timezone.now)
    token = models.ForeignKey(
        ScimToken, on_delete=models.SET_NULL, null=True, blank=True, related_name="events", verbose_name=_("connecteur")
    )
    token_name = models.CharField(_("connecteur"), max_length=100, blank=True)
    action = models.CharField(_("action"), max_length=20, choices=ProvisioningAction.choices)
    resource_type = models.CharField(_("ressource"), max_length=10)  # "User" or "Group"
    resource_id = models.CharField(_("identifiant SCIM"), max_length=32)
    agent = models.ForeignKey(
        "cms.Agent",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="provisioning_events",
        verbose_name=_("agent"),
    )
    label = models.CharField(_("libellé"), max_length=255, blank=True)  # employee number or role name
    changes = models.JSONField(_("changements"), default=dict, blank=True)
    ip = models.GenericIPAddressField(_("adresse IP"), null=True, blank=True)

    class Meta:
        verbose_name = _("opération de provisionnement")
        verbose_name_plural = _("opérations de provisionnement")
        ordering = ["-at", "-pk"]
        indexes = [
            models.Index(fields=["-at", "-id"], name="provisioning_event_at"),
            models.Index(fields=["action", "-at"], name="provisioning_event_action"),
        ]

    def __str__(self):
        return f"{self.get_action_display()} {self.label} {self.at:%Y-%m-%d %H:%M}"

    @property
    def fields_changed(self):
        return ", ".join(sorted(self.changes))
