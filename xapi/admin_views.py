"""Wagtail admin of the LRS (HR): the statements browser (filters, one statement's JSON), the
statements received per course, and "Clients LRS": the list of credentials and their revocation.

Credentials are created by ``manage.py create_lrs_client`` (the secret is printed once); here
HR sees name, read-only flag, agent scope, state, creation and last use, and revokes a client
after a confirmation. Revoking deactivates (statements keep their authority); nothing is deleted.
"""

import json
from datetime import datetime, time, timedelta
from urllib.parse import urlencode

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView
from wagtail.admin.paginator import WagtailPaginator
from wagtail.admin.ui.menus import MenuItem
from wagtail.admin.ui.tables import Column, TitleColumn
from wagtail.admin.views import generic
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.permission_policies.base import BasePermissionPolicy

from cms import roles
from cms.admin_views import ListOnlyViewSet, RevokeView
from xapi import selectors, services, validation
from xapi.models import LRSClient, Statement


class LRSClientPermissionPolicy(BasePermissionPolicy):
    """HR and superusers view and revoke ("delete") LRS clients; nobody adds or edits them here."""

    ACTIONS = {"view", "delete"}

    def user_has_permission(self, user, action):
        return action in self.ACTIONS and services.can_manage_clients(user)

    def users_with_any_permission(self, actions):
        if not self.ACTIONS & set(actions):
            return get_user_model().objects.none()
        return (
            get_user_model().objects.filter(Q(is_superuser=True) | Q(groups__name=roles.HR), is_active=True).distinct()
        )


def _datetime(value):
    return formats.date_format(timezone.localtime(value), "SHORT_DATETIME_FORMAT") if value else ""


def scope_label(client):
    if not client.scope_agent:
        return gettext("toutes les déclarations")
    agent = client.scope_agent
    for key in ("account", "mbox", "openid", "mbox_sha1sum"):
        if key in agent:
            value = agent[key]
            return value["name"] if key == "account" else value
    return ""


class LRSClientIndexView(generic.IndexView):
    def get_base_queryset(self):
        return LRSClient.objects.all()

    def order_queryset(self, queryset):
        queryset = super().order_queryset(queryset)
        ordering = list(queryset.query.order_by) or ["name"]
        return queryset.order_by(*ordering, "pk")

    def get_list_more_buttons(self, instance):
        buttons = []
        if instance.is_active and (delete_url := self.get_delete_url(instance)):
            buttons.append(MenuItem(gettext("Révoquer"), url=delete_url, icon_name="bin", priority=30))
        return buttons

    @cached_property
    def columns(self):
        title_class = self._get_title_column_class(TitleColumn)
        yes_no = {True: gettext("oui"), False: gettext("non")}
        return [
            title_class(
                "name",
                label=_("Nom"),
                sort_key="name",
                get_url=lambda c: self.get_delete_url(c) if c.is_active else None,
            ),  # fmt: skip
            Column("read_only", label=_("Lecture seule"), accessor=lambda c: yes_no[c.read_only]),
            Column("scope", label=_("Périmètre"), accessor=scope_label),
            Column("is_active", label=_("Actif"), accessor=lambda c: yes_no[c.is_active], sort_key="is_active"),
            Column("created_at", label=_("Créé le"), accessor=lambda c: _datetime(c.created_at), sort_key="created_at"),
            Column(
                "last_used_at",
                label=_("Dernière utilisation"),
                accessor=lambda c: _datetime(c.last_used_at),
                sort_key="last_used_at",
            ),  # fmt: skip
            Column("key", label=_("Clé"), accessor="key"),
        ]


class LRSClientRevokeView(RevokeView):
    page_title = _("Révoquer le client LRS")
    success_message = _("Client LRS « %(object)s » révoqué : ses identifiants ne fonctionnent plus.")
    confirmation_text = _(
        "Révoquer le client « %(name)s » ? Les contenus et applications qui utilisent sa clé recevront "
        "aussitôt une erreur 401 ; les déclarations déjà enregistrées sont conservées. Cette action est définitive."
    )

    def get_queryset(self):
        return LRSClient.objects.filter(is_active=True)

    def revoke(self, credential, actor):
        services.revoke_client(client=credential, actor=actor)


class LRSClientViewSet(ListOnlyViewSet):
    model = LRSClient
    name = "clients_lrs"
    url_prefix = "clients-lrs"
    icon = "key"
    menu_label = _("Clients LRS (xAPI)")
    menu_order = 910
    index_view_class = LRSClientIndexView
    delete_view_class = LRSClientRevokeView
    search_fields = ["name", "key"]
    ordering = ["name"]
    kept_urls = frozenset({"index", "index_results", "delete"})  # clients come from `manage.py create_lrs_client`


# --- the statements browser (HR) -----------------------------------------------------------------

STATEMENTS_PER_PAGE = 50
COMMON_VERBS = [
    "http://adlnet.gov/expapi/verbs/" + name
    for name in (
        "launched",
        "initialized",
        "experienced",
        "attempted",
        "answered",
        "progressed",
        "completed",
        "passed",
        "failed",
        "terminated",
        "satisfied",
        "waived",
        "abandoned",
        "voided",
    )  # fmt: skip
]


def require_hr(user):
    if not services.can_manage_clients(user):
        raise PermissionDenied(gettext("Réservé aux ressources humaines."))


def _iri_field(label, help_text, **attrs):
    return forms.CharField(label=label, help_text=help_text, required=False, max_length=2048,
                           widget=forms.TextInput(attrs=attrs))  # fmt: skip


class StatementFilterForm(forms.Form):
    agent = forms.CharField(
        label=_("Agent"), required=False, max_length=200,
        help_text=_("Nom, prénom ou matricule d'un agent ; ou une adresse e-mail, pour un acteur extérieur."),
    )  # fmt: skip
    verb = _iri_field(
        _("Verbe"), _("Identifiant (IRI) du verbe, par exemple http://adlnet.gov/expapi/verbs/completed.")
    )
    activity = _iri_field(_("Activité"), _("Identifiant (IRI) de l'activité : objet ou activité de contexte."))
    since = forms.DateField(label=_("Enregistrées à partir du"), required=False,
                            widget=forms.DateInput(attrs={"type": "date"}))  # fmt: skip
    until = forms.DateField(
        label=_("Jusqu'au (inclus)"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    voided = forms.ChoiceField(
        label=_("Annulation"), required=False,
        choices=[("", _("Déclarations en vigueur")), ("yes", _("Déclarations annulées")), ("all", _("Toutes"))],
    )  # fmt: skip

    def _clean_iri(self, name):
        value = self.cleaned_data[name].strip()
        if value and not validation.is_iri(value):
            raise forms.ValidationError(gettext("Saisissez un identifiant complet (IRI), par exemple https://…"))
        return value

    def clean_verb(self):
        return self._clean_iri("verb")

    def clean_activity(self):
        return self._clean_iri("activity")

    def clean(self):
        cleaned = super().clean()
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and until < since:
            self.add_error("until", gettext("La date de fin précède la date de début."))
        return cleaned

    def filters(self):
        """Keyword arguments of ``selectors.browse_statements`` (the form is valid)."""
        data = self.cleaned_data
        zone = timezone.get_current_timezone()
        day = lambda d: datetime.combine(d, time.min, tzinfo=zone)  # noqa: E731
        return {
            "agent_keys": selectors.agent_keys_matching(data["agent"]) if data["agent"].strip() else None,
            "verb_id": data["verb"],
            "activity_id": data["activity"],
            "since": day(data["since"]) if data["since"] else None,
            "until": day(data["until"] + timedelta(days=1)) if data["until"] else None,
            "voided": {"": False, "yes": True, "all": None}[data["voided"] or ""],
        }


class LRSAdminPage(WagtailAdminTemplateMixin, TemplateView):
    header_icon = "list-ul"

    def dispatch(self, request, *args, **kwargs):
        require_hr(request.user)
        return super().dispatch(request, *args, **kwargs)

    def get_breadcrumbs_items(self):
        return [{"url": reverse("wagtailadmin_home"), "label": gettext("Tableau de bord")}, *self.get_trail(),
                {"url": "", "label": self.get_page_title()}]  # fmt: skip

    def get_trail(self):
        return []


class StatementBrowserView(LRSAdminPage):
    """Statements received by the LRS, filtered by agent, verb, activity, dates and voiding."""

    template_name = "xapi/admin/statements.html"
    page_title = _("Déclarations xAPI")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form = StatementFilterForm(self.request.GET or None)
        rows, page = [], None
        if not form.is_bound or form.is_valid():
            filters = form.filters() if form.is_bound else {"voided": False}
            page = WagtailPaginator(selectors.browse_statements(**filters), STATEMENTS_PER_PAGE).get_page(
                self.request.GET.get("p")
            )
            rows = selectors.label_actors([selectors.StatementRow.of(row) for row in page.object_list])
        context.update(
            form=form, rows=rows, page=page, verbs=COMMON_VERBS,
            page_range=page.paginator.get_elided_page_range(page.number) if page else [],
        )  # fmt: skip
        return context


class StatementDetailView(LRSAdminPage):
    """One statement: its summary and its raw JSON, as stored."""

    template_name = "xapi/admin/statement.html"
    page_title = _("Déclaration xAPI")

    def get_trail(self):
        return [{"url": reverse("xapi_admin:statements"), "label": gettext("Déclarations xAPI")}]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        row = Statement.objects.select_related("authority_client").filter(statement_id=kwargs["statement_id"]).first()
        if row is None:
            raise Http404(gettext("Déclaration introuvable."))
        summary = selectors.label_actors([selectors.StatementRow.of(row)])[0]
        context.update(
            statement=summary, client=row.authority_client,
            raw=json.dumps(row.data, indent=2, ensure_ascii=False, sort_keys=True),
        )  # fmt: skip
        return context


class CourseStatementCountsView(LRSAdminPage):
    """Per course: the statements received about it or its steps."""

    template_name = "xapi/admin/course_counts.html"
    page_title = _("Déclarations reçues par formation")

    def get_context_data(self, **kwargs):
        from learning import xapi_ids

        context = super().get_context_data(**kwargs)
        rows = selectors.course_statement_counts()
        browse = reverse("xapi_admin:statements")
        for row in rows:
            row["url"] = f"{browse}?{urlencode({'activity': xapi_ids.course(row['course_id'])})}"
        context["rows"] = rows
        return context
