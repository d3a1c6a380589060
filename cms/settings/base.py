"""Settings shared by every environment.

`DATABASE_URL` switches any environment to PostgreSQL; without it the site runs on an
embedded SQLite file. `TASKS_BACKEND` selects the background task backend: ``db``
(default, django_tasks_db, worker: ``manage.py db_worker``), ``rq`` (Redis at
``REDIS_URL``, worker: ``manage.py rqworker default``) or ``immediate`` (tests).
`CACHE_BACKEND` selects the cache shared by every process: ``db`` (default, table
``parcours_cache``, created by ``manage.py createcachetable``), ``redis`` (at ``REDIS_URL``)
or ``locmem`` (tests only: a per-process cache cannot hold login throttles).
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def env(name, default=None):
    return os.environ.get(name, default)


def env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name, default, *, minimum=None):
    """The environment variable ``name`` as an int (``default`` when unset or blank).

    A value that is not a whole number (or is below ``minimum``) stops the process with an
    ``ImproperlyConfigured`` naming the variable, rather than a bare ``ValueError``."""
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise ImproperlyConfigured(f"The environment variable {name} must be a whole number, not {raw!r}.") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"The environment variable {name} must be at least {minimum}, not {value}.")
    return value


INSTALLED_APPS = [
    "cms.apps.CmsConfig",
    "themes.apps.ThemesConfig",
    "learning.apps.LearningConfig",
    "appraisal.apps.AppraisalConfig",
    "recruitment.apps.RecruitmentConfig",
    "xapi.apps.XapiConfig",
    "identity.apps.IdentityConfig",
    "provisioning.apps.ProvisioningConfig",
    "wagtail.contrib.forms",
    "wagtail.contrib.redirects",
    "wagtail.contrib.settings",
    "wagtail.embeds",
    "wagtail.sites",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
    "rest_framework",
    "knox",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_tasks",
    "django_tasks_db",
    "django_rq",
    "axes",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "cms.middleware.RequestBodyLimitMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
    # Last, as django-axes requires: turns a lockout into the French "locked" response.
    "axes.middleware.AxesMiddleware",
]

# Largest request body accepted (bytes); the reverse proxy sets the same limit.
MAX_REQUEST_BODY_BYTES = env_int("MAX_REQUEST_BODY_BYTES", 12 * 1024 * 1024, minimum=1)
# Content packages (docs/packages.md): the admin's import page takes zips up to this size
# (the reverse proxy must allow it on that path too, docs/deployment.md); larger than
# PACKAGE_INLINE_MAX_BYTES, they are imported by a background task.
PACKAGE_UPLOAD_MAX_BYTES = env_int("PACKAGE_UPLOAD_MAX_BYTES", 2 * 1024**3, minimum=1)
# The package step's page form (add, and edit: any page's edit path) takes them too.
REQUEST_BODY_LIMITS = {
    "/admin/formations/paquets/importer/": PACKAGE_UPLOAD_MAX_BYTES,
    "/admin/pages/add/learning/packagesteppage/": PACKAGE_UPLOAD_MAX_BYTES,
    r"^/admin/pages/\d+/edit/$": PACKAGE_UPLOAD_MAX_BYTES,
}

# Reverse proxies in front of the application that append to X-Forwarded-For (cms.net.client_ip).
# 0: the header is ignored and REMOTE_ADDR is the client. See docs/deployment.md.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0, minimum=0)

ROOT_URLCONF = "cms.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "themes" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "wagtail.contrib.settings.context_processors.settings",
                "cms.context_processors.navigation",
                "themes.preferences.context",
            ],
        },
    },
]

WSGI_APPLICATION = "cms.wsgi.application"

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60, minimum=0),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web process read while a worker writes.
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].update(
        {"init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", "timeout": 20}
    )
    DATABASES["default"]["CONN_MAX_AGE"] = 0
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and not env_bool("DB_JIT"):
    # PostgreSQL's JIT compiles the queries it costs high (xAPI statement filters, exports) and
    # adds about a second to each for no gain at this size; DB_JIT=1 turns it back on.
    options = DATABASES["default"].setdefault("OPTIONS", {})
    options["options"] = (options.get("options", "") + " -c jit=off").strip()

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

AUTHENTICATION_BACKENDS = [
    # First, as django-axes requires: refuses any attempt on a locked account/IP pair.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "cms:mon_espace"
LOGOUT_REDIRECT_URL = "/"

# --- Sessions: SESSION_HOURS (default 8) bounds every session, server side too. Sessions of
# users without admin access (agents, often on shared computers) also end when the browser
# closes (cms.auth_security.expire_agent_sessions_at_browser_close).
SESSION_COOKIE_AGE = env_int("SESSION_HOURS", 8, minimum=1) * 3600

# --- Login throttling (django-axes), keyed by the (username, client address) pair: after
# AXES_FAILURE_LIMIT failures within AXES_COOLOFF_TIME the pair is locked for AXES_COOLOFF_TIME.
# axes' stock handlers count a "streak" (a failure older than the cool-off still counts as
# long as the next one came within the cool-off); cms.auth_security.SlidingWindowHandler counts
# only the failures of the last 15 minutes and anchors the lock at the failure that reached
# the limit. Failures refused during a lockout neither count nor extend it
# (AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False). Stored in the database (shared by
# every process); a successful sign-in from the same address starts a new count.
AXES_HANDLER = "cms.auth_security.SlidingWindowHandler"
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_RESET_ON_SUCCESS = False  # the handler ignores failures older than the last success itself
AXES_ENABLE_ACCESS_FAILURE_LOG = True  # the handler's store: one row per failure
AXES_CLIENT_IP_CALLABLE = "cms.auth_security.client_ip_for_axes"  # cms.net.client_ip, validated
AXES_LOCKOUT_CALLABLE = "cms.auth_security.lockout_response"  # French page, status 429
AXES_HTTP_RESPONSE_CODE = 429
AXES_VERBOSE = False

# --- Password reset: at most PASSWORD_RESET_MAX_PER_ADDRESS mails per address per hour
# (silently: the page is the same), and at most PASSWORD_RESET_MAX_PER_IP requests per client
# address per 15 minutes (429), counted in the shared cache.
PASSWORD_RESET_MAX_PER_ADDRESS = 3
PASSWORD_RESET_MAX_PER_IP = env_int("PASSWORD_RESET_MAX_PER_IP", 20, minimum=1)

# --- i18n: French first, English available
LANGUAGE_CODE = "fr"
# English dates and numbers in one format per kind (cms/formats/en): "6 December 2026", "06/12/2026".
FORMAT_MODULE_PATH = ["cms.formats"]
LANGUAGES = [("fr", _("Français")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "cms" / "locale"]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True
WAGTAILADMIN_PERMITTED_LANGUAGES = [("fr", "Français"), ("en", "English")]

# --- static and media. Private files (CVs, reports, certificates) live under
# PRIVATE_ROOT, which no URL serves: views check permission and stream them.
STATIC_URL = "/static/"
STATIC_ROOT = Path(env("STATIC_ROOT", BASE_DIR / "static"))
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env("MEDIA_ROOT", BASE_DIR / "media"))
# Django serves MEDIA_ROOT itself (cms/urls.py) only where no web server does: the dev and
# demo settings (`make run`, debug on or off). In production the reverse proxy serves it.
SERVE_MEDIA = False
PRIVATE_ROOT = Path(env("PRIVATE_ROOT", BASE_DIR / "private"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "private": {
        "BACKEND": "cms.storage.PrivateFileSystemStorage",
        "OPTIONS": {"location": str(PRIVATE_ROOT)},
    },
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# --- Wagtail
WAGTAIL_SITE_NAME = "Parcours"
WAGTAILADMIN_BASE_URL = env("WAGTAILADMIN_BASE_URL", "http://127.0.0.1:8000")
# Wagtail leaves the password field of its sign-in form without a label ("Password" in French).
WAGTAILADMIN_USER_LOGIN_FORM = "identity.forms.AdminLoginForm"
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database"}}
WAGTAILDOCS_EXTENSIONS = ["csv", "docx", "key", "odt", "pdf", "pptx", "rtf", "txt", "xlsx", "zip"]
WAGTAILEMBEDS_RESPONSIVE_HTML = True
WAGTAIL_GRAVATAR_PROVIDER_URL = None  # no request to a third party for every avatar

# --- Background tasks (django_tasks; Wagtail 8 uses it too)
_TASKS_BACKEND = env("TASKS_BACKEND", "db")
REDIS_URL = env("REDIS_URL", "redis://127.0.0.1:6379/0")
TASKS_BACKENDS = {
    "db": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]},
    "rq": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]},
    "immediate": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"},
}
if _TASKS_BACKEND not in TASKS_BACKENDS:
    raise RuntimeError(f"TASKS_BACKEND must be one of {sorted(TASKS_BACKENDS)}, not {_TASKS_BACKEND!r}")
TASKS = {"default": TASKS_BACKENDS[_TASKS_BACKEND]}
RQ_QUEUES = {"default": {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 3600}}

# --- Cache: shared by every web process and worker (login and password-reset throttles,
# rate limits, Wagtail's site root paths).
CACHE_TABLE = "parcours_cache"


def cache_settings(backend):
    if backend == "db":
        return {
            "default": {
                "BACKEND": "django.core.cache.backends.db.DatabaseCache",
                "LOCATION": CACHE_TABLE,
                # Django culls a third of the rows past MAX_ENTRIES (default 300), rate-limit
                # counters included: far above what a busy hour writes.
                "OPTIONS": {"MAX_ENTRIES": 100_000},
            }
        }
    if backend == "redis":
        return {
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": REDIS_URL,
                "KEY_PREFIX": "parcours",
            }
        }
    if backend == "locmem":
        return {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    raise ImproperlyConfigured(f"CACHE_BACKEND must be db, redis or locmem (tests only), not {backend!r}.")


CACHE_BACKEND = env("CACHE_BACKEND", "db")
CACHES = cache_settings(CACHE_BACKEND)

# --- REST API
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: an anonymous caller then gets 401 with a WWW-Authenticate header.
        "cms.api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "cms.api.pagination.CursorPagination",
    "PAGE_SIZE": 100,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "cms.api.exceptions.json_exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["cms.api.parsers.JSONParser", "rest_framework.parsers.FormParser", "rest_framework.parsers.MultiPartParser"],
}
# A CSRF refusal under /api/ answers JSON 403; elsewhere Django's page.
CSRF_FAILURE_VIEW = "cms.api.errors.csrf_failure"
# API tokens (django-rest-knox): only a SHA-512 hash of each key is stored; every token
# expires (API_TOKEN_DAYS by default, `create_api_token --days N` otherwise) and is not
# extended by use: a client that keeps working past the expiry would hide a forgotten key.
API_TOKEN_MAX_DAYS = 366
API_TOKEN_DAYS = env_int("API_TOKEN_DAYS", 90, minimum=1)
if API_TOKEN_DAYS > API_TOKEN_MAX_DAYS:
    raise ImproperlyConfigured(f"The environment variable API_TOKEN_DAYS must be at most {API_TOKEN_MAX_DAYS}.")
KNOX_TOKEN_MODEL = "knox.AuthToken"  # knox's own model (cms.ApiToken adds name and last use)
REST_KNOX = {
    "AUTH_HEADER_PREFIX": "Token",  # clients keep sending `Authorization: Token <key>`
    "TOKEN_TTL": timedelta(days=API_TOKEN_DAYS),
    "AUTO_REFRESH": False,
    "TOKEN_LIMIT_PER_USER": None,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Parcours API",
    "DESCRIPTION": "Completion data, appraisals and recruitment (v1).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "PREPROCESSING_HOOKS": ["cms.api.schema.only_public_api"],
}

# --- Security headers and CSP (django-csp 4)
from csp.constants import NONE, SELF  # noqa: E402

# Wagtail's admin and the API docs need inline scripts; the policy covers the public site.
CONTENT_SECURITY_POLICY = {
    "EXCLUDE_URL_PREFIXES": ("/admin/", "/django-admin/", "/api/v1/docs/", "/api/v1/redoc/", "/xapi/"),
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, "'unsafe-inline'"],
        "img-src": [SELF, "data:", "blob:"],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        "frame-src": [SELF, "https://www.youtube-nocookie.com", "https://player.vimeo.com"],
        "frame-ancestors": [NONE],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
    }
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"  # Wagtail's preview views set SAMEORIGIN themselves
SESSION_COOKIE_HTTPONLY = True

DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "Parcours <no-reply@parcours.localhost>")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "WARNING")},
    "loggers": {"parcours.audit": {"handlers": ["console"], "level": "INFO", "propagate": False}},
}

# --- xAPI LRS (xapi app, docs/xapi.md): the largest page of a statement query (limit=0 or more
# asks for this many). /xapi/ answers JSON to other origins (CORS) and is left out of the CSP above.
XAPI_STATEMENTS_MAX_LIMIT = env_int("XAPI_STATEMENTS_MAX_LIMIT", 500, minimum=1)

# --- Parts kept in their own modules (identity: OpenID Connect and local passwords; provisioning:
# SCIM; operations: logs, storage, server): each ``apply`` changes these settings in place.
from cms.settings import identity as _identity  # noqa: E402
from cms.settings import operations as _operations  # noqa: E402
from cms.settings import provisioning as _provisioning  # noqa: E402

for _part in (_identity, _provisioning, _operations):
    _part.apply(globals())
