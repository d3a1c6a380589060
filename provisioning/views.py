"""SCIM 2.0 endpoints (RFC 7644) on django-scim2's views.

django-scim2 gives the URL names (namespace ``scim``), the bearer-token check
(``AUTH_CHECK_MIDDLEWARE``), CSRF exemption and the discovery documents. These subclasses
add what a directory of 55,000 agents needs: lists filtered, counted and paged in the
database (constant queries), ETags (``meta.version``, ``If-Match`` → 412, ``If-None-Match``
→ 304), writes through ``provisioning.services``, bodies read defensively (size, depth) and
every error in the SCIM format with ``status`` as a string.
"""

import json
import logging

from django.conf import settings
from django.http import HttpResponse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.generic import View
from django_scim import constants
from django_scim import views as scim_views
from django_scim.exceptions import SCIMException
from django_scim.settings import scim_settings

from provisioning import errors, services
from provisioning.filters import AgentFilterQuery, FilterError, RoleFilterQuery
from provisioning.representation import agent_queryset, group_resource, role_queryset, user_resource

logger = logging.getLogger(__name__)
MAX_DEPTH = 32
ALWAYS_RETURNED = {"id", "schemas", "meta"}


def scim_response(data=None, *, status=200, resource=None):
    response = HttpResponse(
        json.dumps(data) if data is not None else b"", content_type=constants.SCIM_CONTENT_TYPE, status=status
    )
    if resource is not None:
        response["ETag"] = resource["meta"]["version"]
        response["Location"] = resource["meta"]["location"]
    return response


def error_response(exc):
    return scim_response(errors.to_dict(exc), status=int(exc.status))


def _too_deep(value):
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            return True
        if isinstance(item, dict):
            stack.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)
    return False


class ScimViewMixin:
    """Dispatch with bearer-token authentication and SCIM errors for everything that fails."""

    implemented = True

    @method_decorator(csrf_exempt)
    @method_decorator(scim_settings.AUTH_CHECK_MIDDLEWARE)
    def dispatch(self, request, *args, **kwargs):
        try:
            if not self.implemented:
                raise errors.ScimError(_("Fonction non prise en charge."), status=501)
            method = request.method.lower()
            if method not in self.http_method_names or not hasattr(self, method):
                raise errors.ScimError(_("Méthode non autorisée."), status=405)
            return getattr(self, method)(request, *args, **kwargs)
        except SCIMException as exc:
            return error_response(exc)
        except Exception:
            logger.exception("SCIM request failed")
            return error_response(errors.ScimError(_("Erreur interne."), status=500))

    def load_body(self, body):
        try:
            data = json.loads(body.decode("utf-8") or "null")
        except (UnicodeDecodeError, ValueError, RecursionError):
            raise errors.invalid_syntax(_("Le corps de la requête n'est pas du JSON valide.")) from None
        if not isinstance(data, dict):
            raise errors.invalid_syntax(_("Le corps de la requête doit être un objet JSON."))
        if _too_deep(data):
            raise errors.invalid_syntax(_("Le corps de la requête est trop imbriqué."))
        return data

    @staticmethod
    def if_match(request):
        return request.META.get("HTTP_IF_MATCH")

    @staticmethod
    def page(params):
        """``startIndex`` (1-based; below 1 is 1) and ``count`` (capped at SCIM_MAX_RESULTS)."""
        values = []
        for name, default in (("startIndex", 1), ("count", settings.SCIM_MAX_RESULTS)):
            raw = params.get(name, default)
            try:
                value = int(raw)
            except (TypeError, ValueError):
                raise errors.invalid_value(_("« %(name)s » doit être un entier.") % {"name": name}) from None
            values.append(value)
        start, count = values
        return max(1, min(start, 2**31)), max(0, min(count, settings.SCIM_MAX_RESULTS))

    @staticmethod
    def project(resource, params):
        """``attributes`` / ``excludedAttributes`` (top-level names, case-insensitive)."""

        def names(key):
            raw = params.get(key) or ""
            return {part.strip().lower() for part in str(raw).split(",") if part.strip()}

        wanted, excluded = names("attributes"), names("excludedAttributes")
        if not wanted and not excluded:
            return resource

        def short(name):
            return (
                name.rsplit(":", 1)[-1].split(".")[0]
                if name.startswith("urn:") and name.count(":") > 6
                else name.split(".")[0]
            )

        def selected(key, names_):
            key = key.lower()
            if key.startswith("urn:"):  # an extension: named itself, or one of its attributes
                return any(name == key or name.startswith(key + ":") for name in names_)
            return key in {short(name) for name in names_}

        return {
            key: value
            for key, value in resource.items()
            if key in ALWAYS_RETURNED or (not selected(key, excluded) and (not wanted or selected(key, wanted)))
        }

    def list_response(self, queryset, params, to_resource):
        start, count = self.page(params)
        total = queryset.count()
        items = list(queryset[start - 1 : start - 1 + count]) if count else []
        resources = [self.project(to_resource(item, params), params) for item in items]
        return scim_response(
            {
                "schemas": [constants.SchemaURI.LIST_RESPONSE],
                "totalResults": total,
                "itemsPerPage": len(resources),
                "startIndex": start,
                "Resources": resources,
            }
        )

    def single_response(self, request, resource, params=None, status=200):
        if status == 200 and request.method == "GET":
            if_none_match = request.META.get("HTTP_IF_NONE_MATCH", "")
            if resource["meta"]["version"] in {item.strip() for item in if_none_match.split(",")}:
                return scim_response(status=304, resource=resource)
        return scim_response(self.project(resource, params or {}), status=status, resource=resource)

    def search_params(self, request):
        """POST …/.search (RFC 7644 §3.4.3): the same parameters in the body."""
        body = self.load_body(request.body)
        if body.get("schemas") != [constants.SchemaURI.SERACH_REQUEST]:
            raise errors.invalid_syntax(_("« schemas » doit être [SearchRequest]."))
        params = {}
        for name in ("filter", "startIndex", "count", "attributes", "excludedAttributes"):
            value = body.get(name)
            if value is not None:
                params[name] = ",".join(map(str, value)) if isinstance(value, list) else value
        return params


class UsersView(ScimViewMixin, scim_views.UsersView):
    def get(self, request, uuid=None, *args, **kwargs):
        if uuid is not None:
            pk = services.parse_id(uuid)
            agent = agent_queryset().filter(pk=pk).first() if pk is not None else None
            if agent is None:
                raise errors.not_found(uuid)
            return self.single_response(request, user_resource(agent), request.GET)
        return self.search(request.GET)

    def search(self, params):
        queryset = agent_queryset().order_by("pk")
        if params.get("filter"):
            try:
                queryset = AgentFilterQuery.search(params["filter"])
            except FilterError as exc:
                raise errors.invalid_filter(str(exc)) from None
        return self.list_response(queryset, params, lambda agent, _params: user_resource(agent))

    def post(self, request, uuid=None, *args, **kwargs):
        if uuid is not None:
            raise errors.ScimError(_("Méthode non autorisée."), status=405)
        agent = services.create_user(body=self.load_body(request.body), token=request.scim_token, request=request)
        return self.single_response(request, user_resource(agent), status=201)

    def put(self, request, uuid=None, *args, **kwargs):
        agent = services.replace_user(
            agent_id=self._pk(uuid), body=self.load_body(request.body), token=request.scim_token,
            request=request, if_match=self.if_match(request),
        )  # fmt: skip
        return self.single_response(request, user_resource(agent))

    def patch(self, request, uuid=None, *args, **kwargs):
        body = self.load_body(request.body)
        agent = services.patch_user(
            agent_id=self._pk(uuid), operations=body.get("Operations", body.get("operations")),
            token=request.scim_token, request=request, if_match=self.if_match(request),
        )  # fmt: skip
        return self.single_response(request, user_resource(agent))

    def delete(self, request, uuid=None, *args, **kwargs):
        services.deactivate_user(
            agent_id=self._pk(uuid), token=request.scim_token, request=request, if_match=self.if_match(request)
        )
        return scim_response(status=204)

    @staticmethod
    def _pk(uuid):
        pk = services.parse_id(uuid)
        if pk is None:
            raise errors.not_found(uuid) if uuid else errors.ScimError(_("Méthode non autorisée."), status=405)
        return pk


class UserSearchView(UsersView):
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        return self.search(self.search_params(request))


def _group(group, params):
    excluded = {part.strip().lower() for part in str(params.get("excludedAttributes") or "").split(",")}
    return group_resource(group, members=[] if "members" in excluded else None)


class GroupsView(ScimViewMixin, scim_views.GroupsView):
    def get(self, request, uuid=None, *args, **kwargs):
        if uuid is not None:
            pk = services.parse_id(uuid)
            group = role_queryset().filter(pk=pk).first() if pk is not None else None
            if group is None:
                raise errors.not_found(uuid)
            return self.single_response(request, _group(group, request.GET), request.GET)
        return self.search(request.GET)

    def search(self, params):
        queryset = role_queryset().order_by("pk")
        if params.get("filter"):
            try:
                queryset = RoleFilterQuery.search(params["filter"])
            except FilterError as exc:
                raise errors.invalid_filter(str(exc)) from None
        return self.list_response(queryset, params, _group)

    def post(self, request, *args, **kwargs):
        services.existing_role(self.load_body(request.body))

    def put(self, request, uuid=None, *args, **kwargs):
        group = services.replace_group(
            group_id=uuid, body=self.load_body(request.body), token=request.scim_token, request=request,
            if_match=self.if_match(request),
        )  # fmt: skip
        return self.single_response(request, group_resource(group))

    def patch(self, request, uuid=None, *args, **kwargs):
        body = self.load_body(request.body)
        group = services.patch_group(
            group_id=uuid, operations=body.get("Operations", body.get("operations")), token=request.scim_token,
            request=request, if_match=self.if_match(request),
        )  # fmt: skip
        return self.single_response(request, group_resource(group))

    def delete(self, request, uuid=None, *args, **kwargs):
        services.lock_group(uuid)
        raise errors.mutability(_("Les rôles de Parcours ne se suppriment pas."))


class GroupSearchView(GroupsView):
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        return self.search(self.search_params(request))


class ServiceProviderConfigView(ScimViewMixin, scim_views.ServiceProviderConfigView):
    pass


class _DiscoveryMixin(ScimViewMixin):
    def get(self, request, uuid=None, *args, **kwargs):
        response = super().get(request, uuid, *args, **kwargs)
        if response.status_code == 404:
            raise errors.not_found(uuid)
        return response


class ResourceTypesView(_DiscoveryMixin, scim_views.ResourceTypesView):
    pass


class SchemasView(_DiscoveryMixin, scim_views.SchemasView):
    pass


class NotImplementedView(ScimViewMixin, View):
    implemented = False
