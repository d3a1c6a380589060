"""Site views of the learning app, included under ``/formation/`` (namespace ``learning``)."""

from django.urls import path

from cms import converters  # noqa: F401  (registers <id:…>)
from learning import certificate_views, package_views, views

app_name = "learning"

urlpatterns = [
    path("cours/<id:course_id>/inscription/", views.enroll, name="enroll"),
    path("lecons/<id:lesson_id>/terminer/", views.complete_lesson, name="complete_lesson"),
    path("quiz/<id:quiz_id>/tentatives/", views.submit_quiz, name="submit_quiz"),
    path("equipe/formations/", views.team, name="team"),
    path("equipe/formations/export.csv", views.team_export, name="team_export"),
    path(
        "equipe/formations/inscriptions/<id:enrollment_id>/renouveler/",
        views.grant_new_cycle,
        name="grant_new_cycle",
    ),
    path("rh/formations/", views.hr, name="hr"),
    path("rh/formations/graphique.svg", views.hr_chart, name="hr_chart"),
    path("rh/formations/export.csv", views.hr_export, name="hr_export"),
    path("attestations/<id:enrollment_id>.pdf", certificate_views.certificate_download, name="certificate_download"),
    path("attestations/verifier/<str:code>/", certificate_views.certificate_verify, name="certificate_verify"),
    path("paquets/tentatives/<id:attempt_id>/", package_views.player, name="package_player"),
    path("paquets/etapes/<id:step_id>/lancer/", package_views.launch, name="package_launch"),
    path("paquets/<uuid:package_uuid>/<path:path>", package_views.content, name="package_content"),
]
