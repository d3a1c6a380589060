"""Admin forms of the organisation directory, and the password-reset form of the site.

The directory forms only validate and collect input: saving goes through ``cms.services``
(the admin views call ``service_kwargs()`` and hand the result to the service function).
"""

import logging
from urllib.parse import urlsplit

from django import forms
from django.conf import settings
from django.contrib.auth.forms import PasswordResetForm
from django.utils.translation import gettext_lazy as _
from wagtail.admin.widgets.chooser import BaseChooser

from cms import auth_security, services
from cms.models import Agent, OrgUnit

logger = logging.getLogger(__name__)

# URL namespace of the agent chooser modal registered in cms/wagtail_hooks.py.
AGENT_CHOOSER_NAMESPACE = "annuaire_choix_agent"


def org_units_in_tree_order():
    return OrgUnit.objects.order_by("path")


class OrgUnitChoiceField(forms.ModelChoiceField):
    """A select of org units in tree order, indented by depth (one query)."""

    def label_from_instance(self, obj):
        indent = "\u00a0\u00a0\u00a0" * (obj.depth - 1)
        return f"{indent}{obj.name} ({obj.code})"


class AgentChooserWidget(BaseChooser):
    """Modal chooser for an agent: 55,000 agents cannot be listed in a select."""

    model = Agent
    chooser_modal_url_name = f"{AGENT_CHOOSER_NAMESPACE}:choose"
    choose_one_text = _("Choisir un agent")
    choose_another_text = _("Choisir un autre agent")
    clear_choice_text = _("Retirer")
    link_to_chosen_text = _("Modifier cet agent")
    icon = "user"

    def get_instance(self, value):
        if value is None or isinstance(value, Agent):
            return value
        return Agent.objects.select_related("user").filter(pk=value).first()


class OrgUnitForm(forms.ModelForm):
    parent = OrgUnitChoiceField(
        queryset=OrgUnit.objects.none(),
        required=False,
        label=_("Unité de rattachement"),
        empty_label=_("— Aucune (unité de premier niveau) —"),
        help_text=_("Changer le rattachement déplace l'unité avec toutes ses sous-unités."),
    )

    field_order = ["name", "code", "kind", "parent"]

    class Meta:
        model = OrgUnit
        fields = ["name", "code", "kind"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["parent"].queryset = org_units_in_tree_order()
        if self.instance.pk and not self.is_bound:
            self.initial["parent"] = self.instance.get_parent()

    def clean_parent(self):
        parent = self.cleaned_data["parent"]
        errors = services.validate_org_unit_parent(self.instance, parent)
        if errors:
            raise forms.ValidationError(errors["parent"])
        return parent

    def service_kwargs(self):
        data = self.cleaned_data
        return {"code": data["code"], "name": data["name"], "kind": data["kind"], "parent": data["parent"]}


class AgentForm(forms.ModelForm):
    last_name = forms.CharField(label=_("Nom"), max_length=150)
    first_name = forms.CharField(label=_("Prénom"), max_length=150)
    email = forms.EmailField(label=_("Adresse électronique"), required=False)
    org_unit = OrgUnitChoiceField(queryset=OrgUnit.objects.none(), label=_("Unité"))
    manager = forms.ModelChoiceField(
        queryset=Agent.objects.all(),
        required=False,
        label=_("Responsable hiérarchique (N+1)"),
        widget=AgentChooserWidget(),
    )

    field_order = [
        "last_name",
        "first_name",
        "email",
        "employee_number",
        "org_unit",
        "manager",
        "job_title",
        "category",
        "corps",
        "grade",
        "employment_status",
        "active",
    ]

    class Meta:
        model = Agent
        fields = [
            "employee_number",
            "org_unit",
            "manager",
            "job_title",
            "category",
            "corps",
            "grade",
            "employment_status",
            "active",
        ]
        help_texts = {
            "employee_number": _("À la création, le matricule (en minuscules) devient l'identifiant de connexion."),
            "active": _("Un agent n'est jamais supprimé : décochez pour le désactiver."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["org_unit"].queryset = org_units_in_tree_order()
        if self.instance.pk and not self.is_bound:
            user = self.instance.user
            self.initial.update({"last_name": user.last_name, "first_name": user.first_name, "email": user.email})

    def clean_manager(self):
        manager = self.cleaned_data["manager"]
        errors = services.validate_manager(self.instance, manager)
        if errors:
            raise forms.ValidationError(errors["manager"])
        return manager

    def service_kwargs(self):
        data = self.cleaned_data
        return {
            name: data[name]
            for name in (
                "employee_number",
                "first_name",
                "last_name",
                "email",
                "org_unit",
                "manager",
                "job_title",
                "category",
                "corps",
                "grade",
                "employment_status",
                "active",
            )
        }


class ThrottledPasswordResetForm(PasswordResetForm):
    """Django's reset form, sending at most ``PASSWORD_RESET_MAX_PER_ADDRESS`` mails per
    address (normalised) per hour. Past that, nothing is sent and nothing tells: the view
    shows the same "if an account exists" page, so the form reveals no account.

    The mail's link is built on the public base URL (``WAGTAILADMIN_BASE_URL``: scheme, host
    and port) and signed with the site's name, never with the Host header of the request
    (Django would use ``get_current_site(request)``, a ``RequestSite`` without contrib.sites)."""

    def save(self, *args, **kwargs):
        if not auth_security.take_password_reset_mail(self.cleaned_data["email"]):
            logger.warning("Password reset: hourly limit reached for one address; no mail sent.")
            return None
        base = urlsplit(settings.WAGTAILADMIN_BASE_URL)
        kwargs["domain_override"] = base.netloc
        kwargs["use_https"] = base.scheme == "https"
        kwargs["extra_email_context"] = {
            "site_name": getattr(settings, "WAGTAIL_SITE_NAME", "") or "Parcours",
            **(kwargs.get("extra_email_context") or {}),
        }
        return super().save(*args, **kwargs)
