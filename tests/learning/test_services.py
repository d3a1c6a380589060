import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError
from django.utils import timezone

from cms.dates import add_months
from cms.exceptions import Conflict
from learning import services
from learning.choices import EnrollmentStatus
from learning.grading import grade, normalise
from learning.models import Enrollment
from tests.learning.conftest import ALL_RIGHT, HALF_RIGHT, build_course


def test_normalise_ignores_case_accents_punctuation_and_spaces():
    assert normalise("  L'Établissement  public ") == normalise("l etablissement public")


@pytest.mark.django_db
def test_grading_all_right_and_half_right(course):
    quiz = course["quiz"]
    assert grade(quiz, ALL_RIGHT)[:2] == (100.0, True)
    score, passed, feedback = grade(quiz, HALF_RIGHT)
    assert (score, passed) == (50.0, False)
    assert feedback["q-multi"] == {"correct": False, "feedback": "Le nom et l'e-mail sont des données personnelles."}
    assert feedback["q-short"]["correct"] is True


@pytest.mark.django_db
@pytest.mark.parametrize(
    "answers, field",
    [
        ({"nope": ["x"]}, "answers"),
        ({"q-single": ["c-unknown"]}, "q-single"),
        ({"q-single": ["c-8", "c-2"]}, "q-single"),
        ({"q-tf": ["yes"]}, "q-tf"),
        ({"q-short": ["CNIL"]}, "q-short"),
        ({"q-multi": "m-name"}, "q-multi"),
    ],
)
def test_grading_refuses_malformed_answers_naming_the_question(course, answers, field):
    with pytest.raises(ValidationError) as excinfo:
        grade(course["quiz"], answers)
    assert field in excinfo.value.message_dict


@pytest.mark.django_db
def test_lessons_then_quiz_complete_the_course_with_certificate_and_expiry(course, chain):
    user = chain["agent"].user
    services.complete_lesson(user=user, lesson=course["lessons"][0])
    enrollment = Enrollment.objects.get(agent=chain["agent"])
    assert enrollment.status == EnrollmentStatus.IN_PROGRESS
    assert enrollment.progress == pytest.approx(1 / 3, abs=0.001)
    services.complete_lesson(user=user, lesson=course["lessons"][1])
    attempt, enrollment = services.submit_quiz(user=user, quiz=course["quiz"], answers=HALF_RIGHT)
    assert not attempt.passed and enrollment.status == EnrollmentStatus.IN_PROGRESS
    attempt, enrollment = services.submit_quiz(user=user, quiz=course["quiz"], answers=ALL_RIGHT)
    assert attempt.passed and attempt.number == 2
    assert enrollment.status == EnrollmentStatus.COMPLETED
    assert enrollment.progress == 1.0
    assert enrollment.certificate_code
    assert enrollment.expires_at.year == enrollment.completed_at.year + 1


@pytest.mark.django_db
def test_attempt_limit_fails_the_enrolment_and_refuses_more(course, chain):
    user = chain["agent"].user
    services.submit_quiz(user=user, quiz=course["quiz"], answers=HALF_RIGHT)
    _attempt, enrollment = services.submit_quiz(user=user, quiz=course["quiz"], answers=HALF_RIGHT)
    assert enrollment.status == EnrollmentStatus.FAILED
    with pytest.raises(Conflict):
        services.submit_quiz(user=user, quiz=course["quiz"], answers=ALL_RIGHT)
    assert enrollment.attempts.count() == 2


@pytest.mark.django_db
def test_one_open_enrolment_per_course_is_a_database_constraint(course, chain):
    services.enroll(agent=chain["agent"], course=course["course"])
    with pytest.raises(IntegrityError):
        Enrollment.objects.create(agent=chain["agent"], course=course["course"], cycle=2)


@pytest.mark.django_db
def test_self_enrolment_is_idempotent_and_refused_on_assigned_only_courses(chain):
    built = build_course(self_enrollment=False, slug="obligatoire")
    with pytest.raises(PermissionDenied):
        services.self_enroll(user=chain["agent"].user, course=built["course"])
    other = build_course(slug="libre", index=built["index"])
    first, created = services.self_enroll(user=chain["agent"].user, course=other["course"])
    again, created_again = services.self_enroll(user=chain["agent"].user, course=other["course"])
    assert created and not created_again and first.pk == again.pk


@pytest.mark.django_db
def test_user_without_agent_profile_cannot_enrol(course, user):
    with pytest.raises(PermissionDenied):
        services.self_enroll(user=user, course=course["course"])


@pytest.mark.django_db
def test_assignment_enrols_the_subtree_and_filters_categories(course, chain, org):
    assignment = services.create_assignment(course=course["course"], org_unit=org["service"], due_in_days=30)
    created = services.apply_assignment(assignment=assignment)
    enrolled = set(Enrollment.objects.values_list("agent__user__username", flat=True))
    assert created == 2 and enrolled == {"manager", "agent"}
    assert services.apply_assignment(assignment=assignment) == 0  # idempotent
    e = Enrollment.objects.get(agent=chain["agent"])
    assert e.source == "assigned" and (e.due_at - timezone.now()).days in (29, 30)


@pytest.mark.django_db
def test_assignment_input_errors_name_the_field(course, org):
    with pytest.raises(ValidationError) as excinfo:
        services.create_assignment(course=course["course"], org_unit=org["service"], due_in_days=0)
    assert "due_in_days" in excinfo.value.message_dict
    with pytest.raises(ValidationError) as excinfo:
        services.create_assignment(course=course["course"], org_unit=org["service"], due_in_days=5, categories=["Z"])
    assert "categories" in excinfo.value.message_dict


@pytest.mark.django_db
def test_newcomers_get_active_assignments(course, org):
    from tests.factories import AgentFactory

    assignment = services.create_assignment(course=course["course"], org_unit=org["direction"], due_in_days=10)
    newcomer = AgentFactory(org_unit=org["bureau"])
    assert services.assign_newcomers([newcomer.pk]) == 1
    assert Enrollment.objects.get(agent=newcomer).assignment == assignment


@pytest.mark.django_db
def test_expiry_opens_the_next_cycle(course, chain, org):
    assignment = services.create_assignment(course=course["course"], org_unit=org["bureau"], due_in_days=30)
    services.apply_assignment(assignment=assignment)
    user = chain["agent"].user
    for lesson in course["lessons"]:
        services.complete_lesson(user=user, lesson=lesson)
    services.submit_quiz(user=user, quiz=course["quiz"], answers=ALL_RIGHT)
    first = Enrollment.objects.get(agent=chain["agent"])
    later = first.expires_at + timezone.timedelta(days=1)
    assert services.expire_enrollments(now=later) == 1
    assert services.expire_enrollments(now=later) == 0
    cycles = list(Enrollment.objects.filter(agent=chain["agent"]).order_by("cycle").values_list("cycle", "status"))
    assert cycles == [(1, "expired"), (2, "not_started")]


def test_add_months_clamps_to_month_end():
    from datetime import datetime

    assert add_months(datetime(2026, 1, 31), 1) == datetime(2026, 2, 28)
    assert add_months(datetime(2026, 11, 30), 12) == datetime(2027, 11, 30)


@pytest.mark.django_db
def test_failed_enrolment_blocks_self_reenrolment_until_a_manager_grants_a_new_cycle(course, chain):
    user = chain["agent"].user
    for _ in range(2):
        services.submit_quiz(user=user, quiz=course["quiz"], answers=HALF_RIGHT)
    failed = Enrollment.objects.get(agent=chain["agent"])
    with pytest.raises(Conflict):
        services.self_enroll(user=user, course=course["course"])
    with pytest.raises(PermissionDenied):
        services.grant_new_cycle(actor=chain["other_manager"].user, enrollment=failed)
    renewed = services.grant_new_cycle(actor=chain["reviewer"].user, enrollment=failed)  # N+2 may too
    assert renewed.cycle == 2 and renewed.status == EnrollmentStatus.NOT_STARTED
    attempt, _e = services.submit_quiz(user=user, quiz=course["quiz"], answers=ALL_RIGHT)
    assert attempt.number == 1 and attempt.passed


@pytest.mark.django_db
def test_opening_a_step_records_resume_point_but_never_enrols(course, chain, client):
    user = chain["agent"].user
    client.force_login(user)
    assert services.open_step(user=user, step=course["lessons"][1]) is None
    assert not Enrollment.objects.exists()
    services.self_enroll(user=user, course=course["course"])
    enrollment = services.open_step(user=user, step=course["lessons"][1])
    assert enrollment.status == EnrollmentStatus.IN_PROGRESS and enrollment.last_step_id == course["lessons"][1].pk
