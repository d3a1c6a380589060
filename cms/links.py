"""Absolute URLs: every link Parcours gives out (e-mails, ICS files, certificates, the API's
``next``, ``certificate_url`` and ``cv_url``) is built on the public base URL the site is
served at (``WAGTAILADMIN_BASE_URL``), never on the Host header of the request, which
behind a reverse proxy may be an internal address."""

from django.conf import settings


def absolute_url(path):
    """``WAGTAILADMIN_BASE_URL`` followed by ``path`` (which starts with "/")."""
    return settings.WAGTAILADMIN_BASE_URL.rstrip("/") + path
