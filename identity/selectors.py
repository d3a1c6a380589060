"""Reads of the identity app that depend on who asks."""

from cms import roles
from cms.selectors import has_role
from identity.models import SignInEvent


def can_view_sign_ins(user):
    """HR (and superusers) read the sign-in audit."""
    return bool(user and user.is_authenticated and user.is_active and has_role(user, roles.HR))


def sign_in_events_visible_to(user):
    """Every sign-in event for HR, none for anybody else; the account in the same query."""
    if not can_view_sign_ins(user):
        return SignInEvent.objects.none()
    return SignInEvent.objects.select_related("user")
