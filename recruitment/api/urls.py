"""Mounted at the root of ``/api/v1/`` by cms/api/urls.py."""

from django.urls import path

from cms import converters  # noqa: F401  (registers <id:…>)
from recruitment.api import views

urlpatterns = [
    path("openings/", views.OpeningListView.as_view(), name="api-openings"),
    path("openings/<id:id>/applications/", views.OpeningApplicationView.as_view(), name="api-opening-applications"),
    path("applications/", views.ApplicationListView.as_view(), name="api-applications"),
    path("applications/<id:id>/cv/", views.ApplicationCvView.as_view(), name="api-application-cv"),
    path("applications/<id:id>/cover-letter/", views.ApplicationCoverLetterView.as_view(), name="api-application-cover-letter"),
    path("applications/<id:id>/actions/move/", views.ApplicationMoveView.as_view(), name="api-application-move"),
    path("recruitment/report/", views.ReportView.as_view(), name="api-recruitment-report"),
]
