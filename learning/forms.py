"""Admin forms of the learning app.

They validate and collect input only: saving goes through ``learning.services`` (the admin
views hand ``service_kwargs()`` to the service function).
"""

from django import forms
from django.utils.translation import gettext_lazy as _

from cms.choices import Category
from cms.forms import OrgUnitChoiceField, org_units_in_tree_order
from learning.models import Assignment, CoursePage

MAX_DUE_IN_DAYS = 3650


class CourseChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.title


class AssignmentForm(forms.ModelForm):
    """Assign a published course to an org unit subtree (optionally some categories only)."""

    course = CourseChoiceField(
        queryset=CoursePage.objects.none(),
        label=_("Formation"),
        help_text=_("Seules les formations publiées peuvent être assignées."),
    )
    org_unit = OrgUnitChoiceField(
        queryset=org_units_in_tree_order().none(),
        label=_("Unité"),
        help_text=_("Les agents de cette unité et de toutes ses sous-unités sont inscrits."),
    )
    categories = forms.MultipleChoiceField(
        choices=Category.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=_("Catégories"),
        help_text=_("Aucune case cochée : toutes les catégories."),
    )
    due_in_days = forms.IntegerField(
        min_value=1,
        max_value=MAX_DUE_IN_DAYS,
        initial=90,
        label=_("Échéance (en jours)"),
        help_text=_("Délai laissé à chaque agent, compté à partir de son inscription (ou de son arrivée)."),
    )
    recurring = forms.BooleanField(
        required=False,
        initial=True,
        label=_("Recyclage"),
        help_text=_("Réinscrire automatiquement les agents à l'expiration de la validité de la formation."),
    )

    field_order = ["course", "org_unit", "categories", "due_in_days", "recurring"]

    class Meta:
        model = Assignment
        fields = ["course", "org_unit", "categories", "due_in_days", "recurring"]

    def __init__(self, *args, **kwargs):
        kwargs.pop("for_user", None)
        super().__init__(*args, **kwargs)
        self.fields["course"].queryset = CoursePage.objects.live().order_by("title")
        self.fields["org_unit"].queryset = org_units_in_tree_order()

    def clean_categories(self):
        return sorted(set(self.cleaned_data.get("categories") or []))

    def service_kwargs(self):
        data = self.cleaned_data
        return {
            "course": data["course"],
            "org_unit": data["org_unit"],
            "categories": data["categories"],
            "due_in_days": data["due_in_days"],
            "recurring": data["recurring"],
        }
