"""The « Affichage » panel of Mon espace (registered by themes/apps.py)."""

from django.utils.translation import gettext_lazy as _

from cms.dashboard import Panel
from themes import preferences


class DisplayPanel(Panel):
    key = "themes.display"
    title = _("Affichage")
    order = 90
    template_name = "themes/panels/display.html"

    def get_context(self, request):
        from themes.views import DisplayForm

        current = preferences.for_request(request)
        return {"form": DisplayForm(initial={"high_contrast": current.high_contrast, "large_text": current.large_text})}
