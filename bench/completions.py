"""Benchmark of the completion API on PostgreSQL: CSV export against COPY, and a 1,000-row page.

    .venv/bin/python bench/completions.py                 # 55,000 agents x 20 courses
    .venv/bin/python bench/completions.py --agents 5000 --courses 10 --rebuild

PostgreSQL only. ``DATABASE_URL`` (default
``postgres://postgres@127.0.0.1:5432/parcours_bench``) must name a dedicated database whose
name contains "bench": it is created when missing, migrated, and with ``--rebuild`` (or when
the data present has another size) dropped and created again. The build uses
``INSERT ... SELECT generate_series`` for users, agents and enrolments; org units get their
treebeard paths computed in Python and are bulk inserted; the M course pages are created
through Wagtail (``save_revision().publish()``). An existing data set of the requested size
is reused.

Prints, from one run:
- rows/second of ``GET /api/v1/completions/export.csv`` consumed fully through
  ``django.test.Client`` as an HR user;
- rows/second of ``COPY (<the export's own SELECT>) TO STDOUT (FORMAT csv)`` via psycopg;
- the ratio export / COPY;
- the plan settings in effect: neither the export nor the baseline sets
  ``max_parallel_workers_per_gather`` or ``jit``, so both run with the same (the server's);
- median latency and query count of ``GET /api/v1/completions/?page_size=1000`` over 10
  pages (following ``next``), for HR, and the first page for a bureau head (recursive CTE);
- rows/second of walking every page of ``completions/?page_size=1000`` through ``next``,
  and its ratio to COPY.

Never asserts on time: it prints figures.
"""

import argparse
import os
import resource
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/parcours_bench"
AGENTS_PER_BUREAU = 55
FIRST_NAMES = ["Camille", "Léa", "Manon", "Inès", "Sophie", "Émilie", "Fatima", "Aïcha", "Hugo", "Lucas", "Thomas",
               "Mehdi", "Karim", "Pierre", "Antoine", "François", "Jérôme", "Stéphane", "Yann", "Mamadou"]  # fmt: skip
LAST_NAMES = ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau",
              "Lefèvre", "Garcia", "Fournier", "Girard", "André", "Mercier", "Nguyen", "Traoré", "Diallo",
              "Le Gall"]  # fmt: skip


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agents", type=int, default=55_000)
    parser.add_argument("--courses", type=int, default=20)
    parser.add_argument("--rebuild", action="store_true", help="drop and rebuild the data set")
    parser.add_argument("--runs", type=int, default=10, help="pages of 1,000 rows to time")
    parser.add_argument("--no-walk", dest="walk", action="store_false", help="skip walking every API page")
    return parser.parse_args()


# --- database ------------------------------------------------------------------------------------


def admin_conninfo(url):
    """The same server, database ``postgres`` (to create or drop the bench database)."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/postgres", parts.query, parts.fragment))


def database_name(url):
    return urlsplit(url).path.lstrip("/")


def ensure_database(url, *, drop=False):
    import psycopg
    from psycopg import sql

    name = database_name(url)
    with psycopg.connect(admin_conninfo(url), autocommit=True) as conn:
        if drop:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            return True
    return False


def setup_django(url):
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cms.settings.test")  # DEBUG off: no query log
    import django

    django.setup()


def migrate():
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


# --- build --------------------------------------------------------------------------------------


def existing_size():
    from cms.models import Agent
    from learning.models import CoursePage, Enrollment

    return (
        Agent.objects.filter(employee_number__startswith="B").count(),
        CoursePage.objects.filter(slug__startswith="bench-").count(),
        Enrollment.objects.count(),
    )


def step(label, started):
    print(f"  {label}: {time.perf_counter() - started:.1f} s", flush=True)
    return time.perf_counter()


def build_org_units(agents):
    """Directions → 8 services → 6 bureaux, about AGENTS_PER_BUREAU agents per bureau."""
    from cms.models import OrgUnit

    bureaux_wanted = max(1, agents // AGENTS_PER_BUREAU)
    directions = max(1, -(-bureaux_wanted // 48))
    path = OrgUnit._get_path
    units = []
    for d in range(directions):
        dpath = path(None, 1, d + 1)
        dcode = f"D{d + 1:02d}"
        units.append(OrgUnit(path=dpath, depth=1, numchild=8, code=dcode, name=f"Direction {d + 1}", kind="direction"))
        for s in range(8):
            spath = path(dpath, 2, s + 1)
            scode = f"{dcode}-S{s + 1}"
            units.append(OrgUnit(path=spath, depth=2, numchild=6, code=scode, name=f"Service {scode}", kind="service"))
            for b in range(6):
                units.append(OrgUnit(path=path(spath, 3, b + 1), depth=3, numchild=0, code=f"{scode}-B{b + 1}",
                                     name=f"Bureau {scode}-B{b + 1}", kind="bureau"))  # fmt: skip
    OrgUnit.objects.bulk_create(units, batch_size=2000)
    return list(OrgUnit.objects.filter(depth=3).order_by("path").values_list("pk", flat=True))


def build_people(agents, bureau_ids):
    """Users and agents in SQL; the first agent of each bureau manages the others."""
    from django.contrib.auth import get_user_model
    from django.db import connection

    from cms.models import Agent

    user_table, agent_table = get_user_model()._meta.db_table, Agent._meta.db_table
    with connection.cursor() as cur:
        cur.execute(
            f"""
            INSERT INTO {user_table} (password, is_superuser, username, first_name, last_name, email, is_staff,
                                      is_active, date_joined)
            SELECT '!', false, 'bench' || lpad(g::text, 6, '0'),
                   (%(first)s::text[])[1 + g %% %(nf)s], (%(last)s::text[])[1 + (g * 7) %% %(nl)s],
                   'bench' || g || '@example.org', false, true, now()
            FROM generate_series(1, %(n)s) AS g
            """,
            {"first": FIRST_NAMES, "last": LAST_NAMES, "nf": len(FIRST_NAMES), "nl": len(LAST_NAMES), "n": agents},
        )
        cur.execute(
            f"""
            INSERT INTO {agent_table} (user_id, employee_number, org_unit_id, manager_id, job_title, category, corps,
                                       grade, employment_status, active, updated_at)
            SELECT u.id, 'B' || substr(u.username, 6), (%(bureaux)s::bigint[])[1 + (g - 1) %% %(nb)s], NULL,
                   'Chargé de mission', (ARRAY['A', 'B', 'C'])[1 + g %% 3], 'Corps', 'Grade', 'titulaire', true, now()
            FROM {user_table} u, LATERAL (SELECT substr(u.username, 6)::int AS g) s
            WHERE u.username LIKE 'bench%%'
            """,
            {"bureaux": bureau_ids, "nb": len(bureau_ids)},
        )
        cur.execute(
            f"""
            UPDATE {agent_table} a SET manager_id = h.head
            FROM (SELECT org_unit_id, min(id) AS head FROM {agent_table} GROUP BY org_unit_id) h
            WHERE a.org_unit_id = h.org_unit_id AND a.id <> h.head
            """
        )


def build_courses(count):
    from cms.services import ensure_home_page
    from learning.models import CourseIndexPage, CoursePage

    home = ensure_home_page()
    index = CourseIndexPage.objects.first()
    if index is None:
        index = CourseIndexPage(title="Formations", slug="formations")
        home.add_child(instance=index)
        index.save_revision().publish()
    for number in range(1, count + 1):
        course = CoursePage(
            title=f"Formation {number:03d}", slug=f"bench-{number:03d}", summary="Formation du banc d'essai.",
            theme="Banc", estimated_minutes=30, validity_months=12 if number % 2 else None,
        )  # fmt: skip
        index.add_child(instance=course)
        course.save_revision().publish()


def build_enrollments():
    """Every agent in every course, statuses spread by a hash, updated_at over the last year."""
    from django.db import connection

    from cms.models import Agent
    from learning.models import CoursePage, Enrollment

    with connection.cursor() as cur:
        cur.execute(
            f"""
            INSERT INTO {Enrollment._meta.db_table} (agent_id, course_id, cycle, source, status, progress, score,
                due_at, started_at, completed_at, expires_at, certificate_code, certificate_file, created_at, updated_at)
            SELECT agent_id, course_id, 1, 'assigned',
                   CASE WHEN h < 40 THEN 'completed' WHEN h < 65 THEN 'in_progress' WHEN h < 90 THEN 'not_started'
                        WHEN h < 95 THEN 'failed' ELSE 'expired' END,
                   CASE WHEN h < 40 OR h >= 95 THEN 1.0 WHEN h < 65 THEN round((h - 40) / 25.0, 4) ELSE 0.0 END,
                   CASE WHEN h < 65 OR h >= 90 THEN 50 + h % 50 END,
                   t + interval '90 days',
                   CASE WHEN h < 65 OR h >= 90 THEN t - interval '10 days' END,
                   CASE WHEN h < 40 OR h >= 95 THEN t END,
                   CASE WHEN h < 40 OR h >= 95 THEN t + interval '1 year' END,
                   CASE WHEN h < 40 OR h >= 95 THEN 'C' || agent_id || 'X' || course_id END,
                   '', t - interval '30 days', t
            FROM (
                SELECT a.id AS agent_id, c.page_ptr_id AS course_id,
                       (a.id * 31 + c.page_ptr_id * 17) % 100 AS h,
                       now() - make_interval(secs => (a.id * 7919 + c.page_ptr_id * 104729) % 31536000) AS t
                FROM {Agent._meta.db_table} a CROSS JOIN {CoursePage._meta.db_table} c
            ) s
            """
        )
        cur.execute("ANALYZE")  # every table: the planner needs real row counts for the joins


def build(agents, courses):
    started = time.perf_counter()
    bureau_ids = build_org_units(agents)
    started = step(f"{len(bureau_ids)} bureaux", started)
    build_people(agents, bureau_ids)
    started = step(f"{agents} users and agents", started)
    build_courses(courses)
    started = step(f"{courses} course pages (Wagtail)", started)
    build_enrollments()
    step(f"{agents * courses} enrolments", started)


def hr_user():
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from cms import roles

    user, _created = get_user_model().objects.get_or_create(username="bench_hr", defaults={"email": "hr@example.org"})
    user.groups.add(Group.objects.get(name=roles.HR))
    return user


# --- measurements ------------------------------------------------------------------------------------


def export_queryset(user):
    """Exactly the queryset the export view streams (same selectors, same columns, same order)."""
    from django.test import RequestFactory

    from learning import selectors
    from learning.api import views

    request = RequestFactory().get("/api/v1/completions/export.csv")
    queryset = selectors.filter_completions(selectors.completions_visible_to_paged(user), {})
    return views.export_queryset(queryset, views.certificate_url(request))


def time_copy(user):
    import psycopg
    from django.db import connection

    sql, params = export_queryset(user).query.sql_with_params()
    connection.ensure_connection()
    select = psycopg.ClientCursor(connection.connection).mogrify(sql, params)
    rows = 0
    started = time.perf_counter()
    with connection.connection.cursor() as cur:
        with cur.copy(f"COPY ({select}) TO STDOUT (FORMAT csv)") as copy:
            for data in copy:
                rows += bytes(data).count(b"\n")
    return rows, time.perf_counter() - started


def time_export(client):
    """Rows, bytes, wall seconds and this process's CPU seconds (the Python side only)."""
    rows = size = 0
    cpu, started = time.process_time(), time.perf_counter()
    response = client.get("/api/v1/completions/export.csv")
    assert response.status_code == 200, response.status_code
    for chunk in response.streaming_content:
        rows += chunk.count(b"\n")
        size += len(chunk)
    return rows - 1, size, time.perf_counter() - started, time.process_time() - cpu  # minus the header


def time_request(client, url):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        started = time.perf_counter()
        response = client.get(url)
        latency = time.perf_counter() - started
    assert response.status_code == 200, response.status_code
    return latency, len(ctx.captured_queries), response.json()


def plan_settings():
    """The settings that change the plans of both the export and the COPY baseline: neither
    sets them, so both run with the server's values (printed with the figures)."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT current_setting('max_parallel_workers_per_gather'), current_setting('jit')")
        workers, jit = cur.fetchone()
    return f"max_parallel_workers_per_gather={workers}, jit={jit} (server defaults, for both)"


def walk_pages(client):
    """Every row through ``next`` at page_size=1000: rows, seconds."""
    import json

    rows, url = 0, "/api/v1/completions/?page_size=1000"
    started = time.perf_counter()
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.status_code
        body = json.loads(response.content)
        rows += len(body["results"])
        url = body["next"]
    return rows, time.perf_counter() - started


def time_pages(client, runs):
    latencies, queries, url = [], [], "/api/v1/completions/?page_size=1000"
    for _run in range(runs):
        latency, count, body = time_request(client, url)
        assert len(body["results"]) == 1000, len(body["results"])
        latencies.append(latency)
        queries.append(count)
        url = body["next"]
    return latencies, queries


def bureau_head_client():
    from django.test import Client

    from cms.models import Agent

    head = Agent.objects.filter(manager__isnull=True, employee_number__startswith="B").select_related("user").first()
    if head is None:
        return None, 0
    client = Client()
    client.force_login(head.user)
    return client, Agent.objects.filter(manager=head).count()


def main():
    args = parse_args()
    url = os.environ.get("DATABASE_URL", DEFAULT_URL)
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit("bench/completions.py measures PostgreSQL only: set DATABASE_URL=postgres://…")
    name = database_name(url)
    if "bench" not in name:
        sys.exit(f"Refusing to write to database {name!r}: use a dedicated database whose name contains 'bench'.")
    if ensure_database(url):
        print(f"created database {name}")
    setup_django(url)
    migrate()

    from django.db import connections
    from django.test import Client

    size = existing_size()
    wanted = (args.agents, args.courses, args.agents * args.courses)
    if args.rebuild or size != wanted:
        if any(size):
            connections.close_all()
            ensure_database(url, drop=True)
            migrate()
        print(f"building {args.agents} agents x {args.courses} courses in {name}…", flush=True)
        build(args.agents, args.courses)
    else:
        print(f"reusing {size[0]} agents x {size[1]} courses = {size[2]} enrolments in {name}")

    user = hr_user()
    client = Client()
    client.force_login(user)
    total = wanted[2]

    time_copy(user)  # warm the cache the same way for both measurements
    export_rows, export_bytes, export_seconds, export_cpu = time_export(client)
    copy_rows, copy_seconds = time_copy(user)
    assert export_rows == copy_rows == total, (export_rows, copy_rows, total)
    export_rate, copy_rate = export_rows / export_seconds, copy_rows / copy_seconds
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    latencies, queries = time_pages(client, args.runs)
    walk_rows, walk_seconds = walk_pages(client) if args.walk else (0, 0)
    head, reports = bureau_head_client()
    head_page = time_request(head, "/api/v1/completions/?page_size=1000") if head else None

    print()
    print(f"rows                          {total:>12,}")
    print(f"export.csv (Django, streamed) {export_rate:>12,.0f} rows/s  ({export_seconds:.1f} s, "
          f"{export_bytes / 1e6:,.0f} MB, Python CPU {export_cpu:.1f} s, peak RSS {peak_mb:,.0f} MB)")  # fmt: skip
    print(f"COPY TO STDOUT (same SELECT)  {copy_rate:>12,.0f} rows/s  ({copy_seconds:.1f} s)")
    print(f"ratio export / COPY           {export_rate / copy_rate:>12.2f}")
    print(f"plan settings                 {plan_settings()}")
    if walk_rows:
        walk_rate = walk_rows / walk_seconds
        print(f"API walk, page_size=1000      {walk_rate:>12,.0f} rows/s  ({walk_seconds:.1f} s, "
              f"{walk_rows:,} rows, ratio to COPY {walk_rate / copy_rate:.2f})")  # fmt: skip
    print(f"page of 1,000 (HR, {args.runs} pages)  median {statistics.median(latencies) * 1000:,.1f} ms, "
          f"min {min(latencies) * 1000:,.1f} ms, max {max(latencies) * 1000:,.1f} ms, "
          f"queries per page {sorted(set(queries))}")  # fmt: skip
    if head_page:
        latency, count, body = head_page
        print(f"first page, bureau head ({reports} reports, recursive CTE, {len(body['results'])} rows)  "
              f"{latency * 1000:,.1f} ms, {count} queries")  # fmt: skip


if __name__ == "__main__":
    main()
