"""learning/packages/runtime.py: merge refusals, time, status mapping of both standards,
rollup, entry and the launch data. Pure functions: no database."""

import pytest
from django.core.exceptions import ValidationError

from learning.choices import AttemptStatus
from learning.models import Package, PackageAttempt
from learning.packages import runtime
from tests.learning.packages.conftest import SCORM12_LAUNCHABLES, scorm2004_launchables


def package12(**item):
    return Package(standard="scorm12", launchables=[{**SCORM12_LAUNCHABLES[0], **item}], title="P12", sha256="a")


def package2004(count=3, **item):
    return Package(
        standard="scorm2004", launchables=[{**x, **item} for x in scorm2004_launchables(count)], title="P", sha256="b"
    )


def attempt_for(package):
    return PackageAttempt(package=package, scos={}, last_seq=0, total_seconds=0.0, progress=0.0)


def commit(attempt, seq, cmi, *, sco=None, terminate=False):
    sco = sco or attempt.package.launchables[0]["identifier"]
    return runtime.apply_commit(attempt, sco=sco, seq=seq, cmi=cmi, terminate=terminate)


# --- merge ----------------------------------------------------------------------------------------


def test_merge_keeps_strings_coerces_numbers_and_overwrites():
    merged = runtime.merge(
        {"cmi.core.lesson_location": "2", "cmi.suspend_data": "old"},
        {"cmi.core.score.raw": 85, "cmi.score.scaled": 0.85, "cmi.suspend_data": "new", "adl.nav.request": "continue",
         "cmi.core.lesson_status": None, "cmi.interactions.0.result": True},
    )
    assert merged == {
        "cmi.core.lesson_location": "2", "cmi.suspend_data": "new", "cmi.core.score.raw": "85",
        "cmi.score.scaled": "0.85", "adl.nav.request": "continue", "cmi.core.lesson_status": "",
        "cmi.interactions.0.result": "true",
    }


def test_merge_ignores_count_children_and_version():
    merged = runtime.merge({}, {"cmi._version": "1.0", "cmi.interactions._count": "3", "cmi.core._children": "x",
                                "cmi.objectives.0.id": "o"})
    assert merged == {"cmi.objectives.0.id": "o"}


@pytest.mark.parametrize(
    "key",
    ["cmi.core.entry", "cmi.core.credit", "cmi.core.lesson_mode", "cmi.core.total_time", "cmi.core.student_id",
     "cmi.core.student_name", "cmi.launch_data", "cmi.student_data.mastery_score", "cmi.entry", "cmi.credit",
     "cmi.mode", "cmi.total_time", "cmi.learner_id", "cmi.learner_name", "cmi.scaled_passing_score",
     "cmi.completion_threshold", "cmi.comments_from_lms.0.comment"],
)
def test_merge_ignores_the_elements_parcours_owns(key):
    """A runtime that renders its whole CMI sends them back: acknowledged, never stored, so
    the SCO cannot change its entry, credit, mode or total time."""
    assert runtime.merge({"cmi.suspend_data": "s"}, {key: "x", "cmi.core.lesson_location": "2"}) == {
        "cmi.suspend_data": "s", "cmi.core.lesson_location": "2",
    }


@pytest.mark.parametrize(
    ("incoming", "field"),
    [
        ({"core.lesson_status": "passed"}, "core.lesson_status"),
        ({"cmi.x" + "y" * 300: "1"}, None),
        ({"cmi.suspend_data": {"nested": 1}}, "cmi.suspend_data"),
        ({"cmi.suspend_data": [1]}, "cmi.suspend_data"),
        ({"cmi.with space": "1"}, "cmi.with space"),
    ],
)
def test_merge_refuses_bad_keys_and_values(incoming, field):
    with pytest.raises(ValidationError) as error:
        runtime.merge({}, incoming)
    if field:
        assert field in error.value.message_dict
    else:
        assert "trop long" in str(error.value)


def test_merge_refuses_too_many_keys_and_too_large_commits():
    with pytest.raises(ValidationError) as error:
        runtime.merge({}, {f"cmi.interactions.{n}.id": "q" for n in range(runtime.MAX_KEYS + 1)})
    assert "cmi" in error.value.message_dict
    assert runtime.merge({}, {f"cmi.interactions.{n}.id": "q" for n in range(runtime.MAX_KEYS)})
    with pytest.raises(ValidationError) as error:
        runtime.merge({}, {"cmi.suspend_data": "x" * (runtime.MAX_COMMIT_CHARS + 1)})
    assert "volumineux" in str(error.value)


def test_80_kb_suspend_data_is_stored_intact():
    data = ("0123456789abcdef" * 6000)[:80 * 1024] + "é✓"
    attempt = attempt_for(package12())
    assert commit(attempt, 1, {"cmi.suspend_data": data, "cmi.core.lesson_status": "incomplete"})
    assert attempt.scos["ITEM-1"]["cmi"]["cmi.suspend_data"] == data


def test_interactions_and_objectives_are_stored():
    attempt = attempt_for(package2004(1))
    cmi = {f"cmi.interactions.{n}.id": f"q{n}" for n in range(50)}
    cmi |= {"cmi.interactions.3.learner_response": "a[,]b", "cmi.objectives.0.id": "obj1",
            "cmi.objectives.0.success_status": "passed", "cmi.objectives.0.score.scaled": "0.9"}
    assert commit(attempt, 1, cmi)
    stored = attempt.scos["ITEM-1"]["cmi"]
    assert stored["cmi.interactions.49.id"] == "q49"
    assert stored["cmi.interactions.3.learner_response"] == "a[,]b"
    assert stored["cmi.objectives.0.success_status"] == "passed"


# --- time -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("0000:00:00", 0), ("00:01:30", 90), ("0001:02:03.5", 3723.5), ("9999:59:59.99", 9999 * 3600 + 3599.99),
     ("1:2:3", 3723), ("abc", None), ("00:61:00", None), ("", None)],
)
def test_parse_scorm12_timespan(value, seconds):
    assert runtime.parse_timespan(value) == (pytest.approx(seconds) if seconds is not None else None)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("PT0S", 0), ("PT1M30S", 90), ("PT1H2M3.5S", 3723.5), ("P1DT1S", 86401), ("P1Y", 365 * 86400),
     ("P1M", 30 * 86400), ("PT1,5S", 1.5), ("pt10s", 10), ("P", 0), ("PT", None), ("1H", None), ("P1H", None),
     ("", None)],
)
def test_parse_scorm2004_duration(value, seconds):
    assert runtime.parse_duration(value) == (pytest.approx(seconds) if seconds is not None else None)


def test_session_time_accepts_either_format_and_ignores_nonsense():
    assert runtime.parse_session_time("PT5S") == 5
    assert runtime.parse_session_time("00:00:05") == 5
    assert runtime.parse_session_time("P999999999Y") is None
    assert runtime.parse_session_time("bientôt") is None


@pytest.mark.parametrize(
    ("seconds", "v12", "v2004"),
    [(0, "0000:00:00.00", "PT0S"), (3723.5, "0001:02:03.50", "PT1H2M3.5S"), (59.999, "0000:01:00.00", "PT1M"),
     (90, "0000:01:30.00", "PT1M30S")],
)
def test_total_time_is_rendered_in_the_standard_format(seconds, v12, v2004):
    assert runtime.format_timespan(seconds) == v12
    assert runtime.format_duration(seconds) == v2004
    assert runtime.parse_timespan(v12) == pytest.approx(round(seconds, 2))
    assert runtime.parse_duration(v2004) == pytest.approx(round(seconds, 2))


def test_session_time_accumulates_once_per_session():
    attempt = attempt_for(package12(mastery_score=None))
    assert commit(attempt, 1, {"cmi.core.session_time": "00:00:10", "cmi.core.lesson_status": "incomplete"})
    assert commit(attempt, 2, {"cmi.core.session_time": "00:00:30"})  # the session's time so far: replaces
    state = attempt.scos["ITEM-1"]
    assert (state["total_seconds"], state["pending_seconds"]) == (0, 30)
    assert commit(attempt, 3, {"cmi.core.exit": "suspend"}, terminate=True)
    state = attempt.scos["ITEM-1"]
    assert (state["total_seconds"], state["pending_seconds"], state["sessions"]) == (30, 0, 1)
    assert attempt.total_seconds == 30
    # A replay changes nothing; a full-CMI echo of the same session_time after terminate does not count twice.
    assert not commit(attempt, 3, {"cmi.core.session_time": "00:00:30"}, terminate=True)
    assert commit(attempt, 4, {"cmi.core.session_time": "00:00:30", "cmi.core.exit": "suspend"}, terminate=True)
    assert attempt.scos["ITEM-1"]["total_seconds"] == 30
    # A second session.
    assert commit(attempt, 5, {"cmi.core.session_time": "00:01:00"})
    assert commit(attempt, 6, {}, terminate=True)
    assert attempt.scos["ITEM-1"]["total_seconds"] == 90
    assert attempt.scos["ITEM-1"]["sessions"] == 3  # the echo commit terminated a (empty) session too
    cmi = runtime.launch_cmi(attempt, "ITEM-1", _user())
    assert cmi["cmi.core.total_time"] == "0000:01:30.00"


def test_a_session_left_without_terminate_keeps_its_pending_time_for_the_next_launch():
    attempt = attempt_for(package2004(1))
    assert commit(attempt, 1, {"cmi.session_time": "PT45S", "cmi.location": "3"})
    assert attempt.scos["ITEM-1"]["total_seconds"] == 0
    assert runtime.close_sessions(attempt)  # the next launch
    assert attempt.scos["ITEM-1"]["total_seconds"] == 45
    assert attempt.total_seconds == 45
    assert not runtime.close_sessions(attempt)  # never twice
    assert runtime.launch_cmi(attempt, "ITEM-1", _user())["cmi.total_time"] == "PT45S"


# --- status mapping ------------------------------------------------------------------------------

SCORM12_TABLE = [
    # lesson_status, raw, mastery, -> completion, success, score
    ("passed", "", None, "completed", "passed", None),
    ("completed", "", None, "completed", "unknown", None),
    ("failed", "40", None, "completed", "failed", 40),
    ("incomplete", "", None, "incomplete", "unknown", None),
    ("browsed", "", None, "incomplete", "unknown", None),
    ("not attempted", "", None, "not attempted", "unknown", None),
    ("", "", None, "not attempted", "unknown", None),
    # the mastery score decides when the SCO reports completed/incomplete with a raw score
    ("completed", "85", 80, "completed", "passed", 85),
    ("completed", "70", 80, "completed", "failed", 70),
    ("incomplete", "90", 80, "completed", "passed", 90),
    ("incomplete", "", 80, "incomplete", "unknown", None),
    ("passed", "50", 80, "completed", "passed", 50),  # the SCO's own verdict stands
    ("failed", "95", 80, "completed", "failed", 95),
]


@pytest.mark.parametrize(("status", "raw", "mastery", "completion", "success", "score"), SCORM12_TABLE)
def test_scorm12_status_mapping(status, raw, mastery, completion, success, score):
    cmi = {"cmi.core.lesson_status": status, "cmi.core.score.raw": raw}
    result = runtime.sco_result("scorm12", cmi, {"mastery_score": mastery})
    assert result == {"completion": completion, "success": success, "score": score}


def test_scorm12_mastery_only_in_credit_mode_and_scores_normalised():
    cmi = {"cmi.core.lesson_status": "completed", "cmi.core.score.raw": "70"}
    assert runtime.sco_result("scorm12", cmi, {"mastery_score": 80}, credit=False)["success"] == "unknown"
    cmi = {"cmi.core.lesson_status": "completed", "cmi.core.score.raw": "15", "cmi.core.score.min": "0",
           "cmi.core.score.max": "20"}
    assert runtime.sco_result("scorm12", cmi, {})["score"] == 75
    assert runtime.sco_result("scorm12", {"cmi.core.score.raw": "150"}, {})["score"] == 100


SCORM2004_TABLE = [
    # completion, success, scaled, raw, threshold, measure, passing -> completion, success, score
    ("completed", "passed", "0.9", "", None, None, None, "completed", "passed", 90),
    ("completed", "failed", "0.5", "", None, None, None, "completed", "failed", 50),
    ("incomplete", "unknown", "", "", None, None, None, "incomplete", "unknown", None),
    ("", "", "", "", None, None, None, "unknown", "unknown", None),
    ("bogus", "bogus", "", "", None, None, None, "unknown", "unknown", None),
    # the completion threshold decides with a progress measure
    ("incomplete", "unknown", "", "", 0.8, "0.9", None, "completed", "unknown", None),
    ("completed", "unknown", "", "", 0.8, "0.5", None, "incomplete", "unknown", None),
    ("completed", "unknown", "", "", 0.8, "", None, "completed", "unknown", None),
    # the scaled passing score overrides the SCO's success
    ("completed", "passed", "0.7", "", None, None, 0.8, "completed", "failed", 70),
    ("completed", "failed", "0.85", "", None, None, 0.8, "completed", "passed", 85),
    ("completed", "passed", "", "", None, None, 0.8, "completed", "passed", None),
    # raw score with min/max when there is no scaled score
    ("completed", "unknown", "", "30", None, None, None, "completed", "unknown", 30),
]


@pytest.mark.parametrize(
    ("completion", "success", "scaled", "raw", "threshold", "measure", "passing", "out_c", "out_s", "score"),
    SCORM2004_TABLE,
)
def test_scorm2004_status_mapping(completion, success, scaled, raw, threshold, measure, passing, out_c, out_s, score):
    cmi = {"cmi.completion_status": completion, "cmi.success_status": success, "cmi.score.scaled": scaled,
           "cmi.score.raw": raw}
    if measure is not None:
        cmi["cmi.progress_measure"] = measure
    item = {"completion_threshold": threshold, "scaled_passing_score": passing}
    assert runtime.sco_result("scorm2004", cmi, item) == {"completion": out_c, "success": out_s, "score": score}


def test_scorm2004_raw_score_with_min_max():
    cmi = {"cmi.completion_status": "completed", "cmi.score.raw": "8", "cmi.score.min": "0", "cmi.score.max": "10"}
    assert runtime.sco_result("scorm2004", cmi, {})["score"] == 80


# --- rollup ----------------------------------------------------------------------------------------


def state(completion, success="unknown", score=None, terminated=False):
    return {"completion": completion, "success": success, "score": score, "terminated": terminated}


@pytest.mark.parametrize(
    ("states", "status", "score", "progress"),
    [
        ({}, "in_progress", None, 0.0),
        ({"ITEM-1": state("completed")}, "in_progress", None, 0.3333),
        ({n: state("completed") for n in ("ITEM-1", "ITEM-2", "ITEM-3")}, "completed", None, 1.0),
        # score: measure rollup, every SCO weighing 1.0, an unscored one in the divisor (SN RB.1.1)
        ({"ITEM-1": state("completed", "passed", 90), "ITEM-2": state("completed"),
          "ITEM-3": state("completed", "passed", 70)}, "passed", 53.33, 1.0),
        ({"ITEM-1": state("completed", "passed", 90), "ITEM-2": state("completed", "passed", 60),
          "ITEM-3": state("completed", "passed", 70)}, "passed", 73.33, 1.0),
        # a failure is not final while the SCO's session goes on…
        ({"ITEM-1": state("completed", "passed", 90), "ITEM-2": state("completed"),
          "ITEM-3": state("completed", "failed", 40)}, "in_progress", 43.33, 1.0),
        # …it is once the SCO terminated with it
        ({"ITEM-1": state("completed", "passed", 90), "ITEM-2": state("completed"),
          "ITEM-3": state("completed", "failed", 40, terminated=True)}, "failed", 43.33, 1.0),
        # every SCO must be completed or terminated before the attempt fails
        ({"ITEM-1": state("completed", "failed", 40, terminated=True), "ITEM-2": state("incomplete")},
         "in_progress", 13.33, 0.3333),
        ({"ITEM-1": state("completed", "failed", 40, terminated=True), "ITEM-2": state("incomplete", terminated=True),
          "ITEM-3": state("completed")}, "failed", 13.33, 0.6667),
    ],
)
def test_rollup_of_a_three_sco_package(states, status, score, progress):
    assert runtime.rollup(package2004(), states) == (status, score, progress)


def weighted2004(weights, organization=None):
    package = package2004()
    package.manifest = {"measure_weights": weights}
    if organization is not None:
        package.organization = organization
    return package


def test_rollup_score_uses_the_objective_measure_weights():
    # content SCOs weighing 0 (what authoring tools write so that only the test counts)
    package = weighted2004({"ITEM-1": 0.0, "ITEM-2": 0.0})
    states = {"ITEM-1": state("completed"), "ITEM-2": state("completed"), "ITEM-3": state("completed", "passed", 90)}
    assert runtime.rollup(package, states) == ("passed", 90, 1.0)
    # 0.5 / 0.5 / 1.0: (0.5 × 60 + 1.0 × 90) / 2.0, the unscored SCO 2 still in the divisor
    package = weighted2004({"ITEM-1": 0.5, "ITEM-2": 0.5})
    states = {"ITEM-1": state("completed", "passed", 60), "ITEM-2": state("completed"),
              "ITEM-3": state("completed", "passed", 90)}
    assert runtime.rollup(package, states)[1] == 60
    # no child with a score, or only weights of 0: no score
    assert runtime.rollup(package, {"ITEM-1": state("completed")})[1] is None
    assert runtime.rollup(weighted2004({"ITEM-1": 0, "ITEM-2": 0, "ITEM-3": 0}),
                          {"ITEM-1": state("completed", "passed", 80)})[1] is None


def test_rollup_score_goes_up_the_organisation_tree():
    """A cluster's measure is the weighted mean of its children, then weighs as one child."""
    organization = [
        {"identifier": "CHAP-1", "title": "Chapitre 1", "sco": None, "children": [
            {"identifier": "ITEM-1", "title": "1", "sco": "ITEM-1", "children": []},
            {"identifier": "ITEM-2", "title": "2", "sco": "ITEM-2", "children": []},
        ]},
        {"identifier": "ITEM-3", "title": "3", "sco": "ITEM-3", "children": []},
    ]
    states = {"ITEM-1": state("completed", "passed", 100), "ITEM-2": state("completed", "passed", 50),
              "ITEM-3": state("completed", "passed", 90)}
    # (mean(100, 50) + 90) / 2 = 82.5, not the flat mean 80
    assert runtime.rollup(weighted2004({}, organization), states)[1] == 82.5
    # the cluster's own weight: (0.5 × 75 + 1.0 × 90) / 1.5 = 85
    assert runtime.rollup(weighted2004({"CHAP-1": 0.5}, organization), states)[1] == 85


def test_scorm12_score_stays_the_mean_of_the_reported_scores():
    package = Package(
        standard="scorm12", title="P12", sha256="c",
        launchables=[{**SCORM12_LAUNCHABLES[0], "identifier": f"S{n}"} for n in (1, 2, 3)],
    )
    states = {"S1": state("completed", "passed", 90), "S2": state("completed"), "S3": state("completed", "passed", 70)}
    assert runtime.rollup(package, states) == ("passed", 80, 1.0)


def test_rollup_counts_launched_assets_as_completed():
    package = package2004(2)
    package.launchables[1]["scorm_type"] = "asset"
    assert runtime.rollup(package, {"ITEM-1": state("completed")}) == ("in_progress", None, 0.5)
    assert runtime.rollup(package, {"ITEM-1": state("completed"), "ITEM-2": {}}) == ("completed", None, 1.0)


def test_scorm12_failed_lesson_status_fails_the_attempt_once_terminated():
    attempt = attempt_for(package12(mastery_score=None))
    commit(attempt, 1, {"cmi.core.lesson_status": "failed", "cmi.core.score.raw": "30"})
    assert runtime.rollup(attempt.package, attempt.scos)[0] == "in_progress"
    commit(attempt, 2, {}, terminate=True)
    assert runtime.rollup(attempt.package, attempt.scos) == ("failed", 30, 1.0)


def test_three_sco_package_through_commits():
    attempt = attempt_for(package2004())
    for seq, sco in enumerate(("ITEM-1", "ITEM-2"), start=1):
        commit(attempt, seq, {"cmi.completion_status": "completed", "cmi.success_status": "passed",
                              "cmi.score.scaled": "0.9"}, sco=sco)
    # partial: SCO 3, not yet scored, weighs 1.0 in the divisor (measure rollup)
    assert runtime.rollup(attempt.package, attempt.scos) == ("in_progress", 60, 0.6667)
    commit(attempt, 3, {"cmi.completion_status": "completed", "cmi.score.scaled": "0.6"}, sco="ITEM-3")
    # 0.6 < the scaled passing score 0.8: failed, but not final until ITEM-3 terminates
    assert runtime.rollup(attempt.package, attempt.scos) == ("in_progress", 80, 1.0)
    commit(attempt, 4, {"cmi.score.scaled": "0.95"}, sco="ITEM-3")  # retried inside the SCO
    assert runtime.rollup(attempt.package, attempt.scos) == ("passed", 91.67, 1.0)
    assert attempt.last_sco == "ITEM-3" and attempt.last_seq == 4


def test_a_sco_completion_and_pass_never_move_backwards():
    attempt = attempt_for(package12(mastery_score=None))
    commit(attempt, 1, {"cmi.core.lesson_status": "passed", "cmi.core.score.raw": "90"}, terminate=True)
    commit(attempt, 2, {"cmi.core.lesson_status": "incomplete", "cmi.core.score.raw": "10"})
    assert attempt.scos["ITEM-1"] | {"cmi": None} == attempt.scos["ITEM-1"] | {
        "completion": "completed", "success": "passed", "score": 90, "cmi": None,
    }


@pytest.mark.parametrize(
    ("current", "rolled", "expected"),
    [
        (("in_progress", None, 0.5), ("completed", 80, 1.0), ("completed", 80, 1.0)),
        (("completed", None, 1.0), ("passed", 90, 1.0), ("passed", 90, 1.0)),
        (("completed", 80, 1.0), ("in_progress", None, 0.5), ("completed", 80, 1.0)),
        (("completed", 80, 1.0), ("failed", 40, 1.0), ("completed", 40, 1.0)),
        (("passed", 90, 1.0), ("in_progress", 20, 0.3), ("passed", 90, 1.0)),
        (("failed", 30, 1.0), ("passed", 90, 1.0), ("failed", 30, 1.0)),
    ],
)
def test_attempt_status_never_moves_backwards(current, rolled, expected):
    assert runtime.advance(*current, rolled) == expected


# --- commits: sequence numbers, unknown SCO, review -------------------------------------------------


def test_replayed_and_older_commits_change_nothing():
    attempt = attempt_for(package12())
    assert commit(attempt, 5, {"cmi.core.lesson_location": "5"})
    before = dict(attempt.scos)
    assert not commit(attempt, 5, {"cmi.core.lesson_location": "9"})
    assert not commit(attempt, 3, {"cmi.core.lesson_location": "1"})
    assert attempt.scos == before and attempt.last_seq == 5


def test_unknown_sco_is_refused_naming_it():
    attempt = attempt_for(package12())
    with pytest.raises(ValidationError) as error:
        commit(attempt, 1, {}, sco="NOPE")
    assert "sco" in error.value.message_dict and "NOPE" in str(error.value)


def test_a_refused_element_changes_nothing():
    attempt = attempt_for(package12())
    with pytest.raises(ValidationError):
        commit(attempt, 1, {"cmi.core.lesson_location": "2", "cmi.unknown": {"nested": 1}})
    assert attempt.scos == {} and attempt.last_seq == 0


def test_commits_to_a_finished_attempt_under_review_are_not_stored():
    attempt = attempt_for(package12(mastery_score=None))
    commit(attempt, 1, {"cmi.core.lesson_status": "completed"}, terminate=True)
    attempt.status = AttemptStatus.COMPLETED
    attempt.finished_at = "2026-01-01T00:00:00Z"
    assert not commit(attempt, 2, {"cmi.core.lesson_status": "incomplete"})
    assert attempt.scos["ITEM-1"]["cmi"]["cmi.core.lesson_status"] == "completed"


def test_a_finished_attempt_still_takes_the_end_of_the_open_session():
    """1.2 content often says "completed" then, later in the same session, "passed" with a score."""
    attempt = attempt_for(package12(mastery_score=None))
    commit(attempt, 1, {"cmi.core.lesson_status": "completed"})
    attempt.status, attempt.finished_at = AttemptStatus.COMPLETED, "2026-01-01T00:00:00Z"
    assert commit(attempt, 2, {"cmi.core.lesson_status": "passed", "cmi.core.score.raw": "88"}, terminate=True)
    assert runtime.advance(attempt.status, None, 1.0, runtime.rollup(attempt.package, attempt.scos)) == (
        "passed", 88, 1.0,
    )


# --- launch ------------------------------------------------------------------------------------------


class _User:
    first_name, last_name, username, pk, is_authenticated = "Marie", "Curie", "mcurie", None, False

    def get_username(self):
        return self.username


def _user():
    return _User()


@pytest.mark.parametrize(
    ("cmi", "completion", "entry"),
    [
        (None, None, "ab-initio"),
        ({"cmi.core.exit": "suspend"}, "incomplete", "resume"),
        ({"cmi.core.exit": "", "cmi.core.lesson_location": "3"}, "incomplete", "resume"),  # lenient
        ({"cmi.core.exit": "", "cmi.suspend_data": "x"}, "incomplete", "resume"),
        ({"cmi.core.exit": "", "cmi.core.lesson_location": "3"}, "completed", ""),
        ({"cmi.core.exit": "logout", "cmi.core.lesson_location": "3"}, "incomplete", ""),
        ({"cmi.core.exit": "time-out"}, "incomplete", ""),
        ({}, "incomplete", ""),
    ],
)
def test_entry(cmi, completion, entry):
    state_ = None if cmi is None else {"cmi": cmi, "completion": completion}
    assert runtime.entry_for("scorm12", state_) == entry


def test_launch_cmi_scorm12():
    attempt = attempt_for(package12(launch_data="go", max_time_allowed="0001:00:00"))
    commit(attempt, 1, {"cmi.core.lesson_location": "2", "cmi.core.exit": "suspend", "cmi.suspend_data": "s",
                        "cmi.core.session_time": "00:00:20", "cmi.core.lesson_status": "incomplete"}, terminate=True)
    cmi = runtime.launch_cmi(attempt, "ITEM-1", _user())
    assert cmi == {
        "cmi.core.lesson_location": "2", "cmi.suspend_data": "s", "cmi.core.lesson_status": "incomplete",
        "cmi.core.student_id": "mcurie", "cmi.core.student_name": "Curie, Marie", "cmi.core.entry": "resume",
        "cmi.core.credit": "credit", "cmi.core.lesson_mode": "normal", "cmi.core.total_time": "0000:00:20.00",
        "cmi.launch_data": "go", "cmi.student_data.mastery_score": "80",
        "cmi.student_data.max_time_allowed": "0001:00:00",
    }
    first = runtime.launch_cmi(attempt_for(package12()), "ITEM-1", _user())
    assert first["cmi.core.entry"] == "ab-initio" and first["cmi.core.lesson_status"] == "not attempted"
    review = runtime.launch_cmi(attempt, "ITEM-1", _user(), review=True)
    assert (review["cmi.core.lesson_mode"], review["cmi.core.credit"]) == ("review", "no-credit")


def test_launch_cmi_scorm2004_without_write_only_elements_and_navigation_requests():
    attempt = attempt_for(package2004(1, completion_threshold=0.75))
    commit(attempt, 1, {"cmi.location": "2", "cmi.exit": "suspend", "cmi.session_time": "PT1M",
                        "adl.nav.request": "continue", "cmi.completion_status": "incomplete"}, terminate=True)
    cmi = runtime.launch_cmi(attempt, "ITEM-1", _user())
    assert "cmi.exit" not in cmi and "cmi.session_time" not in cmi and "adl.nav.request" not in cmi
    assert cmi["cmi.entry"] == "resume" and cmi["cmi.location"] == "2" and cmi["cmi.total_time"] == "PT1M"
    assert cmi["cmi.scaled_passing_score"] == "0.8" and cmi["cmi.completion_threshold"] == "0.75"
    assert cmi["cmi.launch_data"] == "sco=1" and cmi["cmi.mode"] == "normal" and cmi["cmi.learner_name"] == "Curie, Marie"
