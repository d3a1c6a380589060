"""Local development and the demo (`make run`): SQLite by default, console e-mail.

Debug is off unless ``DEBUG=1`` is set (``DEBUG=1 make run``): a newcomer trying the demo
sees the site's own French error pages, not Django's debug pages. Static files are served by
WhiteNoise from the apps and media files by the URLconf (``SERVE_MEDIA``) either way."""

from .base import *  # noqa: F403

DEBUG = env_bool("DEBUG", False)  # noqa: F405
SERVE_MEDIA = True
SECRET_KEY = env("SECRET_KEY", "dev-only-not-secret-0b1e5f6a3c2d4e8f9a7b6c5d4e3f2a1b")  # noqa: F405
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]", "testserver"]
EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"

if CACHE_BACKEND == "locmem":  # noqa: F405
    raise ImproperlyConfigured("CACHE_BACKEND=locmem is for tests only; use db (default) or redis.")  # noqa: F405

# Serve static files straight from the apps (no collectstatic needed locally).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
