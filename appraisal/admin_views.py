"""Wagtail admin of the appraisal app (menu "Entretiens", HR).

* "Modèles de compte rendu": :class:`AppraisalTemplateViewSet`, a snippet viewset with
  revisions and preview (the model is ``PreviewableMixin`` + ``RevisionMixin``; the preview
  renders the blank form with ``appraisal/template_preview.html``).
* "Campagnes": :class:`CampaignViewSet`, list (status, launch progress, counts), create and
  edit forms, and the campaign page (the inspect view) with the launch progress, the launch
  report (agents without a manager listed, never skipped silently) and counts by state.
  "Lancer la campagne" (:class:`CampaignLaunchView`, POST) enqueues
  ``appraisal.tasks.launch_campaign`` once the request's transaction has committed; the page
  is refreshed by the user (a link, no JavaScript and no automatic refresh).

Permissions are Django model permissions (migration 0002 gives HR add / change / view on
both models): launching needs ``appraisal.change_campaign``. Nobody deletes a campaign or
a template here (appraisals protect them). Every page runs a fixed number of queries.
"""


from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.dateparse import parse_datetime
from django.utils.functional import cached_property
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views import View
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.panels import ObjectList
from wagtail.admin.ui.tables import Column, DateColumn, TitleColumn
from wagtail.admin.views import generic
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.admin.widgets.button import Button
from wagtail.snippets.views.snippets import SnippetViewSet, SnippetViewSetGroup

from appraisal import actions, permissions, services
from appraisal.choices import AppraisalState as S
from appraisal.choices import CampaignStatus
from appraisal.launch import DONE, DRAFT, FAILED, can_launch, launch_state
from appraisal.models import Appraisal, AppraisalTemplate, Campaign
from cms import numbers
from cms.choices import Category
from cms.exceptions import Conflict
from cms.models import Agent, OrgUnit

WITHOUT_MANAGER_PAGE_SIZE = 100



# --- templates (snippet) -----------------------------------------------------------------------


class AppraisalTemplateViewSet(SnippetViewSet):
    model = AppraisalTemplate
    icon = "form"
    menu_label = gettext_lazy("Modèles de compte rendu")
    menu_name = "modeles-compte-rendu"
    search_fields = ["name"]
    search_backend_name = None  # ORM lookups: templates created by a migration are not indexed
    list_per_page = 50


# --- campaigns: form ----------------------------------------------------------------------------


class OrgUnitsField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        indent = "\u00a0\u00a0\u00a0" * (obj.depth - 1)
        return f"{indent}{obj.name} ({obj.code})"


class CampaignForm(WagtailAdminModelForm):
    """The campaign as HR sets it up. The template is frozen at launch: it can no longer be
    changed afterwards. Changing the population of a launched campaign is allowed: launching
    again creates the missing appraisals only."""

    org_units = OrgUnitsField(
        label=gettext_lazy("Unités (et leurs sous-unités)"),
        queryset=OrgUnit.objects.order_by("path"),
        widget=forms.SelectMultiple(attrs={"size": 12}),
        help_text=gettext_lazy(
            "Les agents actifs de ces unités et de toutes leurs sous-unités. Maintenez Ctrl (ou Cmd) pour en "
            "choisir plusieurs ; l'unité racine désigne toute la collectivité."
        ),
    )
    categories = forms.MultipleChoiceField(
        label=gettext_lazy("Catégories"),
        choices=Category.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("Aucune case cochée : toutes les catégories."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and self.instance.status != CampaignStatus.DRAFT and "template" in self.fields:
            self.fields["template"].disabled = True
            self.fields["template"].help_text = _(
                "Le modèle a été figé au lancement de la campagne : il ne peut plus être changé."
            )

    def clean_year(self):
        year = self.cleaned_data["year"]
        if not 2000 <= year <= 2100:
            raise forms.ValidationError(_("Indiquez une année entre 2000 et 2100."))
        return year

    def clean(self):
        cleaned = super().clean()
        starts_on, until, ends_on = (cleaned.get(n) for n in ("starts_on", "interviews_until", "ends_on"))
        if starts_on and until and until < starts_on:
            self.add_error(
                "interviews_until", _("La date limite des entretiens doit suivre le début de la campagne.")
            )
        if until and ends_on and ends_on < until:
            self.add_error("ends_on", _("La clôture doit suivre la date limite des entretiens."))
        return cleaned


# --- campaigns: views ---------------------------------------------------------------------------


def _appraisal_count(**filters):
    counts = (
        Appraisal.objects.filter(campaign=OuterRef("pk"), **filters)
        .order_by()
        .values("campaign")
        .annotate(count=Count("pk"))
        .values("count")
    )
    return Coalesce(Subquery(counts), 0)


def progress_display(campaign):
    return numbers.ratio_percent(campaign.launch_progress)


def without_manager_display(campaign):
    report = campaign.launch_report or {}
    if "without_manager" not in report:
        return "—"
    return len(report["without_manager"])


class CampaignIndexView(generic.IndexView):
    default_ordering = "-year"
    add_item_label = gettext_lazy("Ajouter une campagne")  # Wagtail's "Ajouter campagne" lacks the article

    def get_base_queryset(self):
        return Campaign.objects.annotate(
            appraisal_count=_appraisal_count(),
            final_count=_appraisal_count(state=S.FINAL),
            cancelled_count=_appraisal_count(state=S.CANCELLED),
        )

    def order_queryset(self, queryset):
        queryset = super().order_queryset(queryset)
        return queryset.order_by(*queryset.query.order_by, "name", "pk")

    @cached_property
    def columns(self):
        title_class = self._get_title_column_class(TitleColumn)
        return [
            title_class("name", label=_("Campagne"), sort_key="name", get_url=self.get_inspect_url),
            Column("year", label=_("Année"), sort_key="year"),
            Column("status", label=_("Statut"), accessor="get_status_display", sort_key="status"),
            Column("launch_progress", label=_("Lancement"), accessor=progress_display, sort_key="launch_progress"),
            Column("appraisal_count", label=_("Entretiens"), sort_key="appraisal_count"),
            Column("final_count", label=_("Définitifs"), sort_key="final_count"),
            Column("cancelled_count", label=_("Annulés"), sort_key="cancelled_count"),
            Column("without_manager", label=_("Agents sans N+1"), accessor=without_manager_display),
            DateColumn("launched_at", label=_("Lancée le"), sort_key="launched_at"),
        ]


class CampaignCreateView(generic.CreateView):
    """French titles with the feminine agreement of « campagne », in one heading (Wagtail's
    default joins a title and a subtitle: "Nouveau: Campagne", and says "créé(e)")."""

    page_title = gettext_lazy("Ajouter une campagne")
    success_message = gettext_lazy("Campagne « %(object)s » créée.")

    def get_page_subtitle(self):
        return ""

    def get_breadcrumbs_items(self):
        return self.breadcrumbs_items + [
            {"url": reverse(self.index_url_name), "label": capfirst(Campaign._meta.verbose_name_plural)},
            {"url": "", "label": self.get_page_title()},
        ]

    def get_success_url(self):
        return reverse(CampaignViewSet.name + ":inspect", args=[self.object.pk])


class CampaignEditView(generic.EditView):
    success_message = gettext_lazy("Campagne « %(object)s » modifiée.")

    def get_page_title(self):
        return _("Modifier la campagne « %(campaign)s »") % {"campaign": self.object}

    def get_page_subtitle(self):
        return ""

    def get_breadcrumbs_items(self):
        return self.breadcrumbs_items + [
            {"url": reverse(self.index_url_name), "label": capfirst(Campaign._meta.verbose_name_plural)},
            {"url": "", "label": str(self.object)},
        ]

    def get_success_url(self):
        return reverse(CampaignViewSet.name + ":inspect", args=[self.object.pk])


class CampaignDetailView(generic.InspectView):
    """The campaign page: settings, launch progress and report, counts by state."""

    template_name = "appraisal/admin/campaign_detail.html"

    def get_object(self, queryset=None):
        return get_object_or_404(Campaign.objects.select_related("template", "template_revision"), pk=self.pk)

    def get_page_title(self):
        return _("Campagne « %(campaign)s »") % {"campaign": self.object}

    def get_page_subtitle(self):
        return ""  # one heading, not "title: title"

    def get_breadcrumbs_items(self):
        return self.breadcrumbs_items + [
            {"url": reverse(self.index_url_name), "label": capfirst(Campaign._meta.verbose_name_plural)},
            {"url": "", "label": str(self.object)},
        ]

    @cached_property
    def header_more_buttons(self):
        buttons = list(super().header_more_buttons)
        if permissions.can_view_all(self.request.user):
            buttons.append(
                Button(
                    _("Tableau de bord RH"),
                    url=reverse("appraisal_hr:dashboard", args=[self.object.pk]),
                    icon_name="table",
                    priority=30,
                )
            )
        return buttons

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        campaign = self.object
        state = launch_state(campaign)
        report = campaign.launch_report or {}
        if state == DONE:
            finished = report
        else:
            finished = report.get("previous") or None
        without = list((finished or {}).get("without_manager") or [])
        page = Paginator(without, WITHOUT_MANAGER_PAGE_SIZE).get_page(self.request.GET.get("page"))
        numbers = [row.get("employee_number") for row in page.object_list]
        agent_ids = dict(Agent.objects.filter(employee_number__in=numbers).values_list("employee_number", "pk"))
        for row in page.object_list:
            pk = agent_ids.get(row.get("employee_number"))
            row["edit_url"] = reverse("annuaire_agents:edit", args=[pk]) if pk else None
        launched_by = None
        by_id = (finished or {}).get("launched_by") or report.get("requested_by")
        if by_id:
            launched_by = get_user_model().objects.filter(pk=by_id).first()
        counts = Appraisal.objects.filter(campaign=campaign).aggregate(
            total=Count("pk"), **{state_value: Count("pk", filter=Q(state=state_value)) for state_value in S.values}
        )
        context.update(
            {
                "campaign": campaign,
                "launch_state": state,
                "progress_percent": round(campaign.launch_progress * 100),
                "report": finished,
                "error": report.get("error", ""),
                "requested_at": parse_datetime(report.get("requested_at") or "") if state != DONE else None,
                "launched_by": launched_by,
                "without_manager_count": len(without),
                "without_manager_page": page,
                "counts": counts,
                "state_rows": [{"label": label, "count": counts[value]} for value, label in S.choices],
                "can_launch": can_launch(self.request.user, campaign),
                "launch_url": reverse(CampaignViewSet.name + ":launch", args=[campaign.pk]),
                "can_close": actions.CloseCampaign(campaign, user=self.request.user).is_allowed(),
                "close_url": reverse(CampaignViewSet.name + ":close", args=[campaign.pk]),
                "categories_display": ", ".join(campaign.categories) if campaign.categories else _("Toutes"),
                "org_units": list(campaign.org_units.order_by("path")),
            }
        )
        return context


class CampaignLaunchView(generic.PermissionCheckedMixin, WagtailAdminTemplateMixin, View):
    """GET: the confirmation page, naming what the launch will do (how many agents, which
    units, the template frozen); POST: request the launch (or a relaunch creating the missing
    appraisals). No JavaScript needed."""

    model = Campaign
    permission_required = "change"
    template_name = "appraisal/admin/campaign_launch.html"
    header_icon = "calendar-alt"

    def get_page_title(self):
        return _("Lancer la campagne « %(campaign)s »") % {"campaign": self.campaign}

    def get_breadcrumbs_items(self):
        return self.breadcrumbs_items + [
            {"url": reverse(CampaignViewSet.name + ":index"), "label": capfirst(Campaign._meta.verbose_name_plural)},
            {"url": reverse(CampaignViewSet.name + ":inspect", args=[self.campaign.pk]), "label": str(self.campaign)},
            {"url": "", "label": _("Lancement")},
        ]

    def get(self, request, pk):
        self.campaign = campaign = get_object_or_404(Campaign.objects.select_related("template"), pk=pk)
        detail_url = reverse(CampaignViewSet.name + ":inspect", args=[campaign.pk])
        state = launch_state(campaign)
        if not can_launch(request.user, campaign):
            messages.error(request, _("Cette campagne ne peut pas être lancée maintenant."))
            return redirect(detail_url)
        population = services.population(campaign).count()
        existing = Appraisal.objects.filter(campaign=campaign).exclude(state=S.CANCELLED).count()
        context = self.get_context_data(
            campaign=campaign,
            relaunch=state != DRAFT,
            population=population,
            existing=existing,
            org_units=list(campaign.org_units.order_by("path")),
            categories_display=", ".join(campaign.categories) if campaign.categories else _("toutes"),
            launch_url=reverse(CampaignViewSet.name + ":launch", args=[campaign.pk]),
            detail_url=detail_url,
        )
        return self.render_to_response(context)

    def post(self, request, pk):
        campaign = get_object_or_404(Campaign, pk=pk)
        detail_url = reverse(CampaignViewSet.name + ":inspect", args=[campaign.pk])
        relaunch = campaign.status == CampaignStatus.RUNNING
        try:
            actions.RequestLaunch(campaign, user=request.user).execute()
        except (Conflict, PermissionDenied) as exc:
            messages.error(request, str(exc))
            return redirect(detail_url)
        campaign.refresh_from_db()
        if campaign.status == CampaignStatus.RUNNING:  # the task ran already (immediate backend)
            report = campaign.launch_report or {}
            without = len(report.get("without_manager") or [])
            message = ngettext(
                "Campagne lancée : %(created)d entretien créé.",
                "Campagne lancée : %(created)d entretiens créés.",
                report.get("created", 0),
            ) % {"created": report.get("created", 0)}
            if without:
                message += " " + ngettext(
                    "%(n)d agent n'a pas de responsable (N+1) : voir la liste ci-dessous.",
                    "%(n)d agents n'ont pas de responsable (N+1) : voir la liste ci-dessous.",
                    without,
                ) % {"n": without}
                messages.warning(request, message)
            else:
                messages.success(request, message)
        elif launch_state(campaign) == FAILED:
            messages.error(request, _("Le lancement a échoué. Vous pouvez le relancer."))
        else:
            messages.success(
                request,
                _("Relance demandée : les entretiens manquants sont créés en arrière-plan.")
                if relaunch
                else _("Lancement demandé : les entretiens sont créés en arrière-plan. Actualisez la page pour suivre "
                       "l'avancement."),
            )
        return redirect(detail_url)


class CampaignCloseView(generic.PermissionCheckedMixin, WagtailAdminTemplateMixin, View):
    """GET: the confirmation page, naming what closing does (and, while appraisals are still
    open, why it is refused); POST: ``actions.CloseCampaign``. No JavaScript needed."""

    model = Campaign
    permission_required = "change"
    template_name = "appraisal/admin/campaign_close.html"
    header_icon = "calendar-alt"

    def get_page_title(self):
        return _("Clôturer la campagne « %(campaign)s »") % {"campaign": self.campaign}

    def get_breadcrumbs_items(self):
        return self.breadcrumbs_items + [
            {"url": reverse(CampaignViewSet.name + ":index"), "label": capfirst(Campaign._meta.verbose_name_plural)},
            {"url": reverse(CampaignViewSet.name + ":inspect", args=[self.campaign.pk]), "label": str(self.campaign)},
            {"url": "", "label": _("Clôture")},
        ]

    def get(self, request, pk):
        self.campaign = campaign = get_object_or_404(Campaign, pk=pk)
        detail_url = reverse(CampaignViewSet.name + ":inspect", args=[campaign.pk])
        action = actions.CloseCampaign(campaign, user=request.user)
        if not action.is_allowed():
            messages.error(request, _("Cette campagne ne peut pas être clôturée maintenant."))
            return redirect(detail_url)
        refusal = ""
        try:
            action.guard()
        except Conflict as exc:
            refusal = str(exc)
        counts = Appraisal.objects.filter(campaign=campaign).aggregate(
            final=Count("pk", filter=Q(state=S.FINAL)), cancelled=Count("pk", filter=Q(state=S.CANCELLED))
        )
        context = self.get_context_data(
            campaign=campaign,
            refusal=refusal,
            final=counts["final"],
            cancelled=counts["cancelled"],
            close_url=reverse(CampaignViewSet.name + ":close", args=[campaign.pk]),
            hr_list_url=reverse("appraisal_hr:appraisals") + "?" + urlencode({"campagne": campaign.pk}),
            detail_url=detail_url,
        )
        return self.render_to_response(context)

    def post(self, request, pk):
        campaign = get_object_or_404(Campaign, pk=pk)
        detail_url = reverse(CampaignViewSet.name + ":inspect", args=[campaign.pk])
        try:
            actions.CloseCampaign(campaign, user=request.user).execute()
        except (Conflict, PermissionDenied) as exc:
            messages.error(request, str(exc))
            return redirect(detail_url)
        messages.success(request, str(actions.CloseCampaign.done_message))
        return redirect(detail_url)


class CampaignViewSet(ModelViewSet):
    model = Campaign
    name = "entretiens_campagnes"
    url_prefix = "entretiens/campagnes"
    icon = "calendar-alt"
    menu_label = gettext_lazy("Campagnes")
    menu_name = "campagnes-entretien"
    add_item_label = gettext_lazy("Ajouter une campagne")
    index_view_class = CampaignIndexView
    add_view_class = CampaignCreateView
    edit_view_class = CampaignEditView
    inspect_view_class = CampaignDetailView
    inspect_view_enabled = True
    copy_view_enabled = False
    search_fields = ["name"]
    search_backend_name = None
    list_filter = ["status", "year"]
    list_per_page = 50
    add_to_reference_index = False

    @cached_property
    def edit_handler(self):
        return ObjectList(Campaign.panels, base_form_class=CampaignForm)

    def get_common_view_kwargs(self, **kwargs):
        return super().get_common_view_kwargs(delete_url_name=None, usage_url_name=None, **kwargs)

    def get_urlpatterns(self):
        removed = {"delete", "usage"}
        patterns = [pattern for pattern in super().get_urlpatterns() if pattern.name not in removed]
        return patterns + [
            path("launch/<id:pk>/", self.launch_view, name="launch"),
            path("close/<id:pk>/", self.close_view, name="close"),
        ]

    @property
    def launch_view(self):
        return CampaignLaunchView.as_view()

    @property
    def close_view(self):
        return CampaignCloseView.as_view()

    def get_permissions_to_register(self):
        from django.contrib.auth.models import Permission
        from django.contrib.contenttypes.models import ContentType

        content_type = ContentType.objects.get_for_model(Campaign)
        codenames = [f"{action}_campaign" for action in ("add", "change", "view")]
        return Permission.objects.filter(content_type=content_type, codename__in=codenames)


class AppraisalViewSetGroup(SnippetViewSetGroup):
    """The "Entretiens" menu. A snippet group, so that the templates are not listed a second
    time under "Fragments"; it holds the campaign viewset too."""

    menu_label = gettext_lazy("Entretiens")
    menu_name = "entretiens"
    menu_icon = "clipboard-list"
    menu_order = 256
    submenu_hook = "register_appraisal_menu_item"
    items = (CampaignViewSet, AppraisalTemplateViewSet)
