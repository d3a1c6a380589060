"""French elision in the sentences that name a person: « la grille d'Émilie Millet », not
« la grille de Émilie Millet ». (A shared helper could live in ``cms.text``; it is kept here
while other apps do not need it.)"""

import unicodedata

from django.utils.translation import get_language

VOWELS = frozenset("aeiouy")


def starts_with_vowel(text):
    first = unicodedata.normalize("NFD", (text or "").strip()[:1]).lower()[:1]
    return first in VOWELS


def of(name):
    """« de Jules », « d'Émilie » in French; the name alone in another language."""
    name = str(name)
    if not (get_language() or "fr").startswith("fr"):
        return name
    return f"d'{name}" if starts_with_vowel(name) else f"de {name}"
