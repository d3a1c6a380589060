"""Wagtail admin: "Tentatives de modules", the package attempts of every agent, for HR.

A read-only list (agent, course, module, attempt number, package version, status, score,
last update), filterable by course and status and searchable by agent (name, employee
number), with a "Réinitialiser" link on each attempt that is not reset yet. The link opens
a confirmation page (a plain form: no JavaScript needed) naming the agent, the module and
the consequence; confirming calls ``learning.services.reset_package_attempt`` (logged as
``learning.package_attempt_reset``). Anyone but HR (and superusers) gets 403.

A cmi5 attempt (a registration) also has a « Unités » link: the page of its AUs with their
status, and a « Dispenser » link on each AU not yet waived. Waiving takes two plain forms
(no JavaScript needed): the required reason, then a confirmation page repeating it; only
the confirmed POST calls ``learning.services.waive_au`` (action ``WaiveAU``: ``waived``
recorded with the reason, logged as ``learning.cmi5_au_waived``).

The list runs a fixed number of queries whatever the number of rows (``select_related``,
the attempts' CMI data and the packages' manifests deferred).
"""

import django_filters
from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import TemplateView
from wagtail import hooks
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.ui.tables import Column, DateColumn
from wagtail.admin.views import generic
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.permission_policies import ModelPermissionPolicy
from wagtail.permissions import register_permission_policy

from cms import roles
from cms import selectors as cms_selectors
from cms.admin_views import StableOrderingMixin, search_by_terms
from cms.exceptions import Conflict
from cms.text import of
from learning import actions, services
from learning.choices import AttemptStatus
from learning.models import CoursePage, PackageAttempt
from learning.packages.step_page import au_status_label

VIEWSET_NAME = "formations_tentatives_modules"
SEARCH_FIELDS = [
    "enrollment__agent__user__last_name", "enrollment__agent__user__first_name", "enrollment__agent__employee_number",
]


def is_hr(user):
    return user.is_authenticated and cms_selectors.has_role(user, roles.HR)


def forbidden(request):
    from cms.views import permission_denied

    return permission_denied(request, PermissionDenied(_("Réservé aux ressources humaines.")))


@hooks.register("register_log_actions")
def register_package_log_actions(log_actions):
    log_actions.register_action(
        actions.PACKAGE_ATTEMPT_RESET, gettext_lazy("Réinitialiser une tentative de module"),
        gettext_lazy("Tentative de module réinitialisée"),
    )
    log_actions.register_action(
        actions.CMI5_AU_WAIVED, gettext_lazy("Dispenser d'une unité cmi5"), gettext_lazy("Unité cmi5 dispensée"),
    )


class PackageAttemptPermissionPolicy(ModelPermissionPolicy):
    """Attempts are only viewed here, and reset through the service, by HR."""

    def user_has_permission(self, user, action):
        return action in ("view", "change") and is_hr(user)

    def users_with_any_permission(self, actions):
        users = get_user_model().objects.filter(is_active=True)
        if not {"view", "change"} & set(actions):
            return users.none()
        return users.filter(is_superuser=True) | users.filter(groups__name=roles.HR)


register_permission_policy(PackageAttempt, PackageAttemptPermissionPolicy(PackageAttempt), exact_class=True)


class AttemptFilterSet(WagtailFilterSet):
    course = django_filters.ModelChoiceFilter(
        label=gettext_lazy("Formation"), field_name="enrollment__course",
        queryset=lambda request: CoursePage.objects.order_by("title"), empty_label=gettext_lazy("Toutes"),
    )
    status = django_filters.MultipleChoiceFilter(
        label=gettext_lazy("Statut"), choices=AttemptStatus.choices, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = PackageAttempt
        fields = ["course", "status"]


def reset_url(attempt):
    return reverse(f"{VIEWSET_NAME}:reset", args=[attempt.pk])


def units_url(attempt):
    return reverse(f"{VIEWSET_NAME}:units", args=[attempt.pk])


def waive_url(attempt, au_index):
    return reverse(f"{VIEWSET_NAME}:waive", args=[attempt.pk, au_index])


class ResetLinkColumn(Column):
    cell_template_name = "learning/admin/attempt_reset_cell.html"

    def get_cell_context_data(self, instance, parent_context):
        context = super().get_cell_context_data(instance, parent_context)
        context["url"] = reset_url(instance) if instance.status != AttemptStatus.RESET else None
        context["units_url"] = units_url(instance) if instance.registration is not None else None
        context["agent"] = instance.enrollment.agent.full_name
        context["number"] = instance.number
        return context


def score_display(attempt):
    return "—" if attempt.score is None else f"{round(attempt.score)} %"


class AttemptIndexView(StableOrderingMixin, generic.IndexView):
    default_ordering = "-updated_at"
    any_permission_required = ["view"]
    page_title = gettext_lazy("Tentatives de modules")

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not is_hr(request.user):
            return forbidden(request)
        return super().dispatch(request, *args, **kwargs)

    def get_base_queryset(self):
        return PackageAttempt.objects.select_related(
            "enrollment__agent__user", "enrollment__course", "step", "package"
        ).defer("scos", "package__manifest", "package__organization", "package__launchables")

    def search_queryset(self, queryset):
        if not self.is_searching:
            return queryset
        return search_by_terms(queryset, self.search_query, SEARCH_FIELDS)

    @cached_property
    def columns(self):
        return [
            Column("agent", label=_("Agent"), accessor="enrollment.agent.full_name",
                   sort_key="enrollment__agent__user__last_name"),
            Column("employee_number", label=_("Matricule"), accessor="enrollment.agent.employee_number"),
            Column("course", label=_("Formation"), accessor="enrollment.course.title",
                   sort_key="enrollment__course__title"),
            Column("step", label=_("Module"), accessor="step.title"),
            Column("number", label=_("Tentative n°"), sort_key="number"),
            Column("version", label=_("Version du paquet"), accessor="package.version"),
            Column("status", label=_("Statut"), accessor="get_status_display", sort_key="status"),
            Column("score", label=_("Score"), accessor=score_display, sort_key="score"),
            DateColumn("updated_at", label=_("Mise à jour"), sort_key="updated_at"),
            ResetLinkColumn("reset", label=_("Action")),
        ]


class AttemptResetView(WagtailAdminTemplateMixin, TemplateView):
    """GET: the confirmation page; POST: the reset (through the service), back to the list."""

    template_name = "learning/admin/attempt_reset_confirm.html"
    page_title = gettext_lazy("Réinitialiser une tentative de module")
    header_icon = "rotate"

    def dispatch(self, request, *args, **kwargs):
        if not is_hr(request.user):
            return forbidden(request)
        self.attempt = get_object_or_404(
            PackageAttempt.objects.select_related("enrollment__agent__user", "enrollment__course", "step", "package")
            .defer("scos", "package__manifest", "package__organization", "package__launchables"),
            pk=kwargs["pk"],
        )
        return super().dispatch(request, *args, **kwargs)

    def get_breadcrumbs_items(self):
        return [
            {"url": reverse("wagtailadmin_home"), "label": _("Tableau de bord")},
            {"url": reverse(f"{VIEWSET_NAME}:index"), "label": _("Tentatives de modules")},
            {"url": "", "label": self.get_page_title()},
        ]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        attempt = self.attempt
        context.update(
            attempt=attempt, agent=attempt.enrollment.agent, course=attempt.enrollment.course, step=attempt.step,
            index_url=reverse(f"{VIEWSET_NAME}:index"), action_url=reset_url(attempt),
            already_reset=attempt.status == AttemptStatus.RESET,
        )
        return context

    def post(self, request, *args, **kwargs):
        attempt = self.attempt
        try:
            services.reset_package_attempt(actor=request.user, attempt=attempt)
        except (Conflict, PermissionDenied, ValidationError) as exc:
            messages.error(request, " ".join(getattr(exc, "messages", None) or [str(exc)]))
            return redirect(f"{VIEWSET_NAME}:index")
        messages.success(
            request,
            _("Tentative n° %(number)s %(of_agent)s au module « %(step)s » réinitialisée : le prochain lancement "
              "ouvrira une nouvelle tentative.")
            % {"number": attempt.number, "of_agent": of(attempt.enrollment.agent.full_name), "step": attempt.step.title},
        )
        return redirect(f"{VIEWSET_NAME}:index")


def attempt_queryset():
    return PackageAttempt.objects.select_related("enrollment__agent__user", "enrollment__course", "step", "package")


class HRAttemptView(WagtailAdminTemplateMixin, TemplateView):
    """A page about one cmi5 attempt (registration), for HR only."""

    header_icon = "rotate"

    def dispatch(self, request, *args, **kwargs):
        if not is_hr(request.user):
            return forbidden(request)
        self.attempt = get_object_or_404(
            attempt_queryset().defer("package__manifest", "package__organization"), pk=kwargs["pk"],
            registration__isnull=False,
        )  # fmt: skip
        return super().dispatch(request, *args, **kwargs)

    def breadcrumbs(self):
        return [
            {"url": reverse("wagtailadmin_home"), "label": _("Tableau de bord")},
            {"url": reverse(f"{VIEWSET_NAME}:index"), "label": _("Tentatives de modules")},
        ]

    def get_breadcrumbs_items(self):
        return [*self.breadcrumbs(), {"url": "", "label": self.get_page_title()}]

    def units(self):
        """The AUs of the attempt's package with their state and whether HR may waive them."""
        attempt = self.attempt
        waivable = attempt.status != AttemptStatus.RESET
        rows = []
        for au in attempt.package.launchables or []:
            state = (attempt.scos or {}).get(au["identifier"]) or {}
            rows.append({
                "index": au["index"], "identifier": au["identifier"], "title": au["title"],
                "move_on": au.get("move_on", ""), "status": au_status_label(state),
                "waive_url": waive_url(attempt, au["index"]) if waivable and not state.get("waived") else None,
            })  # fmt: skip
        return rows

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        attempt = self.attempt
        context.update(
            attempt=attempt, agent=attempt.enrollment.agent, course=attempt.enrollment.course, step=attempt.step,
            index_url=reverse(f"{VIEWSET_NAME}:index"), units_url=units_url(attempt),
        )  # fmt: skip
        return context


class AttemptUnitsView(HRAttemptView):
    """The AUs of a cmi5 attempt, their status and a « Dispenser » link on each."""

    template_name = "learning/admin/attempt_units.html"
    page_title = gettext_lazy("Unités cmi5 d'une tentative")

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "units": self.units()}


class WaiveForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Motif de la dispense"), max_length=500, widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("Obligatoire, 500 caractères au plus ; il est enregistré avec la dispense."),
    )  # fmt: skip


class AttemptWaiveView(HRAttemptView):
    """Waive an AU: GET the reason form; POST the reason → the confirmation page (reason
    repeated in a hidden field); POST with ``confirm`` → the service, back to the units."""

    template_name = "learning/admin/attempt_waive.html"
    page_title = gettext_lazy("Dispenser d'une unité cmi5")

    form = None

    def get_breadcrumbs_items(self):
        return [
            *self.breadcrumbs(), {"url": units_url(self.attempt), "label": _("Unités cmi5 d'une tentative")},
            {"url": "", "label": self.get_page_title()},
        ]  # fmt: skip

    def get_au(self):
        aus = self.attempt.package.launchables or []
        index = self.kwargs["au"]
        if index >= len(aus):
            raise Http404(_("Cette unité n'existe pas dans ce module."))
        return aus[index]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        au = self.get_au()
        state = (self.attempt.scos or {}).get(au["identifier"]) or {}
        context.update(
            au=au, au_status=au_status_label(state), already_waived=bool(state.get("waived")),
            reset=self.attempt.status == AttemptStatus.RESET, form=self.form or WaiveForm(),
            action_url=waive_url(self.attempt, au["index"]), confirming=False,
        )  # fmt: skip
        return context

    def post(self, request, *args, **kwargs):
        self.form = WaiveForm(request.POST)
        if not self.form.is_valid() or "confirm" not in request.POST:
            context = self.get_context_data(**kwargs)
            context["confirming"] = self.form.is_valid()
            return self.render_to_response(context)
        attempt, au = self.attempt, self.get_au()
        try:
            services.waive_au(
                actor=request.user, enrollment=attempt.enrollment, step=attempt.step, au=au["identifier"],
                reason=self.form.cleaned_data["reason"],
            )  # fmt: skip
        except (Conflict, PermissionDenied, ValidationError) as exc:
            messages.error(request, " ".join(getattr(exc, "messages", None) or [str(exc)]))
            return redirect(units_url(attempt))
        messages.success(
            request,
            _("%(agent)s est dispensé·e de l'unité « %(au)s » du module « %(step)s ».")
            % {"agent": attempt.enrollment.agent.full_name, "au": au["title"], "step": attempt.step.title},
        )
        return redirect(units_url(attempt))


class PackageAttemptViewSet(ModelViewSet):
    model = PackageAttempt
    name = VIEWSET_NAME
    url_prefix = "formations/tentatives-modules"
    icon = "rotate"
    menu_label = gettext_lazy("Tentatives de modules")
    menu_name = "tentatives-modules"
    menu_order = 256
    add_to_admin_menu = True
    index_view_class = AttemptIndexView
    filterset_class = AttemptFilterSet
    search_fields = SEARCH_FIELDS
    search_backend_name = None
    copy_view_enabled = False
    inspect_view_enabled = False
    list_per_page = 50
    add_to_reference_index = False
    form_fields = []  # no create or edit view

    def get_common_view_kwargs(self, **kwargs):
        return super().get_common_view_kwargs(
            add_url_name=None, edit_url_name=None, delete_url_name=None, history_url_name=None,
            usage_url_name=None, **kwargs,
        )

    def get_urlpatterns(self):
        kept = [pattern for pattern in super().get_urlpatterns() if pattern.name in {"index", "index_results"}]
        return [
            *kept,
            path("<int:pk>/reinitialiser/", AttemptResetView.as_view(), name="reset"),
            path("<int:pk>/unites/", AttemptUnitsView.as_view(), name="units"),
            path("<int:pk>/unites/<int:au>/dispenser/", AttemptWaiveView.as_view(), name="waive"),
        ]

    def register_admin_url_finder(self):
        pass  # no edit view to point to

    def get_permissions_to_register(self):
        from django.contrib.auth.models import Permission

        return Permission.objects.none()
