# First: registers the <id:…> path converter before any URLconf below (Wagtail's admin URLs
# and their hooks included) is built.
from cms import converters  # noqa: F401

# isort: split
import re

from django.conf import settings
from django.urls import include, path, re_path
from django.views.i18n import JavaScriptCatalog
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.documents import urls as wagtaildocs_urls

from cms import views
from cms.api.views import api_not_found
from identity import views as identity_views
from themes.views import display_preferences, theme_css
from xapi import record_views

app_patterns = (
    [
        path("mon-espace/", views.mon_espace, name="mon_espace"),
        path("mon-espace/releve-xapi/", record_views.record, name="xapi_record"),
        path("mon-espace/releve-xapi/export.json", record_views.record_export, name="xapi_record_export"),
        path(
            "mon-espace/releve-xapi/<uuid:statement_id>/", record_views.record_statement, name="xapi_record_statement"
        ),
    ],
    "cms",
)

urlpatterns = [
    path("admin/", include(wagtailadmin_urls)),
    path("documents/", include(wagtaildocs_urls)),
    path("api/v1/", include("cms.api.urls")),
    path("xapi/", include("xapi.urls")),
    path("oidc/", include("identity.urls")),
    path("scim/v2/", include("provisioning.urls")),
    re_path(r"^api(?:/|$)", api_not_found),  # any other version or path: JSON 404, not a page
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("theme.css", theme_css, name="theme_css"),
    path("affichage/", display_preferences, name="display_preferences"),
    path("compte/connexion/", identity_views.LoginView.as_view(), name="login"),  # LOCAL_LOGIN, the city's button
    path("compte/logout/", identity_views.LogoutView.as_view(), name="logout"),  # and at the OIDC provider
    path("compte/password_reset/", views.PasswordResetView.as_view(), name="password_reset"),  # throttled
    path("compte/", include("django.contrib.auth.urls")),
    path("", include(app_patterns)),
    path("formation/", include("learning.urls")),
    path("entretiens/", include("appraisal.urls")),
    path("recrutement/rapports/", include("recruitment.report_urls")),
    path("recrutement/", include("recruitment.urls")),
    path("rh/entretiens/", include("appraisal.hr_urls")),
]



def media_patterns():
    """``MEDIA_URL`` served from ``MEDIA_ROOT`` (Wagtail images and documents) when
    ``SERVE_MEDIA`` is on: the dev and demo settings, whether ``DEBUG`` is on or off
    (``django.conf.urls.static.static()`` would serve nothing with ``DEBUG`` off)."""
    if not getattr(settings, "SERVE_MEDIA", False) or "://" in settings.MEDIA_URL:
        return []
    from django.views.static import serve

    prefix = settings.MEDIA_URL.lstrip("/")
    return [re_path(rf"^{re.escape(prefix)}(?P<path>.*)$", serve, {"document_root": settings.MEDIA_ROOT})]


urlpatterns += media_patterns()

urlpatterns += [path("", include(wagtail_urls))]

handler403 = "cms.views.permission_denied"
handler404 = "cms.views.page_not_found"
handler500 = "cms.views.server_error"
