"""The SCORM run-time on the server: pure functions on flattened CMI dicts (no database
writes; learning/actions.py saves what they compute).

Data model (``PackageAttempt.scos[identifier]``)::

    {"cmi": {"cmi.…": "value", …},        # what the SCO wrote (writable elements only)
     "completion": "completed" | "incomplete" | "not attempted" | "unknown",
     "success": "passed" | "failed" | "unknown",
     "score": 0..100 | None,
     "total_seconds": float,               # sessions counted so far
     "pending_seconds": float,             # the open session's last reported session_time
     "sessions": int,                      # sessions counted into total_seconds
     "terminated": bool}                   # the last session ended with a terminate commit

Rules worth knowing (docs/packages.md repeats them for editors):

- ``merge``: keys start with ``cmi.`` or ``adl.``; values are strings; elements the LMS
  owns (entry, credit, mode, total_time, learner id/name, launch data, mastery score,
  scaled passing score, completion threshold…) are refused, ``_version``/``_count``/
  ``_children`` keys are ignored. No cap on ``cmi.suspend_data`` (authoring tools write
  70–80 KB) but at most ``MAX_KEYS`` keys and ``MAX_COMMIT_CHARS`` characters a commit.
- time: a session's ``session_time`` (SCORM 1.2 ``HHHH:MM:SS.SS`` or ISO 8601 duration,
  either accepted whatever the standard) is kept as *pending* and added to the SCO's total
  once, when a commit terminates the session, or when a new launch starts while the
  previous session ended without a terminate (``close_sessions``). A ``session_time``
  equal to the one already stored is not a new report (a full-CMI echo after terminate
  does not count twice). Unreadable durations are ignored, not refused.
- status: SCORM 1.2 ``lesson_status`` and score (with the manifest's mastery score in
  credit mode, RTE 3.4.4), SCORM 2004 completion/success (with the completion threshold
  and the scaled passing score, which override the SCO), see ``sco_result``. A SCO's
  completion and a pass never move backwards within an attempt.
- rollup (SCORM 2004 defaults, applied to both standards): ``passed`` when every SCO
  completed and every SCO reporting success passed (at least one); ``completed`` when
  every SCO completed without any verdict; ``failed`` when every SCO completed or
  terminated and one *terminated its session* failed. A failure reported during a session
  is not final: content often lets the learner retry inside the SCO, so the attempt stays
  ``in_progress`` until that SCO terminates with the failure. Progress: completed SCOs /
  SCOs (an asset counts as completed once launched).
- score: SCORM 2004, the Measure Rollup Process of the SN book (RB.1.1) over the
  organisation tree: for each cluster (and the whole package), the sum of weight × score
  of the children that have a score, divided by the sum of the weights of *all* its
  children (``imsss:rollupRules objectiveMeasureWeight``, default 1.0, in
  ``manifest["measure_weights"]``); a child without a score adds its weight to the
  divisor only, so a score is partial until every weighted SCO has reported one; no
  score when no child has one or the weights sum to 0. Every activity counts as tracked
  (``deliveryControls tracked="false"`` is not applied). SCORM 1.2 defines no rollup:
  the mean of the scores the SCOs reported.
- entry on launch: ``ab-initio`` the first time; ``resume`` when the previous exit was
  ``suspend`` or, leniently (many tools never set ``exit``), when the SCO was left without
  a normal exit while incomplete with a location or suspend data; else ``""``.
"""

import math
import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from learning.choices import AttemptStatus, PackageStandard

MAX_KEYS = 5000  # keys in one commit
MAX_KEY_LENGTH = 255
MAX_COMMIT_CHARS = 4 * 1024 * 1024  # keys + values of one commit (the API refuses larger bodies: 413)
MAX_STORED_KEYS = 50000  # keys stored for one SCO (interactions pile up, not without end)
MAX_SESSION_SECONDS = 10 * 366 * 24 * 3600  # beyond this a duration is nonsense: ignored

# Elements the LMS owns (read-only to the SCO), both standards.
READ_ONLY = frozenset(
    {
        # SCORM 1.2
        "cmi.core.student_id", "cmi.core.student_name", "cmi.core.credit", "cmi.core.entry", "cmi.core.total_time",
        "cmi.core.lesson_mode", "cmi.launch_data", "cmi.student_data.mastery_score",
        "cmi.student_data.max_time_allowed", "cmi.student_data.time_limit_action", "cmi.comments_from_lms",
        # SCORM 2004
        "cmi.learner_id", "cmi.learner_name", "cmi.credit", "cmi.entry", "cmi.total_time", "cmi.mode",
        "cmi.scaled_passing_score", "cmi.completion_threshold", "cmi.max_time_allowed", "cmi.time_limit_action",
    }
)
READ_ONLY_PREFIXES = ("cmi.comments_from_lms.",)
IGNORED_SUFFIXES = ("._count", "._children", "._version")
# Written by the SCO but never loaded back into a new session.
WRITE_ONLY = frozenset({"cmi.core.session_time", "cmi.core.exit", "cmi.session_time", "cmi.exit"})
NOT_RELOADED_PREFIXES = ("adl.nav.",)  # a navigation request is for the session that made it

COMPLETED, INCOMPLETE, NOT_ATTEMPTED, UNKNOWN = "completed", "incomplete", "not attempted", "unknown"
PASSED, FAILED = "passed", "failed"

FINISHED_STATUSES = (AttemptStatus.COMPLETED, AttemptStatus.PASSED, AttemptStatus.FAILED)

_KEY = re.compile(r"^(?:cmi|adl)\.[\x21-\x7e]+$")


# --- merge -----------------------------------------------------------------------------------


def _value(key, value):
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and math.isfinite(value):
        return repr(value)
    raise ValidationError({key: _("La valeur doit être une chaîne de caractères ou un nombre.")})


def clean_cmi(incoming):
    """The commit's elements, checked and as strings; ``_count``/``_children``/``_version``
    and the elements the LMS owns (read-only to the SCO) dropped. Raises ``ValidationError``
    naming the first bad key."""
    if not isinstance(incoming, dict):
        raise ValidationError({"cmi": _("Un objet {\"cmi.…\": valeur} est attendu.")})
    if len(incoming) > MAX_KEYS:
        raise ValidationError(
            {"cmi": _("Trop d'éléments dans un envoi : %(max)s au plus.") % {"max": MAX_KEYS}}
        )
    cleaned, size = {}, 0
    for key, value in incoming.items():
        if len(key) > MAX_KEY_LENGTH:
            raise ValidationError({key[:64] + "…": _("Nom d'élément trop long (255 caractères au plus).")})
        if not _KEY.match(key):
            raise ValidationError({key: _("Élément inconnu : le nom doit commencer par « cmi. » ou « adl. ».")})
        if key.endswith(IGNORED_SUFFIXES) or key == "cmi._version":
            continue
        if key in READ_ONLY or key.startswith(READ_ONLY_PREFIXES):
            # The runtime's own rendering of what Parcours set (entry, total_time…): the SCO
            # cannot write these (SetValue refuses), so they are acknowledged and never stored.
            continue
        text = _value(key, value)
        size += len(key) + len(text)
        if size > MAX_COMMIT_CHARS:
            raise ValidationError(
                {"cmi": _("Envoi trop volumineux : %(max)s Mo au plus.") % {"max": MAX_COMMIT_CHARS // (1024 * 1024)}}
            )
        cleaned[key] = text
    return cleaned


def merge(stored, incoming):
    """``stored`` updated with the checked ``incoming`` elements (a new dict)."""
    merged = {**(stored or {}), **clean_cmi(incoming)}
    if len(merged) > MAX_STORED_KEYS:
        raise ValidationError(
            {"cmi": _("Trop d'éléments enregistrés pour ce SCO : %(max)s au plus.") % {"max": MAX_STORED_KEYS}}
        )
    return merged


# --- time ------------------------------------------------------------------------------------

_TIMESPAN_12 = re.compile(r"^(\d{1,6}):([0-5]?\d):([0-5]?\d(?:\.\d{1,6})?)$")
_NUMBER = r"(\d+(?:[.,]\d+)?)"
_DURATION = re.compile(
    rf"^P(?:{_NUMBER}Y)?(?:{_NUMBER}M)?(?:{_NUMBER}W)?(?:{_NUMBER}D)?"
    rf"(?:T(?:{_NUMBER}H)?(?:{_NUMBER}M)?(?:{_NUMBER}S)?)?$"
)
_DURATION_UNITS = (365 * 86400, 30 * 86400, 7 * 86400, 86400, 3600, 60, 1)


def parse_timespan(value):
    """SCORM 1.2 ``CMITimespan`` (``HHHH:MM:SS.SS``) in seconds, or None."""
    match = _TIMESPAN_12.match((value or "").strip())
    if not match:
        return None
    hours, minutes, seconds = match.groups()
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


def parse_duration(value):
    """SCORM 2004 ``timeinterval`` (ISO 8601 duration, ``P1DT2H3M4.5S``) in seconds, or None.
    Years count 365 days and months 30, as the run-time's own arithmetic does."""
    text = (value or "").strip().upper()
    match = _DURATION.match(text)
    if not match or text.endswith("T"):
        return None
    return sum(
        float(part.replace(",", ".")) * unit for part, unit in zip(match.groups(), _DURATION_UNITS, strict=True) if part
    )


def parse_session_time(value):
    """A reported ``session_time`` in seconds, whichever format the SCO used, or None."""
    seconds = parse_timespan(value)
    if seconds is None:
        seconds = parse_duration(value)
    if seconds is None or not math.isfinite(seconds) or seconds < 0 or seconds > MAX_SESSION_SECONDS:
        return None
    return seconds


def format_timespan(seconds):
    """Seconds as a SCORM 1.2 ``CMITimespan`` (``HHHH:MM:SS.SS``, at most 9999 hours)."""
    centis = min(round(max(seconds, 0) * 100), (9999 * 3600 + 3599) * 100 + 99)
    hours, rest = divmod(centis, 360000)
    minutes, rest = divmod(rest, 6000)
    secs, centi = divmod(rest, 100)
    return f"{hours:04d}:{minutes:02d}:{secs:02d}.{centi:02d}"


def format_duration(seconds):
    """Seconds as a SCORM 2004 ``timeinterval`` (``PT1H2M3.5S``)."""
    centis = round(max(seconds, 0) * 100)
    hours, rest = divmod(centis, 360000)
    minutes, rest = divmod(rest, 6000)
    text = "PT"
    if hours:
        text += f"{hours}H"
    if minutes:
        text += f"{minutes}M"
    if rest or text == "PT":
        text += f"{rest / 100:.2f}".rstrip("0").rstrip(".") + "S"
    return text


def session_time_key(standard):
    return "cmi.core.session_time" if standard == PackageStandard.SCORM12 else "cmi.session_time"


# --- one SCO's result ---------------------------------------------------------------------------


def _number(value):
    try:
        number = float(str(value).strip().replace(",", "."))
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _percent(raw, minimum, maximum):
    """A raw score as 0..100: normalised with min/max when both are given, else as is."""
    if raw is None:
        return None
    if minimum is not None and maximum is not None and maximum > minimum:
        value = (raw - minimum) / (maximum - minimum) * 100
    else:
        value = raw
    return round(min(max(value, 0.0), 100.0), 2)


LESSON_STATUS_12 = {
    "passed": (COMPLETED, PASSED),
    "completed": (COMPLETED, UNKNOWN),
    "failed": (COMPLETED, FAILED),  # completed and failed
    "incomplete": (INCOMPLETE, UNKNOWN),
    "browsed": (INCOMPLETE, UNKNOWN),  # seen in browse mode: not a completion
    "not attempted": (NOT_ATTEMPTED, UNKNOWN),
}


def sco_result(standard, cmi, launchable, *, credit=True):
    """``{"completion", "success", "score"}`` of one SCO from its CMI data and manifest item."""
    launchable = launchable or {}
    if standard == PackageStandard.SCORM12:
        status = (cmi.get("cmi.core.lesson_status") or "").strip().lower()
        completion, success = LESSON_STATUS_12.get(status, (NOT_ATTEMPTED, UNKNOWN))
        raw = _number(cmi.get("cmi.core.score.raw"))
        score = _percent(raw, _number(cmi.get("cmi.core.score.min")), _number(cmi.get("cmi.core.score.max")))
        mastery = _number(launchable.get("mastery_score"))
        # RTE 3.4.4: in credit mode, with a mastery score and a raw score, the LMS decides
        # passed/failed when the SCO reports completed or incomplete.
        if credit and mastery is not None and raw is not None and status in ("completed", "incomplete"):
            completion, success = COMPLETED, PASSED if raw >= mastery else FAILED
        return {"completion": completion, "success": success, "score": score}

    completion = (cmi.get("cmi.completion_status") or "").strip().lower() or UNKNOWN
    if completion not in (COMPLETED, INCOMPLETE, NOT_ATTEMPTED, UNKNOWN):
        completion = UNKNOWN
    threshold = _number(launchable.get("completion_threshold"))
    measure = _number(cmi.get("cmi.progress_measure"))
    if threshold is not None and measure is not None:
        completion = COMPLETED if measure >= threshold else INCOMPLETE
    success = (cmi.get("cmi.success_status") or "").strip().lower() or UNKNOWN
    if success not in (PASSED, FAILED, UNKNOWN):
        success = UNKNOWN
    scaled = _number(cmi.get("cmi.score.scaled"))
    passing = _number(launchable.get("scaled_passing_score"))
    if passing is not None and scaled is not None:
        success = PASSED if scaled >= passing else FAILED
    if scaled is not None:
        score = round(min(max(scaled * 100, 0.0), 100.0), 2)
    else:
        score = _percent(
            _number(cmi.get("cmi.score.raw")), _number(cmi.get("cmi.score.min")), _number(cmi.get("cmi.score.max"))
        )
    return {"completion": completion, "success": success, "score": score}


def _kept(previous, result):
    """A SCO's completion and a pass do not move backwards (a review or a relaunch that
    writes "incomplete" again does not undo them)."""
    if not previous:
        return result
    kept = dict(result)
    if previous.get("completion") == COMPLETED:
        kept["completion"] = COMPLETED
    if previous.get("success") == PASSED and result["success"] != PASSED:
        kept["success"] = PASSED
        scores = [s for s in (previous.get("score"), result["score"]) if s is not None]
        kept["score"] = max(scores) if scores else None
    elif result["score"] is None:
        kept["score"] = previous.get("score")
    return kept


# --- the attempt -----------------------------------------------------------------------------


def _measure(nodes, scos, weights):
    total = counted = 0.0
    valid = False
    for node in nodes:
        weight = float(weights.get(node.get("identifier"), 1.0))
        counted += weight
        if node.get("children"):
            measure = _measure(node["children"], scos, weights)
        else:
            measure = (scos.get(node["sco"]) or {}).get("score") if node.get("sco") else None
        if measure is not None:
            total += measure * weight
            valid = True
    return total / counted if valid and counted > 0 else None


def measure_rollup(package, scos):
    """The SCORM 2004 score of an attempt (0..100 or None): the SN book's Measure Rollup
    Process (RB.1.1) applied from the leaves of the organisation tree up to its root, each
    child weighted by its Rollup Objective Measure Weight (see the module doc)."""
    nodes = package.organization or [
        {"identifier": item["identifier"], "sco": item["identifier"], "children": []}
        for item in package.launchables or []
    ]
    return _measure(nodes, scos, (package.manifest or {}).get("measure_weights") or {})


def rollup(package, scos):
    """``(status, score, progress)`` of an attempt from its SCOs' states (see the module doc)."""
    launchables = package.launchables or []
    if not launchables:
        return AttemptStatus.IN_PROGRESS, None, 0.0
    completed = ended = 0
    verdicts, scores, failed_final = [], [], False
    for item in launchables:
        state = scos.get(item["identifier"])
        if item.get("scorm_type") == "asset":
            if state is not None:
                completed += 1
                ended += 1
            continue
        if state is None:
            continue
        done = state.get("completion") == COMPLETED
        completed += done
        ended += done or bool(state.get("terminated"))
        success = state.get("success", UNKNOWN)
        if success in (PASSED, FAILED):
            verdicts.append(success)
        if success == FAILED and state.get("terminated"):
            failed_final = True
        if state.get("score") is not None:
            scores.append(state["score"])
    total = len(launchables)
    progress = round(completed / total, 4)
    if package.standard == PackageStandard.SCORM2004:
        score = measure_rollup(package, scos)
    else:
        score = sum(scores) / len(scores) if scores else None
    score = round(score, 2) if score is not None else None
    if ended == total and failed_final:
        status = AttemptStatus.FAILED
    elif completed == total and not verdicts:
        status = AttemptStatus.COMPLETED
    elif completed == total and all(v == PASSED for v in verdicts):
        status = AttemptStatus.PASSED
    else:
        status = AttemptStatus.IN_PROGRESS
    return status, score, progress


def advance(current_status, current_score, current_progress, rolled):
    """The attempt's next ``(status, score, progress)``: the rollup, except that the status
    never moves backwards (completed may become passed; passed and failed are final) and the
    progress never drops."""
    status, score, progress = rolled
    progress = max(progress, current_progress or 0.0)
    if current_status in (AttemptStatus.PASSED, AttemptStatus.FAILED, AttemptStatus.RESET):
        return current_status, current_score, progress
    if current_status == AttemptStatus.COMPLETED:
        if status == AttemptStatus.PASSED:
            return status, score, progress
        return current_status, score if score is not None else current_score, progress
    return status, score, progress


def is_finished(attempt):
    return attempt.finished_at is not None or attempt.status in (*FINISHED_STATUSES, AttemptStatus.RESET)


def apply_commit(attempt, *, sco, seq, cmi, terminate):
    """Apply one commit to ``attempt`` in memory (``scos``, ``last_seq``, ``total_seconds``,
    ``last_sco``); True when applied. False, with nothing changed, for a replayed or older
    ``seq`` and for a review (a commit to a finished or reset attempt from a session that
    began after it ended). An unknown SCO raises ``ValidationError``."""
    package = attempt.package
    launchable = package.launchable(sco)
    if launchable is None:
        raise ValidationError({"sco": _("SCO inconnu dans ce paquet : « %(sco)s ».") % {"sco": str(sco)[:255]}})
    if seq <= attempt.last_seq:
        return False
    previous = attempt.scos.get(sco)
    if attempt.status == AttemptStatus.RESET:
        return False
    if is_finished(attempt) and (previous is None or previous.get("terminated")):
        return False  # review mode: acknowledged, not stored
    state = dict(previous or {})
    stored = state.get("cmi") or {}
    merged = merge(stored, cmi)
    key = session_time_key(package.standard)
    alternative = "cmi.session_time" if key == "cmi.core.session_time" else "cmi.core.session_time"
    pending = state.get("pending_seconds", 0.0)
    for name in (key, alternative):
        if name in merged and merged[name] != stored.get(name):
            seconds = parse_session_time(merged[name])
            if seconds is not None:
                pending = seconds
    total = state.get("total_seconds", 0.0)
    sessions = state.get("sessions", 0)
    if terminate:
        total += pending
        pending = 0.0
        sessions += 1
    state.update(
        cmi=merged, total_seconds=total, pending_seconds=pending, sessions=sessions, terminated=bool(terminate),
    )
    state.update(_kept(previous, sco_result(package.standard, merged, launchable)))
    attempt.scos = {**attempt.scos, sco: state}
    attempt.total_seconds = round(sum(s.get("total_seconds", 0.0) for s in attempt.scos.values()), 2)
    attempt.last_seq = seq
    attempt.last_sco = sco[:255]
    return True


def close_sessions(attempt):
    """A new launch: sessions left without a terminate are over; their pending time is
    added to the totals (once). Returns True when something changed."""
    changed = False
    scos = {}
    for identifier, state in attempt.scos.items():
        if state.get("pending_seconds"):
            state = {
                **state, "total_seconds": state.get("total_seconds", 0.0) + state["pending_seconds"],
                "pending_seconds": 0.0, "sessions": state.get("sessions", 0) + 1,
            }
            changed = True
        scos[identifier] = state
    if changed:
        attempt.scos = scos
        attempt.total_seconds = round(sum(s.get("total_seconds", 0.0) for s in scos.values()), 2)
    return changed


# --- launch -----------------------------------------------------------------------------------


def entry_for(standard, state):
    """``cmi.entry`` for a new session of a SCO whose stored state is ``state``."""
    if not state:
        return "ab-initio"
    cmi = state.get("cmi") or {}
    v12 = standard == PackageStandard.SCORM12
    exit_value = (cmi.get("cmi.core.exit" if v12 else "cmi.exit") or "").strip().lower()
    if exit_value == "suspend":
        return "resume"
    location = cmi.get("cmi.core.lesson_location" if v12 else "cmi.location")
    if exit_value == "" and state.get("completion") != COMPLETED and (location or cmi.get("cmi.suspend_data")):
        return "resume"  # lenient: many tools never set exit
    return ""


def learner_identity(user):
    """``(id, name)`` given to the SCO: the employee number (or the username) and "Last, First"."""
    from cms.selectors import agent_for_user  # cached on the user for the request

    agent = agent_for_user(user)
    number = agent.employee_number if agent is not None else None
    last, first = (user.last_name or "").strip(), (user.first_name or "").strip()
    name = ", ".join(part for part in (last, first) if part) or user.get_username()
    return number or user.get_username(), name


def launch_cmi(attempt, sco_identifier, user, *, review=None):
    """The flattened CMI to load into the run-time before the SCO starts: what the SCO
    saved (without write-only elements and navigation requests) plus the elements the LMS
    sets. ``review``: defaults to whether the attempt is finished."""
    package = attempt.package
    standard = package.standard
    launchable = package.launchable(sco_identifier) or {}
    state = attempt.scos.get(sco_identifier) or {}
    review = is_finished(attempt) if review is None else review
    data = {
        key: value
        for key, value in (state.get("cmi") or {}).items()
        if key not in WRITE_ONLY and not key.startswith(NOT_RELOADED_PREFIXES)
    }
    learner_id, learner_name = learner_identity(user)
    entry = entry_for(standard, state)
    credit = "no-credit" if review else "credit"
    mode = "review" if review else "normal"
    total = state.get("total_seconds", 0.0)
    if standard == PackageStandard.SCORM12:
        data.setdefault("cmi.core.lesson_status", NOT_ATTEMPTED)
        data.update(
            {
                "cmi.core.student_id": learner_id,
                "cmi.core.student_name": learner_name,
                "cmi.core.entry": entry,
                "cmi.core.credit": credit,
                "cmi.core.lesson_mode": mode,
                "cmi.core.total_time": format_timespan(total),
                "cmi.launch_data": launchable.get("launch_data") or "",
            }
        )
        if launchable.get("mastery_score") not in (None, ""):
            data["cmi.student_data.mastery_score"] = _plain(launchable["mastery_score"])
        if launchable.get("max_time_allowed"):
            data["cmi.student_data.max_time_allowed"] = launchable["max_time_allowed"]
        if launchable.get("time_limit_action"):
            data["cmi.student_data.time_limit_action"] = launchable["time_limit_action"]
        return data
    data.update(
        {
            "cmi.learner_id": learner_id,
            "cmi.learner_name": learner_name,
            "cmi.entry": entry,
            "cmi.credit": credit,
            "cmi.mode": mode,
            "cmi.total_time": format_duration(total),
            "cmi.launch_data": launchable.get("launch_data") or "",
        }
    )
    if launchable.get("scaled_passing_score") not in (None, ""):
        data["cmi.scaled_passing_score"] = _plain(launchable["scaled_passing_score"])
    if launchable.get("completion_threshold") not in (None, ""):
        data["cmi.completion_threshold"] = _plain(launchable["completion_threshold"])
    if launchable.get("max_time_allowed"):
        data["cmi.max_time_allowed"] = launchable["max_time_allowed"]
    if launchable.get("time_limit_action"):
        data["cmi.time_limit_action"] = launchable["time_limit_action"]
    return data


def _plain(value):
    number = _number(value)
    if number is None:
        return str(value)
    return str(int(number)) if number == int(number) else repr(number)


# --- labels --------------------------------------------------------------------------------------


def sco_status_label(state):
    """A French label of one SCO's state, for the table of contents."""
    if not state:
        return _("Non commencé")
    if state.get("success") == PASSED:
        return _("Réussi")
    if state.get("success") == FAILED and (state.get("terminated") or state.get("completion") == COMPLETED):
        return _("Échoué")
    if state.get("completion") == COMPLETED:
        return _("Terminé")
    return _("En cours")
