"""The content of a compte rendu (``Appraisal.answers``), validated in one place.

``Appraisal.answers`` maps the section ids of the campaign's frozen template
(``Campaign.template_snapshot``, see ``appraisal/blocks.py``) to one value per section kind:

=================================  ==========================================================
kind                               value
=================================  ==========================================================
``free_text``, ``overall``,        a string (at most ``MAX_TEXT`` characters)
``career``
``criteria_grid``                  ``{criterion id: {"level": level id of the section's scale
                                   or "", "comment": string}}``
``results``                        ``{id of an objective carried over to this appraisal:
                                   {"status": ObjectiveStatus or "", "comment": string}}``
``objectives``                     ``[{"title": string of 1 to 500 characters, "indicators":
                                   string, "due_on": ISO date "AAAA-MM-JJ" or ""}]``
``training_needs``                 ``[{"course": id of a published course or null, "text":
                                   string}]``
``agent_observations``             never in the answers: the agent's observations are
                                   ``Appraisal.observations``
=================================  ==========================================================

Lists hold at most ``MAX_ROWS`` rows; empty rows and empty entries are dropped; strings are
trimmed and may not contain NUL characters (PostgreSQL refuses them in JSON).

Three uses of the same rules (``_Cleaner``):

* :func:`clean_answers` / :func:`validate_answers`: input from the web form
  (``forms.ContentForm``) and from ``PATCH /api/v1/appraisals/{id}/content/``
  (``api.serializers.AppraisalContentRequestSerializer``), and again in
  ``services.save_draft`` before anything is written: every error names its section
  (« Section « Objectifs » : … »), and nothing invalid reaches the database;
* :func:`stored_errors`: ``notify`` refuses to freeze a report whose stored content does not
  validate (legacy rows, data changed behind the application's back);
* :func:`readable_answers`: the readers (detail page, PDF, edit form, notify, training
  needs) get well-typed values whatever is stored (invalid parts are left out, never a 500);
* :func:`repair_answers`: the data migration ``0004_repair_answers`` sets invalid values
  aside under the ``_invalid`` key (see :data:`INVALID_KEY`) and reports what it changed.
"""

import datetime
import re
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from appraisal.choices import ObjectiveStatus

TEXT_KINDS = {"free_text", "overall", "career"}
ROW_KINDS = {"objectives", "training_needs"}
KINDS = TEXT_KINDS | ROW_KINDS | {"criteria_grid", "results", "agent_observations"}
MAX_TEXT = 20000
MAX_TITLE = 500
MAX_ROWS = 100
MAX_ERRORS = 20
MAX_ID = 2**63 - 1
# Values the repair migration set aside: {section id or "(contenu)": original value}. Not a
# section: readers ignore it, input may not write it, it is kept for HR to read.
INVALID_KEY = "_invalid"
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
GRID_KEYS = ("level", "comment")
RESULT_KEYS = ("status", "comment")
OBJECTIVE_KEYS = ("title", "indicators", "due_on")
NEED_KEYS = ("course", "text")


@dataclass
class ContentError:
    """One problem in the content: its section, the item in it (if any), a message."""

    section_id: str
    section_title: str
    message: str  # lower-case start: it follows « Section « … » : »
    item: str = ""  # « objectif n° 2 », « critère « Qualités relationnelles » »…
    path: tuple = ()  # (criterion id | objective key | row index, field name)

    def __str__(self):
        if not self.section_id:
            return _capital(self.message)
        if self.item:
            return _("Section « %(section)s », %(item)s : %(message)s") % {
                "section": self.section_title,
                "item": self.item,
                "message": self.message,
            }
        return _("Section « %(section)s » : %(message)s") % {"section": self.section_title, "message": self.message}

    @property
    def short(self):
        """The message alone, as a sentence (for an error shown next to its field)."""
        return _capital(self.message)


def _capital(text):
    return text[:1].upper() + text[1:]


def _short(value, length=40):
    text = str(value)
    return text if len(text) <= length else text[: length - 1] + "…"


def _max_text():
    return number_format(MAX_TEXT, force_grouping=True)


# --- the template -------------------------------------------------------------------------------


def template_sections(snapshot):
    """The well-formed sections of a frozen template, as (id, kind, spec) in order."""
    out = []
    for section in snapshot if isinstance(snapshot, list) else []:
        if not isinstance(section, dict):
            continue
        sid, kind, spec = section.get("id"), section.get("type"), section.get("value")
        if isinstance(sid, str) and kind in KINDS:
            out.append((sid, kind, spec if isinstance(spec, dict) else {}))
    return out


def _item_ids(raw):
    """Ids and labels of a ListBlock's raw items (scale levels, criteria)."""
    out = {}
    for item in raw if isinstance(raw, list) else []:
        if isinstance(item, dict) and isinstance(item.get("id"), str):
            value = item.get("value") if isinstance(item.get("value"), dict) else {}
            out[item["id"]] = str(value.get("label") or item["id"])
    return out


def _title(spec, sid):
    return str(spec.get("title") or sid)


# --- the rules ----------------------------------------------------------------------------------


def _course_id(raw):
    """A course id as an int, or None when the value cannot be one."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw if 0 < raw <= MAX_ID else None
    if isinstance(raw, str) and raw.strip().isascii() and raw.strip().isdigit():
        number = int(raw.strip())
        return number if 0 < number <= MAX_ID else None
    return None


def _iso_date(raw):
    """``raw`` if it is an ISO date that exists ("2026-12-31"), else None."""
    if not isinstance(raw, str) or not ISO_DATE.match(raw.strip()):
        return None
    try:
        return datetime.date.fromisoformat(raw.strip()).isoformat()
    except ValueError:
        return None


@dataclass
class _Cleaner:
    """Cleans the value of one section: returns the value with every invalid part left out,
    and records one ``ContentError`` per problem in ``errors``.

    ``carried_ids``: the objectives that may be assessed (None: any numeric key);
    ``course_ids``: the courses that may be named (None: any positive integer);
    ``strip``: trim strings (input) or keep them as stored (readers, repair)."""

    carried_ids: set | None = None
    course_ids: set | None = None
    strip: bool = True
    errors: list = field(default_factory=list)

    def error(self, sid, title, message, item="", path=()):
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(ContentError(sid, title, message, item, path))

    # strings

    def text(self, raw, sid, title, *, item="", path=(), limit=MAX_TEXT, what=None):
        if raw is None:
            return ""
        if isinstance(raw, bool) or not isinstance(raw, str | int | float):
            self.error(sid, title, what or _("la réponse doit être un texte."), item, path)
            return ""
        if not isinstance(raw, str):
            self.error(sid, title, what or _("la réponse doit être un texte."), item, path)
            raw = str(raw)
        if "\x00" in raw:
            self.error(sid, title, _("le texte contient un caractère nul, non autorisé."), item, path)
            raw = raw.replace("\x00", "")
        value = raw.strip() if self.strip else raw
        if len(value.strip()) > limit:
            if limit == MAX_TEXT:
                message = _("le texte ne doit pas dépasser %(n)s caractères.") % {"n": _max_text()}
            else:
                message = _("l'intitulé ne doit pas dépasser %(n)s caractères.") % {"n": limit}
            self.error(sid, title, message, item, path)
            value = value[:limit]
        return value

    def mapping(self, raw, sid, title, message):
        if raw is None:
            return {}
        if not isinstance(raw, dict):
            self.error(sid, title, message)
            return {}
        return raw

    def rows(self, raw, sid, title, message):
        if raw is None:
            return []
        if not isinstance(raw, list):
            self.error(sid, title, message)
            return []
        if len(raw) > MAX_ROWS:
            self.error(sid, title, _("au plus %(n)s lignes.") % {"n": MAX_ROWS})
            raw = raw[:MAX_ROWS]
        return raw

    def entry(self, raw, sid, title, item, keys, key):
        """One entry of a grid or a list: a dict with known keys only."""
        if not isinstance(raw, dict):
            self.error(sid, title, _("un objet {%(keys)s} est attendu.") % {"keys": ", ".join(keys)}, item, (key,))
            return None
        unknown = sorted(str(k) for k in raw if k not in keys)
        if unknown:
            self.error(
                sid, title,
                _("champs inconnus : %(names)s (possibles : %(keys)s).")
                % {"names": ", ".join(_short(k) for k in unknown[:5]), "keys": ", ".join(keys)},
                item, (key,),
            )  # fmt: skip
        return raw

    # sections

    def section(self, sid, kind, spec, raw):
        title = _title(spec, sid)
        if kind in TEXT_KINDS:
            return self.text(raw, sid, title)
        if kind == "criteria_grid":
            return self.grid(sid, title, spec, raw)
        if kind == "results":
            return self.results(sid, title, raw)
        if kind == "objectives":
            return self.objectives(sid, title, raw)
        if kind == "training_needs":
            return self.needs(sid, title, raw)
        return None  # agent_observations: the agent's, in Appraisal.observations

    def grid(self, sid, title, spec, raw):
        levels = _item_ids(spec.get("scale"))
        criteria = _item_ids(spec.get("criteria"))
        raw = self.mapping(raw, sid, title, _("la réponse doit être un objet {critère: {level, comment}}."))
        out = {}
        for cid, entry in raw.items():
            if cid not in criteria:
                self.error(sid, title, _("critère inconnu : « %(id)s ».") % {"id": _short(cid)}, path=(cid,))
                continue
            item = _("critère « %(label)s »") % {"label": criteria[cid]}
            entry = self.entry(entry, sid, title, item, GRID_KEYS, cid)
            if entry is None:
                continue
            level = entry.get("level")
            if level is None:
                level = ""
            if level != "" and (not isinstance(level, str) or level not in levels):
                self.error(
                    sid, title,
                    _("niveau « %(level)s » hors de l'échelle (possibles : %(levels)s).")
                    % {"level": _short(level), "levels": ", ".join(levels)},
                    item, (cid, "level"),
                )  # fmt: skip
                level = ""
            comment = self.text(
                entry.get("comment"), sid, title, item=item, path=(cid, "comment"),
                what=_("le commentaire doit être un texte."),
            )  # fmt: skip
            if level or comment.strip():
                out[cid] = {"level": level, "comment": comment}
        return out

    def results(self, sid, title, raw):
        raw = self.mapping(raw, sid, title, _("la réponse doit être un objet {objectif: {status, comment}}."))
        out = {}
        for key, entry in raw.items():
            known = str(key).isascii() and str(key).isdigit() and 0 < int(key) <= MAX_ID
            if not known or (self.carried_ids is not None and int(key) not in self.carried_ids):
                self.error(
                    sid, title, _("objectif inconnu ou non reporté sur cet entretien : « %(id)s ».") % {"id": _short(key)},
                    path=(key,),
                )  # fmt: skip
                continue
            item = _("objectif n° %(id)s") % {"id": key}
            entry = self.entry(entry, sid, title, item, RESULT_KEYS, key)
            if entry is None:
                continue
            status = entry.get("status")
            if status is None:
                status = ""
            if status != "" and (not isinstance(status, str) or status not in ObjectiveStatus.values):
                self.error(
                    sid, title,
                    _("résultat « %(status)s » inconnu (possibles : %(all)s).")
                    % {"status": _short(status), "all": ", ".join(ObjectiveStatus.values)},
                    item, (key, "status"),
                )  # fmt: skip
                status = ""
            comment = self.text(
                entry.get("comment"), sid, title, item=item, path=(key, "comment"),
                what=_("le commentaire doit être un texte."),
            )  # fmt: skip
            if status or comment.strip():
                out[str(key)] = {"status": status, "comment": comment}
        return out

    def objectives(self, sid, title, raw):
        raw = self.rows(raw, sid, title, _("la réponse doit être une liste d'objectifs."))
        out = []
        for index, entry in enumerate(raw):
            item = _("objectif n° %(n)s") % {"n": index + 1}
            entry = self.entry(entry, sid, title, item, OBJECTIVE_KEYS, index)
            if entry is None:
                continue
            if all(entry.get(k) in (None, "") for k in OBJECTIVE_KEYS):
                continue  # an empty row
            name = self.text(
                entry.get("title"), sid, title, item=item, path=(index, "title"), limit=MAX_TITLE,
                what=_("l'intitulé doit être un texte."),
            )  # fmt: skip
            if not name.strip():
                self.error(sid, title, _("indiquez l'intitulé de l'objectif."), item, (index, "title"))
            indicators = self.text(
                entry.get("indicators"), sid, title, item=item, path=(index, "indicators"),
                what=_("les indicateurs doivent être un texte."),
            )  # fmt: skip
            due_on = entry.get("due_on")
            if due_on in (None, ""):
                due_on = ""
            elif _iso_date(due_on) is None:
                self.error(
                    sid, title, _("échéance invalide : indiquez une date existante (AAAA-MM-JJ)."), item,
                    (index, "due_on"),
                )  # fmt: skip
                due_on = ""
            else:
                due_on = _iso_date(due_on)
            if name.strip():
                out.append({"title": name, "indicators": indicators, "due_on": due_on})
        return out

    def needs(self, sid, title, raw):
        raw = self.rows(raw, sid, title, _("la réponse doit être une liste de besoins de formation."))
        out = []
        for index, entry in enumerate(raw):
            item = _("besoin de formation n° %(n)s") % {"n": index + 1}
            entry = self.entry(entry, sid, title, item, NEED_KEYS, index)
            if entry is None:
                continue
            raw_course = entry.get("course")
            course = None
            if raw_course not in (None, ""):
                course = _course_id(raw_course)
                if course is None or (self.course_ids is not None and course not in self.course_ids):
                    self.error(
                        sid, title,
                        _("formation « %(id)s » inconnue : choisissez une formation publiée du catalogue.")
                        % {"id": _short(raw_course)},
                        item, (index, "course"),
                    )  # fmt: skip
                    course = None
            text = self.text(
                entry.get("text"), sid, title, item=item, path=(index, "text"),
                what=_("le besoin exprimé doit être un texte."),
            )  # fmt: skip
            if course is not None or text.strip():
                out.append({"course": course, "text": text})
        return out


# --- input: the form and the API ---------------------------------------------------------------------


def _wanted_courses(sections, answers):
    ids = set()
    for sid, kind, _spec in sections:
        rows = answers.get(sid) if kind == "training_needs" else None
        for entry in rows if isinstance(rows, list) else []:
            if isinstance(entry, dict):
                number = _course_id(entry.get("course"))
                if number is not None:
                    ids.add(number)
    return ids


def _live_course_ids(ids):
    if not ids:
        return set()
    from learning.models import CoursePage

    return set(CoursePage.objects.live().filter(pk__in=ids).values_list("pk", flat=True))


def _carried_ids(appraisal):
    from appraisal.models import Objective

    return set(Objective.objects.filter(assessed_in=appraisal).values_list("pk", flat=True))


def validate_answers(snapshot, answers, *, appraisal=None, carried_ids=None, course_ids=None):
    """Check sections given as input against the frozen template; returns ``(cleaned,
    errors)``. ``cleaned`` holds only the given sections, normalised (trimmed strings, int
    course ids, ISO dates, no empty rows). ``carried_ids`` / ``course_ids``: the objectives
    carried over and the published courses, if the caller has them; else they are read
    (one query each, only when the input needs them)."""
    if not isinstance(answers, dict):
        return {}, [ContentError("", "", _("le contenu doit être un objet {identifiant de section: réponse}."))]
    sections = template_sections(snapshot)
    by_id = {sid: (kind, spec) for sid, kind, spec in sections}
    errors = []
    unknown = sorted(str(key) for key in answers if key not in by_id)
    if unknown:
        shown = ", ".join(_short(key) for key in unknown[:10]) + (", …" if len(unknown) > 10 else "")
        errors.append(ContentError("", "", _("sections inconnues : %(s)s.") % {"s": shown}))
    if carried_ids is None and any(by_id[sid][0] == "results" for sid in answers if sid in by_id):
        carried_ids = _carried_ids(appraisal) if appraisal is not None else set()
    if course_ids is None:
        course_ids = _live_course_ids(_wanted_courses(sections, answers))
    cleaner = _Cleaner(carried_ids=set(carried_ids or ()), course_ids=set(course_ids), strip=True, errors=errors)
    cleaned = {}
    for sid, raw in answers.items():
        if sid not in by_id:
            continue
        kind, spec = by_id[sid]
        if kind == "agent_observations":
            cleaner.error(sid, _title(spec, sid), _("les observations sont rédigées par l'agent, pas par l'évaluateur."))
            continue
        cleaned[sid] = cleaner.section(sid, kind, spec, raw)
    return cleaned, cleaner.errors


def as_validation_error(errors, key="answers"):
    return ValidationError({key: [str(error) for error in errors]})


def clean_answers(appraisal, answers, **known):
    """The cleaned sections, or ``ValidationError({"answers": [sentences naming the
    section]})``. Used by the API serializer and by ``services.save_draft``."""
    cleaned, errors = validate_answers(appraisal.campaign.template_snapshot, answers, appraisal=appraisal, **known)
    if errors:
        raise as_validation_error(errors)
    return cleaned


def clean_observations(raw):
    """The agent's observations (a free-text section of their own): text, capped."""
    title = _("Observations de l'agent")
    cleaner = _Cleaner(strip=False)
    value = cleaner.text(raw, "observations", title)
    if cleaner.errors:
        raise as_validation_error(cleaner.errors, key="observations")
    return value


def merge(stored, cleaned):
    """The stored answers with the cleaned sections replacing theirs. Stored content that is
    not an object is set aside under ``INVALID_KEY`` rather than lost."""
    if isinstance(stored, dict):
        merged = dict(stored)
    elif stored in (None, "", [], {}):
        merged = {}
    else:
        merged = {INVALID_KEY: {"(contenu)": stored}}
    merged.update(cleaned)
    return merged


# --- stored content: notify, readers --------------------------------------------------------------


def stored_errors(appraisal):
    """The problems of the stored answers, for the sections of the template (the keys that
    are not sections, such as ``INVALID_KEY``, are not part of the report)."""
    answers = appraisal.answers
    if not isinstance(answers, dict):
        if answers in (None, "", [], {}):
            return []
        return [ContentError("", "", _("le contenu enregistré du compte rendu est illisible."))]
    sections = template_sections(appraisal.campaign.template_snapshot)
    present = {sid: answers[sid] for sid, kind, _spec in sections if sid in answers and kind != "agent_observations"}
    _cleaned, errors = validate_answers(appraisal.campaign.template_snapshot, present, appraisal=appraisal)
    return errors


def readable_answers(snapshot, answers):
    """Well-typed answers for every section of the template, whatever is stored: what does not
    follow the rules is left out (no query: carried objectives and courses are not checked).
    Text sections are strings, grids and results dicts of dicts, rows lists of dicts."""
    stored = answers if isinstance(answers, dict) else {}
    cleaner = _Cleaner(strip=False)
    out = {}
    for sid, kind, spec in template_sections(snapshot):
        if kind == "agent_observations":
            continue
        out[sid] = cleaner.section(sid, kind, spec, stored.get(sid))
    return out


# --- repair (data migration) ------------------------------------------------------------------------


def repair_answers(snapshot, answers, *, existing_course_ids=None):
    """``(repaired, changes)`` for stored answers: unknown section ids and invalid section
    values are moved under ``INVALID_KEY`` (the original value, kept for HR), and the section
    keeps what can be read of it (same rules as the input, without the "carried over" and
    "published" checks: an objective or a course may have changed since). ``changes`` lists
    what was done, one sentence each; no change: ``(answers, [])``. Idempotent."""
    if not isinstance(answers, dict):
        if answers in (None, "", [], {}):
            return answers, []
        return {INVALID_KEY: {"(contenu)": answers}}, [_("contenu illisible mis de côté (%(t)s).") % {"t": type(answers).__name__}]
    sections = {sid: (kind, spec) for sid, kind, spec in template_sections(snapshot)}
    repaired, changes = {}, []
    invalid = dict(answers.get(INVALID_KEY)) if isinstance(answers.get(INVALID_KEY), dict) else {}
    if INVALID_KEY in answers and not isinstance(answers[INVALID_KEY], dict):
        invalid["(mis de côté)"] = answers[INVALID_KEY]
        changes.append(_("clé « %(k)s » illisible, conservée.") % {"k": INVALID_KEY})
    for sid, value in answers.items():
        if sid == INVALID_KEY:
            continue
        if sid not in sections or sections[sid][0] == "agent_observations":
            invalid[sid] = value
            changes.append(_("section inconnue « %(id)s » mise de côté.") % {"id": _short(sid)})
            continue
        kind, spec = sections[sid]
        if kind in TEXT_KINDS and isinstance(value, str) and "\x00" not in value and len(value.strip()) <= MAX_TEXT:
            repaired[sid] = value  # the common case, kept as is
            continue
        cleaner = _Cleaner(course_ids=existing_course_ids, strip=False)
        cleaned = cleaner.section(sid, kind, spec, value)
        if cleaner.errors:
            invalid[sid] = value
            repaired[sid] = cleaned
            changes.extend(str(error) for error in cleaner.errors)
        else:
            repaired[sid] = value
    if invalid:
        repaired[INVALID_KEY] = invalid
    if not changes:
        return answers, []
    return repaired, changes


def repair_all(appraisal_model, version_model=None, course_model=None, *, batch=500, log=print):
    """Repair every appraisal's stored answers (see :func:`repair_answers`) with the given
    models (historical ones in a migration), in batches of ids. Frozen versions
    (``version_model``) are signed and hashed: they are reported, never changed. Prints one
    line per change (``appraisal <id>: …``) and returns ``{appraisal id: [changes]}``. Safe on
    an empty database; a second run changes nothing."""
    report, last = {}, 0
    while True:
        rows = list(
            appraisal_model.objects.filter(pk__gt=last)
            .order_by("pk")
            .values_list("pk", "answers", "campaign__template_snapshot")[:batch]
        )
        if not rows:
            break
        last = rows[-1][0]
        existing = None
        if course_model is not None:
            ids = set()
            for _pk, answers, snapshot in rows:
                if isinstance(answers, dict):
                    ids |= _wanted_courses(template_sections(snapshot), answers)
            existing = set(course_model.objects.filter(pk__in=ids).values_list("pk", flat=True)) if ids else set()
        for pk, answers, snapshot in rows:
            repaired, changes = repair_answers(snapshot, answers, existing_course_ids=existing)
            if changes:
                appraisal_model.objects.filter(pk=pk).update(answers=repaired)
                report[pk] = changes
                for change in changes:
                    log(f"appraisal {pk}: {change}")
    if version_model is not None:
        last = 0
        while True:
            rows = list(
                version_model.objects.filter(pk__gt=last)
                .order_by("pk")
                .values_list("pk", "appraisal_id", "number", "answers", "appraisal__campaign__template_snapshot")[:batch]
            )
            if not rows:
                break
            last = rows[-1][0]
            for _pk, appraisal_id, number, answers, snapshot in rows:
                for change in repair_answers(snapshot, answers)[1]:
                    log(f"appraisal {appraisal_id} version {number} (signed, left unchanged): {change}")
    if report:
        log(f"appraisal answers: {len(report)} appraisal(s) repaired, invalid values kept under {INVALID_KEY!r}")
    return report
