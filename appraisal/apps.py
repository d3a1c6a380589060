from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AppraisalConfig(AppConfig):
    name = "appraisal"
    label = "appraisal"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = _("Entretien professionnel")
