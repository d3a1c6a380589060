"""Mounted at the root of ``/api/v1/`` by cms/api/urls.py."""

from django.urls import path

from appraisal.api import views

urlpatterns = [
    path("campaigns/", views.CampaignListView.as_view(), name="api-campaigns"),
    path("campaigns/<int:id>/progress/", views.CampaignProgressView.as_view(), name="api-campaign-progress"),
    path("appraisals/", views.AppraisalListView.as_view(), name="api-appraisals"),
    path("appraisals/<int:id>/", views.AppraisalDetailView.as_view(), name="api-appraisal"),
    path("appraisals/<int:id>/content/", views.AppraisalContentView.as_view(), name="api-appraisal-content"),
    path("appraisals/<int:id>/actions/<str:action>/", views.AppraisalActionView.as_view(), name="api-appraisal-action"),
    path("appraisals/<int:id>/pdf/", views.AppraisalPdfView.as_view(), name="api-appraisal-pdf"),
]
