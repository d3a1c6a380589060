"""Public side of recruitment: applying, the confirmation, and the candidate's
self-service link (status, withdrawal, export, erasure). The job listing and the job
notices are Wagtail pages, whose context comes from ``recruitment.pages``.

Views are thin: ``services`` and ``actions`` do every write and every check of the rules,
``gdpr`` does the rights and retention. What depends on who asks (internal-only openings
are for agents only) is decided by ``selectors.visible_openings`` and
``pages.check_opening_visible``.
"""

import math

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseBadRequest, JsonResponse
from django.shortcuts import redirect, render
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST
from wagtail.models import Page

from cms import ratelimit
from cms.converters import parse_id
from cms.exceptions import Conflict
from cms.net import client_ip
from recruitment import actions, gdpr, pages, services
from recruitment.choices import TERMINAL
from recruitment.forms import ApplicationForm, ErasureForm
from recruitment.models import JobOpeningPage

SESSION_KEY = "recruitment_last_application"
# At most 5 applications per client address per hour, and 3 per e-mail address per day
# (the client address as cms.net.client_ip sees it: TRUSTED_PROXY_COUNT).
RATE_LIMITS = {"ip": (5, 3600), "email": (3, 86400)}


def render_opening(request, page, *, form=None, status=200):
    """The job notice page, e.g. again with the posted form and its errors."""
    context = Page.get_context(page, request)  # page, self, request: what Wagtail gives templates
    context.update(pages.job_opening_context(request, page, form=form))
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
    pages.check_opening_visible(request, opening)
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
    except (ValidationError, Conflict) as exc:
        for scope, ident in taken:
            give_back_rate(scope, ident)
        if isinstance(exc, Conflict):
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
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "withdraw":
            try:
                actions.withdraw(token=token)
            except (Conflict, PermissionDenied) as exc:
                messages.error(request, str(exc))
            else:
                messages.success(request, str(actions.Withdraw.done_message))
            return redirect("recruitment:self_service", token=token)
        if action == "export":
            gdpr.record_export(application)
            response = JsonResponse(gdpr.export_candidate(application), json_dumps_params={"ensure_ascii": False, "indent": 2})
            response["Content-Disposition"] = f'attachment; filename="mes-donnees-{application.reference}.json"'
            return _private(response)
        if action == "erase":
            erasure_form = ErasureForm(request.POST)
            if erasure_form.is_valid() and erasure_form.cleaned_data["confirm"]:
                gdpr.erase_person(application.candidate)
                request.session.pop(SESSION_KEY, None)
                return redirect("recruitment:erased")
            return _private(render(request, "recruitment/erase_confirm.html", {
                "application": application, "candidate": application.candidate, "token": token,
                **gdpr.erasure_preview(application.candidate),
            }))
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
    }))


def erased(request):
    return _private(render(request, "recruitment/erased.html"))
