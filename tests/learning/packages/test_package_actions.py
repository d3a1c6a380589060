"""Package attempts through learning.services / learning.actions: launch policies, commits
reaching the enrolment, replays, package versions, and the beacon's one-time token."""

from datetime import timedelta
from unittest import mock

import pytest
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from cms.exceptions import Conflict
from learning import services
from learning.choices import AttemptStatus, EnrollmentStatus, EventSource
from learning.models import Enrollment, EnrollmentEvent, PackageAttempt
from learning.packages import sample
from tests.learning.packages.conftest import (
    SCORM12_LAUNCHABLES,
    SCORM12_ORGANIZATION,
    add_package_step,
    store_package,
)

PASSED_12 = {"cmi.core.lesson_status": "passed", "cmi.core.score.raw": "90", "cmi.core.session_time": "00:02:00"}
FAILED_12 = {"cmi.core.lesson_status": "failed", "cmi.core.score.raw": "40"}


def commit(user, attempt, seq, cmi, *, sco="ITEM-1", terminate=False):
    data = {"sco": sco, "seq": seq, "cmi": cmi, "terminate": terminate}
    return services.commit_package(user=user, attempt_id=attempt.pk, data=data)


def enrollment_of(user, course):
    return Enrollment.objects.get(agent__user=user, course=course)


@pytest.fixture
def learner(chain):
    return chain["agent"].user


# --- launch ------------------------------------------------------------------------------------------


def test_first_launch_self_enrols_opens_attempt_one_and_starts_the_course(learner, scorm12_course):
    step = scorm12_course["step"]
    attempt = services.launch_package(user=learner, step=step)
    assert (attempt.number, attempt.status, attempt.package_id) == (1, "in_progress", step.package_id)
    assert attempt.beacon_nonce
    enrollment = enrollment_of(learner, scorm12_course["course"])
    assert enrollment.status == EnrollmentStatus.IN_PROGRESS and enrollment.last_step_id == step.pk
    assert EnrollmentEvent.objects.filter(enrollment=enrollment, source=EventSource.PACKAGE).count() == 1
    # Launching again resumes the same attempt.
    assert services.launch_package(user=learner, step=step).pk == attempt.pk
    assert PackageAttempt.objects.count() == 1


def test_default_policy_one_attempt_per_cycle(learner, scorm12_course):
    step = scorm12_course["step"]
    attempt = services.launch_package(user=learner, step=step)
    commit(learner, attempt, 1, PASSED_12, terminate=True)
    again = services.launch_package(user=learner, step=step)
    assert again.pk == attempt.pk  # finished: played in review mode, no new attempt


def test_new_attempt_after_completion_when_allowed_up_to_the_limit(learner, scorm12_course):
    step = scorm12_course["step"]
    step.new_attempt_after_completion, step.attempt_limit = True, 2
    step.save_revision().publish()
    first = services.launch_package(user=learner, step=step)
    commit(learner, first, 1, PASSED_12, terminate=True)
    second = services.launch_package(user=learner, step=step)
    assert second.number == 2 and second.status == "in_progress"
    commit(learner, second, 1, PASSED_12, terminate=True)
    assert services.launch_package(user=learner, step=step).pk == second.pk  # limit reached


def test_unknown_or_unpublished_step_and_closed_enrolment_are_refused(learner, scorm12_course):
    step = scorm12_course["step"]
    step.unpublish()
    with pytest.raises(ValidationError):
        services.launch_package(user=learner, step=step)


def test_a_step_without_package_is_refused(learner, scorm12_course):
    bare = add_package_step(scorm12_course["course"], None, title="Vide", slug="vide")
    with pytest.raises(ValidationError) as error:
        services.launch_package(user=learner, step=bare)
    assert "package" in error.value.message_dict


def test_launch_without_agent_profile_or_on_assignment_only_course(db, scorm12_course, user):
    with pytest.raises(PermissionDenied):
        services.launch_package(user=user, step=scorm12_course["step"])


# --- commits reaching the enrolment -------------------------------------------------------------------


def test_commit_completes_the_enrolment_with_score_and_certificate(learner, scorm12_course, django_capture_on_commit_callbacks):
    attempt = services.launch_package(user=learner, step=scorm12_course["step"])
    result = commit(learner, attempt, 1, {"cmi.core.lesson_status": "incomplete", "cmi.core.lesson_location": "2"})
    assert result["applied"] and result["attempt"]["status"] == "in_progress"
    assert result["enrollment"]["status"] == "in_progress"
    with django_capture_on_commit_callbacks(execute=True):
        result = commit(learner, attempt, 2, PASSED_12, terminate=True)
    assert result["applied"] and result["last_seq"] == 2
    assert result["attempt"] == {"id": attempt.pk, "status": "passed", "score": 90, "progress": 1.0}
    assert result["enrollment"] == {"status": "completed", "progress": 1.0, "score": 90}
    assert "/beacon/?token=" in result["beacon_url"]
    enrollment = enrollment_of(learner, scorm12_course["course"])
    assert enrollment.completed_at is not None and enrollment.certificate_code
    assert enrollment.certificate_file  # rendered by the task enqueued after commit
    attempt.refresh_from_db()
    assert attempt.finished_at is not None and attempt.total_seconds == 120
    assert list(EnrollmentEvent.objects.filter(enrollment=enrollment).values_list("to_status", flat=True).order_by("pk")) == [
        "not_started", "in_progress", "completed",
    ]


def test_scorm2004_multi_sco_completes_only_when_every_sco_did(learner, scorm2004_course):
    attempt = services.launch_package(user=learner, step=scorm2004_course["step"])
    done = {"cmi.completion_status": "completed", "cmi.success_status": "passed", "cmi.score.scaled": "0.9"}
    for seq, sco in enumerate(("ITEM-1", "ITEM-2"), start=1):
        result = commit(learner, attempt, seq, done, sco=sco, terminate=True)
    assert result["attempt"]["status"] == "in_progress" and result["enrollment"]["progress"] == 0
    result = commit(learner, attempt, 3, {**done, "cmi.score.scaled": "0.6"}, sco="ITEM-3", terminate=True)
    assert result["attempt"]["status"] == "failed"  # 0.6 < scaled passing score 0.8, terminated
    assert result["enrollment"]["status"] == "failed"  # no new attempt allowed: like a quiz without tries


def test_failed_terminated_package_fails_the_enrolment_when_no_new_attempt_is_allowed(learner, scorm12_course):
    attempt = services.launch_package(user=learner, step=scorm12_course["step"])
    result = commit(learner, attempt, 1, FAILED_12)
    assert result["enrollment"]["status"] == "in_progress"  # not final while the session goes on
    result = commit(learner, attempt, 2, {}, terminate=True)
    assert result["attempt"]["status"] == "failed" and result["enrollment"]["status"] == "failed"
    with pytest.raises(Conflict):
        services.launch_package(user=learner, step=scorm12_course["step"])


def test_failed_package_does_not_fail_the_enrolment_when_a_new_attempt_is_allowed(learner, scorm12_course):
    step = scorm12_course["step"]
    step.new_attempt_after_failure, step.attempt_limit = True, 2
    step.save_revision().publish()
    first = services.launch_package(user=learner, step=step)
    result = commit(learner, first, 1, FAILED_12, terminate=True)
    assert result["attempt"]["status"] == "failed" and result["enrollment"]["status"] == "in_progress"
    second = services.launch_package(user=learner, step=step)
    assert second.number == 2
    result = commit(learner, second, 1, FAILED_12, terminate=True)
    assert result["enrollment"]["status"] == "failed"  # the limit is reached now


def test_replayed_or_out_of_order_commits_do_not_move_state_backwards(learner, scorm12_course):
    attempt = services.launch_package(user=learner, step=scorm12_course["step"])
    commit(learner, attempt, 5, PASSED_12, terminate=True)
    enrollment = enrollment_of(learner, scorm12_course["course"])
    result = commit(learner, attempt, 4, {"cmi.core.lesson_status": "incomplete"})
    assert result["applied"] is False and result["last_seq"] == 5
    assert result["attempt"]["status"] == "passed" and result["enrollment"]["status"] == "completed"
    result = commit(learner, attempt, 5, {"cmi.core.lesson_status": "failed"})
    assert result["applied"] is False
    attempt.refresh_from_db()
    assert attempt.scos["ITEM-1"]["cmi"]["cmi.core.lesson_status"] == "passed"
    assert enrollment_of(learner, scorm12_course["course"]).updated_at == enrollment.updated_at


def test_review_commits_on_a_finished_attempt_are_acknowledged_not_stored(learner, scorm12_course):
    attempt = services.launch_package(user=learner, step=scorm12_course["step"])
    commit(learner, attempt, 1, PASSED_12, terminate=True)
    context = services.player_context(user=learner, attempt_id=attempt.pk)
    assert context["mode"] == "review" and context["cmi"]["cmi.core.lesson_mode"] == "review"
    result = commit(learner, attempt, 2, {"cmi.core.lesson_status": "incomplete"})
    assert result["applied"] is False
    attempt.refresh_from_db()
    assert attempt.scos["ITEM-1"]["cmi"]["cmi.core.lesson_status"] == "passed" and attempt.last_seq == 1


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"seq": 1, "cmi": {}}, "sco"),
        ({"sco": "ITEM-1", "cmi": {}}, "seq"),
        ({"sco": "ITEM-1", "seq": "1", "cmi": {}}, "seq"),
        ({"sco": "ITEM-1", "seq": True, "cmi": {}}, "seq"),
        ({"sco": "ITEM-1", "seq": 0, "cmi": {}}, "seq"),
        ({"sco": "ITEM-1", "seq": 2**63, "cmi": {}}, "seq"),
        ({"sco": "ITEM-1", "seq": 1, "cmi": []}, "cmi"),
        ({"sco": "ITEM-1", "seq": 1, "cmi": {}, "terminate": "yes"}, "terminate"),
        ({"sco": "NOPE", "seq": 1, "cmi": {}}, "sco"),
        ({"sco": "ITEM-1", "seq": 1, "cmi": {"core.total_time": "9999:00:00"}}, "core.total_time"),
    ],
)
def test_bad_commits_name_the_field_and_change_nothing(learner, scorm12_course, data, field):
    attempt = services.launch_package(user=learner, step=scorm12_course["step"])
    with pytest.raises(ValidationError) as error:
        services.commit_package(user=learner, attempt_id=attempt.pk, data=data)
    assert field in error.value.message_dict
    attempt.refresh_from_db()
    assert attempt.scos == {} and attempt.last_seq == 0


def test_someone_elses_attempt_does_not_exist_for_them(chain, scorm12_course):
    attempt = services.launch_package(user=chain["agent"].user, step=scorm12_course["step"])
    for role in ("other_agent", "manager", "hr"):
        with pytest.raises(Http404):
            commit(chain[role].user, attempt, 1, PASSED_12)
        with pytest.raises(Http404):
            services.player_context(user=chain[role].user, attempt_id=attempt.pk)


# --- package versions ------------------------------------------------------------------------------------


def test_a_new_package_version_keeps_old_attempts_playing_version_one(learner, scorm12_course):
    step = scorm12_course["step"]
    old = services.launch_package(user=learner, step=step)
    commit(learner, old, 1, {"cmi.core.lesson_status": "incomplete", "cmi.core.lesson_location": "2"})
    v2 = store_package(
        sample.scorm12_files(title="Prévention v2", suspend_kb=1), standard="scorm12",
        launchables=[{**SCORM12_LAUNCHABLES[0], "href": "index.html?v=2"}], organization=SCORM12_ORGANIZATION,
        title="Prévention v2", version=2, previous=step.package,
    )
    step.package = v2
    step.save_revision().publish()
    resumed = services.launch_package(user=learner, step=step)
    assert resumed.pk == old.pk and resumed.package.version == 1
    context = services.player_context(user=learner, attempt_id=old.pk)
    assert context["package"].version == 1 and str(old.package.uuid) in context["content_url"]
    assert context["cmi"]["cmi.core.lesson_location"] == "2" and context["cmi"]["cmi.core.entry"] == "resume"
    result = commit(learner, old, 2, PASSED_12, terminate=True)
    assert result["attempt"]["status"] == "passed"


# --- player context ----------------------------------------------------------------------------------


def test_player_context_of_a_multi_sco_attempt(learner, scorm2004_course):
    attempt = services.launch_package(user=learner, step=scorm2004_course["step"])
    commit(learner, attempt, 1, {"cmi.completion_status": "completed", "cmi.success_status": "passed"},
           sco="ITEM-1", terminate=True)
    context = services.player_context(user=learner, attempt_id=attempt.pk)
    assert context["sco"]["identifier"] == "ITEM-2"  # where the learner goes on
    assert context["standard"] == "scorm2004" and context["mode"] == "normal" and context["last_seq"] == 1
    assert context["cmi"]["cmi.entry"] == "ab-initio" and context["cmi"]["cmi.launch_data"] == "sco=2"
    assert context["content_url"].endswith(f"{attempt.package.uuid}/sco2/index.html")
    assert [node["status"] for node in context["toc"]] == ["Réussi", "Non commencé", "Non commencé"]
    assert [node["current"] for node in context["toc"]] == [False, True, False]
    assert context["previous_url"].endswith("?sco=ITEM-1") and context["next_url"].endswith("?sco=ITEM-3")
    assert context["commit_url"].endswith(f"/package-attempts/{attempt.pk}/commit/")
    assert context["course"].pk == scorm2004_course["course"].pk and context["step_url"]
    first = services.player_context(user=learner, attempt_id=attempt.pk, sco="ITEM-1")
    assert first["previous_url"] is None and first["cmi"]["cmi.entry"] == ""
    with pytest.raises(Http404):
        services.player_context(user=learner, attempt_id=attempt.pk, sco="NOPE")


def test_a_launch_closes_sessions_left_without_terminate(learner, scorm12_course):
    step = scorm12_course["step"]
    attempt = services.launch_package(user=learner, step=step)
    commit(learner, attempt, 1, {"cmi.core.session_time": "00:00:40", "cmi.core.lesson_status": "incomplete"})
    services.launch_package(user=learner, step=step)
    attempt.refresh_from_db()
    assert attempt.total_seconds == 40 and attempt.scos["ITEM-1"]["pending_seconds"] == 0


# --- the beacon --------------------------------------------------------------------------------------------


def token_of(url):
    return url.split("token=", 1)[1]


def beacon(attempt, token, seq, cmi, terminate=True):
    return services.beacon_commit(
        attempt_id=attempt.pk, token=token, data={"sco": "ITEM-1", "seq": seq, "cmi": cmi, "terminate": terminate}
    )


def test_beacon_token_is_valid_once(learner, scorm12_course):
    from urllib.parse import unquote

    attempt = services.launch_package(user=learner, step=scorm12_course["step"])
    token = unquote(token_of(services.beacon_url(attempt)))
    result = beacon(attempt, token, 1, PASSED_12)
    assert result["applied"] and result["attempt"]["status"] == "passed"
    with pytest.raises(PermissionDenied):
        beacon(attempt, token, 2, {"cmi.core.lesson_location": "9"})
    attempt.refresh_from_db()
    assert attempt.last_seq == 1
    fresh = unquote(token_of(result["beacon_url"]))
    assert beacon(attempt, fresh, 2, {}, terminate=False)["applied"] is False  # review: acknowledged


def test_forged_foreign_and_expired_tokens_are_refused(chain, scorm12_course):
    from urllib.parse import unquote

    mine = services.launch_package(user=chain["agent"].user, step=scorm12_course["step"])
    theirs = services.launch_package(user=chain["other_agent"].user, step=scorm12_course["step"])
    token = unquote(token_of(services.beacon_url(mine)))
    forged = signing.dumps({"a": mine.pk, "u": chain["agent"].user.pk, "n": mine.beacon_nonce}, salt="other")
    other_user = signing.dumps(
        {"a": mine.pk, "u": chain["other_agent"].user.pk, "n": mine.beacon_nonce}, salt=services.BEACON_SALT
    )
    for attempt, bad in [(mine, forged), (mine, token + "x"), (mine, ""), (theirs, token), (mine, other_user),
                         (mine, "a" * 5000)]:
        with pytest.raises(PermissionDenied):
            beacon(attempt, bad, 1, PASSED_12)
    later = signing.time.time() + services.BEACON_MAX_AGE + 60
    with mock.patch("django.core.signing.time.time", return_value=later), pytest.raises(PermissionDenied):
        beacon(mine, token, 1, PASSED_12)
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.last_seq == 0 and theirs.last_seq == 0
    assert beacon(mine, token, 1, PASSED_12)["applied"]  # still unused: valid


def test_a_bad_beacon_body_does_not_consume_the_token(learner, scorm12_course):
    from urllib.parse import unquote

    attempt = services.launch_package(user=learner, step=scorm12_course["step"])
    token = unquote(token_of(services.beacon_url(attempt)))
    with pytest.raises(ValidationError):
        beacon(attempt, token, 1, {"core.credit": "no-credit"})
    assert beacon(attempt, token, 1, PASSED_12)["applied"]


# --- HR reset --------------------------------------------------------------------------------------------


def test_hr_reset_is_logged_and_the_next_launch_is_fresh(chain, scorm12_course):
    from wagtail.models import ModelLogEntry

    learner = chain["agent"].user
    step = scorm12_course["step"]
    attempt = services.launch_package(user=learner, step=step)
    commit(learner, attempt, 1, {"cmi.core.lesson_status": "incomplete", "cmi.core.lesson_location": "3"})
    services.reset_package_attempt(actor=chain["hr"].user, attempt=attempt)
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.RESET and attempt.reset_by == chain["hr"].user and attempt.reset_at
    entry = ModelLogEntry.objects.get(action="learning.package_attempt_reset")
    assert entry.object_id == str(attempt.pk) and entry.user == chain["hr"].user
    assert entry.data["number"] == 1 and entry.data["agent"] == chain["agent"].pk
    fresh = services.launch_package(user=learner, step=step)
    assert fresh.pk != attempt.pk and fresh.number == 2 and fresh.scos == {}
    context = services.player_context(user=learner, attempt_id=fresh.pk)
    assert context["cmi"]["cmi.core.entry"] == "ab-initio"
    # The reset attempt's commits are no longer stored.
    assert commit(learner, attempt, 5, PASSED_12)["applied"] is False
    with pytest.raises(Conflict):
        services.reset_package_attempt(actor=chain["hr"].user, attempt=attempt)


@pytest.mark.parametrize("role", ["agent", "manager", "other_agent", "reviewer"])
def test_only_hr_resets(chain, scorm12_course, role):
    attempt = services.launch_package(user=chain["agent"].user, step=scorm12_course["step"])
    with pytest.raises(PermissionDenied):
        services.reset_package_attempt(actor=chain[role].user, attempt=attempt)
    attempt.refresh_from_db()
    assert attempt.status == "in_progress"


def test_reset_of_a_completed_enrolment_keeps_the_completion(chain, scorm12_course):
    learner = chain["agent"].user
    attempt = services.launch_package(user=learner, step=scorm12_course["step"])
    commit(learner, attempt, 1, PASSED_12, terminate=True)
    services.reset_package_attempt(actor=chain["hr"].user, attempt=attempt)
    enrollment = enrollment_of(learner, scorm12_course["course"])
    assert (enrollment.status, enrollment.progress, enrollment.score) == ("completed", 1.0, 90)
    assert enrollment.certificate_code


def test_reset_recomputes_the_progress_of_an_open_enrolment(chain, scorm2004_course):
    learner = chain["agent"].user
    attempt = services.launch_package(user=learner, step=scorm2004_course["step"])
    commit(learner, attempt, 1, {"cmi.completion_status": "completed", "cmi.score.scaled": "0.9"}, sco="ITEM-1")
    enrollment = enrollment_of(learner, scorm2004_course["course"])
    assert enrollment.score == 30  # SCORM 2004 measure rollup: 90 for one SCO of three, the others weigh 1 too
    services.reset_package_attempt(actor=chain["hr"].user, attempt=attempt)
    enrollment.refresh_from_db()
    assert (enrollment.status, enrollment.progress, enrollment.score) == ("in_progress", 0.0, None)


def test_expired_token_constant_is_twelve_hours():
    assert timedelta(seconds=services.BEACON_MAX_AGE) == timedelta(hours=12)
