"""The "Annuaire" in the Wagtail admin: org units and agents, their permissions, searches,
filters, service-backed edits and query counts."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse
from wagtail.admin.menu import admin_menu
from wagtail.models import ModelLogEntry
from wagtail.permissions import policy_registry

from cms import services
from cms.choices import Category, EmploymentStatus
from cms.models import Agent, OrgUnit
from tests.factories import AgentFactory, OrgUnitFactory, UserFactory

ROLES = ["anonymous", "agent", "interviewer", "training_editor", "recruiter", "hr", "superuser"]
ALLOWED = {"hr", "superuser"}
GROUPS = {
    "agent": [],
    "interviewer": ["Interviewers"],
    "training_editor": ["Training editors"],
    "recruiter": ["Recruiters"],
    "hr": ["HR"],
}
# Roles that may open the admin (and are only refused the directory). Interviewers open
# it for their scorecards (recruitment migration 0002).
ADMIN_ACCESS = {"training_editor", "recruiter", "interviewer"}
ENDPOINTS = {
    "orgunit_list": ("annuaire_unites:index", None),
    "orgunit_add": ("annuaire_unites:add", None),
    "orgunit_edit": ("annuaire_unites:edit", "unit"),
    "agent_list": ("annuaire_agents:index", None),
    "agent_add": ("annuaire_agents:add", None),
    "agent_edit": ("annuaire_agents:edit", "agent"),
    "agent_history": ("annuaire_agents:history", "agent"),
}


def make_user(role):
    if role == "anonymous":
        return None
    if role == "superuser":
        return UserFactory(username="root", is_superuser=True, is_staff=True)
    return UserFactory(username=f"role_{role}", groups=GROUPS[role])


def login(client, role):
    user = make_user(role)
    if user is not None:
        client.force_login(user)
    return user


@pytest.fixture
def hr_client(client, db):
    client.force_login(make_user("hr"))
    return client


def agent_post_data(**overrides):
    data = {
        "last_name": "Durand",
        "first_name": "Camille",
        "email": "camille.durand@example.org",
        "employee_number": "M900001",
        "org_unit": "",
        "manager": "",
        "job_title": "Gestionnaire RH",
        "category": Category.B,
        "corps": "Secrétaires administratifs",
        "grade": "Secrétaire administratif",
        "employment_status": EmploymentStatus.TITULAIRE,
        "active": "on",
    }
    data.update(overrides)
    return data


def agent_edit_data(agent, **overrides):
    data = agent_post_data(
        last_name=agent.user.last_name,
        first_name=agent.user.first_name,
        email=agent.user.email,
        employee_number=agent.employee_number,
        org_unit=agent.org_unit_id,
        manager=agent.manager_id or "",
        job_title=agent.job_title,
        category=agent.category,
        corps=agent.corps,
        grade=agent.grade,
        employment_status=agent.employment_status,
    )
    if not agent.active:
        data.pop("active")
    data.update(overrides)
    return data


# --- permission matrix


@pytest.mark.django_db
@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
@pytest.mark.parametrize("role", ROLES)
def test_permission_matrix(client, org, role, endpoint):
    target = {"unit": org["service"], "agent": AgentFactory(org_unit=org["bureau"])}
    url_name, arg = ENDPOINTS[endpoint]
    url = reverse(url_name, args=[target[arg].pk] if arg else None)
    login(client, role)

    response = client.get(url)

    if role in ALLOWED:
        assert response.status_code == 200
    elif role in ADMIN_ACCESS:
        # Wagtail's "permission denied": back to the dashboard with an error message.
        assert response.status_code == 302
        assert response["Location"] == reverse("wagtailadmin_home")
    else:
        # No admin access at all (or not logged in): sent to the login page.
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("wagtailadmin_login"))


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_only_hr_can_create_through_post(client, org, role):
    login(client, role)
    response = client.post(
        reverse("annuaire_unites:add"), {"name": "Bureau X", "code": "X-1", "kind": "bureau", "parent": ""}
    )
    created = OrgUnit.objects.filter(code="X-1").exists()
    assert created is (role in ALLOWED)
    if role not in ALLOWED:
        assert response.status_code == 302

    response = client.post(reverse("annuaire_agents:add"), agent_post_data(org_unit=org["bureau"].pk))
    assert Agent.objects.filter(employee_number="M900001").exists() is (role in ALLOWED)


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["agent", "interviewer", "training_editor", "recruiter", "hr", "superuser"])
def test_directory_menu_only_for_roles_with_permission(role):
    request = RequestFactory().get("/admin/")
    request.user = make_user(role)
    names = {item.name for item in admin_menu.menu_items_for_request(request)}
    assert ("annuaire" in names) is (role in ALLOWED)


@pytest.mark.django_db
def test_no_one_deletes_directory_rows(client, org):
    agent = AgentFactory(org_unit=org["bureau"])
    superuser = make_user("superuser")
    for model in (OrgUnit, Agent):
        assert not policy_registry.get_by_type(model).user_has_permission(superuser, "delete")
    with pytest.raises(NoReverseMatch):
        reverse("annuaire_agents:delete", args=[agent.pk])
    with pytest.raises(NoReverseMatch):
        reverse("annuaire_unites:delete", args=[org["bureau"].pk])
    with pytest.raises(NoReverseMatch):
        reverse("annuaire_agents:copy", args=[agent.pk])
    client.force_login(superuser)
    response = client.get(reverse("annuaire_agents:edit", args=[agent.pk]))
    assert response.status_code == 200
    assert "/delete/" not in response.text
    assert response.context["can_delete"] is False


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["hr", "training_editor", "superuser", "hr_with_permission"])
def test_theme_settings_need_their_own_permission(client, role):
    """HR hold the permission to edit the site's theme (issue 13: high contrast for whoever
    needs it, set by HR); training editors do not."""
    user = login(client, "hr" if role == "hr_with_permission" else role)
    if role == "hr_with_permission":
        user.user_permissions.add(Permission.objects.get(codename="change_themesettings"))
    url = reverse("wagtailsettings:edit", args=["themes", "themesettings"])

    response = client.get(url, follow=True)

    if role in {"superuser", "hr_with_permission", "hr"}:
        assert response.status_code == 200
        assert "theme" in response.context["form"].fields
    else:
        assert response.redirect_chain == [(reverse("wagtailadmin_home"), 302)]
        assert "form" not in response.context


# --- org unit list


@pytest.mark.django_db
def test_org_unit_list_in_tree_order_with_counts(hr_client, org):
    AgentFactory.create_batch(2, org_unit=org["bureau"])
    AgentFactory(org_unit=org["bureau"], active=False)
    response = hr_client.get(reverse("annuaire_unites:index"))
    assert response.status_code == 200
    rows = list(response.context["object_list"])
    assert [unit.code for unit in rows] == ["DRH", "DRH-SF", "DRH-SF-B1"]
    counts = {unit.code: unit.agent_count for unit in rows}
    assert counts == {"DRH": 0, "DRH-SF": 0, "DRH-SF-B1": 2}  # active agents only
    parents = {unit.code: unit.parent_name for unit in rows}
    assert parents == {
        "DRH": None,
        "DRH-SF": "Direction des ressources humaines",
        "DRH-SF-B1": "Service de la formation",
    }
    assert "Bureau des parcours" in response.text


@pytest.mark.django_db
def test_org_unit_search_and_kind_filter(hr_client, org):
    OrgUnitFactory(code="DFIN", name="Direction des finances", kind="direction")
    url = reverse("annuaire_unites:index")

    by_name = hr_client.get(url, {"q": "formation"}).context["object_list"]
    assert [unit.code for unit in by_name] == ["DRH-SF"]
    by_code = hr_client.get(url, {"q": "dfin"}).context["object_list"]
    assert [unit.code for unit in by_code] == ["DFIN"]
    directions = hr_client.get(url, {"kind": "direction"}).context["object_list"]
    assert {unit.code for unit in directions} == {"DRH", "DFIN"}


@pytest.mark.django_db
def test_org_unit_list_query_count_does_not_grow(hr_client):
    def count_queries():
        with CaptureQueriesContext(connection) as ctx:
            response = hr_client.get(reverse("annuaire_unites:index"))
        assert response.status_code == 200
        return len(ctx.captured_queries), len(response.context["object_list"])

    root = OrgUnitFactory()
    for _ in range(4):
        AgentFactory(org_unit=OrgUnitFactory(parent=root))
    few, shown = count_queries()
    assert shown == 5
    for _ in range(25):
        AgentFactory(org_unit=OrgUnitFactory(parent=root))
    many, shown = count_queries()
    assert shown == 30
    assert many == few


# --- agent list


@pytest.fixture
def directory(org):
    rh = AgentFactory(
        user__last_name="Lefebvre", user__first_name="Anne", employee_number="M000777", org_unit=org["direction"]
    )
    return {
        "rh": rh,
        "dupont": AgentFactory(
            user__last_name="Dupont",
            user__first_name="Marie",
            employee_number="M123456",
            org_unit=org["bureau"],
            category=Category.A,
            manager=rh,
        ),
        "martin": AgentFactory(
            user__last_name="Martin",
            user__first_name="Paul",
            employee_number="M654321",
            org_unit=org["service"],
            category=Category.C,
            employment_status=EmploymentStatus.CONTRACTUEL,
            active=False,
        ),
        "elsewhere": AgentFactory(
            user__last_name="Bernard",
            user__first_name="Luc",
            employee_number="M111111",
            org_unit=OrgUnitFactory(code="DFIN", name="Direction des finances"),
            category=Category.A,
        ),
    }


def listed(client, **params):
    response = client.get(reverse("annuaire_agents:index"), params)
    assert response.status_code == 200
    return {agent.employee_number for agent in response.context["object_list"]}


@pytest.mark.django_db
def test_agent_search(hr_client, directory):
    assert listed(hr_client, q="M123456") == {"M123456"}
    assert listed(hr_client, q="dupont") == {"M123456"}
    assert listed(hr_client, q="Marie Dupont") == {"M123456"}
    assert listed(hr_client, q="paul") == {"M654321"}
    assert listed(hr_client, q=directory["elsewhere"].user.email) == {"M111111"}
    assert listed(hr_client, q="personne") == set()


@pytest.mark.django_db
def test_agent_filters(hr_client, org, directory):
    assert listed(hr_client, category="A") == {"M123456", "M111111"}
    assert listed(hr_client, category="C") == {"M654321"}
    # The org unit filter takes the whole subtree: the direction, its service and bureau.
    hr_agent = {a.employee_number for a in Agent.objects.filter(user__username="role_hr")}
    assert listed(hr_client, org_unit=org["direction"].pk) == {"M000777", "M123456", "M654321"} | hr_agent
    assert listed(hr_client, org_unit=org["service"].pk) == {"M123456", "M654321"}
    assert listed(hr_client, org_unit=org["bureau"].pk) == {"M123456"}
    assert listed(hr_client, employment_status="contractuel") == {"M654321"}
    assert "M654321" not in listed(hr_client, active="true")
    assert listed(hr_client, active="false") == {"M654321"}
    assert listed(hr_client, org_unit=org["direction"].pk, category="A") == {"M123456"}


@pytest.mark.django_db
def test_agent_list_shows_columns(hr_client, directory):
    response = hr_client.get(reverse("annuaire_agents:index"), {"q": "M123456"})
    text = response.text
    for expected in ("Marie Dupont", "M123456", "Bureau des parcours", "Chargé de mission", "Anne Lefebvre"):
        assert expected in text


@pytest.mark.django_db
def test_agent_list_query_count_does_not_grow(hr_client, org):
    def count_queries():
        with CaptureQueriesContext(connection) as ctx:
            response = hr_client.get(reverse("annuaire_agents:index"))
        assert response.status_code == 200
        return len(ctx.captured_queries), len(response.context["object_list"])

    boss = AgentFactory(org_unit=org["direction"])
    AgentFactory.create_batch(4, org_unit=org["bureau"], manager=boss)
    few, shown = count_queries()
    assert shown == 5
    for _ in range(25):
        AgentFactory(org_unit=OrgUnitFactory(parent=org["service"]), manager=boss)
    many, shown = count_queries()
    assert shown == 30
    assert many == few


# --- org unit edits


@pytest.mark.django_db
def test_create_org_unit_under_a_parent(hr_client, org):
    response = hr_client.post(
        reverse("annuaire_unites:add"),
        {"name": "Bureau des concours", "code": "DRH-SF-B2", "kind": "bureau", "parent": org["service"].pk},
    )
    assert response.status_code == 302
    unit = OrgUnit.objects.get(code="DRH-SF-B2")
    service = OrgUnit.objects.get(pk=org["service"].pk)
    assert unit.get_parent() == service
    assert unit.path.startswith(service.path) and unit.depth == service.depth + 1
    assert service.numchild == 2
    assert ModelLogEntry.objects.filter(object_id=str(unit.pk), action="wagtail.create").exists()


@pytest.mark.django_db
def test_create_root_org_unit_and_duplicate_code(hr_client, org):
    url = reverse("annuaire_unites:add")
    assert (
        hr_client.post(url, {"name": "Direction X", "code": "DX", "kind": "direction", "parent": ""}).status_code == 302
    )
    assert OrgUnit.objects.get(code="DX").depth == 1

    response = hr_client.post(url, {"name": "Doublon", "code": "DX", "kind": "direction", "parent": ""})
    assert response.status_code == 200
    assert "code" in response.context["form"].errors
    assert OrgUnit.objects.filter(code="DX").count() == 1


@pytest.mark.django_db
def test_edit_org_unit_moves_subtree(hr_client, org):
    other = OrgUnitFactory(code="DFIN", name="Direction des finances")
    service = org["service"]
    response = hr_client.post(
        reverse("annuaire_unites:edit", args=[service.pk]),
        {"name": "Service formation", "code": "DRH-SF", "kind": "service", "parent": other.pk},
    )
    assert response.status_code == 302
    service.refresh_from_db()
    other.refresh_from_db()
    bureau = OrgUnit.objects.get(pk=org["bureau"].pk)
    assert service.name == "Service formation"
    assert service.get_parent() == other
    assert bureau.get_parent() == service and bureau.path.startswith(other.path)
    assert OrgUnit.objects.get(pk=org["direction"].pk).numchild == 0


@pytest.mark.django_db
@pytest.mark.parametrize("target", ["direction", "service", "bureau"])
def test_moving_a_unit_under_itself_or_a_descendant_is_refused(hr_client, org, target):
    direction = org["direction"]
    before = list(OrgUnit.objects.order_by("pk").values_list("pk", "path", "depth", "numchild", "name"))
    response = hr_client.post(
        reverse("annuaire_unites:edit", args=[direction.pk]),
        {"name": "Renommée", "code": "DRH", "kind": "direction", "parent": org[target].pk},
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert list(errors) == ["parent"]
    assert "sous-unité" in errors["parent"][0] or "elle-même" in errors["parent"][0]
    after = list(OrgUnit.objects.order_by("pk").values_list("pk", "path", "depth", "numchild", "name"))
    assert after == before


@pytest.mark.django_db
def test_update_org_unit_service_refuses_descendant(org):
    with pytest.raises(ValidationError) as excinfo:
        services.update_org_unit(org_unit=org["service"], code="DRH-SF", name="X", kind="service", parent=org["bureau"])
    assert list(excinfo.value.message_dict) == ["parent"]
    assert OrgUnit.objects.get(pk=org["service"].pk).name == "Service de la formation"


@pytest.mark.django_db
def test_update_org_unit_to_root_and_code_change_keeps_tree_valid(org):
    services.update_org_unit(org_unit=org["service"], code="A-SF", name="Service", kind="service", parent=None)
    service = OrgUnit.objects.get(pk=org["service"].pk)
    assert service.depth == 1
    assert OrgUnit.objects.get(pk=org["bureau"].pk).get_parent() == service
    services.update_org_unit(org_unit=org["bureau"], code="Z-B1", name="Bureau", kind="bureau", parent=service)
    assert OrgUnit.find_problems() == ([], [], [], [], [])


@pytest.mark.django_db
def test_services_check_the_actor_permission(org):
    from django.core.exceptions import PermissionDenied

    editor = make_user("training_editor")
    with pytest.raises(PermissionDenied):
        services.create_org_unit(code="X", name="X", kind="bureau", actor=editor)
    with pytest.raises(PermissionDenied):
        services.save_agent(employee_number="M1", first_name="A", last_name="B", org_unit=org["bureau"], actor=editor)
    assert not OrgUnit.objects.filter(code="X").exists()


# --- agent edits


@pytest.mark.django_db
def test_create_agent_creates_the_user(hr_client, org, chain):
    response = hr_client.post(
        reverse("annuaire_agents:add"),
        agent_post_data(employee_number="M900001", org_unit=org["bureau"].pk, manager=chain["manager"].pk),
    )
    assert response.status_code == 302, response.context["form"].errors
    agent = Agent.objects.select_related("user").get(employee_number="M900001")
    assert agent.user.username == "m900001"
    assert (agent.user.first_name, agent.user.last_name, agent.user.email) == (
        "Camille",
        "Durand",
        "camille.durand@example.org",
    )
    assert not agent.user.has_usable_password()
    assert agent.manager == chain["manager"]
    assert agent.org_unit == org["bureau"]
    assert ModelLogEntry.objects.filter(object_id=str(agent.pk), action="wagtail.create").exists()


@pytest.mark.django_db
def test_create_agent_refuses_taken_username_and_changes_nothing(hr_client, org):
    UserFactory(username="m900001")
    users = get_user_model().objects.count()
    response = hr_client.post(
        reverse("annuaire_agents:add"), agent_post_data(employee_number="M900001", org_unit=org["bureau"].pk)
    )
    assert response.status_code == 200
    assert "employee_number" in response.context["form"].errors
    assert get_user_model().objects.count() == users
    assert not Agent.objects.filter(employee_number="M900001").exists()


@pytest.mark.django_db
def test_edit_agent_updates_user_fields(hr_client, chain):
    agent = chain["agent"]
    response = hr_client.post(
        reverse("annuaire_agents:edit", args=[agent.pk]),
        agent_edit_data(agent, last_name="Nouveau-Nom", email="nouveau@example.org", manager=chain["reviewer"].pk),
    )
    assert response.status_code == 302
    agent.refresh_from_db()
    agent.user.refresh_from_db()
    assert agent.user.last_name == "Nouveau-Nom"
    assert agent.user.email == "nouveau@example.org"
    assert agent.user.username == "agent"  # the login does not change
    assert agent.manager == chain["reviewer"]


@pytest.mark.django_db
def test_edit_agent_form_shows_current_values(hr_client, chain):
    agent = chain["agent"]
    response = hr_client.get(reverse("annuaire_agents:edit", args=[agent.pk]))
    form = response.context["form"]
    assert form.initial["last_name"] == agent.user.last_name
    assert form.initial["email"] == agent.user.email
    assert chain["manager"].full_name in response.text  # the chooser shows the current N+1


@pytest.mark.django_db
@pytest.mark.parametrize("new_manager", ["agent", "reviewer_self"])
def test_manager_cycle_is_refused_and_changes_nothing(hr_client, chain, new_manager):
    # reviewer (N+2) → manager (N+1) → agent. Making the agent (or the reviewer himself)
    # the reviewer's manager would close a loop.
    reviewer = chain["reviewer"]
    manager_pk = chain["agent"].pk if new_manager == "agent" else reviewer.pk
    before = list(Agent.objects.order_by("pk").values_list("pk", "manager_id", "updated_at"))
    response = hr_client.post(
        reverse("annuaire_agents:edit", args=[reviewer.pk]),
        agent_edit_data(reviewer, manager=manager_pk, last_name="Changé"),
    )
    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["manager"]
    assert list(Agent.objects.order_by("pk").values_list("pk", "manager_id", "updated_at")) == before
    reviewer.user.refresh_from_db()
    assert reviewer.user.last_name != "Changé"


@pytest.mark.django_db
def test_save_agent_service_refuses_cycle(chain):
    reviewer = chain["reviewer"]
    with pytest.raises(ValidationError) as excinfo:
        services.save_agent(
            agent=reviewer,
            employee_number=reviewer.employee_number,
            first_name="X",
            last_name="Y",
            org_unit=reviewer.org_unit,
            manager=chain["agent"],
        )
    assert list(excinfo.value.message_dict) == ["manager"]
    reviewer.refresh_from_db()
    assert reviewer.manager_id is None
    assert reviewer.user.first_name != "X"


@pytest.mark.django_db
def test_service_errors_reach_the_form(hr_client, chain, monkeypatch):
    """A ValidationError raised by the service (e.g. after a concurrent change) is shown on the
    form, on the field it names, and the transaction is rolled back."""

    def refuse(**kwargs):
        kwargs["agent"].user.save()  # a write that must be rolled back
        raise ValidationError({"org_unit": "Unité fermée entre-temps."})

    monkeypatch.setattr(services, "save_agent", refuse)
    agent = chain["agent"]
    response = hr_client.post(reverse("annuaire_agents:edit", args=[agent.pk]), agent_edit_data(agent))
    assert response.status_code == 200
    assert response.context["form"].errors["org_unit"] == ["Unité fermée entre-temps."]


# --- agent chooser


@pytest.mark.django_db
def test_agent_chooser_searches_and_respects_visibility(client, chain):
    client.force_login(chain["hr"].user)
    response = client.get(reverse("annuaire_choix_agent:choose_results"), {"q": chain["manager"].employee_number})
    assert response.status_code == 200
    assert [agent.pk for agent in response.context["results"]] == [chain["manager"].pk]

    client.force_login(make_user("training_editor"))  # no agent profile: sees nobody
    response = client.get(reverse("annuaire_choix_agent:choose_results"))
    assert list(response.context["results"]) == []
    response = client.get(reverse("annuaire_choix_agent:chosen", args=[chain["manager"].pk]))
    assert response.status_code == 404


@pytest.mark.django_db
def test_the_default_moderation_workflow_has_a_french_name():
    from wagtail.models import Task, Workflow

    assert not Workflow.objects.filter(name="Moderators approval").exists()
    assert not Task.objects.filter(name="Moderators approval").exists()
    assert Workflow.objects.filter(name="Validation par les modérateurs").exists()


@pytest.mark.django_db
def test_the_admin_runs_the_directory_listeners_like_an_import(client, org):
    """Creating an agent in the admin gives the newcomer their unit's mandatory courses, and a
    departure recorded there reaches the appraisal listener, as after a CSV import or SCIM."""
    from cms.importer import register_import_listener, unregister_import_listener

    calls = []

    def listener(created, updated):
        calls.append((created, updated))

    register_import_listener(listener)
    try:
        login(client, "hr")
        client.post(reverse("annuaire_agents:add"), agent_post_data(org_unit=org["bureau"].pk))
        agent = Agent.objects.get(employee_number="M900001")
        assert calls == [([agent.pk], [])]

        client.post(reverse("annuaire_agents:edit", args=[agent.pk]), agent_edit_data(agent, active=""))
        agent.refresh_from_db()
        assert agent.active is False
        assert calls[-1] == ([], [agent.pk])
    finally:
        unregister_import_listener(listener)
