"""Panels of "Mon espace" contributed by the learning app.

* :class:`MyCoursesPanel` ("Mes formations"): the agent's current enrolments (overdue
  first) with due date, status and progress, and their certificates ("Mes attestations").
* :class:`TeamTrainingPanel` ("Formation de mon équipe"): for managers only, the training
  status of their direct reports (counts and the first overdue enrolments).

Both build their context with a fixed number of queries, whatever the number of
enrolments or reports (the dashboard is the first page every agent opens).
"""

from django.db.models import Count, Q
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cms import selectors as cms_selectors
from cms.dashboard import Panel
from learning import selectors
from learning.choices import OPEN_STATUSES, EnrollmentStatus
from learning.models import CourseIndexPage
from learning.permissions import can_view_team

TEAM_OVERDUE_SHOWN = 5

CURRENT_STATUSES = {EnrollmentStatus.NOT_STARTED, EnrollmentStatus.IN_PROGRESS}
CERTIFIED_STATUSES = {EnrollmentStatus.COMPLETED, EnrollmentStatus.EXPIRED}


def request_agent(request):
    """The request user's agent profile, looked up once per request."""
    if not hasattr(request, "_learning_agent"):
        request._learning_agent = cms_selectors.agent_for_user(request.user)
    return request._learning_agent


def safe_reverse(name, **kwargs):
    """``reverse()`` or None while the URL is not wired (another app may add it later)."""
    try:
        return reverse(name, kwargs=kwargs or None)
    except NoReverseMatch:
        return None


def certificate_url_builder():
    """A function ``enrollment_id -> download URL`` (one ``reverse()``), or None if the URL
    does not exist."""
    probe = 987654321
    sample = safe_reverse("learning:certificate_download", enrollment_id=probe)
    if sample is None:
        return None
    prefix, _sep, suffix = sample.rpartition(str(probe))
    return lambda enrollment_id: f"{prefix}{enrollment_id}{suffix}"


def catalogue_url(request):
    index = CourseIndexPage.objects.live().public().order_by("path").first()
    return index.get_url(request) if index is not None else None


class MyCoursesPanel(Panel):
    key = "learning.my_courses"
    title = _("Mes formations")
    order = 20
    template_name = "learning/panels/my_courses.html"

    def is_visible(self, request):
        return request.user.is_authenticated and request_agent(request) is not None

    def get_context(self, request):
        now = timezone.now()
        enrollments = list(selectors.my_enrollments(request.user).select_related("last_step"))
        open_courses = {e.course_id for e in enrollments if e.status in OPEN_STATUSES}
        certificate_url = certificate_url_builder()

        current, certificates = [], []
        for enrollment in enrollments:
            course_url = enrollment.course.get_url(request)
            if enrollment.status in CURRENT_STATUSES or (
                enrollment.status == EnrollmentStatus.FAILED and enrollment.course_id not in open_courses
            ):
                step = enrollment.last_step
                resume_url = step.get_url(request) if step is not None and step.live else None
                current.append(
                    {
                        "enrollment": enrollment,
                        "course": enrollment.course,
                        "course_url": course_url,
                        "resume_url": resume_url or course_url,
                        "percent": round(enrollment.progress * 100),
                        "is_overdue": bool(
                            enrollment.due_at
                            and enrollment.due_at < now
                            and enrollment.status != EnrollmentStatus.FAILED
                        ),
                        "is_failed": enrollment.status == EnrollmentStatus.FAILED,
                        "is_recertification": enrollment.cycle > 1,
                    }
                )
            elif enrollment.status in CERTIFIED_STATUSES and enrollment.certificate_code:
                certificates.append(
                    {
                        "enrollment": enrollment,
                        "course": enrollment.course,
                        "course_url": course_url,
                        "download_url": certificate_url(enrollment.pk) if certificate_url else None,
                        "is_expired": enrollment.status == EnrollmentStatus.EXPIRED
                        or bool(enrollment.expires_at and enrollment.expires_at <= now),
                    }
                )
        far_future = now.replace(year=9999)
        current.sort(
            key=lambda row: (
                not row["is_overdue"],
                row["is_failed"],
                row["enrollment"].due_at or far_future,
                row["course"].title,
            )
        )
        certificates.sort(key=lambda row: row["enrollment"].completed_at or now, reverse=True)
        return {
            "current": current,
            "certificates": certificates,
            "overdue_count": sum(1 for row in current if row["is_overdue"]),
            "catalogue_url": catalogue_url(request),
        }


class TeamTrainingPanel(Panel):
    key = "learning.team_training"
    title = _("Formation de mon équipe")
    order = 30
    template_name = "learning/panels/team_training.html"

    def is_visible(self, request):
        if not request.user.is_authenticated:
            return False
        agent = request_agent(request)
        if agent is None:
            return False
        if not hasattr(request, "_learning_is_manager"):
            request._learning_is_manager = can_view_team(request.user)
        return request._learning_is_manager

    def get_context(self, request):
        now = timezone.now()
        agent = request_agent(request)
        team = selectors.team_enrollments(agent, now=now)
        overdue = Q(due_at__lt=now) & ~Q(status=EnrollmentStatus.COMPLETED)
        counts = team.order_by().aggregate(
            overdue=Count("pk", filter=overdue),
            overdue_agents=Count("agent", filter=overdue, distinct=True),
            not_started=Count("pk", filter=Q(status=EnrollmentStatus.NOT_STARTED)),
            in_progress=Count("pk", filter=Q(status=EnrollmentStatus.IN_PROGRESS)),
            completed=Count("pk", filter=Q(status=EnrollmentStatus.COMPLETED)),
            failed=Count("pk", filter=Q(status=EnrollmentStatus.FAILED)),
            total=Count("pk"),
        )
        first_overdue = list(team.filter(overdue)[:TEAM_OVERDUE_SHOWN]) if counts["overdue"] else []
        return {
            "counts": counts,
            "first_overdue": first_overdue,
            "team_url": safe_reverse("learning:team"),
            "now": now,
        }
