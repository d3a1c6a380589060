from django.db import models
from django.utils.translation import gettext_lazy as _


class TaskHeartbeat(models.Model):
    """Written by the ``heartbeat`` task: proves that a worker picks up and runs jobs."""

    backend = models.CharField(_("backend"), max_length=100, unique=True)
    token = models.CharField(_("jeton"), max_length=64)
    enqueued_at = models.DateTimeField(_("mis en file le"))
    ran_at = models.DateTimeField(_("exécuté le"))

    class Meta:
        verbose_name = _("pouls des tâches")

    def __str__(self):
        return f"{self.backend} @ {self.ran_at:%Y-%m-%d %H:%M:%S}"
