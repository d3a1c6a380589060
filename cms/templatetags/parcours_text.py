"""French typography in templates: ``{{ name|of_name }}`` (« de Jules », « d'Émilie »; the
name alone in English, where the translation places it) and ``{{ day|ldate:"DATE_FORMAT" }}``
(the ``date`` filter, with « 1er » for the first of the month in French). See ``cms.text``.

Usage: ``{% load parcours_text %}``, then e.g.
``{% blocktranslate with of_name=agent.full_name|of_name %}compte rendu {{ of_name }}{% endblocktranslate %}``.
"""

from django import template

from cms import text

register = template.Library()


@register.filter(is_safe=False)
def of_name(name):
    return text.of(name)


@register.filter(expects_localtime=True, is_safe=False)
def ldate(value, arg="DATE_FORMAT"):
    try:
        return text.date_format(value, arg or "DATE_FORMAT")
    except AttributeError:
        return ""
