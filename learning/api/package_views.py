"""Package API (SCORM): launch a package step, read one's attempt, and the run-time's
commits (session + CSRF) and terminate beacon (a signed one-time token, text/plain body).

Thin views: reads and writes go through ``learning.services``; errors through
``cms.api.errors.service_errors`` (400 naming the field, 403, 409) and ``Http404`` for
someone else's attempt. Commit bodies are capped at ``MAX_BODY_BYTES`` (413) before they
are read; ``cmi.suspend_data`` itself has no cap. The number of queries of a commit and
of a read does not depend on the number of SCOs or CMI elements.
"""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from cms.api.authentication import ApiTokenAuthentication
from cms.api.errors import service_errors
from cms.api.parsers import JSONParser
from cms.api.schema import errors, id_parameter
from cms.api.serializers import ErrorSerializer
from learning import services
from learning.api.package_serializers import (
    CommitRequestSerializer,
    CommitResponseSerializer,
    PackageAttemptSerializer,
    PackageLaunchRequestSerializer,
    PackageLaunchSerializer,
)
from learning.models import PackageStepPage
from learning.packages import runtime

MAX_BODY_BYTES = runtime.MAX_COMMIT_CHARS


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = gettext_lazy("Envoi trop volumineux : 4 Mo au plus par enregistrement.")
    default_code = "payload_too_large"


class PlainTextJSONParser(JSONParser):
    """``text/plain`` holding JSON: what ``navigator.sendBeacon`` sends with a string body
    (no CORS preflight, no custom header). Same nesting bound as the API's JSON parser."""

    media_type = "text/plain"


def check_body_size(request):
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > MAX_BODY_BYTES:
        raise PayloadTooLarge()


ATTEMPT_ID = id_parameter("attempt_id", gettext_lazy("Identifiant de la tentative."), path=True)
E413 = OpenApiResponse(ErrorSerializer, description=gettext_lazy("Envoi trop volumineux (4 Mo au plus)."))


class PackageLaunchView(APIView):
    """Launches a published package step for the caller (enrolling them where allowed):
    resumes the open attempt, or opens a new one when the step's policy allows it. A cmi5
    step launches an AU (``au``, default the next one not done): ``url`` is the AU's cmi5
    launch URL (a new session, a one-time fetch URL) and ``registration`` the enrolment's
    cmi5 registration."""

    parser_classes = [JSONParser]

    @extend_schema(
        operation_id="me_packages_launch",
        parameters=[id_parameter("step_id", gettext_lazy("Identifiant du module (page Wagtail)."), path=True)],
        request=PackageLaunchRequestSerializer,
        responses={200: PackageLaunchSerializer, **errors(400, 401, 403, 404, 409)},
    )
    def post(self, request, step_id):
        step = PackageStepPage.objects.live().filter(pk=step_id).first()
        if step is None:
            raise exceptions.NotFound(_("Ce module n'existe pas ou n'est pas publié."))
        au = request.data.get("au") if isinstance(request.data, dict) else None
        if au is not None and (not isinstance(au, str) or len(au) > 2000):
            raise exceptions.ValidationError({"au": [_("Identifiant d'AU (chaîne de 2000 caractères au plus) attendu.")]})
        mode = request.data.get("mode") if isinstance(request.data, dict) else None
        if mode is not None and mode not in ("normal", "browse"):
            raise exceptions.ValidationError({"mode": [_("Mode de lancement inconnu : « normal » ou « browse » attendu.")]})
        with service_errors():
            attempt = services.launch_package(user=request.user, step=step, au=au or None, mode=mode)
        body = {"url": services.launch_url(attempt), "attempt": attempt.pk}
        if attempt.registration is not None:
            body["registration"] = str(attempt.registration)
        return Response(body)


class PackageAttemptView(APIView):
    """The caller's attempt: status, score, progress, package version and each SCO's data."""

    @extend_schema(
        operation_id="me_package_attempts_retrieve",
        parameters=[ATTEMPT_ID],
        responses={200: PackageAttemptSerializer, **errors(401, 404)},
    )
    def get(self, request, attempt_id):
        attempt = services.attempt_detail(user=request.user, attempt_id=attempt_id)
        return Response(PackageAttemptSerializer(attempt).data)


class PackageCommitView(APIView):
    """A commit of the SCORM run-time (session + ``X-CSRFToken``). A ``seq`` not greater
    than the last applied one is acknowledged (``applied`` false) and changes nothing."""

    parser_classes = [JSONParser]

    @extend_schema(
        operation_id="me_package_attempts_commit",
        parameters=[ATTEMPT_ID],
        request=CommitRequestSerializer,
        responses={200: CommitResponseSerializer, **errors(400, 401, 403, 404, 409), 413: E413},
    )
    def post(self, request, attempt_id):
        check_body_size(request)
        attempt = services.attempt_detail(user=request.user, attempt_id=attempt_id)  # 404 before reading the body
        data = request.data
        with service_errors():
            result = services.commit_package(user=request.user, attempt_id=attempt.pk, data=data, attempt=attempt)
        return Response(result)


class PackageBeaconView(APIView):
    """The terminate commit sent by ``navigator.sendBeacon`` when the page goes away:
    ``text/plain`` body holding the commit's JSON, authenticated by the signed one-time
    ``token`` of the URL (no session needed, no CSRF header possible). 204 when
    acknowledged; 403 for a reused, forged, expired or foreign token (nothing stored)."""

    # No session authentication (it would demand a CSRF header a beacon cannot send); an
    # ``Authorization: Token`` header, which a beacon never carries, is still checked (401).
    authentication_classes = [ApiTokenAuthentication]
    permission_classes = [AllowAny]
    parser_classes = [PlainTextJSONParser, JSONParser]

    @extend_schema(
        operation_id="me_package_attempts_beacon",
        parameters=[
            ATTEMPT_ID,
            OpenApiParameter("token", OpenApiTypes.STR, required=True,
                             description=gettext_lazy("Jeton signé à usage unique (beacon_url).")),
        ],
        request={"text/plain": CommitRequestSerializer, "application/json": CommitRequestSerializer},
        responses={204: None, **errors(400, 401, 403, 404), 413: E413},  # 404: an id beyond 64 bits
    )
    def post(self, request, attempt_id):
        token = request.query_params.get("token", "")
        with service_errors():
            services.check_beacon_token(attempt_id=attempt_id, token=token)  # 403 before reading the body
        check_body_size(request)
        data = request.data
        with service_errors():
            services.beacon_commit(attempt_id=attempt_id, token=token, data=data)
        return Response(status=status.HTTP_204_NO_CONTENT)
