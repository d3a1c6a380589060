"""The compte rendu de l'entretien professionnel as PDF, its archive, and bulk ZIP exports.

``render_pdf(appraisal)`` lays out ``appraisal/pdf/report.html`` with WeasyPrint. Rendering
reads local files only: the URL fetcher is ``cms.pdf.LocalURLFetcher`` (``data:`` URIs and
files under the static directories; http, https and any other path are refused) and the
base URL is the local static directory. The stylesheet is inlined by the template.

What is rendered:

* once the report has been notified (``notified``, ``acknowledged``, ``final``), the frozen
  ``AppraisalVersion`` of the current version number: its answers, its signature time and
  its SHA-256 content hash, printed in the footer of every page;
* before that (or when the frozen version is missing), the live draft, marked
  « BROUILLON » on every page.

Every section of the campaign's frozen ``template_snapshot`` is printed, in its order.

``archive(appraisal_id)`` stores the final report once on the private storage as
``appraisals/<year>/<campaign>-<employee number>-v<version>.pdf`` (never under a public URL).

``export_zip(...)`` writes one ZIP per org unit subtree (one PDF per final report, named by
employee number) to ``exports/appraisals/<export id>.zip`` on the private storage, and keeps a
small progress file ``<export id>.json`` next to it that the HR status page reads (it works
with every task backend, including the immediate one). The reports are rendered by chunks,
as parallel tasks (``appraisal.tasks.export_zip_chunk``) each writing a part ZIP with a fixed
number of queries (``ReportData``); the chunk that finishes last assembles the ZIP.
"""

import json
import logging
import os
import re
import tempfile
import uuid
import zipfile
from itertools import islice

from django.conf import settings
from django.core.files import File
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.utils import formats, timezone, translation
from django.utils.text import get_valid_filename
from django.utils.translation import gettext as _

from appraisal import content
from appraisal.choices import AppraisalState as S
from appraisal.choices import ObjectiveStatus
from appraisal.models import Appraisal, AppraisalAccessLog, AppraisalTransition, AppraisalVersion, Campaign, Objective
from cms import pdf
from cms.pdf import display_name, french_date
from cms.storage import private_storage

logger = logging.getLogger(__name__)

TEMPLATE = "appraisal/pdf/report.html"
# PDF/A-2a: archival profile (fonts embedded, sRGB output intent) with a tagged structure
# (headings, tables, reading order) for screen readers.
PDF_VARIANT = "pdf/a-2a"
FROZEN_STATES = {S.NOTIFIED, S.ACKNOWLEDGED, S.FINAL}
EXPORT_DIR = "exports/appraisals"
EXPORT_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
EXPORT_BATCH = 100  # reports per chunk task, at most
# An export is cut in at least EXPORT_MIN_CHUNKS chunks (so that several workers share even a
# small export) of at least EXPORT_MIN_CHUNK reports (a task per report would cost more than it
# saves).
EXPORT_MIN_CHUNKS = 8
EXPORT_MIN_CHUNK = 10
RELATED = ("campaign", "agent__user", "agent__org_unit", "evaluator__user", "reviewer__user", "delegated_from__user")


# --- dates -----------------------------------------------------------------------------------


def _moment(value):
    """« 12 mars 2026 à 14:30 » (local time of an aware datetime)."""
    if value is None:
        return ""
    local = timezone.localtime(value)
    return _("%(date)s à %(time)s") % {"date": french_date(local), "time": formats.time_format(local, "TIME_FORMAT")}


def _day(value):
    if not value:
        return ""
    if isinstance(value, str):
        from django.utils.dateparse import parse_date

        parsed = parse_date(value)
        return french_date(parsed) if parsed else value
    return french_date(value)


# --- context ---------------------------------------------------------------------------------


def _organisation_name():
    from themes.models import ThemeSettings

    name = ThemeSettings.objects.filter(site__is_default_site=True).values_list("organisation_name", flat=True).first()
    return name or settings.WAGTAIL_SITE_NAME


def _person(agent):
    if agent is None:
        return None
    return {"name": display_name(agent.user), "job_title": agent.job_title, "employee_number": agent.employee_number}


def _text(value):
    return str(value or "").strip()


def _course_ids(answers, snapshot):
    ids = set()
    for sid, kind, _spec in content.template_sections(snapshot):
        if kind == "training_needs":
            ids |= {item["course"] for item in answers.get(sid) or [] if item["course"] is not None}
    return ids


def _course_titles(ids):
    if not ids:
        return {}
    from learning.models import CoursePage

    return dict(CoursePage.objects.filter(pk__in=ids).values_list("pk", "title"))


def _items(raw):
    """A ListBlock's raw items: [{"id", "label", "description"}] (also accepts bare values)."""
    items = []
    for position, item in enumerate(raw or []):
        value = item.get("value", item) if isinstance(item, dict) else {"label": str(item)}
        items.append(
            {
                "id": item.get("id", str(position)) if isinstance(item, dict) else str(position),
                "label": _text(value.get("label")),
                "description": _text(value.get("description")),
            }
        )
    return items


def _criteria_section(value, answer):
    levels = _items(value.get("scale"))
    labels = {level["id"]: level["label"] for level in levels}
    answer = answer if isinstance(answer, dict) else {}
    criteria = []
    for criterion in _items(value.get("criteria")):
        chosen = answer.get(criterion["id"]) or {}
        level_id = chosen.get("level") if isinstance(chosen, dict) else None
        criteria.append(
            {
                **criterion,
                "level": labels.get(level_id, ""),
                "comment": _text(chosen.get("comment")) if isinstance(chosen, dict) else "",
                "cells": [{"label": level["label"], "chosen": level["id"] == level_id} for level in levels],
            }
        )
    return {"levels": levels, "criteria": criteria, "with_comment": bool(value.get("comment", True))}


def _objectives_section(answer):
    rows = []
    for item in answer if isinstance(answer, list) else []:
        if isinstance(item, dict) and _text(item.get("title")):
            rows.append(
                {
                    "title": _text(item["title"]),
                    "indicators": _text(item.get("indicators")),
                    "due_on": _day(item.get("due_on")),
                }
            )
    return {"items": rows}


def _results_section(answer, carried):
    answer = answer if isinstance(answer, dict) else {}
    labels = dict(ObjectiveStatus.choices)
    rows, seen = [], set()
    for objective in carried:
        result = answer.get(str(objective.pk)) or {}
        seen.add(str(objective.pk))
        status = result.get("status") if isinstance(result, dict) else None
        rows.append(
            {
                "title": objective.title,
                "indicators": objective.indicators,
                "due_on": _day(objective.due_on),
                "status": labels.get(status, "") if status and status != ObjectiveStatus.OPEN else "",
                "comment": _text(result.get("comment")) if isinstance(result, dict) else "",
            }
        )
    for key, result in answer.items():  # an assessed objective no longer carried: keep what was written
        if key not in seen and isinstance(result, dict):
            rows.append(
                {
                    "title": _("Objectif n° %(id)s") % {"id": key},
                    "indicators": "",
                    "due_on": "",
                    "status": labels.get(result.get("status"), ""),
                    "comment": _text(result.get("comment")),
                }
            )
    return {"items": rows}


def _training_section(answer, courses):
    rows = []
    for item in answer if isinstance(answer, list) else []:
        if not isinstance(item, dict):
            continue
        course = courses.get(item["course"]) if isinstance(item.get("course"), int) else None
        text = _text(item.get("text"))
        if course or text:
            rows.append({"course": course or "", "text": text})
    return {"items": rows}


def _sections(appraisal, answers, carried, courses):
    sections = []
    for number, section in enumerate(appraisal.campaign.template_snapshot or [], start=1):
        kind, value, sid = section["type"], section.get("value") or {}, section["id"]
        entry = {
            "number": number,
            "id": sid,
            "type": kind,
            "title": _text(value.get("title")),
            "help_text": _text(value.get("help_text")),
        }
        answer = answers.get(sid)
        if kind == "criteria_grid":
            entry.update(_criteria_section(value, answer))
        elif kind == "objectives":
            entry.update(_objectives_section(answer))
        elif kind == "results":
            entry.update(_results_section(answer, carried))
        elif kind == "training_needs":
            entry.update(_training_section(answer, courses))
        elif kind == "agent_observations":
            entry["text"] = _text(appraisal.observations)
        else:  # free_text, career, overall, and any text-like section added later
            entry["text"] = answer if isinstance(answer, str) else _text(answer if answer is not None else "")
            entry["text"] = _text(entry["text"])
        sections.append(entry)
    return sections


class ReportData:
    """What the reports of a batch of appraisals need beyond their rows (loaded with
    ``RELATED`` and ``campaign__template``), in a fixed number of queries whatever the batch
    size: frozen versions, carried objectives, refusal notes, org unit paths, course titles
    of the training needs, the organisation's name. ``report_context`` reads it."""

    def __init__(self, appraisals):
        appraisals = list(appraisals)
        ids = [a.pk for a in appraisals]
        frozen = [a.pk for a in appraisals if a.state in FROZEN_STATES]
        self.versions = {}
        if frozen:
            for version in AppraisalVersion.objects.filter(appraisal_id__in=frozen).select_related("signed_by"):
                self.versions[(version.appraisal_id, version.number)] = version
        self.carried = {pk: [] for pk in ids}
        for objective in Objective.objects.filter(assessed_in_id__in=ids).order_by("position", "pk"):
            self.carried[objective.assessed_in_id].append(objective)
        refused = [a.pk for a in appraisals if a.refusal_recorded_at]
        self.refusal_notes = {}
        if refused:
            notes = (
                AppraisalTransition.objects.filter(appraisal_id__in=refused, action="record_refusal")
                .order_by("appraisal_id", "-at", "-pk")
                .values_list("appraisal_id", "note")
            )
            for appraisal_id, note in notes:
                self.refusal_notes.setdefault(appraisal_id, note or "")
        self.unit_paths = self._unit_paths({a.agent.org_unit for a in appraisals})
        self.answers = {}
        course_ids = set()
        for appraisal in appraisals:
            version = self.version_of(appraisal)
            snapshot = appraisal.campaign.template_snapshot or []
            # Whatever is stored (legacy rows, a version frozen before the validator existed),
            # only well-typed values reach the layout (appraisal/content.py).
            answers = content.readable_answers(snapshot, version.answers if version else appraisal.answers)
            self.answers[appraisal.pk] = answers
            course_ids |= _course_ids(answers, snapshot)
        self.courses = _course_titles(course_ids)
        self.organisation = _organisation_name()

    @staticmethod
    def _unit_paths(units):
        """{unit pk: "Direction › Service › Bureau"} with one query for every ancestor."""
        from cms.models import OrgUnit

        prefixes = {u.path[:end] for u in units for end in range(u.steplen, len(u.path), u.steplen)}
        names = dict(OrgUnit.objects.filter(path__in=prefixes).values_list("path", "name")) if prefixes else {}
        paths = {}
        for unit in units:
            ancestors = [
                names[unit.path[:end]]
                for end in range(unit.steplen, len(unit.path), unit.steplen)
                if unit.path[:end] in names
            ]
            paths[unit.pk] = " › ".join([*ancestors, unit.name])
        return paths

    def version_of(self, appraisal):
        """The AppraisalVersion the PDF shows, or None when the live draft is shown."""
        if appraisal.state not in FROZEN_STATES:
            return None
        return self.versions.get((appraisal.pk, appraisal.version))


def _refusal(appraisal, note):
    """(date of the finding, reason) of a recorded refusal or absence of signature."""
    if not appraisal.refusal_recorded_at:
        return None
    day, _sep, _reason = (note or "").partition(" — ")
    return {
        "on": _day(day) if re.fullmatch(r"\d{4}-\d{2}-\d{2}", day) else french_date(appraisal.refusal_recorded_at),
        "reason": appraisal.refusal_reason,
    }


def report_context(appraisal, *, now=None, data=None):
    """Everything the template prints. ``data``: the ``ReportData`` of a batch holding this
    appraisal (a fixed number of queries for the whole batch); built for this one otherwise."""
    now = now or timezone.now()
    data = data or ReportData([appraisal])
    version = data.version_of(appraisal)
    answers = data.answers[appraisal.pk]
    carried = data.carried[appraisal.pk]
    sections = _sections(appraisal, answers, carried, data.courses)
    agent = appraisal.agent
    unit = agent.org_unit
    draft = version is None
    number = version.number if version else appraisal.version
    content_hash = version.content_hash if version else ""
    campaign = appraisal.campaign
    return {
        "appraisal": appraisal,
        "campaign": campaign,
        "year": campaign.year,
        "organisation": data.organisation,
        "site_name": settings.WAGTAIL_SITE_NAME,
        "draft": draft,
        "cancelled": appraisal.state == S.CANCELLED,
        "state_label": S(appraisal.state).label,
        "version_number": number,
        "previous_version": number - 1 if number > 1 else None,
        "content_hash": content_hash,
        "reference": f"{campaign.pk}-{agent.employee_number}-v{number}",
        "agent": {
            **_person(agent),
            "category": agent.get_category_display(),
            "corps": agent.corps,
            "grade": agent.grade,
            "employment_status": agent.get_employment_status_display(),
            "unit": unit.name,
            "unit_code": unit.code,
            "unit_path": data.unit_paths[unit.pk],
        },
        "evaluator": _person(appraisal.evaluator),
        "delegated_from": _person(appraisal.delegated_from) if appraisal.delegated_from_id else None,
        "delegation_reason": appraisal.delegation_reason,
        "reviewer": _person(appraisal.reviewer),
        "interview_at": _moment(appraisal.interview_at),
        "interview_place": appraisal.interview_place,
        "convoked_at": _day(appraisal.convoked_at),
        "sections": sections,
        "has_observations_section": any(s["type"] == "agent_observations" for s in sections),
        "observations": _text(appraisal.observations),
        "notified_at": "" if draft else _moment(appraisal.notified_at or version.signed_at),
        "evaluator_signed_at": "" if draft else _moment(version.signed_at),
        "agent_signed_at": "" if draft else _moment(appraisal.agent_signed_at),
        "refusal": None if draft else _refusal(appraisal, data.refusal_notes.get(appraisal.pk)),
        "visa_at": "" if draft else _moment(appraisal.visa_at),
        "revision": _revision(appraisal) if appraisal.revision_requested_at else None,
        "template_name": campaign.template.name if campaign.template_id else "",
        "generated_at": _moment(now),
    }


def _revision(appraisal):
    return {
        "requested_at": _moment(appraisal.revision_requested_at),
        "request": appraisal.revision_request,
        "answered_at": _moment(appraisal.revision_answered_at),
        "answer": appraisal.revision_answer,
        "state": appraisal.get_revision_state_display(),
        "cap_referred_at": _moment(appraisal.cap_referred_at),
        "cap_opinion": appraisal.cap_opinion,
        "cap_opinion_at": _moment(appraisal.cap_opinion_at),
    }


def report_html(appraisal, *, language=None, now=None, data=None):
    """The report as an HTML string (what WeasyPrint lays out)."""
    with translation.override(language or settings.LANGUAGE_CODE):
        return render_to_string(TEMPLATE, report_context(appraisal, now=now, data=data))


def render_pdf(appraisal, *, language=None, data=None):
    """The compte rendu as PDF bytes (A4 portrait, PDF/A-2a), from local files only."""
    return pdf.render_pdf(report_html(appraisal, language=language, data=data), pdf_variant=PDF_VARIANT)


def _load(appraisal_id):
    return Appraisal.objects.select_related(*RELATED, "campaign__template").get(pk=appraisal_id)


# --- archive ---------------------------------------------------------------------------------


def archive_name(appraisal):
    number = get_valid_filename(appraisal.agent.employee_number)
    return f"appraisals/{appraisal.campaign.year}/{appraisal.campaign_id}-{number}-v{appraisal.version}.pdf"


def _is_archived(appraisal, name):
    return appraisal.pdf.name == name and appraisal.pdf.storage.exists(name)


def archive(appraisal_id):
    """At ``final``: render the report and store it once on the private storage.

    Idempotent: a report already archived under its name (same version) is left alone.
    Does nothing in any other state. The PDF is rendered outside any lock; the row is then
    locked and checked again, so that two workers store one file only. Returns the
    appraisal when it holds its archive, else None.
    """
    appraisal = _load(appraisal_id)
    if appraisal.state != S.FINAL:
        return None
    name = archive_name(appraisal)
    if _is_archived(appraisal, name):
        return appraisal

    def decide(locked):
        if locked.state != S.FINAL or locked.version != appraisal.version:
            return None  # changed meanwhile (revision accepted): nothing to archive
        if _is_archived(locked, name):
            appraisal.pdf.name = name
            return appraisal
        return pdf.STORE

    return pdf.render_and_store(
        appraisal, "pdf", name, lambda: render_pdf(appraisal), decide=decide, fields=("state", "version"), replace=True
    )


# --- bulk export -----------------------------------------------------------------------------


def export_zip_name(export_id):
    return f"{EXPORT_DIR}/{export_id}.zip"


def export_status_name(export_id):
    return f"{EXPORT_DIR}/{export_id}.json"


def _write_status(export_id, data):
    """Replace the progress file (atomically on a local disk, delete + save elsewhere)."""
    storage = private_storage()
    name = export_status_name(export_id)
    payload = json.dumps(data, ensure_ascii=False, default=str).encode()
    try:
        path = storage.path(name)
    except NotImplementedError:  # object storage
        if storage.exists(name):
            storage.delete(name)
        storage.save(name, ContentFile(payload))
        return
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), suffix=".part")
    with os.fdopen(fd, "wb") as handle:
        handle.write(payload)
    os.replace(tmp, path)


def export_status(export_id):
    """The progress of an export as a dict, or None when unknown (or the id is malformed)."""
    if not EXPORT_ID.match(str(export_id or "")):
        return None
    storage = private_storage()
    name = export_status_name(export_id)
    try:
        with storage.open(name, "rb") as handle:
            return json.loads(handle.read().decode())
    except (FileNotFoundError, OSError, ValueError):
        return None


def export_queryset(campaign, unit):
    """Final reports of the campaign for the agents of the unit's subtree (by employee number)."""
    return (
        Appraisal.objects.filter(campaign=campaign, state=S.FINAL, agent__org_unit__path__startswith=unit.path)
        .select_related(*RELATED, "campaign__template")
        .order_by("agent__employee_number", "pk")
    )


def _batches(iterable, size):
    iterator = iter(iterable)
    while batch := list(islice(iterator, size)):
        yield batch


def export_part_name(export_id, index):
    return f"{EXPORT_DIR}/{export_id}/part-{index:05d}.zip"


def _lock_export(campaign_id):
    """Serialise the chunks of an export while they update its progress file: a row lock on
    the campaign (an UPDATE that changes nothing: it locks on PostgreSQL and takes SQLite's
    write lock, which ``select_for_update`` would not)."""
    Campaign.objects.filter(pk=campaign_id).update(launch_progress=F("launch_progress"))


def _store_archives(rendered):
    """Archive the reports rendered by a chunk (``{pk: (appraisal, pdf bytes)}``): the rows
    are locked and checked again in one query (still final, same version, not archived
    meanwhile by another worker), the files saved, the rows updated in one query. Returns
    how many were stored; the files saved are deleted again if anything fails."""
    if not rendered:
        return 0
    storage = private_storage()
    saved = []
    try:
        with transaction.atomic():
            locked = (
                Appraisal.objects.select_for_update()
                .filter(pk__in=list(rendered))
                .only("pk", "pdf", "updated_at", "state", "version")
            )
            now, changed = timezone.now(), []
            for row in locked:
                appraisal, data = rendered[row.pk]
                if row.state != S.FINAL or row.version != appraisal.version:
                    continue  # changed meanwhile (revision accepted): nothing to archive
                name = archive_name(appraisal)
                if _is_archived(row, name):
                    continue  # another worker archived it meanwhile
                if storage.exists(name):  # left by an interrupted run: no row points to it
                    storage.delete(name)
                stored = storage.save(name, ContentFile(data))
                saved.append(stored)
                row.pdf.name = appraisal.pdf.name = stored
                row.updated_at = appraisal.updated_at = now
                changed.append(row)
            Appraisal.objects.bulk_update(changed, ["pdf", "updated_at"])
    except BaseException:
        for name in saved:
            storage.delete(name)
        raise
    return len(changed)


def _fail(export_id, campaign_id, error):
    with transaction.atomic():
        _lock_export(campaign_id)
        status = export_status(export_id) or {"export_id": export_id}
        status.update(status="failed", error=str(error)[:500], finished_at=timezone.now().isoformat())
        _write_status(export_id, status)


def chunk_size(total):
    """Reports per chunk for an export of ``total`` reports."""
    smallest = min(EXPORT_MIN_CHUNK, EXPORT_BATCH)
    return max(smallest, min(EXPORT_BATCH, -(-total // EXPORT_MIN_CHUNKS)))


def export_zip(*, campaign_id, org_unit_code, requested_by_id, export_id=None, parallel=False):
    """Export the final reports of an org unit subtree as a ZIP; return its storage name.

    One ``<employee number>.pdf`` per final report: the archived PDF when there is one, else
    the report is rendered (and archived on the way). The reports are cut in chunks of
    ``chunk_size(total)``; each chunk (``export_chunk``) writes a part ZIP on the private storage
    and adds its counts to the progress file (``export_status_name(export_id)``); the chunk
    that finishes last assembles the ZIP (``assemble_export``). With ``parallel`` each chunk
    is a task (``appraisal.tasks.export_zip_chunk``: as many workers as there are render
    them at once), otherwise they run here one after the other. Each report included is
    recorded in the HR access log (channel "export") for the requesting user.
    """
    from cms.models import OrgUnit

    export_id = export_id or uuid.uuid4().hex
    if not EXPORT_ID.match(export_id):
        raise ValueError(f"Identifiant d'export invalide : {export_id!r}")
    campaign = Campaign.objects.get(pk=campaign_id)
    unit = OrgUnit.objects.get(code=org_unit_code)
    # The ids only (a few hundred kB for 50,000 reports): each chunk loads its own rows.
    ids = list(export_queryset(campaign, unit).values_list("pk", flat=True))
    chunks = list(_batches(ids, chunk_size(len(ids))))
    status = {
        "export_id": export_id,
        "campaign_id": campaign.pk,
        "campaign": str(campaign),
        "year": campaign.year,
        "org_unit_code": unit.code,
        "org_unit_name": unit.name,
        "requested_by_id": requested_by_id,
        "status": "running",
        "total": len(ids),
        "done": 0,
        "reused": 0,
        "rendered": 0,
        "chunks": len(chunks),
        "chunks_done": 0,
        "parallel": bool(parallel),
        "file": None,
        "size": 0,
        "error": "",
        "started_at": timezone.now().isoformat(),
        "finished_at": None,
    }
    _write_status(export_id, status)
    try:
        if not chunks:
            assemble_export(export_id)
        for index, chunk in enumerate(chunks):
            if parallel:
                from appraisal import tasks

                tasks.export_zip_chunk.enqueue(export_id=export_id, index=index, ids=chunk)
            else:
                export_chunk(export_id=export_id, index=index, ids=chunk)
    except Exception as exc:
        _fail(export_id, campaign.pk, exc)
        raise
    final = export_status(export_id) or {}
    if final.get("status") == "failed":
        raise RuntimeError(final.get("error") or "export failed")
    return final.get("file") or export_zip_name(export_id)


def export_chunk(*, export_id, index, ids):
    """Render (or reuse the archive of) the final reports ``ids`` of an export into its part
    ZIP ``export_part_name(export_id, index)``, archive those rendered, log the HR access,
    then add the counts to the progress; the last chunk assembles the export. A fixed number
    of queries per chunk (``ReportData``). Returns the number of reports written."""
    status = export_status(export_id)
    if status is None or status.get("status") != "running":
        return 0  # unknown, or another chunk failed: nothing more to do
    campaign_id, requested_by_id = status["campaign_id"], status["requested_by_id"]
    try:
        storage = private_storage()
        reports = list(
            Appraisal.objects.filter(pk__in=ids, campaign_id=campaign_id, state=S.FINAL)
            .select_related(*RELATED, "campaign__template")
            .order_by("agent__employee_number", "pk")
        )
        archived = {a.pk for a in reports if a.pdf.name and storage.exists(a.pdf.name)}
        data = ReportData([a for a in reports if a.pk not in archived])
        rendered = {}
        with tempfile.TemporaryFile(suffix=".zip") as spool:
            with zipfile.ZipFile(spool, "w", compression=zipfile.ZIP_STORED) as part:
                for appraisal in reports:
                    if appraisal.pk in archived:
                        with storage.open(appraisal.pdf.name, "rb") as handle:
                            pdf_bytes = handle.read()
                    else:
                        pdf_bytes = render_pdf(appraisal, data=data)
                        rendered[appraisal.pk] = (appraisal, pdf_bytes)
                    part.writestr(f"{get_valid_filename(appraisal.agent.employee_number)}.pdf", pdf_bytes)
            spool.seek(0)
            name = export_part_name(export_id, index)
            if storage.exists(name):  # a retried chunk
                storage.delete(name)
            storage.save(name, File(spool, name=os.path.basename(name)))
        _store_archives({pk: value for pk, value in rendered.items()})
        if requested_by_id:
            AppraisalAccessLog.objects.bulk_create(
                [AppraisalAccessLog(appraisal_id=a.pk, user_id=requested_by_id, channel="export") for a in reports]
            )
        with transaction.atomic():
            _lock_export(campaign_id)
            status = export_status(export_id)
            if status is None or status.get("status") != "running":
                return 0
            status["done"] += len(reports)
            status["reused"] += len(archived)
            status["rendered"] += len(reports) - len(archived)
            status["chunks_done"] += 1
            last = status["chunks_done"] >= status["chunks"]
            _write_status(export_id, status)
    except Exception as exc:
        _fail(export_id, campaign_id, exc)
        raise
    if last:
        if status.get("parallel"):
            from appraisal import tasks

            tasks.export_zip_assemble.enqueue(export_id=export_id)
        else:
            assemble_export(export_id)
    return len(reports)


def assemble_export(export_id):
    """The final step: the part ZIPs, in order, copied into ``export_zip_name(export_id)``
    (deflated, streamed through a temporary file: one PDF in memory at a time); the parts
    are then deleted and the export marked done. Returns the stored name."""
    status = export_status(export_id)
    if status is None:
        raise ValueError(f"Export inconnu : {export_id!r}")
    storage = private_storage()
    name = export_zip_name(export_id)
    parts = [export_part_name(export_id, index) for index in range(status["chunks"])]
    try:
        with tempfile.TemporaryFile(suffix=".zip") as spool:
            with zipfile.ZipFile(spool, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as archive_file:
                for part_name in parts:
                    with storage.open(part_name, "rb") as handle, zipfile.ZipFile(handle) as part:
                        for member in part.infolist():
                            archive_file.writestr(member.filename, part.read(member))
            spool.seek(0)
            if storage.exists(name):
                storage.delete(name)
            stored = storage.save(name, File(spool, name=os.path.basename(name)))
        for part_name in parts:
            storage.delete(part_name)
        with transaction.atomic():
            _lock_export(status["campaign_id"])
            status = export_status(export_id)
            status.update(status="done", file=stored, size=storage.size(stored), finished_at=timezone.now().isoformat())
            _write_status(export_id, status)
    except Exception as exc:
        _fail(export_id, status["campaign_id"], exc)
        raise
    logger.info(
        "appraisal export %s: %s reports of %s (campaign %s)",
        export_id,
        status["done"],
        status["org_unit_code"],
        status["campaign_id"],
    )
    return stored


def open_export(export_id):
    """(file object, download name) of a finished export, or None."""
    status = export_status(export_id)
    if not status or status.get("status") != "done" or not status.get("file"):
        return None
    storage = private_storage()
    if not storage.exists(status["file"]):
        return None
    download = get_valid_filename(f"entretiens-{status.get('year')}-{status.get('org_unit_code')}.zip")
    return storage.open(status["file"], "rb"), download
