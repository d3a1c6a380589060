from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AppraisalConfig(AppConfig):
    name = "appraisal"
    label = "appraisal"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = _("Entretien professionnel")

    def ready(self):
        from appraisal.dashboard import MyAppraisalPanel
        from appraisal.demo import seed_appraisal
        from cms import dashboard, navigation, seed
        from cms.navigation import NavItem

        dashboard.register_panel(MyAppraisalPanel())
        navigation.register(
            NavItem("appraisal.mine", _("Mes entretiens"), "appraisal:list", 10, "appraisal:"),
            NavItem(
                "appraisal.hr", _("Pilotage entretiens"), "appraisal_hr:index", 40, "appraisal_hr:", navigation.hr
            ),
        )
        # After the learning seeder (order 100): its courses can be named as training needs.
        seed.register_seeder("appraisal.campaign", seed_appraisal, order=200)
        from appraisal import leavers
        from cms.importer import register_import_listener

        register_import_listener(leavers.on_directory_change)  # leavers' open appraisals flagged for HR
