"""Percentages in templates, one format per language (see ``cms.numbers``).

``{% load parcours_numbers %}``, then ``{{ row.percent|percent }}`` for a percentage (37),
``{{ stage.rate|ratio_percent }}`` for a ratio (0.37); an optional argument gives the number
of decimal places (``{{ value|percent:1 }}``)."""

from django import template

from cms import numbers

register = template.Library()


@register.filter(is_safe=True)
def percent(value, decimals=0):
    return numbers.percent(value, decimals)


@register.filter(is_safe=True)
def ratio_percent(value, decimals=0):
    return numbers.ratio_percent(value, decimals)
