from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods
from wagtail.models import Site

from themes import preferences, registry
from themes.models import ThemeSettings

LARGE_TEXT_SCALE = "125%"


@require_GET
def theme_css(request):
    """The site's design tokens as CSS custom properties (served, not inlined: CSP-friendly).

    ``?contrast=high`` serves the high-contrast theme's tokens and ``?text=large`` a larger
    base font size: the user's display preferences, whatever the site's theme."""
    site = Site.find_for_request(request)
    tokens = ThemeSettings.for_site(site).tokens() if site else {}
    if request.GET.get("contrast") == "high":
        tokens = dict(registry.get("high_contrast").tokens)
    if request.GET.get("text") == "large":
        tokens["font-scale"] = LARGE_TEXT_SCALE
    body = ":root {\n" + "".join(f"  --{name}: {value};\n" for name, value in tokens.items()) + "}\n"
    response = HttpResponse(body, content_type="text/css; charset=utf-8")
    response["Cache-Control"] = "public, max-age=300"
    return response


class DisplayForm(forms.Form):
    high_contrast = forms.BooleanField(
        label=gettext_lazy("Contraste élevé"), required=False,
        help_text=gettext_lazy("Texte noir sur fond blanc, liens et contours renforcés."),
    )
    large_text = forms.BooleanField(
        label=gettext_lazy("Texte agrandi"), required=False, help_text=gettext_lazy("Tout le texte 25 % plus grand."),
    )


def _safe_next(request, target):
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return None


@require_http_methods(["GET", "POST"])
def display_preferences(request):
    """« Affichage »: the high-contrast theme and larger text, remembered for the user (or
    the session of an anonymous visitor). Works without JavaScript."""
    current = preferences.for_request(request)
    if request.method == "POST":
        form = DisplayForm(request.POST)
        if form.is_valid():
            preferences.save(request, **form.cleaned_data)
            messages.success(request, _("Vos préférences d'affichage sont enregistrées."))
            return redirect(_safe_next(request, request.POST.get("next")) or "display_preferences")
    else:
        form = DisplayForm(initial={"high_contrast": current.high_contrast, "large_text": current.large_text})
    return render(
        request, "themes/display.html", {"form": form, "next": _safe_next(request, request.GET.get("next")) or ""}
    )
