from django.http import HttpResponse
from django.views.decorators.http import require_GET
from wagtail.models import Site

from themes.models import ThemeSettings


@require_GET
def theme_css(request):
    """The site's design tokens as CSS custom properties (served, not inlined: CSP-friendly)."""
    site = Site.find_for_request(request)
    tokens = ThemeSettings.for_site(site).tokens() if site else {}
    body = ":root {\n" + "".join(f"  --{name}: {value};\n" for name, value in tokens.items()) + "}\n"
    response = HttpResponse(body, content_type="text/css; charset=utf-8")
    response["Cache-Control"] = "public, max-age=300"
    return response
