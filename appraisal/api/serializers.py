"""Input and output serializers of the appraisal API.

Output serializers read model instances fetched by ``appraisal.selectors`` with every
relation they show already joined (``select_related``): a page of appraisals is one query
whatever its length. ``allowed_actions`` needs the caller: the views put a :class:`Caller`
(built once per request) in the serializer context under ``"caller"``.
"""

from dataclasses import dataclass

from django import forms
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from appraisal import content, permissions
from appraisal.actions import ACTIONS, USER_ACTIONS, allowed_actions
from appraisal.choices import AppraisalState, CampaignStatus, ObjectiveStatus, RevisionState
from cms.api.serializers import OrgUnitRefSerializer

MAX_TEXT = content.MAX_TEXT


# --- the caller ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Caller:
    """Who is asking, computed once per request (no query per row afterwards: the rules of
    appraisal.permissions read the agent profile and roles cached on the user)."""

    user: object
    agent_id: int | None
    is_hr: bool
    view_all: bool

    def roles_on(self, appraisal):
        return permissions.roles_on(self.user, appraisal)

    def allowed_actions(self, appraisal):
        return allowed_actions(self.user, appraisal)

    def sees_draft(self, appraisal):
        return permissions.sees_draft(self.user, appraisal)

    def sees_observations(self, appraisal):
        return permissions.sees_observations(self.user, appraisal)


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
            child=serializers.ChoiceField(choices=USER_ACTIONS),
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


# Which body fields each action reads (the others are ignored): its ``Params``.
ACTION_PARAMS = {name: tuple(ACTIONS[name].param_names()) for name in USER_ACTIONS}


def _uses(name):
    """(action, form field) of every action that reads the body field ``name``."""
    return [(action, ACTIONS[action].Params.base_fields[name]) for action, names in ACTION_PARAMS.items() if name in names]


def _help_text(name):
    def text():
        parts = []
        for action, field in _uses(name):
            part = f"{action} : {field.label}"
            if field.help_text:
                part += f" ({field.help_text})"
            if field.required:
                part += str(_(", obligatoire"))
            parts.append(part)
        return " ; ".join(parts) + "."

    return lazy(text, str)()


def _api_field(name):
    """The request field ``name``, derived from the actions' ``Params`` (all optional here:
    each action's form says what it requires, and a 400 names the field)."""
    fields = [field for _action, field in _uses(name)]
    first = fields[0]
    if isinstance(first, forms.ChoiceField):
        return serializers.ChoiceField(choices=[value for value, _label in first.choices], required=False, help_text=_help_text(name))
    if isinstance(first, forms.DateTimeField):
        max_length = 64
    elif isinstance(first, forms.DateField):
        max_length = 32
    else:
        max_length = max((f.max_length or MAX_TEXT) for f in fields)
    return serializers.CharField(required=False, allow_blank=True, max_length=max_length, help_text=_help_text(name))


class AppraisalActionRequestSerializer(serializers.Serializer):
    """Parameters of the workflow actions; each action reads only its own (see each field).
    The fields are those of the actions' ``Params`` (appraisal/actions.py)."""

    def get_fields(self):
        names = dict.fromkeys(name for params in ACTION_PARAMS.values() for name in params)
        return {name: _api_field(name) for name in names}
