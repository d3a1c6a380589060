"""HR dashboards of the appraisal campaigns, included under ``/rh/entretiens/``."""

from django.urls import path

from appraisal import hr_views
from cms import converters  # noqa: F401  (registers <id:…>)

app_name = "appraisal_hr"

urlpatterns = [
    path("", hr_views.index, name="index"),
    path("tous/", hr_views.appraisals, name="appraisals"),
    path("<id:campaign_id>/", hr_views.dashboard, name="dashboard"),
    path("<id:campaign_id>/graphique.svg", hr_views.chart, name="chart"),
    path("<id:campaign_id>/avancement.csv", hr_views.progress_csv, name="progress_csv"),
    path("<id:campaign_id>/export/", hr_views.export, name="export"),
    path("exports/<str:export_id>/", hr_views.export_status, name="export_status"),
    path("exports/<str:export_id>/telecharger/", hr_views.export_download, name="export_download"),
]
