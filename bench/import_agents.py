"""Benchmark of ``import_agents``: a realistic directory CSV, imported then re-imported.

    .venv/bin/python bench/import_agents.py --agents 55000 --fresh

Generates a CSV of N agents (default 55,000) in a three-level org chart (directions →
services → bureaux, about 55 agents per bureau, heads managing their unit, rows shuffled so
that managers often come after their reports), then prints rows, seconds and rows/second for
the first import and for a re-import where 5 % of the rows changed.

Runs on the database ``DATABASE_URL`` points to (default: the development SQLite file
``db.sqlite3``, which it writes to). With ``--fresh`` it uses a throw-away SQLite database in
a temporary directory, migrated first. Never asserts on time: it prints figures.
"""

import argparse
import csv
import os
import random
import resource
import sys
import tempfile
import time
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FIRST_NAMES = [
    "Camille", "Léa", "Manon", "Chloé", "Inès", "Sarah", "Julie", "Claire", "Nathalie", "Sophie",
    "Isabelle", "Émilie", "Aurélie", "Fatima", "Aïcha", "Hugo", "Lucas", "Thomas", "Nicolas", "Julien",
    "Mehdi", "Karim", "Pierre", "Antoine", "François", "Jérôme", "Stéphane", "Olivier", "Yann", "Mamadou",
]  # fmt: skip
LAST_NAMES = [
    "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau",
    "Simon", "Laurent", "Lefèvre", "Michel", "Garcia", "David", "Bertrand", "Roux", "Vincent", "Fournier",
    "Morel", "Girard", "André", "Mercier", "Dupont", "Lambert", "Bonnet", "François", "Martinez", "Haddad",
    "Benali", "Nguyen", "Traoré", "Diallo", "Da Silva", "Le Gall", "Faure", "Rousseau", "Blanc", "Guérin",
]  # fmt: skip
DIRECTIONS = [
    "Direction des ressources humaines", "Direction des finances et des achats", "Direction de la voirie et "
    "des déplacements", "Direction des espaces verts et de l'environnement", "Direction des affaires "
    "scolaires", "Direction des familles et de la petite enfance", "Direction de la propreté et de l'eau",
    "Direction des affaires culturelles", "Direction de la jeunesse et des sports", "Direction de "
    "l'urbanisme", "Direction du logement et de l'habitat", "Direction des solidarités", "Direction de la "
    "santé publique", "Direction de la police municipale et de la prévention", "Direction des systèmes "
    "d'information", "Direction de l'immobilier, de la logistique et des transports", "Direction de la "
    "démocratie, des citoyens et des territoires", "Direction des affaires juridiques", "Direction de "
    "l'attractivité et de l'emploi", "Direction de la transition écologique et du climat",
]  # fmt: skip
SERVICE_TOPICS = [
    "des moyens généraux", "du pilotage et du budget", "de l'exploitation", "des études et travaux",
    "des relations avec les usagers", "de la programmation", "du contrôle", "des ressources",
]  # fmt: skip
BUREAU_TOPICS = [
    "de l'accueil", "des marchés", "de la paie", "des équipements", "de la maintenance", "des autorisations",
    "de la qualité", "du secteur nord", "du secteur sud", "du secteur est", "du secteur ouest", "des archives",
]  # fmt: skip
CORPS = {
    "A": [("Attachés d'administrations parisiennes", "Attaché principal"), ("Ingénieurs et architectes", "Ingénieur")],
    "B": [("Secrétaires administratifs", "Secrétaire administratif de classe normale"), ("Techniciens supérieurs", "Technicien supérieur principal")],
    "C": [("Adjoints administratifs", "Adjoint administratif principal de 2e classe"), ("Adjoints techniques", "Adjoint technique"), ("Agents de maîtrise", "Agent de maîtrise")],
}  # fmt: skip
COLUMNS = [
    "employee_number", "first_name", "last_name", "email", "org_unit_code", "org_unit_name", "parent_org_unit_code",
    "manager_employee_number", "job_title", "category", "corps", "grade", "employment_status", "active",
]  # fmt: skip


def ascii_email(text):
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower().replace(" ", "-")


def org_chart(agents):
    """(code, name, parent code) for directions, services and bureaux; about 55 agents per bureau."""
    bureaux_wanted = max(1, agents // 55)
    directions = max(1, -(-bureaux_wanted // 48))
    units, bureaux = [], 0
    for d in range(directions):
        direction = f"D{d + 1:02d}"
        units.append(
            (direction, DIRECTIONS[d % len(DIRECTIONS)] + (f" {d // len(DIRECTIONS) + 1}" if d >= 20 else ""), "")
        )
        for s in range(8):
            service = f"{direction}-S{s + 1}"
            units.append((service, f"Service {SERVICE_TOPICS[s]} ({direction})", direction))
            for b in range(6):
                if bureaux >= bureaux_wanted:
                    return units
                units.append(
                    (
                        f"{service}-B{b + 1}",
                        f"Bureau {BUREAU_TOPICS[(s + b) % len(BUREAU_TOPICS)]} ({service})",
                        service,
                    )
                )
                bureaux += 1
    return units


def generate_rows(agents, rng):
    units = org_chart(agents)
    by_code = {code: (name, parent) for code, name, parent in units}
    children = {}
    for code, _name, parent in units:
        children.setdefault(parent, []).append(code)
    rows, head = [], {}
    number = 0

    def person(unit, manager, job_title, category):
        nonlocal number
        number += 1
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        corps, grade = rng.choice(CORPS[category])
        employee_number = f"B{number:06d}"
        rows.append(
            [
                employee_number,
                first,
                last,
                ascii_email(f"{first}.{last}.{number}@paris.example.fr"),
                unit,
                by_code[unit][0],
                by_code[unit][1],
                manager,
                job_title,
                category,
                corps,
                grade,
                "contractuel" if rng.random() < 0.18 else "titulaire",
                "0" if rng.random() < 0.01 else "1",
            ]
        )
        return employee_number

    director_general = None
    for code, _name, parent in units:  # heads first, in tree order
        depth = code.count("-") + 1
        if depth == 1:
            head[code] = person(
                code, director_general or "", "Directeur" if director_general else "Directeur général", "A"
            )
            director_general = director_general or head[code]
        else:
            head[code] = person(
                code, head[parent], "Chef de service" if depth == 2 else "Chef de bureau", "A" if depth == 2 else "B"
            )
    bureaux = [code for code in by_code if code.count("-") == 2] or list(by_code)
    while number < agents:
        unit = rng.choice(bureaux)
        category = rng.choices("ABC", weights=(15, 25, 60))[0]
        person(
            unit,
            head[unit],
            rng.choice(["Instructeur", "Gestionnaire", "Agent d'accueil", "Technicien", "Assistant"]),
            category,
        )
    rng.shuffle(rows)  # managers often after their reports
    return rows


def write_csv(path, rows):
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(COLUMNS)
        writer.writerows(rows)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=55000, help="number of agents (default 55000)")
    parser.add_argument("--fresh", action="store_true", help="use a throw-away SQLite database (migrated first)")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()

    workdir = tempfile.TemporaryDirectory(prefix="bench-import-")
    if args.fresh:
        os.environ["DATABASE_URL"] = f"sqlite:///{Path(workdir.name) / 'bench.sqlite3'}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cms.settings.dev")

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from cms.importer import import_agents

    if args.fresh:
        started = time.perf_counter()
        call_command("migrate", verbosity=0, interactive=False)
        print(f"base temporaire migrée en {time.perf_counter() - started:.1f} s")
    print(f"base : {connection.vendor} {connection.settings_dict['NAME']}")

    rng = random.Random(args.seed)
    rows = generate_rows(args.agents, rng)
    path = Path(workdir.name) / "agents.csv"
    write_csv(path, rows)
    units = len({row[4] for row in rows})
    print(f"fichier : {len(rows)} agents, {units} unités, {path.stat().st_size / 1e6:.1f} Mo")

    def timed(label, csv_path):
        started, cpu_started = time.perf_counter(), time.process_time()
        report = import_agents(file=csv_path)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        if report.errors:
            for error in report.errors[:20]:
                print(f"  {error}")
            sys.exit(f"{label} : {len(report.errors)} erreurs")
        print(
            f"{label} : {report.rows} lignes en {seconds:.1f} s, {report.rows / seconds:,.0f} lignes/s, "
            f"dont {cpu:.1f} s de processeur pour ce processus "
            f"(unités créées {report.units_created}, modifiées {report.units_updated} ; agents créés "
            f"{report.agents_created}, modifiés {report.agents_updated}, inchangés {report.agents_unchanged})"
        )

    timed("premier import", path)

    for row in rng.sample(rows, k=len(rows) // 20):  # 5 % of the rows change
        row[8] = "Responsable de secteur"
        row[3] = row[3].replace("@", ".nouveau@")
    write_csv(path, rows)
    timed("réimport (5 % modifiés)", path)
    print(f"mémoire maximale : {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} Mo")
    connection.close()
    workdir.cleanup()


if __name__ == "__main__":
    main()
