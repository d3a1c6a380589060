"""Mounted at the root of ``/api/v1/`` by cms/api/urls.py."""

from django.urls import path

from cms import converters  # noqa: F401  (registers <id:…>)
from learning.api import package_views, views

urlpatterns = [
    path("courses/", views.CourseListView.as_view(), name="api-courses"),
    path("completions/", views.CompletionListView.as_view(), name="api-completions"),
    path("completions/export.csv", views.CompletionExportView.as_view(), name="api-completions-export"),
    path("certificates/<id:enrollment_id>.pdf", views.CertificateView.as_view(), name="api-certificate"),
    path("me/enrollments/", views.MyEnrollmentsView.as_view(), name="api-my-enrollments"),
    path("me/lessons/<id:lesson_id>/complete/", views.CompleteLessonView.as_view(), name="api-lesson-complete"),
    path("me/quizzes/<id:quiz_id>/attempts/", views.QuizAttemptsView.as_view(), name="api-quiz-attempts"),
    path("me/packages/<id:step_id>/launch/", package_views.PackageLaunchView.as_view(), name="api-package-launch"),
    path(
        "me/package-attempts/<id:attempt_id>/", package_views.PackageAttemptView.as_view(), name="api-package-attempt"
    ),
    path(
        "me/package-attempts/<id:attempt_id>/commit/",
        package_views.PackageCommitView.as_view(),
        name="api-package-commit",
    ),
    path(
        "me/package-attempts/<id:attempt_id>/beacon/",
        package_views.PackageBeaconView.as_view(),
        name="api-package-beacon",
    ),
]
