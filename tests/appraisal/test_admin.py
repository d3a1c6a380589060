"""Wagtail admin "Entretiens": campaigns (list, form, launch, campaign page) and appraisal
templates (snippet with revisions and preview); permissions from migration 0002, the launch
task, the launch report and query counts."""

import datetime

import pytest
from django.contrib.auth.models import Group
from django.contrib.messages import get_messages
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from wagtail.admin.menu import admin_menu
from wagtail.models import ModelLogEntry, Revision

from appraisal import launch, services, tasks
from appraisal.choices import AppraisalState as S
from appraisal.choices import CampaignStatus
from appraisal.defaults import DEFAULT_TEMPLATE_NAME, default_sections, ensure_default_template
from appraisal.models import Appraisal, AppraisalTemplate, Campaign
from cms import roles
from tests.appraisal.conftest import make_campaign
from tests.factories import AgentFactory, UserFactory

ROLES = ["anonymous", "agent", "manager", "interviewer", "recruiter", "training_editor", "hr", "superuser"]
GROUPS = {
    "interviewer": [roles.INTERVIEWERS],
    "recruiter": [roles.RECRUITERS],
    "training_editor": [roles.TRAINING_EDITORS],
    "hr": [roles.HR],
}
ALLOWED = {"hr", "superuser"}
CAMPAIGNS = "entretiens_campagnes"


def make_user(role, chain):
    if role == "anonymous":
        return None
    if role == "superuser":
        return UserFactory(username="root", is_superuser=True, is_staff=True)
    if role in ("agent", "manager"):
        return chain[role].user
    return UserFactory(username=f"role_{role}", groups=GROUPS[role])


def login(client, role, chain):
    user = make_user(role, chain)
    if user is not None:
        client.force_login(user)
    return user


def assert_denied(response, user):
    assert response.status_code == 302
    if user is not None and user.has_perm("wagtailadmin.access_admin"):
        assert response["Location"] == reverse("wagtailadmin_home")  # Wagtail's "permission denied"
    else:
        assert response["Location"].startswith(reverse("wagtailadmin_login"))


def template_urls(template):
    viewset = AppraisalTemplate.snippet_viewset
    return [
        reverse(viewset.get_url_name("list")),
        reverse(viewset.get_url_name("add")),
        reverse(viewset.get_url_name("edit"), args=[template.pk]),
        reverse(viewset.get_url_name("history"), args=[template.pk]),
    ]


def campaign_urls(campaign):
    return [
        reverse(f"{CAMPAIGNS}:index"),
        reverse(f"{CAMPAIGNS}:add"),
        reverse(f"{CAMPAIGNS}:edit", args=[campaign.pk]),
        reverse(f"{CAMPAIGNS}:inspect", args=[campaign.pk]),
        reverse(f"{CAMPAIGNS}:history", args=[campaign.pk]),
        reverse(f"{CAMPAIGNS}:launch", args=[campaign.pk]),  # the launch's confirmation page
    ]


def campaign_post_data(template, units, **overrides):
    today = timezone.localdate()
    data = {
        "name": "Campagne 2026",
        "year": str(today.year),
        "template": str(template.pk),
        "org_units": [str(u.pk) for u in units],
        "starts_on": today.isoformat(),
        "interviews_until": (today + datetime.timedelta(days=60)).isoformat(),
        "ends_on": (today + datetime.timedelta(days=90)).isoformat(),
        "notice_days": "8",
        "agent_return_days": "15",
        "notification_limit_days": "15",
        "revision_window_days": "15",
        "revision_answer_days": "15",
        "cap_referral_months": "1",
    }
    data.update(overrides)
    return data


def sections_post_data(raw, prefix="sections"):
    """The POST data of Wagtail's StreamField widget for raw StreamField JSON."""
    data = {f"{prefix}-count": str(len(raw))}
    for i, block in enumerate(raw):
        p = f"{prefix}-{i}"
        data.update({f"{p}-type": block["type"], f"{p}-id": block["id"], f"{p}-deleted": "", f"{p}-order": str(i)})
        for key, value in block["value"].items():
            if isinstance(value, list):  # ListBlock of StructBlocks
                data[f"{p}-value-{key}-count"] = str(len(value))
                for j, item in enumerate(value):
                    q = f"{p}-value-{key}-{j}"
                    data.update({f"{q}-id": item["id"], f"{q}-deleted": "", f"{q}-order": str(j)})
                    for name, text in item["value"].items():
                        data[f"{q}-value-{name}"] = text
            elif isinstance(value, bool):
                if value:
                    data[f"{p}-value-{key}"] = "on"
            else:
                data[f"{p}-value-{key}"] = value
    return data


@pytest.fixture
def draft_campaign(chain, org):
    return make_campaign(org)


@pytest.fixture
def launch_spy(monkeypatch):
    """Counts the launch tasks enqueued (the immediate backend still runs them)."""

    class Spy:
        def __init__(self, task):
            self.task, self.calls = task, []

        def enqueue(self, *args, **kwargs):
            self.calls.append(args)
            return self.task.enqueue(*args, **kwargs)

        def __getattr__(self, name):
            return getattr(self.task, name)

    spy = Spy(tasks.launch_campaign)
    monkeypatch.setattr(tasks, "launch_campaign", spy)  # a Task is a frozen dataclass
    return spy.calls


# --------------------------------------------------------------------------- migration


@pytest.mark.django_db
def test_migration_gives_hr_the_appraisal_permissions():
    codenames = set(Group.objects.get(name=roles.HR).permissions.filter(
        content_type__app_label="appraisal").values_list("codename", flat=True))
    assert codenames == {
        "add_appraisaltemplate", "change_appraisaltemplate", "view_appraisaltemplate",
        "add_campaign", "change_campaign", "view_campaign", "view_all_appraisals",
    }
    for name in (roles.TRAINING_EDITORS, roles.RECRUITERS, roles.INTERVIEWERS):
        assert not Group.objects.get(name=name).permissions.filter(content_type__app_label="appraisal").exists()


@pytest.mark.django_db
def test_migration_creates_the_default_template_with_the_sections_of_appraisal_defaults():
    template = AppraisalTemplate.objects.get(name=DEFAULT_TEMPLATE_NAME)
    assert list(template.sections.raw_data) == default_sections()
    assert ensure_default_template().pk == template.pk  # found, not created twice
    assert AppraisalTemplate.objects.count() == 1


# --------------------------------------------------------------------------- menu and permissions


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES[1:])
def test_entretiens_menu_for_hr_only(role, chain):
    reverse("wagtailadmin_home")  # viewsets register their menu items when the admin URLs load
    admin_menu.__dict__.pop("registered_menu_items", None)
    request = RequestFactory().get("/admin/")
    request.user = make_user(role, chain)
    items = {item.name: item for item in admin_menu.menu_items_for_request(request)}
    assert ("entretiens" in items) is (role in ALLOWED)
    if role in ALLOWED:
        names = {sub.name for sub in items["entretiens"].menu.menu_items_for_request(request)}
        assert {"campagnes-entretien", "modeles-compte-rendu", "tableaux-de-bord-entretiens"} <= names


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_campaign_and_template_views_permission_matrix(client, chain, draft_campaign, role):
    user = login(client, role, chain)
    for url in campaign_urls(draft_campaign) + template_urls(ensure_default_template()):
        response = client.get(url)
        if role in ALLOWED:
            assert response.status_code == 200, url
        else:
            assert_denied(response, user)


@pytest.mark.django_db
@pytest.mark.parametrize("role", [r for r in ROLES if r not in ALLOWED])
def test_launch_is_denied_to_every_other_role(client, chain, draft_campaign, role, launch_spy):
    user = login(client, role, chain)
    response = client.post(reverse(f"{CAMPAIGNS}:launch", args=[draft_campaign.pk]))
    assert_denied(response, user)
    assert not launch_spy and not Appraisal.objects.exists()
    draft_campaign.refresh_from_db()
    assert draft_campaign.status == CampaignStatus.DRAFT


@pytest.mark.django_db
def test_nothing_is_deleted_in_the_admin(chain):
    for name in ("delete", "copy", "usage"):
        with pytest.raises(NoReverseMatch):
            reverse(f"{CAMPAIGNS}:{name}", args=[1])


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["training_editor", "recruiter"])
def test_other_roles_cannot_post_the_forms(client, chain, org, role):
    user = login(client, role, chain)
    response = client.post(reverse(f"{CAMPAIGNS}:add"), campaign_post_data(ensure_default_template(), [org["direction"]]))
    assert_denied(response, user)
    assert not Campaign.objects.exists()


# --------------------------------------------------------------------------- campaign form


@pytest.mark.django_db
def test_hr_creates_a_campaign_and_lands_on_its_page(client, chain, org):
    login(client, "hr", chain)
    response = client.post(
        reverse(f"{CAMPAIGNS}:add"),
        campaign_post_data(ensure_default_template(), [org["direction"]], categories=["A", "C"]),
    )
    campaign = Campaign.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse(f"{CAMPAIGNS}:inspect", args=[campaign.pk])
    assert campaign.status == CampaignStatus.DRAFT and campaign.categories == ["A", "C"]
    assert list(campaign.org_units.all()) == [org["direction"]]
    assert not Appraisal.objects.exists()  # nothing happens before the launch
    html = client.get(response["Location"]).content.decode()
    assert "Lancer la campagne" in html and "pas encore lancée" in html


@pytest.mark.django_db
@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"interviews_until": "2000-01-01"}, "interviews_until"),
        ({"ends_on": "2000-01-01"}, "ends_on"),
        ({"year": "1999"}, "year"),
        ({"categories": ["Z"]}, "categories"),
        ({"org_units": []}, "org_units"),
        ({"name": ""}, "name"),
    ],
)
def test_bad_campaign_input_names_the_field_and_creates_nothing(client, chain, org, overrides, field):
    login(client, "hr", chain)
    response = client.post(
        reverse(f"{CAMPAIGNS}:add"), campaign_post_data(ensure_default_template(), [org["direction"]], **overrides)
    )
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not Campaign.objects.exists()


@pytest.mark.django_db
def test_the_template_is_locked_once_the_campaign_is_launched(client, chain, draft_campaign, campaign):
    login(client, "hr", chain)
    form = client.get(reverse(f"{CAMPAIGNS}:edit", args=[draft_campaign.pk])).context["form"]
    assert not form.fields["template"].disabled
    form = client.get(reverse(f"{CAMPAIGNS}:edit", args=[campaign.pk])).context["form"]
    assert form.fields["template"].disabled


# --------------------------------------------------------------------------- launch


@pytest.mark.django_db
def test_launch_enqueues_the_task_creates_the_appraisals_and_lists_agents_without_manager(
    client, chain, draft_campaign, launch_spy, django_capture_on_commit_callbacks
):
    hr = login(client, "hr", chain)
    url = reverse(f"{CAMPAIGNS}:launch", args=[draft_campaign.pk])
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(url)
    assert response.status_code == 302
    assert response["Location"] == reverse(f"{CAMPAIGNS}:inspect", args=[draft_campaign.pk])
    # enqueued by an on-commit callback (beside the actions' events), once
    assert [c.__qualname__ for c in callbacks].count("RequestLaunch.apply.<locals>.<lambda>") == 1
    assert launch_spy == [(draft_campaign.pk, hr.pk)]

    draft_campaign.refresh_from_db()
    assert draft_campaign.status == CampaignStatus.RUNNING and draft_campaign.launch_progress == 1.0
    evaluated = dict(Appraisal.objects.filter(campaign=draft_campaign).values_list("agent_id", "evaluator_id"))
    assert evaluated == {
        chain["manager"].pk: chain["reviewer"].pk,
        chain["agent"].pk: chain["manager"].pk,
        chain["other_agent"].pk: chain["other_manager"].pk,
    }
    assert draft_campaign.launch_report["launched_by"] == hr.pk
    without = {chain[k].employee_number for k in ("reviewer", "other_manager", "hr")}
    assert {row["employee_number"] for row in draft_campaign.launch_report["without_manager"]} == without
    assert ModelLogEntry.objects.filter(action=launch.LAUNCH_ACTION, object_id=str(draft_campaign.pk)).exists()

    html = client.get(response["Location"]).content.decode()
    assert "Agents sans responsable (N+1) : 3" in html
    for key in ("reviewer", "other_manager", "hr"):
        assert chain[key].employee_number in html and chain[key].full_name in html
        assert reverse("annuaire_agents:edit", args=[chain[key].pk]) in html
    assert "Relancer : créer les entretiens manquants" in html


@pytest.mark.django_db
def test_relaunch_after_hr_fixed_a_manager_creates_only_the_missing_appraisal(
    client, chain, campaign, launch_spy, django_capture_on_commit_callbacks
):
    login(client, "hr", chain)
    before = Appraisal.objects.count()
    chain["other_manager"].manager = chain["reviewer"]
    chain["other_manager"].save()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse(f"{CAMPAIGNS}:launch", args=[campaign.pk]))
    campaign.refresh_from_db()
    assert Appraisal.objects.count() == before + 1
    assert campaign.launch_report["created"] == 1 and len(campaign.launch_report["without_manager"]) == 2


@pytest.mark.django_db
def test_a_second_launch_is_refused_while_the_first_is_queued_and_allowed_once_stale(
    client, chain, draft_campaign, launch_spy, django_capture_on_commit_callbacks
):
    login(client, "hr", chain)
    requested = timezone.now()
    Campaign.objects.filter(pk=draft_campaign.pk).update(
        status=CampaignStatus.LAUNCHING, launch_report={"requested_at": requested.isoformat(), "requested_by": 1}
    )
    url = reverse(f"{CAMPAIGNS}:launch", args=[draft_campaign.pk])
    response = client.post(url)
    assert not launch_spy
    assert "déjà en cours" in [str(m) for m in get_messages(response.wsgi_request)][-1]
    html = client.get(response["Location"]).content.decode()
    assert "en attente de traitement" in html and "Actualiser l'avancement" in html
    assert 'http-equiv="refresh"' not in html  # refreshed by the user, never automatically

    stale = requested - launch.STALE_LAUNCH_AFTER - datetime.timedelta(minutes=1)
    Campaign.objects.filter(pk=draft_campaign.pk).update(launch_report={"requested_at": stale.isoformat()})
    assert "Le lancement demandé n'a pas abouti" in client.get(response["Location"]).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url)
    assert len(launch_spy) == 1
    draft_campaign.refresh_from_db()
    assert draft_campaign.status == CampaignStatus.RUNNING


@pytest.mark.django_db
def test_a_closed_campaign_is_not_launched(client, chain, draft_campaign, launch_spy):
    login(client, "hr", chain)
    Campaign.objects.filter(pk=draft_campaign.pk).update(status=CampaignStatus.CLOSED)
    response = client.post(reverse(f"{CAMPAIGNS}:launch", args=[draft_campaign.pk]))
    assert "clôturée" in [str(m) for m in get_messages(response.wsgi_request)][-1]
    assert not launch_spy and not Appraisal.objects.exists()


@pytest.mark.django_db
def test_a_failed_launch_is_shown_and_can_be_launched_again(
    client, chain, draft_campaign, monkeypatch, django_capture_on_commit_callbacks
):
    login(client, "hr", chain)

    def broken(**kwargs):
        raise RuntimeError("base indisponible")

    monkeypatch.setattr(services, "launch_campaign", broken)
    url = reverse(f"{CAMPAIGNS}:launch", args=[draft_campaign.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url)
    html = client.get(response["Location"]).content.decode()
    assert "Le lancement a échoué" in html and "builtins.RuntimeError" in html and "Relancer la campagne" in html

    monkeypatch.undo()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url)
    draft_campaign.refresh_from_db()
    assert draft_campaign.status == CampaignStatus.RUNNING and Appraisal.objects.filter(campaign=draft_campaign).count() == 3


@pytest.mark.django_db
def test_launch_asks_for_confirmation_naming_what_will_happen(
    client, chain, draft_campaign, launch_spy, django_capture_on_commit_callbacks
):
    """The campaign page links to a confirmation page (GET, no JavaScript) that names the
    population and the frozen template; only its POST launches."""
    login(client, "hr", chain)
    launch_url = reverse(f"{CAMPAIGNS}:launch", args=[draft_campaign.pk])
    html = client.get(reverse(f"{CAMPAIGNS}:inspect", args=[draft_campaign.pk])).content.decode()
    assert f'href="{launch_url}"' in html and f'action="{launch_url}"' not in html
    response = client.get(launch_url)
    assert response.status_code == 200
    html = response.content.decode()
    # the chain's direction: six active agents, three of whom have a manager
    assert "chacun des 6 agents actifs de la population" in html
    assert "Direction des ressources humaines (DRH)" in html and "sera figé" in html
    assert f'action="{launch_url}"' in html and "Confirmer le lancement" in html
    assert not launch_spy and not Appraisal.objects.exists()
    draft_campaign.refresh_from_db()
    assert draft_campaign.status == CampaignStatus.DRAFT
    # once launched, the page speaks of a relaunch creating only what is missing
    with django_capture_on_commit_callbacks(execute=True):
        client.post(launch_url)
    html = client.get(launch_url).content.decode()
    assert "3 entretiens existent déjà" in html and "Confirmer la relance" in html


@pytest.mark.django_db
def test_launch_confirmation_of_a_closed_campaign_goes_back_with_a_sentence(client, chain, draft_campaign):
    Campaign.objects.filter(pk=draft_campaign.pk).update(status=CampaignStatus.CLOSED)
    login(client, "hr", chain)
    response = client.get(reverse(f"{CAMPAIGNS}:launch", args=[draft_campaign.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse(f"{CAMPAIGNS}:inspect", args=[draft_campaign.pk])
    assert "ne peut pas être lancée" in [str(m) for m in get_messages(response.wsgi_request)][0]


@pytest.mark.django_db
def test_campaign_admin_titles_are_single_and_french_with_agreement(client, chain, org):
    login(client, "hr", chain)
    html = client.get(reverse(f"{CAMPAIGNS}:index")).content.decode()
    assert "Ajouter une campagne" in html
    html = client.get(reverse(f"{CAMPAIGNS}:add")).content.decode()
    assert "<title>Ajouter une campagne - " in html and "Nouveau" not in html
    response = client.post(reverse(f"{CAMPAIGNS}:add"), campaign_post_data(ensure_default_template(), [org["direction"]]))
    campaign = Campaign.objects.get()
    messages = [str(m) for m in get_messages(response.wsgi_request)]
    assert messages[0].startswith(f"Campagne « {campaign} » créée.") and "créé(e)" not in messages[0]
    html = client.get(reverse(f"{CAMPAIGNS}:inspect", args=[campaign.pk])).content.decode()
    title = html.split("<title>")[1].split("</title>")[0]
    assert title.count(str(campaign)) == 1 and title.startswith(f"Campagne « {campaign} »")
    html = client.get(reverse(f"{CAMPAIGNS}:edit", args=[campaign.pk])).content.decode()
    title = html.split("<title>")[1].split("</title>")[0]
    assert title.count(str(campaign)) == 1 and title.startswith("Modifier la campagne")
    response = client.post(
        reverse(f"{CAMPAIGNS}:edit", args=[campaign.pk]), campaign_post_data(ensure_default_template(), [org["direction"]])
    )
    assert str(list(get_messages(response.wsgi_request))[0]).startswith(f"Campagne « {campaign} » modifiée.")


# --------------------------------------------------------------------------- templates


@pytest.mark.django_db
def test_template_preview_renders_the_blank_form(client, chain):
    template = ensure_default_template()
    login(client, "hr", chain)
    preview_url = reverse(AppraisalTemplate.snippet_viewset.get_url_name("preview_on_edit"), args=[template.pk])
    data = {"name": "Modèle des cadres", "description": "", **sections_post_data(template.sections.raw_data)}
    response = client.post(preview_url, data)
    assert response.status_code == 200 and response.json()["is_valid"], response.content
    response = client.get(preview_url)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Modèle des cadres" in html
    for section in default_sections():
        assert section["value"]["title"] in html.replace("&#x27;", "'")
    template.refresh_from_db()
    assert template.name == DEFAULT_TEMPLATE_NAME  # a preview saves nothing


@pytest.mark.django_db
def test_hr_edits_a_template_and_a_revision_is_kept(client, chain):
    template = ensure_default_template()
    login(client, "hr", chain)
    before = Revision.objects.for_instance(template).count()
    sections = list(template.sections.raw_data)
    sections[2] = {**sections[2], "value": {**sections[2]["value"], "title": "Manière de servir et sens du service"}}
    response = client.post(
        reverse(AppraisalTemplate.snippet_viewset.get_url_name("edit"), args=[template.pk]),
        {"name": template.name, "description": "Révisé", **sections_post_data(sections)},
    )
    assert response.status_code == 302, response.context["form"].errors if response.context else ""
    template.refresh_from_db()
    assert template.description == "Révisé"
    assert Revision.objects.for_instance(template).count() == before + 1
    assert template.latest_revision.as_object().sections.raw_data[2]["value"]["title"].startswith("Manière de servir et")


@pytest.mark.django_db
def test_a_launched_campaign_keeps_its_frozen_template(client, chain, campaign):
    template = campaign.template
    frozen = list(campaign.template_snapshot)
    login(client, "hr", chain)
    sections = [s for s in template.sections.raw_data if s["type"] != "career"]
    client.post(
        reverse(AppraisalTemplate.snippet_viewset.get_url_name("edit"), args=[template.pk]),
        {"name": template.name, "description": "", **sections_post_data(sections)},
    )
    campaign.refresh_from_db()
    assert campaign.template_snapshot == frozen


# --------------------------------------------------------------------------- query counts


def count_queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.django_db
def test_campaign_list_runs_a_fixed_number_of_queries(client, chain, org):
    login(client, "hr", chain)
    make_campaign(org)
    url = reverse(f"{CAMPAIGNS}:index")
    few = count_queries(client, url)
    for year in range(2020, 2026):
        services.launch_campaign(campaign_id=make_campaign(org, year=year).pk)
    many = count_queries(client, url)
    assert many == few


@pytest.mark.django_db
def test_campaign_page_runs_a_fixed_number_of_queries(client, chain, org, campaign):
    login(client, "hr", chain)
    url = reverse(f"{CAMPAIGNS}:inspect", args=[campaign.pk])
    few = count_queries(client, url)
    for _i in range(12):
        AgentFactory(org_unit=org["bureau"], manager=chain["manager"])
        AgentFactory(org_unit=org["bureau"])  # no manager: listed in the report
    services.launch_campaign(campaign_id=campaign.pk)
    assert Appraisal.objects.filter(campaign=campaign, state=S.CREATED).count() == 15
    many = count_queries(client, url)
    assert many == few
