"""cmi5 ("Quartz") on the LRS side: AU sessions, the fetch URL, the session token, the
session rules checked before statements are stored, and the statements the LMS itself
records (launched, abandoned, waived, satisfied).

The LMS part that knows courses (which AU, which registration, moveOn and satisfaction,
the enrolment) lives in ``learning`` (``learning/packages/cmi5_lms.py`` and the actions);
it calls the functions here and is told of the AU results by a listener
(:func:`register_listener`), called after the transaction that stored them commits.

Refusals: a statement that breaks xAPI gets 400 (``xapi.validation``); one that breaks the
cmi5 session rules gets **403 Forbidden** with the reason (``XAPIForbidden``), as the cmi5
test suites expect. Nothing of the batch is stored then.
"""

import base64
import hashlib
import hmac
import json
import logging
import secrets
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from xapi import identity, validation
from xapi.errors import XAPIForbidden
from xapi.models import Cmi5Session, Statement
from xapi.validation import agent_key, digest

logger = logging.getLogger(__name__)

# --- vocabulary (cmi5 §9.3, §9.6) ------------------------------------------------------------
ADL = "http://adlnet.gov/expapi/verbs/"
LAUNCHED = ADL + "launched"
INITIALIZED = ADL + "initialized"
COMPLETED = ADL + "completed"
PASSED = ADL + "passed"
FAILED = ADL + "failed"
TERMINATED = ADL + "terminated"
ABANDONED = "https://w3id.org/xapi/adl/verbs/abandoned"
WAIVED = "https://w3id.org/xapi/adl/verbs/waived"
SATISFIED = "https://w3id.org/xapi/adl/verbs/satisfied"
AU_VERBS = (INITIALIZED, COMPLETED, PASSED, FAILED, TERMINATED)
VERB_NAMES = {
    LAUNCHED: "launched", INITIALIZED: "initialized", COMPLETED: "completed", PASSED: "passed", FAILED: "failed",
    TERMINATED: "terminated", ABANDONED: "abandoned", WAIVED: "waived", SATISFIED: "satisfied",
}  # fmt: skip

CATEGORY_CMI5 = "https://w3id.org/xapi/cmi5/context/categories/cmi5"
CATEGORY_MOVEON = "https://w3id.org/xapi/cmi5/context/categories/moveon"
EXT = "https://w3id.org/xapi/cmi5/context/extensions/"
EXT_SESSION = EXT + "sessionid"
EXT_MASTERY = EXT + "masteryscore"
EXT_LAUNCH_MODE = EXT + "launchmode"
EXT_LAUNCH_URL = EXT + "launchurl"
EXT_MOVE_ON = EXT + "moveon"
EXT_LAUNCH_PARAMETERS = EXT + "launchparameters"
EXT_REASON = "https://w3id.org/xapi/cmi5/result/extensions/reason"
TYPE_BLOCK = "https://w3id.org/xapi/cmi5/activitytype/block"
TYPE_COURSE = "https://w3id.org/xapi/cmi5/activitytype/course"
LAUNCH_DATA = "LMS.LaunchData"
PREFERENCES = "cmi5LearnerPreferences"

NORMAL, BROWSE, REVIEW = "Normal", "Browse", "Review"
LAUNCH_MODES = (NORMAL, BROWSE, REVIEW)

#: Basic credentials of a session token start with this (an LRS client key never does).
TOKEN_PREFIX = "cmi5-"
AUTHORITY_NAME = "parcours-cmi5"


def session_hours():
    return int(getattr(settings, "XAPI_CMI5_SESSION_HOURS", 12))


def endpoint():
    """The absolute LRS endpoint given to AUs (``<base>/xapi/``)."""
    from cms.links import absolute_url

    return absolute_url(reverse("xapi:statements")).removesuffix("statements")


def fetch_url(session):
    from cms.links import absolute_url

    return absolute_url(reverse("xapi:cmi5_fetch", args=[session.fetch_key]))


def activity_base():
    """Where the LMS-generated cmi5 activity ids live: ``<base>/xapi/activities/cmi5/``."""
    return endpoint() + "activities/cmi5/"


def authority():
    """The authority of the statements AUs record with a session token."""
    return {
        "objectType": "Agent", "name": "Parcours (cmi5)",
        "account": {"homePage": identity.home_page(), "name": AUTHORITY_NAME},
    }  # fmt: skip


# --- listeners --------------------------------------------------------------------------------

_listeners = []


def register_listener(function):
    """``function(events)`` is called after commit with the AU results stored, one event per
    session: ``{"registration", "session_id", "verbs"}`` (the cmi5 defined verbs)."""
    if function not in _listeners:
        _listeners.append(function)


def _dispatch(events):
    for function in list(_listeners):
        try:
            function(events)
        except Exception:  # a listener never turns a stored statement into an error
            logger.exception("cmi5 listener %r failed", function)


# --- sessions ---------------------------------------------------------------------------------


def _context(session, *, grouping=None, moveon=False):
    categories = [{"objectType": "Activity", "id": CATEGORY_CMI5}]
    if moveon:
        categories.append({"objectType": "Activity", "id": CATEGORY_MOVEON})
    return {
        "registration": str(session.registration),
        "contextActivities": {
            "category": categories,
            "grouping": [{"objectType": "Activity", "id": grouping or session.publisher_id}],
        },
        "extensions": {EXT_SESSION: str(session.session_id)},
    }


def context_template(session):
    """The ``contextTemplate`` of ``LMS.LaunchData``: the publisher id in grouping and the session id."""
    return {
        "contextActivities": {"grouping": [{"objectType": "Activity", "id": session.publisher_id}]},
        "extensions": {EXT_SESSION: str(session.session_id)},
    }


def _duration(start, end):
    seconds = max(0.0, (end - start).total_seconds()) if start and end else 0.0
    return f"PT{seconds:.2f}S"


def _store(statements):
    from xapi.services import store_statements

    return store_statements(statements, client=None)


def _lms_statement(session, verb, *, obj=None, result=None, context=None, now=None):
    return {
        "id": str(uuid.uuid4()),
        "actor": session.actor,
        "verb": {"id": verb, "display": {"en-US": VERB_NAMES[verb]}},
        "object": obj or {"objectType": "Activity", "id": session.activity_id},
        **({"result": result} if result else {}),
        "context": context or _context(session),
        "timestamp": validation.format_timestamp(now or timezone.now()),
    }


def abandon_open_sessions(registration, *, now=None, exclude=None):
    """Record ``abandoned`` for the sessions of ``registration`` that ended without
    ``terminated`` (a new launch shows they are over); their tokens then record nothing."""
    now = now or timezone.now()
    sessions = list(
        Cmi5Session.objects.select_for_update()
        .filter(registration=registration, waiver=False, terminated_at=None, abandoned_at=None)
        .exclude(pk=exclude)
        .order_by("launched_at")
    )
    _abandon(sessions, now)
    return sessions


def _abandon(sessions, now):
    """``abandoned`` (§9.3.8) for ``sessions`` (locked rows), in one batch of statements and
    one update whatever their number; the duration runs to the session's last statement."""
    statements = []
    for session in sessions:
        last = session.last_statement_at or session.launched_at
        statements.append(
            _lms_statement(session, ABANDONED, result={"duration": _duration(session.launched_at, last)}, now=now)
        )
        session.abandoned_at = now
    if sessions:
        _store(statements)
        Cmi5Session.objects.bulk_update(sessions, ["abandoned_at"])


def abandon_expired_sessions(*, now=None, batch_size=500):
    """Record ``abandoned`` for every AU session still open (neither terminated nor
    abandoned) past its lifetime (``expires_at`` = launch + ``XAPI_CMI5_SESSION_HOURS``): the
    periodic close of sessions whose AU was closed without ``terminated`` and not launched
    again. By batches of ``batch_size`` sessions (one transaction each, rows locked and
    skipped when another run holds them): idempotent, safe to run twice at once. Returns
    the number of sessions abandoned."""
    now = now or timezone.now()
    total = 0
    while True:
        with transaction.atomic():
            open_expired = Cmi5Session.objects.filter(
                waiver=False, terminated_at=None, abandoned_at=None, expires_at__lte=now
            ).order_by("expires_at", "pk")
            if transaction.get_connection().features.has_select_for_update_skip_locked:
                open_expired = open_expired.select_for_update(skip_locked=True)
            sessions = list(open_expired[:batch_size])
            _abandon(sessions, now)
        total += len(sessions)
        if len(sessions) < batch_size:
            return total


def _write_document(resource, ident, value):
    from xapi import documents
    from xapi.auth import principal_for_client
    from xapi.services import write_document

    write_document(
        getattr(documents, resource), ident, principal=principal_for_client(None), method="PUT",
        content=json.dumps(value, ensure_ascii=False).encode("utf-8"), content_type="application/json",
    )  # fmt: skip


def open_session(
    *, registration, activity_id, publisher_id, actor, launch_mode=NORMAL, move_on="NotApplicable",
    mastery_score=None, launch_parameters="", entitlement_key="", return_url="", launch_url="",
    language_preference="fr-FR,en-US", audio_preference="on", now=None,
):  # fmt: skip
    """A new AU session (called by the LMS inside its launch transaction): abandons the
    registration's sessions left open, writes ``LMS.LaunchData`` (State resource) and, when
    absent, the ``cmi5LearnerPreferences`` agent profile, then records ``launched``."""
    if launch_mode not in LAUNCH_MODES:
        raise ValueError(f"launch mode {launch_mode!r}")
    now = now or timezone.now()
    abandon_open_sessions(registration, now=now)
    session = Cmi5Session.objects.create(
        session_id=uuid.uuid4(), registration=registration, activity_id=activity_id, activity_key=digest(activity_id),
        publisher_id=publisher_id, actor=actor, actor_key=agent_key(actor), launch_mode=launch_mode,
        move_on=move_on, mastery_score=mastery_score, fetch_key=secrets.token_urlsafe(32), launched_at=now,
        expires_at=now + timedelta(hours=session_hours()),
    )  # fmt: skip
    launch_data = {"contextTemplate": context_template(session), "launchMode": launch_mode, "moveOn": move_on}
    if mastery_score is not None:
        launch_data["masteryScore"] = mastery_score
    if return_url:
        launch_data["returnURL"] = return_url
    if launch_parameters:
        launch_data["launchParameters"] = launch_parameters
    if entitlement_key:
        launch_data["entitlementKey"] = {"courseStructure": entitlement_key}
    state = {"activityId": activity_id, "agent": actor, "registration": str(registration), "doc_id": LAUNCH_DATA}
    _write_document("STATE", state, launch_data)
    from xapi.models import AgentProfileDocument

    if not AgentProfileDocument.objects.filter(agent_key=session.actor_key, doc_key=digest(PREFERENCES)).exists():
        _write_document(
            "AGENT_PROFILE", {"agent": actor, "doc_id": PREFERENCES},
            {"languagePreference": language_preference, "audioPreference": audio_preference},
        )  # fmt: skip
    extensions = {EXT_SESSION: str(session.session_id), EXT_LAUNCH_MODE: launch_mode, EXT_MOVE_ON: move_on}
    if launch_url:
        extensions[EXT_LAUNCH_URL] = launch_url
    if mastery_score is not None:
        extensions[EXT_MASTERY] = mastery_score
    if launch_parameters:
        extensions[EXT_LAUNCH_PARAMETERS] = launch_parameters
    context = _context(session)
    context["extensions"] = extensions
    _store([_lms_statement(session, LAUNCHED, context=context, now=now)])
    return session


def launch_parameters(session):
    """The cmi5 launch query parameters (§8.1): endpoint, fetch, actor, registration, activityId."""
    return {
        "endpoint": endpoint(),
        "fetch": fetch_url(session),
        "actor": json.dumps(session.actor, separators=(",", ":")),
        "registration": str(session.registration),
        "activityId": session.activity_id,
    }


def record_waiver(*, registration, activity_id, publisher_id, actor, reason, now=None):
    """``waived`` (§9.3.7) in a session of its own (no other statement but ``satisfied`` uses
    it); returns the session."""
    now = now or timezone.now()
    session = Cmi5Session.objects.create(
        session_id=uuid.uuid4(), registration=registration, activity_id=activity_id, activity_key=digest(activity_id),
        publisher_id=publisher_id, actor=actor, actor_key=agent_key(actor), fetch_key=secrets.token_urlsafe(32),
        launched_at=now, expires_at=now, waiver=True, verbs=["waived"],
    )  # fmt: skip
    result = {"success": True, "completion": True, "extensions": {EXT_REASON: reason}}
    _store([_lms_statement(session, WAIVED, result=result, context=_context(session, moveon=True), now=now)])
    return session


def record_satisfied(*, actor, registration, session_id, object_id, activity_type, publisher_id, now=None):
    """``satisfied`` (§9.3.9) for a block or the course, by the LMS."""
    session = Cmi5Session(
        session_id=session_id, registration=registration, activity_id=object_id, publisher_id=publisher_id, actor=actor
    )
    obj = {"objectType": "Activity", "id": object_id, "definition": {"type": activity_type}}
    return _store([_lms_statement(session, SATISFIED, obj=obj, now=now)])[0]


def registration_results(registration, activity_keys):
    """``{activity key: {"completed", "passed", "failed", "waived", "score"}}`` from the
    statements of ``registration`` recorded in its cmi5 sessions (one query each for the
    sessions and the statements), whatever their number."""
    sessions = {
        str(sid) for sid in Cmi5Session.objects.filter(registration=registration).values_list("session_id", flat=True)
    }
    verbs = {
        digest(COMPLETED): "completed",
        digest(PASSED): "passed",
        digest(FAILED): "failed",
        digest(WAIVED): "waived",
    }
    rows = Statement.objects.filter(
        registration=registration, voided=False, verb_key__in=list(verbs), object_activity_key__in=list(activity_keys)
    ).values_list("object_activity_key", "verb_key", "data")
    found = {}
    for activity, verb, data in rows:
        extensions = (data.get("context") or {}).get("extensions") or {}
        if str(extensions.get(EXT_SESSION, "")).lower() not in sessions:
            continue  # not recorded in one of this registration's sessions
        facts = found.setdefault(activity, {"completed": False, "passed": False, "failed": False, "waived": False,
                                            "score": None})  # fmt: skip
        facts[verbs[verb]] = True
        scaled = ((data.get("result") or {}).get("score") or {}).get("scaled")
        if verbs[verb] == "passed" and isinstance(scaled, (int, float)):
            facts["score"] = max(facts["score"] or 0.0, float(scaled))
    return found


# --- fetch URL and session tokens (§8.2) ------------------------------------------------------


def _hash(secret):
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def fetch_token(fetch_key, *, now=None):
    """The fetch URL's answer: ``(200, {"auth-token": …})`` the first time, then
    ``{"error-code": "1", …}``; unknown or expired links get error 2 (security)."""
    now = now or timezone.now()
    with transaction.atomic():
        session = (
            Cmi5Session.objects.select_for_update().filter(fetch_key=fetch_key, waiver=False).first()
            if isinstance(fetch_key, str) and 16 <= len(fetch_key) <= 64
            else None
        )
        if session is None or session.expires_at <= now or session.abandoned_at:
            return {"error-code": "2", "error-text": "Lien de récupération inconnu ou expiré (General Security Error)."}
        if session.fetched_at is not None:
            return {"error-code": "1", "error-text": "Ce lien a déjà servi : le jeton n'est délivré qu'une fois "
                                                     "(Already in use)."}  # fmt: skip
        key = TOKEN_PREFIX + secrets.token_hex(12)
        secret = secrets.token_urlsafe(32)
        session.token_key, session.token_hash, session.fetched_at = key, _hash(secret), now
        session.save(update_fields=["token_key", "token_hash", "fetched_at"])
    return {"auth-token": base64.b64encode(f"{key}:{secret}".encode()).decode("ascii")}


def session_for_token(key, secret, *, now=None):
    """The session of a Basic credential ``key:secret`` from the fetch URL, or None (unknown,
    wrong secret, expired)."""
    session = Cmi5Session.objects.filter(token_key=key).first() if len(key) <= 64 else None
    if session is None or not session.token_hash or not hmac.compare_digest(session.token_hash, _hash(secret)):
        return None
    if session.expires_at <= (now or timezone.now()):
        return None
    return session


# --- the session rules (§9.3, §9.5, §9.6, §10) ---------------------------------------------------


def _activity_ids(items):
    return {item.get("id") for item in (items if isinstance(items, list) else [items]) if isinstance(item, dict)}


class _Checker:
    """The rules for one session, applied statement after statement (in batch order) on the
    locked session row."""

    def __init__(self, session):
        self.session = session
        self.prior = None  # {"completed", "passed", "failed"} recorded before in the registration
        self.verbs = []

    def registration_verbs(self):
        if self.prior is None:
            keys = {digest(COMPLETED): "completed", digest(PASSED): "passed", digest(FAILED): "failed"}
            self.prior = {
                keys[key]
                for key in Statement.objects.filter(
                    registration=self.session.registration, object_activity_key=self.session.activity_key,
                    verb_key__in=list(keys), voided=False,
                ).values_list("verb_key", flat=True)
            }  # fmt: skip
        return self.prior

    def check(self, data, path, now):
        session, verb = self.session, data["verb"]["id"]

        def forbid(reason):
            raise XAPIForbidden(f"{path}: cmi5: {reason}")

        if session.abandoned_at:
            forbid("this AU session was abandoned (a new launch ended it): nothing more may be recorded in it")
        if session.terminated_at:
            forbid("the session is terminated: no statement may follow terminated")
        if session.expires_at <= now:
            forbid("the session has expired")
        if verb == validation.VOIDED_VERB:
            forbid("an AU may not void statements")
        if agent_key(data["actor"]) != session.actor_key or data["actor"].get("objectType", "Agent") != "Agent":
            forbid("actor must be the launch actor (an Agent)")
        context = data.get("context") or {}
        if str(context.get("registration", "")).lower() != str(session.registration):
            forbid("context.registration must be the registration given at launch")
        extensions = context.get("extensions") or {}
        if str(extensions.get(EXT_SESSION, "")).lower() != str(session.session_id):
            forbid(f"context.extensions must carry the session id of the launch ({EXT_SESSION})")
        activities = context.get("contextActivities") or {}
        categories = _activity_ids(activities.get("category", []))
        obj = data["object"]
        about_au = obj.get("objectType", "Activity") == "Activity" and obj.get("id") == session.activity_id
        defined = CATEGORY_CMI5 in categories or (verb in AU_VERBS and about_au)
        if not session.initialized_at and not (defined and verb == INITIALIZED):
            forbid("the first statement of a session must be the cmi5 initialized statement")
        if not defined:
            if CATEGORY_MOVEON in categories:
                forbid("only cmi5 defined statements with success or completion carry the moveon category")
            return
        self._defined(data, verb, categories, activities, about_au, forbid)

    def _defined(self, data, verb, categories, activities, about_au, forbid):
        session = self.session
        if verb not in AU_VERBS:
            forbid("the cmi5 category is for the AU verbs initialized, completed, passed, failed and terminated")
        if not about_au:
            forbid("object.id of a cmi5 defined statement must be the activityId given at launch")
        if CATEGORY_CMI5 not in categories:
            forbid(f"a cmi5 defined statement carries the category {CATEGORY_CMI5}")
        if session.publisher_id not in _activity_ids(activities.get("grouping", [])):
            forbid("context.contextActivities.grouping must hold the publisher id of LMS.LaunchData's contextTemplate")
        result = data.get("result") or {}
        score = result.get("score")
        if score is not None and verb not in (PASSED, FAILED):
            forbid("only passed and failed statements carry a score")
        if score is not None and "raw" in score and not ("min" in score and "max" in score):
            forbid("result.score.raw needs result.score.min and result.score.max")
        if verb == PASSED and result.get("success") is not True:
            forbid("passed needs result.success true")
        if verb == FAILED and result.get("success") is not False:
            forbid("failed needs result.success false")
        if verb not in (PASSED, FAILED) and "success" in result:
            forbid("only passed and failed statements carry result.success")
        if verb == COMPLETED and result.get("completion") is not True:
            forbid("completed needs result.completion true")
        if verb != COMPLETED and "completion" in result:
            forbid("only completed statements carry result.completion")
        has_moveon = CATEGORY_MOVEON in categories
        if ("success" in result or "completion" in result) != has_moveon:
            forbid(f"the category {CATEGORY_MOVEON} goes with, and only with, result.success or result.completion")
        if verb in (TERMINATED, COMPLETED, PASSED, FAILED) and "duration" not in result:
            forbid(f"{VERB_NAMES[verb]} needs result.duration")
        if verb == INITIALIZED and "initialized" in self.session.verbs:
            forbid("initialized is sent once per session")
        if verb in (COMPLETED, PASSED, FAILED):
            if session.launch_mode != NORMAL:
                forbid(f"{VERB_NAMES[verb]} is not allowed in {session.launch_mode} launch mode (Normal only)")
            scaled = (score or {}).get("scaled")
            mastery = session.mastery_score
            if mastery is not None and isinstance(scaled, (int, float)):
                if verb == PASSED and scaled < mastery:
                    forbid(f"passed with a scaled score below the mastery score {mastery}")
                if verb == FAILED and scaled >= mastery:
                    forbid(f"failed with a scaled score at or above the mastery score {mastery}")
            prior = self.registration_verbs()
            if verb == COMPLETED and "completed" in prior:
                forbid("completed is recorded once per registration")
            if verb == PASSED and "passed" in prior:
                forbid("passed is recorded once per registration")
            if verb == FAILED and "passed" in prior:
                forbid("failed may not follow passed in a registration")
            if verb in (PASSED, FAILED) and {"passed", "failed"} & set(session.verbs):
                forbid("one passed or failed statement per session")
            prior.add(VERB_NAMES[verb])
        session.verbs = [*session.verbs, VERB_NAMES[verb]]
        self.verbs.append(VERB_NAMES[verb])

    def after(self, data, now):
        verb = data["verb"]["id"]
        session = self.session
        session.last_statement_at = now
        if verb == INITIALIZED and session.initialized_at is None and "initialized" in session.verbs:
            session.initialized_at = now
        if verb == TERMINATED and "terminated" in session.verbs:
            session.terminated_at = now


def _session_id_of(data):
    extensions = ((data.get("context") or {}).get("extensions")) or {}
    value = extensions.get(EXT_SESSION)
    return str(value).lower() if isinstance(value, str) and validation.is_uuid(value) else None


def check_statements(principal, rows, paths):
    """Apply the session rules to the statements about to be stored (``rows``, unsaved
    ``Statement``s): those sent with a session token, and those of any other caller that
    name a cmi5 session (its session id extension). Parcours' own statements are not
    checked. Raises ``XAPIForbidden``; on success updates the sessions (locked) and, after
    commit, tells the listeners of the AU results."""
    if principal.client is None and principal.user is None and principal.cmi5_session is None:
        return  # Parcours itself (the LMS statements)
    own = principal.cmi5_session
    wanted = {sid for row in rows if (sid := _session_id_of(row.data))} if own is None else set()
    if own is None and not wanted:
        return
    now = timezone.now()
    if own is not None:
        sessions = {str(own.session_id): Cmi5Session.objects.select_for_update().get(pk=own.pk)}
    else:
        sessions = {
            str(s.session_id): s for s in Cmi5Session.objects.select_for_update().filter(session_id__in=list(wanted))
        }
    checkers = {}
    for row, path in zip(rows, paths, strict=True):
        if own is not None:
            session = next(iter(sessions.values()))
        else:
            session = sessions.get(_session_id_of(row.data) or "")
            if session is None:
                continue  # not a cmi5 session of this LMS: an ordinary statement
            if session.waiver:
                raise XAPIForbidden(f"{path}: cmi5: a waiver's session takes no statement")
        checker = checkers.setdefault(session.pk, _Checker(session))
        checker.check(row.data, path, now)
        checker.after(row.data, now)
    events = []
    for checker in checkers.values():
        session = checker.session
        session.save(update_fields=["verbs", "initialized_at", "terminated_at", "last_statement_at"])
        if {"completed", "passed", "failed"} & set(checker.verbs):
            events.append(
                {"registration": str(session.registration), "session_id": str(session.session_id),
                 "verbs": list(checker.verbs)}
            )  # fmt: skip
    if events:
        transaction.on_commit(lambda: _dispatch(events))


def check_document_write(principal, resource, ident):
    """An AU may not modify or delete ``LMS.LaunchData`` (§10)."""
    is_state = getattr(resource, "id_param", "") == "stateId"
    if principal.cmi5_session is not None and is_state and ident.get("doc_id") in (LAUNCH_DATA, None):
        raise XAPIForbidden("cmi5: the AU may not modify or delete LMS.LaunchData")
