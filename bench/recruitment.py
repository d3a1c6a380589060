"""Benchmark of recruitment at a big city's yearly volume, on PostgreSQL.

    .venv/bin/python bench/recruitment.py                      # 100,000 applications, 300 openings
    .venv/bin/python bench/recruitment.py --applications 20000 --rebuild

PostgreSQL only. ``DATABASE_URL`` (default
``postgres://postgres@127.0.0.1:5432/parcours_bench_recruitment``) must name a dedicated
database whose name contains "bench": it is created when missing and migrated; with
``--rebuild`` it is dropped and created again. The data is reused when present:

- a small demo directory (``seed_demo --agents N``, cms seeders only) for HR and agents;
- a "Bench: offres" listing with ``--openings`` published openings (``save_revision().publish()``),
  all managed by the user ``bench_recruiter``;
- ``--applications`` applications written in bulk with their candidates and their move
  events (paths and dates as in the demo): one big opening holds ``--big`` of them, one
  small opening 10, the others share the rest.

Prints, from one run (never asserts on time):
- ``recruitment.selectors.board`` for the big and the small opening: queries (must be
  equal) and median time;
- ``GET /api/v1/applications/`` as HR and as the recruiter at ``page_size`` 100 and 1000,
  first page and a page deep in the cursor: queries (must be equal) and median time;
- the report: ``recruitment.reports.report_for`` over a year (all openings, and the big
  one), ``GET /api/v1/recruitment/report/`` and the page ``/recrutement/rapports/``:
  queries and median time.

Settings: ``cms.settings.test`` (tasks run immediately, DEBUG off).
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

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/parcours_bench_recruitment"
INDEX_SLUG = "bench-offres"
RECRUITER = "bench_recruiter"
RUNS = 5
BATCH = 5000


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--applications", type=int, default=100_000)
    parser.add_argument("--openings", type=int, default=300)
    parser.add_argument("--big", type=int, default=20_000, help="applications of the biggest opening")
    parser.add_argument("--agents", type=int, default=2_000)
    parser.add_argument("--rebuild", action="store_true", help="drop the database and build everything again")
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


def measure(func, runs=RUNS):
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


def ms(seconds):
    return f"{seconds * 1000:,.0f} ms"


# --- data ----------------------------------------------------------------------------------------------


def build_directory(agents):
    from django.core.management import call_command

    from cms import seed
    from cms.models import Agent

    present = Agent.objects.count()
    if present:
        print(f"directory: {present:,} agents already there")
        return
    seed._SEEDERS = {key: value for key, value in seed._SEEDERS.items() if key.startswith("cms.")}
    os.environ.setdefault("DEMO_PASSWORD", "banc-d-essai-2026")
    started = time.perf_counter()
    call_command("seed_demo", agents=agents, verbosity=0)
    print(f"directory: {agents:,} agents built by seed_demo in {time.perf_counter() - started:.1f} s")


def build_openings(count):
    """``count`` published openings under the bench listing (the missing ones are created)."""
    from datetime import timedelta

    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from cms.models import OrgUnit
    from cms.services import ensure_home_page
    from recruitment.models import JobIndexPage, JobOpeningPage

    recruiter, _created = get_user_model().objects.get_or_create(
        username=RECRUITER, defaults={"first_name": "Banc", "last_name": "Recruteur", "email": "bench@example.org"}
    )
    index = JobIndexPage.objects.filter(slug=INDEX_SLUG).first()
    if index is None:
        index = JobIndexPage(title="Bench: offres", slug=INDEX_SLUG)
        ensure_home_page().add_child(instance=index)
        index.save_revision().publish()
    present = JobOpeningPage.objects.child_of(index).count()
    units = list(OrgUnit.objects.order_by("path")[:200])
    today = timezone.localdate()
    started = time.perf_counter()
    for number in range(present, count):
        opening = JobOpeningPage(
            title=f"Poste de banc d'essai {number:03d}", slug=f"bench-{number:03d}", reference=f"BENCH-{number:04d}",
            org_unit=units[number % len(units)], category="ABC"[number % 3], corps="Attachés", grades="Attaché",
            location_name="Hôtel de Ville", street_address="Place de l'Hôtel de Ville", postal_code="75004",
            missions="<p>Missions.</p>", profile="<p>Profil.</p>", vacancy_date=today + timedelta(days=60),
            application_deadline=today + timedelta(days=30), internal_only=number % 10 == 0,
        )  # fmt: skip
        index.add_child(instance=opening)
        opening.recruiters.add(recruiter)
        opening.save_revision().publish()
    if count > present:
        print(f"openings: {count - present} published in {time.perf_counter() - started:.1f} s")
    openings = list(JobOpeningPage.objects.child_of(index).order_by("reference"))
    return index, openings, recruiter


def build_applications(openings, total, big, recruiter):
    """Applications in bulk: the first opening gets ``big``, the second 10, the others share the rest."""
    from django.utils import timezone

    from recruitment import demo
    from recruitment.choices import TERMINAL, ApplicationStatus
    from recruitment.models import Application, ApplicationEvent, Candidate

    present = Application.objects.filter(opening__in=openings).count()
    if present >= total:
        print(f"applications: {present:,} already there")
        return
    if present:
        raise SystemExit(f"{present:,} applications present, not {total:,}: run again with --rebuild")
    rng = random.Random(2026)
    now = timezone.now()
    rest = total - big - 10
    shares = [big, 10] + [rest // (len(openings) - 2) + (1 if i < rest % (len(openings) - 2) else 0)
                          for i in range(len(openings) - 2)]  # fmt: skip
    targets = [opening for opening, n in zip(openings, shares, strict=True) for _ in range(n)]
    phases = {opening.pk: ("early", "mid", "late")[i % 3] for i, opening in enumerate(openings)}
    started = time.perf_counter()
    for start in range(0, len(targets), BATCH):
        chunk = targets[start : start + BATCH]
        candidates, applications, paths = [], [], []
        for offset, opening in enumerate(chunk):
            n = start + offset
            phase = phases[opening.pk]
            final = demo.weighted(rng, demo.PHASES[phase]) if n % 50 else ApplicationStatus.HIRED
            path = demo.path_to(rng, final)
            dates = demo.timeline(rng, path, phase, now)
            email = f"candidat{n}@example.org"
            candidates.append(Candidate(first_name="Candidat", last_name=f"N{n}", email=email, email_normalised=email,
                                        phone="", phone_normalised="", last_contact_at=dates[-1]))  # fmt: skip
            applications.append(Application(
                opening=opening, reference=f"B-{n:08d}", status=path[-1], submitted_at=dates[0],
                status_changed_at=dates[-1], closed_at=dates[-1] if path[-1] in TERMINAL else None,
                is_internal=n % 5 == 0,
            ))  # fmt: skip
            paths.append((path, dates))
        Candidate.objects.bulk_create(candidates, batch_size=BATCH)
        for application, candidate in zip(applications, candidates, strict=True):
            application.candidate = candidate
        Application.objects.bulk_create(applications, batch_size=BATCH)
        events = [
            ApplicationEvent(application=application, kind="move", from_status=path[i - 1] if i else "",
                             to_status=status, at=at, actor=recruiter if i else None)
            for application, (path, dates) in zip(applications, paths, strict=True)
            for i, (status, at) in enumerate(zip(path, dates, strict=True))
        ]  # fmt: skip
        ApplicationEvent.objects.bulk_create(events, batch_size=BATCH)
    seconds = time.perf_counter() - started
    print(f"applications: {len(targets):,} with candidates and move events written in {seconds:.1f} s "
          f"({len(targets) / seconds:,.0f}/s)")  # fmt: skip


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

    from recruitment import reports, selectors
    from recruitment.models import Application, ApplicationEvent

    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}")
    build_directory(args.agents)
    _index, openings, recruiter = build_openings(args.openings)
    build_applications(openings, args.applications, args.big, recruiter)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"totals: {Application.objects.count():,} applications, {ApplicationEvent.objects.count():,} events, "
          f"{len(openings)} bench openings")  # fmt: skip
    big, small = openings[0], openings[1]
    n_big = Application.objects.filter(opening=big).count()
    n_small = Application.objects.filter(opening=small).count()

    # 1. The board.
    print()
    for label, opening, n in (("big", big, n_big), ("small", small, n_small)):
        result, seconds, queries = measure(lambda opening=opening: selectors.board(opening))
        shown = sum(len(column.cards) for column in result.columns)
        print(f"board ({label} opening, {n:,} applications, {shown} cards): {queries} queries, median {ms(seconds)}")

    # 2. The applications API.
    print()
    hr = get_user_model().objects.get(username="hr")
    for who, user in (("hr", hr), ("recruiter", recruiter)):
        client = Client()
        client.force_login(user)
        for size in (100, 1000):
            url_ = f"/api/v1/applications/?page_size={size}"
            response, seconds, queries = measure(lambda url_=url_, client=client: client.get(url_))
            assert response.status_code == 200, response.content[:500]
            body = response.json()
            deep = body["next"]
            for _ in range(5):  # a page further down the cursor
                deep = client.get(deep).json()["next"] or deep
            deep_response, deep_seconds, deep_queries = measure(lambda deep=deep, client=client: client.get(deep))
            print(f"GET applications/ as {who}, page_size={size}: {len(body['results'])} items, {queries} queries, "
                  f"median {ms(seconds)}; 6th page: {deep_queries} queries, median {ms(deep_seconds)}")  # fmt: skip
        url_ = f"/api/v1/applications/?page_size=1000&opening={big.pk}&status=received,screening"
        response, seconds, queries = measure(lambda url_=url_, client=client: client.get(url_))
        print(f"GET applications/ as {who}, big opening, 2 statuses: {len(response.json()['results'])} items, "
              f"{queries} queries, median {ms(seconds)}")  # fmt: skip

    # 3. The report.
    print()
    year = reports.period_from(None, None)
    for who, user in (("hr", hr), ("recruiter", recruiter)):
        user = get_user_model().objects.get(pk=user.pk)  # groups not cached yet: counted once
        report, seconds, queries = measure(lambda user=user: reports.report_for(user, year))
        print(f"report_for({who}, last 365 days): {report.applications:,} applications, {report.hires:,} hires "
              f"(median {report.median_days} d), {queries} queries, median {ms(seconds)}")  # fmt: skip
    report, seconds, queries = measure(lambda: reports.report_for(hr, year, big))
    print(f"report_for(hr, big opening): {report.applications:,} applications, {queries} queries, median {ms(seconds)}")
    print("funnel (all openings): " + ", ".join(
        f"{stage.status} {stage.count:,}" for stage in reports.report_for(hr, year).funnel))  # fmt: skip
    for who, user in (("hr", hr), ("recruiter", recruiter)):
        client = Client()
        client.force_login(user)
        for label, url_ in (("API recruitment/report/", "/api/v1/recruitment/report/"),
                            ("API recruitment/report/?opening=big", f"/api/v1/recruitment/report/?opening={big.pk}"),
                            ("page /recrutement/rapports/", "/recrutement/rapports/")):  # fmt: skip
            response, seconds, queries = measure(lambda url_=url_, client=client: client.get(url_))
            assert response.status_code == 200, response.content[:500]
            print(f"{label} as {who}: {queries} queries, median {ms(seconds)}")


if __name__ == "__main__":
    main()
