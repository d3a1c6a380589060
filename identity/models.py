"""Sign-in audit, session tracking (for revocation) and the local-password flag."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from identity.choices import SignInMethod, reason_label


class SignInEvent(models.Model):
    """One sign-in attempt (success or failure), append-only: written by
    ``identity.audit.record_sign_in``, read by HR in the admin."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="sign_in_events",
        verbose_name=_("compte"),
    )
    username = models.CharField(_("identifiant saisi ou transmis"), max_length=255, blank=True)
    method = models.CharField(_("méthode"), max_length=20, choices=SignInMethod.choices)
    success = models.BooleanField(_("réussie"))
    reason = models.CharField(_("motif"), max_length=64, blank=True)
    ip = models.GenericIPAddressField(_("adresse IP"), null=True, blank=True)
    at = models.DateTimeField(_("date"), default=timezone.now)

    class Meta:
        verbose_name = _("connexion")
        verbose_name_plural = _("connexions")
        ordering = ["-at", "-pk"]
        indexes = [
            models.Index(fields=["-at", "-id"], name="identity_signin_at"),
            models.Index(fields=["method", "success", "-at"], name="identity_signin_filter"),
        ]

    def __str__(self):
        return f"{self.get_method_display()} {self.username} {self.at:%Y-%m-%d %H:%M}"

    @property
    def reason_label(self):
        return reason_label(self.reason)


class UserSession(models.Model):
    """A session opened by a sign-in, so that ``identity.sessions.revoke_sessions`` finds
    a user's sessions without reading every session's data."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="tracked_sessions", verbose_name=_("compte")
    )
    session_key = models.CharField(_("clé de session"), max_length=40, unique=True)
    created_at = models.DateTimeField(_("ouverte le"), default=timezone.now)

    class Meta:
        verbose_name = _("session ouverte")
        verbose_name_plural = _("sessions ouvertes")

    def __str__(self):
        return f"{self.user_id} {self.created_at:%Y-%m-%d %H:%M}"


class LocalAccount(models.Model):
    """A account allowed to use a Parcours password when ``LOCAL_LOGIN=staff`` (e.g. a
    service account, or an administrator kept for when the identity provider is down)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="local_account", verbose_name=_("compte")
    )
    reason = models.CharField(_("raison"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("ajouté le"), default=timezone.now)

    class Meta:
        verbose_name = _("compte local")
        verbose_name_plural = _("comptes locaux")

    def __str__(self):
        return str(self.user)
