"""Benchmark of the annual appraisal at the scale of a whole city, on PostgreSQL.

    .venv/bin/python bench/appraisal.py                    # 55,000 agents
    .venv/bin/python bench/appraisal.py --agents 5000 --rebuild

PostgreSQL only. ``DATABASE_URL`` (default
``postgres://postgres@127.0.0.1:5432/parcours_bench_appraisal``) must name a dedicated
database whose name contains "bench": it is created when missing and migrated; with
``--rebuild`` (or when it holds a directory of another size) it is dropped and created
again. The directory is the demo one (``seed_demo --agents N`` with the cms seeders only:
directions → services → bureaux, every agent with N+1 and N+2), reused when present.
Each run replaces the previous bench campaign.

Prints, from one run:
- the launch of a campaign over the whole organisation (``services.launch_campaign``):
  seconds, appraisals per second, queries;
- the demo's bulk spread of states over those appraisals (``appraisal.demo.Scatter``);
- the HR dashboard: ``selectors.progress_by_unit`` for the directions and for one direction
  (queries, median time), and the HR page ``/rh/entretiens/<id>/`` as HR through
  ``django.test.Client`` (top level and one direction);
- ``appraisal.pdf.render_pdf``: mean seconds per report over 20 final reports (after one
  warm-up render);
- ``appraisal.pdf.export_zip`` for one service: reports per second.

Never asserts on time: it prints figures. Settings: ``cms.settings.test`` (tasks run
immediately, private files in a temporary directory, DEBUG off).
"""

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/parcours_bench_appraisal"
BENCH_CAMPAIGN = "Campagne du banc d'essai"
RUNS = 5
EXPORT_TARGET = 100  # final reports in the exported unit, about


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agents", type=int, default=55_000)
    parser.add_argument("--rebuild", action="store_true", help="drop the database and build the directory again")
    parser.add_argument("--pdf-reports", type=int, default=20, help="final reports rendered for the PDF mean")
    return parser.parse_args()


# --- database ------------------------------------------------------------------------------------


def admin_conninfo(url):
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


def setup_django(url):
    os.environ["DATABASE_URL"] = url
    os.environ["TASKS_BACKEND"] = "immediate"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cms.settings.test")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


# --- helpers -------------------------------------------------------------------------------------


def measure(func, runs=1):
    """(result of the last run, median seconds, queries of the last run)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    seconds, result, count = [], None, 0
    for _run in range(runs):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            result = func()
            seconds.append(time.perf_counter() - started)
        count = len(queries)
    return result, statistics.median(seconds), count


def build_directory(agents):
    """The demo directory through seed_demo, the cms seeders only (reused when present)."""
    from django.core.management import call_command

    from cms import seed
    from cms.models import Agent

    present = Agent.objects.count()
    if present == agents:
        print(f"directory: {present:,} agents already there")
        return False
    if present:
        raise SystemExit(f"the database holds {present:,} agents, not {agents:,}: run again with --rebuild")
    seed._SEEDERS = {key: value for key, value in seed._SEEDERS.items() if key.startswith("cms.")}
    os.environ.setdefault("DEMO_PASSWORD", "banc-d-essai-2026")
    started = time.perf_counter()
    call_command("seed_demo", agents=agents, verbosity=0)
    print(f"directory: {agents:,} agents built by seed_demo in {time.perf_counter() - started:.1f} s")
    return True


def drop_previous_campaigns():
    from django.db import transaction

    from appraisal.models import (
        Appraisal,
        AppraisalAccessLog,
        AppraisalTransition,
        AppraisalVersion,
        Campaign,
        Objective,
    )

    campaigns = Campaign.objects.filter(name=BENCH_CAMPAIGN)
    appraisals = Appraisal.objects.filter(campaign__in=campaigns)
    with transaction.atomic():
        for model in (AppraisalAccessLog, AppraisalTransition, AppraisalVersion):
            model.objects.filter(appraisal__in=appraisals).delete()
        Objective.objects.filter(set_in__in=appraisals).delete()
        appraisals.delete()
        campaigns.delete()


def create_campaign():
    import datetime

    from django.utils import timezone

    from appraisal.defaults import ensure_default_template
    from appraisal.models import Campaign
    from cms.models import OrgUnit

    today = timezone.localdate()
    campaign = Campaign.objects.create(
        name=BENCH_CAMPAIGN,
        year=today.year,
        template=ensure_default_template(),
        starts_on=today - datetime.timedelta(days=75),
        interviews_until=today + datetime.timedelta(days=45),
        ends_on=today + datetime.timedelta(days=90),
    )
    campaign.org_units.set(OrgUnit.get_root_nodes())
    return campaign


def pick_export_unit(campaign):
    """The unit whose subtree holds the number of final reports closest to EXPORT_TARGET."""
    from appraisal import selectors

    rows = [row for row in selectors.unit_progress_detail(campaign) if row["counts"]["final"]]
    return min(rows, key=lambda row: abs(row["counts"]["final"] - EXPORT_TARGET))


# --- main ----------------------------------------------------------------------------------------


def main():
    args = parse_args()
    url = os.environ.get("DATABASE_URL", DEFAULT_URL)
    if not url.startswith("postgres") or "bench" not in database_name(url):
        raise SystemExit("DATABASE_URL must point to a dedicated PostgreSQL database whose name contains 'bench'")
    ensure_database(url, drop=args.rebuild)
    setup_django(url)

    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from appraisal import demo, pdf, selectors, services
    from appraisal.choices import AppraisalState as S
    from appraisal.models import Appraisal
    from cms.models import OrgUnit

    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}")
    build_directory(args.agents)
    drop_previous_campaigns()
    campaign = create_campaign()

    # 1. Launch.
    launched, seconds, queries = measure(lambda: services.launch_campaign(campaign_id=campaign.pk))
    created = launched.launch_report["created"]
    print()
    print(f"launch_campaign: {created:,} appraisals in {seconds:.2f} s ({created / seconds:,.0f}/s), "
          f"{queries} queries; {len(launched.launch_report['without_manager'])} agents without N+1 listed")

    # 2. The demo's bulk spread of states (realistic data for what follows).
    campaign.refresh_from_db()
    hr = get_user_model().objects.get(username="hr")
    scatter = demo.Scatter(campaign, random.Random(2026), timezone.now(), hr_user_id=hr.pk)
    rows = scatter.rows([], [])
    counts, seconds, queries = measure(lambda: scatter.apply(rows))
    print(f"demo scatter of states: {len(rows):,} appraisals in {seconds:.2f} s ({queries} queries): "
          + ", ".join(f"{state} {n:,}" for state, n in counts.items()))
    with connection.cursor() as cursor:  # what autovacuum would do after such a bulk change
        cursor.execute("ANALYZE")

    # 3. HR dashboard.
    print()
    root = OrgUnit.get_root_nodes().first()
    direction = root.get_children().order_by("code").first()
    for label, parent in (("roots", None), (root.code, root), (direction.code, direction)):
        rows, seconds, queries = measure(lambda p=parent: selectors.progress_by_unit(campaign, p), RUNS)
        print(f"progress_by_unit ({label}: {len(rows)} rows): {queries} queries, median {seconds * 1000:.0f} ms")
    if hasattr(selectors, "unit_progress"):
        result, seconds, queries = measure(lambda: selectors.unit_progress(campaign, root), RUNS)
        print(f"unit_progress ({root.code}: {len(result['rows'])} rows): {queries} queries, "
              f"median {seconds * 1000:.0f} ms")
    try:
        from django.urls import reverse

        page = reverse("appraisal_hr:dashboard", args=[campaign.pk])
    except Exception:  # noqa: BLE001 - the HR pages are optional
        page = None
    if page:
        client = Client()
        client.force_login(hr)
        for label, query in (("top level", ""), (root.code, f"?unit={root.code}"), (direction.code, f"?unit={direction.code}")):
            response, seconds, queries = measure(lambda q=query: client.get(page + q), RUNS)
            print(f"HR page {page}{query} ({label}): HTTP {response.status_code}, {queries} queries, "
                  f"median {seconds * 1000:.0f} ms")

    # 4. PDF rendering.
    print()
    finals = list(pdf.export_queryset(campaign, OrgUnit.get_root_nodes().first())[: args.pdf_reports + 1])
    if finals:
        started = time.perf_counter()
        pdf.render_pdf(finals[0])
        warm_up = time.perf_counter() - started
        times, sizes = [], []
        for appraisal in finals[1:]:
            started = time.perf_counter()
            sizes.append(len(pdf.render_pdf(appraisal)))
            times.append(time.perf_counter() - started)
        print(f"render_pdf: mean {statistics.mean(times):.3f} s per report over {len(times)} reports "
              f"(median {statistics.median(times):.3f} s, first render {warm_up:.2f} s, "
              f"mean size {statistics.mean(sizes) / 1024:.0f} KB)")

    # 5. Bulk export of one unit.
    target = pick_export_unit(campaign)
    unit, total = target["unit"], target["counts"]["final"]
    started = time.perf_counter()
    name = pdf.export_zip(campaign_id=campaign.pk, org_unit_code=unit.code, requested_by_id=hr.pk)
    seconds = time.perf_counter() - started
    print(f"export_zip {unit.code} ({unit.name}): {total} final reports in {seconds:.1f} s "
          f"({total / seconds:.1f} reports/s), {pdf.private_storage().size(name) / 1024 / 1024:.1f} MB")
    archived = Appraisal.objects.filter(campaign=campaign, state=S.FINAL).exclude(pdf="").count()
    print(f"  (reports archived on the way: {archived})")


if __name__ == "__main__":
    main()
