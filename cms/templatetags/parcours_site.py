"""``{% site_name %}``: the name of the site (``WAGTAIL_SITE_NAME``, "Parcours" by default),
for templates rendered without a page (the Wagtail admin's titles)."""

from django import template
from django.conf import settings

register = template.Library()


@register.simple_tag
def site_name():
    return getattr(settings, "WAGTAIL_SITE_NAME", "") or "Parcours"
