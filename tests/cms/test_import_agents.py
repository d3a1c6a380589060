"""manage.py import_agents and cms.importer: atomic, line-and-column errors, bulk writes."""

import io
import math

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cms import importer
from cms.importer import (
    COLUMNS,
    DirectorySnapshot,
    build_plan,
    import_agents,
    parse_file,
    register_import_listener,
    unregister_import_listener,
)
from cms.models import Agent, OrgUnit
from tests.factories import AgentFactory, UserFactory

User = get_user_model()

pytestmark = pytest.mark.django_db


# --------------------------------------------------------------------------- helpers


def row(number, **values):
    """One CSV row as a dict; every column has a sensible default."""
    data = {
        "employee_number": number,
        "first_name": "Prénom",
        "last_name": f"Nom {number}",
        "email": f"{number.lower()}@paris.example.fr",
        "org_unit_code": "DRH",
        "org_unit_name": "",
        "parent_org_unit_code": "",
        "manager_employee_number": "",
        "job_title": "Chargé de mission",
        "category": "B",
        "corps": "Secrétaires administratifs",
        "grade": "Secrétaire administratif de classe normale",
        "employment_status": "titulaire",
        "active": "1",
    }
    data.update(values)
    return data


def make_csv(rows, columns=COLUMNS, delimiter=",", bom=False):
    out = io.StringIO()
    out.write(delimiter.join(columns) + "\n")
    for values in rows:
        cells = []
        for column in columns:
            cell = str(values.get(column, ""))
            if delimiter in cell or '"' in cell:
                cell = '"' + cell.replace('"', '""') + '"'
            cells.append(cell)
        out.write(delimiter.join(cells) + "\n")
    data = out.getvalue().encode("utf-8")
    return (b"\xef\xbb\xbf" + data) if bom else data


def good_rows():
    """A direction, a service, a bureau; the director first, her N-1 listed after his report."""
    return [
        row(
            "P001",
            first_name="Claire",
            last_name="Dubois",
            email="Claire.Dubois@Paris.Example.FR",
            org_unit_code="DVD",
            org_unit_name="Direction de la voirie et des déplacements",
            job_title="Directrice",
            category="A",
            corps="Administrateurs de la Ville de Paris",
            grade="Administratrice hors classe",
        ),
        row(
            "P003",
            first_name="Léa",
            last_name="Martin",
            org_unit_code="DVD-SAT-B1",
            org_unit_name="Bureau des autorisations",
            parent_org_unit_code="DVD-SAT",
            manager_employee_number="P002",
            category="C",
            employment_status="Contractuel",
        ),
        row(
            "P002",
            first_name="Hugo",
            last_name="Bernard",
            org_unit_code="DVD-SAT",
            org_unit_name="Service de l'aménagement et des travaux",
            parent_org_unit_code="DVD",
            manager_employee_number="P001",
            job_title="Chef de service",
            category="A",
        ),
        row(
            "P004",
            first_name="Sami",
            last_name="Haddad",
            org_unit_code="DVD-SAT-B1",
            manager_employee_number="P003",
            active="",
        ),
    ]


def counts():
    return Agent.objects.count(), User.objects.count(), OrgUnit.objects.count()


def snapshot_rows():
    """Everything an import may change, to prove a refused file changed nothing."""
    return (
        list(Agent.objects.order_by("pk").values_list()),
        list(User.objects.order_by("pk").values_list("pk", "username", "first_name", "last_name", "email")),
        list(OrgUnit.objects.order_by("pk").values_list()),
    )


def run(data, **kwargs):
    return import_agents(file=data, **kwargs)


def assert_tree_consistent():
    assert all(not problems for problems in OrgUnit.find_problems())


# --------------------------------------------------------------------------- good files


def test_good_file_creates_units_users_agents_and_managers():
    report = run(make_csv(good_rows()))

    assert report.ok, report.errors
    assert (report.rows, report.units_created, report.agents_created) == (4, 3, 4)
    assert (report.agents_updated, report.agents_unchanged, report.agents_absent) == (0, 0, 0)
    assert counts() == (4, 4, 3)

    direction = OrgUnit.objects.get(code="DVD")
    service = OrgUnit.objects.get(code="DVD-SAT")
    bureau = OrgUnit.objects.get(code="DVD-SAT-B1")
    assert direction.is_root() and direction.name == "Direction de la voirie et des déplacements"
    assert service.get_parent() == direction
    assert bureau.get_parent() == service
    assert (direction.kind, service.kind, bureau.kind) == ("direction", "service", "bureau")
    assert_tree_consistent()

    claire = Agent.objects.select_related("user").get(employee_number="P001")
    assert claire.user.username == "p001"
    assert (claire.user.first_name, claire.user.last_name) == ("Claire", "Dubois")
    assert claire.user.email == "Claire.Dubois@paris.example.fr"  # domain normalised
    assert not claire.user.has_usable_password()
    assert claire.org_unit == direction and claire.manager is None
    assert (claire.category, claire.corps, claire.job_title) == (
        "A",
        "Administrateurs de la Ville de Paris",
        "Directrice",
    )

    lea = Agent.objects.get(employee_number="P003")
    assert lea.manager.employee_number == "P002"  # manager listed after her
    assert lea.n_plus_2.employee_number == "P001"
    assert (lea.employment_status, lea.category, lea.org_unit) == ("contractuel", "C", bureau)
    sami = Agent.objects.get(employee_number="P004")
    assert sami.active is True  # blank = active
    assert sami.manager == lea
    assert sorted(report.created_agent_ids) == sorted(Agent.objects.values_list("pk", flat=True))


def test_reimport_same_file_changes_nothing():
    data = make_csv(good_rows())
    run(data)
    before = snapshot_rows()
    stamps = dict(Agent.objects.values_list("employee_number", "updated_at"))

    report = run(data)

    assert report.ok
    assert (report.units_created, report.units_updated, report.units_unchanged) == (0, 0, 3)
    assert (report.agents_created, report.agents_updated, report.agents_unchanged) == (0, 0, 4)
    assert snapshot_rows() == before
    assert dict(Agent.objects.values_list("employee_number", "updated_at")) == stamps


def test_reimport_updates_in_place():
    run(make_csv(good_rows()))
    pks = dict(Agent.objects.values_list("employee_number", "pk"))
    user_pks = dict(Agent.objects.values_list("employee_number", "user_id"))
    rows = good_rows()
    rows[0]["org_unit_name"] = "Direction de la voirie"  # rename a unit
    rows[1]["email"] = "lea.martin@paris.example.fr"  # user field
    rows[1]["last_name"] = "Martin-Roux"
    rows[3]["manager_employee_number"] = "P002"  # new manager
    rows[3]["job_title"] = "Instructeur"
    rows[3]["category"] = ""

    report = run(make_csv(rows))

    assert report.ok, report.errors
    assert (report.units_created, report.units_updated, report.units_unchanged) == (0, 1, 2)
    assert (report.agents_created, report.agents_updated, report.agents_unchanged) == (0, 2, 2)
    assert sorted(report.updated_agent_ids) == sorted([pks["P003"], pks["P004"]])
    assert counts() == (4, 4, 3)
    assert dict(Agent.objects.values_list("employee_number", "pk")) == pks
    assert dict(Agent.objects.values_list("employee_number", "user_id")) == user_pks
    assert OrgUnit.objects.get(code="DVD").name == "Direction de la voirie"
    lea = Agent.objects.select_related("user").get(employee_number="P003")
    assert (lea.user.email, lea.user.last_name, lea.user.username) == (
        "lea.martin@paris.example.fr",
        "Martin-Roux",
        "p003",
    )
    sami = Agent.objects.get(employee_number="P004")
    assert (sami.manager.employee_number, sami.job_title, sami.category) == ("P002", "Instructeur", "")


def test_reimport_moves_a_unit_and_an_agent(org):
    AgentFactory(employee_number="P100", org_unit=org["bureau"], user__username="p100")
    rows = [
        # the bureau moves directly under the direction; a new unit sorts before the existing ones
        row("P100", org_unit_code="DRH-SF-B1", parent_org_unit_code="DRH"),
        row("P101", org_unit_code="DRH-AA", org_unit_name="Bureau des archives", parent_org_unit_code="DRH"),
        row("P102", org_unit_code="AAA", org_unit_name="Délégation générale"),
    ]
    bureau_pk = org["bureau"].pk

    report = run(make_csv(rows))

    assert report.ok, report.errors
    assert (report.units_created, report.units_updated, report.units_unchanged) == (2, 1, 0)
    bureau = OrgUnit.objects.get(code="DRH-SF-B1")
    assert bureau.pk == bureau_pk
    assert bureau.get_parent().code == "DRH"
    assert OrgUnit.objects.get(code="DRH-AA").get_parent().code == "DRH"
    assert OrgUnit.objects.get(code="AAA").is_root()
    assert OrgUnit.objects.get(code="AAA").kind == "direction"  # from the depth
    assert OrgUnit.objects.get(code="DRH-AA").kind == "bureau"  # from the name
    assert Agent.objects.get(employee_number="P100").org_unit_id == bureau_pk
    assert_tree_consistent()

    rows[0]["org_unit_code"] = "DRH-AA"
    rows[0]["parent_org_unit_code"] = ""
    report = run(make_csv(rows))
    assert report.ok and report.agents_updated == 1
    assert Agent.objects.get(employee_number="P100").org_unit.code == "DRH-AA"


def test_bom_semicolon_and_spaces(org):
    text = (
        "\ufeffemployee_number ; First_Name;last_name;email;org_unit_code;category;employment_status;active\r\n"
        " M900 ; Élodie ;  Lefèvre ; elodie.lefevre@paris.example.fr ;DRH-SF ; a ; Contractuel ; Oui \r\n"
        "M901;Jean;Moulin;jean.moulin@paris.example.fr;DRH;;TITULAIRE;non\r\n"
    )
    report = run(text.encode("utf-8"))

    assert report.ok, report.errors
    assert report.agents_created == 2
    elodie = Agent.objects.select_related("user").get(employee_number="M900")
    assert (elodie.user.first_name, elodie.user.last_name) == ("Élodie", "Lefèvre")
    assert (elodie.category, elodie.employment_status, elodie.active) == ("A", "contractuel", True)
    assert elodie.org_unit == org["service"]
    jean = Agent.objects.get(employee_number="M901")
    assert (jean.category, jean.employment_status, jean.active) == ("", "titulaire", False)


def test_parse_file_accepts_paths_and_text_streams(tmp_path):
    path = tmp_path / "agents.csv"
    path.write_bytes(make_csv(good_rows(), delimiter=";"))
    parsed = parse_file(path)
    assert parsed.delimiter == ";" and len(parsed.rows) == 4 and not parsed.errors
    assert parsed.rows[1].line == 3 and parsed.rows[1].values["employee_number"] == "P003"
    assert len(parse_file(io.StringIO(path.read_text(encoding="utf-8"))).rows) == 4


def test_manager_listed_after_report_and_manager_in_database(chain):
    rows = [
        row("P010", manager_employee_number="P011"),
        row("P011", manager_employee_number=chain["manager"].employee_number),
    ]
    report = run(make_csv(rows))
    assert report.ok, report.errors
    assert Agent.objects.get(employee_number="P010").manager.employee_number == "P011"
    assert Agent.objects.get(employee_number="P011").manager == chain["manager"]


def test_missing_optional_columns_keep_existing_values(chain):
    agent = chain["agent"]
    columns = ("employee_number", "first_name", "last_name", "email", "org_unit_code")
    values = row(
        agent.employee_number,
        first_name=agent.user.first_name,
        last_name=agent.user.last_name,
        email="nouvelle.adresse@paris.example.fr",
        org_unit_code=agent.org_unit.code,
    )
    report = run(make_csv([values], columns=columns))

    assert report.ok, report.errors
    assert report.agents_updated == 1
    agent.refresh_from_db()
    assert agent.user.email == "nouvelle.adresse@paris.example.fr"
    assert agent.manager == chain["manager"]
    assert (agent.job_title, agent.category, agent.active) == ("Chargé de mission", "B", True)


def test_inactive_flag_deactivates_and_reactivates(chain):
    agent = chain["agent"]
    values = row(
        agent.employee_number,
        first_name=agent.user.first_name,
        last_name=agent.user.last_name,
        email=agent.user.email,
        org_unit_code=agent.org_unit.code,
        manager_employee_number=chain["manager"].employee_number,
        active="0",
    )
    report = run(make_csv([values]))
    assert report.ok, report.errors
    assert (report.agents_updated, report.agents_deactivated) == (1, 1)
    agent.refresh_from_db()
    assert agent.active is False

    values["active"] = "yes"
    report = run(make_csv([values]))
    assert (report.agents_updated, report.agents_reactivated) == (1, 1)
    agent.refresh_from_db()
    assert agent.active is True


def test_agents_absent_from_file_are_not_deactivated(chain):
    report = run(make_csv([row("P020")]))
    assert report.ok, report.errors
    assert report.agents_absent == 6
    assert Agent.objects.filter(active=True).count() == 7


# --------------------------------------------------------------------------- bad files


def _replace(rows, index, **values):
    rows[index].update(values)
    return rows


BAD_FILES = {
    "missing column": (
        lambda: make_csv(good_rows(), columns=[c for c in COLUMNS if c not in ("email", "last_name")]),
        "ligne 1 : colonnes obligatoires manquantes dans l'en-tête : last_name, email",
    ),
    "unknown column": (
        lambda: make_csv(good_rows(), columns=[*COLUMNS, "date_naissance"]),
        "ligne 1 : colonnes inconnues : date_naissance",
    ),
    "bad email": (
        lambda: make_csv(_replace(good_rows(), 2, email="hugo.bernard@")),
        "ligne 4, colonne email : adresse invalide « hugo.bernard@ »",
    ),
    "missing required value": (
        lambda: make_csv(_replace(good_rows(), 1, first_name="  ")),
        "ligne 3, colonne first_name : valeur obligatoire",
    ),
    "unknown manager": (
        lambda: make_csv(_replace(good_rows(), 3, manager_employee_number="X999")),
        "ligne 5, colonne manager_employee_number : responsable inconnu « X999 »",
    ),
    "manager cycle": (
        lambda: make_csv(_replace(good_rows(), 0, manager_employee_number="P003")),
        "ligne 2, colonne manager_employee_number : cycle hiérarchique : "
        "P001 (ligne 2) → P003 (ligne 3) → P002 (ligne 4) → P001",
    ),
    "self management": (
        lambda: make_csv(_replace(good_rows(), 0, manager_employee_number="P001")),
        "ligne 2, colonne manager_employee_number : un agent ne peut pas être son propre responsable",
    ),
    "duplicate employee number": (
        lambda: make_csv([*good_rows(), row("P002", org_unit_code="DVD")]),
        "ligne 6, colonne employee_number : matricule P002 déjà présent ligne 4",
    ),
    "bad category": (
        lambda: make_csv(_replace(good_rows(), 1, category="D")),
        "ligne 3, colonne category : catégorie invalide « D »",
    ),
    "bad status": (
        lambda: make_csv(_replace(good_rows(), 1, employment_status="stagiaire")),
        "ligne 3, colonne employment_status : statut invalide « stagiaire »",
    ),
    "bad active": (
        lambda: make_csv(_replace(good_rows(), 1, active="peut-être")),
        "ligne 3, colonne active : valeur invalide « peut-être »",
    ),
    "bad employee number": (
        lambda: make_csv(_replace(good_rows(), 3, employee_number="P 004")),
        "ligne 5, colonne employee_number : matricule invalide « P 004 »",
    ),
    "value too long": (
        lambda: make_csv(_replace(good_rows(), 3, org_unit_code="X" * 40)),
        "ligne 5, colonne org_unit_code : valeur trop longue (40 caractères, 32 au maximum)",
    ),
    "malformed row": (
        lambda: make_csv(good_rows()) + b"P005,Paul,Durand,paul@paris.example.fr\n",
        "ligne 6 : 4 champs au lieu de 14",
    ),
    "unbalanced quote": (
        lambda: make_csv(good_rows()) + b'P005,"Paul,Durand\n',
        "ligne 6 : CSV mal formé",
    ),
    "empty file": (lambda: b"", "le fichier est vide"),
    "only blank lines and BOM": (lambda: b"\xef\xbb\xbf\n  \n", "le fichier est vide"),
    "header only": (lambda: make_csv([]), "aucune ligne d'agent"),
    "non UTF-8": (
        lambda: make_csv(good_rows()).decode("utf-8").encode("latin-1"),
        "ligne 2 : le fichier n'est pas encodé en UTF-8 (octet 0xE9 inattendu)",
    ),
    "UTF-16": (lambda: make_csv(good_rows()).decode("utf-8").encode("utf-16"), "encodé en UTF-16"),
    "binary garbage": (
        lambda: b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)),
        "ligne 3 : le fichier contient des données binaires",
    ),
    "control characters": (
        lambda: make_csv(good_rows()) + b"P005,\x1b[31m\n",
        "ligne 6 : caractère de contrôle U+001B",
    ),
    "unknown parent unit": (
        lambda: make_csv(_replace(good_rows(), 2, parent_org_unit_code="DGS")),
        "ligne 4, colonne parent_org_unit_code : unité parente inconnue « DGS »",
    ),
    "new unit without name": (
        lambda: make_csv(_replace(good_rows(), 0, org_unit_name="")),
        "ligne 2, colonne org_unit_name : l'unité DVD n'existe pas encore : son nom est obligatoire",
    ),
    "conflicting unit name": (
        lambda: make_csv(_replace(good_rows(), 3, org_unit_name="Bureau des permis")),
        "ligne 5, colonne org_unit_name : l'unité DVD-SAT-B1 porte un autre nom ligne 3 (« Bureau des autorisations »)",
    ),
    "conflicting unit parent": (
        lambda: make_csv(_replace(good_rows(), 3, parent_org_unit_code="DVD")),
        "ligne 5, colonne parent_org_unit_code : l'unité DVD-SAT-B1 est rattachée à une autre unité parente "
        "ligne 3 (DVD-SAT)",
    ),
    "unit cycle": (
        lambda: make_csv(_replace(good_rows(), 0, parent_org_unit_code="DVD-SAT-B1")),
        "ligne 2, colonne parent_org_unit_code : cycle dans l'organigramme : "
        "DVD (ligne 2) → DVD-SAT-B1 (ligne 3) → DVD-SAT (ligne 4) → DVD",
    ),
    "unit is its own parent": (
        lambda: make_csv(_replace(good_rows(), 0, parent_org_unit_code="DVD")),
        "ligne 2, colonne parent_org_unit_code : l'unité DVD ne peut pas être sa propre unité parente",
    ),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_bad_file_writes_nothing_and_names_line_and_column(case, chain):
    make, expected = BAD_FILES[case]
    before = snapshot_rows()
    calls = []
    listener = register_import_listener(lambda created, updated: calls.append(created))
    try:
        report = run(make())
    finally:
        unregister_import_listener(listener)

    assert not report.ok
    messages = [str(error) for error in report.errors]
    assert any(expected in message for message in messages), messages
    assert snapshot_rows() == before
    assert counts() == (6, 6, 3)
    assert calls == []
    assert report.created_agent_ids == [] and report.agents_created == 0


def test_every_error_is_reported_in_line_order(org):
    rows = good_rows()
    rows[0]["email"] = "pas-une-adresse"
    rows[1]["category"] = "Z"
    rows[1]["active"] = "bof"
    rows[3]["manager_employee_number"] = "INCONNU"
    report = run(make_csv(rows))

    assert [(error.line, error.column) for error in report.errors] == [
        (2, "email"),
        (3, "category"),
        (3, "active"),
        (5, "manager_employee_number"),
    ]
    assert counts() == (0, 0, 3)


def test_manager_cycle_through_the_database_is_refused(chain):
    """reviewer → nobody today; the file makes the reviewer report to the agent, whose N+2 is the reviewer."""
    reviewer = chain["reviewer"]
    values = row(
        reviewer.employee_number,
        first_name=reviewer.user.first_name,
        last_name=reviewer.user.last_name,
        email=reviewer.user.email,
        org_unit_code=reviewer.org_unit.code,
        manager_employee_number=chain["agent"].employee_number,
    )
    before = snapshot_rows()
    report = run(make_csv([row("P030"), values]))

    assert [(error.line, error.column) for error in report.errors] == [(3, "manager_employee_number")]
    message = str(report.errors[0])
    assert "cycle hiérarchique" in message
    assert f"{chain['agent'].employee_number} (annuaire)" in message
    assert f"{chain['manager'].employee_number} (annuaire)" in message
    assert snapshot_rows() == before


def test_unit_cycle_through_the_database_is_refused(org):
    """Moving the direction under its own bureau would make a cycle."""
    report = run(make_csv([row("P040", org_unit_code="DRH", parent_org_unit_code="DRH-SF-B1")]))
    assert [(error.line, error.column) for error in report.errors] == [(2, "parent_org_unit_code")]
    assert "DRH (ligne 2) → DRH-SF-B1 (annuaire) → DRH-SF (annuaire) → DRH" in str(report.errors[0])
    assert counts() == (0, 0, 3)


def test_new_agent_whose_login_is_taken_is_refused(org):
    UserFactory(username="p050")
    report = run(make_csv([row("P050", org_unit_code="DRH"), row("p051"), row("P051")]))
    errors = [(error.line, error.column) for error in report.errors]
    assert errors == [(2, "employee_number"), (4, "employee_number")]
    assert "« p050 »" in str(report.errors[0])
    assert "ligne 3" in str(report.errors[1])
    assert counts() == (0, 1, 3)


def test_plan_is_pure_and_reports_what_would_change(org):
    parsed = parse_file(make_csv(good_rows()))
    snapshot = DirectorySnapshot.load()
    plan = build_plan(parsed, snapshot)
    assert not plan.errors
    assert [(op.action, op.code, op.parent_code) for op in plan.unit_ops] == [
        ("create", "DVD", None),
        ("create", "DVD-SAT", "DVD"),
        ("create", "DVD-SAT-B1", "DVD-SAT"),
    ]
    assert [record.employee_number for record in plan.new_agents] == ["P001", "P003", "P002", "P004"]


# --------------------------------------------------------------------------- dry run, listeners


def test_dry_run_writes_nothing_but_reports(chain):
    before = snapshot_rows()
    calls = []
    listener = register_import_listener(lambda created, updated: calls.append((created, updated)))
    agent = chain["agent"]
    rows = [
        *good_rows(),
        row(
            agent.employee_number,
            first_name=agent.user.first_name,
            last_name=agent.user.last_name,
            email=agent.user.email,
            org_unit_code=agent.org_unit.code,
            active="non",
        ),
    ]
    try:
        report = run(make_csv(rows), dry_run=True)
    finally:
        unregister_import_listener(listener)

    assert report.ok and report.dry_run
    assert (report.units_created, report.agents_created, report.agents_updated) == (3, 4, 1)
    assert (report.agents_deactivated, report.agents_absent) == (1, 5)
    assert report.created_agent_ids == [] and not report.written
    assert snapshot_rows() == before
    assert calls == []


def test_listener_receives_created_and_updated_ids(chain):
    calls = []

    def listener(created, updated):
        calls.append((sorted(created), sorted(updated)))
        assert Agent.objects.filter(pk__in=created).count() == len(created)  # inside the transaction

    register_import_listener(listener)
    register_import_listener(listener)  # idempotent
    agent = chain["agent"]
    try:
        run(
            make_csv(
                [
                    row("P060"),
                    row(
                        agent.employee_number,
                        first_name="Autre",
                        last_name=agent.user.last_name,
                        email=agent.user.email,
                        org_unit_code=agent.org_unit.code,
                        manager_employee_number=chain["manager"].employee_number,
                    ),
                ]
            )
        )
    finally:
        unregister_import_listener(listener)

    new = Agent.objects.get(employee_number="P060")
    assert calls == [([new.pk], [agent.pk])]


def test_failing_listener_rolls_the_import_back(org):
    def listener(created, updated):
        raise RuntimeError("boom")

    register_import_listener(listener)
    try:
        with pytest.raises(RuntimeError):
            run(make_csv(good_rows()))
    finally:
        unregister_import_listener(listener)
    assert counts() == (0, 0, 3)


def test_progress_callback_reports_both_phases(org):
    calls = []
    run(make_csv(good_rows()), progress=lambda phase, done, total: calls.append((phase, done, total)))
    assert calls[0] == ("validate", 4, 4)
    assert [call for call in calls if call[0] == "apply"][-1] == ("apply", 7, 7)  # 3 units + 4 agents
    assert all(done <= total for _phase, done, total in calls)


# --------------------------------------------------------------------------- the command


def test_command_imports_a_file(tmp_path, org):
    path = tmp_path / "agents.csv"
    path.write_bytes(make_csv(good_rows(), delimiter=";", bom=True))
    out, err = io.StringIO(), io.StringIO()

    call_command("import_agents", str(path), "--dry-run", stdout=out, stderr=err)
    assert "Simulation (--dry-run)" in out.getvalue()
    assert "Agents : 4 à créer" in out.getvalue()
    assert counts() == (0, 0, 3)

    out = io.StringIO()
    call_command("import_agents", str(path), stdout=out, stderr=err)
    assert "Import terminé : 4 lignes" in out.getvalue()
    assert "Unités : 3 créées, 0 modifiées, 0 inchangées." in out.getvalue()
    assert "Agents : 4 créés" in out.getvalue()
    assert counts() == (4, 4, 6)


def test_command_refuses_a_bad_file_with_a_non_zero_exit(tmp_path, org):
    path = tmp_path / "agents.csv"
    path.write_bytes(make_csv(_replace(_replace(good_rows(), 1, email="x@"), 2, category="E")))
    err = io.StringIO()

    with pytest.raises(CommandError) as excinfo:
        call_command("import_agents", str(path), stdout=io.StringIO(), stderr=err)

    assert excinfo.value.returncode != 0
    assert "2 erreurs" in str(excinfo.value) and "aucune modification" in str(excinfo.value)
    assert "ligne 3, colonne email : adresse invalide" in err.getvalue()
    assert "ligne 4, colonne category : catégorie invalide" in err.getvalue()
    assert counts() == (0, 0, 3)


def test_command_missing_file(tmp_path):
    with pytest.raises(CommandError, match="fichier introuvable"):
        call_command("import_agents", str(tmp_path / "absent.csv"))


# --------------------------------------------------------------------------- scale


def _bulk_rows(count, prefix):
    """Agents in the three units of the ``org`` fixture, three management levels, reports listed first."""

    def number(index):
        return f"{prefix}{index:05d}"

    units = ["DRH", "DRH-SF", "DRH-SF-B1"]
    rows = [
        row(
            number(index),
            org_unit_code=units[index % 3],
            manager_employee_number="" if index == 0 else number(0) if index < 10 else number(1 + index % 9),
        )
        for index in range(count)
    ]
    return rows[::-1]


def _extra_statements(rows):
    """Statements a bulk operation needs beyond its first on backends that cap query parameters."""
    limit = connection.features.max_query_params
    if not limit:
        return 0
    return math.ceil(rows / (limit // 16)) - 1  # no bulk statement of the import uses more than 16 parameters a row


def test_query_count_does_not_grow_with_rows(org, monkeypatch):
    monkeypatch.setattr(importer, "_listeners", [])  # other apps' listeners count their own queries
    measured = {}
    for size, prefix in ((20, "S"), (200, "L")):
        rows = _bulk_rows(size, prefix)
        with CaptureQueriesContext(connection) as created:
            report = run(make_csv(rows))
        assert report.ok and report.agents_created == size
        for values in rows:
            values["job_title"] = "Instructeur"
            values["last_name"] += " modifié"
        with CaptureQueriesContext(connection) as updated:
            report = run(make_csv(rows))
        assert report.ok and report.agents_updated == size
        measured[size] = (len(created), len(updated))

    small_created, small_updated = measured[20]
    large_created, large_updated = measured[200]
    assert small_created <= large_created <= small_created + 3 * _extra_statements(200)
    assert small_updated <= large_updated <= small_updated + 2 * _extra_statements(200)
    assert large_created < 40 and large_updated < 40  # far from one query per row
    assert Agent.objects.get(employee_number="L00101").manager.employee_number == "L00003"
    assert Agent.objects.get(employee_number="L00003").manager.employee_number == "L00000"


def test_very_deep_reporting_line_is_imported(org):
    """A chain deeper than MANAGER_LEVELS, listed bottom-up: the deepest managers are set by a second pass."""
    depth = importer.MANAGER_LEVELS + 8
    rows = [
        row(f"C{index:03d}", manager_employee_number=f"C{index - 1:03d}" if index else "") for index in range(depth)
    ]
    report = run(make_csv(rows[::-1]))

    assert report.ok, report.errors
    managers = dict(Agent.objects.values_list("employee_number", "manager__employee_number"))
    assert managers == {f"C{index:03d}": f"C{index - 1:03d}" if index else None for index in range(depth)}
