"""Demo content of the recruitment app (``recruitment.demo.seed_recruitment``, the seeder
"recruitment.openings" of ``seed_demo``): openings, applications in every state with a
coherent history, interviews and scorecards; idempotent."""

import io
from collections import Counter

import pytest
from django.core.management import call_command
from django.db.models import Count
from django.utils import timezone, translation

from cms import seed
from cms.models import Agent
from recruitment import actions, demo, selectors, services
from recruitment.choices import PIPELINE, TERMINAL, ApplicationStatus, MessageKind, OpeningState
from recruitment.models import (
    Application,
    ApplicationEvent,
    Candidate,
    Interview,
    JobIndexPage,
    JobOpeningPage,
    MessageTemplate,
    Scorecard,
)

S = ApplicationStatus
SEEDER = "recruitment.openings"


def run_seed_demo(agents=60):
    with translation.override("fr"):
        call_command("seed_demo", "--agents", str(agents), stdout=io.StringIO(), stderr=io.StringIO())


@pytest.fixture
def recruitment_seeder_only(monkeypatch):
    """The cms seeders and ours (registered here until recruitment/apps.py does it)."""
    seeders = {key: value for key, value in seed._SEEDERS.items() if key.startswith("cms.")}
    seeders[SEEDER] = (300, demo.seed_recruitment)
    monkeypatch.setattr(seed, "_SEEDERS", seeders)


@pytest.fixture
def seeded(db, recruitment_seeder_only, monkeypatch):
    monkeypatch.setenv("DEMO_PASSWORD", "mot-de-passe-des-tests")
    run_seed_demo()


def snapshot():
    return {
        model._meta.label: model.objects.count()
        for model in (JobIndexPage, JobOpeningPage, Candidate, Application, ApplicationEvent, Interview, Scorecard)
    }


def user(username):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(username=username)


# --- openings ---------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_openings_are_published_under_a_job_index_of_the_home_page(seeded):
    index = JobIndexPage.objects.get(slug=demo.INDEX_SLUG)
    assert index.live and index.title == "Offres d'emploi"
    assert index.get_parent().specific_class.__name__ == "HomePage"
    openings = list(JobOpeningPage.objects.child_of(index).live().select_related("org_unit"))
    assert len(openings) == len(demo.OPENINGS) >= 10
    assert all(o.has_unpublished_changes is False and o.latest_revision_id for o in openings)
    today = timezone.localdate()
    assert sum(o.internal_only for o in openings) >= 2
    closed = [o for o in openings if o.application_deadline < today]
    assert len(closed) == 1 and closed[0].recruitment_state == OpeningState.OPEN
    assert sum(o.salary_min is not None for o in openings) >= 4
    assert len({o.category for o in openings}) == 3 and len({o.corps for o in openings}) >= 8
    assert len({o.org_unit_id for o in openings}) >= 2
    assert {o.employment_type for o in openings} >= {"FULL_TIME", "PART_TIME"}
    assert any(o.anonymised_screening for o in openings) and any(o.stage_labels for o in openings)
    assert len({o.reference for o in openings}) == len(openings)
    for opening in openings:
        assert opening.missions.startswith("<") and opening.profile and opening.locality == "Paris"


@pytest.mark.django_db
def test_the_demo_recruiter_manages_most_openings(seeded):
    recruiter = user("recruiter")
    managed = selectors.openings_managed_by(recruiter).count()
    assert managed >= JobOpeningPage.objects.count() * 2 // 3
    assert managed < JobOpeningPage.objects.count()  # one is left to another recruiter (or HR)


@pytest.mark.django_db
def test_the_public_listing_and_the_apply_rule_follow_the_openings(seeded, client):
    index = JobIndexPage.objects.get(slug=demo.INDEX_SLUG)
    response = client.get(index.url)
    assert response.status_code == 200
    closed = JobOpeningPage.objects.get(slug="eboueur")
    accepts, reason = services.opening_accepts_applications(closed)
    assert not accepts and "date limite" in reason


@pytest.mark.django_db
def test_recruiters_and_hr_may_edit_the_job_notices(seeded):
    from wagtail.models import GroupPagePermission

    index = JobIndexPage.objects.get(slug=demo.INDEX_SLUG)
    granted = set(GroupPagePermission.objects.filter(page=index).values_list("group__name", "permission__codename"))
    for group in ("Recruiters", "HR"):
        assert {(group, "add_page"), (group, "change_page"), (group, "publish_page")} <= granted


@pytest.mark.django_db
def test_message_templates_exist(seeded):
    kinds = set(MessageTemplate.objects.filter(language="fr").values_list("kind", flat=True))
    assert kinds == set(MessageKind.values)


# --- applications -------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_at_least_100_applications_in_varied_states(seeded):
    counts = Counter(Application.objects.values_list("status", flat=True))
    assert sum(counts.values()) >= 100
    assert set(counts) >= {S.RECEIVED, S.ADMISSIBILITY, S.SCREENING, S.SHORTLISTED, S.INTERVIEW, S.DECISION,
                           S.OFFER, S.HIRED, S.REJECTED, S.WITHDRAWN, S.OFFER_DECLINED}  # fmt: skip
    assert 0 < Application.objects.filter(is_internal=True).count() < sum(counts.values()) / 2
    assert Application.objects.filter(possible_duplicate=True).count() >= 1
    assert not Application.objects.filter(opening__internal_only=True, is_internal=False).exists()
    per_opening = Application.objects.values("opening").annotate(n=Count("pk"))
    assert per_opening.count() == JobOpeningPage.objects.count()


@pytest.mark.django_db
def test_every_application_has_a_history_consistent_with_its_state(seeded):
    now = timezone.now()
    moves = {}
    for event in ApplicationEvent.objects.filter(kind="move").order_by("at", "pk"):
        moves.setdefault(event.application_id, []).append(event)
    for application in Application.objects.all():
        path = moves[application.pk]
        assert path[0].to_status == S.RECEIVED and path[0].from_status == ""
        assert path[0].at == application.submitted_at
        assert path[-1].to_status == application.status and path[-1].at == application.status_changed_at
        for previous, event in zip(path, path[1:], strict=False):
            assert event.from_status == previous.to_status and event.at >= previous.at
        assert application.submitted_at <= application.status_changed_at <= now
        assert (application.closed_at is not None) == (application.status in TERMINAL)
        if application.status == S.REJECTED:
            assert path[-1].reason
        pipeline = [e.to_status for e in path if e.to_status in PIPELINE]
        assert pipeline == PIPELINE[: len(pipeline)]  # consecutive stages
    acknowledged = ApplicationEvent.objects.filter(kind="message", reason="Accusé de réception")
    assert acknowledged.count() == Application.objects.count()
    assert acknowledged.exclude(message_to="").count() == acknowledged.count()


@pytest.mark.django_db
def test_cvs_are_real_pdfs_in_private_storage(seeded):
    application = Application.objects.order_by("pk").first()
    assert application.cv.name.startswith("cv/demo/") and application.cv.name.endswith(".pdf")
    with application.cv.open("rb") as handle:
        upload = type("Upload", (), {"size": application.cv.size, "name": "cv.pdf", "read": handle.read,
                                     "seek": handle.seek})()  # fmt: skip
        assert services.check_document(upload, "cv") == "pdf"
    assert not Application.objects.filter(cv="").exists()


@pytest.mark.django_db
def test_internal_candidates_are_agents_of_the_directory(seeded):
    internal = Candidate.objects.filter(applications__is_internal=True).select_related("agent__user")
    assert internal.exists()
    for candidate in internal:
        assert candidate.agent is not None and candidate.email == candidate.agent.user.email
    assert Agent.objects.get(user__username="agent").candidacies.exists()


# --- interviews and scorecards -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_interviews_with_the_demo_interviewer_and_scorecards(seeded):
    interviewer = user("interviewer")
    interviews = Interview.objects.filter(interviewers=interviewer)
    assert interviews.count() >= 5
    assert interviews.filter(starts_at__gt=timezone.now()).exists()  # some are still to come
    cards = Scorecard.objects.filter(interviewer=interviewer)
    assert cards.filter(submitted_at__isnull=False).exists() and cards.filter(submitted_at__isnull=True).exists()
    for card in cards.filter(submitted_at__isnull=False):
        assert all(1 <= getattr(card, name) <= 5 for name in Scorecard.CRITERIA) and card.recommendation
    assert selectors.scorecards_of(interviewer).count() == cards.count()


@pytest.mark.django_db
def test_the_interviewer_has_a_scorecard_to_fill_for_an_interview_held(seeded):
    pending = selectors.scorecards_of(user("interviewer")).filter(submitted_at__isnull=True)
    assert any(card.interview_at is not None and card.interview_at <= timezone.now() for card in pending)


@pytest.mark.django_db
def test_demo_openings_spread_over_several_directions(seeded):
    from cms.models import OrgUnit
    from recruitment.models import JobOpeningPage
    from recruitment.pages import Directions

    directions = Directions(JobOpeningPage.objects.live())
    in_directory = OrgUnit.objects.filter(kind="direction").count()  # the test directory is small
    assert len(directions.list) >= min(3, in_directory) >= 2
    assert all(unit.kind == "direction" for unit in directions.list)


@pytest.mark.django_db
def test_each_reference_names_the_direction_of_its_unit(seeded):
    """« 2026-DSIN-002 » sits in the DSIN (or the reference says the direction it sits in):
    the code in the reference is the code of the direction the notice shows."""
    from recruitment.models import JobOpeningPage
    from recruitment.pages import Directions

    openings = JobOpeningPage.objects.select_related("org_unit")
    directions = Directions(openings)
    assert openings.count() == len(demo.OPENINGS)
    for opening in openings:
        _year, code, _number = opening.reference.split("-")
        assert code == directions.of(opening.org_unit).code, opening.reference
        if opening.location_name.startswith("Direction "):
            assert opening.location_name == directions.of(opening.org_unit).name


@pytest.mark.django_db
def test_decisions_and_beyond_have_every_scorecard_in(seeded):
    beyond = Application.objects.filter(status__in=[S.DECISION, S.OFFER, S.HIRED, S.OFFER_DECLINED])
    assert beyond.exists()
    assert not Scorecard.objects.filter(application__in=beyond, submitted_at__isnull=True).exists()
    for application in beyond.filter(interviews__isnull=False).distinct():
        assert application.scorecards.exists()
        assert ApplicationEvent.objects.filter(application=application, kind="interview").exists()
    interviewed = Application.objects.filter(interviews__isnull=False).distinct()
    assert not interviewed.filter(status__in=[S.RECEIVED, S.ADMISSIBILITY, S.SCREENING, S.SHORTLISTED]).exists()


@pytest.mark.django_db
def test_a_pending_application_can_be_moved_by_the_demo_recruiter(seeded):
    recruiter = user("recruiter")
    application = Application.objects.filter(
        status=S.RECEIVED,
        opening__in=selectors.openings_managed_by(recruiter),
        opening__application_deadline__gte=timezone.localdate(),
    ).first()
    actions.move(application_id=application.pk, to_status=S.ADMISSIBILITY, actor=recruiter)
    assert Application.objects.get(pk=application.pk).status == S.ADMISSIBILITY


# --- idempotence and report ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_running_the_seed_twice_creates_nothing_new(seeded):
    before = snapshot()
    run_seed_demo()
    assert snapshot() == before


@pytest.mark.django_db
def test_the_report_shows_a_funnel_and_hires(seeded):
    from recruitment import reports

    report = reports.report_for(user("hr"), reports.period_from(None, None))
    counts = [stage.count for stage in report.funnel]
    assert counts[0] == Application.objects.count() and counts == sorted(counts, reverse=True) and counts[-1] >= 1
    assert report.hires >= 1 and report.median_days > 0
    assert report.internal["applications"] >= 1 and report.external["applications"] >= 1
