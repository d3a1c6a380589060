"""The editing form of a job opening (``JobOpeningPage.base_form_class``) in the Wagtail admin.

- **Recruiters**: a searchable list of the users who may be recruiters
  (``selectors.recruiter_candidates``: Recruiters, HR, superusers), each shown with their
  name and unit; real checkboxes in a fieldset, so it works without JavaScript and with a
  screen reader; ``recruitment/admin/recruiters.js`` adds a search box filtering the list.
  On creation, left empty, the creator becomes the recruiter of the opening (when they may
  be one): the page's row and its first revision both carry it.
- **Stage labels**: one labelled text field per stage of the pipeline (empty: the stage
  keeps its usual name), validated (length, two stages may not share a label), stored in
  the same ``stage_labels`` JSON as before; labels of statuses outside the pipeline, if
  any, are kept as they were.
"""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from wagtail.admin.forms import WagtailAdminPageForm

from recruitment.choices import PIPELINE, ApplicationStatus

MAX_STAGE_LABEL = 60


def recruiter_label(user):
    """« Prénom Nom — Unité (CODE) », or « Prénom Nom (adresse) » for a user without an agent
    profile; read from ``select_related("agent__org_unit")``."""
    name = user.get_full_name() or user.get_username()
    agent = getattr(user, "agent", None)
    if agent is not None:
        return f"{name} — {agent.org_unit.name} ({agent.org_unit.code})"
    return f"{name} ({user.email})" if user.email else name


class RecruitersWidget(forms.CheckboxSelectMultiple):
    """Checkboxes, the chosen users first, with a search box added by script."""

    template_name = "recruitment/widgets/recruiters.html"

    class Media:
        js = ["recruitment/admin/recruiters.js"]
        css = {"all": ["recruitment/admin/recruitment.css"]}

    def id_for_label(self, id_, index=None):
        return "" if index is None else super().id_for_label(id_, index)  # the fieldset's legend names the group

    def optgroups(self, name, value, attrs=None):
        groups = super().optgroups(name, value, attrs)
        options = [option for _group, group_options, _index in groups for option in group_options]
        options.sort(key=lambda option: not option["selected"])  # stable: by name within each part
        return [(None, options, 0)] if options else []


class StageLabelsWidget(forms.MultiWidget):
    """One text input per stage of the pipeline, each with its own label (the stage's usual
    name) and the usual name as placeholder."""

    template_name = "recruitment/widgets/stage_labels.html"

    def __init__(self, attrs=None):
        widgets = {
            status: forms.TextInput(attrs={"maxlength": MAX_STAGE_LABEL, "placeholder": ApplicationStatus(status).label})
            for status in PIPELINE
        }
        super().__init__(widgets, attrs)

    def id_for_label(self, id_):
        return ""  # each input has its label; the fieldset's legend names the group

    def decompress(self, value):
        value = value or {}
        return [value.get(status, "") for status in PIPELINE]

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        for status, subwidget in zip(PIPELINE, context["widget"]["subwidgets"], strict=True):
            subwidget["stage_label"] = ApplicationStatus(status).label
        return context


class StageLabelsField(forms.MultiValueField):
    """The ``stage_labels`` JSON of an opening, as one optional field per stage: returns
    ``{status: label}`` for the stages renamed (a label equal to the usual name is dropped)."""

    widget = StageLabelsWidget

    def __init__(self, **kwargs):
        fields = [
            forms.CharField(
                required=False, max_length=MAX_STAGE_LABEL,
                error_messages={"max_length": _("Un libellé d'étape tient en %(limit_value)d caractères au plus.")},
            )
            for _status in PIPELINE
        ]
        kwargs.setdefault("required", False)
        super().__init__(fields, require_all_fields=False, **kwargs)

    def prepare_value(self, value):
        return value

    def compress(self, data_list):
        labels = {}
        for status, label in zip(PIPELINE, data_list or [""] * len(PIPELINE), strict=True):
            label = " ".join((label or "").split())
            if label and label != ApplicationStatus(status).label:
                labels[str(status)] = label
        return labels

    def validate(self, value):
        super().validate(value)
        seen = {}
        for status in PIPELINE:
            label = (value or {}).get(status) or str(ApplicationStatus(status).label)
            other = seen.get(label.casefold())
            if other is not None:
                raise ValidationError(
                    _("Deux étapes ne peuvent pas porter le même libellé : « %(label)s » désigne déjà l'étape "
                      "« %(other)s »."),
                    code="duplicate", params={"label": label, "other": ApplicationStatus(other).label},
                )
            seen[label.casefold()] = status


class JobOpeningForm(WagtailAdminPageForm):
    stage_labels = StageLabelsField(
        label=_("Libellés des étapes"),
        help_text=_("Laissez vide pour garder le nom habituel de l'étape. Par exemple « Jury » pour l'entretien."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields.get("recruiters")
        if field is not None:
            from recruitment import selectors  # not at import: the models import this module

            field.queryset = selectors.recruiter_candidates(self.instance)
            field.label_from_instance = recruiter_label
            if self.creating:
                field.help_text = _(
                    "Les recruteurs gèrent les candidatures de l'offre. Laissé vide, vous en serez le recruteur."
                )
            else:
                field.help_text = _("Les recruteurs gèrent les candidatures de l'offre.")

    @property
    def creating(self):
        return self.instance.pk is None

    def clean(self):
        cleaned_data = super().clean()
        if self.creating and "recruiters" in self.fields and not cleaned_data.get("recruiters"):
            creator = self.fields["recruiters"].queryset.filter(pk=getattr(self.for_user, "pk", None))
            if creator.exists():  # the creator may be a recruiter: they become this opening's
                cleaned_data["recruiters"] = creator
        return cleaned_data

    def _post_clean(self):
        super()._post_clean()
        labels = self.cleaned_data.get("stage_labels")
        if labels is not None and "stage_labels" not in self.errors:
            kept = {k: v for k, v in (self.initial.get("stage_labels") or {}).items() if k not in PIPELINE}
            self.instance.stage_labels = {**kept, **labels}
