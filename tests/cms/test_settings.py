"""Production settings: secrets from the environment only, `check --deploy` clean."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_ENV = {
    "SECRET_KEY": secrets.token_urlsafe(50),
    "DATABASE_URL": "sqlite:////tmp/parcours-deploy-check.sqlite3",
    "ALLOWED_HOSTS": "parcours.example.org",
    "WAGTAILADMIN_BASE_URL": "https://parcours.example.org",
}


def run_manage(*args, extra_env):
    env = {k: v for k, v in os.environ.items() if k not in PRODUCTION_ENV and k != "DJANGO_SETTINGS_MODULE"}
    env.update(extra_env, DJANGO_SETTINGS_MODULE="cms.settings.production")
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_production_refuses_to_start_without_its_secrets():
    result = run_manage("check", extra_env={})
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr and "DATABASE_URL" in result.stderr


def test_check_deploy_is_clean_with_the_documented_variables():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", extra_env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_documented_variables_are_the_required_ones():
    doc = (ROOT / "docs" / "deployment.md").read_text()
    for name in PRODUCTION_ENV:
        assert f"`{name}`" in doc


def test_csp_is_strict_on_the_site_and_off_in_the_wagtail_admin(client, db):
    from cms.services import ensure_home_page

    ensure_home_page()
    site = client.get("/")
    assert "script-src 'self'" in site["Content-Security-Policy"]
    assert "Content-Security-Policy" not in client.get("/admin/login/")
