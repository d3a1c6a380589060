"""Import of the agent directory from a CSV file (``manage.py import_agents``).

The file format is documented for HR administrators in ``docs/import.md``.

Two phases
----------
1. **Parse and validate** (no write): :func:`parse_file` reads the whole file (UTF-8 with or
   without BOM, ``;`` or ``,`` sniffed from the header line) into trimmed rows, then
   :func:`build_plan` checks every row against the others and against a
   :class:`DirectorySnapshot` of the database (three queries: units, agents with their
   account, usernames). *Every* error is collected, each naming its line and column
   (:class:`ImportIssue`), and the plan of what would change is computed.
2. **Apply**: only when there is no error and it is not a dry run, inside one
   ``transaction.atomic()``: org units first (treebeard ``add_root``/``add_child``/``move``,
   parents before children), then accounts and agents with ``bulk_create`` /
   ``bulk_update`` in batches of :data:`BATCH_SIZE`. New agents are created level by level
   of the reporting line, managers before their reports, so a manager may come after their
   reports in the file; beyond :data:`MANAGER_LEVELS` levels a second pass sets the managers.
   Existing agents get one ``bulk_update`` per set of changed fields. The number of queries
   does not grow with the number of agents, only with the number of batches, of management
   levels and of *new or moved* units (treebeard writes those one by one).

Public entry point: :func:`import_agents` ``(*, file, dry_run=False, progress=None)`` returns
an :class:`ImportReport`. ``file`` is a path, ``bytes`` or an open file (binary or text).
``progress(phase, done, total)`` is called with ``phase`` in ``"validate"`` / ``"apply"``.

Rules worth knowing
-------------------
- Agents are keyed by ``employee_number``, org units by ``code``. Re-importing the same file
  changes nothing. Agents absent from the file are *not* deactivated (they are only counted
  in ``ImportReport.agents_absent``); a row with ``active=0`` deactivates the agent.
- Optional columns left out of the header leave the corresponding data unchanged.
- On a row, a blank ``org_unit_name`` or ``parent_org_unit_code`` means "not stated on this
  line" (the unit keeps its name/parent, a new unit without parent is a root); a blank
  ``manager_employee_number`` means "no manager".
- New accounts get ``username = employee_number.lower()`` and an unusable password.
- The kind of a new unit comes from the first word of its name (Direction, Sous-direction,
  Service, Bureau), else from its depth (direction, service, then bureau). Existing units
  keep their kind.

Listener hook
-------------
Other apps react to an import with :func:`register_import_listener`, typically in their
``AppConfig.ready()``::

    from cms.importer import register_import_listener

    def assign_mandatory_courses(created_agent_ids, updated_agent_ids):
        ...

    register_import_listener(assign_mandatory_courses)

After a successful import that is not a dry run, each listener is called, in registration
order, *inside the import transaction*, with two lists of ``Agent`` primary keys: the agents
created and the agents updated by this import. If a listener raises, the whole import is
rolled back. Listeners doing slow work (mails…) should defer it with
``transaction.on_commit`` or enqueue a task.
"""

from __future__ import annotations

import codecs
import csv
import io
import logging
import os
import re
import secrets
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.contrib.auth.models import BaseUserManager
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cms import services
from cms.choices import Category, EmploymentStatus, OrgUnitKind
from cms.models import Agent, OrgUnit
from cms.text import strip_invisible

logger = logging.getLogger(__name__)

__all__ = [
    "BATCH_SIZE",
    "COLUMNS",
    "REQUIRED_COLUMNS",
    "DirectorySnapshot",
    "ImportIssue",
    "ImportReport",
    "build_plan",
    "import_agents",
    "parse_file",
    "register_import_listener",
    "run_import_listeners",
    "unregister_import_listener",
]

BATCH_SIZE = 2000
UPDATE_IDS_BATCH_SIZE = 500  # ids in one ``pk__in`` (stays under SQLite's historical 999 parameters)
MANAGER_LEVELS = 12  # new agents are created level by level down to this depth of the hierarchy

COLUMNS = (
    "employee_number",
    "first_name",
    "last_name",
    "email",
    "org_unit_code",
    "org_unit_name",
    "parent_org_unit_code",
    "manager_employee_number",
    "job_title",
    "category",
    "corps",
    "grade",
    "employment_status",
    "active",
)
REQUIRED_COLUMNS = ("employee_number", "first_name", "last_name", "email", "org_unit_code")
REQUIRED_VALUES = REQUIRED_COLUMNS
NAME_COLUMNS = frozenset({"first_name", "last_name", "job_title", "org_unit_name"})

TRUE_VALUES = frozenset({"1", "oui", "o", "true", "vrai", "yes", "y"})
FALSE_VALUES = frozenset({"0", "non", "n", "false", "faux", "no"})

EMPLOYEE_NUMBER_RE = re.compile(r"^[\w.@+-]+\Z")
CONTROL_CHARS_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

# First word of a unit name → kind (compared without accents, case-insensitively).
KIND_BY_FIRST_WORD = {
    "direction": OrgUnitKind.DIRECTION,
    "sous-direction": OrgUnitKind.SOUS_DIRECTION,
    "sous_direction": OrgUnitKind.SOUS_DIRECTION,
    "service": OrgUnitKind.SERVICE,
    "bureau": OrgUnitKind.BUREAU,
}

Progress = Callable[[str, int, int], None]


# --------------------------------------------------------------------------- listeners

_listeners: list[Callable[[list[int], list[int]], None]] = []


def register_import_listener(func):
    """Call ``func(created_agent_ids, updated_agent_ids)`` after each successful import.

    Called inside the import transaction (see the module docstring). Registering the same
    function twice has no effect. Returns ``func``, so it can be used as a decorator.
    """
    if func not in _listeners:
        _listeners.append(func)
    return func


def run_import_listeners(created_agent_ids, updated_agent_ids):
    """Call every listener, in registration order, as after an import. Other writers of the
    directory (SCIM provisioning) call it too, inside their transaction, so that newcomers get
    their mandatory courses whichever way they arrive."""
    for listener in list(_listeners):
        listener(list(created_agent_ids), list(updated_agent_ids))


def unregister_import_listener(func):
    """Remove a listener registered with :func:`register_import_listener` (no error if absent)."""
    if func in _listeners:
        _listeners.remove(func)


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class ImportIssue:
    """One error found in the file: ``line`` (1 = header) and ``column`` when known."""

    line: int | None
    column: str | None
    message: str

    def __str__(self):
        if self.line is not None and self.column:
            return _("ligne %(line)s, colonne %(column)s : %(message)s") % {
                "line": self.line,
                "column": self.column,
                "message": self.message,
            }
        if self.line is not None:
            return _("ligne %(line)s : %(message)s") % {"line": self.line, "message": self.message}
        if self.column:
            return _("colonne %(column)s : %(message)s") % {"column": self.column, "message": self.message}
        return self.message


@dataclass
class ImportReport:
    """What an import did (or, for a dry run or a refused file, what it would have done)."""

    dry_run: bool = False
    rows: int = 0
    units_created: int = 0
    units_updated: int = 0
    units_unchanged: int = 0
    agents_created: int = 0
    agents_updated: int = 0
    agents_unchanged: int = 0
    agents_deactivated: int = 0
    agents_reactivated: int = 0
    agents_absent: int = 0
    errors: list[ImportIssue] = field(default_factory=list)
    created_agent_ids: list[int] = field(default_factory=list)
    updated_agent_ids: list[int] = field(default_factory=list)

    @property
    def ok(self):
        return not self.errors

    @property
    def written(self):
        """True when the import changed the database."""
        return (
            self.ok
            and not self.dry_run
            and bool(self.units_created or self.units_updated or self.agents_created or self.agents_updated)
        )


# --------------------------------------------------------------------------- phase 1: parse


@dataclass(slots=True)
class ParsedRow:
    line: int
    values: dict[str, str]


@dataclass
class ParsedFile:
    columns: tuple[str, ...] = ()
    delimiter: str = ","
    rows: list[ParsedRow] = field(default_factory=list)
    errors: list[ImportIssue] = field(default_factory=list)


def _read_source(file) -> bytes | str:
    if isinstance(file, bytes | bytearray | memoryview):
        return bytes(file)
    if isinstance(file, str | os.PathLike):
        return Path(file).read_bytes()
    data = file.read()
    if isinstance(data, bytearray | memoryview):
        data = bytes(data)
    return data


def _line_of(data, index):
    newline = b"\n" if isinstance(data, bytes) else "\n"
    return data.count(newline, 0, index) + 1


def _decode(data: bytes | str, errors: list[ImportIssue]) -> str | None:
    if isinstance(data, str):
        text = data.removeprefix("\ufeff")
    else:
        if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            errors.append(
                ImportIssue(
                    None,
                    None,
                    _("le fichier est encodé en UTF-16 : enregistrez-le au format « CSV UTF-8 »."),
                )
            )
            return None
        nul = data.find(b"\x00")
        if nul >= 0:
            errors.append(
                ImportIssue(
                    _line_of(data, nul),
                    None,
                    _("le fichier contient des données binaires (octet nul) : ce n'est pas un fichier CSV."),
                )
            )
            return None
        data = data.removeprefix(codecs.BOM_UTF8)
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            errors.append(
                ImportIssue(
                    _line_of(data, exc.start),
                    None,
                    _(
                        "le fichier n'est pas encodé en UTF-8 (octet 0x%(byte)02X inattendu) : "
                        "enregistrez-le au format « CSV UTF-8 »."
                    )
                    % {"byte": data[exc.start]},
                )
            )
            return None
    control = CONTROL_CHARS_RE.search(text)
    if control:
        errors.append(
            ImportIssue(
                _line_of(text, control.start()),
                None,
                _("caractère de contrôle U+%(code)04X inattendu : le fichier semble binaire ou corrompu.")
                % {"code": ord(control.group())},
            )
        )
        return None
    if not text.strip():
        errors.append(ImportIssue(None, None, _("le fichier est vide.")))
        return None
    return text


def _sniff_delimiter(text: str) -> str:
    header = next((line for line in text.splitlines() if line.strip()), "")
    return ";" if header.count(";") > header.count(",") else ","


def parse_file(file) -> ParsedFile:
    """Read the whole CSV into trimmed rows. Pure: no database access.

    Errors about the file itself (encoding, header, malformed lines) are collected in
    ``ParsedFile.errors``; when the header is unusable no row is returned.
    """
    parsed = ParsedFile()
    errors = parsed.errors
    text = _decode(_read_source(file), errors)
    if text is None:
        return parsed
    parsed.delimiter = delimiter = _sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    previous_line = 0
    header = None
    header_line = 1
    try:
        for raw in reader:
            line, previous_line = previous_line + 1, reader.line_num
            if not any(cell.strip() for cell in raw):
                continue
            if header is None:
                header, header_line = [cell.strip().lower() for cell in raw], line
                while header and not header[-1]:
                    header.pop()
                if not _check_header(header, header_line, delimiter, errors):
                    return parsed
                parsed.columns = tuple(header)
                continue
            width = len(header)
            if len(raw) != width:
                if len(raw) > width and not any(cell.strip() for cell in raw[width:]):
                    raw = raw[:width]  # trailing empty cells (spreadsheet exports)
                else:
                    errors.append(
                        ImportIssue(
                            line,
                            None,
                            _(
                                "%(found)s champs au lieu de %(expected)s "
                                "(séparateur « %(delimiter)s », vérifiez les guillemets)"
                            )
                            % {"found": len(raw), "expected": width, "delimiter": delimiter},
                        )
                    )
                    continue
            parsed.rows.append(ParsedRow(line, {col: cell.strip() for col, cell in zip(header, raw, strict=True)}))
    except csv.Error as exc:
        errors.append(
            ImportIssue(
                previous_line + 1,  # where the broken record starts
                None,
                _("CSV mal formé, guillemets probablement mal fermés (%(detail)s).") % {"detail": exc},
            )
        )
        return parsed
    if header is None:
        errors.append(ImportIssue(None, None, _("le fichier est vide.")))
    elif not parsed.rows and not errors:
        errors.append(ImportIssue(None, None, _("le fichier ne contient aucune ligne d'agent après l'en-tête.")))
    return parsed


def _check_header(header, line, delimiter, errors) -> bool:
    before = len(errors)
    for position, name in enumerate(header, start=1):
        if not name:
            errors.append(
                ImportIssue(line, None, _("la colonne n° %(position)s n'a pas de nom.") % {"position": position})
            )
    seen = set()
    for name in header:
        if name and name in seen:
            errors.append(ImportIssue(line, name, _("colonne présente plusieurs fois dans l'en-tête.")))
        seen.add(name)
    unknown = [name for name in dict.fromkeys(header) if name and name not in COLUMNS]
    if unknown:
        errors.append(
            ImportIssue(
                line,
                None,
                _("colonnes inconnues : %(unknown)s. Colonnes acceptées : %(accepted)s.")
                % {"unknown": ", ".join(unknown), "accepted": ", ".join(COLUMNS)},
            )
        )
    missing = [name for name in REQUIRED_COLUMNS if name not in seen]
    if missing:
        errors.append(
            ImportIssue(
                line,
                None,
                _(
                    "colonnes obligatoires manquantes dans l'en-tête : %(missing)s "
                    "(séparateur détecté : « %(delimiter)s »)."
                )
                % {"missing": ", ".join(missing), "delimiter": delimiter},
            )
        )
    return len(errors) == before


# --------------------------------------------------------------------------- snapshot of the database


@dataclass(slots=True)
class UnitState:
    id: int
    code: str
    name: str
    kind: str
    path: str
    parent_code: str | None


@dataclass(slots=True)
class AgentState:
    id: int
    employee_number: str
    user_id: int
    first_name: str
    last_name: str
    email: str
    org_unit_id: int
    manager_id: int | None
    job_title: str
    category: str
    corps: str
    grade: str
    employment_status: str
    active: bool


@dataclass
class DirectorySnapshot:
    """The part of the database an import compares against, as plain dicts."""

    units: dict[str, UnitState] = field(default_factory=dict)
    agents: dict[str, AgentState] = field(default_factory=dict)
    usernames: set[str] = field(default_factory=set)  # lowercased, every account
    unit_code_by_id: dict[int, str] = field(default_factory=dict)
    employee_number_by_id: dict[int, str] = field(default_factory=dict)

    @classmethod
    def load(cls) -> DirectorySnapshot:
        snapshot = cls()
        code_by_path = {}
        steplen = OrgUnit.steplen
        for pk, code, name, kind, path in OrgUnit.objects.order_by("path").values_list(
            "id", "code", "name", "kind", "path"
        ):
            code_by_path[path] = code
            parent = code_by_path.get(path[:-steplen]) if len(path) > steplen else None
            snapshot.units[code] = UnitState(pk, code, name, kind, path, parent)
            snapshot.unit_code_by_id[pk] = code
        rows = (
            Agent.objects.order_by()
            .values_list(
                "id",
                "employee_number",
                "user_id",
                "user__first_name",
                "user__last_name",
                "user__email",
                "org_unit_id",
                "manager_id",
                "job_title",
                "category",
                "corps",
                "grade",
                "employment_status",
                "active",
            )
            .iterator(chunk_size=BATCH_SIZE)
        )
        for row in rows:
            state = AgentState(*row)
            snapshot.agents[state.employee_number] = state
            snapshot.employee_number_by_id[state.id] = state.employee_number
        user_model = get_user_model()
        snapshot.usernames = {
            name.lower()
            for name in user_model.objects.order_by()
            .values_list(user_model.USERNAME_FIELD, flat=True)
            .iterator(chunk_size=BATCH_SIZE)
        }
        return snapshot


# --------------------------------------------------------------------------- phase 1: validate and plan


@dataclass(slots=True)
class AgentRecord:
    """A validated row. ``None`` means "column absent: keep the current value"."""

    line: int
    employee_number: str
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    unit_code: str = ""
    unit_name: str = ""
    parent_code: str = ""
    manager: str | None = None
    job_title: str | None = None
    category: str | None = None
    corps: str | None = None
    grade: str | None = None
    employment_status: str | None = None
    active: bool | None = None


@dataclass(slots=True)
class UnitOp:
    action: str  # "create" or "move"
    code: str
    parent_code: str | None
    depth: int
    name: str = ""
    kind: str = ""


USER_UPDATE_FIELDS = ("first_name", "last_name", "email")


@dataclass
class Plan:
    """What the import would write. Built only for a file without errors."""

    errors: list[ImportIssue] = field(default_factory=list)
    rows: int = 0
    unit_ops: list[UnitOp] = field(default_factory=list)
    unit_renames: dict[str, str] = field(default_factory=dict)
    units_updated: int = 0
    units_unchanged: int = 0
    new_agents: list[AgentRecord] = field(default_factory=list)
    # (current state, row, changed agent fields, changed account fields); ``org_unit`` is a unit
    # code and ``manager`` an employee number, resolved to ids when applying
    changed_agents: list[tuple[AgentState, AgentRecord, dict, dict]] = field(default_factory=list)
    agents_unchanged: int = 0
    agents_deactivated: int = 0
    agents_reactivated: int = 0
    agents_absent: int = 0

    def report(self, *, dry_run) -> ImportReport:
        return ImportReport(
            dry_run=dry_run,
            rows=self.rows,
            units_created=sum(1 for op in self.unit_ops if op.action == "create"),
            units_updated=self.units_updated,
            units_unchanged=self.units_unchanged,
            agents_created=len(self.new_agents),
            agents_updated=len(self.changed_agents),
            agents_unchanged=self.agents_unchanged,
            agents_deactivated=self.agents_deactivated,
            agents_reactivated=self.agents_reactivated,
            agents_absent=self.agents_absent,
            errors=list(self.errors),
        )


def _max_lengths():
    user_model = get_user_model()
    return {
        "employee_number": Agent._meta.get_field("employee_number").max_length,
        "first_name": user_model._meta.get_field("first_name").max_length,
        "last_name": user_model._meta.get_field("last_name").max_length,
        "email": user_model._meta.get_field("email").max_length,
        "org_unit_code": OrgUnit._meta.get_field("code").max_length,
        "org_unit_name": OrgUnit._meta.get_field("name").max_length,
        "parent_org_unit_code": OrgUnit._meta.get_field("code").max_length,
        "manager_employee_number": Agent._meta.get_field("employee_number").max_length,
        "job_title": Agent._meta.get_field("job_title").max_length,
        "corps": Agent._meta.get_field("corps").max_length,
        "grade": Agent._meta.get_field("grade").max_length,
    }


def _validate_row(row: ParsedRow, max_lengths, errors: list[ImportIssue]) -> AgentRecord | None:
    # Names lose their bidi controls and zero-width characters (they could make a name
    # display as another one), before their length is checked.
    values = {
        column: strip_invisible(value) if column in NAME_COLUMNS else value for column, value in row.values.items()
    }
    line = row.line

    def error(column, message):
        errors.append(ImportIssue(line, column, message))

    ok = {}
    for column, value in values.items():
        limit = max_lengths.get(column)
        if limit and len(value) > limit:
            error(
                column,
                _("valeur trop longue (%(length)s caractères, %(max)s au maximum).")
                % {"length": len(value), "max": limit},
            )
        else:
            ok[column] = value
    for column in REQUIRED_VALUES:
        if column in ok and not ok[column]:
            error(column, _("valeur obligatoire."))

    number = ok.get("employee_number", "")
    if number and not EMPLOYEE_NUMBER_RE.match(number):
        error(
            "employee_number",
            _("matricule invalide « %(value)s » : lettres, chiffres et . @ + - _ uniquement.") % {"value": number},
        )
        number = ""
    record = AgentRecord(line=line, employee_number=number)
    record.first_name = ok.get("first_name", "")
    record.last_name = ok.get("last_name", "")
    record.unit_code = ok.get("org_unit_code", "")
    record.unit_name = ok.get("org_unit_name", "")
    record.parent_code = ok.get("parent_org_unit_code", "")

    email = ok.get("email", "")
    if email:
        try:
            validate_email(email)
        except ValidationError:
            error("email", _("adresse invalide « %(value)s ».") % {"value": email})
        else:
            record.email = BaseUserManager.normalize_email(email)

    if "manager_employee_number" in values:
        record.manager = ok.get("manager_employee_number", "")
        if record.manager and number and record.manager == number:
            error("manager_employee_number", _("un agent ne peut pas être son propre responsable."))
            record.manager = ""
    for column in ("job_title", "corps", "grade"):
        if column in values:
            setattr(record, column, ok.get(column, ""))
    if "category" in values:
        category = values["category"].upper()
        if category and category not in Category.values:
            error(
                "category",
                _("catégorie invalide « %(value)s » : A, B, C ou vide.") % {"value": values["category"]},
            )
        else:
            record.category = category
    if "employment_status" in values:
        status = values["employment_status"].lower()
        if status and status not in EmploymentStatus.values:
            error(
                "employment_status",
                _("statut invalide « %(value)s » : titulaire ou contractuel.") % {"value": values["employment_status"]},
            )
        elif status:
            record.employment_status = status
    if "active" in values:
        active = values["active"].lower()
        if not active or active in TRUE_VALUES:
            record.active = True
        elif active in FALSE_VALUES:
            record.active = False
        else:
            error(
                "active",
                _("valeur invalide « %(value)s » : 1/0, oui/non, true/false, yes/no ou vide (= actif).")
                % {"value": values["active"]},
            )
    return record if number else None


def _find_cycles(starts: Iterable[str], parent_of: Callable[[str], str | None]) -> Iterator[list[str]]:
    """Yield each cycle reachable from ``starts`` in the graph ``node → parent_of(node)``."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    for start in starts:
        path = []
        node = start
        while node is not None and node not in state:
            state[node] = 1
            path.append(node)
            node = parent_of(node)
        if node is not None and state[node] == 1:
            yield path[path.index(node) :]
        for visited in path:
            state[visited] = 2


def _infer_kind(name: str, depth: int) -> str:
    first_word = name.split(maxsplit=1)[0] if name.split() else ""
    first_word = unicodedata.normalize("NFKD", first_word).encode("ascii", "ignore").decode().lower()
    kind = KIND_BY_FIRST_WORD.get(first_word)
    if kind:
        return kind
    if depth <= 1:
        return OrgUnitKind.DIRECTION
    if depth == 2:
        return OrgUnitKind.SERVICE
    return OrgUnitKind.BUREAU


def build_plan(parsed: ParsedFile, snapshot: DirectorySnapshot, progress: Progress | None = None) -> Plan:
    """Validate every row against the others and the snapshot; compute the changes.

    Pure function of its arguments (no database access).
    """
    plan = Plan(rows=len(parsed.rows))
    errors = plan.errors
    max_lengths = _max_lengths()
    columns = set(parsed.columns)

    # --- rows, one by one
    records: dict[str, AgentRecord] = {}  # first occurrence of each employee number
    all_records: list[AgentRecord] = []
    total = len(parsed.rows)
    for index, row in enumerate(parsed.rows, start=1):
        record = _validate_row(row, max_lengths, errors)
        if record is not None:
            first = records.get(record.employee_number)
            if first is not None:
                errors.append(
                    ImportIssue(
                        record.line,
                        "employee_number",
                        _("matricule %(number)s déjà présent ligne %(other)s.")
                        % {"number": record.employee_number, "other": first.line},
                    )
                )
            else:
                records[record.employee_number] = record
                all_records.append(record)
        if progress and (index % 1000 == 0 or index == total):
            progress("validate", index, total)

    # --- login names of new accounts
    new_usernames: dict[str, AgentRecord] = {}
    for record in all_records:
        if record.employee_number in snapshot.agents:
            continue
        username = record.employee_number.lower()
        other = new_usernames.get(username)
        if other is not None:
            errors.append(
                ImportIssue(
                    record.line,
                    "employee_number",
                    _("matricule %(number)s identique, à la casse près, à celui de la ligne %(other)s.")
                    % {"number": record.employee_number, "other": other.line},
                )
            )
        elif username in snapshot.usernames:
            errors.append(
                ImportIssue(
                    record.line,
                    "employee_number",
                    _(
                        "nouvel agent, mais l'identifiant de connexion « %(username)s » est déjà pris par un "
                        "compte qui n'a pas ce matricule."
                    )
                    % {"username": username},
                )
            )
        else:
            new_usernames[username] = record

    unit_parents = _check_units(all_records, snapshot, columns, errors)
    _check_managers(records, snapshot, errors)

    errors.sort(key=lambda issue: (issue.line or 0, COLUMNS.index(issue.column) if issue.column in COLUMNS else -1))
    if errors:
        return plan
    _plan_units(plan, all_records, snapshot, unit_parents)
    _plan_agents(plan, all_records, snapshot)
    return plan


def _check_units(records, snapshot, columns, errors):
    """Check the org unit definitions; return code → (parent code, line) stated in the file."""
    first_line: dict[str, int] = {}
    names: dict[str, tuple[str, int]] = {}
    parents: dict[str, tuple[str, int]] = {}
    for record in records:
        code = record.unit_code
        if not code:
            continue
        first_line.setdefault(code, record.line)
        if record.unit_name:
            name, line = names.setdefault(code, (record.unit_name, record.line))
            if name != record.unit_name:
                errors.append(
                    ImportIssue(
                        record.line,
                        "org_unit_name",
                        _("l'unité %(code)s porte un autre nom ligne %(other)s (« %(name)s »).")
                        % {"code": code, "other": line, "name": name},
                    )
                )
        if record.parent_code:
            parent, line = parents.setdefault(code, (record.parent_code, record.line))
            if parent != record.parent_code:
                errors.append(
                    ImportIssue(
                        record.line,
                        "parent_org_unit_code",
                        _("l'unité %(code)s est rattachée à une autre unité parente ligne %(other)s (%(parent)s).")
                        % {"code": code, "other": line, "parent": parent},
                    )
                )
    for code, line in first_line.items():
        if code not in snapshot.units and code not in names:
            column = "org_unit_name"
            errors.append(
                ImportIssue(
                    line,
                    column,
                    _("l'unité %(code)s n'existe pas encore : son nom est obligatoire.") % {"code": code}
                    if column in columns
                    else _("l'unité %(code)s n'existe pas encore : ajoutez la colonne org_unit_name avec son nom.")
                    % {"code": code},
                )
            )
    valid_parents: dict[str, tuple[str, int]] = {}
    for code, (parent, line) in parents.items():
        if parent == code:
            errors.append(
                ImportIssue(
                    line,
                    "parent_org_unit_code",
                    _("l'unité %(code)s ne peut pas être sa propre unité parente.") % {"code": code},
                )
            )
        elif parent not in first_line and parent not in snapshot.units:
            errors.append(
                ImportIssue(
                    line,
                    "parent_org_unit_code",
                    _(
                        "unité parente inconnue « %(parent)s » : elle n'existe pas dans l'annuaire et n'est "
                        "l'unité d'aucune ligne du fichier."
                    )
                    % {"parent": parent},
                )
            )
        else:
            valid_parents[code] = (parent, line)

    def parent_of(code):
        if code in valid_parents:
            return valid_parents[code][0]
        if code in parents:  # invalid parent, already reported
            return None
        unit = snapshot.units.get(code)
        return unit.parent_code if unit else None

    for cycle in _find_cycles(sorted(first_line, key=first_line.get), parent_of):
        stated = [code for code in cycle if code in valid_parents]
        if not stated:
            continue  # a cycle already in the database: not this file's doing
        start = cycle.index(min(stated, key=lambda code: valid_parents[code][1]))
        cycle = cycle[start:] + cycle[:start]
        steps = [
            _("%(code)s (ligne %(line)s)") % {"code": code, "line": valid_parents[code][1]}
            if code in valid_parents
            else _("%(code)s (annuaire)") % {"code": code}
            for code in cycle
        ]
        errors.append(
            ImportIssue(
                valid_parents[cycle[0]][1],
                "parent_org_unit_code",
                _("cycle dans l'organigramme : %(chain)s → %(first)s.")
                % {"chain": " → ".join(steps), "first": cycle[0]},
            )
        )
    return valid_parents


def _check_managers(records: dict[str, AgentRecord], snapshot, errors):
    """Check that every manager exists and that the reporting lines form no cycle."""
    by_id = snapshot.employee_number_by_id
    stated: dict[str, str | None] = {}
    for number, record in records.items():
        if record.manager is None:
            continue
        if record.manager and record.manager not in records and record.manager not in snapshot.agents:
            errors.append(
                ImportIssue(
                    record.line,
                    "manager_employee_number",
                    _(
                        "responsable inconnu « %(number)s » : aucun agent n'a ce matricule, ni dans le fichier "
                        "ni dans l'annuaire."
                    )
                    % {"number": record.manager},
                )
            )
            stated[number] = None
        else:
            stated[number] = record.manager or None

    def manager_of(number):
        if number in stated:
            return stated[number]
        agent = snapshot.agents.get(number)
        return by_id.get(agent.manager_id) if agent and agent.manager_id else None

    for cycle in _find_cycles(records, manager_of):
        in_file = [number for number in cycle if number in stated]
        if not in_file:
            continue
        start = cycle.index(min(in_file, key=lambda number: records[number].line))
        cycle = cycle[start:] + cycle[:start]
        steps = [
            _("%(number)s (ligne %(line)s)") % {"number": number, "line": records[number].line}
            if number in stated
            else _("%(number)s (annuaire)") % {"number": number}
            for number in cycle
        ]
        errors.append(
            ImportIssue(
                records[cycle[0]].line,
                "manager_employee_number",
                _("cycle hiérarchique : %(chain)s → %(first)s.") % {"chain": " → ".join(steps), "first": cycle[0]},
            )
        )


def _plan_units(plan: Plan, records, snapshot, parents):
    names = {}
    for record in records:
        if record.unit_name:
            names.setdefault(record.unit_code, record.unit_name)
    codes = list(dict.fromkeys(record.unit_code for record in records))

    def parent_of(code):
        if code in parents:
            return parents[code][0]
        unit = snapshot.units.get(code)
        return unit.parent_code if unit else None

    depths: dict[str, int] = {}

    def depth(code):
        chain = []
        while code is not None and code not in depths:
            chain.append(code)
            code = parent_of(code)
        base = depths[code] if code is not None else 0
        for position, item in enumerate(reversed(chain), start=1):
            depths[item] = base + position
        return depths[chain[0]] if chain else base

    for code in codes:
        unit = snapshot.units.get(code)
        parent = parent_of(code)
        if unit is None:
            plan.unit_ops.append(
                UnitOp("create", code, parent, depth(code), names[code], _infer_kind(names[code], depth(code)))
            )
            continue
        changed = False
        if code in names and names[code] != unit.name:
            plan.unit_renames[code] = names[code]
            changed = True
        if parent != unit.parent_code:
            plan.unit_ops.append(UnitOp("move", code, parent, depth(code)))
            changed = True
        if changed:
            plan.units_updated += 1
        else:
            plan.units_unchanged += 1
    # Parents before children: a unit's final parent is in place when the unit is created or moved.
    plan.unit_ops.sort(key=lambda op: (op.depth, op.code))


def _plan_agents(plan: Plan, records, snapshot):
    by_id = snapshot.employee_number_by_id
    unit_code_by_id = snapshot.unit_code_by_id
    in_file = set()
    for record in records:
        in_file.add(record.employee_number)
        agent = snapshot.agents.get(record.employee_number)
        if agent is None:
            plan.new_agents.append(record)
            continue
        user_changes = {
            name: getattr(record, name) for name in USER_UPDATE_FIELDS if getattr(record, name) != getattr(agent, name)
        }
        agent_changes = {
            name: getattr(record, name)
            for name in ("job_title", "category", "corps", "grade", "employment_status", "active")
            if getattr(record, name) is not None and getattr(record, name) != getattr(agent, name)
        }
        if unit_code_by_id.get(agent.org_unit_id) != record.unit_code:
            agent_changes["org_unit"] = record.unit_code
        if record.manager is not None and (record.manager or None) != by_id.get(agent.manager_id):
            agent_changes["manager"] = record.manager or None
        if record.active is False and agent.active:
            plan.agents_deactivated += 1
        elif record.active and not agent.active:
            plan.agents_reactivated += 1
        if user_changes or agent_changes:
            plan.changed_agents.append((agent, record, agent_changes, user_changes))
        else:
            plan.agents_unchanged += 1
    plan.agents_absent = sum(1 for number, agent in snapshot.agents.items() if agent.active and number not in in_file)


# --------------------------------------------------------------------------- phase 2: apply


def _chunks(items, size=BATCH_SIZE):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _creation_groups(records: list[AgentRecord], snapshot: DirectorySnapshot) -> list[list[AgentRecord]]:
    """New agents grouped so that managers are created before their reports.

    Level 0: no manager, or a manager already in the database; level n: the manager is at
    level n - 1. Levels beyond :data:`MANAGER_LEVELS` (an unusually deep hierarchy) go into
    one last group whose managers are set by a second pass.
    """
    new = {record.employee_number: record for record in records}
    levels: dict[str, int] = {}
    for record in records:
        chain, number = [], record.employee_number
        while number in new and number not in levels:
            chain.append(number)
            number = new[number].manager or None
        level = levels[number] + 1 if number in levels else 0
        for item in reversed(chain):
            levels[item] = level
            level += 1
    groups: list[list[AgentRecord]] = [[] for _ in range(MANAGER_LEVELS + 1)]
    for record in records:
        groups[min(levels[record.employee_number], MANAGER_LEVELS)].append(record)
    return [group for group in groups if group]


def _apply(plan: Plan, snapshot: DirectorySnapshot, progress: Progress | None):
    """Write the plan. Returns (created agent ids, updated agent ids)."""
    user_model = get_user_model()
    total = len(plan.unit_ops) + len(plan.new_agents) + len(plan.changed_agents)
    done = 0

    def advance(count):
        nonlocal done
        done += count
        if progress and count:
            progress("apply", done, total)

    # --- org units, parents before children (treebeard keeps paths consistent)
    for op in plan.unit_ops:
        if op.action == "create":
            if op.parent_code is None:
                OrgUnit.add_root(code=op.code, name=op.name, kind=op.kind)
            else:
                OrgUnit.objects.get(code=op.parent_code).add_child(code=op.code, name=op.name, kind=op.kind)
        else:
            node = OrgUnit.objects.get(code=op.code)
            node.move(OrgUnit.objects.get(code=op.parent_code), pos="sorted-child")
        advance(1)
    if plan.unit_renames:
        OrgUnit.objects.bulk_update(
            [OrgUnit(pk=snapshot.units[code].id, name=name) for code, name in plan.unit_renames.items()],
            ["name"],
            batch_size=BATCH_SIZE,
        )
    unit_ids = (
        dict(OrgUnit.objects.order_by().values_list("code", "id"))
        if plan.unit_ops
        else {code: unit.id for code, unit in snapshot.units.items()}
    )

    # --- accounts of the new agents (no password hashing: an unusable password is random text)
    username_field = user_model.USERNAME_FIELD
    new_users = [
        user_model(
            **{username_field: record.employee_number.lower()},
            first_name=record.first_name,
            last_name=record.last_name,
            email=record.email,
            password=UNUSABLE_PASSWORD_PREFIX + secrets.token_urlsafe(30),
            is_active=record.active is not False,  # an agent created inactive cannot sign in
        )
        for record in plan.new_agents
    ]
    for chunk in _chunks(new_users):
        user_model.objects.bulk_create(chunk, batch_size=BATCH_SIZE)
    if any(user.pk is None for user in new_users):  # backends that do not return ids
        ids = dict(user_model.objects.order_by().values_list(username_field, "id"))
        for user in new_users:
            user.pk = ids[getattr(user, username_field)]
    user_ids = {record.employee_number: user.pk for record, user in zip(plan.new_agents, new_users, strict=True)}

    # --- new agents, managers before their reports
    agent_ids = {number: state.id for number, state in snapshot.agents.items()}
    created, pending = [], []
    for group in _creation_groups(plan.new_agents, snapshot):
        agents = []
        for record in group:
            agent = Agent(
                user_id=user_ids[record.employee_number],
                employee_number=record.employee_number,
                org_unit_id=unit_ids[record.unit_code],
                manager_id=agent_ids.get(record.manager) if record.manager else None,
                job_title=record.job_title or "",
                category=record.category or "",
                corps=record.corps or "",
                grade=record.grade or "",
                employment_status=record.employment_status or EmploymentStatus.TITULAIRE,
                active=record.active if record.active is not None else True,
            )
            if record.manager and agent.manager_id is None:
                pending.append((agent, record.manager))  # manager in the same (last) group
            agents.append(agent)
        for chunk in _chunks(agents):
            Agent.objects.bulk_create(chunk, batch_size=BATCH_SIZE)
            advance(len(chunk))
        if any(agent.pk is None for agent in agents):
            ids = dict(Agent.objects.order_by().values_list("employee_number", "id"))
            for agent in agents:
                agent.pk = ids[agent.employee_number]
        agent_ids.update((agent.employee_number, agent.pk) for agent in agents)
        created.extend(agent.pk for agent in agents)
    for agent, manager in pending:  # second pass, only for very deep hierarchies
        agent.manager_id = agent_ids[manager]
    for chunk in _chunks([agent for agent, _manager in pending]):
        Agent.objects.bulk_update(chunk, ["manager"], batch_size=BATCH_SIZE)

    # --- existing agents and their accounts: one bulk update per set of changed fields
    user_groups: dict[tuple[str, ...], list] = {}
    agent_groups: dict[tuple[str, ...], list[Agent]] = {}
    for state, _record, agent_changes, user_changes in plan.changed_agents:
        if user_changes:
            user = user_model(pk=state.user_id, **user_changes)
            user_groups.setdefault(tuple(sorted(user_changes)), []).append(user)
        if agent_changes:
            agent = Agent(pk=state.id)
            for name, value in agent_changes.items():
                if name == "org_unit":
                    agent.org_unit_id = unit_ids[value]
                elif name == "manager":
                    agent.manager_id = agent_ids[value] if value else None
                else:
                    setattr(agent, name, value)
            agent_groups.setdefault(tuple(sorted(agent_changes)), []).append(agent)
    for fields, users in user_groups.items():
        for chunk in _chunks(users):
            user_model.objects.bulk_update(chunk, fields, batch_size=BATCH_SIZE)
    for fields, agents in agent_groups.items():
        for chunk in _chunks(agents):
            Agent.objects.bulk_update(chunk, fields, batch_size=BATCH_SIZE)
            advance(len(chunk))
    updated = [state.id for state, *_rest in plan.changed_agents]
    now = timezone.now()
    for chunk in _chunks(updated, UPDATE_IDS_BATCH_SIZE):
        Agent.objects.filter(pk__in=chunk).update(updated_at=now)
    advance(len(plan.changed_agents) - sum(len(agents) for agents in agent_groups.values()))
    # Deactivated agents are locked out (account disabled, sessions and API tokens revoked),
    # reactivated ones get their account back: in bulk, as the admin and SCIM do one by one.
    services.apply_agent_activation(
        deactivated_agent_ids=[
            state.id for state, _r, changes, _u in plan.changed_agents if changes.get("active") is False
        ],
        reactivated_agent_ids=[
            state.id for state, _r, changes, _u in plan.changed_agents if changes.get("active") is True
        ],
    )
    return created, updated


# --------------------------------------------------------------------------- entry point


def import_agents(*, file, dry_run=False, progress: Progress | None = None) -> ImportReport:
    """Import the agent directory from a CSV file; see the module docstring.

    A file with any error changes nothing: the report lists every error. A dry run
    validates and reports what would change, and writes nothing.
    """
    parsed = parse_file(file)
    if parsed.errors:
        return ImportReport(dry_run=dry_run, rows=len(parsed.rows), errors=parsed.errors)
    with transaction.atomic():
        snapshot = DirectorySnapshot.load()
        plan = build_plan(parsed, snapshot, progress)
        report = plan.report(dry_run=dry_run)
        if plan.errors or dry_run:
            return report
        report.created_agent_ids, report.updated_agent_ids = _apply(plan, snapshot, progress)
        run_import_listeners(report.created_agent_ids, report.updated_agent_ids)
    logger.info(
        "import_agents: %s rows, units %s created / %s updated, agents %s created / %s updated / %s unchanged",
        report.rows,
        report.units_created,
        report.units_updated,
        report.agents_created,
        report.agents_updated,
        report.agents_unchanged,
    )
    return report
