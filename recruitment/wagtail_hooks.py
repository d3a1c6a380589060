"""Wagtail admin integration of recruitment: the "Recrutement" menu (HR and recruiters),
"Mes évaluations" (interviewers), and the URLs of ``recruitment.admin_views``.

``MessageTemplate`` is a snippet (``@register_snippet`` on the model): recruiters and HR
edit the texts under "Fragments" with the model permissions given by migration 0002.
"""

from django.urls import include, path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import MenuItem

from recruitment import admin_views, permissions

app_name = "recruitment_admin"

urlpatterns = [
    path("", admin_views.OpeningIndexView.as_view(), name="openings"),
    path("offres/<id:pk>/", admin_views.BoardView.as_view(), name="board"),
    path("offres/<id:pk>/refuser/", admin_views.BulkRejectView.as_view(), name="bulk_reject"),
    path("offres/<id:pk>/deplacer/", admin_views.BulkMoveView.as_view(), name="bulk_move"),
    path("offres/<id:pk>/cloturer/", admin_views.CloseOpeningView.as_view(), name="close"),
    path("annuler-action-groupee/", admin_views.UndoBatchView.as_view(), name="undo"),
    path("candidatures/<id:pk>/", admin_views.ApplicationView.as_view(), name="application"),
    path("candidatures/<id:pk>/deplacer/", admin_views.MoveView.as_view(), name="move"),
    path("candidatures/<id:pk>/effacer/", admin_views.EraseCandidateView.as_view(), name="erase"),
    path("candidatures/<id:pk>/deplacer-depuis-le-tableau/", admin_views.BoardMoveView.as_view(), name="board_move"),
    path("candidatures/<id:pk>/entretien/", admin_views.ScheduleInterviewView.as_view(), name="schedule"),
    path("candidatures/<id:pk>/evaluations/", admin_views.ScorecardSummaryView.as_view(), name="scorecard_summary"),
    path("candidatures/<id:pk>/fichiers/<str:kind>/", admin_views.ApplicationFileView.as_view(), name="file"),
    path("evaluations/", admin_views.MyScorecardsView.as_view(), name="my_scorecards"),
    path("evaluations/<id:pk>/", admin_views.ScorecardView.as_view(), name="scorecard"),
]


@hooks.register("register_admin_urls")
def register_admin_urls():
    return [path("recrutement/", include((urlpatterns, app_name), namespace=app_name))]


class RecruitmentMenuItem(MenuItem):
    def is_shown(self, request):
        return permissions.can_use_recruitment_admin(request.user)


class ScorecardsMenuItem(MenuItem):
    def is_shown(self, request):
        return permissions.can_use_scorecards(request.user)


@hooks.register("register_admin_menu_item")
def register_recruitment_menu_item():
    return RecruitmentMenuItem(
        _("Recrutement"), reverse("recruitment_admin:openings"), name="recrutement", icon_name="group", order=260
    )


@hooks.register("register_admin_menu_item")
def register_scorecards_menu_item():
    return ScorecardsMenuItem(
        _("Mes évaluations"), reverse("recruitment_admin:my_scorecards"), name="mes-evaluations", icon_name="form",
        order=270,
    )

