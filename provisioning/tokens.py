"""SCIM bearer tokens: created once (the token is shown once, only its SHA-256 is kept),
checked on each request, revoked by HR."""

import hashlib
import secrets
from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from wagtail.log_actions import log as log_action

from cms import roles
from cms.selectors import has_role
from cms.text import strip_invisible
from provisioning.models import DISPLAYED_PREFIX_LENGTH, ScimToken

TOKEN_PREFIX = "scim_"
MAX_TOKEN_LENGTH = 200
LAST_USED_RESOLUTION = timedelta(minutes=1)  # at most one write per minute per token


def digest_of(token):
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def can_manage_tokens(user):
    """HR and superusers list and revoke SCIM tokens."""
    return bool(user and user.is_active and has_role(user, roles.HR))


@transaction.atomic
def create_token(*, name):
    """Create a token named ``name``; returns ``(scim_token, token)``: ``token`` is what the
    provisioning connector sends and exists nowhere else."""
    name = strip_invisible(name or "")
    max_length = ScimToken._meta.get_field("name").max_length
    if not name:
        raise ValidationError({"name": _("Le nom du jeton est obligatoire.")})
    if len(name) > max_length:
        raise ValidationError(
            {"name": _("Le nom du jeton ne doit pas dépasser %(max)s caractères.") % {"max": max_length}}
        )
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    scim_token = ScimToken.objects.create(name=name, prefix=token[:DISPLAYED_PREFIX_LENGTH], digest=digest_of(token))
    log_action(scim_token, "wagtail.create", user=None)
    return scim_token, token


def authenticate(token):
    """The active ``ScimToken`` for ``token``, or None. Records its last use (once a minute)."""
    if not token or len(token) > MAX_TOKEN_LENGTH or not token.isascii():
        return None
    scim_token = ScimToken.objects.filter(digest=digest_of(token), revoked_at__isnull=True).first()
    if scim_token is None:
        return None
    now = timezone.now()
    if scim_token.last_used_at is None or scim_token.last_used_at < now - LAST_USED_RESOLUTION:
        ScimToken.objects.filter(pk=scim_token.pk).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION)
        ).update(last_used_at=now)
        scim_token.last_used_at = now
    return scim_token


@transaction.atomic
def revoke_token(*, scim_token, actor=None):
    """The token stops working at once; the row stays (the audit names it). ``actor`` (None
    for system jobs) must be HR or a superuser. Returns whether it was active."""
    if actor is not None and not can_manage_tokens(actor):
        raise PermissionDenied
    updated = ScimToken.objects.filter(pk=scim_token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    if updated:
        log_action(scim_token, "wagtail.delete", user=actor)
    return bool(updated)
