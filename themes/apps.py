from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ThemesConfig(AppConfig):
    name = "themes"
    label = "themes"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = _("Thèmes")

    def ready(self):
        from cms import dashboard
        from themes.panels import DisplayPanel

        dashboard.register_panel(DisplayPanel())
