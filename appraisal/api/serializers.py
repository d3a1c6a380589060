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
from appraisal.blocks import TemplateSectionsBlock
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


# --- the campaign's frozen template (GET campaigns/{id}/template/) ---------------------------------------
#
# What a client needs to fill ``answers`` of ``PATCH appraisals/{id}/content/``, read from the
# same parse of the frozen template as the validator (``appraisal.content``): the sections
# listed are exactly those the validator knows, the criteria and levels exactly the ids it
# accepts.

# How each kind's answer is written (see appraisal/content.py).
ANSWER_TYPES = {
    **dict.fromkeys(sorted(content.TEXT_KINDS), "text"),
    "criteria_grid": "by_criterion",
    "results": "by_objective",
    "objectives": "rows",
    "training_needs": "rows",
    "agent_observations": "observations",
}
ANSWER_TYPE_HELP = _(
    "Forme de la réponse sous answers[id de la section] : text, une chaîne ; by_criterion, "
    "{id de critère: entrée} ; by_objective, {id d'un objectif de objectives.assessed de l'entretien "
    "(GET appraisals/{id}/): entrée} ; rows, une liste d'entrées ; observations, jamais dans answers : "
    "l'agent écrit le champ observations. Les champs d'une entrée sont décrits par entry_fields."
)
ENTRY_TYPES = ["string", "date", "integer", "choice"]


def section_kinds():
    """(kind, label) of every section kind of a template, in the template block's order."""
    return [(kind, block.meta.label) for kind, block in TemplateSectionsBlock.base_blocks.items()]


def section_required(kind, spec):
    """Required to notify: the overall appraisal and the free-text themes marked required
    (the rule of ``workflow.missing_required_sections``)."""
    return kind == "overall" or (kind == "free_text" and bool(spec.get("required")))


def _items(raw):
    """Levels of a scale or criteria of a grid: the ids and labels the validator reads
    (``content._item_ids``), with their descriptions, in order."""
    labels = content._item_ids(raw)
    descriptions = {
        item["id"]: item.get("value", {}).get("description") or ""
        for item in (raw if isinstance(raw, list) else [])
        if isinstance(item, dict) and item.get("id") in labels and isinstance(item.get("value"), dict)
    }
    return [
        {"id": item_id, "label": label, "description": str(descriptions.get(item_id, ""))}
        for item_id, label in labels.items()
    ]


def _field(name, field_type, help_text, *, required=False, nullable=False, max_length=None, choices=None):
    return {
        "name": name,
        "type": field_type,
        "required": required,
        "nullable": nullable,
        "max_length": max_length,
        "choices": choices,
        "help_text": str(help_text),
    }


def _comment_field(help_text):
    return _field("comment", "string", help_text, max_length=content.MAX_TEXT)


def _entry_fields(kind, scale):
    """The fields of one entry of a section's answer (None for text kinds)."""
    if kind == "criteria_grid":
        return [
            _field(
                "level", "choice", _("Identifiant d'un niveau de l'échelle (scale) ; chaîne vide : non apprécié."),
                choices=[{"value": level["id"], "label": level["label"]} for level in scale],
            ),
            _comment_field(_("Commentaire sur le critère.")),
        ]
    if kind == "results":
        return [
            _field(
                "status", "choice", _("Résultat de l'objectif ; chaîne vide : non renseigné."),
                choices=[{"value": value, "label": str(label)} for value, label in ObjectiveStatus.choices],
            ),
            _comment_field(_("Commentaire sur le résultat.")),
        ]
    if kind == "objectives":
        return [
            _field(
                "title", "string", _("Intitulé de l'objectif (obligatoire dans une ligne non vide)."),
                required=True, max_length=content.MAX_TITLE,
            ),
            _field("indicators", "string", _("Indicateurs de réussite."), max_length=content.MAX_TEXT),
            _field("due_on", "date", _("Échéance, date AAAA-MM-JJ ; chaîne vide : sans échéance.")),
        ]
    if kind == "training_needs":
        return [
            _field(
                "course",
                "integer",
                _("Identifiant d'une formation publiée du catalogue (GET courses/) ; null : aucune."),
                nullable=True,
            ),
            _field("text", "string", _("Besoin exprimé."), max_length=content.MAX_TEXT),
        ]
    return None


def describe_sections(snapshot):
    """The sections of a frozen template, in order, as ``CampaignTemplateSectionSerializer``
    reads them. Pure: no query, whatever the number of sections."""
    labels = dict(section_kinds())
    out = []
    for sid, kind, spec in content.template_sections(snapshot):
        grid = kind == "criteria_grid"
        scale = _items(spec.get("scale")) if grid else None
        answer_type = ANSWER_TYPES[kind]
        out.append(
            {
                "id": sid,
                "kind": kind,
                "kind_label": str(labels.get(kind, kind)),
                "title": content._title(spec, sid),
                "help_text": str(spec.get("help_text") or ""),
                "required": section_required(kind, spec),
                "answer_type": answer_type,
                "max_length": content.MAX_TEXT if answer_type in ("text", "observations") else None,
                "max_rows": content.MAX_ROWS if answer_type == "rows" else None,
                "scale": scale,
                "criteria": _items(spec.get("criteria")) if grid else None,
                "comment": bool(spec.get("comment", True)) if grid else None,
                "entry_fields": _entry_fields(kind, scale),
            }
        )
    return out


class TemplateItemSerializer(serializers.Serializer):
    """A level of a scale or a criterion of a grid."""

    id = serializers.CharField(help_text=_("Identifiant stable, celui qu'attend answers."))
    label = serializers.CharField()
    description = serializers.CharField(allow_blank=True)


class TemplateChoiceSerializer(serializers.Serializer):
    value = serializers.CharField()
    label = serializers.CharField()


class TemplateEntryFieldSerializer(serializers.Serializer):
    """One field of an entry (a criterion's appreciation, an objective's result, a row)."""

    name = serializers.CharField()
    type = serializers.ChoiceField(
        choices=ENTRY_TYPES,
        help_text=_("string ; date (AAAA-MM-JJ) ; integer ; choice (une des valeurs de choices)."),
    )
    required = serializers.BooleanField(help_text=_("Obligatoire dans chaque entrée non vide."))
    nullable = serializers.BooleanField(help_text=_("null accepté."))
    max_length = serializers.IntegerField(allow_null=True, help_text=_("Longueur maximale (chaînes)."))
    choices = TemplateChoiceSerializer(
        many=True, allow_null=True, help_text=_("Valeurs possibles (type choice) ; la chaîne vide efface la valeur.")
    )
    help_text = serializers.CharField()


class CampaignTemplateSectionSerializer(serializers.Serializer):
    """A section of the frozen template: its answer is ``answers[id]`` (except
    ``agent_observations``: the agent's ``observations``)."""

    id = serializers.CharField(help_text=_("Identifiant de la section : la clé de answers."))
    kind = serializers.ChoiceField(choices=section_kinds())
    kind_label = serializers.CharField(help_text=_("Libellé du type de section."))
    title = serializers.CharField()
    help_text = serializers.CharField(allow_blank=True, help_text=_("Consigne de la section ; vide si aucune."))
    required = serializers.BooleanField(help_text=_("À remplir avant de notifier le compte rendu."))
    answer_type = serializers.ChoiceField(
        choices=["text", "by_criterion", "by_objective", "rows", "observations"], help_text=ANSWER_TYPE_HELP
    )
    max_length = serializers.IntegerField(allow_null=True, help_text=_("text, observations : longueur maximale."))
    max_rows = serializers.IntegerField(allow_null=True, help_text=_("rows : nombre maximal de lignes."))
    scale = TemplateItemSerializer(
        many=True, allow_null=True, help_text=_("criteria_grid : les niveaux de l'échelle, du plus bas au plus haut.")
    )
    criteria = TemplateItemSerializer(many=True, allow_null=True, help_text=_("criteria_grid : les critères."))
    comment = serializers.BooleanField(
        allow_null=True, help_text=_("criteria_grid : un commentaire par critère est attendu.")
    )
    entry_fields = TemplateEntryFieldSerializer(
        many=True,
        allow_null=True,
        help_text=_("by_criterion, by_objective, rows : les champs d'une entrée ; null sinon."),
    )


class CampaignTemplateSerializer(serializers.Serializer):
    campaign = CampaignRefSerializer()
    frozen = serializers.BooleanField(
        help_text=_(
            "Vrai : le modèle figé au lancement de la campagne, celui contre lequel le contenu est vérifié. "
            "Faux (campagne pas encore lancée) : aperçu du modèle actuel, qui peut encore changer."
        )
    )
    sections = CampaignTemplateSectionSerializer(many=True, help_text=_("Les sections, dans l'ordre du compte rendu."))
