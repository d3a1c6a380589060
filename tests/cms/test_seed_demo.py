"""``manage.py seed_demo``: the demo directory, the demo logins, idempotency, the seeder hook."""

import io
import random
import re
from collections import Counter

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.auth import authenticate, get_user_model
from django.core.management import CommandError, call_command
from django.test import RequestFactory, override_settings
from django.utils import translation
from wagtail.models import Page, Site

from cms import demo, roles, seed
from cms.choices import EmploymentStatus, OrgUnitKind
from cms.models import Agent, HomePage, OrgUnit
from tests.factories import OrgUnitFactory

PASSWORD = "mot-de-passe-des-tests"
GROUPS = {
    "hr": {roles.HR},
    "editor": {roles.TRAINING_EDITORS},
    "recruiter": {roles.RECRUITERS},
    "interviewer": {roles.INTERVIEWERS},
}


def run(*, agents=60, seed_value=None, stdout=None):
    out = stdout if stdout is not None else io.StringIO()
    args = ["seed_demo", "--agents", str(agents)]
    if seed_value is not None:
        args += ["--seed", str(seed_value)]
    with translation.override("fr"):
        call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def counts(*models):
    return {model._meta.label: model._default_manager.count() for model in models}


@pytest.fixture
def cms_seeders_only(monkeypatch):
    """Only cms's own seeders: these tests must not depend on the other apps' demo content
    (test_every_registered_seeder_is_idempotent covers them)."""
    monkeypatch.setattr(
        seed, "_SEEDERS", {key: value for key, value in seed._SEEDERS.items() if key.startswith("cms.")}
    )


@pytest.fixture
def demo_password(monkeypatch):
    monkeypatch.setenv("DEMO_PASSWORD", PASSWORD)
    return PASSWORD


@pytest.fixture
def seeded(db, cms_seeders_only, demo_password):
    return run()


def sign_in(**credentials):
    """``authenticate()`` as the login form calls it: django-axes (login throttling) needs the
    request, to key the attempt by username and client address."""
    return authenticate(RequestFactory().post("/compte/connexion/"), **credentials)


def demo_users():
    return {user.username: user for user in get_user_model().objects.filter(username__in=demo.LOGINS)}


# --------------------------------------------------------------------------- the command


def test_demo_logins_have_their_roles_and_the_demo_password(seeded):
    users = demo_users()
    assert set(users) == set(demo.LOGINS)
    for login, user in users.items():
        assert user.is_active
        assert user.first_name and user.last_name
        assert user.email == f"{login}@demo.parcours.localhost"
        assert sign_in(username=login, password=PASSWORD) == user
        assert set(user.groups.values_list("name", flat=True)) == GROUPS.get(login, set())
        assert user.agent.active

    agent = users["agent"].agent
    manager, reviewer = users["manager"].agent, users["reviewer"].agent
    assert agent.org_unit.kind == OrgUnitKind.BUREAU
    assert agent.n_plus_1 == manager
    assert agent.n_plus_2 == reviewer
    assert manager.org_unit == agent.org_unit  # the bureau head
    assert reviewer.org_unit == agent.org_unit.get_parent()  # the service head
    assert reviewer.org_unit.kind == OrgUnitKind.SERVICE
    assert Agent.objects.in_subtree(OrgUnit.objects.get(code="DRH")).filter(user=users["hr"]).exists()

    for login in demo.LOGINS:
        assert re.search(rf"^\s+{login}\s.*\s{re.escape(PASSWORD)}$", seeded, re.MULTILINE)
    base = settings.WAGTAILADMIN_BASE_URL.rstrip("/")
    assert f"{base}/" in seeded
    assert f"{base}/admin/" in seeded


def test_generated_agents_have_one_shared_unusable_password(seeded):
    users = get_user_model().objects.all()
    assert users.count() == 60
    assert {user.username for user in users if user.has_usable_password()} == set(demo.LOGINS)
    generated = users.exclude(username__in=demo.LOGINS)
    assert generated.values("password").distinct().count() == 1  # hashed zero times, not 53
    assert sign_in(username=generated.first().username, password="") is None


def test_directory_is_directions_services_bureaux_with_a_manager_chain(seeded):
    root = OrgUnit.objects.get(code=demo.ROOT_CODE)
    assert root.is_root()
    assert all(not problems for problems in OrgUnit.find_problems())  # paths, depth, numchild
    parent_kind = {
        OrgUnitKind.DIRECTION: OrgUnitKind.OTHER,
        OrgUnitKind.SERVICE: OrgUnitKind.DIRECTION,
        OrgUnitKind.BUREAU: OrgUnitKind.SERVICE,
    }
    units = list(OrgUnit.objects.exclude(pk=root.pk))
    assert {unit.kind for unit in units} == set(parent_kind)
    for unit in units:
        parent = unit.get_parent()
        assert parent.kind == parent_kind[unit.kind], unit
        if unit.kind == OrgUnitKind.DIRECTION:
            assert parent == root
        else:
            assert unit.code.startswith(parent.code + "-"), unit
    assert OrgUnit.objects.get(code="DRH").name == "Direction des ressources humaines"

    agents = list(Agent.objects.select_related("org_unit", "manager__org_unit"))
    assert len(agents) == 60
    without_manager = [a for a in agents if a.manager_id is None]
    assert [a.org_unit for a in without_manager] == [root]  # only the DGS
    heads = {}
    for agent in agents:
        if agent.manager_id and agent.manager.org_unit_id == agent.org_unit.get_parent().pk:
            assert agent.org_unit_id not in heads, f"two heads in {agent.org_unit}"
            heads[agent.org_unit_id] = agent
    for agent in agents:
        if agent.manager_id and heads.get(agent.org_unit_id) != agent:
            assert agent.manager == heads[agent.org_unit_id], agent  # reports to the head of the unit
    assert set(heads) == {unit.pk for unit in units}  # every unit has one head

    sizes = Counter(agent.org_unit.code for agent in agents)
    for unit in units:
        if unit.kind == OrgUnitKind.BUREAU:
            assert 15 <= sizes[unit.code] <= 40
    for agent in agents:
        assert re.fullmatch(r"D\d{6}", agent.employee_number)
        assert agent.category in {"A", "B", "C"}
        assert agent.employment_status in set(EmploymentStatus.values)
        assert agent.job_title


def test_home_page_exists_after_seeding(seeded):
    home = HomePage.objects.get()
    assert home.live
    assert Site.objects.get(is_default_site=True).root_page_id == home.pk


def test_second_run_creates_nothing(seeded):
    models = (get_user_model(), Agent, OrgUnit, Page)
    before = counts(*models)
    ids = set(Agent.objects.values_list("pk", "manager_id", "org_unit_id"))
    out = run()
    assert counts(*models) == before
    assert set(Agent.objects.values_list("pk", "manager_id", "org_unit_id")) == ids
    assert "rien de nouveau" in out
    for login in demo.LOGINS:  # DEMO_PASSWORD is set: it is (re)applied
        assert sign_in(username=login, password=PASSWORD) is not None


def test_a_later_run_restores_what_was_deleted(db, cms_seeders_only, demo_password):
    run(agents=300)
    logins = set(Agent.objects.filter(user__username__in=demo.LOGINS).values_list("org_unit__code", flat=True))
    bureau = OrgUnit.objects.filter(kind=OrgUnitKind.BUREAU).exclude(code__in=logins).last()
    expected = set(Agent.objects.filter(org_unit=bureau).values_list("employee_number", "manager__employee_number"))
    get_user_model().objects.filter(agent__org_unit=bureau).delete()
    bureau.delete()

    run(agents=300)
    bureau = OrgUnit.objects.get(code=bureau.code)  # re-inserted by treebeard under its service
    assert all(not problems for problems in OrgUnit.find_problems())
    assert set(Agent.objects.filter(org_unit=bureau).values_list("employee_number", "manager__employee_number")) == (
        expected
    )
    assert Agent.objects.count() == 300


def test_generated_password_is_printed_once_then_kept(db, cms_seeders_only, monkeypatch):
    monkeypatch.delenv("DEMO_PASSWORD", raising=False)
    out = run()
    password = re.search(r"^\s+agent\s.*\s(\S+)$", out, re.MULTILINE).group(1)
    assert len(password) >= 16
    assert f": {password} " in out  # and repeated under the table
    for login in demo.LOGINS:
        assert sign_in(username=login, password=password) is not None

    out = run()
    assert password not in out
    assert re.search(r"^\s+agent\s.*\(inchangé\)$", out, re.MULTILINE)
    assert sign_in(username="agent", password=password) is not None

    monkeypatch.setenv("DEMO_PASSWORD", "un-autre-mot-de-passe")
    run()
    assert sign_in(username="agent", password="un-autre-mot-de-passe") is not None
    assert sign_in(username="agent", password=password) is None


@pytest.mark.parametrize("override", [{"PRODUCTION": True}, {"SETTINGS_MODULE": "cms.settings.production"}])
def test_refuses_to_run_with_production_settings(db, cms_seeders_only, demo_password, override):
    with override_settings(**override), pytest.raises(CommandError, match="production"):
        run()
    assert not OrgUnit.objects.exists()
    assert not get_user_model().objects.exists()


def test_help_is_translated_text():
    from cms.management.commands.seed_demo import Command

    assert "--agents" in Command().create_parser("manage.py", "seed_demo").format_help()


def test_rejects_a_too_small_directory(db, cms_seeders_only):
    with pytest.raises(CommandError, match="--agents"):
        run(agents=demo.MIN_AGENTS - 1)
    assert not OrgUnit.objects.exists()


def test_registered_seeders_are_called_with_the_context(db, cms_seeders_only, demo_password):
    calls = []

    def probe(context):
        assert HomePage.objects.exists()  # cms.pages (order 10) ran before
        calls.append((context, context.rng.random()))

    seed.register_seeder("tests.probe", probe, order=999)
    try:
        out = run(seed_value=5)
        run(seed_value=5)
    finally:
        seed.unregister_seeder("tests.probe")

    assert len(calls) == 2
    context, draw = calls[0]
    assert calls[1][1] == draw  # the seeder's generator depends on --seed and its key only
    assert isinstance(context.rng, random.Random)
    assert set(context.users) == set(context.agents) == set(demo.LOGINS)
    assert context.users["agent"].username == "agent"
    assert context.agents["agent"].manager == context.agents["manager"]
    assert context.agents["agent"].manager.manager == context.agents["reviewer"]
    assert context.users["hr"].groups.filter(name=roles.HR).exists()
    assert (context.seed, context.agent_count, context.key) == (5, 60, "tests.probe")
    assert context.org_root.code == demo.ROOT_CODE
    assert "tests.probe" in out


def test_a_failing_seeder_is_reported_after_the_logins(db, cms_seeders_only, demo_password):
    def broken(context):
        raise RuntimeError("boum")

    seed.register_seeder("tests.broken", broken, order=1)
    out = io.StringIO()
    try:
        with pytest.raises(CommandError, match="tests.broken"):
            run(stdout=out)
    finally:
        seed.unregister_seeder("tests.broken")
    assert re.search(rf"^\s+agent\s.*{PASSWORD}$", out.getvalue(), re.MULTILINE)  # logins still printed
    assert HomePage.objects.exists()  # the next seeders still ran
    assert Agent.objects.count() == 60


def test_refuses_to_mix_with_another_directory(db, cms_seeders_only, demo_password):
    run(seed_value=1)
    before = counts(get_user_model(), Agent, OrgUnit)
    with pytest.raises(CommandError, match="--seed"):
        run(seed_value=2)
    assert counts(get_user_model(), Agent, OrgUnit) == before


def test_refuses_an_imported_directory_with_the_same_codes(org, cms_seeders_only, demo_password):
    with pytest.raises(CommandError, match="DRH"):
        run()
    assert not Agent.objects.exists()


def test_lives_next_to_other_org_charts(db, cms_seeders_only, demo_password):
    OrgUnitFactory(code="ZZZ", name="Autre établissement")
    OrgUnitFactory(code="AAA", name="Établissement public")
    run()
    assert all(not problems for problems in OrgUnit.find_problems())
    root = OrgUnit.objects.get(code=demo.ROOT_CODE)
    assert root.is_root()
    assert [unit.code for unit in OrgUnit.get_root_nodes()] == ["AAA", "DGS", "ZZZ"]  # node_order_by = code
    assert root.get_descendant_count() == OrgUnit.objects.count() - 3
    bureau = OrgUnit.objects.get(code=demo_users()["agent"].agent.org_unit.code)
    assert [unit.code for unit in bureau.get_ancestors()][0] == demo.ROOT_CODE


def test_every_registered_seeder_is_idempotent(db, demo_password):
    """Integration with the other apps: every registered seeder runs, twice, adding nothing
    the second time (if this fails, the model named in the diff tells whose seeder). The
    printout agrees in number ("1 formation (1 créée)", "1 agent sans responsable")."""
    printout = run()
    assert "cours cmi5 : 1 formation (1 créée)" in printout
    assert re.search(r"lancée : \d+ entretiens?, \d+ agents? sans responsable", printout)
    assert not re.search(r"(?<![\d,.])1 (?:formations|créées|agents|entretiens)\b", printout), printout
    models = [m for m in apps.get_models() if m._meta.managed and not m._meta.proxy]
    before = counts(*models)
    run()
    assert counts(*models) == before


# --------------------------------------------------------------------------- the generator (pure)


def test_generator_is_deterministic():
    first = demo.build_directory(agents=500, seed=7)
    again = demo.build_directory(agents=500, seed=7)
    assert first == again
    assert first.digest() == again.digest()
    other = demo.build_directory(agents=500, seed=8)
    assert other.digest() != first.digest()
    assert [a.last_name for a in other.agents] != [a.last_name for a in first.agents]


@pytest.mark.parametrize("agents", [demo.MIN_AGENTS, 60, 300, 1000, 55_000])
def test_generator_sizes_bureaux_for_any_headcount(agents):
    directory = demo.build_directory(agents=agents)
    assert len(directory.agents) == agents
    numbers = [a.employee_number for a in directory.agents]
    assert len(set(numbers)) == agents
    assert len({a.username for a in directory.agents}) == agents
    assert len({a.email for a in directory.agents}) == agents
    assert len({u.code for u in directory.units}) == len(directory.units)
    sizes = Counter(a.unit_code for a in directory.agents)
    bureaux = [u.code for u in directory.units if u.kind == OrgUnitKind.BUREAU]
    assert all(15 <= sizes[code] <= 40 for code in bureaux)
    known = {directory.units[0].code}
    for unit in directory.units[1:]:  # parents first
        assert unit.parent_code in known
        known.add(unit.code)
    by_number = {a.employee_number: a for a in directory.agents}
    for agent in directory.agents:  # managers first, so they can be inserted level by level
        if agent.manager_number:
            assert by_number[agent.manager_number].level == agent.level - 1
    assert set(directory.logins) == set(demo.LOGINS)
    assert len(set(directory.logins.values())) == len(demo.LOGINS)


def test_generator_gives_plausible_careers():
    directory = demo.build_directory(agents=3000, seed=11)
    category_of = {corps: category for category, corps, grades in demo.CORPS.values()}
    grades_of = {corps: grades for category, corps, grades in demo.CORPS.values()}
    for agent in directory.agents:
        if agent.employment_status == EmploymentStatus.TITULAIRE:
            assert category_of[agent.corps] == agent.category, agent
            assert agent.grade in grades_of[agent.corps], agent
        else:
            assert agent.corps == "" and agent.grade.endswith(agent.category)
    statuses = Counter(a.employment_status for a in directory.agents)
    assert 0.10 < statuses[EmploymentStatus.CONTRACTUEL] / len(directory.agents) < 0.20
    categories = Counter(a.category for a in directory.agents)
    assert categories["C"] > categories["B"] > 0 and categories["A"] > 0
    assert {"Attachés d'administrations parisiennes", "Adjoints techniques", "Secrétaires administratifs"} <= {
        a.corps for a in directory.agents
    }
    directions = {u.name for u in directory.units if u.kind == OrgUnitKind.DIRECTION}
    assert "Direction de la voirie et des déplacements" in directions
    dgs = directory.agents[0]
    assert dgs.unit_code == demo.ROOT_CODE and dgs.manager_number is None
    assert "général" in dgs.job_title or "générale" in dgs.job_title
    assert len({a.first_name for a in directory.agents}) > 100
    assert len({a.last_name for a in directory.agents}) > 100


def test_the_site_and_the_printout_follow_the_public_base_url(db, cms_seeders_only, demo_password, settings):
    """``make run PORT=8101`` sets WAGTAILADMIN_BASE_URL: the Wagtail Site, hence every
    page's absolute URL, and the printed logins follow it."""
    from wagtail.models import Site

    from cms.models import HomePage

    settings.WAGTAILADMIN_BASE_URL = "http://127.0.0.1:8101"
    out = run(agents=60)
    site = Site.objects.get(is_default_site=True)
    assert (site.hostname, site.port) == ("127.0.0.1", 8101)
    assert HomePage.objects.get().full_url == "http://127.0.0.1:8101/"
    assert "http://127.0.0.1:8101/admin/" in out
