"""Sign-in with the city's OpenID Connect provider, local-password policy and the sign-in audit."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IdentityConfig(AppConfig):
    name = "identity"
    label = "identity"
    verbose_name = _("Identité et connexion")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed

        from identity import audit, sessions

        user_logged_in.connect(sessions.track_session, dispatch_uid="identity.track_session")
        user_logged_out.connect(sessions.untrack_session, dispatch_uid="identity.untrack_session")
        user_logged_in.connect(audit.on_user_logged_in, dispatch_uid="identity.audit_logged_in")
        user_login_failed.connect(audit.on_user_login_failed, dispatch_uid="identity.audit_login_failed")
