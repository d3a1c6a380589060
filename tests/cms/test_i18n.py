"""Translation catalogues: French source strings, a complete English catalogue, compiled .mo up to date.

The .po files are read with a small parser (no polib in the project), the compiled .mo files with the
standard library's GNUTranslations: the .mo are committed, so a machine without gettext still works.
"""

import ast
import gettext
import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation

from cms.services import ensure_home_page

LOCALE_DIR = Path(settings.LOCALE_PATHS[0])
PO = {lang: LOCALE_DIR / lang / "LC_MESSAGES" / "django.po" for lang in ("fr", "en")}
MO = {lang: path.with_suffix(".mo") for lang, path in PO.items()}

# %(name)s, %s, %d, %.1f, %02X, %%; {{ var }}; {name}; HTML tags (known names only: "<référence>" is text).
HTML_TAGS = "a|abbr|b|br|code|em|i|kbd|li|mark|ol|p|small|span|strong|sub|sup|time|ul"
PLACEHOLDER = re.compile(
    r"%(?:\([^)]+\))?[-#0 +]*\d*(?:\.\d+)?[sdifrxXeEgGc%]|\{\{.*?\}\}|\{\w+\}|</?(?:" + HTML_TAGS + r")\b[^>]*>"
)


def parse_po(path):
    """Entries of a .po file as dicts: msgctxt, msgid, msgid_plural, msgstr (str, or list for plurals),
    flags, where (first reference). Obsolete entries (#~) are skipped."""
    entries, entry, field = [], None, None

    def flush():
        if entry is not None and "msgid" in entry:
            entries.append(entry)

    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line:
            flush()
            entry, field = None, None
            continue
        if line.startswith("#~"):
            continue
        if entry is None:
            entry = {"flags": set(), "where": "", "msgctxt": None, "msgid_plural": None, "plural": {}}
        if line.startswith("#,"):
            entry["flags"].update(flag.strip() for flag in line[2:].split(","))
        elif line.startswith("#:"):
            entry["where"] = entry["where"] or line[2:].split()[0]
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            value = ast.literal_eval(line)
            if isinstance(field, int):
                entry["plural"][field] += value
            else:
                entry[field] += value
        else:
            keyword, _, rest = line.partition(" ")
            match = re.fullmatch(r"msgstr\[(\d+)\]", keyword)
            if match:
                field = int(match.group(1))
                entry["plural"][field] = ast.literal_eval(rest)
            else:
                assert keyword in {"msgctxt", "msgid", "msgid_plural", "msgstr"}, f"{path}: {raw!r}"
                field = keyword
                entry[field] = ast.literal_eval(rest)
    flush()
    for item in entries:
        if item["msgid_plural"] is not None:
            item["msgstr"] = [item["plural"][i] for i in sorted(item["plural"])]
        del item["plural"]
    return entries


def header(entries):
    head = next(e for e in entries if e["msgid"] == "" and e["msgctxt"] is None)
    return dict(line.split(": ", 1) for line in head["msgstr"].splitlines() if ": " in line)


def placeholders(text):
    return Counter(PLACEHOLDER.findall(text))


def expected_catalog(entries):
    """What msgfmt puts in the .mo for these entries: translated, non-fuzzy ones, header excluded."""
    catalog = {}
    for e in entries:
        if e["msgid"] == "" or "fuzzy" in e["flags"]:
            continue
        key = e["msgid"] if e["msgctxt"] is None else f"{e['msgctxt']}\x04{e['msgid']}"
        if e["msgid_plural"] is None:
            if e["msgstr"]:
                catalog[key] = e["msgstr"]
        elif all(e["msgstr"]):
            catalog.update({(key, i): text for i, text in enumerate(e["msgstr"])})
    return catalog


def mo_catalog(path):
    with open(path, "rb") as handle:
        catalog = dict(gettext.GNUTranslations(handle)._catalog)
    catalog.pop("", None)
    return catalog


# (a) the English catalogue is complete and faithful ------------------------------------------------------


def test_catalogues_have_the_right_headers():
    fr, en = header(parse_po(PO["fr"])), header(parse_po(PO["en"]))
    assert fr["Language"] == "fr"
    assert fr["Plural-Forms"] == "nplurals=2; plural=(n > 1);"
    assert en["Language"] == "en"
    assert en["Plural-Forms"] == "nplurals=2; plural=(n != 1);"
    assert "charset=UTF-8" in en["Content-Type"] and "charset=UTF-8" in fr["Content-Type"]


def test_every_english_msgid_is_translated_with_its_placeholders():
    entries = [e for e in parse_po(PO["en"]) if e["msgid"]]
    assert len(entries) > 1000  # the whole application, not a stub
    problems = []
    for e in entries:
        where = f"{e['msgid']!r} ({e['where']})"
        if "fuzzy" in e["flags"]:
            problems.append(f"fuzzy: {where}")
        if e["msgid_plural"] is None:
            pairs = [(e["msgid"], e["msgstr"])]
        else:
            if len(e["msgstr"]) != 2:
                problems.append(f"needs msgstr[0] and msgstr[1]: {where}")
                continue
            pairs = [(e["msgid_plural"], e["msgstr"][1])]
            # The singular may leave out the counter ("The following report…"), never add a placeholder.
            allowed = set(placeholders(e["msgid"])) | set(placeholders(e["msgid_plural"]))
            if not e["msgstr"][0]:
                problems.append(f"untranslated singular: {where}")
            elif not set(placeholders(e["msgstr"][0])) <= allowed:
                problems.append(f"placeholders of the singular: {where} -> {e['msgstr'][0]!r}")
        for source, text in pairs:
            if not text:
                problems.append(f"untranslated: {where}")
            elif placeholders(source) != placeholders(text):
                problems.append(f"placeholders: {where} -> {text!r}")
            elif source[:1].isspace() != text[:1].isspace() or source[-1:].isspace() != text[-1:].isspace():
                problems.append(f"leading/trailing whitespace: {where} -> {text!r}")
    assert not problems, f"{len(problems)} problem(s) in {PO['en']}:\n" + "\n".join(problems[:50])


def test_french_catalogue_has_the_same_msgids_and_french_plurals():
    fr, en = parse_po(PO["fr"]), parse_po(PO["en"])
    assert {(e["msgctxt"], e["msgid"]) for e in fr} == {(e["msgctxt"], e["msgid"]) for e in en}
    for e in fr:
        assert "fuzzy" not in e["flags"], e["msgid"]
        if e["msgid_plural"] is not None:
            # Without these, gettext would fall back to the English rule and say "0 formations".
            assert e["msgstr"] == [e["msgid"], e["msgid_plural"]], e["msgid"]
        else:
            assert e["msgstr"] in ("", e["msgid"]) or e["msgid"] == "", e["msgid"]


# (b) the committed .mo files are those of the .po files ---------------------------------------------------


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_compiled_catalogue_matches_the_po(lang):
    assert MO[lang].exists(), f"run: python manage.py compilemessages --ignore=.venv ({MO[lang]} is missing)"
    assert mo_catalog(MO[lang]) == expected_catalog(parse_po(PO[lang])), (
        f"{MO[lang]} is out of date: run python manage.py compilemessages --ignore=.venv"
    )


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="gettext's msgfmt is not installed")
@pytest.mark.parametrize("lang", ["fr", "en"])
def test_msgfmt_accepts_the_po_and_builds_the_committed_mo(lang, tmp_path):
    fresh = tmp_path / "django.mo"
    result = subprocess.run(
        ["msgfmt", "--check", "-o", str(fresh), str(PO[lang])], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert mo_catalog(fresh) == mo_catalog(MO[lang])


# (c) English when asked for ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "french, english",
    [
        ("Mon espace", "My space"),
        ("Entretien professionnel", "Annual appraisal"),
        ("Aller au contenu", "Skip to content"),
        ("Viser le compte rendu", "Countersign the appraisal report"),
        ("Titulaire", "Tenured civil servant"),
        ("Contractuel", "Contract staff"),
        ("Responsable hiérarchique (N+1)", "Line manager (N+1)"),
        ("Attestation de formation", "Training certificate"),
    ],
)
def test_gettext_in_english(french, english):
    with translation.override("en"):
        assert translation.gettext(french) == english
    with translation.override("fr"):
        assert translation.gettext(french) == french


def test_ngettext_and_placeholders_in_english():
    with translation.override("en"):
        assert translation.ngettext("%(n)s agent", "%(n)s agents", 1) % {"n": 1} == "1 employee"
        assert translation.ngettext("%(n)s agent", "%(n)s agents", 0) % {"n": 0} == "0 employees"
        assert translation.ngettext("%(n)s agent", "%(n)s agents", 3) % {"n": 3} == "3 employees"
        assert translation.gettext("Unité inconnue : « %(code)s ».") % {"code": "DRH"} == 'Unknown unit: "DRH".'


def test_french_plural_rule_is_used_in_french():
    with translation.override("fr"):
        assert translation.ngettext("%(n)s agent", "%(n)s agents", 0) % {"n": 0} == "0 agent"
        assert translation.ngettext("%(n)s agent", "%(n)s agents", 1) % {"n": 1} == "1 agent"
        assert translation.ngettext("%(n)s agent", "%(n)s agents", 2) % {"n": 2} == "2 agents"


@pytest.mark.django_db
def test_home_page_in_english_with_the_language_cookie(client):
    ensure_home_page()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.get("/")
    assert response.status_code == 200
    assert 'lang="en"' in response.text
    assert "Skip to content" in response.text
    assert "Aller au contenu" not in response.text


@pytest.mark.django_db
def test_home_page_in_english_with_accept_language(client):
    ensure_home_page()
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.9")
    assert response.status_code == 200
    assert "Skip to content" in response.text


# (d) French by default ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_home_page_is_french_by_default(client):
    assert settings.LANGUAGE_CODE == "fr"
    ensure_home_page()
    response = client.get("/")
    assert response.status_code == 200
    assert 'lang="fr"' in response.text
    assert "Aller au contenu" in response.text
    assert "Skip to content" not in response.text


def test_gettext_is_french_by_default():
    with translation.override(settings.LANGUAGE_CODE):
        assert translation.gettext("Mon espace") == "Mon espace"
        assert translation.gettext("Entretien professionnel") == "Entretien professionnel"


def test_english_dates_have_one_format_per_kind():
    """One long and one short format, day first, 24-hour times, in English as in French."""
    import datetime

    from django.utils import formats

    moment = datetime.datetime(2026, 12, 6, 14, 30)
    with translation.override("en"):
        assert formats.date_format(moment.date()) == "6 December 2026"
        assert formats.date_format(moment.date(), "SHORT_DATE_FORMAT") == "06/12/2026"
        assert formats.date_format(moment, "DATETIME_FORMAT") == "6 December 2026 14:30"
        assert formats.date_format(moment, "SHORT_DATETIME_FORMAT") == "06/12/2026 14:30"
    with translation.override("fr"):
        assert formats.date_format(moment.date()) == "6 décembre 2026"
        assert formats.date_format(moment, "DATETIME_FORMAT") == "6 décembre 2026 14:30"
