"""Front-end views of the entretien professionnel, included under ``/entretiens/``."""

from django.urls import path

from appraisal import views
from cms import converters  # noqa: F401  (registers <id:…>)

app_name = "appraisal"

urlpatterns = [
    path("", views.my_appraisals, name="list"),
    path("visa/", views.reviewer_queue, name="reviewer_queue"),
    path("<id:pk>/", views.detail, name="detail"),
    path("<id:pk>/edit/", views.edit, name="edit"),
    path("<id:pk>/autosave/", views.autosave, name="autosave"),
    path("<id:pk>/observations/", views.observations, name="observations"),
    path("<id:pk>/pdf/", views.report_pdf, name="pdf"),
    path("<id:pk>/actions/<str:action>/", views.action, name="action"),
    path("<id:pk>/actions/<str:action>/confirmer/", views.confirm, name="confirm"),
]
