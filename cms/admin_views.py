"""Wagtail admin "Annuaire": browse, search, filter and edit the organisation directory;
and "Jetons d'API": HR lists and revokes the API tokens.

Lists start from the selectors (``org_units_visible_to`` / ``agents_visible_to``) and run a
fixed number of queries whatever the number of rows (annotations and ``select_related``,
no per-row lookups). Create and edit views validate with the forms of ``cms.forms`` and
save through ``cms.services``. Nothing in the directory deletes: agents are deactivated,
units moved. Revoking a token goes through ``cms.services.revoke_api_token``.
"""

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce, Length, Substr
from django.utils import formats, timezone
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.forms.choosers import BaseFilterForm
from wagtail.admin.ui.menus import MenuItem
from wagtail.admin.ui.tables import Column, StatusFlagColumn, TitleColumn
from wagtail.admin.views import generic
from wagtail.admin.views.generic import chooser as chooser_views
from wagtail.admin.viewsets.base import ViewSetGroup
from wagtail.admin.viewsets.chooser import ChooserViewSet
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.admin.widgets import BooleanRadioSelect
from wagtail.permission_policies import ModelPermissionPolicy
from wagtail.permission_policies.base import BasePermissionPolicy

from cms import roles, selectors, services
from cms.choices import Category, EmploymentStatus, OrgUnitKind
from cms.forms import AGENT_CHOOSER_NAMESPACE, AgentForm, OrgUnitChoiceField, OrgUnitForm
from cms.importer import run_import_listeners
from cms.models import Agent, ApiToken, OrgUnit

AGENT_SEARCH_FIELDS = ["user__last_name", "user__first_name", "user__email", "employee_number"]
ORG_UNIT_SEARCH_FIELDS = ["name", "code"]
MAX_SEARCH_TERMS = 8


def search_by_terms(queryset, query, fields):
    """Every word of ``query`` must appear (case-insensitively) in one of ``fields``.

    Plain ORM lookups: the directory is not in the Wagtail search index, and "Dupont Marie"
    or a partial employee number must both find their agent.
    """
    for term in query.split()[:MAX_SEARCH_TERMS]:
        condition = Q()
        for field in fields:
            condition |= Q(**{f"{field}__icontains": term})
        queryset = queryset.filter(condition)
    return queryset


def add_service_errors(form, error):
    """Attach a service ``ValidationError`` to the form, on the field it names when possible."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


class DirectoryPermissionPolicy(ModelPermissionPolicy):
    """Django model permissions, except that nobody deletes directory rows, not even a
    superuser: agents are deactivated (their history must survive) and units are moved."""

    def user_has_permission(self, user, action):
        return action != "delete" and super().user_has_permission(user, action)

    def users_with_any_permission(self, actions):
        actions = [action for action in actions if action != "delete"]
        if not actions:
            return get_user_model().objects.none()
        return super().users_with_any_permission(actions)


# --- shared view behaviour


class StableOrderingMixin:
    """Appends the primary key to the ordering so that pagination never skips or repeats rows."""

    def order_queryset(self, queryset):
        queryset = super().order_queryset(queryset)
        ordering = list(queryset.query.order_by) or list(self.model._meta.ordering)
        if "pk" not in ordering and "-pk" not in ordering:
            ordering.append("pk")
        return queryset.order_by(*ordering)


class ServiceFormMixin:
    """The service raises ``ValidationError`` for what the form cannot see (e.g. a concurrent
    change): show it on the form instead of a server error. The transaction is rolled back."""

    def form_valid(self, form):
        try:
            return super().form_valid(form)
        except ValidationError as error:
            add_service_errors(form, error)
            self.produced_error_code = "validation_error"
            self.produced_error_message = self.get_error_message()
            return self.form_invalid(form)


class NoDeleteEditView(ServiceFormMixin, generic.EditView):
    @cached_property
    def can_delete(self):
        return False


class NoDeleteModelViewSet(ModelViewSet):
    """A ModelViewSet without delete, copy nor usage views.

    Not in Wagtail's reference index either: that would add work to every save of an
    agent (imports touch tens of thousands) for a "usage" page nobody needs here.
    """

    copy_view_enabled = False
    inspect_view_enabled = False
    add_to_reference_index = False
    removed_views = {"delete", "usage"}

    def get_common_view_kwargs(self, **kwargs):
        return super().get_common_view_kwargs(delete_url_name=None, usage_url_name=None, **kwargs)

    def get_urlpatterns(self):
        return [pattern for pattern in super().get_urlpatterns() if pattern.name not in self.removed_views]

    def get_permissions_to_register(self):
        content_type = ContentType.objects.get_for_model(self.model)
        codenames = [f"{action}_{self.model_name}" for action in ("add", "change", "view")]
        return Permission.objects.filter(content_type=content_type, codename__in=codenames)


# --- org units


class OrgUnitTitleColumn(TitleColumn):
    """Unit name, indented by depth while the list is in tree order."""

    def get_cell_context_data(self, instance, parent_context):
        context = super().get_cell_context_data(instance, parent_context)
        table = parent_context["table"]
        if table.ordering in (None, "path") and instance.depth > 1:
            indent = "\u00a0" * 4 * (instance.depth - 2) + "└\u00a0"
            context["value"] = format_html('<span aria-hidden="true">{}</span>{}', indent, context["value"])
        return context


class OrgUnitFilterSet(WagtailFilterSet):
    kind = django_filters.ChoiceFilter(
        label=_("Type"), choices=OrgUnitKind.choices, empty_label=_("Tous"), widget=forms.RadioSelect
    )

    class Meta:
        model = OrgUnit
        fields = ["kind"]


class OrgUnitIndexView(StableOrderingMixin, generic.IndexView):
    add_item_label = _("Ajouter une unité")

    def get_base_queryset(self):
        active_agents = (
            Agent.objects.filter(org_unit=OuterRef("pk"), active=True)
            .order_by()
            .values("org_unit")
            .annotate(count=Count("pk"))
            .values("count")
        )
        parent_name = OrgUnit.objects.filter(
            path=Substr(OuterRef("path"), 1, Length(OuterRef("path")) - OrgUnit.steplen)
        ).values("name")[:1]
        return selectors.org_units_visible_to(self.request.user).annotate(
            agent_count=Coalesce(Subquery(active_agents), 0),
            parent_name=Subquery(parent_name),
        )

    @cached_property
    def columns(self):
        title_class = self._get_title_column_class(OrgUnitTitleColumn)
        return [
            title_class("name", label=_("Nom"), sort_key="name", get_url=self.get_edit_url),
            Column("parent_name", label=_("Rattachement"), sort_key=None),
            Column("code", label=_("Code"), sort_key="code"),
            Column("kind", label=_("Type"), accessor="get_kind_display", sort_key="kind"),
            Column("agent_count", label=_("Agents actifs"), sort_key="agent_count"),
        ]


class OrgUnitCreateView(ServiceFormMixin, generic.CreateView):
    def save_instance(self):
        return services.create_org_unit(actor=self.request.user, **self.form.service_kwargs())


class OrgUnitEditView(NoDeleteEditView):
    def save_instance(self):
        return services.update_org_unit(org_unit=self.object, actor=self.request.user, **self.form.service_kwargs())


class OrgUnitViewSet(NoDeleteModelViewSet):
    model = OrgUnit
    name = "annuaire_unites"
    url_prefix = "annuaire/unites"
    icon = "folder-open-inverse"
    menu_label = _("Unités")
    index_view_class = OrgUnitIndexView
    add_view_class = OrgUnitCreateView
    edit_view_class = OrgUnitEditView
    filterset_class = OrgUnitFilterSet
    search_fields = ORG_UNIT_SEARCH_FIELDS
    search_backend_name = None  # Django ORM lookups on search_fields, not the search index
    ordering = "path"
    list_per_page = 50

    def get_form_class(self, for_update=False):
        return OrgUnitForm


# --- agents


class OrgUnitSubtreeFilter(django_filters.ModelChoiceFilter):
    """Agents of a unit and of every unit below it (one index range scan on the path)."""

    class field_class(django_filters.fields.ModelChoiceField):
        label_from_instance = OrgUnitChoiceField.label_from_instance

    def filter(self, queryset, value):
        if value:
            return queryset.filter(org_unit__path__startswith=value.path)
        return queryset


class AgentFilterSet(WagtailFilterSet):
    org_unit = OrgUnitSubtreeFilter(
        label=_("Unité (sous-unités comprises)"),
        queryset=lambda request: OrgUnit.objects.order_by("path"),
        empty_label=_("Toutes"),
    )
    category = django_filters.ChoiceFilter(
        label=_("Catégorie"), choices=Category.choices, empty_label=_("Toutes"), widget=forms.RadioSelect
    )
    employment_status = django_filters.ChoiceFilter(
        label=_("Statut"), choices=EmploymentStatus.choices, empty_label=_("Tous"), widget=forms.RadioSelect
    )
    active = django_filters.BooleanFilter(label=_("Actif"), widget=BooleanRadioSelect)

    class Meta:
        model = Agent
        fields = ["org_unit", "category", "employment_status", "active"]


def manager_name(agent):
    return agent.manager.full_name if agent.manager_id else ""


class AgentIndexView(StableOrderingMixin, generic.IndexView):
    add_item_label = _("Ajouter un agent")

    def get_base_queryset(self):
        # HR: select_related("user", "org_unit", "manager__user"), so no per-row query.
        return selectors.agents_visible_to(self.request.user)

    def search_queryset(self, queryset):
        if not self.is_searching:
            return queryset
        return search_by_terms(queryset, self.search_query, AGENT_SEARCH_FIELDS)

    @cached_property
    def columns(self):
        title_class = self._get_title_column_class(TitleColumn)
        return [
            title_class(
                "full_name", label=_("Nom"), accessor="full_name", sort_key="user__last_name", get_url=self.get_edit_url
            ),
            Column("employee_number", label=_("Matricule"), sort_key="employee_number"),
            Column("org_unit", label=_("Unité"), sort_key="org_unit__path"),
            Column("job_title", label=_("Poste"), sort_key="job_title"),
            Column("category", label=_("Catégorie"), accessor="get_category_display", sort_key="category"),
            Column("manager", label=_("Responsable (N+1)"), accessor=manager_name),
            StatusFlagColumn(
                "active", label=_("État"), true_label=_("Actif"), false_label=_("Inactif"), sort_key="active"
            ),
        ]


class AgentCreateView(ServiceFormMixin, generic.CreateView):
    @transaction.atomic
    def save_instance(self):
        agent = services.save_agent(actor=self.request.user, **self.form.service_kwargs())
        # as after an import or a SCIM change: the newcomer gets the mandatory courses of their unit
        run_import_listeners([agent.pk], [])
        return agent


class AgentEditView(NoDeleteEditView):
    def get_queryset(self):
        return Agent.objects.select_related("user", "org_unit", "manager__user")

    @transaction.atomic
    def save_instance(self):
        agent = services.save_agent(agent=self.object, actor=self.request.user, **self.form.service_kwargs())
        # as after an import: a move of unit, a departure (open appraisals flagged for HR)…
        run_import_listeners([], [agent.pk])
        return agent


class AgentViewSet(NoDeleteModelViewSet):
    model = Agent
    name = "annuaire_agents"
    url_prefix = "annuaire/agents"
    icon = "user"
    menu_label = _("Agents")
    index_view_class = AgentIndexView
    add_view_class = AgentCreateView
    edit_view_class = AgentEditView
    filterset_class = AgentFilterSet
    search_fields = AGENT_SEARCH_FIELDS
    search_backend_name = None
    list_per_page = 50

    def get_form_class(self, for_update=False):
        return AgentForm


class DirectoryViewSetGroup(ViewSetGroup):
    menu_label = _("Annuaire")
    menu_name = "annuaire"
    menu_icon = "group"
    menu_order = 250
    items = (OrgUnitViewSet, AgentViewSet)


# --- agent chooser (the manager field: too many agents for a select)


class AgentChooserFilterForm(BaseFilterForm):
    q = forms.CharField(
        label=_("Rechercher"),
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("Nom, prénom, courriel ou matricule")}),
    )

    def filter(self, objects):
        objects = super().filter(objects)
        query = self.cleaned_data.get("q")
        if query:
            objects = search_by_terms(objects, query, AGENT_SEARCH_FIELDS)
            self.is_searching = True
            self.search_query = query
        return objects


class AgentChooseMixin:
    filter_form_class = AgentChooserFilterForm
    per_page = 20

    def get_object_list(self):
        # Only the agents the user may see (all of them for HR).
        return selectors.agents_visible_to(self.request.user).filter(active=True)

    @property
    def title_column(self):
        column = super().title_column
        column.label = _("Agent")
        return column

    @property
    def columns(self):
        return [
            self.title_column,
            Column("org_unit", label=_("Unité")),
            Column("job_title", label=_("Poste")),
        ]


class AgentChooseView(AgentChooseMixin, chooser_views.ChooseView):
    pass


class AgentChooseResultsView(AgentChooseMixin, chooser_views.ChooseResultsView):
    pass


class AgentChosenView(chooser_views.ChosenView):
    def get_object(self, pk):
        return selectors.agents_visible_to(self.request.user).get(pk=pk)


class AgentChosenMultipleView(chooser_views.ChosenMultipleView):
    def get_objects(self, pks):
        return selectors.agents_visible_to(self.request.user).filter(pk__in=pks)


class AgentChooserViewSet(ChooserViewSet):
    model = Agent
    name = AGENT_CHOOSER_NAMESPACE
    url_prefix = "annuaire/choisir-agent"
    icon = "user"
    choose_one_text = _("Choisir un agent")
    choose_another_text = _("Choisir un autre agent")
    edit_item_text = _("Modifier cet agent")
    choose_view_class = AgentChooseView
    choose_results_view_class = AgentChooseResultsView
    chosen_view_class = AgentChosenView
    chosen_multiple_view_class = AgentChosenMultipleView
    # cms.forms.AgentChooserWidget is used explicitly; do not change other apps' forms.
    register_widget = False

    def get_urlpatterns(self):
        # No "create" tab: agents are created from the directory, through the service.
        return [pattern for pattern in super().get_urlpatterns() if pattern.name != "create"]


# --- API tokens (HR): list and revoke; keys are never shown (only a hash is stored)


class ListOnlyViewSet(ModelViewSet):
    """A viewset with an index and the views named in ``kept_urls`` only: no add, edit,
    copy, inspect, history or usage views, no model permissions (a permission policy
    decides by role). Credentials (API tokens, LRS clients, SCIM tokens) and audit logs
    are listed this way, under « Paramètres »."""

    search_backend_name = None
    copy_view_enabled = False
    inspect_view_enabled = False
    add_to_reference_index = False
    add_to_settings_menu = True
    list_per_page = 50
    form_fields = []
    kept_urls = frozenset({"index", "index_results"})

    def get_common_view_kwargs(self, **kwargs):
        return super().get_common_view_kwargs(
            add_url_name=None, edit_url_name=None, history_url_name=None, usage_url_name=None, **kwargs
        )

    def get_urlpatterns(self):
        return [pattern for pattern in super().get_urlpatterns() if pattern.name in self.kept_urls]

    def register_admin_url_finder(self):
        pass  # no edit view to point to

    def get_permissions_to_register(self):
        return Permission.objects.none()


class RevokeView(generic.DeleteView):
    """The "delete" view of a credential, which revokes it: a confirmation page naming what
    happens (``confirmation_text`` with ``%(name)s`` and the keys of ``confirmation_values``),
    then ``revoke(credential, actor)``, a service function."""

    confirmation_text = ""

    def confirmation_values(self):
        return {"name": self.object.name}

    @property
    def confirmation_message(self):
        return str(self.confirmation_text) % self.confirmation_values()

    def get_success_message(self):
        return str(self.success_message) % {"object": self.object.name}

    def delete_action(self):
        self.revoke(self.object, self.request.user)

    def revoke(self, credential, actor):
        raise NotImplementedError


class ApiTokenPermissionPolicy(BasePermissionPolicy):
    """HR and superusers may view and revoke ("delete") API tokens; nobody adds or edits
    them here (``manage.py create_api_token`` prints a key once)."""

    ACTIONS = {"view", "delete"}

    def user_has_permission(self, user, action):
        return action in self.ACTIONS and services.can_manage_api_tokens(user)

    def users_with_any_permission(self, actions):
        if not self.ACTIONS & set(actions):
            return get_user_model().objects.none()
        return get_user_model().objects.filter(
            Q(is_superuser=True) | Q(groups__name=roles.HR), is_active=True
        ).distinct()


def _datetime(value):
    return formats.date_format(timezone.localtime(value), "SHORT_DATETIME_FORMAT") if value else ""


def token_expiry(api_token):
    if api_token.token.expiry is None:
        return gettext("jamais")
    text = _datetime(api_token.token.expiry)
    return gettext("%(date)s (expiré)") % {"date": text} if api_token.expired else text


class ApiTokenIndexView(StableOrderingMixin, generic.IndexView):
    def get_base_queryset(self):
        return ApiToken.objects.select_related("token__user")

    def get_list_more_buttons(self, instance):
        buttons = []
        if delete_url := self.get_delete_url(instance):
            buttons.append(MenuItem(gettext("Révoquer"), url=delete_url, icon_name="bin", priority=30))
        return buttons

    @cached_property
    def columns(self):
        title_class = self._get_title_column_class(TitleColumn)
        return [
            title_class("name", label=_("Nom"), sort_key="name", get_url=self.get_delete_url),
            Column("user", label=_("Compte"), accessor="token.user", sort_key="token__user__username"),
            Column("created", label=_("Créé le"), accessor=lambda t: _datetime(t.token.created),
                   sort_key="token__created"),  # fmt: skip
            Column("expiry", label=_("Expire le"), accessor=token_expiry, sort_key="token__expiry"),
            Column("last_used_at", label=_("Dernière utilisation"), accessor=lambda t: _datetime(t.last_used_at),
                   sort_key="last_used_at"),  # fmt: skip
            Column("prefix", label=_("Début de la clé"), accessor="prefix"),
        ]


class ApiTokenRevokeView(RevokeView):
    page_title = _("Révoquer le jeton d'API")
    success_message = _("Jeton d'API « %(object)s » révoqué : la clé ne fonctionne plus.")
    confirmation_text = _(
        "Révoquer le jeton « %(name)s » du compte %(user)s ? Les clients qui l'utilisent "
        "recevront aussitôt une erreur 401 ; cette action est définitive."
    )

    def get_queryset(self):
        return ApiToken.objects.select_related("token__user")

    def confirmation_values(self):
        return {"name": self.object.name, "user": self.object.token.user.get_username()}

    def revoke(self, credential, actor):
        services.revoke_api_token(api_token=credential, actor=actor)


class ApiTokenViewSet(ListOnlyViewSet):
    model = ApiToken
    name = "jetons_api"
    url_prefix = "jetons-api"
    icon = "key"
    menu_label = _("Jetons d'API")
    menu_order = 900
    index_view_class = ApiTokenIndexView
    delete_view_class = ApiTokenRevokeView
    search_fields = ["name", "token__user__username", "token__token_key"]
    ordering = ["name"]
    kept_urls = frozenset({"index", "index_results", "delete"})  # keys come from `manage.py create_api_token`
