"""Wagtail admin integration of the appraisal app: the "Entretiens" menu (HR).

* "Campagnes" and "Modèles de compte rendu" (``appraisal.admin_views``), registered as one
  snippet group so that the templates get the snippet views (revisions, preview, history).
* "Tableaux de bord": a link to the HR dashboards of the site (``/rh/entretiens/``), for HR
  and holders of ``appraisal.view_all_appraisals``.
* The log action written when HR launches a campaign.
"""

from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import MenuItem
from wagtail.snippets.models import register_snippet

from appraisal import permissions
from appraisal.admin_views import AppraisalViewSetGroup
from appraisal.launch import CLOSE_ACTION, LAUNCH_ACTION

register_snippet(AppraisalViewSetGroup)


class DashboardsMenuItem(MenuItem):
    def is_shown(self, request):
        return permissions.can_view_all(request.user)


@hooks.register(AppraisalViewSetGroup.submenu_hook)
def register_dashboards_menu_item():
    return DashboardsMenuItem(
        _("Tableaux de bord"), reverse_lazy("appraisal_hr:index"), name="tableaux-de-bord-entretiens",
        icon_name="table", order=10,
    )


@hooks.register("register_log_actions")
def register_appraisal_log_actions(actions):
    actions.register_action(LAUNCH_ACTION, _("Lancer la campagne"), _("Lancement de la campagne demandé"))
    actions.register_action(CLOSE_ACTION, _("Clôturer la campagne"), _("Campagne clôturée"))
