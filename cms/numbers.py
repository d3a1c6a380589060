"""Numbers as the interface shows them: one percent format per language.

French writes « 37 % » (a non-breaking space before the sign, U+00A0, the separator
Django's French formats use for thousands, so the figure never wraps away from its sign);
English writes "37%". Every percentage shown (tables, charts and their descriptions,
progress bars) goes through :func:`percent`, in templates through the ``percent`` filter
(``{% load parcours_numbers %}``)."""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.utils import formats, translation

NBSP = "\u00a0"


def percent(value, decimals=0):
    """``value`` (already a percentage: 37, 41.5) rounded half up to ``decimals`` places,
    with the decimal separator and percent sign of the active language: « 37 % », « 41,5 % »
    in French, "37%", "41.5%" in English. ``None`` or a non-number gives ""."""
    if value is None or value == "":
        return ""
    try:
        number = Decimal(str(value)).quantize(Decimal(1).scaleb(-int(decimals)), rounding=ROUND_HALF_UP)
    except (InvalidOperation, ValueError, TypeError):
        return ""
    if number == 0:
        number = abs(number)  # never "-0 %"
    text = formats.number_format(number, decimal_pos=int(decimals))
    separator = NBSP if (translation.get_language() or "fr").startswith("fr") else ""
    return f"{text}{separator}%"


def ratio_percent(ratio, decimals=0):
    """A ratio (0..1) as a percentage: ``ratio_percent(0.375)`` is « 38 % »."""
    if ratio is None or ratio == "":
        return ""
    try:
        return percent(Decimal(str(ratio)) * 100, decimals)
    except (InvalidOperation, ValueError, TypeError):
        return ""
