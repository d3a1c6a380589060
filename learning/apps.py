from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LearningConfig(AppConfig):
    name = "learning"
    label = "learning"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = _("E-learning")
