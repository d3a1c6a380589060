"""The operations of the entretien professionnel: one ``BaseAction`` per action.

Each class declares its ``label`` (title of its form), ``button``, ``done_message``,
``Params`` (the Django form validating its parameters: the web form and the API request
body derive from it, appraisal/forms.py and appraisal/api/serializers.py), its guards (each
refusal a French sentence: ``Conflict`` for the wrong moment, answered 409 by the API;
``PermissionDenied`` for the wrong actor; ``ValidationError`` naming the field), its audit
row (``AppraisalTransition``, written in the same transaction) and its mails
(``mails``: the templates and the roles they go to, sent by ``appraisal.notifications.dispatch``
after commit only; ``notify=False``
suppresses it). The allowed transitions are the data of ``workflow.TABLE``.

Usage, from the views, the API, the tasks and the demo::

    Convoke(appraisal, user=request.user, params={"interview_at": "…", "place": "…"}).execute()

``ACTIONS`` maps each name (the API's ``{action}``) to its class.
"""

from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.functional import lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from wagtail.log_actions import log as log_action
from wagtail.permissions import policy_registry

from appraisal import content, deadlines, launch, notifications, permissions, services
from appraisal.choices import AppraisalState as S
from appraisal.choices import CampaignStatus, ObjectiveStatus
from appraisal.choices import RevisionState as R
from appraisal.models import Appraisal, AppraisalTransition, AppraisalVersion, Campaign, Objective
from appraisal.permissions import AGENT, HR
from appraisal.workflow import (
    ACCEPT,
    CAMPAIGN_TABLE,
    REJECT,
    TABLE,
    content_hash,
    may_evaluate_by_delegation,
    missing_required_sections,
)
from cms.actions import BaseAction
from cms.dates import local_day
from cms.exceptions import Conflict
from cms.models import Agent
from cms.text import date_format, of

MAX_TEXT = content.MAX_TEXT
DATE_INPUTS = ("%Y-%m-%d", "%d/%m/%Y")
DATETIME_INPUTS = ("%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%d/%m/%Y %H:%M")


def _fmt(day):
    return date_format(day, "DATE_FORMAT")


def _required(label):
    """The "required" message of a field, "<label> est obligatoire.", translated when shown."""
    return {"required": lazy(lambda: _("%(label)s est obligatoire.") % {"label": label}, str)()}


def _textarea(rows=3):
    return forms.Textarea(attrs={"rows": rows})


def _reason(label, *, required=True, rows=3, message_label=None, help_text=""):
    """A free-text parameter named ``reason`` (or another name, by the caller)."""
    return forms.CharField(
        label=label,
        required=required,
        max_length=MAX_TEXT,
        widget=_textarea(rows),
        help_text=help_text,
        error_messages=_required(message_label) if required and message_label else None,
    )


class AppraisalAction(BaseAction):
    """What every appraisal action shares: the table, the roles, the refusal sentences, the
    audit row and the mails."""

    model = Appraisal
    table = TABLE
    sub_state_field = "revision_state"
    select_related = ("campaign",)
    button = ""
    # An irreversible act asks for confirmation on a page naming what will happen
    # (``consequences``), before the POST that carries ``confirm=1`` (appraisal/views.py).
    confirm = False
    confirm_button = ""
    # The mails sent after commit: ((template under appraisal/email/, roles it goes to), ...);
    # roles are "agent", "evaluator", "reviewer" (appraisal/notifications.py sends them).
    mails = ()
    denied_message = gettext_lazy("Vous n'êtes pas autorisé à effectuer cette action sur cet entretien.")

    class Params(forms.Form):
        pass

    # --- declared data --------------------------------------------------------------------

    @classmethod
    def param_names(cls):
        return list(cls.Params.base_fields)

    @classmethod
    def actors(cls):
        return frozenset().union(*(t.actors for t in cls.table.named(cls.transition_name())))

    @classmethod
    def consequences(cls, appraisal):
        """What the action will do, in sentences (the confirmation page shows them)."""
        return []

    @classmethod
    def offered(cls, appraisal, now=None):
        """Whether the page offers the action now (beyond the table: e.g. not before a date)."""
        return True

    # --- the protocol ---------------------------------------------------------------------

    def roles(self):
        return permissions.roles_on(self.user, self.obj)

    def refused(self, state):
        return _("Action « %(action)s » impossible : l'entretien est à l'état « %(state)s ».") % {
            "action": self.name,
            "state": S(state).label,
        }

    def refused_sub_state(self, sub_state):
        return _("Action « %(action)s » impossible : la révision est à l'état « %(state)s ».") % {
            "action": self.name,
            "state": R(sub_state).label or _("aucune"),
        }

    def today(self):
        return deadlines.today(self.now)

    # --- audit and events -----------------------------------------------------------------

    def on_behalf_of(self):
        return None

    def audit_fields(self):
        return {}

    def audit(self):
        return AppraisalTransition.objects.create(
            appraisal=self.obj,
            action=self.name,
            from_state=self.from_state,
            to_state=self.to_state,
            actor=self.user,
            on_behalf_of=self.on_behalf_of(),
            at=self.now,
            note=self.note,
            version=self.obj.version,
            content_hash=self.obj.content_hash,
            **self.audit_fields(),
        )

    def notification_mails(self):
        return self.mails

    def notifications(self):
        mails, pk = self.notification_mails(), self.obj.pk
        if not mails:
            return ()
        return (lambda: notifications.dispatch(mails, pk),)


class Convoke(AppraisalAction):
    name = "convoke"
    label = gettext_lazy("Convoquer l'agent")
    button = gettext_lazy("Envoyer la convocation")
    done_message = gettext_lazy("La convocation a été envoyée à l'agent.")
    mails = (("convocation", ("agent",)),)  # the evaluator in copy, with the ICS

    class Params(forms.Form):
        interview_at = forms.DateTimeField(
            label=gettext_lazy("Date et heure de l'entretien"),
            input_formats=DATETIME_INPUTS,
            widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
            help_text=gettext_lazy("ISO 8601 ; au moins le délai de convocation après l'envoi."),
            error_messages={
                "required": gettext_lazy("Indiquez la date et l'heure de l'entretien (ISO 8601)."),
                "invalid": gettext_lazy("Indiquez la date et l'heure de l'entretien (ISO 8601)."),
            },
        )
        place = forms.CharField(label=gettext_lazy("Lieu de l'entretien"), max_length=255, required=False)

    def guard(self):
        campaign, moment = self.obj.campaign, self.params["interview_at"]
        earliest = deadlines.earliest_interview(campaign, self.now)
        if moment < earliest:
            raise Conflict(
                _(
                    "L'entretien doit être fixé au moins %(days)s jours après la convocation, soit le %(date)s au plus tôt."
                )
                % {"days": campaign.notice_days, "date": _fmt(local_day(earliest))}
            )
        if local_day(moment) > campaign.ends_on:
            raise Conflict(
                _("L'entretien doit avoir lieu avant la clôture de la campagne (%(date)s).")
                % {"date": _fmt(campaign.ends_on)}
            )

    def apply(self):
        self.obj.interview_at = self.params["interview_at"]
        self.obj.interview_place = (self.params.get("place") or self.obj.interview_place or "").strip()
        self.obj.convoked_at = self.now


class Hold(AppraisalAction):
    name = "hold"
    label = gettext_lazy("Déclarer l'entretien tenu")
    button = gettext_lazy("L'entretien a eu lieu")
    done_message = gettext_lazy("L'entretien est déclaré tenu : vous pouvez rédiger le compte rendu.")

    @classmethod
    def offered(cls, appraisal, now=None):
        """From the interview's date and time on (the guard refuses before, with a sentence)."""
        from django.utils import timezone

        return appraisal.interview_at is None or (now or timezone.now()) >= appraisal.interview_at

    def guard(self):
        if self.obj.interview_at and self.now < self.obj.interview_at:
            raise Conflict(
                _("L'entretien est prévu le %(date)s : il ne peut pas être déclaré tenu avant.")
                % {"date": _fmt(local_day(self.obj.interview_at))}
            )

    def apply(self):
        self.obj.held_at = self.now


class Notify(AppraisalAction):
    name = "notify"
    label = gettext_lazy("Signer et notifier le compte rendu")
    button = gettext_lazy("Signer et notifier")
    done_message = gettext_lazy("Le compte rendu est signé et notifié à l'agent.")
    mails = (("notification", ("agent",)),)
    confirm = True
    confirm_button = gettext_lazy("Confirmer : signer et notifier")

    @classmethod
    def consequences(cls, appraisal):
        return [
            _("Vous signez le compte rendu %(of_agent)s : il est figé et ne pourra plus être modifié, sauf demande "
              "de révision acceptée.") % {"of_agent": of(appraisal.agent.full_name)},
            _("Il est notifié à l'agent par courriel ; l'agent dispose de %(days)s jours pour en prendre connaissance "
              "et le signer.") % {"days": appraisal.campaign.agent_return_days},
        ]  # fmt: skip

    class Params(forms.Form):
        reason = _reason(
            gettext_lazy("Motif du retard"),
            required=False,
            help_text=gettext_lazy("À indiquer seulement si le délai de notification après l'entretien est dépassé."),
        )

    def guard(self):
        appraisal = self.obj
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
        limit = deadlines.notify_by(appraisal, self.now)
        if deadlines.passed(limit, self.now) and not self.params.get("reason"):
            raise Conflict(
                _("Le compte rendu devait être notifié dans les %(days)s jours suivant l'entretien (au plus tard le "
                  "%(date)s) : indiquez le motif du retard pour notifier.")
                % {"days": appraisal.campaign.notification_limit_days, "date": _fmt(limit)}
            )  # fmt: skip

    def apply(self):
        appraisal, now = self.obj, self.now
        if deadlines.passed(deadlines.notify_by(appraisal, now), now):
            self.note = self.params.get("reason", "")
        objectives = freeze_objectives(appraisal)
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
            signed_by=self.user,
            signed_at=now,
        )


def freeze_objectives(appraisal):
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
                    )  # fmt: skip
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


class Acknowledge(AppraisalAction):
    name = "acknowledge"
    label = gettext_lazy("Signer le compte rendu")
    button = gettext_lazy("Signer : j'ai pris connaissance")
    done_message = gettext_lazy("Vous avez signé le compte rendu. Il est transmis à l'autorité hiérarchique pour visa.")
    mails = (("acknowledged", ("reviewer",)),)

    class Params(forms.Form):
        observations = forms.CharField(
            label=gettext_lazy("Vos observations (facultatif)"),
            required=False,
            max_length=MAX_TEXT,
            widget=_textarea(8),
            help_text=gettext_lazy("Sur la conduite de l'entretien, les sujets abordés et le compte rendu."),
        )

    def apply(self):
        observations = self.params.get("observations") or self.obj.observations or ""
        self.obj.observations = content.clean_observations(observations).strip()
        self.obj.agent_signed_at = self.now


class RecordRefusal(AppraisalAction):
    name = "record_refusal"
    label = gettext_lazy("Constater un refus ou une absence de signature")
    button = gettext_lazy("Enregistrer le constat")
    done_message = gettext_lazy("Le refus ou l'absence de signature est enregistré.")

    class Params(forms.Form):
        reason = _reason(gettext_lazy("Motif (refus de signer ou absence)"), message_label=gettext_lazy("Le motif"))
        date = forms.DateField(
            label=gettext_lazy("Date du constat"),
            required=False,
            input_formats=DATE_INPUTS,
            widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            help_text=gettext_lazy("Entre la notification et aujourd'hui (AAAA-MM-JJ ; défaut : aujourd'hui)."),
            error_messages={"invalid": gettext_lazy("Date invalide (AAAA-MM-JJ).")},
        )

    def day(self):
        return self.params.get("date") or self.today()

    def guard(self):
        day = self.day()
        if day > self.today() or day < local_day(self.obj.notified_at):
            raise ValidationError({"date": _("La date doit être comprise entre la notification et aujourd'hui.")})

    def apply(self):
        reason = self.params["reason"]
        self.obj.refusal_reason = reason
        self.obj.refusal_recorded_at = self.now
        self.note = f"{self.day().isoformat()} — {reason}"


class Visa(AppraisalAction):
    name = "visa"
    label = gettext_lazy("Viser le compte rendu")
    button = gettext_lazy("Viser")
    done_message = gettext_lazy("Le compte rendu est visé : il est définitif.")
    mails = (("final", ("agent", "evaluator")),)  # and the PDF is archived (notifications)
    confirm = True
    confirm_button = gettext_lazy("Confirmer le visa")

    @classmethod
    def consequences(cls, appraisal):
        return [
            _("Le compte rendu %(of_agent)s devient définitif : le visa ne peut pas être retiré.")
            % {"of_agent": of(appraisal.agent.full_name)},
            _("Il est archivé en PDF et une copie est adressée à l'agent et à son évaluateur."),
        ]

    def apply(self):
        self.obj.visa_at = self.now


class Cancel(AppraisalAction):
    name = "cancel"
    label = gettext_lazy("Annuler l'entretien")
    button = gettext_lazy("Annuler l'entretien")
    done_message = gettext_lazy("L'entretien est annulé.")

    class Params(forms.Form):
        reason = _reason(gettext_lazy("Motif de l'annulation"), message_label=gettext_lazy("Le motif"))

    def apply(self):
        self.obj.cancelled_reason = self.note = self.params["reason"]


class Delegate(AppraisalAction):
    name = "delegate"
    label = gettext_lazy("Déléguer l'entretien")
    button = gettext_lazy("Déléguer")
    done_message = gettext_lazy("L'entretien est délégué.")
    # the new evaluator learns of the delegation, the agent who now evaluates them
    mails = (("delegation", ("evaluator",)), ("delegation_agent", ("agent",)))

    class Params(forms.Form):
        evaluator = forms.CharField(
            label=gettext_lazy("Matricule du nouvel évaluateur"),
            max_length=32,
            help_text=gettext_lazy(
                "Le matricule de l'agent qui conduira l'entretien : un responsable de la chaîne hiérarchique de "
                "l'agent (N+2…) ou un encadrant de son unité, ou d'une unité au-dessus ou au-dessous de la sienne. "
                "Pour tout autre agent, la délégation est faite par les ressources humaines."
            ),
            error_messages={"required": gettext_lazy("Indiquez le matricule du nouvel évaluateur.")},
        )
        reason = _reason(
            gettext_lazy("Motif de la délégation"), message_label=gettext_lazy("Le motif de la délégation")
        )

    def guard(self):
        appraisal, number = self.obj, self.params["evaluator"]
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
        if HR not in self.roles():
            agent = Agent.objects.select_related("org_unit", "manager").get(pk=appraisal.agent_id)
            if not may_evaluate_by_delegation(agent, delegate):
                raise PermissionDenied(
                    _("Vous ne pouvez déléguer cet entretien qu'à un responsable de la chaîne hiérarchique de l'agent "
                      "ou à un encadrant de son unité (ou d'une unité au-dessus ou au-dessous de la sienne) ; pour tout "
                      "autre agent, adressez-vous aux ressources humaines.")
                )  # fmt: skip
        self.delegate = delegate

    def apply(self):
        appraisal, delegate, reason = self.obj, self.delegate, self.params["reason"]
        self.previous = previous = appraisal.evaluator
        if appraisal.delegated_from_id is None:
            appraisal.delegated_from_id = appraisal.evaluator_id
        appraisal.evaluator = delegate
        appraisal.delegation_reason = reason
        self.note = _(
            "Délégation %(of_old)s (matricule %(old_n)s) à %(new)s (matricule %(new_n)s). Motif : %(reason)s"
        ) % {
            "of_old": of(previous.full_name),
            "old_n": previous.employee_number,
            "new": delegate.full_name,
            "new_n": delegate.employee_number,
            "reason": reason,
        }

    def audit_fields(self):
        return {"from_evaluator_id": self.previous.pk, "to_evaluator_id": self.delegate.pk}


class RequestRevision(AppraisalAction):
    name = "request_revision"
    label = gettext_lazy("Demander la révision du compte rendu")
    button = gettext_lazy("Envoyer la demande")
    done_message = gettext_lazy("Votre demande de révision est envoyée à l'autorité hiérarchique.")
    # the reviewer is asked to answer; the agent gets an acknowledgement with the time limit
    mails = (("revision_requested", ("reviewer",)), ("revision_request_received", ("agent",)))

    class Params(forms.Form):
        reason = _reason(
            gettext_lazy("Motif de la demande de révision"),
            rows=5,
            message_label=gettext_lazy("Le motif de la demande"),
        )

    def guard(self):
        limit = deadlines.revision_by(self.obj)
        if deadlines.passed(limit, self.now):
            raise Conflict(
                _("La demande de révision devait être faite dans les %(days)s jours francs suivant la notification, "
                  "soit au plus tard le %(date)s.") % {"days": self.obj.campaign.revision_window_days, "date": _fmt(limit)}
            )  # fmt: skip

    def apply(self):
        self.obj.revision_request = self.note = self.params["reason"]
        self.obj.revision_requested_at = self.now
        self.obj.revision_state = R.REQUESTED


class AnswerRevision(AppraisalAction):
    """Accepted: a new version, back to the evaluator (state ``held``), who corrects and
    notifies again; rejected: the state does not change. Two transitions in the table, the
    one taken chosen by the validated ``decision``."""

    name = "answer_revision"
    label = gettext_lazy("Répondre à la demande de révision")
    button = gettext_lazy("Envoyer la réponse")
    done_message = gettext_lazy("Votre réponse à la demande de révision est enregistrée.")

    class Params(forms.Form):
        decision = forms.ChoiceField(
            label=gettext_lazy("Réponse"),
            choices=[
                (ACCEPT, gettext_lazy("Accepter : le compte rendu sera corrigé puis notifié à nouveau")),
                (REJECT, gettext_lazy("Rejeter la demande")),
            ],
            widget=forms.RadioSelect,
            error_messages={
                "required": gettext_lazy("Répondez « accept » ou « reject »."),
                "invalid_choice": gettext_lazy("Répondez « accept » ou « reject »."),
            },
        )
        reason = _reason(
            gettext_lazy("Motivation de la réponse"), message_label=gettext_lazy("La motivation de la réponse")
        )

    def declared(self):
        candidates = [t for t in self.table.named(self.name) if t.applies_to(self.obj.state, self.obj.revision_state)]
        if not candidates:
            return None
        target = S.HELD if (self.params or {}).get("decision") == ACCEPT else None
        return next((t for t in candidates if t.target == target), candidates[0])

    def guard(self):
        limit = deadlines.revision_answer_by(self.obj)
        if deadlines.passed(limit, self.now):
            raise Conflict(
                _("Le délai de réponse a expiré le %(date)s : la demande est implicitement rejetée.")
                % {"date": _fmt(limit)}
            )

    def apply(self):
        appraisal, decision = self.obj, self.params["decision"]
        appraisal.revision_answer = self.params["reason"]
        appraisal.revision_answered_at = self.now
        self.note = f"{decision}: {appraisal.revision_answer}"
        if decision == ACCEPT:  # the state becomes "held" (declared by the table)
            appraisal.revision_state = R.ACCEPTED
            appraisal.version += 1
            appraisal.held_at = self.now
            appraisal.notified_at = None
            appraisal.evaluator_signed_at = appraisal.agent_signed_at = appraisal.visa_at = None
            appraisal.pdf = ""
        else:
            appraisal.revision_state = R.REJECTED

    def notification_mails(self):
        if self.params["decision"] == ACCEPT:
            return (("revision_accepted", ("agent", "evaluator")),)
        return (("revision_rejected", ("agent",)),)


class ImplicitRejection(AppraisalAction):
    """No answer to a revision request within the limit: implicit rejection (the daily task,
    ``expire_revision_requests``; no user)."""

    name = "implicit_rejection"
    label = gettext_lazy("Rejet implicite de la demande de révision (sans réponse dans le délai)")
    done_message = gettext_lazy("La demande de révision est implicitement rejetée.")
    system_allowed = True

    def guard(self):
        limit = deadlines.revision_answer_by(self.obj)
        if not deadlines.passed(limit, self.now):
            raise Conflict(
                _("La réponse à la demande de révision est attendue jusqu'au %(date)s.") % {"date": _fmt(limit)}
            )

    def apply(self):
        self.obj.revision_state = R.IMPLICITLY_REJECTED
        self.note = _("Sans réponse dans le délai : rejet implicite.")


class ReferCap(AppraisalAction):
    name = "refer_cap"
    label = gettext_lazy("Saisir la commission administrative paritaire (CAP)")
    button = gettext_lazy("Saisir la CAP")
    done_message = gettext_lazy("La saisine de la CAP est enregistrée.")

    class Params(forms.Form):
        reason = _reason(gettext_lazy("Observations (facultatif)"), required=False)

    def guard(self):
        limit = deadlines.cap_by(self.obj)
        if deadlines.passed(limit, self.now):
            raise Conflict(
                _("La CAP devait être saisie dans le mois suivant le refus de révision, soit au plus tard le %(date)s.")
                % {"date": _fmt(limit)}
            )

    def apply(self):
        self.obj.cap_referred_at = self.now
        self.obj.revision_state = R.CAP_REFERRED
        self.note = self.params.get("reason", "")

    def on_behalf_of(self):
        mine = self.roles()
        return self.obj.agent if HR in mine and AGENT not in mine else None


class RecordCapOpinion(AppraisalAction):
    name = "record_cap_opinion"
    label = gettext_lazy("Enregistrer l'avis de la CAP")
    button = gettext_lazy("Enregistrer l'avis")
    done_message = gettext_lazy("L'avis de la CAP est enregistré.")

    class Params(forms.Form):
        opinion = forms.CharField(
            label=gettext_lazy("Avis de la CAP"),
            max_length=MAX_TEXT,
            widget=_textarea(5),
            error_messages=_required(gettext_lazy("L'avis de la CAP")),
        )

    def apply(self):
        self.obj.cap_opinion = self.note = self.params["opinion"]
        self.obj.cap_opinion_at = self.now
        self.obj.revision_state = R.CAP_OPINION


ACTIONS = {
    cls.name: cls
    for cls in (
        Convoke,
        Hold,
        Notify,
        Acknowledge,
        RecordRefusal,
        Visa,
        Cancel,
        Delegate,
        RequestRevision,
        AnswerRevision,
        ImplicitRejection,
        ReferCap,
        RecordCapOpinion,
    )
}
assert set(ACTIONS) == set(TABLE.names), "every declared transition has its action, and only those"
#: The actions a user may ask for (web and API): all but the system's.
USER_ACTIONS = [name for name, cls in ACTIONS.items() if not cls.system_allowed]


# --- the campaign's launch ---------------------------------------------------------------------


class CampaignAction(BaseAction):
    model = Campaign
    table = CAMPAIGN_TABLE
    state_field = "status"
    update_fields = ()

    def refused(self, state):
        if state == CampaignStatus.CLOSED:
            return _("Cette campagne est clôturée : elle ne peut plus être lancée.")
        return super().refused(state)

    def save(self):
        self.obj.save(update_fields=["status", *self.update_fields])


class RequestLaunch(CampaignAction):
    """HR asks for the launch (or a relaunch creating the missing appraisals); the task is
    enqueued once the request's transaction has committed (the worker must find the row)."""

    name = "request_launch"
    label = gettext_lazy("Lancer la campagne")
    done_message = gettext_lazy("Lancement demandé.")
    denied_message = gettext_lazy("Vous n'êtes pas autorisé à lancer cette campagne.")
    update_fields = ("launch_progress", "launch_report")

    def roles(self):
        allowed = policy_registry.get_by_type(Campaign).user_has_permission(self.user, "change")
        return {HR} if allowed else set()

    def guard(self):
        self.launch = launch.launch_state(self.obj, self.now)
        if self.launch not in launch.LAUNCHABLE:
            raise Conflict(_("Le lancement de cette campagne est déjà en cours."))

    def apply(self):
        marker = {
            "requested_at": self.now.isoformat(),
            "requested_by": self.user.pk,
            "previous": self.obj.launch_report if self.launch == launch.DONE else None,
        }
        self.obj.launch_progress = 0.0
        self.obj.launch_report = marker
        campaign_id, user_id = self.obj.pk, self.user.pk
        # The launch itself, not a notification: it leaves after commit even with notify=False.
        transaction.on_commit(lambda: launch.enqueue(campaign_id, user_id, marker))

    def audit(self):
        log_action(self.obj, launch.LAUNCH_ACTION, user=self.user)


class BeginLaunch(CampaignAction):
    """The task starts: the template is frozen (once) and the campaign shows as launching."""

    name = "begin_launch"
    system_allowed = True
    update_fields = ("template_revision", "template_snapshot")

    def apply(self):
        if not self.obj.template_snapshot:
            services.freeze_template(self.obj)


class FinishLaunch(CampaignAction):
    """The task is done: the campaign runs, with its launch report (``params["report"]``)."""

    name = "finish_launch"
    system_allowed = True
    update_fields = ("launched_at", "launch_progress", "launch_report")

    def apply(self):
        self.obj.launched_at = self.obj.launched_at or self.now
        self.obj.launch_progress = 1.0
        self.obj.launch_report = self.params["report"]


class CloseCampaign(CampaignAction):
    """HR closes a running campaign whose appraisals are all final or cancelled, with no
    revision request waiting for its answer: its appraisals leave the evaluators' lists (the
    agents keep their reports) and the late lists."""

    name = "close"
    label = gettext_lazy("Clôturer la campagne")
    done_message = gettext_lazy("Campagne clôturée.")
    denied_message = gettext_lazy("Vous n'êtes pas autorisé à clôturer cette campagne.")

    def roles(self):
        allowed = policy_registry.get_by_type(Campaign).user_has_permission(self.user, "change")
        return {HR} if allowed else set()

    def refused(self, state):
        if state == CampaignStatus.CLOSED:
            return _("Cette campagne est déjà clôturée.")
        if state != CampaignStatus.RUNNING:
            return _("Seule une campagne lancée peut être clôturée.")
        return super().refused(state)

    def guard(self):
        open_count = (
            Appraisal.objects.filter(campaign=self.obj)
            .filter(~Q(state__in=[S.FINAL, S.CANCELLED]) | Q(revision_state=R.REQUESTED))
            .count()
        )
        if open_count:
            raise Conflict(
                ngettext(
                    "%(count)d entretien de cette campagne n'est pas terminé (ni définitif ni annulé, ou une demande "
                    "de révision attend sa réponse) : la campagne ne peut pas être clôturée.",
                    "%(count)d entretiens de cette campagne ne sont pas terminés (ni définitifs ni annulés, ou une "
                    "demande de révision attend sa réponse) : la campagne ne peut pas être clôturée.",
                    open_count,
                )
                % {"count": open_count}
            )

    def apply(self):
        """Nothing beyond the status (set by ``execute``)."""

    def audit(self):
        log_action(self.obj, launch.CLOSE_ACTION, user=self.user)


def action_for(name):
    """The action class called ``name`` that a user may ask for, or None."""
    return ACTIONS[name] if name in USER_ACTIONS else None


def offered_actions(user, appraisal, now=None):
    """The actions a page offers as buttons: ``allowed_actions`` less those whose moment has
    not come (``AppraisalAction.offered``, e.g. "L'entretien a eu lieu" before the interview)."""
    return [name for name in allowed_actions(user, appraisal) if ACTIONS[name].offered(appraisal, now)]


def allowed_actions(user, appraisal):
    """Actions the user could attempt now (for buttons and the API's ``allowed_actions``):
    the declared transitions from the appraisal's state and revision state whose actors
    include one of the user's roles. Guards (time limits…) may still refuse."""
    return TABLE.available(appraisal.state, permissions.roles_on(user, appraisal), appraisal.revision_state)


def expire_revision_requests(*, now=None):
    """Daily: each revision request unanswered past ``deadlines.revision_answer_by`` is
    implicitly rejected (``ImplicitRejection``, run by the system). Returns the count."""
    from django.utils import timezone

    now = now or timezone.now()
    count = 0
    pending = Appraisal.objects.filter(
        revision_state=R.REQUESTED, state__in=TABLE.sources_of(ImplicitRejection.name)
    ).select_related("campaign")
    for appraisal in pending.iterator():
        if not deadlines.passed(deadlines.revision_answer_by(appraisal), now):
            continue
        try:
            ImplicitRejection(appraisal.pk, user=None, now=now).execute()
        except Conflict:  # answered (or changed) meanwhile
            continue
        count += 1
    return count
