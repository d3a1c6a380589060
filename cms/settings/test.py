"""Test settings: fast hashing, in-memory e-mail, tasks run immediately."""

import os
import tempfile

os.environ.setdefault("TASKS_BACKEND", "immediate")

from .base import *  # noqa: E402, F403

DEBUG = False
SECRET_KEY = "test-only-not-secret"
ALLOWED_HOSTS = ["*"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database"}}
_FILES = Path(tempfile.mkdtemp(prefix="parcours-test-files-"))  # noqa: F405
MEDIA_ROOT = _FILES / "media"
PRIVATE_ROOT = _FILES / "private"
STORAGES["private"]["OPTIONS"]["location"] = str(PRIVATE_ROOT)  # noqa: F405
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    DATABASES["default"]["OPTIONS"] = {}  # noqa: F405

# Serve static files straight from the apps (no collectstatic needed locally).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
