"""Plain-text hygiene for names typed by people or imported from files."""

import re
import unicodedata

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
