"""Every change of an application's status, and closing an opening: the actions of
recruitment (``cms.actions.BaseAction``), over the table of ``recruitment.workflow``.

- ``Move``: a recruiter of the opening (or HR) moves one application along the table
  (forward, back, rejected, offer declined, reopened), with a reason where the table
  requires one and a private note; the decision, the offer and the hire wait for every
  scorecard of the jury. The rejection and the offer leave after commit.
- ``Withdraw``: the candidate, through their personal link (no user).
- ``BulkMove``: several applications of one opening to the same stage, all or none, one
  event each under one batch id, in a constant number of queries (``UndoBatch`` too).
- ``BulkReject``: several ``Move`` to "rejected" under one batch id, in one transaction, the
  rejections sent after commit (or not); ``UndoBatch`` puts each of them back.
- ``CloseOpening``: the opening is filled or cancelled (``OpeningStatus``, off the page's
  revisions); its applications in progress are cancelled at once; no move afterwards.

Each action locks its row, checks again on the locked row, writes its ``ApplicationEvent``
in the same transaction and sends mail after commit only; ``notify=False`` sends nothing
(the demo), ``log=False`` writes no event. Refusals: ``PermissionDenied`` (not a manager of
the opening), ``cms.exceptions.Conflict`` (closed opening, a move the table does not
declare, scorecards pending…), ``ValidationError`` naming the field (a missing reason).
The functions at the end (``move``, ``withdraw``…) only build an action and execute it.
"""

import secrets

from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cms.actions import BaseAction, action_executed, params_form
from cms.exceptions import Conflict
from recruitment import permissions, services, workflow
from recruitment.choices import MOVABLE_STATES, TERMINAL, MessageKind, OpeningState
from recruitment.choices import ApplicationStatus as S
from recruitment.models import Application, ApplicationEvent, JobOpeningPage, OpeningStatus, Scorecard

MAX_REASON = 5000
NOT_MANAGER = gettext_lazy("Vous ne gérez pas ce recrutement.")
SCORECARD_GATED = (S.DECISION, S.OFFER, S.HIRED)
MESSAGE_ON_ARRIVAL = {S.REJECTED: MessageKind.REJECTION, S.OFFER: MessageKind.OFFER}


def fresh_opening_status(opening):
    """Cache on ``opening`` its ``OpeningStatus`` as committed now (or its absence).

    Called after a row lock: on PostgreSQL a statement that waited for a lock sees the
    locked row's newest version but the rows it joined as they were when it started."""
    row = OpeningStatus.objects.filter(pk=opening.pk).first()
    JobOpeningPage.recruitment_status.related.set_cached_value(opening, row)
    return opening


def closed_opening_message(opening):
    return _("Ce recrutement est clos (%(state)s) : plus aucun mouvement n'est possible.") % {
        "state": OpeningState(opening.recruitment_state).label
    }


# --- one application ------------------------------------------------------------------------


class ApplicationAction(BaseAction):
    """An action on one application, by the managers of its opening."""

    model = Application
    table = workflow.MOVES
    state_field = "status"
    select_related = ("opening",)
    denied_message = NOT_MANAGER
    allowed_roles = workflow.MANAGERS

    def __init__(self, target, *, batch="", **kwargs):
        super().__init__(target, **kwargs)
        self.batch = batch
        self._roles = None

    def roles(self):
        if self.user is None:
            return set()
        if self._roles is None or self._roles[0] != self.user.pk:
            self._roles = (self.user.pk, permissions.roles_on(self.user, self.obj.opening))
        return self._roles[1]

    def check_permission(self):
        if self.user is None:
            if self.system_allowed:
                return
            raise PermissionDenied(str(self.denied_message))
        if not self.roles() & self.allowed_roles:
            raise PermissionDenied(str(self.denied_message))

    def lock(self):
        application = super().lock()
        fresh_opening_status(application.opening)
        return application

    def apply(self):
        target = self.declared().target
        self.obj.status_changed_at = self.now
        self.obj.closed_at = self.now if target in TERMINAL else None

    def save(self):
        self.obj.save(update_fields=["status", "status_changed_at", "closed_at"])

    def event_reason(self):
        return ""

    def audit(self):
        return ApplicationEvent.objects.create(
            application=self.obj, kind="move", from_status=self.from_state, to_status=self.to_state,
            reason=self.event_reason(), actor=self.user, at=self.now, batch=self.batch,
        )


class Move(ApplicationAction):
    """A recruiter of the opening, or HR, moves the application to ``status``."""

    name = "move"
    label = gettext_lazy("Changer d'étape")
    done_message = gettext_lazy("Candidature %(ref)s placée à l'étape « %(stage)s ».")
    transitions = workflow.RECRUITER_MOVES
    Params = params_form(
        {
            "status": forms.ChoiceField(
                choices=S.choices, error_messages={"invalid_choice": gettext_lazy("Statut inconnu : %(value)s.")}
            ),
            "reason": forms.CharField(required=False, max_length=MAX_REASON),
            "note": forms.CharField(required=False, max_length=MAX_REASON),
        }
    )

    @property
    def target(self):
        return (self.params or self.raw_params).get("status")

    def declared(self):
        transition = self.table.between(self.obj.status, self.target)
        return transition if transition is not None and transition.name in self.transitions else None

    def check_state(self):
        application, opening = self.obj, self.obj.opening
        if opening.recruitment_state not in MOVABLE_STATES:
            raise Conflict(closed_opening_message(opening))
        if not self.target:
            return
        transition = self.declared()
        if transition is None:
            message = workflow.refusal(application.status, self.target, opening.stage_label)
            closing_move = self.target in (S.WITHDRAWN, S.CANCELLED)
            if closing_move and application.status not in (self.target, S.HIRED):
                raise ValidationError({"status": message})
            raise Conflict(message)
        if not self.roles() & transition.actors:
            raise PermissionDenied(str(self.denied_message))
        if transition.reason_required and not (self.params or {}).get("reason"):
            raise ValidationError({"reason": str(workflow.REASON_REQUIRED[transition.name])})

    def guard(self):
        if self.target not in SCORECARD_GATED:
            return
        scorecards = Scorecard.objects.filter(application=self.obj)
        pending = scorecards.filter(submitted_at__isnull=True).exists()
        missing = not pending and self.obj.interviews.exists() and not scorecards.exists()
        if pending or missing:
            raise Conflict(_("Toutes les grilles d'évaluation des membres du jury doivent être soumises avant la décision."))

    def event_reason(self):
        return "\n".join(p for p in (self.params.get("reason", ""), self.params.get("note", "")) if p)

    def notifications(self):
        kind = MESSAGE_ON_ARRIVAL.get(self.to_state)
        if kind is None:
            return ()
        application_id, actor_id = self.obj.pk, getattr(self.user, "pk", None)
        return (lambda: services.send_message(application_id=application_id, kind=kind, actor_id=actor_id),)


class Withdraw(ApplicationAction):
    """The candidate withdraws, through their personal link: there is no user."""

    name = "withdraw"
    label = gettext_lazy("Retirer ma candidature")
    done_message = gettext_lazy("Votre candidature est retirée. Merci de l'intérêt porté à ce poste.")
    system_allowed = True
    denied_message = gettext_lazy("Seul le candidat peut retirer sa candidature.")

    def check_permission(self):
        if self.user is not None:
            raise PermissionDenied(str(self.denied_message))

    def refused(self, state):
        return _("Cette candidature est déjà close.")

    def event_reason(self):
        return _("Retrait par le candidat")


# --- several applications -----------------------------------------------------------------------


class BulkReject(BaseAction):
    """Reject several applications at once: one ``Move`` each, under one batch id (so that
    ``UndoBatch`` can put them back), all or none; the rejections leave after commit."""

    name = "bulk_reject"
    label = gettext_lazy("Refuser la sélection")
    model = Application
    table = workflow.MOVES
    transition = "reject"
    denied_message = NOT_MANAGER
    Params = params_form(
        {
            "reason": forms.CharField(
                max_length=MAX_REASON, error_messages={"required": gettext_lazy("Le motif du refus est obligatoire.")}
            )
        }
    )

    def __init__(self, application_ids, **kwargs):
        super().__init__(None, **kwargs)
        self.application_ids = sorted({int(pk) for pk in application_ids})
        self.batch = ""
        self.moves = []

    def execute(self):
        self.clean_params()
        if self.user is None:
            raise PermissionDenied(str(self.denied_message))
        self.batch = secrets.token_hex(8)
        with transaction.atomic():
            locked = Application.objects.select_for_update(of=("self",)).filter(pk__in=self.application_ids)
            ids = list(locked.order_by("pk").values_list("pk", flat=True))  # one statement, a fixed order
            params = {"status": S.REJECTED, "reason": self.params["reason"]}
            self.moves = [
                Move(pk, user=self.user, params=params, now=self.now, log=self.log, notify=False, batch=self.batch)
                for pk in ids
            ]
            for move in self.moves:
                move.execute()
            if self.notify and ids:
                transaction.on_commit(
                    lambda: [services.send_message(application_id=pk, kind=MessageKind.REJECTION) for pk in ids]
                )
            transaction.on_commit(lambda: action_executed.send(sender=type(self), action=self))
        return self.batch, len(self.moves)


class BulkMove(BaseAction):
    """Move several applications of one opening to the same stage at once, each by the
    table's move from its own status, with ``Move``'s rules (a recruiter's move, a reason
    when any of them needs one, the jury's scorecards before the decision, the offer and the
    hire); all or none. One event each under one batch id (``UndoBatch`` puts them back),
    in a constant number of queries whatever their number: the rows locked in one
    statement, one UPDATE, one INSERT of the events. The offer or rejection messages leave
    after commit."""

    name = "bulk_move"
    label = gettext_lazy("Déplacer la sélection")
    model = Application
    table = workflow.MOVES
    transitions = workflow.RECRUITER_MOVES
    denied_message = NOT_MANAGER
    Params = Move.Params

    def __init__(self, application_ids, **kwargs):
        super().__init__(None, **kwargs)
        self.application_ids = sorted({int(pk) for pk in application_ids})
        self.batch = ""
        self.rows = []  # [(pk, status before)]
        self.opening = None

    @property
    def target(self):
        return self.params["status"]

    def lock_all(self):
        """The applications, locked in one statement in a fixed order, with their opening."""
        if not self.application_ids:
            raise ValidationError({"applications": _("Cochez au moins une candidature.")})
        applications = list(
            Application.objects.select_for_update(of=("self",)).select_related("opening")
            .filter(pk__in=self.application_ids).order_by("pk")
        )
        if len(applications) != len(self.application_ids):
            raise ValidationError({"applications": _("Une candidature sélectionnée n'existe plus.")})
        if len({a.opening_id for a in applications}) > 1:
            raise ValidationError({"applications": _("Une action groupée porte sur les candidatures d'une seule offre.")})
        opening = fresh_opening_status(applications[0].opening)
        for application in applications:
            application.opening = opening
        return opening, applications

    def check_all(self, opening, applications):
        if self.user is None or not permissions.roles_on(self.user, opening) & workflow.MANAGERS:
            raise PermissionDenied(str(self.denied_message))
        if opening.recruitment_state not in MOVABLE_STATES:
            raise Conflict(closed_opening_message(opening))
        needs_reason = None
        for application in applications:
            transition = self.table.between(application.status, self.target)
            if transition is None or transition.name not in self.transitions:
                message = workflow.refusal(application.status, self.target, opening.stage_label)
                raise Conflict(_("%(ref)s : %(message)s") % {"ref": application.reference, "message": message})
            if transition.reason_required and needs_reason is None:
                needs_reason = transition.name
        if needs_reason and not self.params.get("reason"):
            raise ValidationError({"reason": str(workflow.REASON_REQUIRED[needs_reason])})
        if self.target in SCORECARD_GATED:
            self.guard_scorecards([a.pk for a in applications])

    def guard_scorecards(self, pks):
        """One query: the applications whose jury has a scorecard pending, or none at all
        after an interview (``Move.guard``, for all of them at once)."""
        waiting = (
            Application.objects.filter(pk__in=pks)
            .annotate(
                cards=Count("scorecards", distinct=True),
                pending=Count("scorecards", filter=Q(scorecards__submitted_at__isnull=True), distinct=True),
                met=Count("interviews", distinct=True),
            )
            .filter(Q(pending__gt=0) | Q(cards=0, met__gt=0))
            .order_by("pk").values_list("reference", flat=True)
        )
        references = list(waiting[:5])
        if references:
            raise Conflict(
                _("Toutes les grilles d'évaluation des membres du jury doivent être soumises avant la décision "
                  "(%(refs)s).") % {"refs": ", ".join(references)}
            )

    def execute(self):
        self.clean_params()
        if self.user is None:
            raise PermissionDenied(str(self.denied_message))
        self.batch = secrets.token_hex(8)
        target = self.target
        with transaction.atomic():
            self.opening, applications = self.lock_all()
            self.check_all(self.opening, applications)
            self.rows = [(a.pk, a.status) for a in applications]
            pks = [pk for pk, _status in self.rows]
            Application.objects.filter(pk__in=pks).update(
                status=target, status_changed_at=self.now, closed_at=self.now if target in TERMINAL else None
            )
            if self.log:
                reason = "\n".join(p for p in (self.params.get("reason", ""), self.params.get("note", "")) if p)
                ApplicationEvent.objects.bulk_create(
                    [
                        ApplicationEvent(application_id=pk, kind="move", from_status=status, to_status=target,
                                         reason=reason, actor=self.user, at=self.now, batch=self.batch)
                        for pk, status in self.rows
                    ],
                    batch_size=500,
                )
            kind = MESSAGE_ON_ARRIVAL.get(target)
            if self.notify and kind is not None:
                actor_id = self.user.pk
                transaction.on_commit(lambda: [
                    services.send_message(application_id=pk, kind=kind, actor_id=actor_id) for pk in pks
                ])
            transaction.on_commit(lambda: action_executed.send(sender=type(self), action=self))
        return self.batch, len(self.rows)


def common_targets(statuses, names=workflow.RECRUITER_MOVES):
    """The statuses every application in ``statuses`` may be moved to (a bulk move), in the
    table's order."""
    statuses = list(dict.fromkeys(statuses))
    if not statuses:
        return []
    shared = set(workflow.targets(statuses[0], names))
    for status in statuses[1:]:
        shared &= set(workflow.targets(status, names))
    return [target for target in workflow.targets(statuses[0], names) if target in shared]


def bulk_move_needs_reason(statuses, target):
    """Whether moving applications in ``statuses`` to ``target`` needs a reason (a move back
    or a reopening for any of them)."""
    transitions = (workflow.MOVES.between(status, target) for status in set(statuses))
    return any(t is not None and t.reason_required for t in transitions)


class WithdrawForErasure:
    """The table's ``withdraw``, in bulk, when a candidate's data is erased (CNIL): nobody can
    assess "Anonyme", so each application still in progress is withdrawn, with its move
    event. Runs inside the erasure's transaction; ``action_executed`` after commit."""

    name = "withdraw_for_erasure"
    transition = workflow.MOVES["withdraw"]

    def __init__(self, applications, *, actor=None, now):
        self.applications = applications  # [(pk, status)], the statuses read in the transaction
        self.actor = actor
        self.now = now
        self.rows = []

    def execute(self):
        self.rows = [(pk, status) for pk, status in self.applications if status in self.transition.sources]
        if not self.rows:
            return 0
        pks = [pk for pk, _status in self.rows]
        Application.objects.filter(pk__in=pks, status__in=self.transition.sources).update(
            status=self.transition.target, status_changed_at=self.now, closed_at=self.now
        )
        ApplicationEvent.objects.bulk_create(
            ApplicationEvent(
                application_id=pk, kind="move", from_status=status, to_status=self.transition.target,
                reason=_("Retrait : effacement des données personnelles"), actor=self.actor, at=self.now,
            )
            for pk, status in self.rows
        )
        transaction.on_commit(lambda: action_executed.send(sender=type(self), action=self))
        return len(self.rows)


class UndoBatch(BaseAction):
    """Put every application of a bulk action back where it was (messages sent stay sent)."""

    name = "undo_batch"
    label = gettext_lazy("Annuler")
    model = ApplicationEvent
    denied_message = NOT_MANAGER

    def __init__(self, batch, **kwargs):
        super().__init__(None, **kwargs)
        self.batch = batch or ""
        self.moves = []

    def execute(self):
        if self.user is None:
            raise PermissionDenied(str(self.denied_message))
        undo = f"undo-{self.batch}"[:32]
        with transaction.atomic():
            events = list(ApplicationEvent.objects.filter(batch=self.batch, kind="move").order_by("application_id", "pk"))
            if not self.batch or not events:
                raise ValidationError({"batch": _("Action groupée inconnue.")})
            for event in events:
                application = (
                    Application.objects.select_for_update(of=("self",)).select_related("opening").get(pk=event.application_id)
                )
                opening = fresh_opening_status(application.opening)
                if not permissions.can_manage(self.user, opening):
                    raise PermissionDenied(str(self.denied_message))
                if opening.recruitment_state not in MOVABLE_STATES:
                    raise Conflict(_("Ce recrutement est clos : l'action groupée ne peut plus être annulée."))
                if application.status != event.to_status:
                    raise Conflict(
                        _("La candidature %(ref)s a changé depuis : annulation impossible.") % {"ref": application.reference}
                    )
                move = Move(
                    application, user=self.user, now=self.now, log=self.log, notify=False, batch=undo,
                    params={"status": event.from_status, "reason": _("Annulation de l'action groupée")},
                )
                move.execute()
                self.moves.append(move)
            transaction.on_commit(lambda: action_executed.send(sender=type(self), action=self))
        return len(self.moves)


# --- the opening -------------------------------------------------------------------------------


class CloseOpening(BaseAction):
    """The opening is filled or cancelled: its ``OpeningStatus`` row is written (never a page
    field: publishing a revision cannot reopen it), and its applications in progress are
    cancelled at once (the table's "cancel"), each with its event.

    Without a user (the daily task, or a read of the notice or the board), an open opening
    whose application deadline has passed is closed to applications
    (``OpeningState.APPLICATIONS_CLOSED``): nothing is cancelled, moves go on, and a recruiter
    closes it as filled or cancelled later."""

    name = "close_opening"
    label = gettext_lazy("Clôturer le recrutement")
    model = JobOpeningPage
    denied_message = NOT_MANAGER
    Params = params_form(
        {
            "state": forms.ChoiceField(
                choices=[(OpeningState.FILLED, OpeningState.FILLED.label), (OpeningState.CANCELLED, OpeningState.CANCELLED.label)],
                error_messages={
                    "invalid_choice": gettext_lazy("État de clôture invalide."),
                    "required": gettext_lazy("État de clôture invalide."),
                },
            ),
            "reason": forms.CharField(required=False, max_length=MAX_REASON),
        }
    )

    def __init__(self, target, **kwargs):
        super().__init__(target, **kwargs)
        self.status_row = None
        self.cancelled = 0

    @property
    def deadline_closing(self):
        return self.user is None and (self.params or self.raw_params).get("state") == OpeningState.APPLICATIONS_CLOSED

    def clean_params(self):
        if self.deadline_closing:  # the system's own closing: not a choice offered to users
            self.params = {"state": OpeningState.APPLICATIONS_CLOSED, "reason": _("Date limite de candidature dépassée")}
            return self.params
        return super().clean_params()

    def check_permission(self):
        if self.deadline_closing:
            return
        if self.user is None or not permissions.can_manage(self.user, self.obj):
            raise PermissionDenied(str(self.denied_message))

    def check_state(self):
        state = self.obj.recruitment_state
        if self.deadline_closing:
            if state != OpeningState.OPEN or self.obj.application_deadline >= timezone.localdate(self.now):
                raise Conflict(_("Cette offre n'a pas dépassé sa date limite de candidature."))
            return
        if state not in MOVABLE_STATES:
            raise Conflict(_("Ce recrutement est déjà clos (%(state)s).") % {"state": OpeningState(state).label})

    def lock(self):
        opening = JobOpeningPage.objects.select_for_update(of=("self",)).get(pk=self.pk)
        return fresh_opening_status(opening)

    def execute(self):
        with transaction.atomic():
            self.obj = self.lock()
            self.check()
            self.from_state, self.to_state = self.obj.recruitment_state, self.params["state"]
            self.status_row, _created = OpeningStatus.objects.update_or_create(
                opening=self.obj, defaults={"state": self.to_state, "closed_at": self.now, "closed_by": self.user,
                                            "reason": self.params.get("reason", "")},
            )
            JobOpeningPage.recruitment_status.related.set_cached_value(self.obj, self.status_row)
            if self.to_state != OpeningState.APPLICATIONS_CLOSED:
                self.cancelled = self.cancel_applications()
            transaction.on_commit(lambda: action_executed.send(sender=type(self), action=self))
        return self.obj

    def cancel_applications(self):
        cancel = workflow.MOVES["cancel"]
        in_progress = Application.objects.filter(opening=self.obj, status__in=cancel.sources)
        remaining = list(in_progress.select_for_update(of=("self",)).order_by("pk").values_list("pk", "status"))
        in_progress.update(status=cancel.target, status_changed_at=self.now, closed_at=self.now)
        if self.log:
            reason = _("Recrutement clos : %(s)s") % {"s": OpeningState(self.to_state).label}
            ApplicationEvent.objects.bulk_create(
                [
                    ApplicationEvent(application_id=pk, kind="move", from_status=status, to_status=cancel.target,
                                     reason=reason, actor=self.user, at=self.now)
                    for pk, status in remaining
                ],
                batch_size=500,
            )
        return len(remaining)


# --- the same, as functions (they only build the action and execute it) ----------------------------


def move(*, application_id, to_status, actor, reason="", note="", now=None, notify=True, log=True):
    params = {"status": to_status, "reason": reason or "", "note": note or ""}
    return Move(application_id, user=actor, params=params, now=now, notify=notify, log=log).execute()


def withdraw(*, token, now=None):
    """The candidate withdraws through their self-service link."""
    application = services.application_for_token(token, now)
    if application is None:
        raise PermissionDenied(_("Ce lien n'est plus valable."))
    return Withdraw(application.pk, now=now).execute()


def bulk_reject(*, application_ids, actor, reason, send=True, now=None):
    """Returns ``(batch, count)``."""
    return BulkReject(application_ids, user=actor, params={"reason": reason or ""}, now=now, notify=send).execute()


def bulk_move(*, application_ids, actor, to_status, reason="", note="", now=None, notify=True):
    """Returns ``(batch, count)``."""
    params = {"status": to_status, "reason": reason or "", "note": note or ""}
    return BulkMove(application_ids, user=actor, params=params, now=now, notify=notify).execute()


def undo_batch(*, batch, actor, now=None):
    """Returns the number of applications put back."""
    return UndoBatch(batch, user=actor, now=now).execute()


def close_past_deadline(opening, *, now=None):
    """On read: closes ``opening`` to applications if its deadline has passed and it is still
    open (``CloseOpening`` without a user). Returns True when it did."""
    if opening.recruitment_state != OpeningState.OPEN or opening.application_deadline >= timezone.localdate(now):
        return False
    try:
        close_opening(opening=opening, state=OpeningState.APPLICATIONS_CLOSED, actor=None, now=now)
    except Conflict:  # closed meanwhile by somebody else
        return False
    return True


def close_openings_past_deadline(*, now=None):
    """Daily: every open opening whose deadline has passed is closed to applications, one
    ``CloseOpening`` each. Returns their references."""
    from recruitment.selectors import IS_OPEN

    due = JobOpeningPage.objects.filter(IS_OPEN, application_deadline__lt=timezone.localdate(now)).order_by("pk")
    return [opening.reference for opening in due.iterator() if close_past_deadline(opening, now=now)]


def close_opening(*, opening, state, actor, reason="", now=None):
    """Returns the number of applications cancelled; ``opening`` then reads the new state."""
    action = CloseOpening(opening, user=actor, params={"state": state, "reason": reason or ""}, now=now)
    action.execute()
    if isinstance(opening, JobOpeningPage):
        JobOpeningPage.recruitment_status.related.set_cached_value(opening, action.status_row)
    return action.cancelled
