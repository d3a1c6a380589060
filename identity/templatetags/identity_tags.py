from django import template

from identity.views import login_options

register = template.Library()


@register.simple_tag
def identity_login_options():
    """What the login page offers (``identity.views.login_options``), for login templates
    rendered by another view than ``identity.views.LoginView`` (Django's, Wagtail's)."""
    return login_options()
