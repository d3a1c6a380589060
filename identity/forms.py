"""The Wagtail admin's sign-in form (``WAGTAILADMIN_USER_LOGIN_FORM``)."""

from django.utils.translation import gettext_lazy as _
from wagtail.admin.forms.auth import LoginForm


class AdminLoginForm(LoginForm):
    """Wagtail's form, with a translated label on the password field: Wagtail leaves it
    without one, and Django then shows the field's name, "Password", in every language."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["password"].label = _("Mot de passe")
