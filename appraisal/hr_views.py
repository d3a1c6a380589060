"""HR dashboards of the appraisal campaigns, included under ``/rh/entretiens/`` (namespace
``appraisal_hr``).

For HR and holders of ``appraisal.view_all_appraisals`` only: anonymous users are sent to
the login page, everyone else gets 403. Per campaign: progress by state per org unit with
drill-down (``?unit=<code>``) and breadcrumb, overdue convocations and notifications, every
delegation of an appraisal (from the transition log: from whom, to whom, by whom, why), an SVG
chart (inline and as image/svg+xml), a streamed CSV of the table, and the bulk PDF export
(ZIP per org unit) run as a background task with a status page and a permission-checked
download. Every page runs a fixed number of queries, whatever the number of units and
appraisals.

The pages show counts and names, never the content of a report; the ZIP export does, so
each report it contains is recorded in the HR access log when the archive is built. An
export is visible to the user who requested it only.
"""

from functools import wraps

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import formats
from django.utils.text import get_valid_filename
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods
from django_tasks.base import TaskResultStatus
from django_tasks.exceptions import TaskResultDoesNotExist, TaskResultMismatch

from appraisal import charts, deadlines, leavers, pdf, permissions, selectors, tasks
from appraisal.choices import AppraisalState as S
from appraisal.models import Appraisal, Campaign
from cms.csvstream import streaming_csv_response
from cms.dates import local_day
from cms.forms import OrgUnitChoiceField, org_units_in_tree_order
from cms.models import OrgUnit

OVERDUE_PAGE_SIZE = 50
APPRAISALS_PAGE_SIZE = 50
DELEGATIONS_PAGE_SIZE = 50
NO_STORE = {"Cache-Control": "private, no-store"}


def hr_required(view):
    """Login first (redirect), then HR or ``appraisal.view_all_appraisals`` (else 403)."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not permissions.can_view_all(request.user):
            raise PermissionDenied(_("Ces tableaux de bord sont réservés aux ressources humaines."))
        response = view(request, *args, **kwargs)
        for key, value in NO_STORE.items():
            response.headers.setdefault(key, value)
        return response

    return wrapper


# --- helpers ---------------------------------------------------------------------------------


def _campaign(campaign_id):
    return get_object_or_404(Campaign, pk=campaign_id)


def _unit(request):
    """The org unit of ``?unit=<code>`` (404 when unknown), or None for the top level."""
    code = (request.GET.get("unit") or "").strip()
    if not code:
        return None
    return get_object_or_404(OrgUnit, code=code)


def _states():
    return [{"value": state, "label": S(state).label} for state in S.values]


def _chart_title(campaign, parent):
    if parent is None:
        return _("%(campaign)s : entretiens par état et par direction") % {"campaign": campaign}
    return _("%(campaign)s : entretiens par état, unités de « %(unit)s »") % {"campaign": campaign, "unit": parent.name}


def _overdue_row(campaign, appraisal):
    """One row of the overdue list, with the limit passed (``appraisal.deadlines``, the
    limits of the actions' guards)."""
    if appraisal.state == S.CREATED:
        reason = _("Convocation non envoyée")
        limit = deadlines.convoke_by(campaign)
        detail = _("entretiens à tenir au plus tard le %(date)s, convocation %(days)s jours avant") % {
            "date": formats.date_format(campaign.interviews_until, "DATE_FORMAT"),
            "days": campaign.notice_days,
        }
    else:
        reason = _("Compte rendu non notifié")
        limit = deadlines.notify_by(appraisal, campaign=campaign)
        detail = _("entretien tenu le %(date)s ; délai de notification : %(days)s jours") % {
            "date": formats.date_format(local_day(appraisal.held_at), "DATE_FORMAT") if appraisal.held_at else "—",
            "days": campaign.notification_limit_days,
        }
    return {"appraisal": appraisal, "reason": reason, "detail": detail, "limit": limit}


def _with_cells(figures):
    """The counts in column order, for the template."""
    return {**figures, "cells": [figures["counts"][state] for state in S.values]}


def _percent(rate):
    return "" if rate is None else f"{rate * 100:.0f}"


# --- pages -----------------------------------------------------------------------------------


@hr_required
@require_GET
def index(request):
    campaigns = Campaign.objects.annotate(
        appraisal_count=Count("appraisals"),
        leaver_count=Count("appraisals", filter=leavers.flagged("appraisals__")),
    ).order_by("-year", "name")
    return render(request, "appraisal/hr/index.html", {"campaigns": campaigns})


@hr_required
@require_GET
def dashboard(request, campaign_id):
    campaign = _campaign(campaign_id)
    parent = _unit(request)
    progress = selectors.unit_progress(campaign, parent)
    late = selectors.overdue(campaign)
    if parent is not None:
        late = late.filter(agent__org_unit__path__startswith=parent.path)
    page = Paginator(late, OVERDUE_PAGE_SIZE).get_page(request.GET.get("page"))
    delegated = Paginator(selectors.delegations(campaign, parent), DELEGATIONS_PAGE_SIZE).get_page(
        request.GET.get("delegations")
    )
    title = _chart_title(campaign, parent)
    rows = [_with_cells(row) for row in progress["rows"]]
    context = {
        "campaign": campaign,
        "parent": parent,
        "ancestors": list(parent.get_ancestors()) if parent is not None else [],
        "states": _states(),
        "progress": progress,
        "own": _with_cells(progress["own"]) if progress["own"] is not None else None,
        "overall": _with_cells(progress["all"]),
        "rows": rows,
        "chart_title": title,
        "chart_svg": charts.progress_chart(rows, title=title) if rows else "",
        "unit_query": f"?unit={parent.code}" if parent is not None else "",
        "overdue": page,
        "overdue_rows": [_overdue_row(campaign, appraisal) for appraisal in page.object_list],
        "delegations": delegated,
        "leaver_count": selectors.leaver_count(campaign, parent),
    }
    return render(request, "appraisal/hr/dashboard.html", context)


@hr_required
@require_GET
def chart(request, campaign_id):
    campaign = _campaign(campaign_id)
    parent = _unit(request)
    rows = selectors.unit_progress(campaign, parent)["rows"]
    svg = charts.progress_chart(rows, title=_chart_title(campaign, parent), standalone=True)
    return HttpResponse(svg, content_type="image/svg+xml; charset=utf-8")


def _progress_header():
    return [
        _("Code"),
        _("Unité"),
        *[str(S(state).label) for state in S.values],
        _("Total"),
        _("Total hors annulés"),
        _("Taux de comptes rendus définitifs (%)"),
    ]


def _progress_line(code, name, figures):
    return [
        code,
        name,
        *[figures["counts"][state] for state in S.values],
        figures["total"],
        figures["active"],
        _percent(figures["final_rate"]),
    ]


@hr_required
@require_GET
def progress_csv(request, campaign_id):
    """The progress table as CSV (``;`` and a BOM), streamed. ``?detail=1``: every unit of
    the subtree, at every level, with the totals of its whole subtree."""
    campaign = _campaign(campaign_id)
    parent = _unit(request)
    detail = request.GET.get("detail") == "1"
    suffix = f"-{parent.code}" if parent is not None else ""

    if detail:

        def lines():
            yield [_("Niveau"), *_progress_header(), _("Dont agents rattachés directement à l'unité")]
            top = parent.depth if parent is not None else 1
            for row in selectors.unit_progress_detail(campaign, parent):
                unit = row["unit"]
                yield [unit.depth - top, *_progress_line(unit.code, unit.name, row), row["own"]["total"]]

        name = f"avancement-{campaign.year}-{campaign.pk}{suffix}-detail.csv"
    else:

        def lines():
            progress = selectors.unit_progress(campaign, parent)
            yield _progress_header()
            for row in progress["rows"]:
                yield _progress_line(row["unit"].code, row["unit"].name, row)
            if parent is not None:
                yield _progress_line(
                    parent.code, _("%(unit)s (agents rattachés directement)") % {"unit": parent.name}, progress["own"]
                )
            yield _progress_line("", _("Total"), progress["all"])

        name = f"avancement-{campaign.year}-{campaign.pk}{suffix}.csv"
    return streaming_csv_response(lines(), get_valid_filename(name))  # ";" and a BOM, for French spreadsheets


# --- every appraisal -------------------------------------------------------------------------


class UnitChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        indent = "\u00a0\u00a0" * (obj.depth - 1)
        return f"{indent}{obj.name} ({obj.code})"


class AppraisalSearchForm(forms.Form):
    """The HR list's search and filters (GET); an unknown value is an error naming its field."""

    q = forms.CharField(
        label=gettext_lazy("Nom ou matricule de l'agent"), required=False, max_length=100,
        help_text=gettext_lazy("Une partie du nom ou du prénom, ou le début du matricule."),
    )  # fmt: skip
    campagne = forms.ModelChoiceField(
        label=gettext_lazy("Campagne"), queryset=Campaign.objects.order_by("-year", "name"), required=False,
        empty_label=gettext_lazy("Toutes les campagnes"),
    )  # fmt: skip
    etat = forms.ChoiceField(label=gettext_lazy("État"), required=False)
    unite = UnitChoiceField(
        label=gettext_lazy("Unité (et ses sous-unités)"), queryset=OrgUnit.objects.order_by("path"),
        to_field_name="code", required=False, empty_label=gettext_lazy("Toutes les unités"),
    )  # fmt: skip
    retard = forms.BooleanField(
        label=gettext_lazy("En retard seulement (convocation ou notification hors délai)"), required=False
    )
    partis = forms.BooleanField(
        label=gettext_lazy("Agents partis"), required=False,
        help_text=gettext_lazy("Entretiens en cours d'agents désactivés dans l'annuaire (départ, fin de contrat…)."),
    )  # fmt: skip

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["etat"].choices = [("", _("Tous les états")), *S.choices]
        self.fields["campagne"].error_messages["invalid_choice"] = _("Cette campagne n'existe pas.")
        self.fields["unite"].error_messages["invalid_choice"] = _("Aucune unité ne porte ce code.")

    def filters(self):
        data = self.cleaned_data if self.is_valid() else {}
        return {
            "search": (data.get("q") or "").strip(),
            "campaign": data.get("campagne"),
            "state": data.get("etat") or "",
            "unit": data.get("unite"),
            "late": bool(data.get("retard")),
            "leavers": bool(data.get("partis")),
        }


def _form_errors(form):
    return [
        {"id": form[name].id_for_label, "label": form.fields[name].label, "message": error}
        for name, errors in form.errors.items()
        for error in errors
    ]


@hr_required
@require_GET
def appraisals(request):
    """Every appraisal, found by name or matricule and filtered by campaign, state, unit
    subtree and lateness; each row links to the appraisal's page, where HR's actions are
    offered. A fixed number of queries, whatever the number of rows."""
    form = AppraisalSearchForm(request.GET or None)
    filters = form.filters()  # an unbound or invalid form filters nothing
    rows = selectors.hr_appraisals(**filters)
    page = Paginator(rows, APPRAISALS_PAGE_SIZE).get_page(request.GET.get("page"))
    leavers_query = request.GET.copy()
    leavers_query.pop("page", None)
    leavers_query[leavers.LIST_FILTER] = "on"
    context = {
        # Open appraisals of leavers among these criteria, and the link that shows only them.
        "leaver_total": page.paginator.count
        if filters["leavers"]
        else selectors.hr_appraisals(**{**filters, "leavers": True}).count(),
        "leavers_only": filters["leavers"],
        "leavers_query": leavers_query.urlencode(),
        "form": form,
        "errors": _form_errors(form) if form.is_bound and not form.is_valid() else [],
        "page_obj": page,
        "rows": list(page.object_list),
        "filtered": any(filters.values()),
    }
    return render(request, "appraisal/hr/appraisals.html", context, status=400 if context["errors"] else 200)


# --- bulk export -----------------------------------------------------------------------------


class ExportForm(forms.Form):
    """The unit whose final reports to export, chosen from the org tree (a select in tree
    order, indented; submitted and prefilled by code, e.g. ``?unit=DRH-SF``)."""

    unit = OrgUnitChoiceField(
        label=gettext_lazy("Unité"),
        queryset=OrgUnit.objects.none(),
        to_field_name="code",
        empty_label=gettext_lazy("Choisir une unité…"),
        help_text=gettext_lazy(
            "Les comptes rendus définitifs de cette unité et de toutes ses sous-unités, un PDF par agent."
        ),
        error_messages={"invalid_choice": gettext_lazy("Aucune unité ne porte ce code : choisissez-la dans la liste.")},
    )

    def __init__(self, *args, campaign, **kwargs):
        super().__init__(*args, **kwargs)
        self.campaign = campaign
        self.fields["unit"].queryset = org_units_in_tree_order().only("pk", "code", "name", "depth", "path")

    def clean_unit(self):
        unit = self.cleaned_data["unit"]
        finals = Appraisal.objects.filter(
            campaign=self.campaign, state=S.FINAL, agent__org_unit__path__startswith=unit.path
        )
        if not finals.exists():
            raise forms.ValidationError(
                _("Aucun compte rendu définitif dans « %(unit)s » pour cette campagne.") % {"unit": unit.name}
            )
        return unit


@hr_required
@require_http_methods(["GET", "POST"])
def export(request, campaign_id):
    campaign = _campaign(campaign_id)
    if request.method == "POST":
        form = ExportForm(request.POST, campaign=campaign)
        if form.is_valid():
            unit = form.cleaned_data["unit"]
            result = tasks.export_zip_task.enqueue(
                campaign_id=campaign.pk, org_unit_code=unit.code, requested_by_id=request.user.pk
            )
            messages.success(request, _("Export des comptes rendus de « %(unit)s » lancé.") % {"unit": unit.name})
            return redirect("appraisal_hr:export_status", export_id=result.id)
        status = 400
    else:
        form = ExportForm(initial={"unit": request.GET.get("unit", "")}, campaign=campaign)
        status = 200
    context = {"campaign": campaign, "form": form, "submit_label": _("Lancer l'export")}
    return render(request, "appraisal/hr/export.html", context, status=status)


def _task_result(export_id):
    """The django_tasks result of an export when the backend keeps results, else None."""
    if not tasks.export_zip_task.get_backend().supports_get_result:
        return None
    try:
        return tasks.export_zip_task.get_result(export_id)
    except (TaskResultDoesNotExist, TaskResultMismatch, ValueError):
        return None


def _own_export(request, export_id):
    """(progress dict or None, task result or None) of the caller's export, else 404."""
    if not pdf.EXPORT_ID.match(export_id):
        raise Http404
    progress = pdf.export_status(export_id)
    result = _task_result(export_id)
    if progress is None and result is None:
        raise Http404
    owner = progress["requested_by_id"] if progress else result.kwargs.get("requested_by_id")
    if owner != request.user.pk:
        raise Http404  # someone else's export: do not confirm it exists
    return progress, result


@hr_required
@require_GET
def export_status(request, export_id):
    progress, result = _own_export(request, export_id)
    failed = (progress or {}).get("status") == "failed" or (
        result is not None and result.status == TaskResultStatus.FAILED
    )
    if failed:
        state = "failed"
    elif progress is not None and progress["status"] == "done":
        state = "done"
    elif progress is not None:
        state = "running"
    else:
        state = "queued"
    campaign = Campaign.objects.filter(
        pk=(progress or {}).get("campaign_id") or (result.kwargs.get("campaign_id") if result else None)
    ).first()
    context = {
        "export_id": export_id,
        "progress": progress or {},
        "state": state,
        "campaign": campaign,
        "unit_code": (progress or {}).get("org_unit_code") or (result.kwargs.get("org_unit_code") if result else ""),
    }
    return render(request, "appraisal/hr/export_status.html", context)


@hr_required
@require_GET
def export_download(request, export_id):
    _own_export(request, export_id)
    opened = pdf.open_export(export_id)
    if opened is None:
        raise Http404
    handle, filename = opened
    return FileResponse(handle, as_attachment=True, filename=filename, content_type="application/zip", headers=NO_STORE)
