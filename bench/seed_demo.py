"""Benchmark of ``seed_demo``: a whole city's demo directory, then the same command again.

    .venv/bin/python bench/seed_demo.py                 # 55,000 agents, throw-away SQLite
    .venv/bin/python bench/seed_demo.py --agents 5000
    DATABASE_URL=postgres://… .venv/bin/python bench/seed_demo.py --use-env-db

By default it creates a fresh SQLite database in a temporary directory (``DATABASE_URL`` is
set before ``django.setup()``), migrates it, runs ``seed_demo --agents N`` and prints the
seconds and agents per second, then runs it a second time (idempotent: nothing is created)
and prints that time too. With ``--use-env-db`` it uses the database ``DATABASE_URL`` points
to instead (migrated first; it must not already hold another demo directory). With
``--directory-only`` the seeders of the apps (courses, campaigns, openings…) are skipped, to
time the directory alone. Settings: ``DJANGO_SETTINGS_MODULE`` or ``cms.settings.dev``.
Prints wall-clock and CPU seconds (the latter is what a busy machine does not inflate).
Never asserts on time: it prints figures.
"""

import argparse
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=55_000, help="agents to generate (default 55000)")
    parser.add_argument("--seed", type=int, default=2026, help="generator seed (default 2026)")
    parser.add_argument("--use-env-db", action="store_true", help="use DATABASE_URL instead of a temporary SQLite")
    parser.add_argument("--directory-only", action="store_true", help="skip the apps' seeders")
    parser.add_argument("--keep", action="store_true", help="keep the temporary database and print its path")
    parser.add_argument("--verbosity", type=int, default=1, help="seed_demo verbosity (0 hides its output)")
    args = parser.parse_args()

    tmpdir = None
    if not args.use_env_db:
        tmpdir = tempfile.mkdtemp(prefix="parcours-bench-seed-")
        os.environ["DATABASE_URL"] = f"sqlite:///{tmpdir}/bench.sqlite3"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cms.settings.dev")

    import django

    django.setup()
    from django.core.management import CommandError, call_command
    from django.db import connection

    from cms import seed

    if args.directory_only:
        seed._SEEDERS.clear()

    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}")
    started = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    print(f"migrate: {time.perf_counter() - started:.1f} s")

    def timed():
        started, cpu = time.perf_counter(), time.process_time()
        try:
            call_command("seed_demo", agents=args.agents, seed=args.seed, verbosity=args.verbosity)
        except CommandError as exc:  # a failing app seeder: the figures still say something
            print(f"seed_demo failed: {exc}")
        return time.perf_counter() - started, time.process_time() - cpu

    try:
        first, first_cpu = timed()
        second, second_cpu = timed()
    finally:
        if tmpdir and not args.keep:
            connection.close()
            shutil.rmtree(tmpdir, ignore_errors=True)

    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print()
    what = "directory only" if args.directory_only else "with every app's seeder"
    print(f"seed_demo --agents {args.agents} ({what}):")
    print(f"  first run: {first:.1f} s ({first_cpu:.1f} s CPU), {args.agents / first:,.0f} agents/s")
    print(f"  second run (nothing to create): {second:.1f} s ({second_cpu:.1f} s CPU)")
    print(f"peak memory: {peak_mb:,.0f} MB")
    if tmpdir and args.keep:
        print(f"database kept: {tmpdir}/bench.sqlite3")


if __name__ == "__main__":
    main()
