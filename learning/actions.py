"""Enrolment actions: the only code that changes ``Enrollment.status``.

The transitions are declared once, in :data:`TRANSITIONS`::

    not_started ──start──▶ in_progress ──complete──▶ completed ──expire──▶ expired
                                      └───fail─────▶ failed

    failed  ──grant_new_cycle (HR, a manager above the agent)──▶ a new cycle (new row)
    expired ──renew (renewal task, assignment, self-enrolment)──▶ a new cycle (new row)

A failed cycle stays failed: its attempts are spent and lessons and quizzes refuse it
(409); a new cycle with fresh attempts is opened by HR or a manager
(``grant_new_cycle``), or by an assignment, an import or an appraisal need (the system
opens a cycle whatever the last one's end, as before). Self-enrolment after a failure is
refused; after an expiry it opens the next cycle.

Every status change, and the creation of every cycle (``from_status`` empty), writes an
:class:`~learning.models.EnrollmentEvent` in the same transaction, whose ``at`` is the
``updated_at`` written with it (the completion API's sync cursor and the history agree).
``cms.actions.action_executed`` is sent after commit only. The bulk actions
(:class:`OpenCycles`, :class:`ExpireEnrollments`) write their rows and events with
``bulk_create``/``update`` in batches: their number of queries does not grow with rows.
"""

import secrets
from datetime import timedelta
from itertools import islice

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cms import bulksql
from cms.actions import BaseAction, Transition, TransitionTable, action_executed
from cms.dates import add_months
from cms.exceptions import Conflict
from cms.models import Agent
from learning import permissions
from learning.choices import OPEN_STATUSES, AttemptStatus, EnrollmentSource, EnrollmentStatus, EventSource
from learning.grading import grade
from learning.models import Enrollment, EnrollmentEvent, LessonProgress, PackageAttempt, QuizAttempt
from learning.packages import runtime
from learning.permissions import AGENT, HR, MANAGER
from learning.progress import course_progress, live_step_classes

S = EnrollmentStatus
BATCH = 2000

TRANSITIONS = TransitionTable(
    EnrollmentStatus,
    [
        Transition("start", {S.NOT_STARTED}, S.IN_PROGRESS, actors={AGENT}),
        Transition("complete", {S.IN_PROGRESS}, S.COMPLETED, actors={AGENT}),
        Transition("fail", {S.IN_PROGRESS}, S.FAILED, actors={AGENT}),
        Transition("expire", {S.COMPLETED}, S.EXPIRED),  # the daily task (system)
        # The two ways to a new cycle (a new Enrollment row): the closed one keeps its status.
        Transition("grant_new_cycle", {S.FAILED}, None, actors={HR, MANAGER}),
        Transition("renew", {S.EXPIRED}, None),
    ],
)

#: The event source of a cycle opened by ``learning.services.enroll`` for each enrolment source.
OPENED_BY = {
    EnrollmentSource.SELF: EventSource.SELF,
    EnrollmentSource.ASSIGNED: EventSource.ASSIGNMENT,
    EnrollmentSource.APPRAISAL_NEED: EventSource.APPRAISAL,
}


def new_certificate_code():
    return secrets.token_hex(6).upper()


def next_cycle(agent_id, course_id):
    last = Enrollment.objects.filter(agent_id=agent_id, course_id=course_id).aggregate(m=Max("cycle"))["m"]
    return (last or 0) + 1


# --- one enrolment ---------------------------------------------------------------------------


class EnrollmentAction(BaseAction):
    """An action on one enrolment (locked for the transaction).

    Actions named after a transition of :data:`TRANSITIONS` are checked by the table as
    ``cms.actions.BaseAction`` does. The others (a step result, opening a step) may take
    several transitions in one write (``not_started → in_progress → completed``): each
    goes through :meth:`move`, which refuses what the table does not declare.
    ``audit()`` writes one ``EnrollmentEvent`` per move, at the saved ``updated_at``.
    """

    model = Enrollment
    table = TRANSITIONS
    state_field = "status"
    select_related = ("course",)
    source = ""
    allowed_roles = frozenset({AGENT})  # for actions that are not a declared transition

    def __init__(self, target, *, source=None, **kwargs):
        super().__init__(target, **kwargs)
        if source:
            self.source = source
        self.moves = []
        self._roles = None

    @property
    def is_declared_transition(self):
        return self.transition_name() in self.table.names

    def roles(self):
        if self._roles is None:
            self._roles = permissions.enrollment_roles(self.user, self.obj)
        return self._roles

    def check_permission(self):
        if self.is_declared_transition or self.user is None:
            return super().check_permission()
        if not self.roles() & self.allowed_roles:
            raise PermissionDenied(self.denied_message or _("Vous n'êtes pas autorisé à effectuer cette action."))

    def check_state(self):
        if self.is_declared_transition:
            super().check_state()

    def declared(self):
        return super().declared() if self.is_declared_transition else None

    def move(self, to_status):
        """Take the declared transition from the current status to ``to_status``."""
        current = self.obj.status
        transition = self.table.between(current, to_status)
        if transition is None:
            raise Conflict(
                _("Passage de « %(from)s » à « %(to)s » impossible pour une inscription.")
                % {"from": self._state_label(current), "to": self._state_label(to_status)}
            )
        if self.user is not None and transition.actors and not self.roles() & transition.actors:
            raise PermissionDenied(self.denied_message or _("Vous n'êtes pas autorisé à effectuer cette action."))
        self.obj.status = to_status
        self.moves.append((current, to_status))

    def audit(self):
        if not self.moves:
            return []
        at = self.obj.updated_at  # set by save(): the history and the sync cursor agree
        return EnrollmentEvent.objects.bulk_create(
            [
                EnrollmentEvent(
                    enrollment=self.obj, at=at, actor=self.user, from_status=before, to_status=after,
                    source=self.source, note=self.note,
                )
                for before, after in self.moves
            ]
        )

    # --- progress through the step protocol -------------------------------------------------

    def recompute(self):
        """Progress, score and status from the steps' results: one query for the steps and
        one per step *kind* (``StepPage.progress_for``), whatever the number of steps."""
        enrollment = self.obj
        progress = course_progress(enrollment, live_step_classes(enrollment.course))
        enrollment.progress = progress.ratio
        enrollment.score = progress.score
        if progress.started and enrollment.status in self.table.sources_of("start"):
            self.start()
        if progress.complete and enrollment.status in self.table.sources_of("complete"):
            self.complete()
        elif progress.exhausted and enrollment.status in self.table.sources_of("fail"):
            self.move(S.FAILED)
        return enrollment

    def start(self):
        self.move(S.IN_PROGRESS)
        self.obj.started_at = self.obj.started_at or self.now

    def complete(self):
        enrollment, course = self.obj, self.obj.course
        self.move(S.COMPLETED)
        enrollment.progress = 1.0
        enrollment.completed_at = self.now
        enrollment.started_at = enrollment.started_at or self.now
        if course.validity_months:
            enrollment.expires_at = add_months(self.now, course.validity_months)
        if course.certificate and not enrollment.certificate_code:
            enrollment.certificate_code = new_certificate_code()


class RecordStepResult(EnrollmentAction):
    """A learner's result on one step, then the enrolment's progress and status.

    Subclasses write the step's own record in :meth:`record` (a lesson marked done, a
    graded quiz attempt; next, a package attempt's commit); ``recompute`` does the rest.
    """

    name = "record_step_result"
    closed_message = gettext_lazy("Cette inscription est close (échec) : demandez une nouvelle inscription.")

    def __init__(self, enrollment, *, user, step, **kwargs):
        super().__init__(enrollment, user=user, source=step.event_source, **kwargs)
        self.step = step
        self.result = None

    def guard(self):
        if self.obj.status not in OPEN_STATUSES:
            raise Conflict(str(self.closed_message))

    def record(self):
        raise NotImplementedError

    def apply(self):
        self.result = self.record()
        self.after_result()

    def after_result(self):
        """The step's result moves the enrolment; a completion queues its certificate."""
        self.obj.last_step_id = self.step.pk
        self.recompute()
        enrollment = self.obj
        if enrollment.status == S.COMPLETED and enrollment.certificate_code and not enrollment.certificate_file:
            from learning import tasks

            pk = enrollment.pk
            transaction.on_commit(lambda: tasks.render_certificate.enqueue(pk))


class CompleteLesson(RecordStepResult):
    name = "complete_lesson"
    label = gettext_lazy("Marquer la leçon comme terminée")

    def record(self):
        return LessonProgress.objects.get_or_create(
            enrollment=self.obj, lesson=self.step, defaults={"completed_at": self.now}
        )[0]


class SubmitQuiz(RecordStepResult):
    """Grade a submission on the server. The enrolment row is locked, and the attempt
    number is unique, so two submissions at once cannot exceed the attempt limit."""

    name = "submit_quiz"
    label = gettext_lazy("Valider mes réponses")
    closed_message = gettext_lazy("Le nombre maximal de tentatives est atteint pour ce quiz.")

    def guard(self):
        super().guard()
        quiz = self.step
        previous = QuizAttempt.objects.filter(enrollment=self.obj, quiz=quiz)
        if self.obj.status == S.COMPLETED and previous.filter(passed=True).exists():
            raise Conflict(_("Vous avez déjà réussi ce quiz pour ce cycle de formation."))
        self.count = previous.count()
        if quiz.attempt_limit and self.count >= quiz.attempt_limit:
            raise Conflict(
                _("Le nombre maximal de tentatives (%(limit)s) est atteint pour ce quiz.") % {"limit": quiz.attempt_limit}
            )

    def record(self):
        answers = self.params["answers"]
        score, passed, feedback = grade(self.step, answers)
        try:
            with transaction.atomic():
                return QuizAttempt.objects.create(
                    enrollment=self.obj, quiz=self.step, number=self.count + 1, answers=answers,
                    score=score, passed=passed, feedback=feedback, submitted_at=self.now,
                )
        except IntegrityError as exc:
            raise Conflict(_("Une autre soumission de ce quiz vient d'être enregistrée ; rechargez la page.")) from exc


class OpenStep(EnrollmentAction):
    """An enrolled agent opens a step: the resume point, and the start of the course."""

    name = "open_step"

    def __init__(self, enrollment, *, user, step, **kwargs):
        super().__init__(enrollment, user=user, source=step.event_source, **kwargs)
        self.step = step

    def apply(self):
        self.obj.last_step_id = self.step.pk
        if self.obj.status in self.table.sources_of("start"):
            self.start()


# --- package steps (SCORM) --------------------------------------------------------------------

#: The Wagtail log action written when HR resets a package attempt (label in admin_attempts).
PACKAGE_ATTEMPT_RESET = "learning.package_attempt_reset"


def new_beacon_nonce():
    return secrets.token_hex(16)


class StartPackageAttempt(EnrollmentAction):
    """An enrolled agent launches a package step: the attempt to play (``self.attempt``).

    Resumes the open attempt (on the package version it began with); after a finished one,
    opens the next attempt when the step's policy allows it (``allows_new_attempt``), else
    returns the finished one (played in review mode). Opens the step like ``OpenStep``.
    A launch is a new session: time left pending by a session that ended without a
    terminate is added to the totals (``runtime.close_sessions``)."""

    name = "start_package_attempt"
    label = gettext_lazy("Commencer le module")
    closed_message = RecordStepResult.closed_message

    def __init__(self, enrollment, *, user, step, **kwargs):
        super().__init__(enrollment, user=user, source=step.event_source, **kwargs)
        self.step = step
        self.attempt = None
        self.created = False

    def guard(self):
        if self.obj.status not in OPEN_STATUSES:
            raise Conflict(str(self.closed_message))

    def apply(self):
        step = self.step
        attempts = list(
            PackageAttempt.objects.filter(enrollment=self.obj, step=step).select_related("package").order_by("-number")
        )
        counted = [a for a in attempts if a.status != AttemptStatus.RESET]
        last = counted[0] if counted else None
        if last is not None and not runtime.is_finished(last):
            self.attempt = last
            if runtime.close_sessions(last):
                last.save(update_fields=["scos", "total_seconds", "updated_at"])
        elif last is None or step.allows_new_attempt(last.status, len(counted)):
            if step.package_id is None:
                raise ValidationError({"package": _("Ce module n'a pas encore de paquet de contenu.")})
            self.attempt = PackageAttempt.objects.create(
                enrollment=self.obj, step=step, package_id=step.package_id,
                number=(attempts[0].number if attempts else 0) + 1, started_at=self.now,
                beacon_nonce=new_beacon_nonce(),
            )
            self.created = True
        else:
            self.attempt = last
        self.obj.last_step_id = step.pk
        if self.obj.status in self.table.sources_of("start"):
            self.start()


class CommitPackage(RecordStepResult):
    """One commit of the SCORM run-time (``params``: ``sco``, ``seq``, ``cmi``, ``terminate``,
    and ``nonce`` when it came by the beacon) on the attempt ``attempt_id``.

    The enrolment row is locked first, so commits serialise; the attempt is read after the
    lock and the sequence number checked on it: a replayed or older commit (``applied``
    False) changes nothing, not even the enrolment's ``updated_at``. So does a commit to a
    closed enrolment or a finished attempt under review. The attempt's rollup is written
    here, then ``recompute`` moves the enrolment (progress, score, status, certificate), a
    failed package exhausting the step like a failed quiz (``StepProgress.exhausted``)."""

    name = "commit_package"
    label = gettext_lazy("Enregistrer la progression du module")

    def __init__(self, enrollment, *, user, step, attempt_id, **kwargs):
        super().__init__(enrollment, user=user, step=step, **kwargs)
        self.attempt_id = attempt_id
        self.attempt = None
        self.applied = False
        self.closed = False

    def guard(self):
        self.closed = self.obj.status not in OPEN_STATUSES  # acknowledged, nothing stored

    def record(self):
        params = self.params
        attempt = PackageAttempt.objects.select_related("package").get(pk=self.attempt_id, enrollment=self.obj)
        self.attempt = attempt
        fields = []
        if params.get("nonce") is not None:
            if not attempt.beacon_nonce or not secrets.compare_digest(str(params["nonce"]), attempt.beacon_nonce):
                raise PermissionDenied(_("Lien d'envoi déjà utilisé ou invalide."))
            attempt.beacon_nonce = new_beacon_nonce()  # one-time
            fields.append("beacon_nonce")
        if not self.closed:
            self.applied = runtime.apply_commit(
                attempt, sco=params["sco"], seq=params["seq"], cmi=params["cmi"], terminate=params["terminate"]
            )
        if self.applied:
            status, score, progress = runtime.advance(
                attempt.status, attempt.score, attempt.progress, runtime.rollup(attempt.package, attempt.scos)
            )
            attempt.status, attempt.score, attempt.progress = status, score, progress
            if status in runtime.FINISHED_STATUSES and attempt.finished_at is None:
                attempt.finished_at = self.now
            fields += ["scos", "total_seconds", "last_seq", "last_sco", "status", "score", "progress", "finished_at"]
        if fields:
            attempt.save(update_fields=[*fields, "updated_at"])
        return self.applied

    def apply(self):
        self.result = self.record()
        if self.applied:
            self.after_result()

    def save(self):
        if self.applied:
            super().save()


class ResetPackageAttempt(EnrollmentAction):
    """HR voids a package attempt (``reset``, kept for the record and never counted): the
    next launch opens a fresh one. The enrolment's progress and score are recomputed; its
    status never moves backwards (the table has no way back), and a completed enrolment
    keeps its progress of 1 and its score (a completion already awarded is a fact). Logged
    as a Wagtail log entry on the attempt (``PACKAGE_ATTEMPT_RESET``); no enrolment event,
    since the status does not change."""

    name = "reset_package_attempt"
    label = gettext_lazy("Réinitialiser la tentative")
    allowed_roles = frozenset({HR})
    denied_message = gettext_lazy("Seules les ressources humaines peuvent réinitialiser une tentative.")

    def __init__(self, enrollment, *, user, attempt, **kwargs):
        super().__init__(enrollment, user=user, source=EventSource.PACKAGE, **kwargs)
        self.attempt_id = getattr(attempt, "pk", attempt)
        self.attempt = None

    def check_permission(self):
        if self.user is None or not self.roles() & self.allowed_roles:
            raise PermissionDenied(str(self.denied_message))

    def guard(self):
        self.attempt = (
            PackageAttempt.objects.select_related("step", "package").filter(pk=self.attempt_id, enrollment=self.obj)
        ).first()
        if self.attempt is None:
            raise ValidationError({"attempt": _("Cette tentative n'appartient pas à cette inscription.")})
        if self.attempt.status == AttemptStatus.RESET:
            raise Conflict(_("Cette tentative est déjà réinitialisée."))
        if self.obj.status not in OPEN_STATUSES:
            raise Conflict(
                _("Cette inscription est close : accordez une nouvelle inscription plutôt que de réinitialiser la "
                  "tentative.")
            )

    def apply(self):
        attempt = self.attempt
        attempt.status = AttemptStatus.RESET
        attempt.reset_by = self.user
        attempt.reset_at = self.now
        attempt.beacon_nonce = ""  # its beacon link dies with it
        attempt.save(update_fields=["status", "reset_by", "reset_at", "beacon_nonce", "updated_at"])
        was_completed = self.obj.status == S.COMPLETED
        progress, score = self.obj.progress, self.obj.score
        self.recompute()
        if was_completed:
            self.obj.progress, self.obj.score = progress, score

    def audit(self):
        from wagtail.log_actions import log as log_action

        log_action(
            self.attempt, PACKAGE_ATTEMPT_RESET, user=self.user,
            data={
                "attempt": self.attempt.pk, "number": self.attempt.number, "enrollment": self.obj.pk,
                "agent": self.obj.agent_id, "step": self.attempt.step_id, "step_title": self.attempt.step.title,
            },
        )
        return super().audit()


# --- cmi5 package steps (learning/packages/cmi5_lms.py, xapi/cmi5.py) ---------------------------

#: The Wagtail log action written when HR waives a cmi5 AU (label in admin_attempts).
CMI5_AU_WAIVED = "learning.cmi5_au_waived"


def refresh_registration(attempt, *, session_id=None, now):
    """``cmi5_lms.refresh`` (AU states, ``satisfied``, score, progress), then the attempt's
    status once the course is satisfied: the fields changed (to save)."""
    from learning.packages import cmi5_lms

    fields = cmi5_lms.refresh(attempt, session_id=session_id, now=now)
    status = cmi5_lms.finished_status(attempt)
    if status is not None:
        attempt.status = status
        attempt.finished_at = attempt.finished_at or now
    return [*fields, "status", "finished_at"]


def cmi5_registration(enrollment, step, *, now):
    """``(attempt, created)``: the cmi5 registration of ``enrollment`` on ``step`` (the last
    attempt that is not reset, when it is a cmi5 one), else a new one on the step's package."""
    import uuid

    last = (
        PackageAttempt.objects.filter(enrollment=enrollment, step=step)
        .select_related("package", "enrollment__agent__user")
        .order_by("-number")
        .first()
    )
    if last is not None and last.status != AttemptStatus.RESET and last.registration is not None:
        return last, False
    attempt = PackageAttempt.objects.create(
        enrollment=enrollment, step=step, package_id=step.package_id, number=(last.number if last else 0) + 1,
        started_at=now, registration=uuid.uuid4(), cmi5={"blocks": {}, "launches": 0},
    )  # fmt: skip
    return PackageAttempt.objects.select_related("package", "enrollment__agent__user").get(pk=attempt.pk), True


LAUNCH_NORMAL, LAUNCH_BROWSE = "normal", "browse"


def check_launch_mode(mode, step):
    """``mode`` of a launch: ``normal`` (default), or ``browse`` on a cmi5 step that allows it."""
    if mode not in (LAUNCH_NORMAL, LAUNCH_BROWSE):
        raise ValidationError({"mode": _("Mode de lancement inconnu : « normal » ou « browse » attendu.")})
    if mode == LAUNCH_BROWSE and not getattr(step, "cmi5_browse", False):
        raise ValidationError({"mode": _("Ce module ne permet pas de parcourir une unité sans évaluation.")})


class LaunchAU(RecordStepResult):
    """An enrolled agent launches an AU of a cmi5 step (``au``: the publisher's AU id, or the
    next AU not done). Opens the registration the first time (its moveOn evaluated at once:
    ``NotApplicable`` AUs are satisfied), abandons the sessions left open, opens the AU
    session (LMS.LaunchData, learner preferences, ``launched``) and sets ``launch_url``.
    The launch mode is Normal, or Review once the AU's results meet its moveOn."""

    name = "launch_au"
    label = gettext_lazy("Lancer l'unité")

    def __init__(self, enrollment, *, user, step, au=None, mode=None, **kwargs):
        super().__init__(enrollment, user=user, step=step, **kwargs)
        self.au_id = au or None
        self.browse = mode == LAUNCH_BROWSE
        self.mode = mode or LAUNCH_NORMAL
        self.attempt = None
        self.session = None
        self.launch_url = None

    def guard(self):
        super().guard()
        if self.step.package_id is None:
            raise ValidationError({"package": _("Ce module n'a pas encore de paquet de contenu.")})
        check_launch_mode(self.mode, self.step)

    def record(self):
        from learning.packages import cmi5_lms
        from xapi import cmi5 as lrs
        from xapi.identity import actor_for

        attempt, created = cmi5_registration(self.obj, self.step, now=self.now)
        package = attempt.package
        au = package.launchable(self.au_id) if self.au_id else cmi5_lms.next_au(attempt)
        if au is None:
            raise ValidationError({"au": _("Cette unité d'apprentissage (AU) n'existe pas dans ce module.")})
        fields = refresh_registration(attempt, now=self.now) if created else []
        done = (attempt.scos.get(au["identifier"]) or {}).get("done")
        mode = lrs.REVIEW if done else (lrs.BROWSE if self.browse else lrs.NORMAL)
        self.session = lrs.open_session(
            registration=attempt.registration, activity_id=cmi5_lms.au_activity_id(package, au),
            publisher_id=au["identifier"], actor=actor_for(self.obj.agent.user), launch_mode=mode,
            move_on=au.get("move_on") or "NotApplicable", mastery_score=au.get("mastery_score"),
            launch_parameters=au.get("launch_parameters") or "", entitlement_key=au.get("entitlement_key") or "",
            return_url=cmi5_lms.absolute_url(self.step.url or "/"), launch_url=cmi5_lms.au_base_url(package, au),
            language_preference=cmi5_lms.language_preference(), now=self.now,
        )  # fmt: skip
        attempt.last_sco = au["identifier"][:255]
        attempt.cmi5 = {**attempt.cmi5, "launches": int(attempt.cmi5.get("launches") or 0) + 1}
        attempt.save(update_fields=sorted({*fields, "last_sco", "cmi5", "updated_at"}))
        self.attempt = attempt
        self.launch_url = cmi5_lms.launch_url(package, au, self.session)
        return attempt


class RecordCmi5Results(RecordStepResult):
    """The AU results of a session reached the LRS (``xapi.cmi5`` listener): the
    registration's AU states, ``satisfied`` statements and status are refreshed
    (``cmi5_lms.refresh``), then the enrolment (progress, completion, certificate)."""

    name = "record_cmi5_results"
    label = gettext_lazy("Enregistrer les résultats cmi5")

    def __init__(self, enrollment, *, user, step, attempt_id, session_id=None, **kwargs):
        super().__init__(enrollment, user=user, step=step, **kwargs)
        self.attempt_id = attempt_id
        self.session_id = session_id
        self.attempt = None

    def record(self):
        attempt = PackageAttempt.objects.select_related("package", "enrollment__agent__user").get(
            pk=self.attempt_id, enrollment=self.obj
        )
        fields = refresh_registration(attempt, session_id=self.session_id, now=self.now)
        attempt.save(update_fields=[*fields, "updated_at"])
        self.attempt = attempt
        return attempt


class WaiveAU(RecordStepResult):
    """HR waives an AU of a cmi5 step for the agent (``au``, ``reason``): the LMS records
    ``waived`` with the reason (§9.3.7), the AU counts as satisfied, blocks and course follow.
    Once per AU and registration; logged (``CMI5_AU_WAIVED``)."""

    name = "waive_au"
    label = gettext_lazy("Dispenser de l'unité")
    allowed_roles = frozenset({HR})
    denied_message = gettext_lazy("Seules les ressources humaines peuvent dispenser d'une unité.")

    def __init__(self, enrollment, *, user, step, au, reason, **kwargs):
        super().__init__(enrollment, user=user, step=step, **kwargs)
        self.au_id = au
        self.reason = (reason or "").strip()
        self.attempt = None

    def check_permission(self):
        if self.user is None or not self.roles() & self.allowed_roles:
            raise PermissionDenied(str(self.denied_message))

    def move(self, to_status):
        """The learner's enrolment moves as the step result dictates (start, complete): HR,
        who waives, is recorded as the actor of the event, not checked as the learner."""
        user, self.user = self.user, None
        try:
            super().move(to_status)
        finally:
            self.user = user

    def guard(self):
        super().guard()
        if not self.reason:
            raise ValidationError({"reason": _("Le motif de la dispense est obligatoire.")})
        if len(self.reason) > 500:
            raise ValidationError({"reason": _("Le motif fait 500 caractères au plus.")})
        if self.step.package_id is None or self.step.package.standard != "cmi5":
            raise ValidationError({"au": _("Ce module n'est pas un cours cmi5.")})

    def record(self):
        from learning.packages import cmi5_lms
        from xapi import cmi5 as lrs
        from xapi.identity import actor_for

        attempt, _created = cmi5_registration(self.obj, self.step, now=self.now)
        package = attempt.package
        au = package.launchable(self.au_id or "")
        if au is None:
            raise ValidationError({"au": _("Cette unité d'apprentissage (AU) n'existe pas dans ce module.")})
        if not _created:
            refresh_registration(attempt, now=self.now)
        state = attempt.scos.get(au["identifier"]) or {}
        if state.get("waived"):
            raise Conflict(_("Cette unité est déjà dispensée pour cette inscription."))
        session = lrs.record_waiver(
            registration=attempt.registration, activity_id=cmi5_lms.au_activity_id(package, au),
            publisher_id=au["identifier"], actor=actor_for(self.obj.agent.user), reason=self.reason, now=self.now,
        )  # fmt: skip
        fields = refresh_registration(attempt, session_id=session.session_id, now=self.now)
        attempt.save(update_fields=[*fields, "updated_at"])
        self.attempt = attempt
        self.note = self.reason[:255]
        return attempt

    def audit(self):
        from wagtail.log_actions import log as log_action

        log_action(
            self.attempt, CMI5_AU_WAIVED, user=self.user,
            data={"attempt": self.attempt.pk, "enrollment": self.obj.pk, "agent": self.obj.agent_id,
                  "au": self.au_id, "reason": self.reason, "step": self.step.pk},
        )  # fmt: skip
        return super().audit()


class GrantNewCycle(EnrollmentAction):
    """After a failure, HR or a manager above the agent opens a new cycle with fresh
    attempts. The failed row is left as it is; ``new_enrollment`` is the new cycle (or the
    open one, if another path opened it first)."""

    name = "grant_new_cycle"
    label = gettext_lazy("Accorder une nouvelle inscription")
    source = EventSource.HR_GRANT
    denied_message = gettext_lazy("Vous ne pouvez pas accorder de nouvelle inscription à cet agent.")

    def __init__(self, enrollment, *, due_at=None, **kwargs):
        super().__init__(enrollment, **kwargs)
        self.due_at = due_at
        self.new_enrollment = None

    def refused(self, state):
        return _("Seule une inscription en échec peut être renouvelée.")

    def check_permission(self):
        if self.user is None or not self.roles() & {HR, MANAGER}:
            raise PermissionDenied(str(self.denied_message))

    def apply(self):
        failed = self.obj
        self.new_enrollment = open_cycle(
            agent_id=failed.agent_id, course_id=failed.course_id, source=failed.source,
            due_at=self.due_at or failed.due_at, assignment_id=failed.assignment_id,
            event_source=self.source, actor=self.user,
        )[0]

    def save(self):
        """The failed cycle is not changed (its ``updated_at`` neither)."""


def open_cycle(*, agent_id, course_id, source, event_source, actor=None, due_at=None, assignment_id=None):
    """Open the agent's next cycle of a course, or return the open one: ``(enrollment,
    created)``. One open enrolment per course (a constraint): a concurrent request that
    opened it first wins."""
    with transaction.atomic():
        existing = Enrollment.objects.filter(agent_id=agent_id, course_id=course_id, status__in=OPEN_STATUSES).first()
        if existing is not None:
            return existing, False
        try:
            with transaction.atomic():
                enrollment = Enrollment(
                    agent_id=agent_id, course_id=course_id, cycle=next_cycle(agent_id, course_id),
                    source=source, due_at=due_at, assignment_id=assignment_id,
                )
                OpenCycles([enrollment], source=event_source, actor=actor).execute()
                return enrollment, True
        except IntegrityError:
            return Enrollment.objects.get(agent_id=agent_id, course_id=course_id, status__in=OPEN_STATUSES), False


# --- many enrolments at once ------------------------------------------------------------------


class BulkEnrollmentAction:
    """An action on many enrolments: bulk statements in batches, one event per row,
    ``action_executed`` after commit (``action.rows`` lists the rows' ids)."""

    name = ""
    source = ""

    def __init__(self, *, source=None, actor=None, now=None, batch_size=BATCH):
        self.source = source or self.source
        self.actor = actor
        self.user = actor
        self.now = now or timezone.now()
        self.batch_size = batch_size
        self.rows = []

    def execute(self, *args, **kwargs):
        with transaction.atomic():
            result = self.run(*args, **kwargs)
            transaction.on_commit(lambda: action_executed.send(sender=type(self), action=self))
        return result

    def run(self):
        raise NotImplementedError


class OpenCycles(BulkEnrollmentAction):
    """Insert new cycles (unsaved ``Enrollment`` rows, status ``not_started``) and their
    creation events. Used for one enrolment (self-enrolment, appraisal need, a granted
    cycle) and for 55,000 (an assignment, an import, the renewals of the daily expiry)."""

    name = "open_cycles"

    def __init__(self, enrollments, *, total=None, **kwargs):
        super().__init__(**kwargs)
        self.enrollments = enrollments  # any iterable: consumed batch by batch
        self.total = total if total is not None else len(enrollments)

    def run(self, progress=None):
        """Insert the rows (their ids are set on the instances); returns how many."""
        rows, count = iter(self.enrollments), 0
        while chunk := list(islice(rows, self.batch_size)):
            for enrollment in chunk:
                enrollment.status = S.NOT_STARTED
            Enrollment.objects.bulk_create(chunk)  # ids returned (PostgreSQL, SQLite ≥ 3.35)
            EnrollmentEvent.objects.bulk_create(
                [
                    EnrollmentEvent(
                        enrollment_id=e.pk, at=e.updated_at, actor=self.actor, from_status="",
                        to_status=S.NOT_STARTED, source=self.source,
                    )
                    for e in chunk
                ]
            )
            count += len(chunk)
            self.rows += [e.pk for e in chunk]
            if progress:
                progress(count, self.total)
        return count



class OpenAssignedCycles(OpenCycles):
    """``OpenCycles`` for the agents of a queryset, written by the database: per batch of
    ``batch_size`` agents, one ``INSERT … SELECT`` of the enrolments (cycle = the agent's
    last cycle + 1, status ``not_started``, ``assignment`` set, due in
    ``assignment.due_in_days`` days from ``now``; an agent who meanwhile got an open
    enrolment is skipped by the partial unique constraint, ``ON CONFLICT DO NOTHING``) and
    one of their creation events. Same contract as ``OpenCycles``: ``progress(done, total)``
    after each batch, ``rows`` lists the new enrolments, ``action_executed`` after commit."""

    def __init__(self, assignment, agents, **kwargs):
        super().__init__((), total=0, **kwargs)
        self.assignment = assignment
        self.agents = agents

    def run(self, progress=None):
        assignment, qn = self.assignment, connection.ops.quote_name
        table, meta = qn(Enrollment._meta.db_table), Enrollment._meta
        col = {name: qn(meta.get_field(name).column) for name in ("agent", "course", "cycle", "id", "updated_at")}
        stamp = timezone.now()  # created_at / updated_at, as ``auto_now`` would set them
        values = {
            "agent": bulksql.Sql("a.id"),
            "course": assignment.course_id,
            "cycle": bulksql.Sql(
                f"COALESCE((SELECT MAX(p.{col['cycle']}) FROM {table} p "
                f"WHERE p.{col['agent']} = a.id AND p.{col['course']} = %s), 0) + 1",
                [assignment.course_id],
            ),
            "source": EnrollmentSource.ASSIGNED,
            "assignment": assignment.pk,
            "status": EnrollmentStatus.NOT_STARTED,
            "due_at": self.now + timedelta(days=assignment.due_in_days),
            "created_at": stamp,
            "updated_at": stamp,
        }
        event_values = {
            "enrollment": bulksql.Sql(f"e.{col['id']}"),
            "at": bulksql.Sql(f"e.{col['updated_at']}"),
            "actor": self.actor.pk if self.actor else None,
            "from_status": "",
            "to_status": EnrollmentStatus.NOT_STARTED,
            "source": self.source,
            "note": "",
        }
        targets_sql, targets_params = bulksql.queryset_sql(self.agents.order_by().values("pk"))
        self.total, bounds = bulksql.batch_bounds(self.agents, self.batch_size)
        lower, count = None, 0
        for upper in bounds:
            where = f"a.id IN ({targets_sql}) AND a.id <= %s" + (" AND a.id > %s" if lower is not None else "")
            params = [*targets_params, upper] + ([lower] if lower is not None else [])
            rows = bulksql.insert_select(
                Enrollment, values, source=f"{qn(Agent._meta.db_table)} a", where=where, params=params
            )
            new_ids = [row[0] for row in rows]
            if new_ids:
                bulksql.insert_select(
                    EnrollmentEvent,
                    event_values,
                    source=f"{table} e",
                    where=f"e.{col['id']} IN ({', '.join(['%s'] * len(new_ids))})",
                    params=new_ids,
                    returning=(),
                )
            self.rows += new_ids
            count += len(new_ids)
            lower = upper
            if progress:
                progress(count, self.total)
        return count


class ExpireEnrollments(BulkEnrollmentAction):
    """``completed → expired`` at ``expires_at``; each expiry opens the next cycle unless it
    came from an assignment that is no longer active or recurring. Returns the count."""

    name = "expire"
    source = EventSource.EXPIRY

    def run(self):
        now = self.now
        sources = TRANSITIONS.sources_of("expire")
        target = TRANSITIONS["expire"].target
        due = list(
            Enrollment.objects.select_for_update(of=("self",))
            .filter(status__in=sources, expires_at__lte=now)
            .select_related("assignment")
            .only("pk", "status", "agent_id", "course_id", "cycle", "source", "assignment_id",
                  "assignment__due_in_days", "assignment__recurring", "assignment__active")
        )
        if not due:
            return 0
        for start in range(0, len(due), self.batch_size):
            chunk = due[start : start + self.batch_size]
            pks = [e.pk for e in chunk]
            Enrollment.objects.filter(pk__in=pks, status__in=sources).update(status=target, updated_at=now)
            EnrollmentEvent.objects.bulk_create(
                [
                    EnrollmentEvent(enrollment_id=e.pk, at=now, from_status=e.status, to_status=target, source=self.source)
                    for e in chunk
                ]
            )
            self.rows += pks
        renewals = []
        for e in due:
            if e.assignment_id and not (e.assignment.active and e.assignment.recurring):
                continue
            due_at = now + timedelta(days=e.assignment.due_in_days) if e.assignment_id else None
            renewals.append(
                Enrollment(
                    agent_id=e.agent_id, course_id=e.course_id, cycle=e.cycle + 1, source=e.source,
                    assignment_id=e.assignment_id, due_at=due_at,
                )
            )
        OpenCycles(renewals, source=self.source, now=now, batch_size=self.batch_size).run()
        return len(due)
