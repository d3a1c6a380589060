"""Production: every secret comes from the environment; the process refuses to start
without it. See docs/deployment.md for the variables."""

import os

from django.core.exceptions import ImproperlyConfigured

REQUIRED = ["SECRET_KEY", "DATABASE_URL", "ALLOWED_HOSTS", "WAGTAILADMIN_BASE_URL"]
_missing = [name for name in REQUIRED if not os.environ.get(name)]
if _missing:
    raise ImproperlyConfigured(
        "Production settings need these environment variables: " + ", ".join(_missing)
    )

from .base import *  # noqa: E402, F403

DEBUG = False
PRODUCTION = True
SECRET_KEY = os.environ["SECRET_KEY"]
ALLOWED_HOSTS = [h.strip() for h in os.environ["ALLOWED_HOSTS"].split(",") if h.strip()]
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]

SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)  # noqa: F405
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000, minimum=0)  # noqa: F405
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
# Cache shared by every process: Redis when REDIS_URL is set, else the database table.
CACHE_BACKEND = os.environ.get("CACHE_BACKEND") or ("redis" if os.environ.get("REDIS_URL") else "db")
if CACHE_BACKEND == "locmem":
    raise ImproperlyConfigured(
        "CACHE_BACKEND=locmem is for tests only: each process would keep its own login and "
        "password-reset counters. Use db or redis."
    )
CACHES = cache_settings(CACHE_BACKEND)  # noqa: F405

STORAGES["staticfiles"] = {  # noqa: F405
    "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
}

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)  # noqa: F405
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)  # noqa: F405
