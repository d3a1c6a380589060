"""Public side of recruitment: the job listing and job notices (Wagtail pages, whose
context comes from the functions below), applying, the confirmation, and the
candidate's self-service link (status, withdrawal, export, erasure).

Views are thin: ``services`` does every write and every check of the rules, ``gdpr``
does the rights and retention. What depends on who asks (internal-only openings are
for agents only) is decided by ``visible_openings`` and ``check_opening_visible``.
"""

import math

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpResponseBadRequest, JsonResponse
from django.shortcuts import redirect, render
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST
from wagtail.models import Page

from cms import ratelimit
from cms.converters import parse_id
from cms.models import OrgUnit
from cms.net import client_ip
from recruitment import gdpr, jsonld, services
from recruitment.choices import TERMINAL, OpeningState
from recruitment.forms import ApplicationForm, ErasureForm, OpeningFilterForm
from recruitment.models import JobIndexPage, JobOpeningPage

PAGE_SIZE = 20
SESSION_KEY = "recruitment_last_application"
# At most 5 applications per client address per hour, and 3 per e-mail address per day
# (the client address as cms.net.client_ip sees it: TRUSTED_PROXY_COUNT).
RATE_LIMITS = {"ip": (5, 3600), "email": (3, 86400)}


# --- who sees what ------------------------------------------------------------------------


def is_agent(user):
    """Logged in with an agent profile (the same test as ``services.opening_accepts_applications``)."""
    return bool(user is not None and user.is_authenticated and hasattr(user, "agent"))


def visible_openings(user, *, index=None, today=None, external_only=False):
    """Live openings open for applications (state "open", deadline not past) that ``user``
    may see: internal-only ones only for agents. Filtered in the queryset."""
    today = today or timezone.localdate()
    openings = JobOpeningPage.objects.live().filter(state=OpeningState.OPEN, application_deadline__gte=today)
    if index is not None:
        openings = openings.descendant_of(index)
    if external_only or not is_agent(user):
        openings = openings.filter(internal_only=False)
    if user is None or not user.is_authenticated:
        openings = openings.public()  # pages behind a Wagtail view restriction stay hidden
    return openings


def check_opening_visible(request, page):
    """An internal-only opening does not exist for anyone but agents (404, no leak).
    Previews in the admin are not checked."""
    if page.internal_only and not getattr(request, "is_preview", False) and not is_agent(request.user):
        raise Http404(_("Cette offre n'existe pas ou n'est plus publiée."))


# --- page contexts (called by JobIndexPage.get_context / JobOpeningPage.get_context) -------


def _direction_of(org_unit, roots_by_path):
    return roots_by_path.get(org_unit.path[: OrgUnit.steplen])


def job_index_context(request, page, *, today=None, page_size=PAGE_SIZE):
    """Filters, one page of results and feed links: a constant number of queries (directions,
    places, count, the list with its org units) whatever the number of openings."""
    roots = list(OrgUnit.get_root_nodes().only("pk", "path", "depth", "code", "name"))
    roots_by_path = {root.path: root for root in roots}
    base = visible_openings(request.user, index=page, today=today)
    localities = list(base.order_by("locality").values_list("locality", flat=True).distinct())
    form = OpeningFilterForm(request.GET or None, directions=roots, localities=localities)
    filters = form.filters()
    openings = base
    if "direction" in filters:
        root = next(r for r in roots if r.code == filters["direction"])
        openings = openings.filter(org_unit__path__startswith=root.path)
    if "category" in filters:
        openings = openings.filter(category=filters["category"])
    if "employment_type" in filters:
        openings = openings.filter(employment_type=filters["employment_type"])
    if "location" in filters:
        openings = openings.filter(locality=filters["location"])
    if filters.get("q"):
        q = filters["q"]
        openings = openings.filter(
            Q(title__icontains=q) | Q(missions__icontains=q) | Q(profile__icontains=q) | Q(corps__icontains=q)
            | Q(reference__iexact=q)
        )
    openings = openings.select_related("org_unit").order_by("-first_published_at", "-pk")
    page_obj = Paginator(openings, page_size).get_page(request.GET.get("page"))
    results = list(page_obj.object_list)
    for opening in results:
        opening.direction = _direction_of(opening.org_unit, roots_by_path)
    return {
        "filter_form": form,
        "has_filters": bool(filters),
        "page_obj": page_obj,
        "openings": results,
        "is_agent": is_agent(request.user),
        "today": today or timezone.localdate(),
    }


def job_opening_context(request, page, *, form=None, today=None):
    """The notice, its state, the JSON-LD (open only) and the application form."""
    accepts, closed_reason = services.opening_accepts_applications(page, request.user)
    if form is None and accepts:
        form = ApplicationForm(initial=ApplicationForm.initial_for(request.user))
    unit = page.org_unit
    return {
        "opening": page,
        "service": unit,
        "direction": unit if unit.is_root() else unit.get_root(),
        "is_open": jsonld.is_publicly_open(page, today),
        "accepts_applications": accepts,
        "closed_reason": closed_reason,
        "state_label": OpeningState(page.state).label,
        "application_form": form if accepts else None,
        "apply_url": reverse("recruitment:apply", kwargs={"opening_id": page.pk}),
        "jsonld": jsonld.job_posting_script(page, request, today),
        "is_agent": is_agent(request.user),
        "organisation_name": jsonld.organisation_name(request),
        "dpo_contact": _dpo_contact(),
        "index_page": JobIndexPage.objects.live().ancestor_of(page).first(),
    }


def _dpo_contact():
    from django.conf import settings

    return getattr(settings, "RECRUITMENT_DPO_CONTACT", "")


def render_opening(request, page, *, form=None, status=200):
    """The job notice page, e.g. again with the posted form and its errors."""
    context = Page.get_context(page, request)  # page, self, request: what Wagtail gives templates
    context.update(job_opening_context(request, page, form=form))
    return TemplateResponse(request, page.get_template(request), context, status=status)


# --- rate limiting (counted in the shared cache: cms.ratelimit) -----------------------------


def take_rate(scope, ident):
    """One use of the application form's limit ``scope`` (``RATE_LIMITS``) by ``ident``."""
    limit, period = RATE_LIMITS[scope]
    return ratelimit.take_rate(f"apply-{scope}", ident, limit=limit, period=period)


def give_back_rate(scope, ident):
    limit, period = RATE_LIMITS[scope]
    ratelimit.give_back_rate(f"apply-{scope}", ident, limit=limit, period=period)


def rate_limited_response(request, retry_after, opening=None):
    response = render(request, "recruitment/rate_limited.html", {"opening": opening, "retry_minutes": math.ceil(retry_after / 60)},
                      status=429)
    response["Retry-After"] = str(retry_after)
    return response


# --- applying -----------------------------------------------------------------------------


def _opening_or_404(request, opening_id):
    if parse_id(str(opening_id)) is None:  # e.g. beyond 64 bits: no such opening, and no query
        raise Http404(_("Cette offre n'existe pas ou n'est plus publiée."))
    opening = JobOpeningPage.objects.live().select_related("org_unit").filter(pk=opening_id).first()
    if opening is None:
        raise Http404(_("Cette offre n'existe pas ou n'est plus publiée."))
    check_opening_visible(request, opening)
    if not getattr(request, "is_preview", False):
        for restriction in opening.get_view_restrictions():
            if not restriction.accept_request(request):
                raise Http404(_("Cette offre n'existe pas ou n'est plus publiée."))
    return opening


@require_POST
def apply(request, opening_id):
    """POST from the job notice: validate, apply through ``services.submit_application``,
    then redirect to the confirmation (post/redirect/get)."""
    opening = _opening_or_404(request, opening_id)
    form = ApplicationForm(request.POST, request.FILES)
    if not form.is_valid():
        return render_opening(request, opening, form=form, status=400)
    data = form.cleaned_data
    limits = [("ip", client_ip(request)), ("email", services.normalise_email(data["email"]))]
    taken = []
    for scope, ident in limits:
        allowed, retry_after = take_rate(scope, ident)
        if not allowed:
            for done_scope, done_ident in taken:
                give_back_rate(done_scope, done_ident)
            return rate_limited_response(request, retry_after, opening)
        taken.append((scope, ident))
    try:
        application, _token = services.submit_application(
            opening=opening, user=request.user, first_name=data["first_name"], last_name=data["last_name"],
            email=data["email"], phone=data["phone"], cv=data["cv"], cover_letter=data["cover_letter"],
            message=data["message"], consent_pool=data["consent_pool"],
        )
    except (ValidationError, services.Conflict) as exc:
        for scope, ident in taken:
            give_back_rate(scope, ident)
        if isinstance(exc, services.Conflict):
            messages.error(request, str(exc))
            return render_opening(request, opening, form=form, status=409)
        form.add_service_errors(exc)
        return render_opening(request, opening, form=form, status=400)
    request.session[SESSION_KEY] = {"reference": application.reference, "opening_id": opening.pk}
    return redirect("recruitment:apply_done")


def apply_done(request):
    """The confirmation page (after the redirect), showing the application's reference."""
    last = request.session.get(SESSION_KEY) or {}
    opening = JobOpeningPage.objects.filter(pk=last.get("opening_id")).first() if last else None
    return render(request, "recruitment/apply_done.html", {"reference": last.get("reference"), "opening": opening})


# --- self-service -------------------------------------------------------------------------


def _invalid_link(request):
    return render(request, "recruitment/self_service_invalid.html", status=404)


def _private(response):
    """The candidate's pages: not indexed, and the link (which holds the token) is not sent as
    a Referer to any page reached from there, even of this site."""
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"
    return response


@never_cache
@require_http_methods(["GET", "POST"])
def self_service(request, token):
    """The candidate's personal link: status, and three actions (withdraw, export, erase).
    An unknown, expired or erased link answers 404 with an explanation."""
    application = services.application_for_token(token)
    if application is None or application.anonymised_at is not None:
        return _private(_invalid_link(request))
    erasure_form = ErasureForm()
    status = 200
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "withdraw":
            try:
                services.withdraw(token=token)
            except (services.Conflict, PermissionDenied) as exc:
                messages.error(request, str(exc))
            else:
                messages.success(request, _("Votre candidature est retirée. Merci de l'intérêt porté à ce poste."))
            return redirect("recruitment:self_service", token=token)
        if action == "export":
            gdpr.record_export(application)
            response = JsonResponse(gdpr.export_candidate(application), json_dumps_params={"ensure_ascii": False, "indent": 2})
            response["Content-Disposition"] = f'attachment; filename="mes-donnees-{application.reference}.json"'
            return _private(response)
        if action == "erase":
            erasure_form = ErasureForm(request.POST)
            if erasure_form.is_valid():
                gdpr.erase_person(application.candidate)
                request.session.pop(SESSION_KEY, None)
                return redirect("recruitment:erased")
            status = 400
        else:
            return HttpResponseBadRequest(_("Action inconnue."))
    events = [e for e in application.events.all() if e.kind == "move" and e.to_status]
    return _private(render(request, "recruitment/self_service.html", {
        "application": application,
        "opening": application.opening,
        "stage_label": application.opening.stage_label(application.status),
        "can_withdraw": application.status not in TERMINAL,
        "steps": [(e.at, application.opening.stage_label(e.to_status)) for e in events],
        "erasure_form": erasure_form,
        "token": token,
    }, status=status))


def erased(request):
    return _private(render(request, "recruitment/erased.html"))
