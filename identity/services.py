"""Writes of the identity app outside the audit: the accounts allowed a Parcours password
under ``LOCAL_LOGIN=staff``."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from wagtail.log_actions import log as log_action

from cms.text import strip_invisible
from identity.models import LocalAccount

REASON_MAX = LocalAccount._meta.get_field("reason").max_length


def can_manage_local_accounts(user):
    """Only superusers decide who may bypass the city's sign-in."""
    return bool(user and user.is_active and user.is_superuser)


@transaction.atomic
def flag_local_account(*, user, reason="", actor=None):
    """Allow ``user`` a Parcours password under ``LOCAL_LOGIN=staff``; recorded in Wagtail's
    history. ``actor`` (None for scripts) must be a superuser."""
    if actor is not None and not can_manage_local_accounts(actor):
        raise PermissionDenied
    reason = strip_invisible(reason or "")
    if len(reason) > REASON_MAX:
        raise ValidationError({"reason": _("La raison ne doit pas dépasser %(max)s caractères.") % {"max": REASON_MAX}})
    if user is None:
        raise ValidationError({"user": _("Choisissez un compte.")})
    if LocalAccount.objects.select_for_update().filter(user=user).exists():
        raise ValidationError({"user": _("Ce compte est déjà un compte local.")})
    account = LocalAccount.objects.create(user=user, reason=reason)
    log_action(account, "wagtail.create", user=actor)
    return account


@transaction.atomic
def unflag_local_account(*, local_account, actor=None):
    """Withdraw the password permission (under ``LOCAL_LOGIN=staff``)."""
    if actor is not None and not can_manage_local_accounts(actor):
        raise PermissionDenied
    account = LocalAccount.objects.select_for_update().get(pk=local_account.pk)
    log_action(account, "wagtail.delete", user=actor)
    account.delete()
