"""The API's JSON parser: DRF's, with a bound on nesting.

Python's ``json`` recurses once per level: a body of 200,000 ``[`` raises ``RecursionError``,
which DRF's parser does not catch (a 500). No request of this API nests deeper than a few
levels (quiz answers: object → list → value), so the body is refused (400) beyond
``MAX_DEPTH`` levels, counted before parsing and without recursion.
"""

import codecs
import json
import re
from itertools import accumulate

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError
from rest_framework.utils import json as drf_json

MAX_DEPTH = 64

# A JSON string (escapes included; an unterminated one runs to the end, so that no match
# ever fails and the scan stays linear), then anything but brackets: what remains is the
# brackets that open and close arrays and objects, in order.
_STRING = re.compile(r'"(?:[^"\\]++|\\.)*+"?', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


def nesting_depth(text):
    """The deepest nesting of arrays and objects in ``text`` (JSON), computed in C-speed passes
    (regular expressions, ``accumulate``) rather than a Python loop over the characters."""
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    if not brackets:
        return 0
    return max(accumulate(map(_STEP.__getitem__, brackets)))


class JSONParser(parsers.JSONParser):
    """``application/json``: at most ``MAX_DEPTH`` levels of arrays and objects (else 400)."""

    max_depth = MAX_DEPTH

    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = codecs.getreader(encoding)(stream).read()
        except (UnicodeDecodeError, LookupError) as exc:
            message = _("Le corps de la requête n'est pas un texte %(encoding)s valide.") % {"encoding": encoding}
            raise ParseError(message) from exc
        if nesting_depth(text) > self.max_depth:
            raise ParseError(
                _("JSON trop imbriqué : %(max)s niveaux de tableaux et d'objets au plus.") % {"max": self.max_depth}
            )
        try:
            parse_constant = drf_json.strict_constant if self.strict else None
            return json.loads(text, parse_constant=parse_constant)
        except RecursionError as exc:  # belt and braces: the count above should have caught it
            raise ParseError(_("JSON trop imbriqué.")) from exc
        except ValueError as exc:
            raise ParseError(_("JSON invalide : %(error)s") % {"error": exc}) from exc

