"""Mounted at the root of ``/api/v1/`` by cms/api/urls.py."""

from django.urls import path

from cms import converters  # noqa: F401  (registers <id:…>)
from learning.api import views

urlpatterns = [
    path("courses/", views.CourseListView.as_view(), name="api-courses"),
    path("completions/", views.CompletionListView.as_view(), name="api-completions"),
    path("completions/export.csv", views.CompletionExportView.as_view(), name="api-completions-export"),
    path("certificates/<id:enrollment_id>.pdf", views.CertificateView.as_view(), name="api-certificate"),
    path("me/enrollments/", views.MyEnrollmentsView.as_view(), name="api-my-enrollments"),
    path("me/lessons/<id:lesson_id>/complete/", views.CompleteLessonView.as_view(), name="api-lesson-complete"),
    path("me/quizzes/<id:quiz_id>/attempts/", views.QuizAttemptsView.as_view(), name="api-quiz-attempts"),
]
