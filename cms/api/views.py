from django.http import JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from cms import health, selectors
from cms.api.serializers import ErrorSerializer, HealthSerializer, MeSerializer


class HealthView(APIView):
    """Liveness and readiness: the database and the background task backend."""

    permission_classes = [AllowAny]
    authentication_classes = []

    @extend_schema(responses={200: HealthSerializer, 503: HealthSerializer})
    def get(self, request):
        report = health.report()
        return Response(report, status=200 if report["status"] == "ok" else 503)


class MeView(APIView):
    """The caller's account, agent profile and roles."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        responses={
            200: MeSerializer,
            401: OpenApiResponse(ErrorSerializer, description=_("Authentification requise.")),
        }
    )
    def get(self, request):
        user = request.user
        agent = selectors.agent_for_user(user)
        data = {
            "username": user.get_username(),
            "first_name": user.first_name,
            "last_name": user.last_name,
            "email": user.email,
            "employee_number": agent.employee_number if agent else None,
            "job_title": agent.job_title if agent else None,
            "category": agent.category if agent else None,
            "employment_status": agent.employment_status if agent else None,
            "org_unit": {"code": agent.org_unit.code, "name": agent.org_unit.name} if agent else None,
            "manager": (
                {"employee_number": agent.manager.employee_number, "full_name": agent.manager.full_name}
                if agent and agent.manager_id
                else None
            ),
            "roles": selectors.roles_for_user(user),
        }
        return Response(MeSerializer(data).data)


@csrf_exempt
def api_not_found(request, *args, **kwargs):
    """Every path under /api/ that no endpoint matches, whatever the method: JSON 404 (not
    the site's HTML page, nor a CSRF refusal: there is nothing here to protect)."""
    return JsonResponse({"detail": _("Aucun point d'accès de l'API à cette adresse.")}, status=404)
