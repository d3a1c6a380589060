"""Benchmark of content packages: the import of a large SCORM package, and the commit endpoint.

    .venv/bin/python bench/packages.py                                  # 2,000 files / 200 MB, 500 attempts
    .venv/bin/python bench/packages.py --files 40 --mb 4 --attempts 20  # a quick run
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/parcours_bench_packages .venv/bin/python bench/packages.py

Database: without ``DATABASE_URL``, a throw-away SQLite file in a temporary directory;
with it, PostgreSQL or SQLite as given. A PostgreSQL database must have "bench" in its
name (the script writes to it): it is created when missing and migrated. Settings:
``cms.settings.test`` (DEBUG off, private files in a temporary directory, removed at the
end) with ``TASKS_BACKEND=db``, as in production: the certificate of a completed
enrolment is queued for a worker, not rendered inside the timed request.

Prints:

1. **Import** (``learning.packages.importer.store_package``): a SCORM 1.2 package of
   ``--files`` files totalling ``--mb`` MB (random, incompressible bytes in most files,
   so the compression-ratio check passes; a few HTML/JS/CSS text files), written to a
   temporary zip file on disk (never held in memory), then imported from that open file:
   wall and CPU seconds, MB/s of uncompressed content, the peak of Python allocations
   during the import (``tracemalloc``) and the growth of the process's peak RSS
   (``getrusage``). Then the same file again (same SHA-256: the stored copy is reused).
2. **Commits**: ``--attempts`` agents enrolled in a course whose only step is the
   project's sample SCORM 1.2 package, each with an attempt opened by
   ``learning.services.launch_package``; then ``--commits`` commits per attempt, sent
   round-robin (commit 1 of every attempt, then commit 2…) through the real HTTP stack:
   ``django.test.Client`` logged in as the agent, ``POST
   /api/v1/me/package-attempts/<id>/commit/`` with a JSON body as the player sends it
   (``--via service`` calls ``learning.services.commit_package`` instead). The first
   commit carries every element and a 70 KB ``suspend_data`` (``--suspend-kb``), the
   middle ones small diffs (location, an interaction, the session time), the last one the
   score, ``passed`` and ``terminate``: that one completes the enrolment. Commits per
   second, median and p95 latency, per kind and overall, and the queries of one commit
   of each kind.

Never asserts on time: it prints figures. The bench's own rows (users ``pkgbench…``, the
course ``bench-packages``) are reused from one run to the next; their enrolments and
attempts are deleted at the start of each run, the imported 200 MB package at its end.
"""

import argparse
import io
import json
import logging
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
import tracemalloc
import zipfile
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

USER_PREFIX = "pkgbench"
COURSE_SLUG = "bench-packages"
TEXT_SHARE = 0.05  # share of the files that are text (HTML, JS, CSS): compressible
CHUNK = 1024 * 1024


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=2000, help="files in the generated package (default 2000)")
    parser.add_argument("--mb", type=float, default=200, help="uncompressed size of the package in MB (default 200)")
    parser.add_argument("--attempts", type=int, default=500, help="agents, each with one attempt (default 500)")
    parser.add_argument("--commits", type=int, default=5, help="commits per attempt, at least 2 (default 5)")
    parser.add_argument("--suspend-kb", type=int, default=70, help="suspend_data of the first commit (default 70)")
    parser.add_argument("--via", choices=("http", "service"), default="http", help="commit path (default http)")
    parser.add_argument("--skip-import", action="store_true", help="only the commit bench")
    parser.add_argument("--skip-commits", action="store_true", help="only the import bench")
    args = parser.parse_args(argv)
    if args.commits < 2:
        parser.error("--commits must be at least 2 (a first commit and the terminating one)")
    if args.files < 4:
        parser.error("--files must be at least 4 (manifest, page, script and one asset)")
    return args


# --- database ------------------------------------------------------------------------------------


def admin_conninfo(url):
    """The same server, database ``postgres`` (to create the bench database)."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/postgres", parts.query, parts.fragment))


def ensure_postgres_database(url):
    import psycopg
    from psycopg import sql

    name = urlsplit(url).path.lstrip("/")
    if "bench" not in name:
        sys.exit(f"refusing to write to the database {name!r}: its name must contain 'bench'")
    with psycopg.connect(admin_conninfo(url), autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def setup_django():
    """Configure the database and settings, then ``django.setup()``; returns a temporary
    directory to remove at the end (the throw-away SQLite), or None."""
    tmpdir = None
    url = os.environ.get("DATABASE_URL", "")
    if not url:
        tmpdir = tempfile.mkdtemp(prefix="parcours-bench-packages-")
        os.environ["DATABASE_URL"] = f"sqlite:///{tmpdir}/bench.sqlite3"
    elif url.startswith("postgres"):
        ensure_postgres_database(url)
    os.environ["TASKS_BACKEND"] = "db"  # as in production: certificates are rendered by a worker
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cms.settings.test")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    # force_login of each bench agent would print a "sign-in" audit line: not a figure.
    logging.getLogger("parcours.audit").setLevel(logging.WARNING)
    return tmpdir


def remove_private_root():
    """The test settings put private files in a fresh temporary directory: remove it."""
    from django.conf import settings

    private = Path(settings.PRIVATE_ROOT)
    if private.parent.name.startswith("parcours-test-files-"):
        shutil.rmtree(private.parent, ignore_errors=True)


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))]


# --- 1. import ----------------------------------------------------------------------------------


def large_manifest(asset_names):
    from learning.packages.sample import ADLCP12_NS, SCORM12_NS

    files = "\n".join(f'      <file href="{name}"/>' for name in asset_names)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<manifest identifier="parcours-bench-large" version="1" xmlns="{SCORM12_NS}" xmlns:adlcp="{ADLCP12_NS}">
  <metadata><schema>ADL SCORM</schema><schemaversion>1.2</schemaversion></metadata>
  <organizations default="ORG-1">
    <organization identifier="ORG-1">
      <title>Paquet volumineux du banc d'essai</title>
      <item identifier="ITEM-1" identifierref="RES-1"><title>Module volumineux</title></item>
    </organization>
  </organizations>
  <resources>
    <resource identifier="RES-1" type="webcontent" adlcp:scormtype="sco" href="index.html">
      <file href="index.html"/>
      <file href="sco.js"/>
{files}
    </resource>
  </resources>
</manifest>
"""


def write_large_package(path, *, files, megabytes):
    """Write a SCORM 1.2 zip of ``files`` files and about ``megabytes`` MB uncompressed to
    ``path``, streaming each member in 1 MB chunks; returns (uncompressed bytes, files)."""
    from learning.packages import sample

    total = int(megabytes * 1_000_000)
    assets = files - 3  # the manifest, the SCO page and its script
    text_count = max(1, round(assets * TEXT_SHARE))
    names = []
    for number in range(assets):
        if number < text_count:
            extension = ("html", "js", "css")[number % 3]
            names.append(f"story_content/text{number:05d}.{extension}")
        else:
            names.append(f"story_content/media/asset{number:05d}.bin")
    text_size = 20 * 1024
    binary_total = max(0, total - text_count * text_size)
    binary_count = assets - text_count
    base, extra = divmod(binary_total, max(1, binary_count))
    sco = sample.scorm12_files(title="Module volumineux", suspend_kb=70)
    written = 0
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        archive.writestr("imsmanifest.xml", large_manifest(names))
        archive.writestr("index.html", sco["index.html"])
        archive.writestr("sco.js", sco["sco.js"])
        written += sum(len(sco[name].encode()) for name in ("index.html", "sco.js"))
        written += len(large_manifest(names).encode())
        text_unit = ("/* Contenu du banc d'essai : texte répétitif, compressible. */\n" * 400).encode()[:text_size]
        for index, name in enumerate(names):
            if index < text_count:
                archive.writestr(name, text_unit)
                written += len(text_unit)
                continue
            size = base + (1 if index - text_count < extra else 0)
            info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            with archive.open(info, "w", force_zip64=size > 2**31) as member:
                left = size
                while left > 0:
                    chunk = os.urandom(min(CHUNK, left))
                    member.write(chunk)
                    left -= len(chunk)
            written += size
    return written, files


def bench_import(args):
    from cms.storage import private_storage
    from learning.packages.importer import store_package

    tmpdir = tempfile.mkdtemp(prefix="parcours-bench-zip-")
    try:
        path = Path(tmpdir) / "gros-paquet-scorm12.zip"
        started = time.perf_counter()
        uncompressed, files = write_large_package(path, files=args.files, megabytes=args.mb)
        compressed = path.stat().st_size
        print(f"  generated: {files} files, {uncompressed / 1e6:,.1f} MB uncompressed, "
              f"{compressed / 1e6:,.1f} MB zipped, in {time.perf_counter() - started:.1f} s")  # fmt: skip

        rss_before = peak_rss_mb()
        tracemalloc.start()
        started, cpu = time.perf_counter(), time.process_time()
        with open(path, "rb") as handle:
            package, created = store_package(handle)
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        _current, traced_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        rss_after = peak_rss_mb()
        print(f"  store_package: {wall:.1f} s wall ({cpu:.1f} s CPU), created={created}, "
              f"{package.file_count} files, {package.size / 1e6:,.1f} MB stored")  # fmt: skip
        print(f"  throughput: {uncompressed / 1e6 / wall:,.1f} MB/s uncompressed, {compressed / 1e6 / wall:,.1f} MB/s of zip")
        print(f"  memory: Python allocations peak {traced_peak / 1e6:,.1f} MB (tracemalloc); "
              f"process peak RSS {rss_before:,.0f} → {rss_after:,.0f} MB (+{rss_after - rss_before:,.0f} MB)")  # fmt: skip

        started = time.perf_counter()
        with open(path, "rb") as handle:
            again, created_again = store_package(handle)
        print(f"  same file again: {time.perf_counter() - started:.1f} s, created={created_again}, "
              f"same package: {again.pk == package.pk}")  # fmt: skip
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)
    cleanup_package(package, private_storage())


def cleanup_package(package, storage):
    """Delete the bench's large package (row and extracted files) unless something uses it."""
    if package.steps.exists() or package.attempts.exists():
        return
    root = Path(storage.path(package.root)) if hasattr(storage, "path") else None
    package.delete()
    if root is not None:
        shutil.rmtree(root, ignore_errors=True)


# --- 2. commits ---------------------------------------------------------------------------------


def bench_users(count):
    """``count`` users with an agent profile (created once, then reused)."""
    from django.contrib.auth import get_user_model

    from cms.models import Agent, OrgUnit

    User = get_user_model()
    unit = OrgUnit.objects.filter(code="BENCH-PKG").first() or OrgUnit.add_root(
        code="BENCH-PKG", name="Unité du banc d'essai des paquets", kind="bureau"
    )
    names = [f"{USER_PREFIX}{n:05d}" for n in range(1, count + 1)]
    existing = set(User.objects.filter(username__in=names).values_list("username", flat=True))
    User.objects.bulk_create(
        [User(username=name, first_name="Agent", last_name=name[-5:], email=f"{name}@example.org", password="!")
         for name in names if name not in existing],
        batch_size=500,
    )  # fmt: skip
    users = list(User.objects.filter(username__in=names).order_by("username"))
    with_agent = set(Agent.objects.filter(user__in=users).values_list("user_id", flat=True))
    Agent.objects.bulk_create(
        [Agent(user=user, employee_number=f"PKG{user.username[-5:]}", org_unit=unit, job_title="Agent", category="C")
         for user in users if user.pk not in with_agent],
        batch_size=500,
    )  # fmt: skip
    return list(User.objects.filter(username__in=names).select_related("agent").order_by("username"))


def bench_course():
    """A published course whose only step plays the sample SCORM 1.2 package."""
    from cms.services import ensure_home_page
    from learning.models import CourseIndexPage, CoursePage, PackageStepPage
    from learning.packages import sample
    from learning.packages.importer import import_package

    course = CoursePage.objects.filter(slug=COURSE_SLUG).first()
    if course is not None:
        step = PackageStepPage.objects.child_of(course).live().first()
        if step is not None:
            return course, step
    else:
        index = CourseIndexPage.objects.first()
        if index is None:
            index = CourseIndexPage(title="Formations", slug="formations")
            ensure_home_page().add_child(instance=index)
            index.save_revision().publish()
        course = CoursePage(
            title="Module SCORM du banc d'essai", slug=COURSE_SLUG, summary="Formation du banc d'essai.",
            theme="Banc", estimated_minutes=20, certificate=True,
        )  # fmt: skip
        index.add_child(instance=course)
        course.save_revision().publish()
    result = import_package(io.BytesIO(sample.scorm12_package(suspend_kb=1)), course=course, title="Module SCORM")
    step = PackageStepPage.objects.get(pk=result.step.pk)
    if not step.live:
        step.save_revision().publish()
    return course, step


def commit_bodies(sco, commits, suspend_kb):
    """The bodies one attempt sends, in order: (kind, body)."""
    filler = ("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ" * (suspend_kb * 17 + 1))[
        : suspend_kb * 1024
    ]
    bodies = [
        (
            "first (70 KB)" if suspend_kb == 70 else f"first ({suspend_kb} KB)",
            {
                "sco": sco,
                "seq": 1,
                "cmi": {
                    "cmi.core.lesson_status": "incomplete",
                    "cmi.core.lesson_location": "1",
                    "cmi.core.exit": "suspend",
                    "cmi.suspend_data": "screen=1;" + filler,
                },
                "terminate": False,
            },
        )
    ]
    for seq in range(2, commits):
        bodies.append(
            (
                "diff",
                {
                    "sco": sco,
                    "seq": seq,
                    "cmi": {
                        "cmi.core.lesson_location": str(seq),
                        f"cmi.interactions.{seq - 2}.id": f"q{seq - 1}",
                        f"cmi.interactions.{seq - 2}.type": "choice",
                        f"cmi.interactions.{seq - 2}.student_response": "a",
                        f"cmi.interactions.{seq - 2}.result": "correct",
                        "cmi.core.session_time": f"0000:0{min(seq, 9)}:00",
                    },
                    "terminate": False,
                },
            )
        )
    bodies.append(
        (
            "terminate",
            {
                "sco": sco,
                "seq": commits,
                "cmi": {
                    "cmi.core.score.min": "0",
                    "cmi.core.score.max": "100",
                    "cmi.core.score.raw": "90",
                    "cmi.core.lesson_status": "passed",
                    "cmi.core.exit": "",
                    "cmi.core.session_time": "0000:12:30",
                },
                "terminate": True,
            },
        )
    )
    return bodies


def bench_commits(args):
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from learning import services
    from learning.choices import EnrollmentStatus
    from learning.models import Enrollment

    started = time.perf_counter()
    users = bench_users(args.attempts)
    course, step = bench_course()
    Enrollment.objects.filter(course=course).delete()  # a fresh run: attempts go with their enrolments
    print(f"  {len(users)} agents and the course ready in {time.perf_counter() - started:.1f} s")

    started = time.perf_counter()
    attempts = [services.launch_package(user=user, step=step) for user in users]
    elapsed = time.perf_counter() - started
    print(f"  launch_package (enrols and opens the attempt): {len(attempts) / elapsed:,.0f} launches/s, "
          f"{elapsed / len(attempts) * 1000:.1f} ms each")  # fmt: skip

    sco = step.package.launchables[0]["identifier"]
    bodies = commit_bodies(sco, args.commits, args.suspend_kb)
    clients = {}
    if args.via == "http":
        for user in users:
            client = Client()
            client.force_login(user)
            clients[user.pk] = client

    def send(user, attempt, body):
        if args.via == "service":
            return services.commit_package(user=user, attempt_id=attempt.pk, data=body)
        url = reverse("api-package-commit", kwargs={"attempt_id": attempt.pk})
        response = clients[user.pk].post(url, data=json.dumps(body), content_type="application/json")
        if response.status_code != 200:
            raise SystemExit(f"commit answered {response.status_code}: {response.content[:300]!r}")
        return response.json()

    # Every commit is timed; the first attempt's commits also count their queries.
    queries = []
    latencies = {kind: [] for kind, _body in bodies}
    total_started, cpu_started = time.perf_counter(), time.process_time()
    for kind, body in bodies:
        for index, (user, attempt) in enumerate(zip(users, attempts, strict=True)):
            if index == 0:
                with CaptureQueriesContext(connection) as captured:
                    t0 = time.perf_counter()
                    send(user, attempt, body)
                    latencies[kind].append(time.perf_counter() - t0)
                queries.append((kind, len(captured)))
                continue
            t0 = time.perf_counter()
            send(user, attempt, body)
            latencies[kind].append(time.perf_counter() - t0)
    total, cpu = time.perf_counter() - total_started, time.process_time() - cpu_started
    count = sum(len(values) for values in latencies.values())
    everything = [value for values in latencies.values() for value in values]
    print(f"  {count} commits via {'HTTP (django.test.Client, session)' if args.via == 'http' else 'the service'}: "
          f"{count / total:,.0f} commits/s, median {statistics.median(everything) * 1000:.1f} ms, "
          f"p95 {percentile(everything, 0.95) * 1000:.1f} ms; {cpu / count * 1000:.1f} ms of Python CPU each")  # fmt: skip
    for kind, values in latencies.items():
        print(f"    {kind:<14} {len(values):>6} commits  median {statistics.median(values) * 1000:6.1f} ms  "
              f"p95 {percentile(values, 0.95) * 1000:6.1f} ms")  # fmt: skip
    print("  queries of the first attempt's commits: " + ", ".join(f"{kind} {n}" for kind, n in queries))
    completed = Enrollment.objects.filter(course=course, status=EnrollmentStatus.COMPLETED).count()
    print(f"  enrolments completed by the last commit: {completed} of {len(users)}")


def main(argv=None):
    args = parse_args(argv)
    tmpdir = setup_django()
    from django.db import connection

    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}; "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} (figures inflate with the load)")  # fmt: skip
    try:
        if not args.skip_import:
            print(f"\n1. import of a generated package ({args.files} files, {args.mb:g} MB):")
            bench_import(args)
        if not args.skip_commits:
            print(f"\n2. commits ({args.attempts} attempts × {args.commits} commits):")
            bench_commits(args)
        print(f"\npeak memory of the process: {peak_rss_mb():,.0f} MB")
    finally:
        remove_private_root()
        if tmpdir:
            connection.close()
            shutil.rmtree(tmpdir, ignore_errors=True)


if __name__ == "__main__":
    main()
