from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RecruitmentConfig(AppConfig):
    name = "recruitment"
    label = "recruitment"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = _("Recrutement")

    def ready(self):
        from cms import seed
        from recruitment.demo import seed_recruitment

        seed.register_seeder("recruitment.openings", seed_recruitment, order=300)
