"""Writes of the appraisal app other than workflow transitions (appraisal/actions.py):
campaign launch, template freezing, draft content, HR access logging."""

from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from appraisal import content
from appraisal.choices import AppraisalState as S
from appraisal.models import Appraisal, AppraisalAccessLog, Objective
from appraisal.permissions import AGENT, EVALUATOR, HR, REVIEWER, roles_on
from cms import bulksql
from cms.exceptions import Conflict
from cms.models import Agent

BATCH = 2000
# Who may save draft content, in which state.
DRAFT_RULES = {
    EVALUATOR: {S.CREATED, S.CONVOKED, S.HELD},
    AGENT: {S.NOTIFIED},  # the agent's observations before acknowledging
}


def freeze_template(campaign):
    """Snapshot the template's latest revision on the campaign (sections with their ids)."""
    template = campaign.template
    revision = template.latest_revision or template.save_revision()
    content = revision.as_object()
    campaign.template_revision = revision
    campaign.template_snapshot = list(content.sections.raw_data)
    return campaign


def population(campaign):
    """Active agents of the campaign's org unit subtrees and categories."""
    paths = list(campaign.org_units.values_list("path", flat=True))
    if not paths:
        return Agent.objects.none()
    cond = Q()
    for path in paths:
        cond |= Q(org_unit__path__startswith=path)
    agents = Agent.objects.filter(cond, active=True)
    if campaign.categories:
        agents = agents.filter(category__in=campaign.categories)
    return agents


def launch_campaign(*, campaign_id, actor=None, progress=None):
    """Create every appraisal of the campaign in bulk (evaluator = N+1, reviewer = N+2),
    carry last year's open objectives over and freeze the template. Idempotent: a second
    launch only creates the missing appraisals (e.g. after HR fixed a missing manager).
    Agents without a manager are listed in ``launch_report["without_manager"]``.

    The appraisals are written by the database: per batch of ``BATCH`` agents of the
    population, one ``INSERT … SELECT`` joining each agent to their manager; an agent who
    already has an appraisal in the campaign is skipped by the partial unique constraint
    (``ON CONFLICT DO NOTHING``). ``progress(done, total)`` counts the population's agents
    handled. On PostgreSQL the touched tables are then ``ANALYZE``d."""
    from appraisal.actions import BeginLaunch, FinishLaunch

    campaign = BeginLaunch(campaign_id).execute()

    existing = Appraisal.objects.filter(campaign_id=campaign_id).exclude(state=S.CANCELLED)
    already_existing = existing.count()
    agents = population(campaign)
    without_manager = [
        {"employee_number": number, "name": f"{first} {last}".strip()}
        for number, first, last in agents.exclude(pk__in=existing.values("agent_id"))
        .filter(Q(manager__isnull=True) | Q(manager__active=False))
        .order_by("pk")
        .values_list("employee_number", "user__first_name", "user__last_name")
    ]
    total, bounds = bulksql.batch_bounds(agents, BATCH)
    created = _insert_appraisals(campaign, agents, bounds, total, progress)
    carried = carry_over_objectives(campaign)
    if created or carried:
        bulksql.analyze(Appraisal, Objective)
    report = {
        "population": total,
        "created": created,
        "already_existing": already_existing,
        "carried_objectives": carried,
        "without_manager": without_manager,
        "launched_by": getattr(actor, "pk", None),
    }
    campaign = FinishLaunch(campaign_id, params={"report": report}).execute()
    return campaign


def _insert_appraisals(campaign, agents, bounds, total, progress):
    """``INSERT … SELECT`` of the appraisals of ``agents`` (one statement per batch of the
    population, each in its own transaction); returns how many were created."""
    qn = connection.ops.quote_name
    agent_table = qn(Agent._meta.db_table)
    manager = qn(Agent._meta.get_field("manager").column)
    active = qn(Agent._meta.get_field("active").column)
    stamp = timezone.now()  # created_at / updated_at, as ``auto_now`` would set them
    values = {
        "campaign": campaign.pk,
        "agent": bulksql.Sql("a.id"),
        "evaluator": bulksql.Sql("m.id"),
        "reviewer": bulksql.Sql(f"m.{manager}"),
        "state": S.CREATED,
        "created_at": stamp,
        "updated_at": stamp,
    }
    population_sql, population_params = bulksql.queryset_sql(agents.order_by().values("pk"))
    source = f"{agent_table} a INNER JOIN {agent_table} m ON m.id = a.{manager}"
    created, lower = 0, None
    for number, upper in enumerate(bounds, start=1):
        where = f"a.id IN ({population_sql}) AND m.{active} = %s AND a.id <= %s"
        params = [*population_params, True, upper]
        if lower is not None:
            where += " AND a.id > %s"
            params.append(lower)
        with transaction.atomic():
            created += len(bulksql.insert_select(Appraisal, values, source=source, where=where, params=params))
        lower = upper
        if progress:
            progress(min(number * BATCH, total), total)
    return created


def carry_over_objectives(campaign):
    """Open objectives set in an earlier campaign are attached to this campaign's appraisal
    of the same agent, to be assessed there (one ``UPDATE`` with a correlated subquery)."""
    current = Appraisal.objects.filter(campaign=campaign).exclude(state=S.CANCELLED)
    return Objective.objects.filter(
        agent_id__in=current.values("agent_id"),
        set_in__campaign__year__lt=campaign.year,
        assessed_in__isnull=True,
    ).update(assessed_in_id=Subquery(current.filter(agent_id=OuterRef("agent_id")).values("pk")[:1]))


@transaction.atomic
def save_draft(*, appraisal_id, actor, answers=None, observations=None):
    """Autosave: merge the given sections into the draft, allowed to the evaluator before
    notification and to the agent (observations only) once notified. Frozen otherwise.
    The sections are checked by ``appraisal.content.clean_answers`` (ValidationError naming
    the section, nothing written) and stored cleaned."""
    appraisal = Appraisal.objects.select_for_update(of=("self",)).select_related("campaign").get(pk=appraisal_id)
    mine = roles_on(actor, appraisal)
    if not mine & {EVALUATOR, AGENT, REVIEWER, HR}:
        raise PermissionDenied(_("Vous n'avez pas accès à cet entretien."))
    fields = []
    if answers is not None:
        if EVALUATOR not in mine:
            raise PermissionDenied(_("Seul l'évaluateur rédige le compte rendu."))
        if appraisal.state not in DRAFT_RULES[EVALUATOR]:
            raise Conflict(_("Le compte rendu est figé depuis sa notification : il ne peut plus être modifié."))
        # The one validator of the content (also run by the web form and the API serializer,
        # to show errors by field): nothing invalid is written, whoever calls.
        cleaned = content.clean_answers(appraisal, answers)
        appraisal.answers = content.merge(appraisal.answers, cleaned)
        fields.append("answers")
    if observations is not None:
        if AGENT not in mine:
            raise PermissionDenied(_("Seul l'agent rédige ses observations."))
        if appraisal.state not in DRAFT_RULES[AGENT]:
            raise Conflict(_("Les observations ne peuvent être saisies qu'après la notification et avant la signature."))
        appraisal.observations = content.clean_observations(observations)
        fields.append("observations")
    if fields:
        appraisal.save(update_fields=fields + ["updated_at"])
    return appraisal


def log_access(*, appraisal, user, channel):
    """Record an HR read of someone else's report (called by every read path for HR)."""
    mine = roles_on(user, appraisal)
    if mine & {EVALUATOR, AGENT, REVIEWER}:
        return None
    return AppraisalAccessLog.objects.create(appraisal=appraisal, user=user, channel=channel)


def training_needs(appraisal):
    """The training needs of a report: [{"course": id | None, "text": str}]."""
    needs = []
    snapshot = appraisal.campaign.template_snapshot
    readable = content.readable_answers(snapshot, appraisal.answers)
    for sid, kind, _spec in content.template_sections(snapshot):
        if kind == "training_needs":
            for item in readable[sid]:
                if item["course"] or item["text"].strip():
                    needs.append({"course": item["course"], "text": item["text"].strip()})
    return needs


def training_needs_to_enrollments(*, appraisal_id):
    """In a final report, a need linked to a course becomes an enrolment (source
    "appraisal need"); unlinked needs stay listed for training editors (selectors)."""
    from learning.choices import EnrollmentSource
    from learning.models import CoursePage
    from learning.services import enroll

    appraisal = Appraisal.objects.select_related("campaign", "agent").get(pk=appraisal_id)
    if appraisal.state != S.FINAL:
        return 0
    course_ids = {n["course"] for n in training_needs(appraisal) if n["course"] is not None}
    created = 0
    for course in CoursePage.objects.live().filter(pk__in=course_ids):
        _enrollment, was_created = enroll(agent=appraisal.agent, course=course, source=EnrollmentSource.APPRAISAL_NEED)
        created += was_created
    return created
