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
- ``appraisal.pdf.export_zip`` for one service: reports per second and queries, in process,
  then as chunk tasks run by 1 and 2 ``db_worker`` processes (``--workers``).
- the launch beside its previous Python path (rows read, instances bulk-created).

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

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pgdb import database_name, ensure_database  # noqa: E402  (bench/, beside this script)

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/parcours_bench_appraisal"
BENCH_CAMPAIGN = "Campagne du banc d'essai"
RUNS = 5
EXPORT_TARGET = 100  # final reports in the exported unit, about


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agents", type=int, default=55_000)
    parser.add_argument("--rebuild", action="store_true", help="drop the database and build the directory again")
    parser.add_argument("--pdf-reports", type=int, default=20, help="final reports rendered for the PDF mean")
    parser.add_argument(
        "--workers", type=int, nargs="*", default=[1, 2], help="db_worker processes for the parallel export"
    )
    return parser.parse_args()


# --- database ------------------------------------------------------------------------------------


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


def python_launch(campaign):
    """The launch as it was before issue 15 (for the side-by-side figure): the population's
    rows read into Python, ``Appraisal`` instances built and bulk-created in batches."""
    from django.db import transaction

    from appraisal.models import Appraisal
    from appraisal.services import BATCH, population

    rows = population(campaign).order_by("pk").values_list("pk", "manager_id", "manager__manager_id", "manager__active")
    to_create = [
        Appraisal(campaign_id=campaign.pk, agent_id=pk, evaluator_id=manager, reviewer_id=n2)
        for pk, manager, n2, active in rows
        if manager is not None and active
    ]
    for start in range(0, len(to_create), BATCH):
        with transaction.atomic():
            Appraisal.objects.bulk_create(to_create[start : start + BATCH], batch_size=BATCH, ignore_conflicts=True)
    return len(to_create)


def drop_previous_campaigns(keep=None):
    from django.db import transaction

    from appraisal.models import (
        Appraisal,
        AppraisalAccessLog,
        AppraisalTransition,
        AppraisalVersion,
        Campaign,
        Objective,
    )

    campaigns = Campaign.objects.filter(name=BENCH_CAMPAIGN).exclude(pk=keep)
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

    # 1. Launch: INSERT … SELECT (services.launch_campaign, ANALYZE included) beside the
    # previous Python path (rows read, Appraisal instances bulk_created), on a throw-away campaign.
    baseline = create_campaign()
    created_before, seconds_before, queries_before = measure(lambda: python_launch(baseline))
    drop_previous_campaigns(keep=campaign.pk)
    launched, seconds, queries = measure(lambda: services.launch_campaign(campaign_id=campaign.pk))
    created = launched.launch_report["created"]
    print()
    print(
        f"launch_campaign (INSERT … SELECT): {created:,} appraisals in {seconds:.2f} s ({created / seconds:,.0f}/s), "
        f"{queries} queries; {len(launched.launch_report['without_manager'])} agents without N+1 listed"
    )
    print(
        f"  baseline, rows through Python + bulk_create: {created_before:,} appraisals in {seconds_before:.2f} s "
        f"({created_before / seconds_before:,.0f}/s), {queries_before} queries; "
        f"ratio {seconds_before / seconds:.1f}x"
    )

    # 2. The demo's bulk spread of states (realistic data for what follows).
    campaign.refresh_from_db()
    hr = get_user_model().objects.get(username="hr")
    scatter = demo.Scatter(campaign, random.Random(2026), timezone.now(), hr_user_id=hr.pk)
    rows = scatter.rows([], [])
    counts, seconds, queries = measure(lambda: scatter.apply(rows))
    print(
        f"demo scatter of states: {len(rows):,} appraisals in {seconds:.2f} s ({queries} queries): "
        + ", ".join(f"{state} {n:,}" for state, n in counts.items())
    )
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
        print(
            f"unit_progress ({root.code}: {len(result['rows'])} rows): {queries} queries, "
            f"median {seconds * 1000:.0f} ms"
        )
    try:
        from django.urls import reverse

        page = reverse("appraisal_hr:dashboard", args=[campaign.pk])
    except Exception:  # noqa: BLE001 - the HR pages are optional
        page = None
    if page:
        client = Client()
        client.force_login(hr)
        for label, query in (
            ("top level", ""),
            (root.code, f"?unit={root.code}"),
            (direction.code, f"?unit={direction.code}"),
        ):
            response, seconds, queries = measure(lambda q=query: client.get(page + q), RUNS)
            print(
                f"HR page {page}{query} ({label}): HTTP {response.status_code}, {queries} queries, "
                f"median {seconds * 1000:.0f} ms"
            )

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
        print(
            f"render_pdf: mean {statistics.mean(times):.3f} s per report over {len(times)} reports "
            f"(median {statistics.median(times):.3f} s, first render {warm_up:.2f} s, "
            f"mean size {statistics.mean(sizes) / 1024:.0f} KB)"
        )

    # 5. Bulk export of one unit: in this process (chunks one after the other), then as tasks
    # (one per chunk) run by WORKERS database-backend workers, each time with nothing archived.
    target = pick_export_unit(campaign)
    unit, total = target["unit"], target["counts"]["final"]
    print()
    unarchive(campaign)
    name, seconds, queries = measure(
        lambda: pdf.export_zip(campaign_id=campaign.pk, org_unit_code=unit.code, requested_by_id=hr.pk)
    )
    size = pdf.chunk_size(total) if hasattr(pdf, "chunk_size") else pdf.EXPORT_BATCH
    chunks = -(-total // size)
    print(
        f"export_zip {unit.code} ({unit.name}), in process: {total} final reports in {seconds:.1f} s "
        f"({total / seconds:.1f} reports/s), {queries} queries ({chunks} chunks of {size}), "
        f"{pdf.private_storage().size(name) / 1024 / 1024:.1f} MB"
    )
    archived = Appraisal.objects.filter(campaign=campaign, state=S.FINAL).exclude(pdf="").count()
    print(f"  (reports archived on the way: {archived})")
    for workers in args.workers:
        unarchive(campaign)
        seconds, status = parallel_export(campaign, unit, hr, workers)
        print(
            f"export_zip {unit.code} as tasks, {workers} db_worker(s): {status['done']} reports in {seconds:.1f} s "
            f"({status['done'] / seconds:.1f} reports/s), status {status['status']}, "
            f"{status['chunks']} chunk tasks + 1 assembling task"
        )


def unarchive(campaign):
    """Forget the archived PDFs of the bench campaign, so that an export renders them all."""
    from appraisal.models import Appraisal

    Appraisal.objects.filter(campaign=campaign).exclude(pdf="").update(pdf="")


def parallel_export(campaign, unit, hr, workers):
    """Enqueue the export on the database backend and let ``workers`` db_worker processes (same
    database, same private directory) run its chunk tasks; (seconds until done, status)."""
    import subprocess

    from django.conf import settings
    from django.test import override_settings

    from appraisal import pdf, tasks

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "cms.settings.dev",
        "TASKS_BACKEND": "db",
        "PRIVATE_ROOT": str(settings.PRIVATE_ROOT),
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "LOG_LEVEL": "ERROR",
    }
    command = [
        sys.executable,
        str(ROOT / "manage.py"),
        "db_worker",
        "--interval",
        "0.05",
        "--no-startup-delay",
        "--no-reload",
    ]
    processes = [
        subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(workers)
    ]
    try:
        time.sleep(3)  # the workers import Django
        db_tasks = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
        with override_settings(TASKS=db_tasks):
            started = time.perf_counter()
            result = tasks.export_zip_task.enqueue(
                campaign_id=campaign.pk, org_unit_code=unit.code, requested_by_id=hr.pk
            )
            while True:
                status = pdf.export_status(result.id)
                if status and status["status"] in ("done", "failed"):
                    return time.perf_counter() - started, status
                time.sleep(0.1)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)


if __name__ == "__main__":
    main()
