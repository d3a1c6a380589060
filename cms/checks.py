"""``manage.py check --deploy``: settings that are fine on a laptop and wrong in production."""

from django.conf import settings
from django.core.checks import Tags, Warning, register

NOT_SHARED_CACHES = (
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
)


@register(Tags.security, deploy=True)
def check_deployment_settings(app_configs, **kwargs):
    warnings = []
    if "*" in settings.ALLOWED_HOSTS:
        warnings.append(
            Warning(
                "ALLOWED_HOSTS contains '*': any Host header is accepted, so links built from it "
                "(password reset mails) can point to an attacker's site.",
                hint="List the host names served, e.g. ALLOWED_HOSTS=parcours.example.org.",
                id="cms.W001",
            )
        )
    base_url = getattr(settings, "WAGTAILADMIN_BASE_URL", "") or ""
    if base_url.lower().startswith("http://"):
        warnings.append(
            Warning(
                f"WAGTAILADMIN_BASE_URL is {base_url!r}: links in notification e-mails and API "
                "answers would use plain HTTP.",
                hint="Use the public https:// URL of the site.",
                id="cms.W002",
            )
        )
    tasks_backend = getattr(settings, "TASKS", {}).get("default", {}).get("BACKEND", "")
    if tasks_backend.endswith("ImmediateBackend"):
        warnings.append(
            Warning(
                "TASKS_BACKEND=immediate runs background work (PDF exports, reminders, mails) inside the web request.",
                hint="Use TASKS_BACKEND=rq (with REDIS_URL) or db, and run a worker.",
                id="cms.W003",
            )
        )
    for alias, cache in settings.CACHES.items():
        if cache.get("BACKEND") in NOT_SHARED_CACHES:
            warnings.append(
                Warning(
                    f"The {alias!r} cache ({cache['BACKEND'].rsplit('.', 1)[-1]}) is not shared between "
                    "processes: login and password-reset limits would not hold.",
                    hint="Use CACHE_BACKEND=db (then manage.py createcachetable) or CACHE_BACKEND=redis.",
                    id="cms.W004",
                )
            )
    return warnings
