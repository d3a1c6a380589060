"""Input and output serializers of the appraisal API.

Output serializers read model instances fetched by ``appraisal.selectors`` with every
relation they show already joined (``select_related``): a page of appraisals is one query
whatever its length. ``allowed_actions`` needs the caller: the views put a :class:`Caller`
(built once per request) in the serializer context under ``"caller"``.
"""

from dataclasses import dataclass

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from appraisal import content
from appraisal.choices import AppraisalState, CampaignStatus, ObjectiveStatus, RevisionState
from appraisal.workflow import ACTIONS, AGENT, EVALUATOR, HR, REVIEWER, TRANSITIONS
from cms.api.serializers import OrgUnitRefSerializer

MAX_TEXT = content.MAX_TEXT
# Where the report is the notified one (elsewhere: a draft, or cancelled).
REPORT_STATES = {AppraisalState.NOTIFIED, AppraisalState.ACKNOWLEDGED, AppraisalState.FINAL}
SIGNED_STATES = {AppraisalState.ACKNOWLEDGED, AppraisalState.FINAL}


# --- the caller ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Caller:
    """Who is asking, computed once per request (no query per row afterwards)."""

    user: object
    agent_id: int | None
    is_hr: bool
    view_all: bool

    def roles_on(self, appraisal):
        """Same result as ``workflow.roles_on(user, appraisal)``, without a query per appraisal."""
        held = set()
        if self.agent_id is not None:
            if appraisal.evaluator_id == self.agent_id:
                held.add(EVALUATOR)
            if appraisal.agent_id == self.agent_id:
                held.add(AGENT)
            if appraisal.reviewer_id == self.agent_id:
                held.add(REVIEWER)
        if self.is_hr:
            held.add(HR)
        return held

    def allowed_actions(self, appraisal):
        """Same result as ``workflow.allowed_actions(user, appraisal)`` (declared transitions)."""
        mine = self.roles_on(appraisal)
        return [
            name
            for name, t in TRANSITIONS.items()
            if appraisal.state in t.from_states
            and mine & t.actors
            and (not t.revision_from or appraisal.revision_state in t.revision_from)
        ]

    def sees_draft(self, appraisal):
        """The evaluator's draft is the agent's to read only once notified (the report is
        then signed and frozen); the evaluator, the reviewer and HR read it at any time.
        (The same rule as the site's detail page, appraisal/views.py.)"""
        if appraisal.state in REPORT_STATES:
            return True
        return self.view_all or bool(self.roles_on(appraisal) - {AGENT})

    def sees_observations(self, appraisal):
        """The agent's observations are their draft until they sign (or HR records a refusal)."""
        signed = bool(appraisal.agent_signed_at or appraisal.refusal_recorded_at) or appraisal.state in SIGNED_STATES
        return signed or AGENT in self.roles_on(appraisal)


# --- errors (schema only) -----------------------------------------------------------------------------


@extend_schema_serializer(component_name="AppraisalError")
class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text=_("Message lisible."))
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text=_("Erreurs par champ : {nom: [messages]}."),
    )


# --- references -----------------------------------------------------------------------------------------


class CampaignRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    year = serializers.IntegerField()
    name = serializers.CharField()


class AppraisalPersonSerializer(serializers.Serializer):
    employee_number = serializers.CharField()
    full_name = serializers.CharField()


class AppraisalAgentSerializer(AppraisalPersonSerializer):
    org_unit = serializers.CharField(source="org_unit.code", help_text=_("Code de l'unité de l'agent."))


# --- campaigns ----------------------------------------------------------------------------------------------


class CampaignSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    year = serializers.IntegerField()
    name = serializers.CharField()
    status = serializers.ChoiceField(choices=CampaignStatus.choices)
    starts_on = serializers.DateField()
    interviews_until = serializers.DateField(help_text=_("Date limite des entretiens."))
    ends_on = serializers.DateField()
    notice_days = serializers.IntegerField(help_text=_("Délai de convocation (jours)."))
    agent_return_days = serializers.IntegerField(help_text=_("Délai de retour de l'agent (jours)."))
    notification_limit_days = serializers.IntegerField(help_text=_("Délai de notification après l'entretien (jours)."))
    revision_window_days = serializers.IntegerField(help_text=_("Délai de demande de révision (jours francs)."))
    launched_at = serializers.DateTimeField(allow_null=True)


class AppraisalStateCountsSerializer(serializers.Serializer):
    """One count per appraisal state."""

    def get_fields(self):
        return {state: serializers.IntegerField(help_text=str(label)) for state, label in AppraisalState.choices}


class CampaignProgressUnitSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    kind = serializers.CharField()
    has_children = serializers.BooleanField(help_text=_("Filtrer sur ce code (org_unit) détaille ses sous-unités."))
    total = serializers.IntegerField()
    counts = AppraisalStateCountsSerializer()


class CampaignProgressSerializer(serializers.Serializer):
    campaign = CampaignRefSerializer()
    org_unit = OrgUnitRefSerializer(allow_null=True, help_text=_("L'unité détaillée ; null : les directions."))
    units = CampaignProgressUnitSerializer(many=True)
    totals = AppraisalStateCountsSerializer(help_text=_("Somme des unités listées."))


# --- appraisals -----------------------------------------------------------------------------------------------


class AppraisalSerializer(serializers.Serializer):
    """An appraisal as lists show it, with the actions the caller may attempt now."""

    # Needs context["caller"] (a Caller).

    id = serializers.IntegerField()
    campaign = CampaignRefSerializer()
    agent = AppraisalAgentSerializer()
    evaluator = AppraisalPersonSerializer()
    reviewer = AppraisalPersonSerializer(allow_null=True)
    state = serializers.ChoiceField(choices=AppraisalState.choices)
    revision_state = serializers.ChoiceField(choices=RevisionState.choices, allow_blank=True)
    interview_at = serializers.DateTimeField(allow_null=True)
    notified_at = serializers.DateTimeField(allow_null=True)
    evaluator_signed_at = serializers.DateTimeField(allow_null=True)
    agent_signed_at = serializers.DateTimeField(allow_null=True)
    visa_at = serializers.DateTimeField(allow_null=True)
    version = serializers.IntegerField()
    content_hash = serializers.CharField(allow_blank=True, help_text=_("SHA-256 du compte rendu notifié."))
    allowed_actions = serializers.SerializerMethodField()
    updated_at = serializers.DateTimeField()

    @extend_schema_field(
        serializers.ListField(
            child=serializers.ChoiceField(choices=ACTIONS),
            help_text=_("Actions que l'appelant peut tenter maintenant (les conditions de délai restent vérifiées)."),
        )
    )
    def get_allowed_actions(self, appraisal):
        return self.context["caller"].allowed_actions(appraisal)


class AppraisalObjectiveSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    indicators = serializers.CharField(allow_blank=True)
    due_on = serializers.DateField(allow_null=True)
    status = serializers.ChoiceField(choices=ObjectiveStatus.choices)
    result_comment = serializers.CharField(allow_blank=True)


class AppraisalObjectivesSerializer(serializers.Serializer):
    set = AppraisalObjectiveSerializer(
        many=True, help_text=_("Objectifs fixés lors de cet entretien (pour l'année à venir).")
    )
    assessed = AppraisalObjectiveSerializer(
        many=True, help_text=_("Objectifs de l'an dernier, évalués lors de cet entretien.")
    )


def _name(user):
    return (user.get_full_name() or user.get_username()) if user is not None else None


class AppraisalTransitionSerializer(serializers.Serializer):
    """One row of the append-only log: ``action, from, to, actor, at, note`` and, for a
    delegation, ``from_evaluator`` and ``to_evaluator``."""

    def get_fields(self):
        return {
            "action": serializers.CharField(),
            "from": serializers.CharField(source="from_state"),
            "to": serializers.CharField(source="to_state"),
            "actor": serializers.SerializerMethodField(
                method_name="get_actor", help_text=_("Nom de l'auteur ; null : automatique (délai expiré).")
            ),
            "on_behalf_of": serializers.SerializerMethodField(
                method_name="get_on_behalf_of", help_text=_("Pour le compte de.")
            ),
            "at": serializers.DateTimeField(),
            "note": serializers.CharField(allow_blank=True),
            "version": serializers.IntegerField(),
            "from_evaluator": AppraisalPersonSerializer(
                allow_null=True, help_text=_("delegate : l'évaluateur avant la délégation.")
            ),
            "to_evaluator": AppraisalPersonSerializer(
                allow_null=True, help_text=_("delegate : le nouvel évaluateur.")
            ),
        }

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_actor(self, transition):
        return _name(transition.actor)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_on_behalf_of(self, transition):
        return transition.on_behalf_of.full_name if transition.on_behalf_of_id else None


class AppraisalDetailSerializer(AppraisalSerializer):
    """An appraisal with its content: answers, agent's observations, objectives (set for the
    coming year and last year's assessed here) and the log of its transitions."""

    # Needs context["caller"]; objectives and transitions are read from
    # appraisal.objective_rows / appraisal.transition_rows, and the agent's view of a draft
    # from appraisal.notified_answers (all set by the view: one query each).

    interview_place = serializers.CharField(allow_blank=True)
    delegated_from = AppraisalPersonSerializer(allow_null=True, help_text=_("N+1 d'origine en cas de délégation."))
    answers = serializers.SerializerMethodField()
    observations = serializers.SerializerMethodField()
    objectives = serializers.SerializerMethodField()
    transitions = serializers.SerializerMethodField()

    @extend_schema_field(
        serializers.DictField(
            allow_null=True,
            help_text=_(
                "{identifiant de section: réponse}, selon le modèle figé de la campagne. Pour l'agent, tant que "
                "le compte rendu n'est pas notifié (brouillon de l'évaluateur) : la dernière version notifiée "
                "(après une révision acceptée), sinon null."
            ),
        )
    )
    def get_answers(self, appraisal):
        if self.context["caller"].sees_draft(appraisal):
            return appraisal.answers or {}
        return getattr(appraisal, "notified_answers", None)

    @extend_schema_field(
        serializers.CharField(
            allow_blank=True,
            help_text=_("Observations de l'agent ; vides pour les autres tant que l'agent n'a pas signé."),
        )
    )
    def get_observations(self, appraisal):
        return appraisal.observations if self.context["caller"].sees_observations(appraisal) else ""

    @extend_schema_field(AppraisalObjectivesSerializer)
    def get_objectives(self, appraisal):
        rows = getattr(appraisal, "objective_rows", [])
        return AppraisalObjectivesSerializer(
            {
                "set": [o for o in rows if o.set_in_id == appraisal.pk],
                "assessed": [o for o in rows if o.assessed_in_id == appraisal.pk],
            }
        ).data

    @extend_schema_field(AppraisalTransitionSerializer(many=True))
    def get_transitions(self, appraisal):
        return AppraisalTransitionSerializer(getattr(appraisal, "transition_rows", []), many=True).data


# --- input ------------------------------------------------------------------------------------------------------


class AppraisalContentRequestSerializer(serializers.Serializer):
    """Needs context["appraisal"]: the sections are checked against its campaign's frozen
    template by ``appraisal.content`` (the validator of the web form too); a 400 names the
    section. ``services.save_draft`` checks them again before writing."""

    answers = serializers.DictField(
        required=False,
        help_text=_(
            "Sections à enregistrer {identifiant de section: réponse} (évaluateur, avant la notification). Par "
            "type de section : texte (20 000 caractères au plus) ; criteria_grid : {critère: {level, comment}}, "
            "level pris dans l'échelle de la section ; results : {objectif reporté: {status, comment}} ; "
            "objectives : [{title (500 caractères au plus), indicators, due_on (AAAA-MM-JJ)}] ; training_needs : "
            "[{course (formation publiée ou null), text}]. Voir GET campaigns/{id}/template/."
        ),
    )
    observations = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=MAX_TEXT,
        help_text=_("Observations de l'agent (l'agent, entre la notification et sa signature)."),
    )

    def validate_answers(self, value):
        appraisal = self.context.get("appraisal")
        if appraisal is None:
            return value
        cleaned, errors = content.validate_answers(appraisal.campaign.template_snapshot, value, appraisal=appraisal)
        if errors:
            raise serializers.ValidationError([str(error) for error in errors])
        return cleaned

    def validate_observations(self, value):
        try:
            return content.clean_observations(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from exc

    def validate(self, attrs):
        if not attrs:
            raise serializers.ValidationError({"answers": [_("Indiquez « answers » et/ou « observations ».")]})
        return attrs


# Which body fields each action reads (the others are ignored).
ACTION_PARAMS = {
    "convoke": ("interview_at", "place"),
    "hold": (),
    "notify": ("reason",),
    "acknowledge": ("observations",),
    "record_refusal": ("reason", "date"),
    "visa": (),
    "cancel": ("reason",),
    "delegate": ("evaluator", "reason"),
    "request_revision": ("reason",),
    "answer_revision": ("decision", "reason"),
    "refer_cap": ("reason",),
    "record_cap_opinion": ("opinion",),
}


class AppraisalActionRequestSerializer(serializers.Serializer):
    """Parameters of the workflow actions; each action reads only its own (see each field)."""

    interview_at = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=64,
        help_text=_("convoke : date et heure de l'entretien, ISO 8601 (au moins le délai de convocation)."),
    )
    place = serializers.CharField(
        required=False, allow_blank=True, max_length=255, help_text=_("convoke : lieu de l'entretien.")
    )
    observations = serializers.CharField(
        required=False, allow_blank=True, max_length=MAX_TEXT, help_text=_("acknowledge : observations de l'agent.")
    )
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=MAX_TEXT,
        help_text=_(
            "Motif : obligatoire pour cancel, record_refusal, delegate, request_revision, answer_revision ; "
            "refer_cap ; notify (retard de notification)."
        ),
    )
    date = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=32,
        help_text=_("record_refusal : date du refus ou de l'absence (AAAA-MM-JJ ; défaut : aujourd'hui)."),
    )
    decision = serializers.ChoiceField(
        choices=["accept", "reject"], required=False, help_text=_("answer_revision : accept ou reject.")
    )
    evaluator = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=32,
        help_text=_(
            "delegate : matricule du nouvel évaluateur, agent actif. L'évaluateur ne peut choisir qu'un responsable "
            "de la chaîne hiérarchique de l'agent ou un encadrant de son unité (ou d'une unité au-dessus ou "
            "au-dessous) : 403 sinon ; les RH peuvent désigner tout agent actif."
        ),
    )
    opinion = serializers.CharField(
        required=False, allow_blank=True, max_length=MAX_TEXT, help_text=_("record_cap_opinion : avis de la CAP.")
    )
