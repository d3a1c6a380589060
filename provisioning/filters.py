"""SCIM filters (RFC 7644 §3.4.2.2) → Django querysets, with scim2-filter-parser's Q-object
transpiler (django-scim2's own parser writes raw SQL on one table and loads every row to
count them; a queryset joins, counts and pages in the database).

Supported: ``eq ne co sw ew gt ge lt le pr``, ``and``/``or``/``not`` and grouping, on the
attributes of ``AgentFilterQuery.attr_map`` (``userName``, ``externalId``, ``emails``,
``emails.value``, ``emails[type eq "work"].value``, ``active``, ``name.givenName``,
``name.familyName``, ``title``, ``id``, the enterprise ``employeeNumber``, ``department``,
``manager.value``, ``meta.lastModified``). Any other attribute answers 400 ``invalidFilter``
rather than being ignored.
"""

from django.db.models import BooleanField, DateTimeField, Q
from django.utils.dateparse import parse_datetime
from scim2_filter_parser import ast as scim_ast
from scim2_filter_parser.lexer import SCIMLexer
from scim2_filter_parser.parser import SCIMParser
from scim2_filter_parser.transpilers.django_q_object import Transpiler

from cms import roles

ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
CORE_USER = "urn:ietf:params:scim:schemas:core:2.0:User"
CORE_GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
MAX_FILTER_LENGTH = 2000
ANY = "__any__"  # a sub-attribute every value matches (a user has one work e-mail)
MAX_ID = 2**63 - 1


class FilterError(ValueError):
    """A filter that cannot be applied: 400 ``invalidFilter``."""


def _with_uri(attr_map, uri):
    """Each attribute also under its full name (``urn:…:User:userName``)."""
    full = dict(attr_map)
    for (attr, sub, _uri), target in attr_map.items():
        full[(attr, sub, uri)] = target
    return full


class StrictTranspiler(Transpiler):
    """Unknown attributes are an error (not silently dropped); ``pr`` ignores empty strings;
    ``id`` values must be integers in range; sub-attributes mapped to ``ANY`` match all."""

    def __init__(self, attr_map, model):
        super().__init__(attr_map)
        self.model = model

    def visit_AttrPath(self, node):
        target = super().visit_AttrPath(node)
        if target is None:
            name = node.attr_name if isinstance(node.attr_name, str) else "?"
            sub = f".{node.sub_attr.value}" if node.sub_attr else ""
            raise FilterError(f"Attribut non pris en charge dans le filtre : {name}{sub}")
        return target

    def visit_AttrExpr(self, node):
        if isinstance(node.attr_path.attr_name, scim_ast.Filter):
            return self.is_filter(node)
        attr = self.visit(node.attr_path)
        if attr == ANY:
            return Q()
        attr = attr.replace(".", "__")
        op = node.value.lower()
        if op == "pr":
            query = Q(**{f"{attr}__isnull": False})
            if not isinstance(self._field(attr), BooleanField):
                query &= ~Q(**{attr: ""})
            return query
        _op, value = self.visit_AttrExprValue(node)
        if attr in ("pk", "manager_id", "user__agent__id"):
            if not (str(value).isdigit() and int(str(value)) <= MAX_ID):
                return Q(pk__in=[])  # no resource has this id
            value = int(str(value))
            return ~Q(**{attr: value}) if op == "ne" else Q(**{attr: value})
        if isinstance(self._field(attr), DateTimeField) and not (isinstance(value, str) and parse_datetime(value)):
            raise FilterError(f"Date invalide dans le filtre : {str(value)[:64]}")
        return super().visit_AttrExpr(node)

    def _field(self, path):
        model, field = self.model, None
        for part in path.split("__"):
            field = model._meta.get_field(part)
            model = field.related_model or model
        return field


class BaseFilterQuery:
    attr_map = {}
    ordering = ("pk",)

    @classmethod
    def model(cls):
        raise NotImplementedError

    @classmethod
    def base_queryset(cls):
        return cls.model()._default_manager.all()

    @classmethod
    def filter_q(cls, filter_query):
        if not isinstance(filter_query, str) or len(filter_query) > MAX_FILTER_LENGTH:
            raise FilterError("Filtre trop long.")
        try:
            tokens = SCIMLexer().tokenize(filter_query)
            tree = SCIMParser().parse(tokens)
            query = StrictTranspiler(cls.attr_map, cls.model()).transpile(tree)
        except FilterError:
            raise
        except (RecursionError, Exception) as exc:  # the lexer and parser raise ValueError, SCIMParserError…
            raise FilterError(f"Filtre invalide : {exc}") from None
        return query if query is not None else Q()

    @classmethod
    def search(cls, filter_query, request=None):
        """A queryset of the resources matching ``filter_query`` (``FilterError`` if invalid)."""
        return cls.base_queryset().filter(cls.filter_q(filter_query)).distinct().order_by(*cls.ordering)


class AgentFilterQuery(BaseFilterQuery):
    attr_map = {
        **_with_uri(
            {
                ("id", None, None): "pk",
                ("userName", None, None): "employee_number",
                ("externalId", None, None): "scim_link.external_id",
                ("emails", None, None): "user.email",
                ("emails", "value", None): "user.email",
                ("emails", "type", None): ANY,
                ("emails", "primary", None): ANY,
                ("active", None, None): "active",
                ("name", "givenName", None): "user.first_name",
                ("name", "familyName", None): "user.last_name",
                ("title", None, None): "job_title",
                ("meta", "lastModified", None): "updated_at",
                ("meta", "created", None): "user.date_joined",
            },
            CORE_USER,
        ),
        ("employeeNumber", None, ENTERPRISE): "employee_number",
        ("department", None, ENTERPRISE): "org_unit.code",
        ("organization", None, ENTERPRISE): "org_unit.code",
        ("manager", "value", ENTERPRISE): "manager_id",
        ("manager", None, ENTERPRISE): "manager_id",
    }

    @classmethod
    def model(cls):
        from cms.models import Agent

        return Agent

    @classmethod
    def base_queryset(cls):
        from provisioning.representation import agent_queryset

        return agent_queryset()


class RoleFilterQuery(BaseFilterQuery):
    attr_map = _with_uri(
        {
            ("id", None, None): "pk",
            ("displayName", None, None): "name",
            ("members", None, None): "user.agent.id",
            ("members", "value", None): "user.agent.id",
        },
        CORE_GROUP,
    )

    @classmethod
    def model(cls):
        from django.contrib.auth.models import Group

        return Group

    @classmethod
    def base_queryset(cls):
        return cls.model()._default_manager.filter(name__in=roles.GROUPS)
