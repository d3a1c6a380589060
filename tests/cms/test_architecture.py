"""The house rules that a reader could break without a test failing elsewhere, read from
the sources: a state field changes only in an action; the layers import in one direction."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APPS = ("cms", "learning", "appraisal", "recruitment", "themes", "xapi")

# A workflow record's state written by attribute, by ``update(state=...)`` or ``update(**values)``.
STATE_WRITE = re.compile(
    r"\.(?:state|status|revision_state)\s*=(?!=)"
    r"|\.update\((?!\{)[^)]*\b(?:state|status|revision_state)\s*="
    r"|\.update\(\*\*"
)
# Files that write a state outside ``<app>/actions.py``, and why.
ALLOWED = {
    "appraisal/demo.py": "bulk history of 55,000 generated appraisals, transitions written beside and checked against the table",
    "learning/demo.py": "bulk history of generated enrolments, events written beside and checked against the table",
    "cms/health.py": "a dict named info",
    "appraisal/pdf.py": "the export job's status dict",
}


def sources():
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if "/migrations/" not in relative:
                yield relative, path.read_text(encoding="utf-8")


def test_a_state_field_changes_only_in_an_action():
    offenders = [
        f"{relative}:{text.count(chr(10), 0, match.start()) + 1}: {match.group(0)}"
        for relative, text in sources()
        if not relative.endswith("/actions.py") and relative not in ALLOWED
        for match in STATE_WRITE.finditer(text)
    ]
    assert offenders == [], "state written outside an action:\n" + "\n".join(offenders)


@pytest.mark.parametrize("relative", sorted(ALLOWED))
def test_every_exception_is_still_needed(relative):
    assert STATE_WRITE.search((ROOT / relative).read_text(encoding="utf-8")), f"{relative} no longer needs its exception"


IMPORT = re.compile(r"^\s*(?:from|import)\s+(\w+)((?:\.\w+)*)", re.MULTILINE)


def imports_of(relative, text):
    return {m.group(1) + m.group(2) for m in IMPORT.finditer(text)}


def test_models_import_no_views_and_the_theme_knows_no_domain():
    problems = []
    for relative, text in sources():
        names = imports_of(relative, text)
        if relative.endswith("models.py") or "/models/" in relative:
            problems += [f"{relative} imports {n}" for n in names if n.rsplit(".", 1)[-1].endswith("views")]
        if relative.startswith("themes/"):
            problems += [f"{relative} imports {n}" for n in names if n.split(".")[0] in ("learning", "appraisal", "recruitment")]
    assert problems == []


def test_shared_infrastructure_is_imported_from_cms_not_from_another_app():
    """Charts, PDF rendering, reminders, CSV, uploads and dates live in cms: no app reaches
    into another app's infrastructure modules for them."""
    infrastructure = ("certificates", "charts", "pdf", "reminders", "calendar", "csvstream", "uploads")
    problems = []
    for relative, text in sources():
        app = relative.split("/")[0]
        for name in imports_of(relative, text):
            parts = name.split(".")
            if parts[0] in APPS and parts[0] not in (app, "cms") and len(parts) > 1 and parts[1] in infrastructure:
                problems.append(f"{relative} imports {name}")
    assert problems == []
