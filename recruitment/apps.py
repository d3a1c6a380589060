from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RecruitmentConfig(AppConfig):
    name = "recruitment"
    label = "recruitment"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = _("Recrutement")

    def ready(self):
        from cms import dashboard, navigation, roles, seed
        from cms.navigation import NavItem
        from recruitment.dashboard import PendingScorecardsPanel
        from recruitment.demo import seed_recruitment

        navigation.register(
            NavItem(
                "recruitment.openings", _("Offres d'emploi"), "", 16, visible=navigation.anonymous,
                url=navigation.first_live_page_url("recruitment.JobIndexPage"),
            ),
            NavItem(
                "recruitment.board", _("Recrutement"), "recruitment_admin:openings", 60,
                visible=lambda nav: nav.has_role(roles.RECRUITERS) or nav.is_hr,
            ),
            NavItem(
                "recruitment.scorecards", _("Mes évaluations"), "recruitment_admin:my_scorecards", 70,
                visible=navigation.role(roles.INTERVIEWERS),
            ),
        )
        dashboard.register_panel(PendingScorecardsPanel())
        seed.register_seeder("recruitment.openings", seed_recruitment, order=300)
