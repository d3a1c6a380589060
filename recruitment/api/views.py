"""Recruitment API views: thin, reads through ``recruitment.selectors`` (and
``recruitment.reports``), writes through ``recruitment.services`` and ``recruitment.actions``.

* ``openings/`` is public: anonymous callers see the published, open, external openings;
  authenticated agents also the internal-only ones (the same rule as the job listing).
* ``openings/{id}/applications/`` is public (multipart), limited to 5 submissions an hour
  per client address (:class:`ApplicationRateThrottle`, every attempt counts).
* ``applications/`` lists ``selectors.applications_visible_to(caller)``: HR all, recruiters
  their openings', interviewers those they sit on a jury for, anybody else nothing.
  An application the caller may not see answers 404 (its existence does not leak); a
  visible one the caller may not move (an interviewer) answers 403.
* ``applications/{id}/cv/`` and ``applications/{id}/cover-letter/`` serve the files (the
  ``cv_url`` and ``cover_letter_url`` of an application) to the same callers, by token or
  session: 404 when the application is not visible or the file hidden, erased or absent.
* ``recruitment/report/`` is for HR and recruiters (over their openings).

Query budget of the lists (does not grow with the rows): authentication, the caller's
groups, then one query for the page (plus Wagtail's cached site root paths for the
openings' URLs).
"""


from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, generics, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from cms.api.errors import invalid, service_errors, validated
from cms.api.negotiation import IgnoreClientContentNegotiation
from cms.api.pagination import CursorPagination
from cms.api.schema import BAD_CURSOR, errors, id_parameter
from cms.api.serializers import ErrorSerializer
from cms.converters import parse_id
from cms.links import absolute_url
from cms.ratelimit import RateThrottle
from recruitment import actions, files, permissions, reports, selectors, services
from recruitment.api.serializers import (
    ApplicationCreatedSerializer,
    ApplicationRequestSerializer,
    ApplicationSerializer,
    FileUrls,
    MoveRequestSerializer,
    OpeningSerializer,
    ReportSerializer,
    report_data,
)
from recruitment.choices import ApplicationStatus
from recruitment.models import Application, JobOpeningPage

# Public endpoints: no credentials needed, but a bad or expired token is refused, not ignored.
BAD_TOKEN = OpenApiResponse(ErrorSerializer, description=_("Jeton fourni mais invalide ou expiré."))


def positive_int(raw, field):
    raw = (raw or "").strip()
    if not raw:
        return None
    value = parse_id(raw)
    if value is None:
        raise invalid({field: _("Identifiant invalide : « %(value)s ».") % {"value": raw[:40]}})
    return value


# --- openings -------------------------------------------------------------------------------------


class OpeningListView(generics.ListAPIView):
    """Published openings accepting applications (state open, deadline not past), by id.
    Anonymous callers: external openings only; authenticated agents: internal-only ones too."""

    serializer_class = OpeningSerializer
    pagination_class = CursorPagination
    permission_classes = [AllowAny]

    def get_queryset(self):
        return selectors.visible_openings(self.request.user).select_related("org_unit")

    @extend_schema(
        operation_id="openings_list",
        responses={200: OpeningSerializer(many=True), 401: BAD_TOKEN, 404: BAD_CURSOR},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class ApplicationRateThrottle(RateThrottle):
    """5 applications an hour per client address (``cms.net.client_ip``: X-Forwarded-For only
    counts behind the ``TRUSTED_PROXY_COUNT`` proxies the deployment declares, so a client
    cannot dodge the limit with it), counted in the shared cache (``cms.ratelimit``), whichever
    worker answers. Every attempt counts. The rate is set here, not in the settings."""

    scope = "api-applications"
    limit = 5
    period = 3600


def _opening_for_application(request, opening_id):
    """A live opening the caller may see (internal-only: agents; view restrictions: honoured), else 404."""
    not_found = exceptions.NotFound(_("Cette offre n'existe pas ou n'est plus publiée."))
    if parse_id(str(opening_id)) is None:  # e.g. beyond 64 bits: no such opening, and no query
        raise not_found
    opening = JobOpeningPage.objects.live().select_related("org_unit").filter(pk=opening_id).first()
    if opening is None:
        raise not_found
    if not permissions.can_view_opening(request.user, opening):
        raise not_found
    for restriction in opening.get_view_restrictions():
        if not restriction.accept_request(request._request):
            raise not_found
    return opening


class OpeningApplicationView(APIView):
    """Apply to an opening (multipart). Every check is the service's: required fields, e-mail,
    phone, CV and cover letter (PDF, DOCX or ODT by content, 5 MB at most); nothing is written
    on error. A closed opening (deadline past, filled, cancelled) or a second live application
    for the same person answers 409; an internal-only opening is 404 for non-agents."""

    permission_classes = [AllowAny]
    throttle_classes = [ApplicationRateThrottle]
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        operation_id="openings_applications_create",
        parameters=[id_parameter("id", _("Identifiant de l'offre."), path=True)],
        request={"multipart/form-data": ApplicationRequestSerializer},
        responses={
            201: OpenApiResponse(ApplicationCreatedSerializer, description=_("Candidature enregistrée.")),
            401: BAD_TOKEN,
            **errors(
                400,
                404,
                409,
                e429=OpenApiResponse(
                    ErrorSerializer, description=_("Trop de candidatures depuis cette adresse : réessayer plus tard.")
                ),
            ),
        },
    )
    def post(self, request, id):
        opening = _opening_for_application(request, id)
        serializer = ApplicationRequestSerializer(data=request.data)
        if not serializer.is_valid():
            problems = dict(serializer.errors)
            for field in ("cv", "cover_letter"):  # report the files' problems in the same answer
                upload = request.data.get(field)
                if field not in problems and hasattr(upload, "read"):
                    try:
                        services.check_document(upload, field, required=False)
                    except DjangoValidationError as exc:
                        problems.update(exc.message_dict)
            raise invalid(problems)
        data = serializer.validated_data
        with service_errors():
            application, _token = services.submit_application(
                opening=opening,
                user=request.user,
                first_name=data.get("first_name", ""),
                last_name=data.get("last_name", ""),
                email=data.get("email", ""),
                phone=data.get("phone", ""),
                cv=data.get("cv"),
                cover_letter=data.get("cover_letter"),
                message=data.get("message", ""),
                consent_pool=data.get("consent_pool", False),
            )
        return Response({"reference": application.reference}, status=status.HTTP_201_CREATED)


# --- applications ------------------------------------------------------------------------------------


_PLACEHOLDER = 987654321012


def file_urls(request):
    """Prefix and middle of the files' absolute URLs, computed once per request: the API's own
    ``applications/{id}/cv/`` and ``applications/{id}/cover-letter/``, which take the
    caller's token as well as a session."""
    path = reverse("api-application-cv", kwargs={"id": _PLACEHOLDER})
    prefix, _sep, rest = absolute_url(path).partition(str(_PLACEHOLDER))
    return FileUrls(prefix, rest[: -len("cv/")])


def visible_applications(request):
    return selectors.applications_visible_to(request.user)


def filtered_applications(request):
    """The caller's visible applications, with the ``opening`` and ``status`` filters (400 if bad)."""
    queryset = visible_applications(request)
    opening = positive_int(request.query_params.get("opening"), "opening")
    if opening is not None:
        queryset = queryset.filter(opening_id=opening)
    statuses = [s.strip() for raw in request.query_params.getlist("status") for s in raw.split(",") if s.strip()]
    unknown = [s for s in statuses if s not in ApplicationStatus.values]
    if unknown:
        raise invalid(
            {
                "status": _("Statut inconnu : %(values)s. Valeurs possibles : %(allowed)s.")
                % {"values": ", ".join(s[:30] for s in unknown[:5]), "allowed": ", ".join(ApplicationStatus.values)}
            }
        )
    if statuses:
        queryset = queryset.filter(status__in=statuses)
    return queryset


APPLICATION_FILTERS = [
    id_parameter("opening", _("Identifiant de l'offre.")),
    OpenApiParameter(
        "status",
        OpenApiTypes.STR,
        description=_("Un ou plusieurs statuts séparés par des virgules : %(values)s.")
        % {"values": ", ".join(ApplicationStatus.values)},
    ),
]


class ApplicationListView(generics.ListAPIView):
    """Applications the caller may see, by id, cursor paginated (``page_size`` up to 1000)."""

    serializer_class = ApplicationSerializer
    pagination_class = CursorPagination

    def get_queryset(self):
        return filtered_applications(self.request).select_related("opening", "candidate")

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "file_urls": file_urls(self.request)}

    @extend_schema(
        operation_id="applications_list",
        parameters=APPLICATION_FILTERS,
        responses={200: ApplicationSerializer(many=True), **errors(400, 401), 404: BAD_CURSOR},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class ApplicationMoveView(APIView):
    """Move an application to another status (``actions.Move``): 404 when the caller may not
    see it, 403 when they see it but do not manage the opening, 409 when the move is
    impossible now (closed opening, scorecards pending, hired…), 400 naming the field."""

    @extend_schema(
        operation_id="applications_move",
        parameters=[id_parameter("id", _("Identifiant de la candidature."), path=True)],
        request=MoveRequestSerializer,
        responses={200: ApplicationSerializer, **errors(400, 401, 403, 404, 409)},
    )
    def post(self, request, id):
        if parse_id(str(id)) is None or not visible_applications(request).filter(pk=id).exists():
            raise exceptions.NotFound(_("Cette candidature n'existe pas ou ne vous est pas accessible."))
        data = validated(MoveRequestSerializer(data=request.data))
        with service_errors():
            actions.Move(id, user=request.user, params=data).execute()
        application = Application.objects.select_related("opening", "candidate").get(pk=id)
        context = {"request": request, "file_urls": file_urls(request)}
        return Response(ApplicationSerializer(application, context=context).data)


class ApplicationFileView(APIView):
    """The CV or the cover letter of an application, as an attachment, to whoever may read the
    application (``selectors.applications_visible_to``: HR, the opening's recruiters, its
    jury), authenticated by token or session. 404 when the caller may not see the application
    (its existence does not leak), when the file is hidden by anonymised screening, erased
    or absent; 401 anonymous. Errors are JSON whatever the ``Accept`` header asks."""

    content_negotiation_class = IgnoreClientContentNegotiation  # a PDF client's Accept must not turn an error into 406
    kind = None
    not_found = ""

    def serve(self, request, id):
        queryset = visible_applications(request).select_related("opening", "candidate")
        application = queryset.filter(pk=id).first() if parse_id(str(id)) is not None else None
        if application is None:
            raise exceptions.NotFound(_("Cette candidature n'existe pas ou ne vous est pas accessible."))
        try:
            return files.file_response(application, self.kind)
        except files.Unavailable as unavailable:
            if unavailable.hidden:
                raise exceptions.NotFound(
                    _("Présélection anonyme : les pièces restent masquées tant que la candidature n'a pas quitté "
                      "la présélection.")
                ) from None
            raise exceptions.NotFound(str(self.not_found)) from None


FILE_RESPONSES = {
    **{
        (200, media_type): OpenApiResponse(
            OpenApiTypes.BINARY,
            description=_("Le fichier en pièce jointe, dans le format déposé par le candidat (PDF, DOCX ou ODT)."),
        )
        for media_type in [*files.MEDIA_TYPES.values(), files.OTHER_MEDIA_TYPE]
    },
    **errors(401, 404),
}


class ApplicationCvView(ApplicationFileView):
    kind = "cv"
    not_found = gettext_lazy("Aucun CV accessible pour cette candidature.")

    @extend_schema(
        operation_id="applications_cv_retrieve",
        parameters=[id_parameter("id", _("Identifiant de la candidature."), path=True)],
        responses=FILE_RESPONSES,
    )
    def get(self, request, id):
        return self.serve(request, id)


class ApplicationCoverLetterView(ApplicationFileView):
    kind = "lettre"
    not_found = gettext_lazy("Aucune lettre de motivation accessible pour cette candidature.")

    @extend_schema(
        operation_id="applications_cover_letter_retrieve",
        parameters=[id_parameter("id", _("Identifiant de la candidature."), path=True)],
        responses=FILE_RESPONSES,
    )
    def get(self, request, id):
        return self.serve(request, id)


# --- report ---------------------------------------------------------------------------------------------


def report_period(request):
    """The period of the query string, or 400 naming the parameter. Dates at the ends of the
    calendar (0001-01-01, 9999-12-31) parse, but the period's bounds overflow in the local
    timezone or in UTC (where the database compares them): 400 too, rather than a 500."""
    raw_from, raw_to = request.query_params.get("from"), request.query_params.get("to")
    try:
        return reports.period_from(raw_from, raw_to)  # its bounds exist as aware datetimes, in UTC too
    except reports.PeriodError as exc:
        raise invalid(dict.fromkeys(exc.fields, exc.message)) from exc


class ReportView(APIView):
    """Funnel, time-to-hire and internal vs external applications for a period (by default the
    last 365 days), over every opening (HR) or the caller's openings (recruiters); optionally
    one opening. See ``recruitment.reports`` for the definitions."""

    @extend_schema(
        operation_id="recruitment_report",
        parameters=[
            OpenApiParameter(
                "from",
                OpenApiTypes.DATE,
                description=_(
                    "Premier jour (inclus), AAAA-MM-JJ ; défaut : 365 jours avant « to ». La période couvre "
                    "au plus %(days)s jours (dix ans) et ne commence pas après « to » : sinon 400."
                )
                % {"days": reports.MAX_PERIOD_DAYS},
            ),
            OpenApiParameter(
                "to", OpenApiTypes.DATE, description=_("Dernier jour (inclus), AAAA-MM-JJ ; défaut : aujourd'hui.")
            ),
            id_parameter("opening", _("Identifiant de l'offre.")),
        ],
        responses={200: ReportSerializer, **errors(400, 401, 403, 404)},
    )
    def get(self, request):
        user = request.user
        if not reports.can_view_reports(user):
            raise exceptions.PermissionDenied(_("Les rapports de recrutement sont réservés aux RH et aux recruteurs."))
        period = report_period(request)
        opening_id = positive_int(request.query_params.get("opening"), "opening")
        opening = None
        if opening_id is not None:
            opening = JobOpeningPage.objects.filter(pk=opening_id).first()
            if opening is None:
                raise exceptions.NotFound(_("Offre introuvable."))
            if not reports.reportable_openings(user).filter(pk=opening_id).exists():
                raise exceptions.PermissionDenied(_("Vous ne gérez pas ce recrutement."))
        report = reports.report_for(user, period, opening)
        return Response(ReportSerializer(report_data(report)).data)
