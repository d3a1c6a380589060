"""Sign-in hardening: login throttling (django-axes), password-reset limits, session expiry.

Login throttling
----------------
django-axes refuses ``authenticate()`` for a (username, client address) pair after
``AXES_FAILURE_LIMIT`` failures within ``AXES_COOLOFF_TIME``, for ``AXES_COOLOFF_TIME``
(settings in ``cms/settings/base.py``). It covers every path that authenticates with a
request: the site login, the Wagtail admin login, and any later one.

axes' own handlers count a streak: each failure refreshes one counter, so five failures an
hour apart but each within 15 minutes of the previous one lock the account. The issue asks
that failures older than 15 minutes do not count, hence :class:`SlidingWindowHandler`:

- each failure is one ``axes.AccessFailureLog`` row (axes' own table, in the database that
  every process shares);
- the failures that count are those of the pair in the last ``AXES_COOLOFF_TIME``, after the
  pair's last successful sign-in (``axes.AccessLog``);
- the failure that reaches the limit is flagged ``locked_out``: the pair stays locked until
  ``AXES_COOLOFF_TIME`` after it, whatever the other failures do;
- attempts refused during a lockout are not recorded and do not extend it
  (``AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False`` makes axes tell us).

``manage.py axes_reset_username USERNAME`` (or ``axes_reset_ip``, ``axes_reset``) unlocks;
``manage.py axes_reset_failure_logs --age 30`` purges old failure rows (run it daily).

Password reset
--------------
``take_password_reset_mail`` allows ``PASSWORD_RESET_MAX_PER_ADDRESS`` mails per address
(normalised) per hour and ``take_password_reset_request`` ``PASSWORD_RESET_MAX_PER_IP``
requests per client address per 15 minutes, through ``cms.ratelimit.take_rate``: windows of
the clock (an hour, a quarter of an hour) counted in the shared cache, atomically, with a
hash of the address as key.
"""

import ipaddress
import logging
import math
import time
from datetime import timedelta

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import (
    get_client_parameters,
    get_client_username,
    get_cool_off,
    get_failure_limit,
)
from axes.models import AccessFailureLog, AccessLog
from axes.signals import user_locked_out
from django.conf import settings
from django.db.models import Count, Max, Q
from django.http import JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from cms.net import client_ip
from cms.ratelimit import take_rate
from cms.text import strip_invisible

logger = logging.getLogger(__name__)

PASSWORD_RESET_ADDRESS_WINDOW = timedelta(hours=1)
PASSWORD_RESET_IP_WINDOW = timedelta(minutes=15)


# --------------------------------------------------------------------------- login throttling


def client_ip_for_axes(request):
    """``cms.net.client_ip``, or None when it is not an IP address (no REMOTE_ADDR, e.g. a
    Unix socket or a test request; garbage in a header): axes stores it in an IP column."""
    address = client_ip(request)
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None


class SlidingWindowHandler(AxesDatabaseHandler):
    """axes' database handler, counting failures in a sliding window (see the module doc)."""

    def _window_counts(self, request, credentials):
        """``(failures, lock_flags)`` of the pair in the current window (the max over the
        lockout parameter sets, when there are several)."""
        username = get_client_username(request, credentials)
        now = getattr(request, "axes_attempt_time", None) or timezone.now()
        window_start = now - get_cool_off(request)
        best = (0, 0)
        for filters in get_client_parameters(
            username, request.axes_ip_address, request.axes_user_agent, request, credentials
        ):
            since = window_start
            last_success = AccessLog.objects.filter(**filters).aggregate(last=Max("attempt_time"))["last"]
            if last_success is not None and last_success > since:
                since = last_success
            counts = AccessFailureLog.objects.filter(**filters, attempt_time__gt=since).aggregate(
                failures=Count("pk"), locks=Count("pk", filter=Q(locked_out=True))
            )
            best = max(best, (counts["failures"], counts["locks"]))
        return best

    def get_failures(self, request, credentials=None):
        failures, locks = self._window_counts(request, credentials)
        if locks:  # locked by a failure of the window: until the window has passed it
            return max(failures, get_failure_limit(request, credentials))
        return failures

    def user_login_failed(self, sender, credentials, request=None, **kwargs):
        if request is None:
            logger.error("AXES: a failed login without a request cannot be counted.")
            return
        username = get_client_username(request, credentials)
        if request.axes_locked_out:
            # Refused by AxesStandaloneBackend during a lockout: not counted, so the lockout
            # ends AXES_COOLOFF_TIME after the failure that started it.
            request.axes_credentials = credentials
            user_locked_out.send("axes", request=request, username=username, ip_address=request.axes_ip_address)
            return
        if self.is_whitelisted(request, credentials):
            return
        failure = AccessFailureLog.objects.create(
            username=username,
            ip_address=request.axes_ip_address,
            user_agent=request.axes_user_agent,
            http_accept=request.axes_http_accept,
            path_info=request.axes_path_info,
            locked_out=False,
        )
        failures = self.get_failures(request, credentials)
        request.axes_failures_since_start = failures
        if settings.AXES_LOCK_OUT_AT_FAILURE and failures >= get_failure_limit(request, credentials):
            AccessFailureLog.objects.filter(pk=failure.pk).update(locked_out=True)
            logger.warning("AXES: locking out a username/address pair after %s failures.", failures)
            request.axes_locked_out = True
            request.axes_credentials = credentials
            user_locked_out.send("axes", request=request, username=username, ip_address=request.axes_ip_address)

    def reset_attempts(self, *, ip_address=None, username=None, ip_or_username=False):
        """``axes_reset*`` commands: also forget the failures this handler counts."""
        count = super().reset_attempts(ip_address=ip_address, username=username, ip_or_username=ip_or_username)
        failures = AccessFailureLog.objects.all()
        if ip_or_username:
            failures = failures.filter(Q(ip_address=ip_address) | Q(username=username))
        else:
            if ip_address:
                failures = failures.filter(ip_address=ip_address)
            if username:
                failures = failures.filter(username=username)
        deleted, _ = failures.delete()
        return count + deleted


def too_many_attempts_response(request, message, retry_after):
    """429 with ``message``: JSON for the API and scripts, else the site's themed page."""
    if request.path.startswith("/api/") or request.headers.get("x-requested-with") == "XMLHttpRequest":
        response = JsonResponse({"detail": message}, status=429)
    else:
        response = render(request, "cms/lockout.html", {"message": message}, status=429)
    response["Retry-After"] = str(int(retry_after.total_seconds()))
    return response


def lockout_response(request, original_response=None, credentials=None):
    """``AXES_LOCKOUT_CALLABLE``: what a locked (username, address) pair gets, on the site and
    in the Wagtail admin. The same page whether the account exists or not: nothing about the
    account (not even the username typed) is shown."""
    cool_off = get_cool_off(request)
    minutes = max(1, round(cool_off.total_seconds() / 60))
    message = _(
        "Trop de tentatives de connexion infructueuses. Par sécurité, la connexion à ce compte "
        "depuis votre poste est bloquée pendant %(minutes)s minutes. Réessayez plus tard ou "
        "utilisez « Mot de passe oublié ? »."
    ) % {"minutes": minutes}
    return too_many_attempts_response(request, message, cool_off)


# --------------------------------------------------------------------------- password reset


def _now():
    return time.time()


def normalise_address(email):
    return strip_invisible(email or "").casefold()


def take_password_reset_mail(email):
    """True if a reset mail may go to ``email`` (counted), False past the hourly limit."""
    allowed, _retry_after = take_rate(
        "password-reset-mail",
        normalise_address(email),
        limit=settings.PASSWORD_RESET_MAX_PER_ADDRESS,
        period=int(PASSWORD_RESET_ADDRESS_WINDOW.total_seconds()),
        now=_now(),
    )
    return allowed


def take_password_reset_request(request):
    """``(True, 0)`` if the client may submit the reset form (counted), else ``(False,
    seconds until it may)``."""
    return take_rate(
        "password-reset-ip",
        client_ip(request),
        limit=settings.PASSWORD_RESET_MAX_PER_IP,
        period=int(PASSWORD_RESET_IP_WINDOW.total_seconds()),
        now=_now(),
    )


def password_reset_limit_response(request, retry_after):
    minutes = max(1, math.ceil(retry_after / 60))
    message = _("Trop de demandes de réinitialisation depuis votre poste. Réessayez dans %(minutes)s minutes.") % {
        "minutes": minutes
    }
    return too_many_attempts_response(request, message, timedelta(seconds=retry_after))


# --------------------------------------------------------------------------- sessions


def has_admin_access(user):
    return user.is_staff or user.is_superuser or user.has_perm("wagtailadmin.access_admin")


def expire_agent_sessions_at_browser_close(sender, request, user, **kwargs):
    """``user_logged_in`` receiver (connected in ``CmsConfig.ready``).

    Every session ends after ``SESSION_COOKIE_AGE`` (``SESSION_HOURS``). The session of a user
    without admin access (an agent, often on a shared computer) also ends when the browser
    closes; staff (Wagtail admin users, HR) keep theirs for the working day."""
    session = getattr(request, "session", None)
    if session is not None and not has_admin_access(user):
        session.set_expiry(0)
