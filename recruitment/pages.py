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

from cms.choices import OrgUnitKind
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



def _prefixes(path):
    return [path[:end] for end in range(OrgUnit.steplen, len(path) + 1, OrgUnit.steplen)]


class Directions:
    """The directions of a set of openings, in two queries: the paths of their org units, then
    every ancestor of those. An opening's direction is its org unit's highest ancestor (or
    itself) of kind "direction", else the root of its tree."""

    def __init__(self, openings):
        paths = set(openings.order_by().values_list("org_unit__path", flat=True).distinct())
        wanted = {prefix for path in paths for prefix in _prefixes(path)}
        units = OrgUnit.objects.filter(path__in=wanted).only("pk", "path", "depth", "code", "name", "kind")
        self.by_path = {unit.path: unit for unit in units}
        found = {unit.pk: unit for unit in (self.of_path(path) for path in paths) if unit is not None}
        self.list = sorted(found.values(), key=lambda unit: (unit.name.lower(), unit.code))

    def of_path(self, path):
        chain = [self.by_path[prefix] for prefix in _prefixes(path) if prefix in self.by_path]
        return next((unit for unit in chain if unit.kind == OrgUnitKind.DIRECTION), chain[0] if chain else None)

    def of(self, org_unit):
        return self.of_path(org_unit.path)


def unit_facts(org_unit):
    """What a notice says of the unit that recruits, in one query: its direction (the same rule
    as ``Directions``: highest ancestor or itself of kind "direction", else the root), the
    service below the direction (the first unit of kind "service" on the way down, else the
    unit just below the direction; None when the opening sits at the direction) and the unit
    itself when it is deeper than that service (a bureau)."""
    chain = list(
        OrgUnit.objects.filter(path__in=_prefixes(org_unit.path)).only("pk", "path", "depth", "code", "name", "kind")
        .order_by("depth")
    )  # fmt: skip
    if not chain:
        return {"direction": org_unit, "service": None, "unit": None}
    direction = next((unit for unit in chain if unit.kind == OrgUnitKind.DIRECTION), chain[0])
    below = chain[chain.index(direction) + 1 :]
    service = next((unit for unit in below if unit.kind == OrgUnitKind.SERVICE), below[0] if below else None)
    unit = below[-1] if below and below[-1].pk != service.pk else None
    return {"direction": direction, "service": service, "unit": unit}


def job_index_context(request, page, *, today=None, page_size=PAGE_SIZE):
    """Filters, one page of results and feed links: a constant number of queries (directions,
    places, count, the list with its org units) whatever the number of openings. The
    directions offered are those of the openings listed (see ``Directions``)."""
    base = selectors.visible_openings(request.user, index=page, today=today)
    directions = Directions(base)
    localities = list(base.order_by("locality").values_list("locality", flat=True).distinct())
    form = OpeningFilterForm(request.GET or None, directions=directions.list, localities=localities)
    filters = form.filters()
    openings = base
    if "direction" in filters:
        chosen = next(d for d in directions.list if d.code == filters["direction"])
        openings = openings.filter(org_unit__path__startswith=chosen.path)
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
        opening.direction = directions.of(opening.org_unit)
    return {
        "filter_form": form,
        "has_filters": bool(filters),
        "page_obj": page_obj,
        "openings": results,
        "is_agent": permissions.is_agent(request.user),
        "today": today or timezone.localdate(),
    }


def job_opening_context(request, page, *, form=None, today=None):
    """The notice, its state, the JSON-LD (open only) and the application form. A notice read
    after its deadline closes itself to applications (``actions.close_past_deadline``)."""
    if not getattr(request, "is_preview", False):
        from recruitment import actions

        actions.close_past_deadline(page)
    accepts, closed_reason = services.opening_accepts_applications(page, request.user)
    if form is None and accepts:
        form = ApplicationForm(initial=ApplicationForm.initial_for(request.user))
    return {
        "opening": page,
        **unit_facts(page.org_unit),
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
