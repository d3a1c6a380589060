"""GET /api/v1/campaigns/{id}/template/ (issue 13, item 21): the campaign's frozen template,
enough for a client to fill ``answers`` of ``PATCH appraisals/{id}/content/`` without reading
the database. Who may read it (whoever may read appraisals of the campaign; 404 for the
others, as for an unknown id), what it lists (exactly the ids the validator accepts: a
content built from the response alone is saved), and a constant number of queries."""

import copy
import datetime
from types import SimpleNamespace

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from appraisal import content, services, workflow
from appraisal.choices import ObjectiveStatus
from appraisal.defaults import CRITERIA, SCALE, default_sections, ensure_default_template
from appraisal.models import Appraisal, Campaign, Objective
from tests.factories import AgentFactory, OrgUnitFactory, api_token_for

API = "/api/v1/"
SECTION_KEYS = {
    "id", "kind", "kind_label", "title", "help_text", "required", "answer_type", "max_length", "max_rows", "scale",
    "criteria", "comment", "entry_fields",
}  # fmt: skip
# Every caller of the matrix, and whether they may read the template of the DRH campaign.
READS_DRH = {
    "anonymous": 401,
    "hr": 200,
    "service": 200,  # token of an account holding appraisal.view_all_appraisals
    "agent": 200,  # has their appraisal in it
    "manager": 200,  # evaluator (N+1) of appraisals in it
    "reviewer": 200,  # N+2 of appraisals in it
    "delegate": 200,  # evaluator by delegation
    "spare": 404,  # an agent without an appraisal in it
    "fin_manager": 404,  # a manager whose appraisals are in another campaign
    "no_profile": 404,  # an account without an agent profile
    "token_no_perm": 404,  # a token of an account without the permission
}
ROLES = list(READS_DRH)


def days(n):
    return datetime.timedelta(days=n)


def new_campaign(unit, year, template, *, launch=True):
    today = timezone.localdate()
    campaign = Campaign.objects.create(
        name=f"Campagne {unit.code} {year}", year=year, template=template, starts_on=today - days(10),
        interviews_until=today + days(60), ends_on=today + days(120),
    )  # fmt: skip
    campaign.org_units.set([unit])
    if launch:
        services.launch_campaign(campaign_id=campaign.pk)
        campaign.refresh_from_db()
    return campaign


def make_world():
    """DRH (reviewer → manager → agent, a spare agent without a manager, HR, a delegate) with
    last year's campaign (one objective set for the agent) and this year's (the objective
    carried over to be assessed); a finance direction with its own campaign; a draft
    campaign; a service account with the permission and a token, one without it."""
    direction = OrgUnitFactory(code="DRH", name="Direction des ressources humaines", kind="direction")
    service = OrgUnitFactory(code="DRH-SF", name="Service de la formation", kind="service", parent=direction)
    finance = OrgUnitFactory(code="DFIN", name="Direction des finances", kind="direction")
    reviewer = AgentFactory(user__username="reviewer", org_unit=direction)
    manager = AgentFactory(user__username="manager", org_unit=service, manager=reviewer)
    fin_manager = AgentFactory(user__username="fin_manager", org_unit=finance)
    people = {
        "reviewer": reviewer,
        "manager": manager,
        "agent": AgentFactory(user__username="agent", org_unit=service, manager=manager),
        "spare": AgentFactory(user__username="spare", org_unit=service),
        "delegate": AgentFactory(user__username="delegate", org_unit=service),
        "hr": AgentFactory(user__username="hr", user__groups=["HR"], org_unit=direction),
        "fin_manager": fin_manager,
        "fin_agent": AgentFactory(user__username="fin_agent", org_unit=finance, manager=fin_manager),
    }
    template = ensure_default_template()
    year = timezone.localdate().year
    last_year = new_campaign(direction, year - 1, template)
    previous = Appraisal.objects.get(campaign=last_year, agent=people["agent"])
    objective = Objective.objects.create(
        agent=people["agent"], set_in=previous, title="Former deux collègues au logiciel de paie"
    )
    campaign = new_campaign(direction, year, template)
    fin_campaign = new_campaign(finance, year, template)
    draft = new_campaign(direction, year + 1, template, launch=False)
    users = get_user_model().objects
    service_user = users.create_user("sirh", email="sirh@example.org")
    service_user.user_permissions.add(
        Permission.objects.get(codename="view_all_appraisals", content_type__app_label="appraisal")
    )
    bare_user = users.create_user("outil", email="outil@example.org")
    return SimpleNamespace(
        people=people, campaign=campaign, fin_campaign=fin_campaign, draft=draft, objective=objective,
        appraisal=Appraisal.objects.get(campaign=campaign, agent=people["agent"]),
        token=api_token_for(service_user), bare_token=api_token_for(bare_user),
        no_profile=users.create_user("sans_profil", email="sans-profil@example.org"),
    )  # fmt: skip


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """Built once for the module inside a transaction rolled back at its end; each test runs
    in its own savepoint."""
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            yield make_world()
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


def client_for(world, role):
    client = APIClient()
    if role == "service":
        client.credentials(HTTP_AUTHORIZATION=f"Token {world.token}")
    elif role == "token_no_perm":
        client.credentials(HTTP_AUTHORIZATION=f"Token {world.bare_token}")
    elif role == "no_profile":
        client.force_login(world.no_profile)
    elif role != "anonymous":
        client.force_login(world.people[role].user)
    return client


def set_up(world, role):
    """Each role holds only the one link to the campaign it is named after."""
    managers_own = Appraisal.objects.filter(campaign=world.campaign, agent=world.people["manager"])
    if role == "manager":  # evaluator only: without an appraisal of their own in it
        managers_own.delete()
    if role == "reviewer":  # N+2 of the agent only, no longer the manager's evaluator
        managers_own.update(evaluator=world.people["hr"])
    if role == "delegate":  # the manager handed the agent's appraisal over
        Appraisal.objects.filter(pk=world.appraisal.pk).update(
            evaluator=world.people["delegate"], delegated_from=world.people["manager"], delegation_reason="Congé long"
        )


def links(world, role):
    """How the role's agent appears in the DRH campaign's appraisals."""
    rows = Appraisal.objects.filter(campaign=world.campaign)
    agent = world.people.get(role)
    return {field for field in ("agent", "evaluator", "reviewer") if agent and rows.filter(**{field: agent}).exists()}


def template_url(campaign_id):
    return f"{API}campaigns/{campaign_id}/template/"


def get_template(client, campaign_id):
    response = client.get(template_url(campaign_id))
    assert response.status_code == 200, response.content
    return response.json()


# --- who may read it ---------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_matrix(world, role):
    set_up(world, role)
    expected_links = {"agent": {"agent"}, "manager": {"evaluator"}, "reviewer": {"reviewer"}, "delegate": {"evaluator"}}
    assert links(world, role) == expected_links.get(role, set())
    client = client_for(world, role)
    response = client.get(template_url(world.campaign.pk))
    assert response.status_code == READS_DRH[role], response.content
    if role == "anonymous":
        assert response["WWW-Authenticate"].startswith("Token") and response.json()["detail"]
        return
    missing = client.get(template_url(world.campaign.pk + 10_000))
    assert missing.status_code == 404
    if READS_DRH[role] == 404:
        # Existence does not leak: the same answer as for a campaign that does not exist.
        assert response.json() == missing.json() and "campagne" in response.json()["detail"]
        return
    body = response.json()
    assert body["campaign"] == {"id": world.campaign.pk, "year": world.campaign.year, "name": world.campaign.name}
    assert body["frozen"] is True
    assert [section["id"] for section in body["sections"]] == [s["id"] for s in default_sections()]
    # Everyone allowed reads the same template.
    assert body == get_template(client_for(world, "hr"), world.campaign.pk)


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_another_campaign_is_hr_only_here(world, role):
    """The finance campaign: nobody of the DRH chain holds an appraisal in it."""
    response = client_for(world, role).get(template_url(world.fin_campaign.pk))
    expected = {"anonymous": 401, "hr": 200, "service": 200, "fin_manager": 200}.get(role, 404)
    assert response.status_code == expected, response.content


@pytest.mark.django_db
def test_a_cancelled_appraisal_still_opens_its_campaign(world):
    """Its agent and evaluator still read the (cancelled) appraisal, so the template too."""
    Appraisal.objects.filter(pk=world.appraisal.pk).update(state="cancelled", cancelled_reason="Départ")
    assert client_for(world, "agent").get(template_url(world.campaign.pk)).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("raw", ["0", str(2**63), "18446744073709551616", "9" * 500])
def test_ids_out_of_range_are_404(world, raw):
    response = client_for(world, "hr").get(template_url(raw))
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json") and response.json()["detail"]


@pytest.mark.django_db
def test_largest_id_is_a_plain_404(world):
    response = client_for(world, "hr").get(template_url(2**63 - 1))
    assert response.status_code == 404 and "campagne" in response.json()["detail"]


# --- what it lists -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_sections_of_the_default_template(world):
    body = get_template(client_for(world, "agent"), world.campaign.pk)
    sections = {section["id"]: section for section in body["sections"]}
    assert all(set(section) == SECTION_KEYS for section in body["sections"])
    assert [s["kind"] for s in body["sections"]] == [s["type"] for s in default_sections()]
    assert [s["title"] for s in body["sections"]] == [s["value"]["title"] for s in default_sections()]
    assert {sid for sid, s in sections.items() if s["required"]} == {"sec-service", "sec-overall"}

    grid = sections["sec-criteria"]
    assert grid["answer_type"] == "by_criterion" and grid["kind_label"] == "Grille de critères"
    assert grid["help_text"] == "Critères fixés par l'employeur, appréciés sans note chiffrée."
    assert grid["scale"] == [{"id": i, "label": label, "description": d} for i, label, d in SCALE]
    assert grid["criteria"] == [{"id": i, "label": label, "description": d} for i, label, d in CRITERIA]
    assert grid["comment"] is True and grid["max_rows"] is None and grid["max_length"] is None
    level, comment = grid["entry_fields"]
    assert level["name"] == "level" and level["type"] == "choice"
    assert level["choices"] == [{"value": i, "label": label} for i, label, _d in SCALE]
    assert comment == {
        "name": "comment", "type": "string", "required": False, "nullable": False, "max_length": content.MAX_TEXT,
        "choices": None, "help_text": "Commentaire sur le critère.",
    }  # fmt: skip

    results = sections["sec-results"]
    assert results["answer_type"] == "by_objective" and results["scale"] is None and results["criteria"] is None
    assert results["entry_fields"][0]["choices"] == [
        {"value": v, "label": str(lb)} for v, lb in ObjectiveStatus.choices
    ]

    objectives = sections["sec-objectives"]
    assert objectives["answer_type"] == "rows" and objectives["max_rows"] == content.MAX_ROWS
    assert [(f["name"], f["type"], f["required"]) for f in objectives["entry_fields"]] == [
        ("title", "string", True), ("indicators", "string", False), ("due_on", "date", False),
    ]  # fmt: skip
    assert objectives["entry_fields"][0]["max_length"] == content.MAX_TITLE
    needs = sections["sec-training"]
    assert [(f["name"], f["type"], f["nullable"]) for f in needs["entry_fields"]] == [
        ("course", "integer", True), ("text", "string", False),
    ]  # fmt: skip

    for sid in ("sec-service", "sec-experience", "sec-management", "sec-career", "sec-overall"):
        assert sections[sid]["answer_type"] == "text" and sections[sid]["max_length"] == content.MAX_TEXT
        assert sections[sid]["entry_fields"] is None and sections[sid]["comment"] is None
    assert sections["sec-observations"]["answer_type"] == "observations"


@pytest.mark.django_db
def test_required_is_the_rule_of_notify(world):
    """``required`` lists exactly what ``notify`` refuses to leave empty."""
    body = get_template(client_for(world, "hr"), world.campaign.pk)
    required = [s["title"] for s in body["sections"] if s["required"]]
    assert required == workflow.missing_required_sections(world.appraisal)


def value_for(field):
    """A valid value of an entry field, from its description alone."""
    if field["type"] == "choice":
        return field["choices"][-1]["value"]
    if field["type"] == "date":
        return "2030-06-30"
    if field["type"] == "integer":
        assert field["nullable"]
        return None
    text = f"Réponse pour {field['name']}"
    return text[: field["max_length"]] if field["max_length"] else text


def build_answers(template, assessed_ids):
    """Answers for every section a client writes, built from the template response (and, for
    the results, the ids of the appraisal's assessed objectives from GET appraisals/{id}/)."""
    answers = {}
    for section in template["sections"]:
        entry = {field["name"]: value_for(field) for field in section["entry_fields"] or []}
        kind = section["answer_type"]
        if kind == "text":
            answers[section["id"]] = f"Texte de la section « {section['title']} »."[: section["max_length"]]
        elif kind == "by_criterion":
            answers[section["id"]] = {criterion["id"]: dict(entry) for criterion in section["criteria"]}
        elif kind == "by_objective":
            answers[section["id"]] = {str(pk): dict(entry) for pk in assessed_ids}
        elif kind == "rows":
            answers[section["id"]] = [dict(entry)]
        else:
            assert kind == "observations"  # the agent's field, not the evaluator's answers
    return answers


@pytest.mark.django_db
def test_a_content_built_from_the_response_alone_is_saved(world):
    client = client_for(world, "manager")
    template = get_template(client, world.campaign.pk)
    detail = client.get(f"{API}appraisals/{world.appraisal.pk}/").json()
    assessed = [objective["id"] for objective in detail["objectives"]["assessed"]]
    assert assessed == [world.objective.pk]  # carried over from last year
    answers = build_answers(template, assessed)
    assert len(answers) == len(template["sections"]) - 1  # all but the agent's observations

    response = client.patch(f"{API}appraisals/{world.appraisal.pk}/content/", {"answers": answers}, format="json")
    assert response.status_code == 200, response.content
    stored = Appraisal.objects.get(pk=world.appraisal.pk)
    assert response.json()["answers"] == answers == stored.answers
    assert stored.answers["sec-criteria"]["crit-results"] == {"level": "lvl-4", "comment": "Réponse pour comment"}
    assert stored.answers["sec-results"] == {
        str(world.objective.pk): {"status": ObjectiveStatus.values[-1], "comment": "Réponse pour comment"}
    }
    assert workflow.missing_required_sections(stored) == []  # ready to notify


@pytest.mark.django_db
def test_ids_outside_the_response_are_refused(world):
    """The converse: what the response does not offer, PATCH does not accept."""
    client = client_for(world, "manager")
    template = get_template(client, world.campaign.pk)
    sections = {s["id"]: s for s in template["sections"]}
    observations = next(s["id"] for s in template["sections"] if s["answer_type"] == "observations")
    bad = [
        {"sec-nope": "x"},
        {"sec-criteria": {"crit-nope": {"level": "", "comment": "x"}}},
        {"sec-criteria": {"crit-results": {"level": "lvl-9", "comment": ""}}},
        {"sec-results": {"999999": {"status": "achieved", "comment": ""}}},
        {"sec-objectives": [{"title": "x" * (sections["sec-objectives"]["entry_fields"][0]["max_length"] + 1)}]},
        {observations: "Mes observations"},
    ]
    for answers in bad:
        response = client.patch(f"{API}appraisals/{world.appraisal.pk}/content/", {"answers": answers}, format="json")
        assert response.status_code == 400, (answers, response.content)
    assert Appraisal.objects.get(pk=world.appraisal.pk).answers == {}


def custom_snapshot():
    """The default sections, reordered and edited, plus what the validator ignores: a
    section without an id, an unknown kind, a malformed criterion."""
    sections = {s["id"]: copy.deepcopy(s) for s in default_sections()}
    grid = sections["sec-criteria"]
    grid["value"]["comment"] = False
    grid["value"]["criteria"].append({"type": "item", "value": {"label": "Sans identifiant"}})
    grid["value"]["criteria"][0]["value"]["description"] = ""
    theme = sections["sec-experience"]
    theme["value"]["required"] = True
    theme["value"]["help_text"] = ""
    return [
        sections["sec-overall"],
        {"type": "free_text", "value": {"title": "Sans identifiant"}},
        theme,
        {"type": "poll", "id": "sec-poll", "value": {"title": "Type inconnu"}},
        grid,
        sections["sec-observations"],
    ]


@pytest.mark.django_db
def test_the_response_follows_the_frozen_snapshot(world):
    """The snapshot, not the template as HR may have edited it since: its order, its flags,
    and only the well-formed sections and items (those the validator reads)."""
    Campaign.objects.filter(pk=world.campaign.pk).update(template_snapshot=custom_snapshot())
    client = client_for(world, "manager")
    template = get_template(client, world.campaign.pk)
    sections = template["sections"]
    assert [s["id"] for s in sections] == ["sec-overall", "sec-experience", "sec-criteria", "sec-observations"]
    theme, grid = sections[1], sections[2]
    assert theme["required"] is True and theme["help_text"] == ""
    assert grid["comment"] is False
    assert [c["id"] for c in grid["criteria"]] == [c[0] for c in CRITERIA]
    assert grid["criteria"][0]["description"] == ""
    answers = build_answers(template, [])
    response = client.patch(f"{API}appraisals/{world.appraisal.pk}/content/", {"answers": answers}, format="json")
    assert response.status_code == 200, response.content
    assert set(Appraisal.objects.get(pk=world.appraisal.pk).answers) == {
        "sec-overall",
        "sec-experience",
        "sec-criteria",
    }


@pytest.mark.django_db
def test_a_draft_campaign_shows_a_preview_to_hr(world):
    """Before launch nothing is frozen: HR sees what the launch would freeze now."""
    body = get_template(client_for(world, "hr"), world.draft.pk)
    assert body["frozen"] is False
    assert [s["id"] for s in body["sections"]] == [s["id"] for s in default_sections()]
    for role in ("agent", "manager", "reviewer"):  # no appraisal in it yet
        assert client_for(world, role).get(template_url(world.draft.pk)).status_code == 404
    services.launch_campaign(campaign_id=world.draft.pk)
    body = get_template(client_for(world, "agent"), world.draft.pk)
    assert body["frozen"] is True


# --- cost ---------------------------------------------------------------------------------------------------


def count_queries(client, path):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path)
        assert response.status_code == 200, response.content
    return len(ctx.captured_queries), response.json()


def big_snapshot(size):
    """``size`` copies of every default section (fresh ids), grids with 30 criteria."""
    out = []
    for n in range(size):
        for section in default_sections():
            if section["type"] == "agent_observations":
                continue
            section = copy.deepcopy(section)
            section["id"] = f"{section['id']}-{n}"
            if section["type"] == "criteria_grid":
                section["value"]["criteria"] = [
                    {"type": "item", "id": f"crit-{n}-{k}", "value": {"label": f"Critère {k}", "description": ""}}
                    for k in range(30)
                ]
            out.append(section)
    return out


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["hr", "service", "agent", "reviewer"])
def test_queries_do_not_grow_with_the_sections(world, role):
    client = client_for(world, role)
    path = template_url(world.campaign.pk)
    small, body = count_queries(client, path)
    assert len(body["sections"]) == len(default_sections())
    Campaign.objects.filter(pk=world.campaign.pk).update(template_snapshot=big_snapshot(20))
    large, body = count_queries(client, path)
    assert len(body["sections"]) == 20 * (len(default_sections()) - 1)
    assert small == large <= 8


# --- documentation ------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_schema_documents_the_endpoint(world):
    response = client_for(world, "hr").get(f"{API}schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    schema = response.json()
    operation = schema["paths"]["/api/v1/campaigns/{id}/template/"]["get"]
    assert operation["operationId"] == "campaigns_template"
    assert set(operation["responses"]) == {"200", "401", "404"}
    ref = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    components = schema["components"]["schemas"]
    assert set(components[ref]["properties"]) == {"campaign", "frozen", "sections"}
    section = components["CampaignTemplateSection"]["properties"]
    assert set(section) == SECTION_KEYS
