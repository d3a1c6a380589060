"""Benchmark of SCIM provisioning against ``import_agents`` on the same directory.

    .venv/bin/python bench/scim.py --users 55000

1. SCIM: on a fresh PostgreSQL database (default ``parcours_bench_scim``; the name must
   contain "bench": it is dropped and recreated), every user is created by ``POST /Users``,
   one request at a time, through the Django test client (the whole stack: middleware,
   bearer token, validation, directory services, audit), managers before their reports with
   ``manager.value`` set; then a day's changes, 5 % of the users, by ``PATCH`` (title and
   ``emails[type eq "work"].value``, the form Entra ID sends).
2. CSV: ``bench/import_agents.py`` on a second fresh database (``<name>_csv``) with the same
   generated directory (same generator and seed), imported then re-imported with 5 % changed.

Prints requests per second and total time for each phase. Never asserts on time.
"""

import argparse
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def _import_bench():
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_import_agents", ROOT / "bench" / "import_agents.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def recreate_database(url):
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if "bench" not in name:
        sys.exit(f"la base « {name} » doit contenir « bench » (elle est supprimée puis recréée)")
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=55000, help="number of users (default 55000)")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/parcours_bench_scim"),
    )
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--skip-csv", action="store_true", help="only the SCIM phase")
    args = parser.parse_args()

    recreate_database(args.database_url)
    os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cms.settings.test")  # DEBUG off: no query log

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from provisioning.tokens import create_token

    started = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    print(
        f"base {connection.settings_dict['NAME']} ({connection.vendor}) migrée en {time.perf_counter() - started:.1f} s"
    )

    rng = random.Random(args.seed)
    rows = _import_bench().generate_rows(args.users, rng)  # bench/import_agents.py: the same directory
    rows.sort(key=lambda row: row[0])  # heads are numbered first: managers before their reports
    token = create_token(name="bench")[1]
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    ids = {}

    def body(row):
        data = {
            "schemas": [USER, ENTERPRISE],
            "userName": row[0],
            "name": {"givenName": row[1], "familyName": row[2]},
            "emails": [{"value": row[3], "type": "work", "primary": True}],
            "title": row[8],
            "active": row[13] == "1",
            ENTERPRISE: {"employeeNumber": row[0], "department": row[4]},
        }
        if row[7]:
            data[ENTERPRISE]["manager"] = {"value": ids[row[7]]}
        return json.dumps(data)

    # The units exist beforehand (created here, not timed): a connector sends the codes of known units.
    from cms.models import OrgUnit

    seen = set()
    for row in sorted(rows, key=lambda r: r[4].count("-")):
        code, name, parent = row[4], row[5], row[6]
        if code not in seen:
            seen.add(code)
            if parent:
                OrgUnit.objects.get(code=parent).add_child(code=code, name=name, kind="service")
            else:
                OrgUnit.add_root(code=code, name=name, kind="direction")

    def run(label, requests):
        started, failures = time.perf_counter(), 0
        for method, path, data, expected in requests:
            response = getattr(client, method)(path, data=data, content_type="application/scim+json")
            if response.status_code != expected:
                failures += 1
                if failures <= 5:
                    print(f"  {method.upper()} {path} → {response.status_code} {response.content[:300]!r}")
            elif method == "post":
                ids[json.loads(data)["userName"]] = response.json()["id"]
        seconds = time.perf_counter() - started
        count = len(requests)
        print(f"{label} : {count} requêtes en {seconds:.1f} s, {count / seconds:,.0f} requêtes/s, {failures} échecs")
        return seconds

    # POST one by one (a manager's id is known once the manager is created).
    started, failures = time.perf_counter(), 0
    for row in rows:
        response = client.post("/scim/v2/Users", data=body(row), content_type="application/scim+json")
        if response.status_code != 201:
            failures += 1
            if failures <= 5:
                print(f"  POST {row[0]} → {response.status_code} {response.content[:300]!r}")
            continue
        ids[row[0]] = response.json()["id"]
    post_seconds = time.perf_counter() - started
    print(
        f"SCIM POST : {len(rows)} utilisateurs en {post_seconds:.1f} s, {len(rows) / post_seconds:,.0f} requêtes/s, "
        f"{failures} échecs"
    )

    changed = rng.sample(rows, k=len(rows) // 20)
    patches = []
    for row in changed:
        if row[0] not in ids:
            continue
        operations = [
            {"op": "Replace", "path": "title", "value": "Responsable de secteur"},
            {"op": "Replace", "path": 'emails[type eq "work"].value', "value": row[3].replace("@", ".nouveau@")},
        ]
        patches.append(
            (
                "patch",
                f"/scim/v2/Users/{ids[row[0]]}",
                json.dumps({"schemas": [PATCH_OP], "Operations": operations}),
                200,
            )
        )
    patch_seconds = run("SCIM PATCH (5 % modifiés)", patches)
    print(f"SCIM total : {post_seconds + patch_seconds:.1f} s")
    connection.close()

    if args.skip_csv:
        return
    csv_url = args.database_url.rstrip("/") + "_csv"
    recreate_database(csv_url)
    print("import_agents sur les mêmes données (bench/import_agents.py) :")
    env = dict(os.environ, DATABASE_URL=csv_url, DJANGO_SETTINGS_MODULE="cms.settings.test")
    subprocess.run([sys.executable, str(ROOT / "manage.py"), "migrate", "--verbosity", "0"], env=env, check=True)
    command = [
        sys.executable,
        str(ROOT / "bench" / "import_agents.py"),
        "--agents",
        str(args.users),
        "--seed",
        str(args.seed),
    ]
    subprocess.run(command, env=env, check=True)


if __name__ == "__main__":
    main()
