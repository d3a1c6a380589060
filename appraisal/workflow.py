"""The legal workflow of the entretien professionnel, in one module.

The transitions are declared as data (``TRANSITIONS``); ``perform()`` is the only way to
change an appraisal's state. It locks the row, checks the actor and the transition,
checks the guards (each answering with a sentence), applies the change, writes the
``AppraisalTransition`` row in the same transaction and defers e-mails and PDFs with
``transaction.on_commit``. Views, API and admin all call ``perform()``.
"""

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from appraisal import content
from appraisal.choices import AppraisalState as S
from appraisal.choices import ObjectiveStatus
from appraisal.choices import RevisionState as R
from appraisal.models import Appraisal, AppraisalTransition, AppraisalVersion, Objective
from cms import dates as calendar
from cms import roles
from cms.models import Agent
from cms.selectors import agent_for_user, has_role, reports_subquery

EVALUATOR, AGENT, REVIEWER, HR = "evaluator", "agent", "reviewer", "hr"
BEFORE_FINAL = {S.CREATED, S.CONVOKED, S.HELD, S.NOTIFIED, S.ACKNOWLEDGED}


class InvalidTransition(Exception):
    """Valid request, wrong moment (API: 409). The message says why."""


@dataclass(frozen=True)
class Transition:
    from_states: frozenset
    to_state: str | None  # None: the state does not change (delegation, revision overlay)
    actors: frozenset
    revision_from: frozenset = field(default_factory=frozenset)  # required revision_state, if any


TRANSITIONS = {
    "convoke": Transition(frozenset({S.CREATED, S.CONVOKED}), S.CONVOKED, frozenset({EVALUATOR})),
    "hold": Transition(frozenset({S.CONVOKED}), S.HELD, frozenset({EVALUATOR})),
    "notify": Transition(frozenset({S.HELD}), S.NOTIFIED, frozenset({EVALUATOR})),
    "acknowledge": Transition(frozenset({S.NOTIFIED}), S.ACKNOWLEDGED, frozenset({AGENT})),
    "record_refusal": Transition(frozenset({S.NOTIFIED}), S.ACKNOWLEDGED, frozenset({HR})),
    "visa": Transition(frozenset({S.ACKNOWLEDGED}), S.FINAL, frozenset({REVIEWER})),
    "cancel": Transition(frozenset(BEFORE_FINAL), S.CANCELLED, frozenset({HR})),
    "delegate": Transition(frozenset({S.CREATED, S.CONVOKED, S.HELD}), None, frozenset({HR, EVALUATOR})),
    "request_revision": Transition(
        frozenset({S.NOTIFIED, S.ACKNOWLEDGED, S.FINAL}), None, frozenset({AGENT}), frozenset({R.NONE})
    ),
    "answer_revision": Transition(
        frozenset({S.NOTIFIED, S.ACKNOWLEDGED, S.FINAL}), None, frozenset({REVIEWER}), frozenset({R.REQUESTED})
    ),
    "refer_cap": Transition(
        frozenset({S.NOTIFIED, S.ACKNOWLEDGED, S.FINAL}), None, frozenset({AGENT, HR}),
        frozenset({R.REJECTED, R.IMPLICITLY_REJECTED}),
    ),
    "record_cap_opinion": Transition(
        frozenset({S.NOTIFIED, S.ACKNOWLEDGED, S.FINAL}), None, frozenset({HR}), frozenset({R.CAP_REFERRED})
    ),
}
ACTIONS = list(TRANSITIONS)


def roles_on(user, appraisal):
    """The workflow roles a user holds on an appraisal."""
    held = set()
    agent = agent_for_user(user)
    if agent is not None:
        if appraisal.evaluator_id == agent.pk:
            held.add(EVALUATOR)
        if appraisal.agent_id == agent.pk:
            held.add(AGENT)
        if appraisal.reviewer_id == agent.pk:
            held.add(REVIEWER)
    if has_role(user, roles.HR):
        held.add(HR)
    return held


def allowed_actions(user, appraisal, now=None):
    """Actions the user could attempt now (for buttons); guards may still refuse."""
    mine = roles_on(user, appraisal)
    return [
        name
        for name, t in TRANSITIONS.items()
        if appraisal.state in t.from_states
        and mine & t.actors
        and (not t.revision_from or appraisal.revision_state in t.revision_from)
    ]


def content_hash(appraisal, objectives):
    payload = {
        "appraisal": appraisal.pk,
        "campaign": appraisal.campaign_id,
        "agent": appraisal.agent_id,
        "version": appraisal.version,
        "answers": appraisal.answers,
        "objectives": objectives,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()


def _day(moment):
    return timezone.localtime(moment).date()


def _fmt(day_or_moment):
    return date_format(day_or_moment, "DATE_FORMAT")


def _required_text(params, name, label):
    value = (params.get(name) or "").strip()
    if not value:
        raise ValidationError({name: _("%(label)s est obligatoire.") % {"label": label}})
    return value


def missing_required_sections(appraisal):
    """Titles of the required sections left empty (overall appraisal, required themes)."""
    missing = []
    snapshot = appraisal.campaign.template_snapshot
    readable = content.readable_answers(snapshot, appraisal.answers)
    for sid, kind, spec in content.template_sections(snapshot):
        required = kind == "overall" or (kind == "free_text" and spec.get("required"))
        if required and not readable.get(sid, "").strip():
            missing.append(str(spec.get("title") or sid))
    return missing


# --- per-action effects ---------------------------------------------------------------------


def _convoke(appraisal, actor, params, now):
    raw = params.get("interview_at")
    moment = raw if isinstance(raw, datetime) else parse_datetime(str(raw or ""))
    if moment is None:
        raise ValidationError({"interview_at": _("Indiquez la date et l'heure de l'entretien (ISO 8601).")})
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    notice = appraisal.campaign.notice_days
    earliest = now + timezone.timedelta(days=notice)
    if moment < earliest:
        raise InvalidTransition(
            _("L'entretien doit être fixé au moins %(days)s jours après la convocation, soit le %(date)s au plus tôt.")
            % {"days": notice, "date": _fmt(_day(earliest))}
        )
    if _day(moment) > appraisal.campaign.ends_on:
        raise InvalidTransition(
            _("L'entretien doit avoir lieu avant la clôture de la campagne (%(date)s).") % {"date": _fmt(appraisal.campaign.ends_on)}
        )
    appraisal.interview_at = moment
    appraisal.interview_place = (params.get("place") or appraisal.interview_place or "").strip()
    appraisal.convoked_at = now
    return "convocation"


def _hold(appraisal, actor, params, now):
    if appraisal.interview_at and now < appraisal.interview_at:
        raise InvalidTransition(
            _("L'entretien est prévu le %(date)s : il ne peut pas être déclaré tenu avant.") % {"date": _fmt(_day(appraisal.interview_at))}
        )
    appraisal.held_at = now


def _notify(appraisal, actor, params, now):
    invalid = content.stored_errors(appraisal)
    if invalid:  # legacy or tampered data: never frozen, signed and hashed as is
        raise ValidationError(
            {
                "answers": [
                    _("Le compte rendu enregistré contient des erreurs à corriger avant de le notifier : %(e)s")
                    % {"e": " ".join(str(error) for error in invalid)}
                ]
            }
        )
    missing = missing_required_sections(appraisal)
    if missing:
        raise ValidationError(
            {"answers": _("Sections obligatoires à remplir avant de notifier : %(s)s.") % {"s": ", ".join(missing)}}
        )
    limit = calendar.calendar_deadline(_day(appraisal.held_at or now), appraisal.campaign.notification_limit_days)
    note = ""
    if _day(now) > limit:
        note = (params.get("reason") or "").strip()
        if not note:
            raise InvalidTransition(
                _("Le compte rendu devait être notifié dans les %(days)s jours suivant l'entretien (au plus tard le "
                  "%(date)s) : indiquez le motif du retard pour notifier.")
                % {"days": appraisal.campaign.notification_limit_days, "date": _fmt(limit)}
            )
    objectives = _freeze_objectives(appraisal)
    appraisal.notified_at = now
    appraisal.evaluator_signed_at = now
    appraisal.agent_signed_at = None
    appraisal.content_hash = content_hash(appraisal, objectives)
    previous = appraisal.versions.order_by("-number").first()
    AppraisalVersion.objects.create(
        appraisal=appraisal,
        number=appraisal.version,
        previous=previous,
        answers=appraisal.answers,
        objectives=objectives,
        content_hash=appraisal.content_hash,
        signed_by=actor,
        signed_at=now,
    )
    params["_note"] = note
    return "notification"


def _freeze_objectives(appraisal):
    """Objectives for next year become rows (replaced if the report is renotified); the
    assessment of carried objectives is written on them. Returns a plain copy for the hash."""
    snapshot = appraisal.campaign.template_snapshot
    answers = content.readable_answers(snapshot, appraisal.answers)
    Objective.objects.filter(set_in=appraisal).delete()
    new = []
    for sid, kind, _spec in content.template_sections(snapshot):
        if kind == "objectives":
            for position, item in enumerate(answers[sid]):
                if item["title"].strip():
                    new.append(
                        Objective(
                            agent_id=appraisal.agent_id, set_in=appraisal, title=item["title"].strip()[:500],
                            indicators=item["indicators"], due_on=item["due_on"] or None, position=position,
                        )
                    )
        elif kind == "results":
            results = answers[sid]
            carried = {o.pk: o for o in Objective.objects.filter(assessed_in=appraisal)}
            for key, result in results.items():
                obj = carried.get(int(key))
                if obj is not None and result["status"] in ObjectiveStatus.values:
                    obj.status = result["status"]
                    obj.result_comment = result.get("comment", "")
                    obj.save(update_fields=["status", "result_comment"])
    Objective.objects.bulk_create(new)
    return [
        {"title": o.title, "indicators": o.indicators, "due_on": str(o.due_on or ""), "status": o.status}
        for o in Objective.objects.filter(Q(set_in=appraisal) | Q(assessed_in=appraisal)).order_by("pk")
    ]


def _acknowledge(appraisal, actor, params, now):
    appraisal.observations = content.clean_observations(params.get("observations") or appraisal.observations or "").strip()
    appraisal.agent_signed_at = now
    return "acknowledged"


def _record_refusal(appraisal, actor, params, now):
    reason = _required_text(params, "reason", _("Le motif"))
    raw = params.get("date")
    day = raw if raw else _day(now)
    if isinstance(day, str):
        from django.utils.dateparse import parse_date

        day = parse_date(day)
        if day is None:
            raise ValidationError({"date": _("Date invalide (AAAA-MM-JJ).")})
    if day > _day(now) or day < _day(appraisal.notified_at):
        raise ValidationError({"date": _("La date doit être comprise entre la notification et aujourd'hui.")})
    appraisal.refusal_reason = reason
    appraisal.refusal_recorded_at = now
    params["_note"] = f"{day.isoformat()} — {reason}"


def _visa(appraisal, actor, params, now):
    appraisal.visa_at = now
    return "final"


def _cancel(appraisal, actor, params, now):
    appraisal.cancelled_reason = _required_text(params, "reason", _("Le motif"))
    params["_note"] = appraisal.cancelled_reason


def may_evaluate_by_delegation(agent, candidate):
    """Whether an evaluator may hand the appraisal of ``agent`` over to ``candidate``.

    The candidate must be an active agent other than ``agent``, and either:

    1. **in the agent's management chain**: one of the agent's managers above them, i.e. the
       N+1 (``agent.manager``), the N+1's own manager (N+2), and so on upwards
       (``Agent.manager_chain``); or
    2. **a manager of the same unit subtree**: an agent with at least one active direct report,
       whose org unit is the agent's unit, one of its ancestors or one of its descendants
       (the org unit tree's materialised paths: one is a prefix of the other; a sibling or
       cousin unit does not qualify), and who is not below the agent in the manager chain
       (nobody evaluates their own manager).

    Anyone else (an agent without reports, a manager of another branch of the org chart, a
    peer…) needs HR: HR designates such a delegate by performing the delegation itself, and
    may choose any active agent. The checks that apply to every delegation (not the agent, not
    the current evaluator, active) are made by ``_delegate`` with their own sentences.
    """
    if candidate.pk == agent.pk or not candidate.active:
        return False
    if candidate.pk in {manager.pk for manager in agent.manager_chain()}:
        return True
    unit, other = agent.org_unit.path, candidate.org_unit.path
    if not (unit.startswith(other) or other.startswith(unit)):
        return False
    if not Agent.objects.filter(manager=candidate, active=True).exists():
        return False
    return not Agent.objects.filter(pk=candidate.pk).filter(pk__in=reports_subquery(agent.pk)).exists()


def _delegate(appraisal, actor, params, now):
    number = str(params.get("evaluator") or "").strip()
    reason = _required_text(params, "reason", _("Le motif de la délégation"))
    if not number:
        raise ValidationError({"evaluator": _("Indiquez le matricule du nouvel évaluateur.")})
    delegate = Agent.objects.select_related("user", "org_unit").filter(employee_number=number).first()
    if delegate is None:
        raise ValidationError({"evaluator": _("Aucun agent actif avec le matricule %(n)s.") % {"n": number[:32]}})
    if not delegate.active:
        raise ValidationError(
            {"evaluator": _("%(who)s (matricule %(n)s) n'est plus en activité : choisissez un agent actif.")
             % {"who": delegate.full_name, "n": delegate.employee_number}}
        )  # fmt: skip
    if delegate.pk == appraisal.agent_id:
        raise ValidationError({"evaluator": _("L'agent ne peut pas être son propre évaluateur.")})
    if delegate.pk == appraisal.evaluator_id:
        raise ValidationError({"evaluator": _("Cet agent est déjà l'évaluateur.")})
    if HR not in roles_on(actor, appraisal):
        agent = Agent.objects.select_related("org_unit", "manager").get(pk=appraisal.agent_id)
        if not may_evaluate_by_delegation(agent, delegate):
            raise PermissionDenied(
                _("Vous ne pouvez déléguer cet entretien qu'à un responsable de la chaîne hiérarchique de l'agent ou "
                  "à un encadrant de son unité (ou d'une unité au-dessus ou au-dessous de la sienne) ; pour tout "
                  "autre agent, adressez-vous aux ressources humaines.")
            )  # fmt: skip
    previous = appraisal.evaluator
    if appraisal.delegated_from_id is None:
        appraisal.delegated_from_id = appraisal.evaluator_id
    appraisal.evaluator = delegate
    appraisal.delegation_reason = reason
    params["_from_evaluator"] = previous.pk
    params["_to_evaluator"] = delegate.pk
    params["_note"] = _("Délégation de %(old)s (matricule %(old_n)s) à %(new)s (matricule %(new_n)s). Motif : %(reason)s") % {
        "old": previous.full_name,
        "old_n": previous.employee_number,
        "new": delegate.full_name,
        "new_n": delegate.employee_number,
        "reason": reason,
    }
    return "delegation"


def revision_deadline(appraisal):
    return calendar.jours_francs_deadline(_day(appraisal.notified_at), appraisal.campaign.revision_window_days)


def revision_answer_deadline(appraisal):
    return calendar.calendar_deadline(_day(appraisal.revision_requested_at), appraisal.campaign.revision_answer_days)


def cap_deadline(appraisal):
    from cms.dates import add_months

    rejected_on = appraisal.revision_answered_at or timezone.make_aware(
        datetime.combine(revision_answer_deadline(appraisal), datetime.min.time())
    )
    return add_months(_day(rejected_on), appraisal.campaign.cap_referral_months)


def _request_revision(appraisal, actor, params, now):
    deadline = revision_deadline(appraisal)
    if _day(now) > deadline:
        raise InvalidTransition(
            _("La demande de révision devait être faite dans les %(days)s jours francs suivant la notification, soit "
              "au plus tard le %(date)s.") % {"days": appraisal.campaign.revision_window_days, "date": _fmt(deadline)}
        )
    appraisal.revision_request = _required_text(params, "reason", _("Le motif de la demande"))
    appraisal.revision_requested_at = now
    appraisal.revision_state = R.REQUESTED
    params["_note"] = appraisal.revision_request
    return "revision_requested"


def _answer_revision(appraisal, actor, params, now):
    decision = params.get("decision")
    if decision not in ("accept", "reject"):
        raise ValidationError({"decision": _("Répondez « accept » ou « reject ».")})
    deadline = revision_answer_deadline(appraisal)
    if _day(now) > deadline:
        raise InvalidTransition(
            _("Le délai de réponse a expiré le %(date)s : la demande est implicitement rejetée.") % {"date": _fmt(deadline)}
        )
    appraisal.revision_answer = _required_text(params, "reason", _("La motivation de la réponse"))
    appraisal.revision_answered_at = now
    params["_note"] = f"{decision}: {appraisal.revision_answer}"
    if decision == "accept":
        # A new version: back to the evaluator, who corrects and notifies again.
        appraisal.revision_state = R.ACCEPTED
        appraisal.version += 1
        appraisal.state = S.HELD
        appraisal.held_at = now
        appraisal.notified_at = None
        appraisal.evaluator_signed_at = appraisal.agent_signed_at = appraisal.visa_at = None
        appraisal.pdf = ""
        return "revision_accepted"
    appraisal.revision_state = R.REJECTED
    return "revision_rejected"


def _refer_cap(appraisal, actor, params, now):
    deadline = cap_deadline(appraisal)
    if _day(now) > deadline:
        raise InvalidTransition(
            _("La CAP devait être saisie dans le mois suivant le refus de révision, soit au plus tard le %(date)s.")
            % {"date": _fmt(deadline)}
        )
    appraisal.cap_referred_at = now
    appraisal.revision_state = R.CAP_REFERRED
    params["_note"] = (params.get("reason") or "").strip()


def _record_cap_opinion(appraisal, actor, params, now):
    appraisal.cap_opinion = _required_text(params, "opinion", _("L'avis de la CAP"))
    appraisal.cap_opinion_at = now
    appraisal.revision_state = R.CAP_OPINION
    params["_note"] = appraisal.cap_opinion


EFFECTS = {
    "convoke": _convoke,
    "hold": _hold,
    "notify": _notify,
    "acknowledge": _acknowledge,
    "record_refusal": _record_refusal,
    "visa": _visa,
    "cancel": _cancel,
    "delegate": _delegate,
    "request_revision": _request_revision,
    "answer_revision": _answer_revision,
    "refer_cap": _refer_cap,
    "record_cap_opinion": _record_cap_opinion,
}
assert set(EFFECTS) == set(TRANSITIONS)


def perform(*, appraisal_id, action, actor, params=None, now=None):
    """Apply ``action`` to the appraisal as ``actor``. Raises PermissionDenied (403/404),
    InvalidTransition (409) or ValidationError (400); on success returns the appraisal."""
    if action not in TRANSITIONS:
        raise ValidationError({"action": _("Action inconnue : %(a)s.") % {"a": action}})
    params = dict(params or {})
    now = now or timezone.now()
    transition = TRANSITIONS[action]
    with transaction.atomic():
        appraisal = Appraisal.objects.select_for_update(of=("self",)).select_related("campaign").get(pk=appraisal_id)
        mine = roles_on(actor, appraisal)
        if not mine & transition.actors:
            raise PermissionDenied(_("Vous n'êtes pas autorisé à effectuer cette action sur cet entretien."))
        if appraisal.state not in transition.from_states:
            raise InvalidTransition(
                _("Action « %(action)s » impossible : l'entretien est à l'état « %(state)s ».")
                % {"action": action, "state": S(appraisal.state).label}
            )
        if transition.revision_from and appraisal.revision_state not in transition.revision_from:
            raise InvalidTransition(
                _("Action « %(action)s » impossible : la révision est à l'état « %(state)s ».")
                % {"action": action, "state": R(appraisal.revision_state).label or _("aucune")}
            )
        from_state = appraisal.state
        on_behalf_of = None
        if action == "refer_cap" and HR in mine and AGENT not in mine:
            on_behalf_of = appraisal.agent
        event = EFFECTS[action](appraisal, actor, params, now)
        if transition.to_state is not None:
            appraisal.state = transition.to_state
        appraisal.save()
        AppraisalTransition.objects.create(
            appraisal=appraisal,
            action=action,
            from_state=from_state,
            to_state=appraisal.state,
            actor=actor,
            on_behalf_of=on_behalf_of,
            from_evaluator_id=params.get("_from_evaluator"),
            to_evaluator_id=params.get("_to_evaluator"),
            at=now,
            note=params.get("_note", ""),
            version=appraisal.version,
            content_hash=appraisal.content_hash,
        )
        if event:
            from appraisal import notifications

            transaction.on_commit(lambda: notifications.dispatch(event, appraisal.pk))
    return appraisal


def expire_revision_requests(*, now=None):
    """No answer within the time limit = implicit rejection (bulk; run daily)."""
    now = now or timezone.now()
    count = 0
    pending = Appraisal.objects.filter(revision_state=R.REQUESTED).select_related("campaign")
    for appraisal in pending.iterator():
        if _day(now) > revision_answer_deadline(appraisal):
            with transaction.atomic():
                locked = Appraisal.objects.select_for_update().get(pk=appraisal.pk)
                if locked.revision_state != R.REQUESTED:
                    continue
                locked.revision_state = R.IMPLICITLY_REJECTED
                locked.save(update_fields=["revision_state", "updated_at"])
                AppraisalTransition.objects.create(
                    appraisal=locked, action="implicit_rejection", from_state=locked.state, to_state=locked.state,
                    actor=None, at=now, note=_("Sans réponse dans le délai : rejet implicite."),
                    version=locked.version, content_hash=locked.content_hash,
                )
                count += 1
    return count
