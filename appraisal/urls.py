"""Front-end views of the entretien professionnel, included under ``/entretiens/``."""

from django.urls import path

from appraisal import views

app_name = "appraisal"

urlpatterns = [
    path("", views.my_appraisals, name="list"),
    path("visa/", views.reviewer_queue, name="reviewer_queue"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/edit/", views.edit, name="edit"),
    path("<int:pk>/autosave/", views.autosave, name="autosave"),
    path("<int:pk>/observations/", views.observations, name="observations"),
    path("<int:pk>/actions/<str:action>/", views.action, name="action"),
]
