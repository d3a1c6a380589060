"""Reads of the appraisal app that depend on who asks (confidentiality)."""

from django.db.models import BooleanField, Case, Count, Exists, OuterRef, Q, Value, When

from appraisal import deadlines
from appraisal.choices import AppraisalState as S
from appraisal.choices import CampaignStatus
from appraisal.models import Appraisal, AppraisalTransition, Campaign
from appraisal.permissions import can_view_all
from cms.selectors import agent_for_user
from cms.text import Unaccent, unaccent


def appraisals_visible_to(user):
    """The agent their own; the evaluator (including a delegate) and the reviewer theirs;
    HR everything (each read of someone else's report is logged by the caller); others none.
    The queryset form of ``permissions.can_view``."""
    base = Appraisal.objects.select_related(
        "campaign", "agent__user", "agent__org_unit", "evaluator__user", "reviewer__user"
    )
    if can_view_all(user):
        return base
    agent = agent_for_user(user)
    if agent is None:
        return base.none()
    return base.filter(Q(agent=agent) | Q(evaluator=agent) | Q(reviewer=agent))


def campaigns_visible_to(user):
    if can_view_all(user):
        return Campaign.objects.all()
    agent = agent_for_user(user)
    if agent is None:
        return Campaign.objects.none()
    return Campaign.objects.filter(
        Q(appraisals__agent=agent) | Q(appraisals__evaluator=agent) | Q(appraisals__reviewer=agent)
    ).distinct()


def campaign_visible_to(user, campaign_id):
    """The campaign ``campaign_id`` if the caller may read appraisals of it, else None: one
    campaign of ``campaigns_visible_to`` (HR and view_all holders any; others one where they
    hold an appraisal as agent, evaluator, delegate or reviewer), tested with EXISTS rather
    than DISTINCT. One query (plus the caller's agent profile, cached on the user)."""
    campaigns = Campaign.objects.filter(pk=campaign_id)
    if can_view_all(user):
        return campaigns.first()
    agent = agent_for_user(user)
    if agent is None:
        return None
    theirs = Appraisal.objects.filter(campaign=OuterRef("pk")).filter(
        Q(agent=agent) | Q(evaluator=agent) | Q(reviewer=agent)
    )
    return campaigns.filter(Exists(theirs)).first()


def evaluator_queue(agent):
    """The manager's appraisals to conduct, by state, with deadlines (one query); those of
    closed campaigns are done with (their agents keep them on their own page)."""
    return (
        Appraisal.objects.filter(evaluator=agent)
        .exclude(state=S.CANCELLED)
        .exclude(campaign__status=CampaignStatus.CLOSED)
        .select_related("campaign", "agent__user", "agent__org_unit")
        .order_by("state", "interview_at", "agent__user__last_name")
    )


def reviewer_queue(agent):
    return (
        Appraisal.objects.filter(reviewer=agent, state=S.ACKNOWLEDGED)
        .select_related("campaign", "agent__user", "evaluator__user")
        .order_by("agent_signed_at", "refusal_recorded_at")
    )


def progress_by_unit(campaign, parent=None):
    """Counts by state per org unit (children of ``parent`` or directions): one aggregate query."""
    from cms.models import OrgUnit

    units = list(OrgUnit.get_root_nodes() if parent is None else parent.get_children())
    aggregates = {}
    for unit in units:
        in_unit = Q(agent__org_unit__path__startswith=unit.path)
        for state in S.values:
            aggregates[f"{unit.pk}:{state}"] = Count("pk", filter=in_unit & Q(state=state))
    totals = Appraisal.objects.filter(campaign=campaign).aggregate(**aggregates) if aggregates else {}
    return [
        {
            "unit": unit,
            "counts": {state: totals[f"{unit.pk}:{state}"] for state in S.values},
            "has_children": unit.numchild > 0,
        }
        for unit in units
    ]


def overdue(campaign, now=None):
    """Convocations not sent once ``deadlines.convoke_by`` is passed, and reports held but
    not notified once ``deadlines.notify_by`` is passed (the limits of the actions' guards)."""
    return (
        Appraisal.objects.filter(campaign=campaign)
        .filter(deadlines.late_convocation(campaign, now) | deadlines.late_notification(campaign, now))
        .select_related("agent__user", "agent__org_unit", "evaluator__user")
        .order_by("state", "agent__org_unit__path")
    )


def delegations(campaign, parent=None):
    """The delegations of a campaign's appraisals, newest first, from the append-only
    transition log (for HR: who handed which appraisal from whom to whom, and why), in the
    subtree of ``parent`` if given. One query per page, whatever the number of rows."""
    rows = AppraisalTransition.objects.filter(appraisal__campaign=campaign, action="delegate").select_related(
        "appraisal__agent__user", "appraisal__agent__org_unit", "from_evaluator__user", "to_evaluator__user", "actor"
    )
    if parent is not None:
        rows = rows.filter(appraisal__agent__org_unit__path__startswith=parent.path)
    return rows.order_by("-at", "-pk")


def own_appraisals(agent):
    """An agent's own appraisals, latest campaign first (one query)."""
    return (
        Appraisal.objects.filter(agent=agent)
        .select_related("campaign", "evaluator__user", "reviewer__user")
        .order_by("-campaign__year", "-created_at")
    )


def evaluator_state_counts(agent):
    """{state: count} of the appraisals an evaluator (or delegate) conducts, closed campaigns
    left out like in ``evaluator_queue`` (one query)."""
    rows = (
        Appraisal.objects.filter(evaluator=agent)
        .exclude(state=S.CANCELLED)
        .exclude(campaign__status=CampaignStatus.CLOSED)
        .values("state")
        .annotate(n=Count("pk"))
    )
    return {row["state"]: row["n"] for row in rows.order_by()}


def revision_requests_to_answer(agent):
    """Revision requests waiting for the reviewer's answer (one query)."""
    from appraisal.choices import RevisionState

    return (
        Appraisal.objects.filter(reviewer=agent, revision_state=RevisionState.REQUESTED)
        .select_related("campaign", "agent__user", "evaluator__user")
        .order_by("revision_requested_at")
    )


def is_reviewer(agent):
    """Whether an agent is the reviewer (N+2) of any appraisal (one query)."""
    return Appraisal.objects.filter(reviewer=agent).exists()


# --- HR dashboards (appraisal/hr_views.py) ---------------------------------------------------


def late_condition(campaigns, now=None):
    """The appraisals of ``campaigns`` past a time limit (``overdue``'s rule), as one Q."""
    cond = Q(pk__in=[])
    for campaign in campaigns:
        cond |= Q(campaign=campaign) & (
            deadlines.late_convocation(campaign, now) | deadlines.late_notification(campaign, now)
        )
    return cond


def hr_appraisals(*, search="", campaign=None, state="", unit=None, late=False, leavers=False, now=None):
    """Every appraisal for HR (callers check ``permissions.can_view_all``), filtered: ``search``
    (each word in the agent's first or last name, ignoring case and accents: « lefevre » finds
    « Lefèvre »; or the start of their matricule), campaign,
    state, unit subtree, late (past the convocation or notification limit). Ordered by
    campaign (latest first), then name. ``leavers``: open appraisals of inactive agents only
    (``appraisal.leavers``); every row carries ``agent_left`` (that flag). One query per page,
    plus one for the running campaigns when ``late`` applies to all of them."""
    from appraisal import leavers as leaver_flags

    rows = Appraisal.objects.select_related(
        "campaign", "agent__user", "agent__org_unit", "evaluator__user", "reviewer__user"
    ).annotate(
        agent_left=Case(
            When(leaver_flags.flagged(), then=Value(True)), default=Value(False), output_field=BooleanField()
        )
    )
    if leavers:
        rows = rows.filter(leaver_flags.flagged())
    words = search.split()[:5]
    if words:
        rows = rows.alias(
            last_name_plain=Unaccent("agent__user__last_name"), first_name_plain=Unaccent("agent__user__first_name")
        )
    for word in words:
        plain = unaccent(word)
        rows = rows.filter(
            Q(last_name_plain__icontains=plain)
            | Q(first_name_plain__icontains=plain)
            | Q(agent__employee_number__istartswith=word)
        )
    if campaign is not None:
        rows = rows.filter(campaign=campaign)
    if state:
        rows = rows.filter(state=state)
    if unit is not None:
        rows = rows.filter(agent__org_unit__path__startswith=unit.path)
    if late:
        campaigns = [campaign] if campaign is not None else list(Campaign.objects.exclude(status=CampaignStatus.CLOSED))
        rows = rows.filter(late_condition(campaigns, now))
    return rows.order_by("-campaign__year", "-campaign_id", "agent__user__last_name", "agent__user__first_name", "pk")


def leaver_count(campaign=None, parent=None):
    """The number of open appraisals of inactive agents (``appraisal.leavers``), of a campaign
    and an org unit subtree when given (one query)."""
    from appraisal import leavers as leaver_flags

    rows = Appraisal.objects.filter(leaver_flags.flagged())
    if campaign is not None:
        rows = rows.filter(campaign=campaign)
    if parent is not None:
        rows = rows.filter(agent__org_unit__path__startswith=parent.path)
    return rows.count()


def _state_counts(counter=None):
    counter = counter or {}
    return {state: counter.get(state, 0) for state in S.values}


def _with_totals(counts):
    total = sum(counts.values())
    active = total - counts[S.CANCELLED]
    return {
        "counts": counts,
        "total": total,
        "active": active,
        "final_rate": counts[S.FINAL] / active if active else None,
    }


def unit_progress(campaign, parent=None):
    """Counts by state per child unit of ``parent`` (the directions when None), plus the
    agents attached to ``parent`` itself and the level's total.

    The same figures as ``progress_by_unit`` in one GROUP BY on the unit path prefix (a
    single pass over the campaign's appraisals, whatever the number of units), plus one query
    for the units: two queries in all. Returns ``{"rows": [{"unit", "has_children",
    "counts", "total", "active", "final_rate"}], "own": {...} | None, "all": {...}}``.
    """
    from collections import Counter, defaultdict

    from django.db.models.functions import Substr

    from cms.models import OrgUnit

    units = list(OrgUnit.get_root_nodes() if parent is None else parent.get_children())
    depth = 1 if parent is None else parent.depth + 1
    appraisals = Appraisal.objects.filter(campaign=campaign)
    if parent is not None:
        appraisals = appraisals.filter(agent__org_unit__path__startswith=parent.path)
    grouped = (
        appraisals.annotate(prefix=Substr("agent__org_unit__path", 1, depth * OrgUnit.steplen))
        .values("prefix", "state")
        .annotate(n=Count("pk"))
        .order_by()
    )
    by_prefix, overall = defaultdict(Counter), Counter()
    for row in grouped:
        by_prefix[row["prefix"]][row["state"]] += row["n"]
        overall[row["state"]] += row["n"]
    rows = [
        {"unit": unit, "has_children": unit.numchild > 0, **_with_totals(_state_counts(by_prefix.get(unit.path)))}
        for unit in units
    ]
    own = _with_totals(_state_counts(by_prefix.get(parent.path))) if parent is not None else None
    return {"rows": rows, "own": own, "all": _with_totals(_state_counts(overall))}


def unit_progress_detail(campaign, parent=None):
    """One row per unit of the subtree (every level, in tree order) with the counts of its
    whole subtree and of its own agents: two queries (units, GROUP BY unit and state), the
    roll-up is done in memory (units, not appraisals)."""
    from collections import Counter, defaultdict

    from cms.models import OrgUnit

    units = OrgUnit.objects.order_by("path").only("pk", "code", "name", "path", "depth", "kind")
    appraisals = Appraisal.objects.filter(campaign=campaign)
    if parent is not None:
        units = units.filter(path__startswith=parent.path)
        appraisals = appraisals.filter(agent__org_unit__path__startswith=parent.path)
    units = list(units)
    own = defaultdict(Counter)
    for unit_id, state, n in (
        appraisals.values("agent__org_unit_id", "state")
        .annotate(n=Count("pk"))
        .order_by()
        .values_list("agent__org_unit_id", "state", "n")
    ):
        own[unit_id][state] += n
    by_path = {unit.path: unit for unit in units}
    subtree = defaultdict(Counter)
    for unit in units:
        if unit.pk not in own:
            continue
        for length in range(OrgUnit.steplen, len(unit.path) + 1, OrgUnit.steplen):
            ancestor = by_path.get(unit.path[:length])
            if ancestor is not None:
                subtree[ancestor.pk].update(own[unit.pk])
    return [
        {
            "unit": unit,
            "own": _with_totals(_state_counts(own.get(unit.pk))),
            **_with_totals(_state_counts(subtree.get(unit.pk))),
        }
        for unit in units
    ]
