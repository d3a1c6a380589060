"""Wagtail admin of the identity app, under Settings: "Connexions" (HR: the sign-in audit)
and "Comptes locaux" (superusers: who keeps a password when LOCAL_LOGIN=staff)."""

from wagtail import hooks
from wagtail.permissions import register_permission_policy

from identity.admin_views import (
    LocalAccountPermissionPolicy,
    LocalAccountViewSet,
    SignInEventPermissionPolicy,
    SignInEventViewSet,
)
from identity.models import LocalAccount, SignInEvent

register_permission_policy(SignInEvent, SignInEventPermissionPolicy(SignInEvent), exact_class=True)
register_permission_policy(LocalAccount, LocalAccountPermissionPolicy(LocalAccount), exact_class=True)


@hooks.register("register_admin_viewset")
def register_sign_in_event_viewset():
    return SignInEventViewSet()


@hooks.register("register_admin_viewset")
def register_local_account_viewset():
    return LocalAccountViewSet()
