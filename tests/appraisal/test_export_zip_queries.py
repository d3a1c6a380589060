"""The ZIP export of final reports: a fixed number of queries per chunk whatever its size
(every report's data prefetched), one task per chunk and a final assembling step, with the
immediate backend as with a worker."""

import io
import zipfile

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from appraisal import pdf, services, tasks
from appraisal.choices import AppraisalState as S
from appraisal.models import Appraisal, AppraisalAccessLog, AppraisalTransition, AppraisalVersion, Objective
from cms.storage import private_storage
from tests.appraisal.conftest import make_campaign
from tests.appraisal.factories import FILLED, put_in
from tests.factories import AgentFactory, OrgUnitFactory


@pytest.fixture
def fake_renderer(monkeypatch):
    """The HTML of each report is built (every query the report needs runs), WeasyPrint's
    layout is skipped (tested in test_pdf.py); each fake PDF names its report."""
    from cms import pdf as cms_pdf

    class FakeHTML:
        def __init__(self, string=None, **kwargs):
            self.string = string

        def write_pdf(self, *args, **kwargs):
            return b"%PDF-1.7 fake " + str(len(self.string)).encode()

    monkeypatch.setattr(cms_pdf, "HTML", FakeHTML)


def final_reports(org, chain, count, *, unit=None):
    """``count`` agents of a new bureau with a final, signed report: a frozen version, a
    carried objective, a recorded refusal (a transition note), all the report may print."""
    unit = unit or OrgUnitFactory(parent=org["service"], kind="bureau")
    agents = [AgentFactory(org_unit=unit, manager=chain["manager"]) for _ in range(count)]
    campaign = make_campaign(org, year=2030 + count)
    previous = make_campaign(org, year=2000 + count)
    services.launch_campaign(campaign_id=previous.pk)
    services.launch_campaign(campaign_id=campaign.pk)
    now = timezone.now()
    for agent in agents:
        old = Appraisal.objects.get(campaign=previous, agent=agent)
        Objective.objects.create(agent=agent, set_in=old, title="Objectif repris", assessed_in_id=None)
    services.carry_over_objectives(campaign)
    for agent in agents:
        appraisal = put_in(
            Appraisal.objects.get(campaign=campaign, agent=agent),
            S.FINAL,
            now=now,
            answers=FILLED,
            refusal_recorded_at=now,
            refusal_reason="Absent",
        )
        AppraisalVersion.objects.create(
            appraisal=appraisal,
            number=1,
            answers=FILLED,
            content_hash="0" * 64,
            signed_by=chain["manager"].user,
            signed_at=now,
        )
        AppraisalTransition.objects.create(
            appraisal=appraisal,
            action="record_refusal",
            from_state=S.NOTIFIED,
            to_state=S.ACKNOWLEDGED,
            at=now,
            note="2030-01-15 — absent",
        )
    return campaign, unit, agents


def export_queries(org, chain, count):
    campaign, unit, agents = final_reports(org, chain, count)
    with CaptureQueriesContext(connection) as queries:
        name = pdf.export_zip(campaign_id=campaign.pk, org_unit_code=unit.code, requested_by_id=chain["hr"].user.pk)
    with private_storage().open(name, "rb") as handle:
        members = zipfile.ZipFile(io.BytesIO(handle.read())).namelist()
    assert sorted(members) == sorted(f"{a.employee_number}.pdf" for a in agents)
    return len(queries)


@pytest.mark.django_db
def test_export_queries_do_not_grow_with_the_reports(org, chain, fake_renderer):
    few = export_queries(org, chain, 2)
    many = export_queries(org, chain, 7)
    assert many == few


@pytest.mark.django_db
def test_one_task_per_chunk_then_one_assembling_step(org, chain, fake_renderer, monkeypatch):
    monkeypatch.setattr(pdf, "EXPORT_BATCH", 2)
    campaign, unit, agents = final_reports(org, chain, 5)
    pdf.archive(Appraisal.objects.get(campaign=campaign, agent=agents[0]).pk)  # one reused
    enqueued = []
    for name in ("export_zip_chunk", "export_zip_assemble"):
        task = getattr(tasks, name)

        def spy(*args, _task=task, _name=name, **kwargs):
            enqueued.append((_name, kwargs.get("index")))
            return _task.__class__.enqueue(_task, *args, **kwargs)

        monkeypatch.setattr(tasks, name, type("Spy", (), {"enqueue": staticmethod(spy)})())
    result = tasks.export_zip_task.enqueue(
        campaign_id=campaign.pk, org_unit_code=unit.code, requested_by_id=chain["hr"].user.pk
    )
    assert result.status == "SUCCESSFUL", result.errors
    assert enqueued == [
        ("export_zip_chunk", 0),
        ("export_zip_chunk", 1),
        ("export_zip_chunk", 2),
        ("export_zip_assemble", None),
    ]
    status = pdf.export_status(result.id)
    assert status["status"] == "done" and status["file"] == result.return_value
    assert (status["chunks"], status["chunks_done"], status["total"], status["done"]) == (3, 3, 5, 5)
    assert (status["reused"], status["rendered"]) == (1, 4)
    storage = private_storage()
    with storage.open(result.return_value, "rb") as handle:
        archive = zipfile.ZipFile(io.BytesIO(handle.read()))
    assert archive.namelist() == sorted(f"{a.employee_number}.pdf" for a in agents)
    assert all(archive.read(member).startswith(b"%PDF") for member in archive.namelist())
    # the parts are gone; every report is archived now and in the HR access log
    assert not any(storage.exists(pdf.export_part_name(result.id, index)) for index in range(3))
    finals = Appraisal.objects.filter(campaign=campaign, state=S.FINAL)
    assert finals.exclude(pdf="").count() == 5
    assert AppraisalAccessLog.objects.filter(user=chain["hr"].user, channel="export").count() == 5


@pytest.mark.django_db
def test_a_failing_chunk_fails_the_export_and_stops_the_others(org, chain, fake_renderer, monkeypatch):
    monkeypatch.setattr(pdf, "EXPORT_BATCH", 2)
    campaign, unit, _agents = final_reports(org, chain, 5)
    calls = []
    real = pdf.render_pdf

    def broken(appraisal, **kwargs):
        calls.append(appraisal.pk)
        if len(calls) == 3:
            raise RuntimeError("layout failed")
        return real(appraisal, **kwargs)

    monkeypatch.setattr(pdf, "render_pdf", broken)
    result = tasks.export_zip_task.enqueue(
        campaign_id=campaign.pk, org_unit_code=unit.code, requested_by_id=chain["hr"].user.pk
    )
    status = pdf.export_status(result.id)
    assert status["status"] == "failed" and "layout failed" in status["error"]
    assert len(calls) == 3  # the third chunk never started
    assert not private_storage().exists(pdf.export_zip_name(result.id))


@pytest.mark.django_db
def test_a_report_changed_meanwhile_is_exported_but_not_archived(org, chain, fake_renderer, monkeypatch):
    campaign, unit, agents = final_reports(org, chain, 2)
    changed = Appraisal.objects.get(campaign=campaign, agent=agents[1])
    real = pdf._store_archives

    def revision_accepted_meanwhile(rendered):
        Appraisal.objects.filter(pk=changed.pk).update(version=2)
        return real(rendered)

    monkeypatch.setattr(pdf, "_store_archives", revision_accepted_meanwhile)
    name = pdf.export_zip(campaign_id=campaign.pk, org_unit_code=unit.code, requested_by_id=None)
    with private_storage().open(name, "rb") as handle:
        assert len(zipfile.ZipFile(io.BytesIO(handle.read())).namelist()) == 2
    changed.refresh_from_db()
    assert changed.pdf.name == ""
    assert Appraisal.objects.get(campaign=campaign, agent=agents[0]).pdf.name.endswith("-v1.pdf")
    assert not AppraisalAccessLog.objects.exists()  # no requester, no access logged
