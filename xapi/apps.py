from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class XapiConfig(AppConfig):
    name = "xapi"
    label = "xapi"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = _("Entrepôt xAPI (LRS)")
