"""Wagtail admin "Clients LRS" (HR): the list of LRS credentials and their revocation.

Credentials are created by ``manage.py create_lrs_client`` (the secret is printed once); here
HR sees name, read-only flag, agent scope, state, creation and last use, and revokes a client
after a confirmation. Revoking deactivates (statements keep their authority); nothing is deleted.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db.models import Q
from django.utils import formats, timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from wagtail.admin.ui.menus import MenuItem
from wagtail.admin.ui.tables import Column, TitleColumn
from wagtail.admin.views import generic
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.permission_policies.base import BasePermissionPolicy

from cms import roles
from xapi import services
from xapi.models import LRSClient


class LRSClientPermissionPolicy(BasePermissionPolicy):
    """HR and superusers view and revoke ("delete") LRS clients; nobody adds or edits them here."""

    ACTIONS = {"view", "delete"}

    def user_has_permission(self, user, action):
        return action in self.ACTIONS and services.can_manage_clients(user)

    def users_with_any_permission(self, actions):
        if not self.ACTIONS & set(actions):
            return get_user_model().objects.none()
        return get_user_model().objects.filter(Q(is_superuser=True) | Q(groups__name=roles.HR), is_active=True).distinct()


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
            title_class("name", label=_("Nom"), sort_key="name",
                        get_url=lambda c: self.get_delete_url(c) if c.is_active else None),  # fmt: skip
            Column("read_only", label=_("Lecture seule"), accessor=lambda c: yes_no[c.read_only]),
            Column("scope", label=_("Périmètre"), accessor=scope_label),
            Column("is_active", label=_("Actif"), accessor=lambda c: yes_no[c.is_active], sort_key="is_active"),
            Column("created_at", label=_("Créé le"), accessor=lambda c: _datetime(c.created_at), sort_key="created_at"),
            Column("last_used_at", label=_("Dernière utilisation"), accessor=lambda c: _datetime(c.last_used_at),
                   sort_key="last_used_at"),  # fmt: skip
            Column("key", label=_("Clé"), accessor="key"),
        ]


class LRSClientRevokeView(generic.DeleteView):
    page_title = _("Révoquer le client LRS")
    success_message = _("Client LRS « %(object)s » révoqué : ses identifiants ne fonctionnent plus.")

    def get_queryset(self):
        return LRSClient.objects.filter(is_active=True)

    @property
    def confirmation_message(self):
        return gettext(
            "Révoquer le client « %(name)s » ? Les contenus et applications qui utilisent sa clé recevront "
            "aussitôt une erreur 401 ; les déclarations déjà enregistrées sont conservées. Cette action est définitive."
        ) % {"name": self.object.name}

    def get_success_message(self):
        return self.success_message % {"object": self.object.name}

    def delete_action(self):
        services.revoke_client(client=self.object, actor=self.request.user)


class LRSClientViewSet(ModelViewSet):
    model = LRSClient
    name = "clients_lrs"
    url_prefix = "clients-lrs"
    icon = "key"
    menu_label = _("Clients LRS (xAPI)")
    menu_order = 910
    add_to_settings_menu = True
    index_view_class = LRSClientIndexView
    delete_view_class = LRSClientRevokeView
    search_fields = ["name", "key"]
    search_backend_name = None
    copy_view_enabled = False
    inspect_view_enabled = False
    add_to_reference_index = False
    list_per_page = 50
    ordering = ["name"]
    form_fields = []

    def get_common_view_kwargs(self, **kwargs):
        return super().get_common_view_kwargs(
            add_url_name=None, edit_url_name=None, history_url_name=None, usage_url_name=None, **kwargs
        )

    def get_urlpatterns(self):
        return [pattern for pattern in super().get_urlpatterns() if pattern.name in {"index", "index_results", "delete"}]

    def register_admin_url_finder(self):
        pass

    def get_permissions_to_register(self):
        return Permission.objects.none()
