"""What the job pages show: the context of the listing (``JobIndexPage``) and of a job
notice (``JobOpeningPage``), and who may see a notice. The page models call these
functions from ``get_context`` and ``serve``; ``recruitment.views`` renders a notice again
with the posted form. Reads go through ``recruitment.selectors``, rules through
``recruitment.permissions`` and ``recruitment.services``.
"""

from django.conf import settings
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from cms.models import OrgUnit
from recruitment import jsonld, permissions, selectors, services
from recruitment.choices import OpeningState
from recruitment.forms import ApplicationForm, OpeningFilterForm
from recruitment.models import JobIndexPage

PAGE_SIZE = 20


def check_opening_visible(request, page):
    """An internal-only opening does not exist for anyone but agents (404, no leak).
    Previews in the admin are not checked."""
    if not getattr(request, "is_preview", False) and not permissions.can_view_opening(request.user, page):
        raise Http404(_("Cette offre n'existe pas ou n'est plus publiée."))



def _direction_of(org_unit, roots_by_path):
    return roots_by_path.get(org_unit.path[: OrgUnit.steplen])


def job_index_context(request, page, *, today=None, page_size=PAGE_SIZE):
    """Filters, one page of results and feed links: a constant number of queries (directions,
    places, count, the list with its org units) whatever the number of openings."""
    roots = list(OrgUnit.get_root_nodes().only("pk", "path", "depth", "code", "name"))
    roots_by_path = {root.path: root for root in roots}
    base = selectors.visible_openings(request.user, index=page, today=today)
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
        "is_agent": permissions.is_agent(request.user),
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
        "state_label": OpeningState(page.recruitment_state).label,
        "application_form": form if accepts else None,
        "apply_url": reverse("recruitment:apply", kwargs={"opening_id": page.pk}),
        "jsonld": jsonld.job_posting_script(page, request, today),
        "is_agent": permissions.is_agent(request.user),
        "organisation_name": jsonld.organisation_name(request),
        "dpo_contact": _dpo_contact(),
        "index_page": JobIndexPage.objects.live().ancestor_of(page).first(),
    }


def _dpo_contact():
    return getattr(settings, "RECRUITMENT_DPO_CONTACT", "")
