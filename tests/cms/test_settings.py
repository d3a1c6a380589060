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


# Set in this process by the test settings or CI; the production process decides on its own.
NOT_INHERITED = {"DJANGO_SETTINGS_MODULE", "TASKS_BACKEND", "CACHE_BACKEND", "REDIS_URL", "SECURE_HSTS_SECONDS"}


def run_manage(*args, extra_env, settings_module="cms.settings.production"):
    env = {k: v for k, v in os.environ.items() if k not in PRODUCTION_ENV and k not in NOT_INHERITED}
    env.update(extra_env, DJANGO_SETTINGS_MODULE=settings_module)
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


def setting_in(name, extra_env, settings_module="cms.settings.production"):
    code = f"from django.conf import settings; print(repr(settings.{name}))"
    result = run_manage("shell", "-c", code, extra_env=extra_env, settings_module=settings_module)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]  # after Django's "objects imported" note


def test_a_number_that_is_not_one_names_its_variable():
    result = run_manage("check", extra_env={**PRODUCTION_ENV, "SECURE_HSTS_SECONDS": "abc"})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SECURE_HSTS_SECONDS must be a whole number, not 'abc'" in result.stderr
    assert "ValueError" not in result.stderr


def test_check_deploy_warns_about_immediate_tasks_and_a_wildcard_host():
    env = {**PRODUCTION_ENV, "TASKS_BACKEND": "immediate", "ALLOWED_HOSTS": "*",
           "WAGTAILADMIN_BASE_URL": "http://parcours.example.org"}  # fmt: skip
    result = run_manage("check", "--deploy", extra_env=env)
    output = result.stdout + result.stderr
    for warning in ("cms.W001", "cms.W002", "cms.W003"):
        assert warning in output


def test_production_cache_is_shared():
    assert "RedisCache" in setting_in("CACHES", {**PRODUCTION_ENV, "REDIS_URL": "redis://cache:6379/1"})
    db_cache = setting_in("CACHES", PRODUCTION_ENV)
    assert "DatabaseCache" in db_cache and "parcours_cache" in db_cache
    result = run_manage("check", extra_env={**PRODUCTION_ENV, "CACHE_BACKEND": "locmem"})
    assert result.returncode != 0 and "CACHE_BACKEND=locmem is for tests only" in result.stderr


def test_session_lifetime_comes_from_session_hours():
    assert setting_in("SESSION_COOKIE_AGE", PRODUCTION_ENV) == str(8 * 3600)
    assert setting_in("SESSION_COOKIE_AGE", {**PRODUCTION_ENV, "SESSION_HOURS": "2"}) == str(2 * 3600)


def test_api_tokens_and_login_throttling_settings(settings):
    assert "rest_framework.authtoken" not in settings.INSTALLED_APPS and "knox" in settings.INSTALLED_APPS
    assert settings.REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"][0] == "cms.api.authentication.ApiTokenAuthentication"
    assert settings.REST_KNOX["AUTH_HEADER_PREFIX"] == "Token"
    assert settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]
    assert settings.AXES_FAILURE_LIMIT == 5 and settings.AXES_COOLOFF_TIME.total_seconds() == 15 * 60
    from axes.handlers.database import AxesDatabaseHandler
    from django.utils.module_loading import import_string

    assert issubclass(import_string(settings.AXES_HANDLER), AxesDatabaseHandler)  # stored in the shared database
    assert settings.AXES_CLIENT_IP_CALLABLE == "cms.auth_security.client_ip_for_axes"  # cms.net.client_ip, validated
    assert settings.WAGTAIL_GRAVATAR_PROVIDER_URL is None


def test_deployment_doc_covers_the_cache_and_the_proxy():
    doc = (ROOT / "docs" / "deployment.md").read_text()
    for text in ("`TRUSTED_PROXY_COUNT`", "--forwarded-allow-ips", "client_max_body_size 12m;", "createcachetable",
                 "`CACHE_BACKEND`", "`SESSION_HOURS`", "`MAX_REQUEST_BODY_BYTES`"):  # fmt: skip
        assert text in doc
