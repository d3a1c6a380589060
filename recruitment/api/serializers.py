"""Input and output serializers of the recruitment API.

Output serializers read instances fetched with every relation they show already joined
(``select_related``): a page of openings or applications is one query whatever its length.
What depends on the request (absolute URLs, anonymised screening) is computed from
prefixes built once per request and from the row itself, never with a query per row.
"""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from cms.api.serializers import OrgUnitRefSerializer
from cms.choices import Category
from recruitment import selectors
from recruitment.choices import ApplicationStatus, EmploymentType

MAX_MESSAGE = 5000
MAX_REASON = 5000

# --- the application status, one named schema component ------------------------------------------


class ApplicationStatusField(serializers.ChoiceField):
    """A status of ``ApplicationStatus``. Documented as the ``ApplicationStatusEnum`` component
    (several of our serializers have a ``status``, as have the other apps': without a name of
    its own, drf-spectacular would invent one)."""

    def __init__(self, **kwargs):
        super().__init__(choices=ApplicationStatus.choices, **kwargs)


class ApplicationStatusFieldExtension(OpenApiSerializerFieldExtension):
    target_class = ApplicationStatusField

    def map_serializer_field(self, auto_schema, direction):
        component = ResolvedComponent(
            name="ApplicationStatusEnum",
            type=ResolvedComponent.SCHEMA,
            object="ApplicationStatusEnum",
            schema={
                "type": "string",
                "enum": list(ApplicationStatus.values),
                "description": "\n".join(f"* `{value}` - {label}" for value, label in ApplicationStatus.choices),
            },
        )
        auto_schema.registry.register_on_missing(component)
        return component.ref


# --- openings -----------------------------------------------------------------------------------


@extend_schema_serializer(component_name="JobOpening")
class OpeningSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    reference = serializers.CharField()
    title = serializers.CharField()
    url = serializers.SerializerMethodField(help_text=_("Adresse publique de l'offre (où l'on peut candidater)."))
    org_unit = OrgUnitRefSerializer(help_text=_("Direction, service ou bureau qui recrute."))
    category = serializers.ChoiceField(choices=Category.choices, help_text=_("Catégorie de la fonction publique."))
    corps = serializers.CharField(help_text=_("Corps ou cadre d'emplois."))
    grades = serializers.CharField()
    employment_type = serializers.ChoiceField(choices=EmploymentType.choices, help_text=_("Valeur schema.org."))
    locality = serializers.CharField()
    application_deadline = serializers.DateField(help_text=_("Date limite de candidature (incluse)."))
    internal_only = serializers.BooleanField(help_text=_("Réservée aux agents de la collectivité."))

    @extend_schema_field(serializers.URLField())
    def get_url(self, opening):
        return opening.get_full_url(self.context.get("request"))


@extend_schema_serializer(component_name="JobApplicationSubmission")
class ApplicationRequestSerializer(serializers.Serializer):
    """Lengths and shapes only; required fields, the e-mail and phone formats and the content
    of the files are checked by ``services.submit_application`` (all errors at once)."""

    first_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    last_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    email = serializers.CharField(max_length=254, required=False, allow_blank=True, help_text=_("Obligatoire."))
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True)
    cv = serializers.FileField(
        required=False, help_text=_("Obligatoire. PDF, DOCX ou ODT, 5 Mo au plus (contenu vérifié).")
    )
    cover_letter = serializers.FileField(
        required=False, help_text=_("PDF, DOCX ou ODT, 5 Mo au plus (contenu vérifié).")
    )
    message = serializers.CharField(max_length=MAX_MESSAGE, required=False, allow_blank=True)
    consent_pool = serializers.BooleanField(
        required=False,
        default=False,
        help_text=_("Accepte d'être conservé dans le vivier de candidats (2 ans après le dernier contact)."),
    )

    def get_fields(self):
        fields = super().get_fields()
        for name in ("first_name", "last_name"):
            fields[name].help_text = _("Obligatoire.")
        return fields


class ApplicationCreatedSerializer(serializers.Serializer):
    reference = serializers.CharField(help_text=_("Référence de la candidature, à rappeler dans tout échange."))


# --- applications -------------------------------------------------------------------------------


class FileUrls:
    """Absolute URLs of the API's file endpoints (``applications/{id}/cv/``,
    ``applications/{id}/cover-letter/``), built once per request."""

    __slots__ = ("prefix", "middle")

    def __init__(self, prefix, middle):
        self.prefix, self.middle = prefix, middle

    def __call__(self, application_id, kind):
        return f"{self.prefix}{application_id}{self.middle}{kind}/"


@extend_schema_serializer(component_name="JobApplicationOpening")
class ApplicationOpeningSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    reference = serializers.CharField()
    title = serializers.CharField()


@extend_schema_serializer(component_name="JobApplicationCandidate")
class CandidateSerializer(serializers.Serializer):
    full_name = serializers.CharField(help_text=_("« Candidat·e <référence> » pendant une présélection anonyme."))
    first_name = serializers.CharField(allow_null=True)
    last_name = serializers.CharField(allow_null=True)
    email = serializers.CharField(allow_null=True)
    phone = serializers.CharField(allow_null=True)


@extend_schema_serializer(component_name="JobApplication")
class ApplicationSerializer(serializers.Serializer):
    """An application as the caller may see it. During anonymised screening (the opening asks
    for it and the application is received, admissibility or screening) the candidate's
    name, e-mail, phone, message and files are null (``identity_hidden`` is true)."""

    id = serializers.IntegerField()
    reference = serializers.CharField()
    opening = ApplicationOpeningSerializer()
    status = ApplicationStatusField()
    stage_label = serializers.CharField(help_text=_("Libellé de l'étape (l'offre peut renommer ses étapes)."))
    identity_hidden = serializers.BooleanField()
    candidate = CandidateSerializer()
    message = serializers.CharField(allow_null=True)
    cv_url = serializers.URLField(
        allow_null=True,
        help_text=_(
            "GET /api/v1/applications/{id}/cv/ : le CV en pièce jointe, avec le jeton ou la session de l'appelant ; "
            "null pendant une présélection anonyme, sans CV ou après effacement des données."
        ),
    )
    cover_letter_url = serializers.URLField(
        allow_null=True, help_text=_("GET /api/v1/applications/{id}/cover-letter/ : la lettre de motivation.")
    )
    is_internal = serializers.BooleanField(help_text=_("Candidature d'un agent de la collectivité."))
    possible_duplicate = serializers.BooleanField()
    submitted_at = serializers.DateTimeField()
    status_changed_at = serializers.DateTimeField()
    closed_at = serializers.DateTimeField(allow_null=True)

    def to_representation(self, application):
        opening = application.opening
        hidden = selectors.identity_hidden(application, opening)
        candidate = application.candidate
        file_urls = self.context.get("file_urls")
        erased = candidate.anonymised_at is not None or application.anonymised_at is not None

        def file_url(file, kind):
            if hidden or erased or not file or file_urls is None:
                return None
            return file_urls(application.pk, kind)

        return {
            "id": application.pk,
            "reference": application.reference,
            "opening": {"id": opening.pk, "reference": opening.reference, "title": opening.title},
            "status": application.status,
            "stage_label": str(opening.stage_label(application.status)),
            "identity_hidden": hidden,
            "candidate": {
                "full_name": selectors.display_name(application, opening),
                "first_name": None if hidden else candidate.first_name,
                "last_name": None if hidden else candidate.last_name,
                "email": None if hidden else candidate.email,
                "phone": None if hidden else candidate.phone,
            },
            "message": None if hidden else application.message,
            "cv_url": file_url(application.cv, "cv"),
            "cover_letter_url": file_url(application.cover_letter, "cover-letter"),
            "is_internal": application.is_internal,
            "possible_duplicate": application.possible_duplicate,
            "submitted_at": self.fields["submitted_at"].to_representation(application.submitted_at),
            "status_changed_at": self.fields["status_changed_at"].to_representation(application.status_changed_at),
            "closed_at": self.fields["closed_at"].to_representation(application.closed_at)
            if application.closed_at
            else None,
        }


@extend_schema_serializer(component_name="JobApplicationMove")
class MoveRequestSerializer(serializers.Serializer):
    status = ApplicationStatusField(help_text=_("Étape de destination."))
    reason = serializers.CharField(
        max_length=MAX_REASON,
        required=False,
        allow_blank=True,
        default="",
        help_text=_(
            "Obligatoire pour un refus, une réouverture ou un retour à une étape précédente ; "
            "un refus envoie la réponse négative au candidat."
        ),
    )
    note = serializers.CharField(
        max_length=MAX_REASON,
        required=False,
        allow_blank=True,
        default="",
        help_text=_("Note interne (jamais envoyée au candidat)."),
    )


# --- report -------------------------------------------------------------------------------------


class ReportPeriodSerializer(serializers.Serializer):
    def get_fields(self):  # "from" is a Python keyword
        return {
            "from": serializers.DateField(help_text=_("Premier jour (inclus).")),
            "to": serializers.DateField(help_text=_("Dernier jour (inclus).")),
        }


class FunnelStageSerializer(serializers.Serializer):
    status = ApplicationStatusField()
    label = serializers.CharField()
    count = serializers.IntegerField(help_text=_("Candidatures déposées dans la période ayant atteint cette étape."))
    rate = serializers.FloatField(allow_null=True, help_text=_("Part des candidatures reçues (0 à 1)."))
    step_rate = serializers.FloatField(allow_null=True, help_text=_("Part de l'étape précédente (0 à 1)."))


class StatusCountSerializer(serializers.Serializer):
    status = ApplicationStatusField()
    label = serializers.CharField()
    count = serializers.IntegerField()


class TimeToHireSerializer(serializers.Serializer):
    hires = serializers.IntegerField(help_text=_("Recrutements prononcés dans la période."))
    median_days = serializers.FloatField(allow_null=True, help_text=_("Médiane des jours entre dépôt et recrutement."))
    mean_days = serializers.FloatField(allow_null=True, help_text=_("Moyenne des jours entre dépôt et recrutement."))


class OriginCountSerializer(serializers.Serializer):
    applications = serializers.IntegerField(help_text=_("Candidatures déposées dans la période."))
    hires = serializers.IntegerField(help_text=_("Recrutements prononcés dans la période."))


class InternalExternalSerializer(serializers.Serializer):
    internal = OriginCountSerializer(help_text=_("Agents de la collectivité (mobilité interne)."))
    external = OriginCountSerializer()


@extend_schema_serializer(component_name="RecruitmentReport")
class ReportSerializer(serializers.Serializer):
    period = ReportPeriodSerializer()
    opening = ApplicationOpeningSerializer(allow_null=True)
    applications = serializers.IntegerField(help_text=_("Candidatures déposées dans la période."))
    funnel = FunnelStageSerializer(many=True)
    outcomes = StatusCountSerializer(many=True, help_text=_("Statut actuel des candidatures de la période."))
    time_to_hire = TimeToHireSerializer()
    internal_external = InternalExternalSerializer()


def report_data(report):
    """The report as the API item."""
    opening = report.opening
    return {
        "period": {"from": report.period.date_from, "to": report.period.date_to},
        "opening": {"id": opening.pk, "reference": opening.reference, "title": opening.title} if opening else None,
        "applications": report.applications,
        "funnel": [stage.__dict__ for stage in report.funnel],
        "outcomes": report.outcomes,
        "time_to_hire": {"hires": report.hires, "median_days": report.median_days, "mean_days": report.mean_days},
        "internal_external": {"internal": report.internal, "external": report.external},
    }
