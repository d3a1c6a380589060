"""Forms of the appraisal front end.

``ContentForm`` is the evaluator's compte rendu: its fields come from the campaign's frozen
template (``Campaign.template_snapshot``), so it is not a Django ``Form``: it reads the POST
into the answers format of ``Appraisal.answers`` (see ``appraisal/blocks.py``) and gives the
templates one plain dict per section. Input names and ids are ``s__<section id>`` for a
text, ``s__<section>__<criterion>__level`` / ``__comment`` for the criteria grid,
``s__<section>__<objective pk>__status`` / ``__comment`` for last year's objectives and
``s__<section>__<row>__<field>`` for the repeatable rows (objectives, training needs), the
number of rows being posted in ``s__<section>__rows``. The same partial templates render
the blank form of a template in the Wagtail snippet preview. The answers read from the POST
are checked by ``appraisal.content.validate_answers``, the one validator of the content
(the API's too), whose errors name their section and are linked to their input.

The workflow actions' forms are their ``Params`` (appraisal/actions.py), so that the page and
the API validate the same parameters and a ``ValidationError`` lands on the right field.
"""

import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import gettext as _g
from django.utils.translation import gettext_lazy as _

from appraisal import content
from appraisal.actions import ACTIONS, USER_ACTIONS
from appraisal.content import MAX_ROWS, MAX_TEXT, ROW_KINDS, TEXT_KINDS  # noqa: F401 (used by views and templates)

EXTRA_ROWS = 3
DATE_INPUTS = ("%Y-%m-%d", "%d/%m/%Y")


def field_name(section_id, *parts):
    return "__".join(["s", str(section_id), *(str(p) for p in parts)])


def _parse_date(raw):
    raw = (raw or "").strip()
    for fmt in DATE_INPUTS:
        try:
            return datetime.datetime.strptime(raw, fmt).date()
        except ValueError:
            continue
    return None


def _row_count(data, section_id):
    raw = str(data.get(field_name(section_id, "rows"), "")).strip()
    return min(int(raw), MAX_ROWS) if raw.isascii() and raw.isdigit() and len(raw) < 4 else 0


class ContentForm:
    """The compte rendu as the evaluator writes it (see the module docstring). The POST is
    read into the answers format, then checked by ``appraisal.content.validate_answers``,
    the validator the API uses too; its errors are put back on the inputs they concern."""

    def __init__(self, *, snapshot, carried=(), courses=(), answers=None, data=None):
        self.snapshot = list(snapshot or [])
        self.carried = list(carried)
        self.courses = list(courses)
        self.course_ids = {pk for pk, _title in self.courses}
        self.data = data
        self.is_bound = data is not None
        self.errors = []  # [{"id": html id or None, "label": str, "message": str}]
        self._field_errors = {}
        self.answers = None
        if self.is_bound:
            self.values, self.answers = self._parse(data)
        else:
            self.values = self._initial(answers)

    # --- errors ---------------------------------------------------------------------------

    def is_valid(self):
        return self.is_bound and not self.errors

    def add_error(self, html_id, label, message):
        self.errors.append({"id": html_id, "label": str(label), "message": str(message)})
        if html_id:
            self._field_errors.setdefault(html_id, []).append(str(message))

    def field_errors(self, html_id):
        return self._field_errors.get(html_id, [])

    def _html_id(self, error, spec):
        """The input an error of the validator is about (see the module docstring)."""
        sid, path = error.section_id, error.path
        if not sid:
            return None
        if not path:
            return field_name(sid) if self._kind(sid) in TEXT_KINDS else f"section-{sid}"
        if len(path) == 2 and path[1] == "level":
            levels = [level.get("id") for level in spec.get("scale") or [] if isinstance(level, dict)]
            return field_name(sid, path[0], "level", levels[0]) if levels else f"section-{sid}"
        if len(path) == 2:
            return field_name(sid, path[0], path[1])
        return f"section-{sid}"

    def _kind(self, sid):
        return next((kind for s_id, kind, _spec in content.template_sections(self.snapshot) if s_id == sid), None)

    # --- reading ----------------------------------------------------------------------------

    def _initial(self, answers):
        """Answers as stored → the display values (strings) of every section; whatever the
        stored data, what does not follow the rules is left out (``content.readable_answers``)."""
        values = {}
        readable = content.readable_answers(self.snapshot, answers)
        for sid, kind, _spec in content.template_sections(self.snapshot):
            if kind == "training_needs":
                values[sid] = [{"course": str(row["course"] or ""), "text": row["text"]} for row in readable[sid]]
            elif sid in readable:
                values[sid] = readable[sid]
        return values

    def _parse(self, data):
        """The POST → (values to show again, cleaned answers); errors land on the inputs."""
        values, raw = {}, {}
        specs = {}
        for sid, kind, spec in content.template_sections(self.snapshot):
            specs[sid] = spec
            if kind in TEXT_KINDS:
                values[sid] = raw[sid] = str(data.get(field_name(sid), ""))
            elif kind == "criteria_grid":
                values[sid], raw[sid] = self._read_grid(data, sid, spec)
            elif kind == "results":
                values[sid], raw[sid] = self._read_results(data, sid)
            elif kind == "objectives":
                values[sid], raw[sid] = self._read_rows(data, sid, ("title", "indicators", "due_on"))
                for row in raw[sid]:
                    day = _parse_date(row["due_on"])
                    row["due_on"] = day.isoformat() if day else row["due_on"].strip()
            elif kind == "training_needs":
                values[sid], raw[sid] = self._read_rows(data, sid, ("course", "text"))
                for row in raw[sid]:
                    row["course"] = row["course"].strip() or None
        answers, errors = content.validate_answers(
            self.snapshot, raw, carried_ids={o.pk for o in self.carried}, course_ids=self.course_ids
        )
        for error in errors:
            label = (
                _g("Section « %(section)s », %(item)s") % {"section": error.section_title, "item": error.item}
                if error.item
                else _g("Section « %(section)s »") % {"section": error.section_title}
                if error.section_id
                else ""
            )
            self.add_error(self._html_id(error, specs.get(error.section_id) or {}), label, error.short)
        return values, answers

    def _read_grid(self, data, sid, spec):
        shown, entries = {}, {}
        for criterion in spec.get("criteria") or []:
            cid = criterion.get("id") if isinstance(criterion, dict) else None
            if not isinstance(cid, str):
                continue
            level = str(data.get(field_name(sid, cid, "level"), "")).strip()
            comment = str(data.get(field_name(sid, cid, "comment"), ""))
            shown[cid] = {"level": level, "comment": comment}
            if level or comment.strip():
                entries[cid] = {"level": level, "comment": comment}
        return shown, entries

    def _read_results(self, data, sid):
        shown, entries = {}, {}
        for objective in self.carried:
            key = str(objective.pk)
            status = str(data.get(field_name(sid, key, "status"), "")).strip()
            comment = str(data.get(field_name(sid, key, "comment"), ""))
            shown[key] = {"status": status, "comment": comment}
            if status or comment.strip():
                entries[key] = {"status": status, "comment": comment}
        return shown, entries

    def _read_rows(self, data, sid, fields):
        """The repeatable rows that are not blank, as typed (shown again) and as a copy to clean."""
        rows = []
        for index in range(_row_count(data, sid)):
            row = {f: str(data.get(field_name(sid, index, f), "")) for f in fields}
            if any(v.strip() for v in row.values()):
                rows.append(row)
        return rows, [dict(row) for row in rows]

    # --- rendering --------------------------------------------------------------------------

    def sections(self):
        """One dict per section for ``appraisal/partials/section_fields.html``: the snapshot's
        ``type``, ``id`` and ``value`` plus the current values and errors."""
        out = []
        for section in self.snapshot:
            kind, sid, spec = section["type"], section["id"], section.get("value") or {}
            view = {"type": kind, "id": sid, "value": spec, "name": field_name(sid)}
            current = self.values.get(sid)
            if kind in TEXT_KINDS:
                view["text"] = current or ""
                view["errors"] = self.field_errors(field_name(sid))
            elif kind == "criteria_grid":
                current = current or {}
                view["criteria"] = [
                    {
                        "id": c["id"],
                        "value": c.get("value") or {},
                        "level": (current.get(c["id"]) or {}).get("level", ""),
                        "comment": (current.get(c["id"]) or {}).get("comment", ""),
                        "errors": [
                            *self.field_errors(
                                field_name(sid, c["id"], "level", (spec.get("scale") or [{}])[0].get("id"))
                            ),
                            *self.field_errors(field_name(sid, c["id"], "comment")),
                        ],
                    }
                    for c in spec.get("criteria") or []
                ]
            elif kind == "results":
                current = current or {}
                view["carried"] = [
                    {
                        "objective": o,
                        "key": str(o.pk),
                        "status": (current.get(str(o.pk)) or {}).get("status", ""),
                        "comment": (current.get(str(o.pk)) or {}).get("comment", ""),
                        "errors": [
                            *self.field_errors(field_name(sid, o.pk, "status")),
                            *self.field_errors(field_name(sid, o.pk, "comment")),
                        ],
                    }
                    for o in self.carried
                ]
            elif kind in ROW_KINDS:
                fields = ("title", "indicators", "due_on") if kind == "objectives" else ("course", "text")
                rows = list(current or [])
                blank = {f: "" for f in fields}
                view["rows"] = [
                    {
                        "index": index,
                        **{f: str(row.get(f) or "") for f in fields},
                        "errors": {f: self.field_errors(field_name(sid, index, f)) for f in fields},
                    }
                    for index, row in enumerate([*rows, *([blank] * EXTRA_ROWS)])
                ]
            out.append(view)
        return out


def missing_section_ids(snapshot, missing_titles):
    """The ids of the text sections whose titles ``workflow.missing_required_sections`` named."""
    titles = set(missing_titles)
    return [s["id"] for s in snapshot if s["type"] in TEXT_KINDS and (s.get("value") or {}).get("title") in titles]


# --- workflow actions -----------------------------------------------------------------------


class ActionForm(forms.Form):
    """Base of the action forms: the fields are the action's ``Params`` (appraisal/actions.py),
    plus what only the page needs (a certification box, initial values, help texts)."""

    action = None  # the action class

    def __init__(self, *args, appraisal=None, **kwargs):
        self.appraisal = appraisal
        super().__init__(*args, **kwargs)

    def params(self):
        """The parameters of the action (what the page adds is left out)."""
        return {k: v for k, v in self.cleaned_data.items() if k in self.action.param_names()}


class ConvokeFields(forms.Form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.appraisal is not None:
            days = self.appraisal.campaign.notice_days
            self.fields["interview_at"].help_text = _(
                "Au moins %(days)s jours après l'envoi de la convocation (format JJ/MM/AAAA HH:MM si votre navigateur "
                "ne propose pas de calendrier)."
            ) % {"days": days}
            self.fields["place"].initial = self.appraisal.interview_place
            if self.appraisal.interview_at:
                self.fields["interview_at"].initial = timezone.localtime(self.appraisal.interview_at)


class AcknowledgeFields(forms.Form):
    certify = forms.BooleanField(
        label=_("Je certifie avoir pris connaissance du compte rendu"),
        required=True,
        error_messages={"required": _("Cochez la case pour certifier avoir pris connaissance du compte rendu.")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.appraisal is not None:
            self.fields["observations"].initial = self.appraisal.observations


class RecordRefusalFields(forms.Form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["date"].initial = timezone.localdate()
        self.fields["date"].help_text = _("Entre la notification et aujourd'hui (JJ/MM/AAAA).")


# What the page adds to some actions' parameters.
PAGE_FIELDS = {"convoke": ConvokeFields, "acknowledge": AcknowledgeFields, "record_refusal": RecordRefusalFields}


def action_form(action):
    """The page's form of an action class: its ``Params`` (+ ``PAGE_FIELDS``)."""
    bases = (PAGE_FIELDS[action.name],) if action.name in PAGE_FIELDS else ()
    return type(f"{action.__name__}Form", (ActionForm, *bases, action.Params), {"action": action})


ACTION_FORMS = {name: action_form(cls) for name, cls in ACTIONS.items() if name in USER_ACTIONS}
# Title of each action's form and label of its button.
ACTION_LABELS = {name: (cls.label, cls.button) for name, cls in ACTIONS.items()}
# The message shown once the action is done.
ACTION_DONE = {name: cls.done_message for name, cls in ACTIONS.items()}
