"""Panels of "Mon espace" contributed by the learning app: content, visibility and query counts."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from cms import dashboard
from learning import services
from learning.choices import EnrollmentSource, EnrollmentStatus
from learning.dashboard import MyCoursesPanel, TeamTrainingPanel, safe_reverse
from learning.models import Enrollment
from tests.factories import AgentFactory, UserFactory
from tests.learning.conftest import ALL_RIGHT, HALF_RIGHT, build_course


@pytest.fixture
def courses(db):
    """Five published courses (two lessons and a quiz each); the "failed" one allows one attempt."""
    first = build_course(title="Protection des données", slug="rgpd")
    return {
        "completed": first,
        "in_progress": build_course(title="Prévention des risques", slug="prevention", index=first["index"]),
        "overdue": build_course(title="Laïcité", slug="laicite", index=first["index"]),
        "failed": build_course(title="Cybersécurité", slug="cyber", index=first["index"], attempt_limit=1),
        "expired": build_course(title="Accueil et handicap", slug="handicap", index=first["index"], validity_months=24),
    }


def enrol_in_every_status(agent, courses, now=None):
    """One enrolment per status, through the services (the expired one opens a new cycle)."""
    now = now or timezone.now()
    user = agent.user
    c = courses["completed"]
    for lesson in c["lessons"]:
        services.complete_lesson(user=user, lesson=lesson)
    services.submit_quiz(user=user, quiz=c["quiz"], answers=ALL_RIGHT)
    services.complete_lesson(user=user, lesson=courses["in_progress"]["lessons"][0])
    services.enroll(
        agent=agent,
        course=courses["overdue"]["course"],
        source=EnrollmentSource.ASSIGNED,
        due_at=now - timedelta(days=3),
    )
    services.submit_quiz(user=user, quiz=courses["failed"]["quiz"], answers=HALF_RIGHT)
    e = courses["expired"]
    for lesson in e["lessons"]:
        services.complete_lesson(user=user, lesson=lesson)
    services.submit_quiz(user=user, quiz=e["quiz"], answers=ALL_RIGHT)
    Enrollment.objects.filter(agent=agent, course=e["course"]).update(expires_at=now - timedelta(days=1))
    services.expire_enrollments(now=now)


def make_request(user):
    request = RequestFactory().get("/mon-espace/")
    request.user = user
    return request


def panel_queries(panel, user):
    """Queries to decide visibility, build the context and render the panel, on a cold cache
    (Wagtail caches the site root paths there)."""
    cache.clear()
    user = type(user).objects.get(pk=user.pk)  # a fresh instance, as in a real request (no cached agent)
    request = make_request(user)
    with CaptureQueriesContext(connection) as queries:
        assert panel.is_visible(request)
        context = panel.get_context(request)
        html = render_to_string(panel.template_name, {"panel_context": context, "user": user}, request=request)
    return len(queries), context, html


@pytest.fixture
def only_learning_panels(monkeypatch):
    panels = {key: panel for key, panel in dashboard._PANELS.items() if key.startswith(("cms.", "learning."))}
    monkeypatch.setattr(dashboard, "_PANELS", panels)
    assert {"learning.my_courses", "learning.team_training"} <= set(panels)


# --------------------------------------------------------------------------- Mes formations


def test_my_courses_lists_current_enrolments_overdue_first_and_certificates(courses, chain):
    agent = chain["agent"]
    enrol_in_every_status(agent, courses)
    _count, context, html = panel_queries(MyCoursesPanel(), agent.user)

    current = [row["course"].slug for row in context["current"]]
    # Overdue first, failed last; completed and expired cycles are not "current".
    assert current[0] == "laicite" and context["current"][0]["is_overdue"]
    assert set(current) == {"laicite", "prevention", "handicap", "cyber"}
    assert current[-1] == "cyber" and context["current"][-1]["is_failed"]
    renewal = next(row for row in context["current"] if row["course"].slug == "handicap")
    assert renewal["is_recertification"] and renewal["enrollment"].status == EnrollmentStatus.NOT_STARTED
    in_progress = next(row for row in context["current"] if row["course"].slug == "prevention")
    assert in_progress["percent"] == 33
    assert in_progress["resume_url"].endswith("/prevention/principes/")
    assert context["overdue_count"] == 1

    certified = {row["course"].slug: row for row in context["certificates"]}
    assert set(certified) == {"rgpd", "handicap"}
    assert certified["handicap"]["is_expired"] and not certified["rgpd"]["is_expired"]
    completed = Enrollment.objects.get(agent=agent, course__slug="rgpd")
    assert completed.certificate_code in html

    assert "En retard" in html
    assert '<progress max="100" value="33"' in html and "33\u00a0%" in html
    assert "Mes attestations" in html
    assert "Reprendre" in html and "Commencer" in html
    download = safe_reverse("learning:certificate_download", enrollment_id=completed.pk)
    if download is not None:  # the download view belongs to the certificates work
        assert download in html and certified["rgpd"]["download_url"] == download
    else:
        assert certified["rgpd"]["download_url"] is None


def test_my_courses_runs_a_constant_number_of_queries(courses, chain):
    few = chain["agent"]
    services.enroll(agent=few, course=courses["completed"]["course"])
    many = AgentFactory(org_unit=few.org_unit, manager=chain["manager"])
    enrol_in_every_status(many, courses)
    assert Enrollment.objects.filter(agent=many).count() == 6
    few_queries, _c, _h = panel_queries(MyCoursesPanel(), few.user)
    many_queries, context, _h = panel_queries(MyCoursesPanel(), many.user)
    assert len(context["current"]) == 4
    assert few_queries == many_queries


def test_my_courses_without_enrolment_invites_to_the_catalogue(course, chain):
    _count, context, html = panel_queries(MyCoursesPanel(), chain["agent"].user)
    assert context["current"] == [] and context["certificates"] == []
    assert "Aucune formation en cours" in html and "Aucune attestation" in html
    assert context["catalogue_url"] and context["catalogue_url"] in html


def test_my_courses_is_hidden_for_a_user_without_agent_profile(db):
    assert not MyCoursesPanel().is_visible(make_request(UserFactory()))


def test_mon_espace_shows_the_learning_panels(client, courses, chain, only_learning_panels):
    enrol_in_every_status(chain["agent"], courses)
    client.force_login(chain["agent"].user)
    html = client.get(reverse("cms:mon_espace")).content.decode()
    assert "Mes formations" in html and "Laïcité" in html and "En retard" in html
    assert "Formation de mon équipe" not in html  # the agent manages nobody

    client.force_login(chain["manager"].user)
    html = client.get(reverse("cms:mon_espace")).content.decode()
    assert "Formation de mon équipe" in html and escape(chain["agent"].full_name) in html


# --------------------------------------------------------------------------- team


def test_team_panel_is_shown_to_managers_only(chain):
    panel = TeamTrainingPanel()
    assert panel.is_visible(make_request(chain["manager"].user))
    assert panel.is_visible(make_request(chain["reviewer"].user))
    assert not panel.is_visible(make_request(chain["agent"].user))
    assert not panel.is_visible(make_request(UserFactory()))


def test_team_panel_counts_the_direct_reports_training(courses, chain):
    enrol_in_every_status(chain["agent"], courses)
    services.enroll(
        agent=chain["other_agent"], course=courses["overdue"]["course"], due_at=timezone.now() - timedelta(days=9)
    )
    _count, context, html = panel_queries(TeamTrainingPanel(), chain["manager"].user)
    counts = context["counts"]
    assert counts["overdue"] == 1 and counts["overdue_agents"] == 1
    assert counts["in_progress"] == 1
    assert counts["completed"] == 1  # the expired cycle is history, not counted
    assert counts["not_started"] == 2  # the overdue one and the renewal of the expired one
    assert counts["failed"] == 1
    assert [e.course.slug for e in context["first_overdue"]] == ["laicite"]
    assert "Laïcité" in html and escape(chain["agent"].full_name) in html
    team_url = safe_reverse("learning:team")
    assert context["team_url"] == team_url
    if team_url:
        assert team_url in html

    # The N+2 sees their direct report (the manager), not the agent below.
    _count, context, _html = panel_queries(TeamTrainingPanel(), chain["reviewer"].user)
    assert context["counts"]["total"] == 0
    assert "Aucune formation en cours dans votre équipe" in _html


def test_team_panel_runs_a_constant_number_of_queries(courses, chain):
    manager = chain["manager"]
    services.enroll(
        agent=chain["agent"], course=courses["overdue"]["course"], due_at=timezone.now() - timedelta(days=1)
    )
    small, _c, _h = panel_queries(TeamTrainingPanel(), manager.user)
    for _i in range(5):
        report = AgentFactory(org_unit=chain["agent"].org_unit, manager=manager)
        enrol_in_every_status(report, courses)
    large, context, _h = panel_queries(TeamTrainingPanel(), manager.user)
    assert context["counts"]["total"] > 20 and len(context["first_overdue"]) == 5
    assert small == large
