"""Placeholder substitution for texts that editors and recruiters write (message templates,
mail wording): ``{name}`` is replaced by a plain string computed in Python, and nothing
else happens. No template engine, no ``str.format``: no attribute access, no indexing, no
format spec, no filter, no tag. ``{{ x }}``, ``{% tag %}`` or ``{a.b}`` come out exactly as
written.

* :func:`unknown_placeholders` lists what looks like a placeholder but is not allowed;
* :func:`validate` raises a ``ValidationError`` naming them (call it from ``clean()``);
* :func:`substitute` replaces the allowed names, in one pass (a value that itself contains
  ``{name}`` is not substituted again).
"""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

# What is substituted: lower-case ASCII letters and underscores between single braces.
PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
# What validation looks at: anything between braces without spaces or braces inside
# (``{nom}``, ``{Nom}``, ``{candidate.email}``, ``{0}``, ``{nom:>10}``), so that a mistyped
# name is refused rather than silently left as is. ``{{ x }}`` (with spaces) is plain text.
LOOKS_LIKE_PLACEHOLDER = re.compile(r"\{([^\s{}]{1,80})\}")


def unknown_placeholders(text, allowed):
    """The names in ``text`` that look like placeholders but are not in ``allowed``, in order
    of first appearance, without repetition."""
    allowed = set(allowed)
    unknown = []
    for match in LOOKS_LIKE_PLACEHOLDER.finditer(text or ""):
        name = match.group(1)
        if name not in allowed and name not in unknown:
            unknown.append(name)
    return unknown


def validate(text, allowed):
    """Raise ``ValidationError`` (a French sentence naming each unknown placeholder and listing
    the allowed ones) when ``text`` uses a placeholder outside ``allowed``."""
    unknown = unknown_placeholders(text, allowed)
    if not unknown:
        return
    names = ", ".join(f"{{{name}}}" for name in unknown)
    sentence = ngettext(
        "Ce texte utilise une variable inconnue : %(names)s.",
        "Ce texte utilise des variables inconnues : %(names)s.",
        len(unknown),
    ) % {"names": names}
    choices = ", ".join(f"{{{name}}}" for name in allowed)
    allowed_sentence = _("Les variables possibles sont : %(choices)s.") % {"choices": choices}
    error = ValidationError(sentence + " " + allowed_sentence, code="unknown_placeholder")
    error.unknown = unknown  # the names, for callers that want them
    raise error


def substitute(text, values):
    """``text`` with each ``{name}`` whose name is a key of ``values`` replaced by that value
    (a plain string); any other brace is left as written."""
    plain = {str(key): str(value) for key, value in values.items()}

    def replace(match):
        return plain.get(match.group(1), match.group(0))

    return PLACEHOLDER.sub(replace, text or "")
