"""Demo content of the appraisal app (seeder "appraisal.campaign" of ``seed_demo``) and the
"Mon entretien professionnel" panel of Mon espace."""

import datetime
import io

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Count, Exists, F, OuterRef, Subquery
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from appraisal import demo, selectors, services
from appraisal.actions import allowed_actions
from appraisal.choices import AppraisalState as S
from appraisal.choices import CampaignStatus
from appraisal.choices import RevisionState as R
from appraisal.dashboard import MyAppraisalPanel, panel_data
from appraisal.models import Appraisal, AppraisalTemplate, AppraisalTransition, AppraisalVersion, Campaign, Objective
from cms import dashboard, seed
from cms.models import Agent
from tests.appraisal.conftest import FILLED
from tests.appraisal.factories import act
from tests.factories import AgentFactory, UserFactory

ALL_STATES = {S.CREATED, S.CONVOKED, S.HELD, S.NOTIFIED, S.ACKNOWLEDGED, S.FINAL, S.CANCELLED}
FROZEN = [S.NOTIFIED, S.ACKNOWLEDGED, S.FINAL]


def run_seed_demo(agents=60):
    with translation.override("fr"):
        call_command("seed_demo", "--agents", str(agents), stdout=io.StringIO(), stderr=io.StringIO())


@pytest.fixture
def appraisal_seeders_only(monkeypatch):
    """The cms seeders and ours: other apps' demo content is tested with those apps."""
    monkeypatch.setattr(
        seed,
        "_SEEDERS",
        {key: value for key, value in seed._SEEDERS.items() if key.startswith("cms.") or key == "appraisal.campaign"},
    )
    assert "appraisal.campaign" in seed._SEEDERS


@pytest.fixture
def seeded(db, appraisal_seeders_only, monkeypatch):
    monkeypatch.setenv("DEMO_PASSWORD", "mot-de-passe-des-tests")
    run_seed_demo()


def login_agent(login):
    return Agent.objects.select_related("user").get(user__username=login)


def snapshot():
    return {
        model._meta.label: model.objects.count()
        for model in (Campaign, AppraisalTemplate, Appraisal, AppraisalTransition, AppraisalVersion, Objective)
    }


# --------------------------------------------------------------------------- seeder


def test_the_seeder_runs_after_learning():
    order = [key for key, _func in seed.registered_seeders()]
    assert order.index("appraisal.campaign") > order.index("learning.courses")


def test_a_running_campaign_for_this_year_over_the_whole_organisation(seeded):
    today = timezone.localdate()
    campaign = Campaign.objects.get(year=today.year)
    assert campaign.year == today.year and campaign.status == CampaignStatus.RUNNING
    assert campaign.starts_on < today < campaign.interviews_until <= campaign.ends_on
    assert [u.code for u in campaign.org_units.all()] == ["DGS"]
    assert campaign.template.name == "Entretien professionnel annuel (modèle par défaut)"
    assert campaign.template_snapshot and campaign.template_revision_id
    active = Agent.objects.filter(active=True).count()
    report = campaign.launch_report
    assert report["population"] == active
    assert report["created"] + len(report["without_manager"]) == active
    assert {row["employee_number"] for row in report["without_manager"]} == set(
        Agent.objects.filter(manager__isnull=True).values_list("employee_number", flat=True)
    )


def test_every_state_is_present_and_a_revision_is_requested(seeded):
    states = set(Appraisal.objects.values_list("state", flat=True))
    assert states == ALL_STATES
    assert Appraisal.objects.filter(revision_state=R.REQUESTED).exists()


def test_the_demo_agent_has_a_notified_report_to_sign_and_last_years_final_one(seeded):
    agent, manager, reviewer = (login_agent(name) for name in ("agent", "manager", "reviewer"))
    this_year = timezone.localdate().year
    appraisal = Appraisal.objects.get(agent=agent, campaign__year=this_year)
    assert appraisal.state == S.NOTIFIED and appraisal.revision_state == R.NONE
    assert appraisal.evaluator == manager and appraisal.reviewer == reviewer
    log = list(appraisal.transitions.order_by("at").values_list("action", "actor__username"))
    assert log == [("convoke", "manager"), ("hold", "manager"), ("notify", "manager")]
    version = AppraisalVersion.objects.get(appraisal=appraisal)
    assert version.content_hash == appraisal.content_hash and version.signed_by == manager.user
    assert appraisal.interview_at - appraisal.convoked_at >= datetime.timedelta(days=8)
    assert Objective.objects.filter(set_in=appraisal).count() == 2
    # The agent's job: read, comment and sign, within the time limit.
    assert "acknowledge" in allowed_actions(agent.user, appraisal)
    act(appraisal, "acknowledge", agent.user, observations="Merci pour cet échange.")

    last = Appraisal.objects.get(agent=agent, campaign__year=this_year - 1)
    assert last.state == S.FINAL and last.visa_at.year <= this_year
    log = list(last.transitions.order_by("at").values_list("action", "actor__username"))
    assert log == [("convoke", "manager"), ("hold", "manager"), ("notify", "manager"),
                   ("acknowledge", "agent"), ("visa", "reviewer")]  # fmt: skip
    # its objective is carried over to this year's report, to assess
    assert Objective.objects.filter(set_in=last, assessed_in=appraisal).count() == 1
    # Last year's campaign is over: every report final (a reviewer put the visa), the campaign
    # closed by HR, so that nobody's list holds its reports any more (the agents keep theirs).
    others = Appraisal.objects.filter(campaign=last.campaign).exclude(pk=last.pk)
    assert others.exists() and not others.exclude(state=S.FINAL).exclude(state=S.CANCELLED, reviewer__isnull=True).exists()
    assert not others.filter(state=S.FINAL, visa_at__isnull=True).exists()
    assert not others.filter(visa_at__gt=timezone.now() - datetime.timedelta(days=300)).exists()  # last year's
    assert last.campaign.status == CampaignStatus.CLOSED
    assert not selectors.evaluator_queue(manager).filter(campaign=last.campaign).exists()
    assert last in selectors.own_appraisals(agent)


def test_manager_and_reviewer_have_work_to_do_and_the_guards_let_them(seeded):
    manager, reviewer = login_agent("manager"), login_agent("reviewer")
    counts = selectors.evaluator_state_counts(manager)
    assert counts[S.CREATED] >= 1 and counts[S.CONVOKED] >= 2 and counts[S.HELD] == 1
    now = timezone.now()

    held = Appraisal.objects.get(evaluator=manager, state=S.HELD)
    assert held.answers  # a draft in progress
    to_hold = Appraisal.objects.get(evaluator=manager, state=S.CONVOKED, interview_at__lte=now)
    act(to_hold, "hold", manager.user)
    services.save_draft(appraisal_id=held.pk, actor=manager.user, answers=FILLED)
    act(held, "notify", manager.user)
    to_convoke = Appraisal.objects.filter(evaluator=manager, state=S.CREATED).first()
    act(to_convoke, "convoke", manager.user, interview_at=(now + datetime.timedelta(days=10)).isoformat())

    queue = list(selectors.reviewer_queue(reviewer))
    assert len(queue) == 2 and {a.evaluator for a in queue} == {manager}  # visas (plural) to put
    act(queue[0], "visa", reviewer.user)
    revision = selectors.revision_requests_to_answer(reviewer).get()
    assert revision.state == S.FINAL
    act(revision, "answer_revision", reviewer.user, decision="reject",
        reason="L'intérim est mentionné dans les acquis de l'expérience.")


def test_every_appraisal_has_the_log_and_versions_its_state_implies(seeded):
    now = timezone.now()
    moved = Appraisal.objects.exclude(state=S.CREATED)
    last = AppraisalTransition.objects.filter(appraisal=OuterRef("pk")).order_by("-at", "-pk").values("to_state")[:1]
    assert not moved.annotate(last=Subquery(last)).exclude(last=F("state")).exists()
    assert not Appraisal.objects.filter(state=S.CREATED, transitions__isnull=False).exists()
    assert not AppraisalTransition.objects.filter(at__gt=now).exists()
    same_hash = AppraisalVersion.objects.filter(appraisal=OuterRef("pk"), content_hash=OuterRef("content_hash"))
    frozen = Appraisal.objects.filter(state__in=FROZEN)
    assert frozen.count() == frozen.filter(Exists(same_hash)).count()
    assert not frozen.filter(content_hash="").exists()
    assert not frozen.filter(notified_at__isnull=True).exists()
    assert not Appraisal.objects.filter(state__in=[S.ACKNOWLEDGED, S.FINAL], agent_signed_at__isnull=True).exists()
    assert not Appraisal.objects.filter(state=S.FINAL, visa_at__isnull=True).exists()
    # The legal time limits hold in the scattered data too.
    for convoked_at, interview_at, held_at, notified_at in Appraisal.objects.exclude(
        state__in=[S.CREATED, S.CANCELLED]
    ).values_list("convoked_at", "interview_at", "held_at", "notified_at"):
        assert interview_at - convoked_at >= datetime.timedelta(days=8)
        if held_at:
            assert held_at >= interview_at
        if notified_at:
            assert notified_at - held_at <= datetime.timedelta(days=15)
    # Content for the reports: the overall appraisal is never empty once notified.
    assert frozen.filter(answers__has_key="sec-overall").count() == frozen.count()


def test_the_demo_logins_queues_are_their_stories_only(seeded):
    reviewer = login_agent("reviewer")
    by_state = dict(
        Appraisal.objects.filter(reviewer=reviewer).values_list("state").annotate(n=Count("pk")).order_by()
    )
    assert by_state[S.ACKNOWLEDGED] == 2


def test_a_second_run_adds_nothing(seeded):
    before = snapshot()
    run_seed_demo()
    assert snapshot() == before


@pytest.mark.django_db
def test_the_seeder_runs_a_number_of_queries_that_does_not_follow_the_agents(appraisal_seeders_only, monkeypatch):
    """300 agents, about 250 appraisals moved in bulk: per-appraisal statements would need
    thousands of queries; slices and batches need a few hundred."""
    monkeypatch.setenv("DEMO_PASSWORD", "mot-de-passe-des-tests")
    counts = {}

    def measured(context):
        with CaptureQueriesContext(connection) as queries:
            result = demo.seed_appraisal(context)
        counts["queries"] = len(queries)
        return result

    monkeypatch.setitem(seed._SEEDERS, "appraisal.campaign", (200, measured))
    run_seed_demo(300)
    assert Appraisal.objects.exclude(state=S.CREATED).count() > 150
    assert counts["queries"] < 450


# --------------------------------------------------------------------------- Mon espace panel


def panel_html(client, login):
    client.force_login(login_agent(login).user)
    response = client.get("/mon-espace/")
    assert response.status_code == 200
    return " ".join(response.content.decode().split())


def test_panel_of_the_demo_agent(seeded, client):
    html = panel_html(client, "agent")
    assert "Mon entretien professionnel" in html
    assert "Compte rendu notifié" in html
    appraisal = Appraisal.objects.get(agent__user__username="agent", campaign__year=timezone.localdate().year)
    assert f'href="/entretiens/{appraisal.pk}/"' in html
    assert "Entretiens que je conduis" not in html


def test_panel_of_the_demo_manager(seeded, client):
    html = panel_html(client, "manager")
    counts = selectors.evaluator_state_counts(login_agent("manager"))
    assert f"{counts[S.CREATED]} agents à convoquer" in html
    assert "1 compte rendu à rédiger et notifier" in html and "déjà passé, à déclarer tenu" in html
    assert "2 comptes rendus en attente de la signature des agents" in html  # the demo agent's included
    assert 'href="/entretiens/?etat=created"' in html and 'href="/entretiens/?etat=held"' in html
    assert "est fixé au" in html  # the manager's own interview, convoked by the reviewer


def test_panel_of_the_demo_reviewer(seeded, client):
    html = panel_html(client, "reviewer")
    assert "2 comptes rendus à viser" in html and "1 demande de révision à traiter" in html
    assert 'href="/entretiens/visa/"' in html


@pytest.mark.django_db
def test_panel_is_hidden_without_appraisal_or_agent(client):
    factory = RequestFactory()
    panel = MyAppraisalPanel()
    for user in (AgentFactory().user, UserFactory()):
        request = factory.get("/mon-espace/")
        request.user = user
        assert not panel.is_visible(request)
    assert "appraisal.my_appraisal" in {p.key for p in dashboard._PANELS.values()}


@pytest.mark.parametrize(
    "state, expected",
    [
        (S.CREATED, "vous convoquera à l'entretien au moins 8 jours à l'avance"),
        (S.CONVOKED, "est fixé au"),
        (S.HELD, "rédige le compte rendu"),
        (S.NOTIFIED, "Lire et signer mon compte rendu"),
        (S.ACKNOWLEDGED, "attend le visa d"),  # "de" or "d'": elided before the reviewer's name
    ],
)
@pytest.mark.django_db
def test_panel_next_step_for_each_state(appraisal, chain, state, expected):
    now = timezone.now()
    manager = chain["manager"].user
    if state != S.CREATED:
        act(appraisal, "convoke", manager, now=now - datetime.timedelta(days=12), interview_at=(now - datetime.timedelta(days=2)).isoformat())
    if state in (S.HELD, S.NOTIFIED, S.ACKNOWLEDGED):
        act(appraisal, "hold", manager, now=now - datetime.timedelta(days=2))
    if state in (S.NOTIFIED, S.ACKNOWLEDGED):
        services.save_draft(appraisal_id=appraisal.pk, actor=manager, answers=FILLED)
        act(appraisal, "notify", manager, now=now - datetime.timedelta(days=1))
    if state == S.ACKNOWLEDGED:
        act(appraisal, "acknowledge", chain["agent"].user)
    request = RequestFactory().get("/mon-espace/")
    request.user = chain["agent"].user
    context = panel_data(request)
    assert context["step"]["state"] == state and context["step"]["action_needed"] is (state == S.NOTIFIED)
    html = " ".join(render_to_string(MyAppraisalPanel.template_name, {"panel_context": context}).split())
    assert expected in html.replace("&#x27;", "'")


@pytest.mark.django_db
def test_panel_runs_a_fixed_number_of_queries(chain, org, campaign):
    def measure(login):
        request = RequestFactory().get("/mon-espace/")
        request.user = type(chain[login].user).objects.get(pk=chain[login].user.pk)  # nothing cached
        with CaptureQueriesContext(connection) as queries:
            panel = MyAppraisalPanel()
            assert panel.is_visible(request)
            render_to_string(panel.template_name, {"panel_context": panel.get_context(request)})
        return len(queries)

    few = {login: measure(login) for login in ("agent", "manager", "reviewer")}
    for _i in range(15):
        AgentFactory(org_unit=org["bureau"], manager=chain["manager"])
    services.launch_campaign(campaign_id=campaign.pk)
    appraisals = Appraisal.objects.filter(evaluator=chain["manager"], state=S.CREATED)
    now = timezone.now()
    for appraisal in appraisals[:5]:
        act(appraisal, "convoke", chain["manager"].user, interview_at=(now + datetime.timedelta(days=9)).isoformat())
    many = {login: measure(login) for login in ("agent", "manager", "reviewer")}
    assert many == few
    assert max(few.values()) <= 3


def test_the_seed_output_names_the_states_in_french(db, appraisal_seeders_only, monkeypatch):
    monkeypatch.setenv("DEMO_PASSWORD", "mot-de-passe-des-tests")
    out = io.StringIO()
    with translation.override("fr"):
        call_command("seed_demo", "--agents", "60", stdout=out, stderr=io.StringIO())
    line = next(line for line in out.getvalue().splitlines() if "états :" in line)
    assert "créé" in line.lower() or "convoqué" in line.lower()
    for english in ("created", "convoked", "held", "notified", "acknowledged", "final ", "cancelled"):
        assert english not in line
