"""Wagtail admin of the learning app: menu "Formations".

* "Assignations": list, create and inspect course assignments (Training editors and HR,
  through the ``learning.add_assignment`` / ``learning.view_assignment`` permissions). The
  create view calls ``services.create_assignment`` and enqueues the bulk enrolment task
  (``learning.tasks.apply_assignment``) once the transaction is committed. Assignments are
  neither edited nor deleted here: their enrolments refer to them.
* "Inscriptions": a read-only listing of every enrolment, for HR and holders of
  ``learning.view_all_completions``.

Lists run a fixed number of queries whatever the number of rows (annotations and
``select_related``).
"""

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Count, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from wagtail import hooks
from wagtail.admin.admin_url_finder import ModelAdminURLFinder
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.ui.tables import Column, DateColumn, StatusFlagColumn, TitleColumn
from wagtail.admin.views import generic
from wagtail.admin.viewsets.base import ViewSetGroup
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.admin.widgets import BooleanRadioSelect
from wagtail.log_actions import log as log_action
from wagtail.permission_policies import ModelPermissionPolicy
from wagtail.permissions import register_permission_policy

from cms import numbers
from cms.admin_views import OrgUnitSubtreeFilter, ServiceFormMixin, StableOrderingMixin, search_by_terms
from cms.forms import org_units_in_tree_order
from learning import services, tasks
from learning.choices import EnrollmentStatus
from learning.forms import AssignmentForm
from learning.models import Assignment, CoursePage, Enrollment
from learning.packages.admin_attempts import PackageAttemptViewSet
from learning.packages.admin_import import MENU_HOOK as PACKAGE_MENU_HOOK  # also registers the import views
from learning.permissions import can_view_all_completions, users_who_view_all_completions

ENROLLMENT_SEARCH_FIELDS = ["agent__user__last_name", "agent__user__first_name", "agent__employee_number"]


class EnrollmentPermissionPolicy(ModelPermissionPolicy):
    """Enrolments are only *viewed* in the admin, by whoever may see every completion
    (HR, superusers, holders of ``learning.view_all_completions``). Every change goes
    through the learning services (site, API), never through the admin."""

    def user_has_permission(self, user, action):
        return action == "view" and can_view_all_completions(user)

    def users_with_any_permission(self, actions):
        users = get_user_model().objects.filter(is_active=True)
        if "view" not in actions:
            return users.none()
        return users_who_view_all_completions(users)


# Registered before any view asks for a policy (Wagtail would otherwise create a fallback).
register_permission_policy(Enrollment, EnrollmentPermissionPolicy(Enrollment), exact_class=True)


def categories_display(assignment):
    return ", ".join(assignment.categories) if assignment.categories else _("Toutes")


# --- assignments -----------------------------------------------------------------------------


def enrollment_count(**filters):
    """Correlated COUNT of an assignment's enrolments (uses the assignment index; no GROUP BY
    over the joined columns of the listing)."""
    counts = (
        Enrollment.objects.filter(assignment=OuterRef("pk"), **filters)
        .order_by()
        .values("assignment")
        .annotate(count=Count("pk"))
        .values("count")
    )
    return Coalesce(Subquery(counts), 0)


class AssignmentIndexView(StableOrderingMixin, generic.IndexView):
    default_ordering = "-created_at"

    def get_base_queryset(self):
        return Assignment.objects.select_related("course", "org_unit", "created_by").annotate(
            enrolled_count=enrollment_count(),
            completed_count=enrollment_count(status=EnrollmentStatus.COMPLETED),
        )

    @cached_property
    def columns(self):
        title_class = self._get_title_column_class(TitleColumn)
        return [
            title_class(
                "course",
                label=_("Formation"),
                accessor="course.title",
                sort_key="course__title",
                get_url=self.get_inspect_url,
            ),
            Column("org_unit", label=_("Unité (et sous-unités)"), sort_key="org_unit__path"),
            Column("categories", label=_("Catégories"), accessor=categories_display),
            Column("due_in_days", label=_("Échéance (jours)"), sort_key="due_in_days"),
            StatusFlagColumn("recurring", label=_("Recyclage"), true_label=_("Oui"), false_label=_("Non")),
            Column("enrolled_count", label=_("Inscrits"), sort_key="enrolled_count"),
            Column("completed_count", label=_("Terminées"), sort_key="completed_count"),
            StatusFlagColumn("active", label=_("État"), true_label=_("Active"), false_label=_("Inactive")),
            DateColumn("created_at", label=_("Créée le"), sort_key="created_at"),
        ]


class AssignmentCreateView(ServiceFormMixin, generic.CreateView):
    page_title = _("Nouvelle assignation")
    submit_button_label = _("Assigner la formation")
    submit_button_active_label = _("Assignation…")

    def save_instance(self):
        assignment = services.create_assignment(created_by=self.request.user, **self.form.service_kwargs())
        log_action(assignment, "wagtail.create", user=self.request.user)
        self.targeted = services.assignment_targets(assignment).count()
        assignment_id = assignment.pk
        # After the commit, so that a worker on another connection finds the assignment.
        transaction.on_commit(lambda: tasks.apply_assignment.enqueue(assignment_id))
        return assignment

    def get_success_message(self, instance):
        return ngettext(
            "Formation « %(course)s » assignée à %(unit)s : %(count)d agent ciblé. "
            "L'inscription se fait en arrière-plan.",
            "Formation « %(course)s » assignée à %(unit)s : %(count)d agents ciblés. "
            "Les inscriptions se font en arrière-plan.",
            self.targeted,
        ) % {"course": instance.course.title, "unit": instance.org_unit.name, "count": self.targeted}

    def get_success_buttons(self):
        return []


class AssignmentInspectView(generic.InspectView):
    fields = ["course", "org_unit", "categories", "due_in_days", "recurring", "active", "created_by", "created_at"]

    def get_categories_display_value(self):
        return categories_display(self.object)

    def get_course_display_value(self):
        return self.object.course.title

    def get_recurring_display_value(self):
        return _("Oui") if self.object.recurring else _("Non")

    def get_active_display_value(self):
        return _("Oui") if self.object.active else _("Non")

    def get_created_by_display_value(self):
        user = self.object.created_by
        return (user.get_full_name() or user.get_username()) if user else "—"

    def get_field_label(self, field_name, field):
        if field_name == "created_by":
            return _("Créée par")
        return super().get_field_label(field_name, field)

    def get_fields_context(self):
        rows = super().get_fields_context()
        counts = Enrollment.objects.filter(assignment=self.object).aggregate(
            total=Count("pk"),
            **{status.value: Count("pk", filter=Q(status=status)) for status in EnrollmentStatus},
            overdue=Count("pk", filter=Q(due_at__lt=timezone.now()) & ~Q(status=EnrollmentStatus.COMPLETED)),
        )
        rows.append({"label": _("Inscriptions"), "value": counts["total"], "component": None})
        for status in EnrollmentStatus:
            rows.append({"label": status.label, "value": counts[status.value], "component": None})
        rows.append({"label": _("En retard"), "value": counts["overdue"], "component": None})
        return rows


class AssignmentURLFinder(ModelAdminURLFinder):
    edit_url_name = "formations_assignations:inspect"

    def get_edit_url(self, instance):
        return self.construct_edit_url(instance)


class AssignmentViewSet(ModelViewSet):
    model = Assignment
    name = "formations_assignations"
    url_prefix = "formations/assignations"
    icon = "calendar-check"
    menu_label = _("Assignations")
    add_item_label = _("Assigner une formation")
    index_view_class = AssignmentIndexView
    add_view_class = AssignmentCreateView
    inspect_view_class = AssignmentInspectView
    inspect_view_enabled = True
    copy_view_enabled = False
    search_fields = ["course__title", "org_unit__name", "org_unit__code"]
    search_backend_name = None
    list_filter = ["active", "recurring"]
    list_per_page = 50
    url_finder_class = AssignmentURLFinder

    def get_form_class(self, for_update=False):
        return AssignmentForm

    def get_common_view_kwargs(self, **kwargs):
        return super().get_common_view_kwargs(
            edit_url_name=None, delete_url_name=None, history_url_name=None, usage_url_name=None, **kwargs
        )

    def get_urlpatterns(self):
        kept = {"index", "index_results", "add", "inspect"}
        return [pattern for pattern in super().get_urlpatterns() if pattern.name in kept]

    def get_permissions_to_register(self):
        content_type = ContentType.objects.get_for_model(Assignment)
        return Permission.objects.filter(content_type=content_type, codename__in=["add_assignment", "view_assignment"])


# --- enrolments (read only) ------------------------------------------------------------------


class AgentOrgUnitSubtreeFilter(OrgUnitSubtreeFilter):
    """Enrolments of the agents of a unit and of every unit below it."""

    def filter(self, queryset, value):
        if value:
            return queryset.filter(agent__org_unit__path__startswith=value.path)
        return queryset


class OverdueFilter(django_filters.BooleanFilter):
    def filter(self, queryset, value):
        if value is None:
            return queryset
        overdue = Q(due_at__lt=timezone.now()) & Q(
            status__in=[EnrollmentStatus.NOT_STARTED, EnrollmentStatus.IN_PROGRESS]
        )
        return queryset.filter(overdue) if value else queryset.exclude(overdue)


class EnrollmentFilterSet(WagtailFilterSet):
    status = django_filters.MultipleChoiceFilter(
        label=_("Statut"), choices=EnrollmentStatus.choices, widget=forms.CheckboxSelectMultiple
    )
    course = django_filters.ModelChoiceFilter(
        label=_("Formation"),
        queryset=lambda request: CoursePage.objects.order_by("title"),
        empty_label=_("Toutes"),
    )
    org_unit = AgentOrgUnitSubtreeFilter(
        label=_("Unité (sous-unités comprises)"),
        field_name="agent__org_unit",
        queryset=lambda request: org_units_in_tree_order(),
        empty_label=_("Toutes"),
    )
    overdue = OverdueFilter(label=_("En retard"), widget=BooleanRadioSelect)

    class Meta:
        model = Enrollment
        fields = ["status", "course", "org_unit", "overdue"]


def percent(enrollment):
    return numbers.ratio_percent(enrollment.progress)


class EnrollmentIndexView(StableOrderingMixin, generic.IndexView):
    default_ordering = "-updated_at"
    any_permission_required = ["view"]

    def get_base_queryset(self):
        return Enrollment.objects.select_related("agent__user", "agent__org_unit", "course")

    def search_queryset(self, queryset):
        if not self.is_searching:
            return queryset
        return search_by_terms(queryset, self.search_query, ENROLLMENT_SEARCH_FIELDS)

    @cached_property
    def columns(self):
        return [
            Column("agent", label=_("Agent"), accessor="agent.full_name", sort_key="agent__user__last_name"),
            Column(
                "employee_number",
                label=_("Matricule"),
                accessor="agent.employee_number",
                sort_key="agent__employee_number",
            ),
            Column("org_unit", label=_("Unité"), accessor="agent.org_unit.code", sort_key="agent__org_unit__path"),
            Column("course", label=_("Formation"), accessor="course.title", sort_key="course__title"),
            Column("cycle", label=_("Cycle")),
            Column("status", label=_("Statut"), accessor="get_status_display", sort_key="status"),
            Column("progress", label=_("Progression"), accessor=percent, sort_key="progress"),
            DateColumn("due_at", label=_("Échéance"), sort_key="due_at"),
            DateColumn("completed_at", label=_("Terminé le"), sort_key="completed_at"),
            DateColumn("updated_at", label=_("Mis à jour"), sort_key="updated_at"),
        ]


class EnrollmentViewSet(ModelViewSet):
    model = Enrollment
    name = "formations_inscriptions"
    url_prefix = "formations/inscriptions"
    icon = "list-ul"
    menu_label = _("Inscriptions")
    index_view_class = EnrollmentIndexView
    filterset_class = EnrollmentFilterSet
    search_fields = ENROLLMENT_SEARCH_FIELDS
    search_backend_name = None
    copy_view_enabled = False
    list_per_page = 50
    add_to_reference_index = False
    form_fields = []  # no form: there is no create or edit view

    def get_common_view_kwargs(self, **kwargs):
        return super().get_common_view_kwargs(
            add_url_name=None,
            edit_url_name=None,
            delete_url_name=None,
            history_url_name=None,
            usage_url_name=None,
            **kwargs,
        )

    def get_urlpatterns(self):
        return [pattern for pattern in super().get_urlpatterns() if pattern.name in {"index", "index_results"}]

    def register_admin_url_finder(self):
        pass  # no edit view to point to

    def get_permissions_to_register(self):
        return Permission.objects.filter(content_type__app_label="learning", codename="view_all_completions")


class LearningViewSetGroup(ViewSetGroup):
    """The « Formations » admin menu: assignments, enrolments, package attempts, and the
    package import and list (menu items registered with ``submenu_hook``)."""

    menu_label = _("Formations")
    menu_name = "formations"
    menu_icon = "doc-full-inverse"
    menu_order = 255
    items = (AssignmentViewSet, EnrollmentViewSet, PackageAttemptViewSet)
    submenu_hook = PACKAGE_MENU_HOOK


@hooks.register("register_admin_viewset")
def register_learning_viewsets():
    return LearningViewSetGroup()
