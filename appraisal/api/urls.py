"""Mounted at the root of ``/api/v1/`` by cms/api/urls.py."""

from django.urls import path

from appraisal.api import views
from cms import converters  # noqa: F401  (registers <id:…>)

urlpatterns = [
    path("campaigns/", views.CampaignListView.as_view(), name="api-campaigns"),
    path("campaigns/<id:id>/progress/", views.CampaignProgressView.as_view(), name="api-campaign-progress"),
    path("campaigns/<id:id>/template/", views.CampaignTemplateView.as_view(), name="api-campaign-template"),
    path("appraisals/", views.AppraisalListView.as_view(), name="api-appraisals"),
    path("appraisals/<id:id>/", views.AppraisalDetailView.as_view(), name="api-appraisal"),
    path("appraisals/<id:id>/content/", views.AppraisalContentView.as_view(), name="api-appraisal-content"),
    path("appraisals/<id:id>/actions/<str:action>/", views.AppraisalActionView.as_view(), name="api-appraisal-action"),
    path("appraisals/<id:id>/pdf/", views.AppraisalPdfView.as_view(), name="api-appraisal-pdf"),
]
