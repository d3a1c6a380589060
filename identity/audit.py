"""The sign-in audit: one ``SignInEvent`` row per attempt, for HR.

``record_sign_in`` is the only writer. Password sign-ins are recorded by the receivers below
(connected in ``IdentityConfig.ready``) on ``user_logged_in`` / ``user_login_failed``; the
OpenID Connect backend and views record theirs with ``method="oidc"`` and a reason code
(``identity.choices.REASONS``).
"""

import ipaddress
import logging

from django.utils import timezone

from identity.choices import SignInMethod
from identity.models import SignInEvent

logger = logging.getLogger("parcours.audit")

USERNAME_MAX = SignInEvent._meta.get_field("username").max_length
REASON_MAX = SignInEvent._meta.get_field("reason").max_length


def request_ip(request):
    """The client address (``cms.net.client_ip``) if it is an IP address, else None."""
    if request is None:
        return None
    from cms.net import client_ip

    try:
        return str(ipaddress.ip_address(client_ip(request)))
    except ValueError:
        return None


def record_sign_in(*, user=None, username="", method, success, ip=None, reason=""):
    """Write one sign-in event and return it.

    ``user``: the account when known (None for an unknown identifier); ``username``: what was
    typed or what the provider sent (defaults to the account's username); ``method``: a
    ``SignInMethod`` value (``password``, ``oidc``, ``api_token``); ``success``: bool;
    ``ip``: the client address (a string, or None; anything that is not an IP address is
    stored as None); ``reason``: a short code for a failure (``identity.choices.REASONS``).
    """
    if method not in SignInMethod.values:
        raise ValueError(f"unknown sign-in method {method!r}")
    if not username and user is not None:
        username = user.get_username()
    try:
        ip = str(ipaddress.ip_address(ip)) if ip else None
    except ValueError:
        ip = None
    event = SignInEvent.objects.create(
        user=user if user is not None and user.pk else None,
        username=str(username or "")[:USERNAME_MAX],
        method=method,
        success=bool(success),
        reason=str(reason or "")[:REASON_MAX],
        ip=ip,
        at=timezone.now(),
    )
    logger.info(
        "sign-in method=%s success=%s user=%s reason=%s ip=%s",
        event.method,
        event.success,
        event.user_id,
        event.reason,
        event.ip,
    )
    return event


def _method_of(request):
    """The method a ``user_logged_in`` / ``user_login_failed`` signal stands for: the OIDC
    views mark their requests; any other interactive sign-in is a password one."""
    return (
        getattr(request, "identity_sign_in_method", SignInMethod.PASSWORD)
        if request is not None
        else SignInMethod.PASSWORD
    )


def on_user_logged_in(sender, request, user, **kwargs):
    """``user_logged_in``: record a password sign-in (OIDC ones are recorded by the backend)."""
    if request is None or _method_of(request) != SignInMethod.PASSWORD:
        return
    if getattr(request, "identity_skip_audit", False):
        return
    record_sign_in(user=user, method=SignInMethod.PASSWORD, success=True, ip=request_ip(request))


def on_user_login_failed(sender, credentials, request=None, **kwargs):
    """``user_login_failed``: record a failed password sign-in (wrong password, unknown
    identifier, throttled, or refused by ``LOCAL_LOGIN``)."""
    if request is None or _method_of(request) != SignInMethod.PASSWORD:
        return
    username = (credentials or {}).get("username", "")
    if getattr(request, "axes_locked_out", False):
        reason = "locked_out"
    else:
        reason = getattr(request, "identity_failure_reason", "") or "bad_credentials"
    record_sign_in(
        username=username, method=SignInMethod.PASSWORD, success=False, ip=request_ip(request), reason=reason
    )
