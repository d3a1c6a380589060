from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LearningConfig(AppConfig):
    name = "learning"
    label = "learning"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = _("E-learning")

    def ready(self):
        from cms import dashboard, navigation, seed
        from cms.importer import register_import_listener
        from cms.navigation import NavItem
        from learning import services
        from learning.dashboard import MyCoursesPanel, TeamTrainingPanel
        from learning.demo import seed_learning

        dashboard.register_panel(MyCoursesPanel())
        dashboard.register_panel(TeamTrainingPanel())
        navigation.register(
            NavItem("learning.team", _("Formations de mon équipe"), "learning:team", 20, "team", navigation.managers),
            NavItem("learning.hr", _("Pilotage des formations"), "learning:hr", 30, "hr", navigation.hr),
        )
        seed.register_seeder("learning.courses", seed_learning, order=100)
        register_import_listener(services.assign_newcomers)
