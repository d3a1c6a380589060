"""Every write of the learning app. Status changes go through learning/actions.py (the
declared transitions, an ``EnrollmentEvent`` per change); these functions are the entry
points the views, the API, the admin, tasks and other apps call.

Progress, score and status are stored on the enrolment and updated by the actions, so
that no report ever recomputes completion row by row.
"""

from urllib.parse import quote, urlencode

from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.http import Http404
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from cms import bulksql
from cms import selectors as cms_selectors
from cms.exceptions import Conflict
from cms.models import Agent
from learning import actions, permissions
from learning.choices import OPEN_STATUSES, EnrollmentSource, EventSource, PackageStandard
from learning.models import (
    Assignment,
    CoursePage,
    Enrollment,
    EnrollmentEvent,
    LessonPage,
    PackageAttempt,
    PackageStepPage,
    QuizPage,
)
from learning.packages import runtime

BATCH = actions.BATCH


def enroll(*, agent, course, source=EnrollmentSource.SELF, due_at=None, assignment=None, actor=None):
    """Open an enrolment, or return the open one (idempotent): ``(enrollment, created)``.
    One open per course. Also called by appraisal (training needs)."""
    return actions.open_cycle(
        agent_id=agent.pk, course_id=course.pk, source=source, due_at=due_at,
        assignment_id=assignment.pk if assignment is not None else None,
        event_source=actions.OPENED_BY.get(source, EventSource.SELF), actor=actor,
    )


def self_enroll(*, user, course):
    agent = permissions.learner_agent(user)
    if not course.live:
        raise ValidationError({"course": _("Cette formation n'est pas publiée.")})
    open_enrollment = Enrollment.objects.filter(agent=agent, course=course, status__in=OPEN_STATUSES).first()
    if open_enrollment is not None:
        return open_enrollment, False
    latest = Enrollment.objects.filter(agent=agent, course=course).order_by("-cycle").only("status").first()
    if latest is not None and latest.status not in actions.TRANSITIONS.sources_of("renew"):
        raise Conflict(
            _("Le nombre maximal de tentatives a été atteint : une nouvelle inscription doit être accordée par votre "
              "responsable ou les ressources humaines.")
        )
    permissions.check_self_enroll(course)
    return enroll(agent=agent, course=course, source=EnrollmentSource.SELF, actor=user)


def grant_new_cycle(*, actor, enrollment, due_at=None):
    """After a failure, HR or the agent's manager opens a new cycle with fresh attempts."""
    action = actions.GrantNewCycle(enrollment, user=actor, due_at=due_at)
    action.execute()
    return action.new_enrollment


def _enrollment_for_step(user, step):
    """The agent's open enrolment in the step's course, self-enrolling where allowed."""
    agent = permissions.learner_agent(user)
    course = CoursePage.objects.get(pk=step.get_parent().pk)
    enrollment = Enrollment.objects.filter(agent=agent, course=course, status__in=OPEN_STATUSES).first()
    if enrollment is None:
        enrollment, _created = self_enroll(user=user, course=course)
    return enrollment


def open_step(*, user, step):
    """Record the step an enrolled agent opens (to resume there) and start the enrolment.

    Viewing never enrols: without an open enrolment nothing is written and None is returned.
    """
    agent = cms_selectors.agent_for_user(user)
    if agent is None:
        return None
    enrollment = Enrollment.objects.filter(agent=agent, course_id=step.get_parent().pk, status__in=OPEN_STATUSES).first()
    if enrollment is None:
        return None
    if enrollment.last_step_id == step.pk and enrollment.status not in actions.TRANSITIONS.sources_of("start"):
        return enrollment
    return actions.OpenStep(enrollment, user=user, step=step).execute()


@transaction.atomic
def complete_lesson(*, user, lesson):
    if not isinstance(lesson, LessonPage) or not lesson.live:
        raise ValidationError({"lesson": _("Cette leçon n'existe pas ou n'est pas publiée.")})
    enrollment = _enrollment_for_step(user, lesson)
    return actions.CompleteLesson(enrollment, user=user, step=lesson).execute()


@transaction.atomic
def submit_quiz(*, user, quiz, answers):
    """Grade a submission on the server: ``(attempt, enrollment)``."""
    if not isinstance(quiz, QuizPage) or not quiz.live:
        raise ValidationError({"quiz": _("Ce quiz n'existe pas ou n'est pas publié.")})
    enrollment = _enrollment_for_step(user, quiz)
    action = actions.SubmitQuiz(enrollment, user=user, step=quiz, params={"answers": answers})
    enrollment = action.execute()
    return action.result, enrollment


# --- assignments -----------------------------------------------------------------


def assignment_targets(assignment):
    """Active agents of the assignment's subtree (and categories) without an open enrolment."""
    agents = Agent.objects.filter(active=True, org_unit__path__startswith=assignment.org_unit.path)
    if assignment.categories:
        agents = agents.filter(category__in=assignment.categories)
    return agents.exclude(
        pk__in=Enrollment.objects.filter(course_id=assignment.course_id, status__in=OPEN_STATUSES).values("agent_id")
    )


def _bulk_enroll(assignment, agents, *, now, source=EventSource.ASSIGNMENT, progress=None):
    """Open a cycle of the assignment's course for ``agents`` (a queryset of agents, or a
    list of agent ids) in the database (``actions.OpenAssignedCycles``); returns how many."""
    if isinstance(agents, models.QuerySet):
        return actions.OpenAssignedCycles(assignment, agents, source=source, now=now).execute(progress)
    ids, total = list(agents), 0
    with transaction.atomic():
        for start in range(0, len(ids), BATCH):  # stay below SQLite's parameter limit
            chunk = Agent.objects.filter(pk__in=ids[start : start + BATCH])
            total += actions.OpenAssignedCycles(assignment, chunk, source=source, now=now).execute()
    if progress:
        progress(total, total)
    return total


@transaction.atomic
def create_assignment(*, course, org_unit, due_in_days, categories=(), recurring=True, created_by=None):
    if due_in_days < 1:
        raise ValidationError({"due_in_days": _("L'échéance doit être d'au moins un jour.")})
    bad = sorted(set(categories) - {"A", "B", "C"})
    if bad:
        raise ValidationError({"categories": _("Catégories inconnues : %(c)s.") % {"c": ", ".join(bad)}})
    return Assignment.objects.create(
        course=course,
        org_unit=org_unit,
        due_in_days=due_in_days,
        categories=sorted(categories),
        recurring=recurring,
        created_by=created_by,
    )


def apply_assignment(*, assignment, now=None, progress=None):
    """Enrol every target agent in bulk, in the database (run as a task for large
    subtrees); ``ANALYZE`` of the enrolment tables afterwards on PostgreSQL."""
    now = now or timezone.now()
    with transaction.atomic():
        created = _bulk_enroll(assignment, assignment_targets(assignment), now=now, progress=progress)
        if created:
            bulksql.analyze(Enrollment, EnrollmentEvent)
    return created


def assign_newcomers(created_agent_ids, updated_agent_ids=(), *, now=None):
    """Import listener: apply active assignments to agents who just arrived (or moved)."""
    now = now or timezone.now()
    ids = set(created_agent_ids) | set(updated_agent_ids)
    if not ids:
        return 0
    total = 0
    for assignment in Assignment.objects.filter(active=True).select_related("org_unit"):
        agent_ids = []
        for start in range(0, len(ids), BATCH):  # stay below SQLite's parameter limit
            chunk = list(ids)[start : start + BATCH]
            agent_ids += list(assignment_targets(assignment).filter(pk__in=chunk).values_list("pk", flat=True))
        total += _bulk_enroll(assignment, agent_ids, now=now, source=EventSource.IMPORT)
    return total


# --- expiry and recertification ------------------------------------------------------


def expire_enrollments(*, now=None):
    """``completed → expired`` at ``expires_at``; each expiry opens the next cycle (bulk)."""
    return actions.ExpireEnrollments(now=now).execute()


# --- package steps (SCORM) -----------------------------------------------------------
#
# The player page loads ``player_context``; the run-time commits through
# ``commit_package`` (API, session + CSRF) and, when the page goes away, through
# ``beacon_commit`` (``navigator.sendBeacon`` to ``beacon_url(attempt)``: no CSRF header
# is possible there, so a signed one-time token authenticates it).

BEACON_SALT = "learning.package-attempt.beacon"
BEACON_MAX_AGE = 12 * 3600  # seconds: a long session, not a standing credential
MAX_SEQ = 2**63 - 1


def _reverse_or(name, fallback, **kwargs):
    """``reverse(name)``, or the documented path when the URL is not mounted (tests of one app)."""
    try:
        return reverse(name, kwargs=kwargs)
    except NoReverseMatch:
        return fallback


def player_url(attempt_id, sco=None):
    url = _reverse_or(
        "learning:package_player", f"/formation/paquets/tentatives/{int(attempt_id)}/", attempt_id=attempt_id
    )
    return f"{url}?{urlencode({'sco': sco})}" if sco else url


def content_url(package, href):
    """Same-origin URL of a file of ``package`` (``href`` may carry the item's parameters)."""
    path, sep, query = (href or "").partition("?")
    path, hash_sep, fragment = path.partition("#")
    path = path.lstrip("/")
    url = _reverse_or(
        "learning:package_content", f"/formation/paquets/{package.uuid}/{quote(path)}",
        package_uuid=package.uuid, path=path,
    )
    return url + (sep + query if query else "") + (hash_sep + fragment if fragment else "")


def beacon_token(attempt):
    """A signed token naming the attempt, its owner and the attempt's current nonce."""
    return signing.dumps(
        {"a": attempt.pk, "u": attempt.enrollment.agent.user_id, "n": attempt.beacon_nonce},
        salt=BEACON_SALT, compress=True,
    )


def beacon_url(attempt):
    """The one-time URL the terminate beacon posts to (valid ``BEACON_MAX_AGE``, once)."""
    base = _reverse_or(
        "api-package-beacon", f"/api/v1/me/package-attempts/{attempt.pk}/beacon/", attempt_id=attempt.pk
    )
    return f"{base}?{urlencode({'token': beacon_token(attempt)})}"


def _attempts():
    return PackageAttempt.objects.select_related("package", "step", "enrollment__agent")


def own_attempt(user, attempt_id, *, attempt=None):
    """The caller's own package attempt, or ``Http404`` (someone else's does not exist for them).
    ``attempt``: that attempt already read by the caller (with ``_attempts()``), checked again
    without a query."""
    agent = cms_selectors.agent_for_user(user)
    if attempt is None or attempt.pk != attempt_id:
        attempt = _attempts().filter(pk=attempt_id).first() if agent is not None else None
    if attempt is None or agent is None or attempt.enrollment.agent_id != agent.pk:
        raise Http404(_("Tentative introuvable."))
    return attempt


def clean_commit(data):
    """The commit body checked: ``{"sco", "seq", "cmi", "terminate"}``, or ``ValidationError``
    naming the field (the ``cmi`` elements are checked by ``runtime.merge``)."""
    if not isinstance(data, dict):
        raise ValidationError({"non_field_errors": _("Un objet JSON {sco, seq, cmi, terminate} est attendu.")})
    errors = {}
    sco = data.get("sco")
    if not isinstance(sco, str) or not sco.strip():
        errors["sco"] = _("Identifiant de SCO (chaîne) obligatoire.")
    elif len(sco) > 255:
        errors["sco"] = _("Identifiant de SCO trop long (255 caractères au plus).")
    seq = data.get("seq")
    if isinstance(seq, bool) or not isinstance(seq, int) or not 1 <= seq <= MAX_SEQ:
        errors["seq"] = _("Numéro d'envoi entier strictement positif attendu.")
    cmi = data.get("cmi", {})
    if not isinstance(cmi, dict):
        errors["cmi"] = _("Un objet {\"cmi.…\": valeur} est attendu.")
    terminate = data.get("terminate", False)
    if not isinstance(terminate, bool):
        errors["terminate"] = _("Booléen attendu (true ou false).")
    if errors:
        raise ValidationError(errors)
    runtime.clean_cmi(cmi)  # refuses before the enrolment row is locked
    return {"sco": sco, "seq": seq, "cmi": cmi, "terminate": terminate}


@transaction.atomic
def launch_package(*, user, step, au=None, mode=None):
    """The attempt to play on a package step (self-enrolling where the course allows it):
    the open one, a new one when the step's policy allows it, else the finished one (review).

    A cmi5 step launches an AU (``au``: its id in the course structure, default the next AU
    not done): the attempt is the enrolment's cmi5 registration and carries ``launch_url``,
    the AU's URL with the cmi5 launch parameters (one new session per launch); ``mode``
    ``browse`` launches it in cmi5 Browse mode where the step allows it (no result recorded)."""
    if not isinstance(step, PackageStepPage) or not step.live:
        raise ValidationError({"step": _("Ce module n'existe pas ou n'est pas publié.")})
    enrollment = _enrollment_for_step(user, step)
    if step.package is not None and step.package.standard == PackageStandard.CMI5:
        action = actions.LaunchAU(enrollment, user=user, step=step, au=au, mode=mode)
        action.execute()
        attempt = action.attempt
        attempt.launch_url = action.launch_url
        return attempt
    if mode not in (None, actions.LAUNCH_NORMAL):
        raise ValidationError({"mode": _("Le mode « browse » n'existe que pour les cours cmi5.")})
    action = actions.StartPackageAttempt(enrollment, user=user, step=step)
    action.execute()
    return action.attempt


def launch_url(attempt):
    """The absolute URL that plays ``attempt``: the cmi5 AU launch URL set by
    ``launch_package``, else the SCORM player's page."""
    from cms.links import absolute_url

    return getattr(attempt, "launch_url", None) or absolute_url(player_url(attempt.pk))


def record_cmi5_results(events):
    """The ``xapi.cmi5`` listener: AU results (completed, passed, failed) were stored in
    sessions of these registrations; each registration's state, ``satisfied`` statements
    and enrolment are refreshed (``RecordCmi5Results``). Registered in learning/apps.py."""
    registrations = {event["registration"]: event.get("session_id") for event in events}
    attempts = PackageAttempt.objects.filter(registration__in=list(registrations)).select_related(
        "step", "enrollment__agent__user"
    )
    for attempt in attempts:
        action = actions.RecordCmi5Results(
            attempt.enrollment_id, user=attempt.enrollment.agent.user, step=attempt.step, attempt_id=attempt.pk,
            session_id=registrations[str(attempt.registration)],
        )  # fmt: skip
        action.execute()


def waive_au(*, actor, enrollment, step, au, reason):
    """HR waives an AU of a cmi5 step for one enrolment (``waived`` with the reason)."""
    action = actions.WaiveAU(enrollment, user=actor, step=step, au=au, reason=reason)
    action.execute()
    return action.attempt


def _commit(attempt, *, user, params):
    agent = attempt.enrollment.agent  # read with the attempt: the beacon token names its user
    action = actions.CommitPackage(attempt.enrollment_id, user=user, step=attempt.step, attempt_id=attempt.pk,
                                   params=params)
    enrollment = action.execute()
    enrollment.agent = agent  # the locked row the action re-read comes without it
    attempt = action.attempt
    attempt.enrollment = enrollment
    return {
        "applied": action.applied,
        "last_seq": attempt.last_seq,
        "attempt": {"id": attempt.pk, "status": attempt.status, "score": attempt.score, "progress": attempt.progress},
        "enrollment": {"status": enrollment.status, "progress": enrollment.progress, "score": enrollment.score},
        "beacon_url": beacon_url(attempt),
    }


def commit_package(*, user, attempt_id, data, attempt=None):
    """A commit of the run-time by the attempt's owner: the commit response (see the API).
    ``attempt``: the attempt ``attempt_detail`` gave the caller (not read again)."""
    attempt = own_attempt(user, attempt_id, attempt=attempt)
    params = clean_commit(data)
    return _commit(attempt, user=user, params=params)


def check_beacon_token(*, attempt_id, token):
    """``(attempt, nonce)`` for a valid token naming this attempt and its owner, else
    ``PermissionDenied`` (forged, expired, another attempt's, another user's)."""
    denied = PermissionDenied(_("Lien d'envoi invalide ou expiré."))
    try:
        payload = signing.loads(str(token or ""), salt=BEACON_SALT, max_age=BEACON_MAX_AGE)
    except (signing.BadSignature, ValueError, TypeError):
        raise denied from None
    if not isinstance(payload, dict) or payload.get("a") != attempt_id or not payload.get("n"):
        raise denied
    attempt = _attempts().select_related("enrollment__agent__user").filter(pk=attempt_id).first()
    if attempt is None or attempt.enrollment.agent.user_id != payload.get("u"):
        raise denied
    return attempt, str(payload["n"])


def beacon_commit(*, attempt_id, token, data):
    """The terminate beacon's commit, authenticated by its one-time token (``beacon_url``):
    the nonce is checked and rotated on the locked rows, so a reused token gets 403."""
    attempt, nonce = check_beacon_token(attempt_id=attempt_id, token=token)
    params = clean_commit(data)
    with transaction.atomic():
        return _commit(attempt, user=attempt.enrollment.agent.user, params={**params, "nonce": nonce})


def reset_package_attempt(*, actor, attempt):
    """HR voids an attempt (logged); the agent's next launch opens a fresh one."""
    action = actions.ResetPackageAttempt(attempt.enrollment_id, user=actor, attempt=attempt)
    action.execute()
    return action.attempt


def _flow_neighbours(package, identifier, attempt_id):
    ids = [item["identifier"] for item in package.launchables]
    if identifier not in ids:
        return None, None
    index = ids.index(identifier)
    previous = player_url(attempt_id, ids[index - 1]) if index > 0 else None
    following = player_url(attempt_id, ids[index + 1]) if index + 1 < len(ids) else None
    return previous, following


def _toc(nodes, attempt, current):
    return [
        {
            "identifier": node.get("identifier", ""),
            "title": node.get("title", ""),
            "sco": node.get("sco"),
            "url": player_url(attempt.pk, node["sco"]) if node.get("sco") else None,
            "status": runtime.sco_status_label(attempt.scos.get(node["sco"])) if node.get("sco") else "",
            "current": bool(node.get("sco")) and node.get("sco") == current,
            "children": _toc(node.get("children") or [], attempt, current),
        }
        for node in nodes
    ]


def _default_sco(attempt):
    launchables = attempt.package.launchables or []
    last = attempt.package.launchable(attempt.last_sco) if attempt.last_sco else None
    if last is not None:
        state = attempt.scos.get(last["identifier"]) or {}
        if not (state.get("completion") == runtime.COMPLETED and state.get("terminated")):
            return last
    for item in launchables:
        if (attempt.scos.get(item["identifier"]) or {}).get("completion") != runtime.COMPLETED:
            return item
    return launchables[0] if launchables else None


def player_context(*, user, attempt_id, sco=None):
    """What the player page needs to play ``sco`` (default: where the learner stopped) of
    the caller's attempt; ``Http404`` for someone else's attempt or an unknown SCO. The
    attempt plays the package version it began with."""
    attempt = own_attempt(user, attempt_id)
    package = attempt.package
    item = package.launchable(sco) if sco else _default_sco(attempt)
    if item is None:
        raise Http404(_("Ce SCO n'existe pas dans ce paquet."))
    step = attempt.step
    review = runtime.is_finished(attempt) or attempt.enrollment.status not in OPEN_STATUSES
    previous_url, next_url = _flow_neighbours(package, item["identifier"], attempt.pk)
    return {
        "attempt": attempt,
        "step": step,
        "course": step.get_parent().specific,
        "package": package,
        "standard": package.standard,
        "sco": item,
        "content_url": content_url(package, item.get("href", "")),
        "cmi": runtime.launch_cmi(attempt, item["identifier"], user, review=review),
        "mode": "review" if review else "normal",
        "toc": _toc(package.organization or [], attempt, item["identifier"]),
        "previous_url": previous_url,
        "next_url": next_url,
        "commit_url": _reverse_or(
            "api-package-commit", f"/api/v1/me/package-attempts/{attempt.pk}/commit/", attempt_id=attempt.pk
        ),
        "beacon_url": beacon_url(attempt),
        "last_seq": attempt.last_seq,
        "step_url": step.get_url(),
    }


def attempt_detail(*, user, attempt_id):
    """The caller's attempt for the API (``Http404`` for anyone else's)."""
    return own_attempt(user, attempt_id)
