from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CmsConfig(AppConfig):
    name = "cms"
    label = "cms"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = _("Organisation et site")

    def ready(self):
        from . import dashboard, seed  # noqa: F401  (registries)

        dashboard.register_panel(dashboard.ProfilePanel())
        seed.register_seeder("cms.pages", seed.seed_pages, order=10)
