"""French typography helpers of ``cms.text`` and their template filters (``parcours_text``):
elision before a name (« d'Émilie », « de Yann », « d'Yves », « d'Hélène ») and « 1er » for
the first day of the month, English unchanged."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.template import Context, Template
from django.utils import translation

from cms.text import date_format, elides, of
from recruitment import text as recruitment_text


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Émilie Millet", "d'Émilie Millet"),
        ("Alexandre Reynaud", "d'Alexandre Reynaud"),
        ("Isabelle", "d'Isabelle"),
        ("Océane", "d'Océane"),
        ("Ulysse", "d'Ulysse"),
        ("Jules Juré", "de Jules Juré"),
        ("Yann Le Gall", "de Yann Le Gall"),  # "y" before a vowel is a consonant
        ("Yasmine", "de Yasmine"),
        ("Yolande", "de Yolande"),
        ("Yves Dubois", "d'Yves Dubois"),  # "y" before a consonant is a vowel
        ("Yvonne", "d'Yvonne"),
        ("Hélène Martin", "d'Hélène Martin"),  # mute h
        ("HUGO Bernard", "d'HUGO Bernard"),
        ("Hervé", "d'Hervé"),
        ("Henri", "d'Henri"),
        ("Hélène-Marie", "d'Hélène-Marie"),
        ("Hugues", "de Hugues"),  # aspirated h
        ("Hannah", "de Hannah"),
        ("Candidat·e C-1", "de Candidat·e C-1"),
        ("42", "de 42"),
    ],
)
def test_of_elides_in_french(name, expected):
    with translation.override("fr"):
        assert of(name) == expected


def test_of_keeps_the_name_alone_in_english_and_recruitment_reuses_it():
    with translation.override("en"):
        assert of("Émilie Millet") == "Émilie Millet"
    assert recruitment_text.of is of
    assert not elides("") and not elides("   ") and not elides(None)


def test_first_of_the_month_is_1er_in_french_only():
    first = date(2026, 12, 1)
    with translation.override("fr"):
        assert date_format(first) == "1er décembre 2026"
        assert date_format(first, "l j F Y") == "mardi 1er décembre 2026"
        assert date_format(date(2026, 12, 2)) == "2 décembre 2026"
        assert date_format(date(2026, 12, 11)) == "11 décembre 2026"
        assert date_format(datetime(2026, 12, 1, 14, 30), "DATETIME_FORMAT") == "1er décembre 2026 14:30"
        assert date_format(first, r"\j j") == "j 1er"  # an escaped j stays a letter
        assert date_format(None) == ""
    with translation.override("en"):
        assert date_format(first) == "1 December 2026"


def test_template_filters():
    template = Template(
        "{% load i18n parcours_text %}{{ name|of_name }} | {{ when|ldate:'DATETIME_FORMAT' }} | {{ day|ldate }}"
    )
    context = Context({
        "name": "Ève Durand",
        "when": datetime(2026, 12, 1, 13, 30, tzinfo=ZoneInfo("UTC")),  # 14:30 in Paris
        "day": date(2026, 3, 1),
    })  # fmt: skip
    with translation.override("fr"):
        assert template.render(context) == "d&#x27;Ève Durand | 1er décembre 2026 14:30 | 1er mars 2026"
        assert Template("{% load parcours_text %}{{ name|of_name }}").render(Context({"name": "<b>Ali</b>"})) == "de &lt;b&gt;Ali&lt;/b&gt;"
    with translation.override("en"):
        assert template.render(context) == "Ève Durand | 1 December 2026 14:30 | 1 March 2026"
