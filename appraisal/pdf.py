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
employee number) to ``exports/appraisals/<export id>.zip`` on the private storage, streaming
through a temporary file, and keeps a small progress file ``<export id>.json`` next to it that
the HR status page reads (it works with every task backend, including the immediate one).
"""

import json
import logging
import os
import re
import tempfile
import time
import uuid
import zipfile
from itertools import islice

from django.conf import settings
from django.core.files import File
from django.core.files.base import ContentFile
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
EXPORT_BATCH = 200
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


def _course_titles(answers, snapshot):
    ids = set()
    for sid, kind, _spec in content.template_sections(snapshot):
        if kind == "training_needs":
            ids |= {item["course"] for item in answers.get(sid) or [] if item["course"] is not None}
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


def _refusal(appraisal):
    """(date of the finding, reason) of a recorded refusal or absence of signature."""
    if not appraisal.refusal_recorded_at:
        return None
    note = (
        AppraisalTransition.objects.filter(appraisal=appraisal, action="record_refusal")
        .order_by("-at", "-pk")
        .values_list("note", flat=True)
        .first()
    ) or ""
    day, _sep, _reason = note.partition(" — ")
    return {
        "on": _day(day) if re.fullmatch(r"\d{4}-\d{2}-\d{2}", day) else french_date(appraisal.refusal_recorded_at),
        "reason": appraisal.refusal_reason,
    }


def frozen_version(appraisal):
    """The AppraisalVersion the PDF shows, or None when the live draft is shown."""
    if appraisal.state not in FROZEN_STATES:
        return None
    return (
        AppraisalVersion.objects.filter(appraisal=appraisal, number=appraisal.version)
        .select_related("signed_by")
        .first()
    )


def report_context(appraisal, *, now=None):
    """Everything the template prints (a fixed number of queries)."""
    now = now or timezone.now()
    version = frozen_version(appraisal)
    snapshot = appraisal.campaign.template_snapshot or []
    # Whatever is stored (legacy rows, a version frozen before the validator existed), only
    # well-typed values reach the layout (appraisal/content.py).
    answers = content.readable_answers(snapshot, version.answers if version else appraisal.answers)
    carried = list(Objective.objects.filter(assessed_in=appraisal).order_by("position", "pk"))
    sections = _sections(appraisal, answers, carried, _course_titles(answers, snapshot))
    agent = appraisal.agent
    unit = agent.org_unit
    unit_path = [u.name for u in unit.get_ancestors()] + [unit.name]
    draft = version is None
    number = version.number if version else appraisal.version
    content_hash = version.content_hash if version else ""
    campaign = appraisal.campaign
    return {
        "appraisal": appraisal,
        "campaign": campaign,
        "year": campaign.year,
        "organisation": _organisation_name(),
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
            "unit_path": " › ".join(unit_path),
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
        "refusal": None if draft else _refusal(appraisal),
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


def report_html(appraisal, *, language=None, now=None):
    """The report as an HTML string (what WeasyPrint lays out)."""
    with translation.override(language or settings.LANGUAGE_CODE):
        return render_to_string(TEMPLATE, report_context(appraisal, now=now))


def render_pdf(appraisal, *, language=None):
    """The compte rendu as PDF bytes (A4 portrait, PDF/A-2a), from local files only."""
    return pdf.render_pdf(report_html(appraisal, language=language), pdf_variant=PDF_VARIANT)


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


def _archived_or_render(appraisal):
    """PDF bytes of a final report: its archive when present, else rendered (and archived)."""
    storage = appraisal.pdf.storage
    if appraisal.pdf.name and storage.exists(appraisal.pdf.name):
        with storage.open(appraisal.pdf.name, "rb") as handle:
            return handle.read(), True
    archived = archive(appraisal.pk)
    if archived is not None and archived.pdf.name:
        with storage.open(archived.pdf.name, "rb") as handle:
            return handle.read(), False
    return render_pdf(appraisal), False


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


def export_zip(*, campaign_id, org_unit_code, requested_by_id, export_id=None):
    """Write the ZIP of the final reports of an org unit subtree; return its storage name.

    One ``<employee number>.pdf`` per final report: the archived PDF when there is one, else
    the report is rendered (and archived on the way). The archive is built in a temporary
    file (flat memory: one PDF at a time) then streamed to the private storage. Progress is
    written to ``export_status_name(export_id)`` every batch. Each report included is
    recorded in the HR access log (channel "export") for the requesting user.
    """
    from cms.models import OrgUnit

    export_id = export_id or uuid.uuid4().hex
    if not EXPORT_ID.match(export_id):
        raise ValueError(f"Identifiant d'export invalide : {export_id!r}")
    campaign = Campaign.objects.get(pk=campaign_id)
    unit = OrgUnit.objects.get(code=org_unit_code)
    reports = export_queryset(campaign, unit)
    # The ids first (a few hundred kB for 50,000 reports), then the rows batch by batch: no
    # cursor stays open while the reports are rendered and archived.
    ids = list(reports.values_list("pk", flat=True))
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
        "file": None,
        "size": 0,
        "error": "",
        "started_at": timezone.now().isoformat(),
        "finished_at": None,
    }
    _write_status(export_id, status)
    storage = private_storage()
    name = export_zip_name(export_id)
    last_write = time.monotonic()
    try:
        with tempfile.TemporaryFile(suffix=".zip") as spool:
            with zipfile.ZipFile(spool, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as archive_file:
                for chunk in _batches(ids, EXPORT_BATCH):
                    batch = list(reports.filter(pk__in=chunk))
                    logs = []
                    for appraisal in batch:
                        data, reused = _archived_or_render(appraisal)
                        archive_file.writestr(f"{get_valid_filename(appraisal.agent.employee_number)}.pdf", data)
                        status["done"] += 1
                        status["reused" if reused else "rendered"] += 1
                        logs.append(
                            AppraisalAccessLog(appraisal_id=appraisal.pk, user_id=requested_by_id, channel="export")
                        )
                        if time.monotonic() - last_write > 2:
                            _write_status(export_id, status)
                            last_write = time.monotonic()
                    if requested_by_id:
                        AppraisalAccessLog.objects.bulk_create(logs)
                    _write_status(export_id, status)
            spool.seek(0)
            if storage.exists(name):
                storage.delete(name)
            stored = storage.save(name, File(spool, name=os.path.basename(name)))
        status.update(status="done", file=stored, size=storage.size(stored), finished_at=timezone.now().isoformat())
        _write_status(export_id, status)
    except Exception as exc:
        status.update(status="failed", error=str(exc)[:500], finished_at=timezone.now().isoformat())
        _write_status(export_id, status)
        raise
    logger.info(
        "appraisal export %s: %s reports of %s (campaign %s)", export_id, status["done"], unit.code, campaign.pk
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
