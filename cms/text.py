"""Plain-text helpers: hygiene for names typed by people or imported from files, French
elision before a name (« d'Émilie »), French dates (« 1er décembre ») and accent-insensitive
search (« lefevre » finds « Lefèvre »)."""

import re
import unicodedata

from django.db.models import CharField, Func
from django.utils import dateformat, formats, translation

# Bidi embeddings/overrides/isolates (U+202A–U+202E, U+2066–U+2069), marks (U+200E, U+200F,
# U+061C) and zero-width characters (U+200B–U+200D, U+2060, U+FEFF): invisible, they can
# make a name display differently from what it is ("Trojan Source"-style spoofing).
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\u061c\ufeff\u00ad]")


def strip_invisible(value):
    """``value`` without bidi controls and zero-width characters, NFC-normalised, with runs
    of whitespace collapsed and the ends trimmed. ``None`` stays ``None``."""
    if value is None:
        return None
    value = unicodedata.normalize("NFC", str(value))
    value = _INVISIBLE.sub("", value)
    return " ".join(value.split())


# --- French elision before a name --------------------------------------------------------------

# First names whose "h" is mute: « d'Hélène », « l'entretien d'Hugo ». Any other name in "h"
# keeps « de » (« de Hugues », « de Hannah »), the safe reading of an aspirated "h". « Henri »
# is aspirated in the traditional norm (« de Henri IV ») but « d'Henri » is the common use
# today, and the one people expect when their own name is written: it is in the list.
MUTE_H_NAMES = frozenset(
    ("helene", "heloise", "herve", "hugo", "henri", "henriette", "hector", "hortense", "hubert",
     "honore", "honorine", "hippolyte", "hilaire", "hyacinthe")
)  # fmt: skip
VOWELS = frozenset("aeiou")


def _ascii_lower(text):
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c)).lower()


def elides(name):
    """Whether French elides « de » before ``name``: a vowel (accents ignored), a "y" before a
    consonant (« d'Yves », but « de Yann », « de Yasmine »: the "y" is then a consonant), or a
    first name with a mute "h" (``MUTE_H_NAMES``)."""
    words = (name or "").strip().split()
    if not words:
        return False
    word = _ascii_lower(words[0])
    first, second = word[:1], word[1:2]
    if first in VOWELS:
        return True
    if first == "y":
        return bool(second) and second.isalpha() and second not in VOWELS
    if first == "h":
        return re.split(r"[-'’.,]", word)[0] in MUTE_H_NAMES
    return False


def of(name):
    """« de Jules », « d'Émilie » in French; the name alone in another language, whose
    translations place it (« la grille {{ of_name }} » → « {{ of_name }}'s scorecard »)."""
    name = str(name if name is not None else "")
    if not (translation.get_language() or "fr").startswith("fr"):
        return name
    return f"d'{name}" if elides(name) else f"de {name}"


# --- dates: « 1er décembre » --------------------------------------------------------------------


def _first_of_month_format(format_string):
    """``format_string`` with each unescaped ``j`` (day without leading zero) followed by an
    escaped « er »: the French ordinal of the first day of the month."""
    out, escaped = [], False
    for char in format_string:
        if escaped:
            out.append(char)
            escaped = False
        elif char == "\\":
            out.append(char)
            escaped = True
        elif char == "j":
            out.append(r"j\e\r")
        else:
            out.append(char)
    return "".join(out)


def date_format(value, format_name="DATE_FORMAT"):
    """``django.utils.formats.date_format`` (named formats of ``cms.formats`` or a format
    string) that writes the first of the month « 1er » in French: « 1er décembre 2026 »,
    « lundi 1er décembre 2026 à 14:30 ». Other languages and other days are unchanged.
    ``value`` is formatted as is: callers pass local times (templates: ``|ldate``)."""
    if value in (None, ""):
        return ""
    format_string = formats.get_format(format_name)  # a format string that is no setting's name is kept
    if getattr(value, "day", None) == 1 and (translation.get_language() or "fr").startswith("fr"):
        format_string = _first_of_month_format(format_string)
    return dateformat.format(value, format_string)


# --- accent-insensitive search -------------------------------------------------------------------

_LIGATURES = str.maketrans({"œ": "oe", "Œ": "OE", "æ": "ae", "Æ": "AE", "ß": "ss"})


def unaccent(value):
    """``value`` without diacritics, ligatures spelled out (« Lefèvre » → « Lefevre »,
    « Œuvray » → « OEuvray »); case is kept. The SQLite twin of PostgreSQL's ``unaccent``
    for the names people search."""
    if value is None:
        return None
    decomposed = unicodedata.normalize("NFKD", str(value).translate(_LIGATURES))
    return "".join(char for char in decomposed if not unicodedata.combining(char))


class Unaccent(Func):
    """``UNACCENT(expression)``: PostgreSQL's ``unaccent`` extension (created by the migration
    ``appraisal.0006_unaccent_extension``), on SQLite the deterministic Python function that
    ``register_sqlite_unaccent`` installs on each connection. Compare it with ``unaccent(term)``:
    ``Q(name_plain__icontains=unaccent(term))`` after ``.alias(name_plain=Unaccent("name"))``."""

    function = "UNACCENT"
    output_field = CharField()


def register_sqlite_unaccent(sender, connection, **kwargs):
    """``connection_created`` receiver (``cms.apps``): SQLite learns ``unaccent(text)``."""
    if connection.vendor == "sqlite":
        connection.connection.create_function("unaccent", 1, unaccent, deterministic=True)
