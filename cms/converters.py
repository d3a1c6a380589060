"""URL path converter for database ids.

``<id:name>`` matches like ``<int:name>`` but only values a ``bigint`` primary key can hold
(1 … 2**63 - 1). Anything else (0, 20 digits, a 5,000-digit number) does not match the
route, so the URL answers 404 instead of reaching the database, where SQLite raises
``OverflowError`` and PostgreSQL "bigint out of range" (a 500).

Registered on import: every URLconf using ``<id:…>`` imports this module first
(``cms/urls.py`` does, before any include).
"""

from django.urls import register_converter

MAX_ID = 2**63 - 1
_MAX_DIGITS = len(str(MAX_ID))


def parse_id(value):
    """``value`` (a string) as a database id, or ``None`` when it is not one: ASCII digits
    only (``"²"`` and ``"١"`` are digits to ``str.isdigit``), 1 … 2**63 - 1."""
    value = (value or "").strip()
    if not value or not value.isascii() or not value.isdigit():
        return None
    value = value.lstrip("0")
    if not value or len(value) > _MAX_DIGITS:
        return None
    number = int(value)
    return number if number <= MAX_ID else None


class IdConverter:
    regex = "[0-9]+"

    def to_python(self, value):
        number = parse_id(value)
        if number is None:
            raise ValueError(f"not a database id: {value[:32]!r}")
        return number

    def to_url(self, value):
        return str(int(value))


def register():
    """Idempotent: ``register_converter`` keeps the last registration under a name."""
    from django.urls.converters import get_converters

    if "id" not in get_converters():
        register_converter(IdConverter, "id")


register()
