"""The newcomer's two commands (README): ``make run`` serves the demo with a task worker
beside the web server, on the port asked for, with links built on that address; ``make
test`` runs the lint, the migrations check and the suite. Read through ``make -n`` (what make
would run), so nothing is installed or started here."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


# A make that runs these tests (``make test E2E=0`` in CI) passes its variables down through
# MAKEFLAGS: the makes started here must not inherit them, nor the demo's base URL.
CLEAN_ENV = {
    key: value
    for key, value in os.environ.items()
    if key not in {"MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES", "WAGTAILADMIN_BASE_URL", "PORT", "E2E"}
}


def dry_run(*args):
    return subprocess.run(
        ["make", "-n", "--no-print-directory", *args], cwd=ROOT, capture_output=True, text=True, check=True,
        env=CLEAN_ENV,
    ).stdout  # fmt: skip


def test_make_run_starts_a_worker_beside_the_server_and_stops_it_with_the_server():
    script = dry_run("run", "PORT=8123")
    lines = script.splitlines()
    seed = next(i for i, line in enumerate(lines) if "manage.py seed_demo" in line)
    worker = next(i for i, line in enumerate(lines) if "manage.py db_worker" in line)
    server = next(i for i, line in enumerate(lines) if "manage.py runserver 127.0.0.1:8123" in line)
    assert seed < worker < server  # the demo exists before either starts
    assert lines[worker].rstrip(" \\").endswith("& worker=$!;")  # in the background, its pid kept
    trap = lines[worker + 1]
    assert "trap" in trap and "kill $worker" in trap and "INT" in trap and "TERM" in trap and "EXIT" in trap


def test_make_run_builds_links_on_the_port_it_serves():
    base = subprocess.run(
        ["make", "--no-print-directory", "PORT=8123", "--eval=print-base: ; @echo $(WAGTAILADMIN_BASE_URL)", "print-base"],
        cwd=ROOT, capture_output=True, text=True, check=True, env=CLEAN_ENV,
    ).stdout.strip()  # fmt: skip
    assert base == "http://127.0.0.1:8123"  # exported to seed_demo (the Site) and to the server


def test_make_test_runs_the_lint_the_migrations_check_the_suite_then_the_browser_tests():
    script = dry_run("test")
    assert "ruff check" in script and "makemigrations --check --dry-run" in script
    assert '-m "not e2e" tests' in script
    assert 'if [ "1" != 0 ]; then' in script and "-m e2e tests/e2e" in script  # make e2e, run by make test
    assert 'if [ "0" != 0 ]; then' in dry_run("test", "E2E=0")  # CI's PostgreSQL pass skips them
