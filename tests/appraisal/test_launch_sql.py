"""Campaign launch written by the database (``INSERT … SELECT``): N+1 and N+2 from the org
chart, agents without an active manager reported, a relaunch creating only what is missing,
progress per batch, open objectives carried over, and a number of queries that does not grow
with the population."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from appraisal import services
from appraisal.choices import AppraisalState as S
from appraisal.models import Appraisal, Objective
from tests.appraisal.conftest import make_campaign
from tests.factories import AgentFactory


@pytest.mark.django_db
def test_launch_rows_report_and_relaunch(chain, org):
    inactive_manager = AgentFactory(org_unit=org["service"], active=False)
    orphan = AgentFactory(org_unit=org["bureau"], manager=inactive_manager)
    AgentFactory(org_unit=org["bureau"], manager=chain["manager"], active=False)  # not in the population
    campaign = make_campaign(org)
    progress = []
    launched = services.launch_campaign(campaign_id=campaign.pk, progress=lambda d, t: progress.append((d, t)))
    report = launched.launch_report
    rows = {a.agent_id: a for a in Appraisal.objects.filter(campaign=campaign)}
    with_manager = [chain[k] for k in ("manager", "agent", "other_agent")]
    assert set(rows) == {a.pk for a in with_manager}
    for agent in with_manager:
        agent.refresh_from_db()
        row = rows[agent.pk]
        assert row.evaluator_id == agent.manager_id and row.state == S.CREATED and row.version == 1
        assert row.reviewer_id == agent.manager.manager_id and row.answers == {} and row.pdf.name == ""
        assert row.created_at == row.updated_at
    assert rows[chain["agent"].pk].reviewer_id == chain["reviewer"].pk
    assert rows[chain["other_agent"].pk].reviewer_id is None  # the N+1 has no manager
    population = 7  # reviewer, manager, agent, other_manager, other_agent, hr, orphan
    assert report["population"] == population and report["created"] == 3 and report["already_existing"] == 0
    assert {r["employee_number"] for r in report["without_manager"]} == {
        chain[k].employee_number for k in ("reviewer", "other_manager", "hr")
    } | {orphan.employee_number}
    assert progress[-1] == (population, population)
    assert launched.launch_progress == 1.0 and launched.launched_at is not None

    # HR fixes the orphan's manager; the relaunch creates that one only
    orphan.manager = chain["manager"]
    orphan.save()
    again = services.launch_campaign(campaign_id=campaign.pk).launch_report
    assert again["created"] == 1 and again["already_existing"] == 3
    assert Appraisal.objects.get(campaign=campaign, agent=orphan).reviewer_id == chain["reviewer"].pk
    # a cancelled appraisal does not block a new one
    Appraisal.objects.filter(campaign=campaign, agent=orphan).update(state=S.CANCELLED)
    assert services.launch_campaign(campaign_id=campaign.pk).launch_report["created"] == 1
    assert Appraisal.objects.filter(campaign=campaign, agent=orphan).count() == 2


@pytest.mark.django_db
def test_progress_is_reported_per_batch(chain, org, monkeypatch):
    monkeypatch.setattr(services, "BATCH", 2)
    for _ in range(3):
        AgentFactory(org_unit=org["bureau"], manager=chain["manager"])
    progress = []
    launched = services.launch_campaign(
        campaign_id=make_campaign(org).pk, progress=lambda d, t: progress.append((d, t))
    )
    assert progress == [(2, 9), (4, 9), (6, 9), (8, 9), (9, 9)]
    assert launched.launch_report["created"] == 6


@pytest.mark.django_db
def test_open_objectives_are_carried_over_in_one_update(chain, org):
    previous = make_campaign(org, year=2024)
    services.launch_campaign(campaign_id=previous.pk)
    old = Appraisal.objects.get(campaign=previous, agent=chain["agent"])
    open_one = Objective.objects.create(agent=chain["agent"], set_in=old, title="Ouvert")
    assessed = Objective.objects.create(agent=chain["agent"], set_in=old, title="Évalué", assessed_in=old)
    campaign = make_campaign(org, year=2025)
    report = services.launch_campaign(campaign_id=campaign.pk).launch_report
    assert report["carried_objectives"] == 1
    new = Appraisal.objects.get(campaign=campaign, agent=chain["agent"])
    open_one.refresh_from_db()
    assessed.refresh_from_db()
    assert open_one.assessed_in_id == new.pk and assessed.assessed_in_id == old.pk


def launch_queries(org, chain, extra):
    for _ in range(extra):
        AgentFactory(org_unit=org["bureau"], manager=chain["manager"])
        AgentFactory(org_unit=org["bureau"])  # without manager: listed in the report
    campaign = make_campaign(org)
    with CaptureQueriesContext(connection) as queries:
        report = services.launch_campaign(campaign_id=campaign.pk).launch_report
    assert report["created"] == Appraisal.objects.filter(campaign=campaign).count()
    return len(queries), report


@pytest.mark.django_db
def test_query_count_does_not_grow_with_the_population(chain, org):
    services.launch_campaign(campaign_id=make_campaign(org, year=2020).pk)  # the template's first revision
    few, report_few = launch_queries(org, chain, 1)
    many, report_many = launch_queries(org, chain, 15)
    assert report_many["created"] > report_few["created"] and len(report_many["without_manager"]) > 10
    assert many == few


@pytest.mark.django_db
def test_analyze_runs_on_postgresql_only(chain, org):
    campaign = make_campaign(org)
    with CaptureQueriesContext(connection) as queries:
        services.launch_campaign(campaign_id=campaign.pk)
    analyzed = [q["sql"] for q in queries if q["sql"].startswith("ANALYZE")]
    if connection.vendor == "postgresql":
        assert analyzed == ['ANALYZE "appraisal_appraisal"', 'ANALYZE "appraisal_objective"']
    else:
        assert analyzed == []
