from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from cms import roles


def _catalogue_admin_url(request):
    """The Wagtail explorer of the course catalogue (where editors add courses and steps)."""
    from django.urls import reverse

    from learning.models import CourseIndexPage

    index = CourseIndexPage.objects.order_by("path").only("pk").first()
    return reverse("wagtailadmin_explore", args=[index.pk]) if index is not None else reverse("wagtailadmin_home")


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
            NavItem(
                "learning.catalogue", _("Formations"), "", 15, visible=navigation.everyone,
                url=navigation.first_live_page_url("learning.CourseIndexPage"),
            ),
            NavItem("learning.team", _("Mon équipe"), "learning:team", 20, "team", navigation.managers),
            NavItem("learning.hr", _("Pilotage formation"), "learning:hr", 30, "hr", navigation.hr),
            NavItem(
                "learning.editors", _("Gérer les formations"), "", 50,
                visible=navigation.role(roles.TRAINING_EDITORS), url=_catalogue_admin_url,
            ),
        )
        seed.register_seeder("learning.courses", seed_learning, order=100)
        register_import_listener(services.assign_newcomers)
        from xapi import cmi5 as xapi_cmi5

        xapi_cmi5.register_listener(services.record_cmi5_results)  # cmi5 AU results → registration, enrolment

        # xAPI: enrolment actions emit statements; statements from content move enrolments.
        from cms.actions import action_executed
        from learning import xapi_bridge, xapi_emit
        from xapi.signals import statements_stored

        action_executed.connect(xapi_emit.on_action_executed, dispatch_uid="learning.xapi_emit")
        statements_stored.connect(xapi_bridge.on_statements_stored, dispatch_uid="learning.xapi_bridge")
