"""Wagtail admin of the identity app.

- "Connexions" (HR): every sign-in attempt, read-only, filtered by method, outcome and date,
  paginated; one query for the page whatever its length (the account comes joined).
- "Comptes locaux" (superusers): the accounts allowed a Parcours password when
  ``LOCAL_LOGIN=staff``; added and removed through ``identity.services``.
"""

from datetime import datetime, time, timedelta

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from wagtail.admin.filters import DateRangePickerWidget, WagtailFilterSet
from wagtail.admin.ui.tables import Column, TitleColumn
from wagtail.admin.views import generic
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.admin.widgets import BooleanRadioSelect
from wagtail.permission_policies.base import BasePermissionPolicy

from cms import roles
from identity import selectors, services
from identity.choices import SignInMethod
from identity.models import LocalAccount, SignInEvent


def _datetime(value):
    return formats.date_format(timezone.localtime(value), "SHORT_DATETIME_FORMAT") if value else ""


class _ActionsPolicy(BasePermissionPolicy):
    """Grants ``actions`` to whoever ``allowed(user)`` accepts."""

    actions = frozenset()

    def allowed(self, user):
        raise NotImplementedError

    def allowed_users(self):
        raise NotImplementedError

    def user_has_permission(self, user, action):
        return action in self.actions and self.allowed(user)

    def users_with_any_permission(self, actions):
        if not self.actions & set(actions):
            return get_user_model().objects.none()
        return self.allowed_users()


class SignInEventPermissionPolicy(_ActionsPolicy):
    """HR and superusers view the sign-in audit; nobody changes it."""

    actions = frozenset({"view"})

    def allowed(self, user):
        return selectors.can_view_sign_ins(user)

    def allowed_users(self):
        return (
            get_user_model().objects.filter(Q(is_superuser=True) | Q(groups__name=roles.HR), is_active=True).distinct()
        )


class LocalAccountPermissionPolicy(_ActionsPolicy):
    """Superusers list, add and remove local accounts."""

    actions = frozenset({"view", "add", "delete"})

    def allowed(self, user):
        return services.can_manage_local_accounts(user)

    def allowed_users(self):
        return get_user_model().objects.filter(is_superuser=True, is_active=True)


# --------------------------------------------------------------------------- sign-ins


class DateRangeFilter(django_filters.DateFromToRangeFilter):
    """Whole days in the site's time zone: "to" includes its day."""

    def filter(self, qs, value):
        if not value:
            return qs
        zone = timezone.get_current_timezone()
        if value.start is not None:
            qs = qs.filter(at__gte=datetime.combine(value.start, time.min, tzinfo=zone))
        if value.stop is not None:
            qs = qs.filter(at__lt=datetime.combine(value.stop + timedelta(days=1), time.min, tzinfo=zone))
        return qs


class SignInEventFilterSet(WagtailFilterSet):
    method = django_filters.ChoiceFilter(
        label=_("Méthode"), choices=SignInMethod.choices, empty_label=_("Toutes"), widget=forms.RadioSelect
    )
    success = django_filters.BooleanFilter(label=_("Réussie"), widget=BooleanRadioSelect)
    at = DateRangeFilter(label=_("Date"), widget=DateRangePickerWidget)

    class Meta:
        model = SignInEvent
        fields = ["method", "success", "at"]


class SignInEventIndexView(generic.IndexView):
    def get_base_queryset(self):
        return selectors.sign_in_events_visible_to(self.request.user)

    def order_queryset(self, queryset):
        queryset = super().order_queryset(queryset)
        ordering = list(queryset.query.order_by) or ["-at"]
        if "pk" not in ordering and "-pk" not in ordering:
            ordering.append("-pk")
        return queryset.order_by(*ordering)

    @cached_property
    def columns(self):
        title_class = self._get_title_column_class(TitleColumn)
        outcome = {True: gettext("Réussie"), False: gettext("Refusée")}
        return [
            title_class(
                "at", label=_("Date"), accessor=lambda e: _datetime(e.at), sort_key="at", get_url=lambda e: None
            ),
            Column("method", label=_("Méthode"), accessor="get_method_display", sort_key="method"),
            Column("success", label=_("Résultat"), accessor=lambda e: outcome[e.success], sort_key="success"),
            Column("username", label=_("Identifiant"), sort_key="username"),
            Column(
                "user",
                label=_("Compte"),
                accessor=lambda e: e.user.get_full_name() or e.user.get_username() if e.user else "",
            ),
            Column("reason", label=_("Motif"), accessor="reason_label"),
            Column("ip", label=_("Adresse IP")),
        ]


class ReadOnlyViewSet(ModelViewSet):
    copy_view_enabled = False
    inspect_view_enabled = False
    add_to_reference_index = False
    kept_views = {"index", "index_results"}

    def get_urlpatterns(self):
        return [pattern for pattern in super().get_urlpatterns() if pattern.name in self.kept_views]

    def get_common_view_kwargs(self, **kwargs):
        names = {"add": "add_url_name", "edit": "edit_url_name", "delete": "delete_url_name"}
        removed = {kwarg: None for view, kwarg in names.items() if view not in self.kept_views}
        return super().get_common_view_kwargs(usage_url_name=None, history_url_name=None, **removed, **kwargs)


class SignInEventViewSet(ReadOnlyViewSet):
    model = SignInEvent
    name = "connexions"
    url_prefix = "connexions"
    icon = "history"
    menu_label = _("Connexions")
    menu_order = 920
    add_to_settings_menu = True
    index_view_class = SignInEventIndexView
    filterset_class = SignInEventFilterSet
    search_fields = ["username", "ip"]
    search_backend_name = None
    list_per_page = 50
    ordering = ["-at"]
    form_fields = []


# --------------------------------------------------------------------------- local accounts


class LocalAccountForm(forms.ModelForm):
    username = forms.CharField(
        label=_("Identifiant du compte"),
        max_length=150,
        help_text=_("L'identifiant de connexion (par exemple « admin.secours »)."),
    )

    class Meta:
        model = LocalAccount
        fields = ["reason"]
        help_texts = {"reason": _("Pourquoi ce compte garde un mot de passe Parcours (secours, compte de service…).")}

    def __init__(self, *args, for_user=None, **kwargs):
        super().__init__(*args, **kwargs)

    def clean_username(self):
        username = self.cleaned_data["username"].strip()
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise ValidationError(_("Aucun compte n'a cet identifiant."), code="unknown")
        self.user = user
        return username


class LocalAccountIndexView(generic.IndexView):
    def get_base_queryset(self):
        return LocalAccount.objects.select_related("user")

    @cached_property
    def columns(self):
        title_class = self._get_title_column_class(TitleColumn)
        return [
            title_class(
                "user",
                label=_("Compte"),
                accessor=lambda a: a.user.get_username(),
                sort_key="user__username",
                get_url=self.get_delete_url,
            ),  # fmt: skip
            Column("name", label=_("Nom"), accessor=lambda a: a.user.get_full_name()),
            Column("reason", label=_("Raison")),
            Column(
                "created_at", label=_("Ajouté le"), accessor=lambda a: _datetime(a.created_at), sort_key="created_at"
            ),
        ]


class LocalAccountCreateView(generic.CreateView):
    page_title = _("Ajouter un compte local")
    success_message = _(
        "« %(object)s » peut se connecter avec un mot de passe Parcours quand LOCAL_LOGIN vaut « staff »."
    )

    def get_edit_url(self):
        return None  # a local account has nothing to edit: it is added or removed

    def get_success_url(self):
        return reverse(self.index_url_name)

    def get_success_buttons(self):
        return []

    def get_success_message(self, instance):
        return self.success_message % {"object": instance.user.get_username()}

    def save_instance(self):
        return services.flag_local_account(
            user=self.form.user, reason=self.form.cleaned_data.get("reason", ""), actor=self.request.user
        )

    def form_valid(self, form):
        try:
            return super().form_valid(form)
        except ValidationError as error:  # rolled back: shown on the form
            for field, messages in error.message_dict.items():
                form.add_error({"user": "username"}.get(field, field) if field != "__all__" else None, messages)
            self.produced_error_code = "validation_error"
            self.produced_error_message = self.get_error_message()
            return self.form_invalid(form)


class LocalAccountDeleteView(generic.DeleteView):
    page_title = _("Retirer le compte local")

    @property
    def confirmation_message(self):
        return gettext(
            "Retirer « %(name)s » des comptes locaux ? Quand LOCAL_LOGIN vaut « staff », ce compte ne pourra plus "
            "se connecter avec un mot de passe Parcours."
        ) % {"name": self.object.user.get_username()}

    def delete_action(self):
        services.unflag_local_account(local_account=self.object, actor=self.request.user)


class LocalAccountViewSet(ModelViewSet):
    model = LocalAccount
    name = "comptes_locaux"
    url_prefix = "comptes-locaux"
    icon = "lock"
    menu_label = _("Comptes locaux")
    menu_order = 921
    add_to_settings_menu = True
    index_view_class = LocalAccountIndexView
    add_view_class = LocalAccountCreateView
    delete_view_class = LocalAccountDeleteView
    search_fields = ["user__username", "reason"]
    search_backend_name = None
    copy_view_enabled = False
    inspect_view_enabled = False
    add_to_reference_index = False
    list_per_page = 50
    ordering = ["user__username"]

    def get_form_class(self, for_update=False):
        return LocalAccountForm

    def get_urlpatterns(self):
        return [p for p in super().get_urlpatterns() if p.name in {"index", "index_results", "add", "delete"}]

    def get_common_view_kwargs(self, **kwargs):
        return super().get_common_view_kwargs(edit_url_name=None, usage_url_name=None, history_url_name=None, **kwargs)
