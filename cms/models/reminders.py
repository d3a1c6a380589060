from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ReminderLog(models.Model):
    """Every reminder claimed or sent, by every app; the unique (kind, key) makes sending
    idempotent (``cms.reminders``).

    ``kind`` is namespaced by the app (``learning.overdue``, ``appraisal.visa``…), so two
    apps never collide. ``user`` is the recipient when known; ``object_id`` the row the
    reminder is about (an enrolment, an appraisal…: the kind says which), for set-based
    lookups such as « the keys already logged for these enrolments »."""

    kind = models.CharField(_("type"), max_length=50)
    key = models.CharField(_("clé"), max_length=150)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+",
        verbose_name=_("destinataire"),
    )
    object_id = models.BigIntegerField(_("objet"), null=True, blank=True)
    sent_at = models.DateTimeField(_("envoyé le"), auto_now_add=True)

    class Meta:
        verbose_name = _("relance")
        constraints = [models.UniqueConstraint(fields=["kind", "key"], name="cms_reminder_once")]
        indexes = [models.Index(fields=["kind", "object_id"], name="cms_reminder_object")]

    def __str__(self):
        return f"{self.kind} {self.key}"
