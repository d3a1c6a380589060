"""Wagtail admin for provisioning (HR and superusers):

- « Jetons SCIM »: the connectors' tokens (name, start of the token, creation, last use,
  state), revoked after a confirmation. Tokens are created by ``manage.py create_scim_token``.
- « Journal du provisionnement »: every change made through SCIM, read-only, filtered by
  action, resource, connector and date; a constant number of queries per page.
"""

import django_filters
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import formats, timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from wagtail.admin.filters import DateRangePickerWidget, WagtailFilterSet
from wagtail.admin.ui.menus import MenuItem
from wagtail.admin.ui.tables import Column, TitleColumn
from wagtail.admin.views import generic
from wagtail.permission_policies.base import BasePermissionPolicy

from cms import roles
from cms.admin_views import ListOnlyViewSet, RevokeView
from provisioning import tokens
from provisioning.models import ProvisioningAction, ProvisioningEvent, ScimToken


class HRPermissionPolicy(BasePermissionPolicy):
    """HR and superusers; ``actions`` says what they may do here."""

    actions = frozenset({"view"})

    def user_has_permission(self, user, action):
        return action in self.actions and tokens.can_manage_tokens(user)

    def users_with_any_permission(self, actions):
        if not self.actions & set(actions):
            return get_user_model().objects.none()
        return (
            get_user_model().objects.filter(Q(is_superuser=True) | Q(groups__name=roles.HR), is_active=True).distinct()
        )


class ScimTokenPermissionPolicy(HRPermissionPolicy):
    actions = frozenset({"view", "delete"})  # "delete" is the revocation


class ProvisioningEventPermissionPolicy(HRPermissionPolicy):
    actions = frozenset({"view"})


def _datetime(value):
    return formats.date_format(timezone.localtime(value), "SHORT_DATETIME_FORMAT") if value else ""


# --- tokens ---------------------------------------------------------------------------------


class ScimTokenIndexView(generic.IndexView):
    def get_base_queryset(self):
        return ScimToken.objects.all()

    def order_queryset(self, queryset):
        queryset = super().order_queryset(queryset)
        return queryset.order_by(*(list(queryset.query.order_by) or ["name"]), "pk")

    def get_list_more_buttons(self, instance):
        if instance.is_active and (url := self.get_delete_url(instance)):
            return [MenuItem(gettext("Révoquer"), url=url, icon_name="bin", priority=30)]
        return []

    @cached_property
    def columns(self):
        title_class = self._get_title_column_class(TitleColumn)
        return [
            title_class(
                "name",
                label=_("Nom"),
                sort_key="name",
                get_url=lambda t: self.get_delete_url(t) if t.is_active else None,
            ),  # fmt: skip
            Column("prefix", label=_("Début du jeton"), accessor=lambda t: f"{t.prefix}…"),
            Column(
                "state",
                label=_("État"),
                accessor=lambda t: (
                    gettext("actif")
                    if t.is_active
                    else gettext("révoqué le %(date)s") % {"date": _datetime(t.revoked_at)}
                ),
            ),  # fmt: skip
            Column("created_at", label=_("Créé le"), accessor=lambda t: _datetime(t.created_at), sort_key="created_at"),
            Column(
                "last_used_at",
                label=_("Dernière utilisation"),
                accessor=lambda t: _datetime(t.last_used_at),
                sort_key="last_used_at",
            ),  # fmt: skip
        ]


class ScimTokenRevokeView(RevokeView):
    page_title = _("Révoquer le jeton SCIM")
    success_message = _("Jeton SCIM « %(object)s » révoqué : le connecteur reçoit désormais une erreur 401.")
    confirmation_text = _(
        "Révoquer le jeton « %(name)s » ? Le connecteur de provisionnement qui l'utilise recevra aussitôt "
        "une erreur 401 ; le journal de ses opérations est conservé. Cette action est définitive."
    )

    def get_queryset(self):
        return ScimToken.objects.filter(revoked_at__isnull=True)

    def revoke(self, credential, actor):
        tokens.revoke_token(scim_token=credential, actor=actor)


class ScimTokenViewSet(ListOnlyViewSet):
    model = ScimToken
    name = "jetons_scim"
    url_prefix = "jetons-scim"
    icon = "key"
    menu_label = _("Jetons SCIM")
    menu_order = 920
    index_view_class = ScimTokenIndexView
    delete_view_class = ScimTokenRevokeView
    search_fields = ["name", "prefix"]
    ordering = ["name"]
    kept_urls = frozenset({"index", "index_results", "delete"})


# --- audit ----------------------------------------------------------------------------------


class ProvisioningEventFilterSet(WagtailFilterSet):
    action = django_filters.ChoiceFilter(label=_("Action"), choices=ProvisioningAction.choices)
    resource_type = django_filters.ChoiceFilter(
        label=_("Ressource"), choices=[("User", _("Utilisateur")), ("Group", _("Rôle"))]
    )
    token = django_filters.ModelChoiceFilter(label=_("Connecteur"), queryset=ScimToken.objects.order_by("name"))
    at = django_filters.DateFromToRangeFilter(label=_("Date"), widget=DateRangePickerWidget)

    class Meta:
        model = ProvisioningEvent
        fields = ["action", "resource_type", "token", "at"]


def changes_text(event):
    parts = []
    for field, values in sorted(event.changes.items()):
        if isinstance(values, list) and len(values) == 2:
            before, after = ("—" if value in (None, "", []) else value for value in values)
            if isinstance(before, list):
                before = ", ".join(map(str, before))
            if isinstance(after, list):
                after = ", ".join(map(str, after))
            parts.append(f"{field} : {before} → {after}")
        else:
            parts.append(str(field))
    return " ; ".join(parts)


class ProvisioningEventIndexView(generic.IndexView):
    default_ordering = "-at"

    def get_base_queryset(self):
        return ProvisioningEvent.objects.all()

    def order_queryset(self, queryset):
        queryset = super().order_queryset(queryset)
        ordering = list(queryset.query.order_by) or ["-at"]
        return queryset.order_by(*ordering, "-pk")

    @cached_property
    def columns(self):
        return [
            Column("at", label=_("Date"), accessor=lambda e: _datetime(e.at), sort_key="at"),
            Column("token_name", label=_("Connecteur"), accessor="token_name", sort_key="token_name"),
            Column("action", label=_("Action"), accessor="get_action_display", sort_key="action"),
            Column("label", label=_("Agent ou rôle"), accessor="label", sort_key="label"),
            Column("changes", label=_("Changements (avant → après)"), accessor=changes_text),
            Column("ip", label=_("Adresse IP"), accessor="ip"),
        ]


class ProvisioningEventViewSet(ListOnlyViewSet):
    model = ProvisioningEvent
    name = "journal_provisionnement"
    url_prefix = "journal-provisionnement"
    icon = "list-ul"
    menu_label = _("Journal du provisionnement")
    menu_order = 921
    index_view_class = ProvisioningEventIndexView
    filterset_class = ProvisioningEventFilterSet
    search_fields = ["label", "token_name", "resource_id"]
    ordering = ["-at"]
