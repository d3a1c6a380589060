"""Appraisal API views: thin, reads through appraisal.selectors, writes through
appraisal.services and the actions of appraisal/actions.py.

Confidentiality: every endpoint on one appraisal first looks it up in
``selectors.appraisals_visible_to(caller)``: an appraisal the caller may not see answers 404
(its existence does not leak); a visible one on which the caller may not act answers 403.
Each read of someone else's report by HR or a holder of ``appraisal.view_all_appraisals``
is logged (``services.log_access``, channel ``api`` or ``pdf``).

Query budget of the list (does not grow with the rows): authentication, the caller's
groups and permissions, the caller's agent profile, one query for the page.
"""

from django.db.models import Q
from django.http import FileResponse, HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, generics
from rest_framework.response import Response
from rest_framework.views import APIView

from appraisal import pdf, permissions, selectors, services
from appraisal.actions import USER_ACTIONS, action_for
from appraisal.api.serializers import (
    AppraisalActionRequestSerializer,
    AppraisalContentRequestSerializer,
    AppraisalDetailSerializer,
    AppraisalSerializer,
    Caller,
    CampaignProgressSerializer,
    CampaignSerializer,
    CampaignTemplateSerializer,
    describe_sections,
)
from appraisal.choices import AppraisalState
from appraisal.models import Appraisal, AppraisalTransition, AppraisalVersion, Campaign, Objective
from cms import roles
from cms.api.errors import invalid, service_errors, validated
from cms.api.negotiation import IgnoreClientContentNegotiation
from cms.api.schema import BAD_CURSOR, errors, id_parameter
from cms.converters import parse_id
from cms.selectors import agent_for_user, has_role


def not_found():
    return exceptions.NotFound(_("Cet entretien n'existe pas ou ne vous est pas accessible."))


# --- helpers -----------------------------------------------------------------------------------------------


def caller_of(request):
    """The caller, computed once per request."""
    caller = getattr(request, "_appraisal_caller", None)
    if caller is None:
        user = request.user
        agent = agent_for_user(user)
        caller = Caller(
            user=user,
            agent_id=agent.pk if agent else None,
            is_hr=has_role(user, roles.HR),
            view_all=permissions.can_view_all(user),
        )
        request._appraisal_caller = caller
    return caller


def visible(request):
    return selectors.appraisals_visible_to(request.user)


def visible_or_404(request, appraisal_id):
    appraisal = visible(request).filter(pk=appraisal_id).first()
    if appraisal is None:
        raise not_found()
    return appraisal


def detail_data(request, appraisal_id, *, log=False):
    """The detail item (four queries: appraisal, objectives, transitions; plus the access log)."""
    appraisal = visible(request).select_related("delegated_from__user").filter(pk=appraisal_id).first()
    if appraisal is None:
        raise not_found()
    caller = caller_of(request)
    if log and caller.view_all:
        services.log_access(appraisal=appraisal, user=request.user, channel="api")
    appraisal.objective_rows = list(
        Objective.objects.filter(Q(set_in=appraisal) | Q(assessed_in=appraisal)).order_by("position", "pk")
    )
    appraisal.transition_rows = list(
        AppraisalTransition.objects.filter(appraisal=appraisal).select_related(
            "actor", "on_behalf_of__user", "from_evaluator__user", "to_evaluator__user"
        )
    )
    if not caller.sees_draft(appraisal):  # the agent, before (re)notification: the last notified version
        appraisal.notified_answers = (
            AppraisalVersion.objects.filter(appraisal=appraisal)
            .order_by("-number")
            .values_list("answers", flat=True)
            .first()
        )
    return AppraisalDetailSerializer(appraisal, context={"caller": caller, "request": request}).data


APPRAISAL_ID = id_parameter("id", _("Identifiant de l'entretien."), path=True)
CAMPAIGN_ID = id_parameter("id", _("Identifiant de la campagne."), path=True)


def positive_int(raw, field):
    raw = (raw or "").strip()
    if not raw:
        return None
    value = parse_id(raw)
    if value is None:
        raise invalid({field: _("Identifiant invalide.")})
    return value


# --- campaigns ---------------------------------------------------------------------------------------------


class CampaignListView(generics.ListAPIView):
    """Campaigns the caller takes part in (as agent, evaluator or reviewer); HR and holders of
    ``appraisal.view_all_appraisals``: every campaign. Cursor paginated by id."""

    serializer_class = CampaignSerializer

    def get_queryset(self):
        return selectors.campaigns_visible_to(self.request.user)

    @extend_schema(
        operation_id="campaigns_list", responses={200: CampaignSerializer(many=True), **errors(401), 404: BAD_CURSOR}
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class CampaignProgressView(APIView):
    """Counts of appraisals by state for each org unit (HR and view_all only), in one
    aggregate query. Without ``org_unit``: the directions (root units); with a code: the
    children of that unit."""

    @extend_schema(
        operation_id="campaigns_progress",
        parameters=[
            CAMPAIGN_ID,
            OpenApiParameter(
                "org_unit",
                OpenApiTypes.STR,
                description=_("Code d'unité : détaille ses sous-unités (défaut : les directions)."),
            ),
        ],
        responses={200: CampaignProgressSerializer, **errors(401, 403, 404)},
    )
    def get(self, request, id):
        if not permissions.can_view_all(request.user):
            raise exceptions.PermissionDenied(_("L'avancement des campagnes est réservé aux ressources humaines."))
        campaign = Campaign.objects.filter(pk=id).first()
        if campaign is None:
            raise exceptions.NotFound(_("Campagne introuvable."))
        code = request.query_params.get("org_unit", "").strip()
        parent = None
        if code:
            from cms.models import OrgUnit

            parent = OrgUnit.objects.filter(code=code).first()
            if parent is None:
                raise exceptions.NotFound(_("Unité inconnue : « %(code)s ».") % {"code": code[:64]})
        rows = selectors.progress_by_unit(campaign, parent=parent)
        totals = {state: sum(row["counts"][state] for row in rows) for state in AppraisalState.values}
        data = {
            "campaign": campaign,
            "org_unit": {"code": parent.code, "name": parent.name} if parent else None,
            "units": [
                {
                    "code": row["unit"].code,
                    "name": row["unit"].name,
                    "kind": row["unit"].kind,
                    "has_children": row["has_children"],
                    "total": sum(row["counts"].values()),
                    "counts": row["counts"],
                }
                for row in rows
            ],
            "totals": totals,
        }
        return Response(CampaignProgressSerializer(data).data)


def template_of(campaign):
    """(sections, frozen): the snapshot frozen at launch; before launch, what the launch would
    freeze now (``services.freeze_template``: the template's latest revision)."""
    if campaign.template_snapshot:
        return campaign.template_snapshot, True
    template = campaign.template
    revision = template.latest_revision
    source = revision.as_object() if revision is not None else template
    return list(source.sections.raw_data), False


class CampaignTemplateView(APIView):
    """The campaign's frozen template: its sections in order, with what a client needs to
    write ``answers`` in ``PATCH appraisals/{id}/content/`` (criteria and scale levels of a
    grid, fields of each entry or row, limits), read from the snapshot the content is
    validated against. For whoever may read appraisals of the campaign (HR and view_all
    holders; agents, evaluators, delegates and reviewers who hold one in it); 404 for others,
    as for a campaign that does not exist. A constant number of queries, whatever the number
    of sections (the snapshot is a column of the campaign)."""

    @extend_schema(
        operation_id="campaigns_template",
        parameters=[CAMPAIGN_ID],
        responses={200: CampaignTemplateSerializer, **errors(401, 404)},
    )
    def get(self, request, id):
        campaign = selectors.campaign_visible_to(request.user, id)
        if campaign is None:
            raise exceptions.NotFound(_("Cette campagne n'existe pas ou ne vous est pas accessible."))
        snapshot, frozen = template_of(campaign)
        data = {"campaign": campaign, "frozen": frozen, "sections": describe_sections(snapshot)}
        return Response(CampaignTemplateSerializer(data).data)


# --- appraisals --------------------------------------------------------------------------------------------

ROLE_FILTERS = {"evaluator": "evaluator_id", "agent": "agent_id", "reviewer": "reviewer_id"}


class AppraisalListView(generics.ListAPIView):
    """Appraisals the caller may see: their own, those they conduct (N+1 or delegate) or
    visa (N+2); HR and holders of ``appraisal.view_all_appraisals``: all. Cursor paginated by id."""

    serializer_class = AppraisalSerializer

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "caller": caller_of(self.request)}

    def get_queryset(self):
        params = self.request.query_params
        queryset = visible(self.request)
        campaign = positive_int(params.get("campaign"), "campaign")
        if campaign is not None:
            queryset = queryset.filter(campaign_id=campaign)
        states = [s.strip() for s in ",".join(params.getlist("state")).split(",") if s.strip()]
        unknown = sorted(set(states) - set(AppraisalState.values))
        if unknown:
            raise invalid(
                {
                    "state": _("États inconnus : %(s)s (possibles : %(all)s).")
                    % {"s": ", ".join(u[:32] for u in unknown), "all": ", ".join(AppraisalState.values)}
                }
            )
        if states:
            queryset = queryset.filter(state__in=states)
        role = params.get("role", "").strip()
        if role:
            if role not in ROLE_FILTERS:
                raise invalid({"role": _("Valeurs possibles : evaluator, agent, reviewer.")})
            agent_id = caller_of(self.request).agent_id
            queryset = queryset.filter(**{ROLE_FILTERS[role]: agent_id}) if agent_id else queryset.none()
        return queryset

    @extend_schema(
        operation_id="appraisals_list",
        parameters=[
            id_parameter("campaign", _("Identifiant de campagne.")),
            OpenApiParameter(
                "state",
                OpenApiTypes.STR,
                description=_("Un ou plusieurs états séparés par des virgules : %(s)s.")
                % {"s": ", ".join(AppraisalState.values)},
            ),
            OpenApiParameter(
                "role",
                OpenApiTypes.STR,
                enum=list(ROLE_FILTERS),
                description=_("Les entretiens où l'appelant est l'évaluateur, l'agent ou l'autorité (N+2)."),
            ),
        ],
        responses={200: AppraisalSerializer(many=True), **errors(400, 401), 404: BAD_CURSOR},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class AppraisalDetailView(APIView):
    """One appraisal with its content, objectives and transition log. A read by HR (or a
    view_all holder) of someone else's report is logged."""

    @extend_schema(
        operation_id="appraisals_retrieve",
        parameters=[APPRAISAL_ID],
        responses={200: AppraisalDetailSerializer, **errors(401, 404)},
    )
    def get(self, request, id):
        return Response(detail_data(request, id, log=True))


class AppraisalContentView(APIView):
    """Saves draft content: the evaluator's sections before notification (merged by section
    id), the agent's observations between notification and signature."""

    @extend_schema(
        operation_id="appraisals_content_partial_update",
        parameters=[APPRAISAL_ID],
        request=AppraisalContentRequestSerializer,
        responses={200: AppraisalDetailSerializer, **errors(400, 401, 403, 404, 409)},
    )
    def patch(self, request, id):
        appraisal = visible_or_404(request, id)
        # The serializer checks the sections against the frozen template (appraisal.content).
        data = validated(AppraisalContentRequestSerializer(data=request.data, context={"appraisal": appraisal}))
        with service_errors():
            services.save_draft(
                appraisal_id=id, actor=request.user, answers=data.get("answers"), observations=data.get("observations")
            )
        return Response(detail_data(request, id))


class AppraisalActionView(APIView):
    """Performs a workflow action (appraisal/actions.py); the body holds its parameters."""

    @extend_schema(
        operation_id="appraisals_actions_create",
        parameters=[
            APPRAISAL_ID,
            OpenApiParameter(
                "action",
                OpenApiTypes.STR,
                OpenApiParameter.PATH,
                enum=USER_ACTIONS,
                description=_("Action du circuit de l'entretien professionnel."),
            ),
        ],
        request=AppraisalActionRequestSerializer,
        responses={
            200: OpenApiResponse(
                AppraisalDetailSerializer,
                description=_(
                    "L'entretien après l'action. Si l'appelant n'y a plus accès (évaluateur qui a délégué), "
                    "seuls les champs de la liste sont renvoyés."
                ),
            ),
            **errors(400, 401, 403, 404, 409),
        },
    )
    def post(self, request, id, action):
        action_class = action_for(action)
        if action_class is None:
            raise exceptions.NotFound(_("Action inconnue : « %(action)s ».") % {"action": action[:64]})
        visible_or_404(request, id)
        data = validated(AppraisalActionRequestSerializer(data=request.data))
        params = {name: data[name] for name in action_class.param_names() if name in data}
        with service_errors():
            appraisal = action_class(id, user=request.user, params=params).execute()
        if permissions.can_view(request.user, appraisal):
            return Response(detail_data(request, id))
        # No longer visible (an evaluator who delegated): the list fields only, no content.
        appraisal = Appraisal.objects.select_related(
            "campaign", "agent__user", "agent__org_unit", "evaluator__user", "reviewer__user"
        ).get(pk=appraisal.pk)
        return Response(AppraisalSerializer(appraisal, context={"caller": caller_of(request)}).data)


class AppraisalPdfView(APIView):
    """The compte rendu as a PDF attachment: the archived copy once final, else rendered now.
    The agent gets it once notified (403 before: the evaluator's draft). A read by HR (or a
    view_all holder) of someone else's report is logged."""

    content_negotiation_class = IgnoreClientContentNegotiation

    @extend_schema(
        operation_id="appraisals_pdf",
        parameters=[APPRAISAL_ID],
        responses={
            (200, "application/pdf"): OpenApiResponse(
                OpenApiTypes.BINARY, description=_("Le compte rendu (pièce jointe).")
            ),
            **errors(401, 403, 404),
        },
    )
    def get(self, request, id):
        appraisal = visible_or_404(request, id)
        caller = caller_of(request)
        if not caller.sees_draft(appraisal):
            raise exceptions.PermissionDenied(
                _("Le compte rendu vous sera accessible lorsque votre évaluateur vous l'aura notifié.")
            )
        if caller.view_all:
            services.log_access(appraisal=appraisal, user=request.user, channel="pdf")
        filename = f"compte-rendu-{appraisal.campaign.year}-{appraisal.agent.employee_number}-v{appraisal.version}.pdf"
        if appraisal.pdf and appraisal.pdf.storage.exists(appraisal.pdf.name):  # archived at final
            response = FileResponse(
                appraisal.pdf.open("rb"), as_attachment=True, filename=filename, content_type="application/pdf"
            )
        else:
            content = pdf.render_pdf(appraisal)
            if hasattr(content, "read"):
                content = content.read()
            response = HttpResponse(content, content_type="application/pdf")
            response["Content-Disposition"] = f'attachment; filename="{filename}"'
        response["Cache-Control"] = "private, no-store"
        return response
