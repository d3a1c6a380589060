"""Demo content of the learning app (seeder "learning.courses" of ``seed_demo``)."""

import io
import random
from collections import Counter

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation
from django.utils.html import strip_tags
from wagtail.models import GroupPagePermission

from cms import demo as cms_demo
from cms import roles, seed
from cms.models import Agent, OrgUnit
from learning.choices import OPEN_STATUSES, EnrollmentSource, EnrollmentStatus, PackageStandard
from learning.demo import CMI5_COURSES, COURSES, PACKAGE_COURSES, seed_learning
from learning.grading import grade
from learning.models import (
    Assignment,
    CourseIndexPage,
    CoursePage,
    Enrollment,
    LessonPage,
    LessonProgress,
    Package,
    PackageStepPage,
    QuizAttempt,
    QuizPage,
)

QUESTION_TYPES = {"single_choice", "multiple_choice", "true_false", "short_answer"}


def run_seed_demo(agents=60):
    with translation.override("fr"):
        call_command("seed_demo", "--agents", str(agents), stdout=io.StringIO(), stderr=io.StringIO())


@pytest.fixture
def learning_seeders_only(monkeypatch):
    """The cms seeders and ours: other apps' demo content is tested with those apps."""
    monkeypatch.setattr(
        seed,
        "_SEEDERS",
        {key: value for key, value in seed._SEEDERS.items() if key.startswith("cms.") or key == "learning.courses"},
    )
    assert "learning.courses" in seed._SEEDERS


@pytest.fixture
def seeded(db, learning_seeders_only, monkeypatch):
    monkeypatch.setenv("DEMO_PASSWORD", "mot-de-passe-des-tests")
    run_seed_demo()


def demo_agent(login):
    return Agent.objects.select_related("user").get(user__username=login)


def snapshot():
    return {
        model._meta.label: model.objects.count()
        for model in (
            CoursePage, LessonPage, QuizPage, PackageStepPage, Package, Enrollment, LessonProgress, QuizAttempt,
            Assignment,
        )  # fmt: skip
    } | {"certificates": Enrollment.objects.exclude(certificate_code=None).count()}


# --------------------------------------------------------------------------- catalogue


def test_the_catalogue_holds_at_least_five_published_courses_with_lessons_and_a_quiz(seeded):
    index = CourseIndexPage.objects.get(slug="formations")
    assert index.live and index.get_parent().specific_class.__name__ == "HomePage"
    # The catalogue's courses written as pages (the package courses are tested below).
    courses = CoursePage.objects.child_of(index).live().exclude(
        slug__in=[spec.slug for spec in (*PACKAGE_COURSES, *CMI5_COURSES)]
    )
    assert courses.count() == len(COURSES) >= 5
    for course in courses:
        assert course.summary and course.description
        lessons = [c for c in course.get_children().live().specific() if isinstance(c, LessonPage)]
        quizzes = [c for c in course.get_children().live().specific() if isinstance(c, QuizPage)]
        assert 2 <= len(lessons) <= 4, course.title
        assert len(quizzes) == 1, course.title
        for lesson in lessons:
            types = [block.block_type for block in lesson.body]
            assert "callout" in types, lesson.title
            words = sum(
                len(strip_tags(str(block.value)).split()) for block in lesson.body if block.block_type == "text"
            )
            assert words >= 100, lesson.title
        questions = list(quizzes[0].questions)
        assert 4 <= len(questions) <= 6, course.title
        for question in questions:
            assert question.value["feedback_correct"] and question.value["feedback_incorrect"]
    all_types = {q.block_type for quiz in QuizPage.objects.live() for q in quiz.questions}
    assert all_types == QUESTION_TYPES


def test_the_mandatory_rgpd_course_recertifies_yearly_and_is_assigned_only(seeded):
    rgpd = CoursePage.objects.get(slug="rgpd")
    assert rgpd.validity_months == 12 and not rgpd.self_enrollment
    assert "RGPD" in rgpd.title


def test_lessons_render_offline_and_quizzes_accept_their_own_right_answers(seeded):
    from learning.demo import COURSES_BY_SLUG, answers

    for lesson in LessonPage.objects.live():
        html = lesson.body.render_as_block()
        assert '<aside class="callout' in html and "<p>" in html
    for quiz in QuizPage.objects.live().select_related():
        spec = COURSES_BY_SLUG[quiz.get_parent().slug]
        assert grade(quiz, answers(spec))[:2] == (100.0, True)
        assert grade(quiz, answers(spec, right=False))[1] is False


def test_training_editors_may_author_under_the_catalogue(seeded):
    index = CourseIndexPage.objects.get(slug="formations")
    codenames = set(
        GroupPagePermission.objects.filter(group__name=roles.TRAINING_EDITORS, page=index).values_list(
            "permission__codename", flat=True
        )
    )
    assert {"add_page", "change_page", "publish_page"} <= codenames


# --------------------------------------------------------------------------- enrolments


def test_rgpd_is_assigned_to_the_whole_organisation(seeded):
    rgpd = CoursePage.objects.get(slug="rgpd")
    roots = list(OrgUnit.get_root_nodes())
    assignments = Assignment.objects.filter(course=rgpd)
    assert {a.org_unit_id for a in assignments} == {root.pk for root in roots}
    assert all(a.due_in_days == 60 and a.recurring for a in assignments)
    active = Agent.objects.filter(active=True)
    enrolled = Enrollment.objects.filter(course=rgpd, status__in=OPEN_STATUSES + [EnrollmentStatus.FAILED])
    assert set(enrolled.values_list("agent_id", flat=True)) == set(active.values_list("pk", flat=True))


def test_the_demo_agent_has_an_enrolment_in_every_status(seeded):
    agent = demo_agent("agent")
    now = timezone.now()
    rows = {(e.course.slug, e.cycle): e for e in Enrollment.objects.filter(agent=agent).select_related("course")}
    statuses = Counter(e.status for e in rows.values())
    assert set(statuses) == set(EnrollmentStatus.values)

    completed = rows[("laicite", 1)]
    assert completed.status == EnrollmentStatus.COMPLETED and completed.progress == 1.0
    assert completed.certificate_code and completed.completed_at
    assert QuizAttempt.objects.filter(enrollment=completed, passed=True).exists()
    assert LessonProgress.objects.filter(enrollment=completed).count() == 3

    in_progress = rows[("rgpd", 1)]
    assert in_progress.status == EnrollmentStatus.IN_PROGRESS and 0 < in_progress.progress < 1
    assert in_progress.assignment is not None and in_progress.due_at > now

    overdue = rows[("prevention-risques", 1)]
    assert overdue.status == EnrollmentStatus.NOT_STARTED and overdue.due_at < now

    failed = rows[("cybersecurite", 1)]
    assert failed.status == EnrollmentStatus.FAILED
    assert QuizAttempt.objects.filter(enrollment=failed, passed=False).count() == 2

    expired, renewal = rows[("accueil-handicap", 1)], rows[("accueil-handicap", 2)]
    assert expired.status == EnrollmentStatus.EXPIRED and expired.expires_at < now and expired.certificate_code
    assert renewal.status == EnrollmentStatus.NOT_STARTED


def test_the_manager_sees_the_agents_overdue_course_and_has_enrolments_too(seeded):
    agent, manager, reviewer = demo_agent("agent"), demo_agent("manager"), demo_agent("reviewer")
    assert agent.manager_id == manager.pk and manager.manager_id == reviewer.pk
    from learning.selectors import team_enrollments

    team = list(team_enrollments(manager))
    assert any(e.agent_id == agent.pk and e.is_overdue for e in team)
    for login in ("manager", "reviewer"):
        statuses = set(Enrollment.objects.filter(agent=demo_agent(login)).values_list("status", flat=True))
        assert {EnrollmentStatus.COMPLETED, EnrollmentStatus.IN_PROGRESS} <= statuses, login


def test_generated_agents_get_a_realistic_spread_of_statuses(seeded):
    demo_ids = Agent.objects.filter(user__username__in=cms_demo.LOGINS).values("pk")
    rgpd = Enrollment.objects.filter(course__slug="rgpd").exclude(agent_id__in=demo_ids)
    statuses = Counter(rgpd.values_list("status", flat=True))
    assert set(statuses) == set(EnrollmentStatus.values)
    completed = rgpd.filter(status=EnrollmentStatus.COMPLETED)
    assert not completed.filter(certificate_code=None).exists()
    assert not completed.filter(completed_at=None).exists()
    # Expired cycles have their next cycle open, due with the assignment.
    for expired in rgpd.filter(status=EnrollmentStatus.EXPIRED):
        assert rgpd.filter(agent_id=expired.agent_id, cycle=expired.cycle + 1, due_at__isnull=False).exists()
    # Prevention: category C agents of two directions, past their deadline.
    prevention = Enrollment.objects.filter(course__slug="prevention-risques").exclude(agent_id__in=demo_ids)
    assert prevention.exists()
    assert set(prevention.values_list("agent__category", flat=True)) == {"C"}
    assert not prevention.filter(due_at__gt=timezone.now()).exists()


def test_seeding_twice_adds_nothing(seeded):
    before = snapshot()
    run_seed_demo()
    assert snapshot() == before


# --------------------------------------------------------------------------- package courses

# slug -> (standard, number of SCOs) of the sample packages the demo imports.
PACKAGE_EXPECTED = {
    "prevention-risques-scorm": (PackageStandard.SCORM12, 1),
    "premiers-secours-scorm": (PackageStandard.SCORM2004, 3),
}


def package_step(slug):
    course = CoursePage.objects.get(slug=slug)
    return PackageStepPage.objects.child_of(course).live().select_related("package").get()


def test_two_published_courses_play_the_sample_packages_through_the_importer(seeded):
    from cms.storage import private_storage

    assert {spec.slug: spec.title for spec in PACKAGE_COURSES} == {
        "prevention-risques-scorm": "Prévention des risques professionnels (SCORM 1.2)",
        "premiers-secours-scorm": "Premiers secours (SCORM 2004, 3 modules)",
    }
    index = CourseIndexPage.objects.get(slug="formations")
    storage = private_storage()
    for spec in PACKAGE_COURSES:
        course = CoursePage.objects.child_of(index).live().get(slug=spec.slug)
        assert course.title == spec.title and course.summary and course.description and course.theme
        assert course.certificate and course.self_enrollment and course.estimated_minutes == spec.minutes
        steps = list(course.get_children().specific())
        assert len(steps) == 1 and isinstance(steps[0], PackageStepPage) and steps[0].live, spec.slug
        package = steps[0].package
        standard, sco_count = PACKAGE_EXPECTED[spec.slug]
        assert package.standard == standard, spec.slug
        scos = [item for item in package.launchables if item["scorm_type"] == "sco"]
        assert len(scos) == sco_count, spec.slug
        assert package.uploaded_by.username == "editor"
        # Extracted by the importer to private storage: the manifest and every SCO's launch file.
        assert storage.exists(f"{package.root}/imsmanifest.xml")
        for sco in scos:
            assert storage.exists(f"{package.root}/{sco['href'].split('?')[0]}"), sco["href"]
    first_aid = package_step("premiers-secours-scorm").package
    assert [node["title"] for node in first_aid.organization] == [
        "Introduction", "Les gestes qui sauvent", "Évaluation",
    ]  # fmt: skip
    assert package_step("prevention-risques-scorm").package.launchables[0]["mastery_score"] == 80


def test_the_demo_agent_has_the_package_courses_not_started_in_mon_espace(seeded, client):
    from django.urls import reverse

    from learning.models import PackageAttempt

    agent = demo_agent("agent")
    rows = {
        e.course.slug: e
        for e in Enrollment.objects.filter(agent=agent, course__slug__in=PACKAGE_EXPECTED).select_related("course")
    }
    assert set(rows) == set(PACKAGE_EXPECTED)
    for spec in PACKAGE_COURSES:
        enrollment = rows[spec.slug]
        assert enrollment.status == EnrollmentStatus.NOT_STARTED and enrollment.cycle == 1
        assert enrollment.progress == 0 and enrollment.started_at is None
        assert enrollment.source == spec.source
        assert (enrollment.due_at is not None) == (spec.due_in_days is not None)
    for slug in ("prevention-risques-scorm", "premiers-secours-scorm"):  # both packages assigned (issue 11)
        assert rows[slug].source == EnrollmentSource.ASSIGNED, slug
        assert rows[slug].due_at > timezone.now(), slug
    assert not PackageAttempt.objects.filter(enrollment__agent=agent).exists()

    client.force_login(agent.user)
    with translation.override("fr"):
        html = client.get(reverse("cms:mon_espace")).content.decode()
    for spec in PACKAGE_COURSES:
        assert spec.title in html, spec.title


def test_the_demo_agent_can_play_the_scorm12_course_to_its_certificate(seeded):
    """The package the demo imported plays in the runtime: launch, one terminating commit
    with a passing score, and the enrolment is completed with a certificate."""
    from learning import services

    agent = demo_agent("agent")
    step = package_step("prevention-risques-scorm")
    attempt = services.launch_package(user=agent.user, step=step)
    assert attempt.package_id == step.package_id
    sco = step.package.launchables[0]["identifier"]
    result = services.commit_package(
        user=agent.user,
        attempt_id=attempt.pk,
        data={
            "sco": sco,
            "seq": 1,
            "cmi": {
                "cmi.core.lesson_status": "passed",
                "cmi.core.score.raw": "90",
                "cmi.core.score.min": "0",
                "cmi.core.score.max": "100",
                "cmi.core.session_time": "00:12:30",
                "cmi.core.exit": "",
            },
            "terminate": True,
        },
    )
    assert result["applied"] is True
    enrollment = Enrollment.objects.get(agent=agent, course__slug="prevention-risques-scorm", cycle=1)
    assert enrollment.status == EnrollmentStatus.COMPLETED and enrollment.progress == 1.0
    assert enrollment.score == 90 and enrollment.certificate_code


def test_a_package_course_left_without_its_step_gets_it_again_from_the_stored_package(seeded):
    step = package_step("premiers-secours-scorm")
    package_id, course = step.package_id, step.get_parent()
    step.delete()
    packages = Package.objects.count()
    run_seed_demo()
    again = package_step("premiers-secours-scorm")
    assert again.get_parent().pk == course.pk
    assert again.package_id == package_id  # same file, same SHA-256: the stored copy is reused
    assert Package.objects.count() == packages
    assert CoursePage.objects.filter(slug="premiers-secours-scorm").count() == 1


# --------------------------------------------------------------------------- scale


def seeded_context(agents):
    """The demo directory of ``agents`` agents and the seeder's context (as seed_demo builds it)."""
    directory = cms_demo.build_directory(agents=agents, seed=7)
    cms_demo.write_directory(directory)
    logins = cms_demo.ensure_demo_logins(directory, password="x")
    return seed.SeedContext(
        rng=random.Random("7:learning.courses"),
        users={row.login: row.user for row in logins},
        agents={row.login: row.agent for row in logins},
        org_root=OrgUnit.objects.get(code=cms_demo.ROOT_CODE),
    )


class Rollback(Exception):
    pass


def count_seed_queries(agents):
    cache.clear()  # Wagtail caches the site root paths; the rollback removes the pages
    try:
        with transaction.atomic():
            context = seeded_context(agents)
            with CaptureQueriesContext(connection) as queries:
                seed_learning(context)
            enrollments = Enrollment.objects.count()
            raise Rollback
    except Rollback:
        pass
    cache.clear()
    return len(queries), enrollments


@pytest.mark.django_db
def test_bulk_enrolments_do_not_cost_queries_per_agent():
    # Both directories have at least two directions: the same assignments are made.
    small_queries, small_rows = count_seed_queries(60)
    large_queries, large_rows = count_seed_queries(600)
    assert large_rows - small_rows >= 500
    # Only insert batches grow (SQLite caps a statement's parameters): far below one per agent.
    assert large_queries - small_queries < (large_rows - small_rows) / 10


def test_the_cmi5_demo_course_is_imported_and_plays_to_its_certificate(seeded, client):
    """The cmi5 demo course (two AUs, from ``sample.cmi5_package`` through the importer): the
    demo agent has it, not started, and plays both AUs over HTTP to the certificate."""
    from cms.storage import private_storage
    from tests.learning.cmi5.conftest import AU, completed, passed

    (spec,) = CMI5_COURSES
    step = package_step(spec.slug)
    package = step.package
    assert package.standard == PackageStandard.CMI5 and package.uploaded_by.username == "editor"
    assert [au["move_on"] for au in package.launchables] == ["Completed", "CompletedAndPassed"]
    assert private_storage().exists(f"{package.root}/cmi5.xml")
    agent = demo_agent("agent")
    enrollment = Enrollment.objects.get(agent=agent, course__slug=spec.slug)
    assert enrollment.status == EnrollmentStatus.NOT_STARTED

    client.force_login(agent.user)
    first, second = (au["identifier"] for au in package.launchables)
    au = AU(client, step, au=first).start()
    assert au.send(au.statement("completed", result=completed(), moveon=True)).status_code == 200
    assert au.send(au.statement("terminated", result={"duration": "PT30S"})).status_code == 200
    au = AU(client, step, au=second).start()
    response = au.send(
        au.statement("passed", result=passed(0.9), moveon=True), au.statement("completed", result=completed(), moveon=True)
    )
    assert response.status_code == 200, response.content
    enrollment.refresh_from_db()
    assert enrollment.status == EnrollmentStatus.COMPLETED and enrollment.certificate_code
