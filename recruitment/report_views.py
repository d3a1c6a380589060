"""The recruitment report page, included under ``/recrutement/rapports/`` (namespace
``recruitment_reports``): for HR (every opening) and recruiters (their openings).

Anonymous users are sent to the login page, everyone else who may not read reports gets
403. The page shows the period's funnel as an SVG chart (pygal, no script) and as a table,
time-to-hire, internal vs external applications and one row per opening (paginated). The
figures come from ``recruitment.reports`` (aggregate queries): the page runs a fixed number
of queries, whatever the number of applications and openings.
"""

from functools import wraps

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from recruitment import charts, reports

OPENINGS_PAGE_SIZE = 25
NO_STORE = {"Cache-Control": "private, no-store"}


def reports_required(view):
    """Login first (redirect), then HR or recruiter (else 403); never cached."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not reports.can_view_reports(request.user):
            raise PermissionDenied(_("Les rapports de recrutement sont réservés aux RH et aux recruteurs."))
        response = view(request, *args, **kwargs)
        for key, value in NO_STORE.items():
            response.headers.setdefault(key, value)
        return response

    return wrapper


class ReportForm(forms.Form):
    """The period (``from``, ``to``: ISO dates, as in the API) and an optional opening."""

    opening = forms.TypedChoiceField(label=gettext_lazy("Offre"), required=False, coerce=int, empty_value=None)

    def __init__(self, data=None, *, openings=(), **kwargs):
        super().__init__(data, **kwargs)
        date_input = {"type": "date"}
        # "from" is a Python keyword: the date fields are added here, first.
        fields = {
            "from": forms.DateField(
                label=_("Du"),
                required=False,
                widget=forms.DateInput(attrs=date_input, format="%Y-%m-%d"),
                help_text=_("Candidatures déposées à partir de ce jour."),
            ),
            "to": forms.DateField(
                label=_("Au"),
                required=False,
                widget=forms.DateInput(attrs=date_input, format="%Y-%m-%d"),
                help_text=_("Inclus. Par défaut : aujourd'hui."),
            ),
        }
        fields.update(self.fields)
        self.fields = fields
        self.fields["opening"].choices = [("", _("Toutes mes offres"))] + [
            (opening_id, f"{reference} — {title}") for opening_id, reference, title in openings
        ]

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        raw = self.data
        try:
            data["period"] = reports.period_from(raw.get("from"), raw.get("to"))
        except reports.PeriodError as exc:
            self.add_error(exc.field, exc.message)
        return data


def _form_and_figures(request):
    """(form, report or None, opening or None): one query for the openings of the select, the
    report's queries when the form is valid."""
    openings = list(
        reports.reportable_openings(request.user).order_by("reference").values_list("pk", "reference", "title")
    )
    form = ReportForm(request.GET or None, openings=openings)
    if form.is_bound and not form.is_valid():
        return form, None, None
    data = form.cleaned_data if form.is_bound else {}
    period = data.get("period") or reports.period_from(None, None)
    opening = None
    if data.get("opening"):
        opening = reports.reportable_openings(request.user).filter(pk=data["opening"]).first()
    return form, reports.report_for(request.user, period, opening), opening


def _chart_title(report):
    period = report.period
    title = _("Entonnoir du recrutement du %(start)s au %(end)s") % {
        "start": period.date_from.strftime("%d/%m/%Y"),
        "end": period.date_to.strftime("%d/%m/%Y"),
    }
    if report.opening is not None:
        title += f" — {report.opening.reference}"
    return title


@reports_required
@require_GET
def report(request):
    form, figures, opening = _form_and_figures(request)
    context = {"form": form, "report": figures, "opening": opening}
    if figures is None:
        return render(request, "recruitment/reports/report.html", context, status=400)
    scope = reports.reportable_applications(request.user, opening)
    page = Paginator(reports.by_opening(scope, figures.period), OPENINGS_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    scope_query = query.copy()
    scope_query.pop("opening", None)
    title = _chart_title(figures)
    context.update(
        chart_title=title,
        chart_svg=charts.funnel_chart(figures.funnel, title=title) if figures.applications else "",
        query=query.urlencode(),
        scope_query=scope_query.urlencode(),
        openings_page=page,
        internal_share=(
            round(figures.internal["applications"] / figures.applications * 100) if figures.applications else None
        ),
    )
    return render(request, "recruitment/reports/report.html", context)


@reports_required
@require_GET
def funnel_svg(request):
    form, figures, _opening = _form_and_figures(request)
    if figures is None:
        return HttpResponse(
            " ".join(str(e) for errors in form.errors.values() for e in errors),
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    svg = charts.funnel_chart(figures.funnel, title=_chart_title(figures), standalone=True)
    response = HttpResponse(svg, content_type="image/svg+xml; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="entonnoir-recrutement.svg"'
    return response
