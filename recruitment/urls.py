"""Public URLs of recruitment, mounted under ``recrutement/`` by cms/urls.py. The listing
and the job notices themselves are Wagtail pages."""

from django.urls import path

from cms import converters  # noqa: F401  (registers <id:…>)
from recruitment import feeds, views

app_name = "recruitment"

urlpatterns = [
    path("offres/<id:opening_id>/candidater/", views.apply, name="apply"),
    path("candidature-envoyee/", views.apply_done, name="apply_done"),
    path("flux/", feeds.OpeningsFeed(), name="feed"),
    path("flux/atom/", feeds.OpeningsAtomFeed(), name="feed_atom"),
    path("candidat/<str:token>/", views.self_service, name="self_service"),
    path("donnees-effacees/", views.erased, name="erased"),
]
