"""The recruitment report, included under ``/recrutement/rapports/`` by cms/urls.py."""

from django.urls import path

from recruitment import report_views

app_name = "recruitment_reports"

urlpatterns = [
    path("", report_views.report, name="report"),
    path("entonnoir.svg", report_views.funnel_svg, name="funnel_svg"),
]
