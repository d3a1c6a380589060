import datetime
import io
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone
from django.utils.html import escape

from appraisal import pdf, services, tasks
from appraisal.choices import AppraisalState as S
from appraisal.models import Appraisal, AppraisalAccessLog, Objective
from cms import pdf as cms_pdf
from cms.pdf import RefusedURL
from cms.storage import private_storage
from tests.appraisal import factories
from tests.appraisal.conftest import FILLED, make_campaign
from tests.factories import AgentFactory, OrgUnitFactory

FULL = {
    **FILLED,
    "sec-criteria": {
        "crit-results": {"level": "lvl-3", "comment": "Objectifs tenus malgré la réorganisation."},
        "crit-skills": {"level": "lvl-4", "comment": "Référente paie de la direction."},
        "crit-relational": {"level": "lvl-2", "comment": ""},
    },
    "sec-experience": "Maîtrise du nouveau logiciel de paie ; tutorat de deux agents.",
    "sec-training": [{"course": None, "text": "Préparation au concours de rédacteur principal"}],
    "sec-career": "Souhaite évoluer vers un poste d'encadrement d'ici deux ans.",
}


def days(n):
    return datetime.timedelta(days=n)


def act(appraisal, action, user, now=None, **params):
    return factories.act(appraisal, action, user, now=now, **params)


def to_notified(appraisal, chain, start, answers=FULL):
    manager = chain["manager"].user
    act(appraisal, "convoke", manager, now=start, interview_at=(start + days(10)).isoformat(), place="Bureau 204")
    act(appraisal, "hold", manager, now=start + days(10) + datetime.timedelta(hours=1))
    services.save_draft(appraisal_id=appraisal.pk, actor=manager, answers=answers)
    act(appraisal, "notify", manager, now=start + days(11))


def to_final(appraisal, chain, start, *, refuse=False):
    to_notified(appraisal, chain, start)
    if refuse:
        act(
            appraisal,
            "record_refusal",
            chain["hr"].user,
            now=start + days(20),
            reason="Absence prolongée",
            date=timezone.localdate(start + days(19)).isoformat(),
        )
    else:
        act(appraisal, "acknowledge", chain["agent"].user, now=start + days(12), observations="Échange constructif.")
    act(appraisal, "visa", chain["reviewer"].user, now=start + days(13))
    appraisal.refresh_from_db()
    return appraisal


def reload(appraisal):
    return pdf._load(appraisal.pk)


def pdf_text(data, tmp_path):
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext manquant : apt-get install -y poppler-utils")
    path = tmp_path / "report.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdftotext", str(path), "-"], check=True, capture_output=True, text=True).stdout


@pytest.fixture
def carried(appraisal, chain, campaign, org):
    """An objective set last year, carried over to this year's appraisal."""
    previous = make_campaign(org, year=campaign.year - 1)
    services.launch_campaign(campaign_id=previous.pk)
    old = Appraisal.objects.get(campaign=previous, agent=chain["agent"])
    objective = Objective.objects.create(
        agent=chain["agent"], set_in=old, assessed_in=appraisal, title="Réduire les délais de paie"
    )
    return objective


@pytest.mark.django_db
def test_final_report_pdf_has_every_section_identity_signatures_version_and_hash(appraisal, chain, carried, tmp_path):
    answers = {**FULL, "sec-results": {str(carried.pk): {"status": "achieved", "comment": "Délais divisés par deux."}}}
    start = timezone.now() - days(30)
    to_notified(appraisal, chain, start, answers=answers)
    act(appraisal, "acknowledge", chain["agent"].user, now=start + days(12), observations="Échange constructif.")
    act(appraisal, "visa", chain["reviewer"].user, now=start + days(13))
    appraisal = reload(appraisal)
    html = pdf.report_html(appraisal)
    data = pdf.render_pdf(appraisal)
    assert data.startswith(b"%PDF")
    text = pdf_text(data, tmp_path)
    (tmp_path.parent.parent / "last-report.pdf").write_bytes(data)
    flat = " ".join(text.split())
    for section in appraisal.campaign.template_snapshot:
        title = section["value"]["title"]
        assert escape(title) in html
        assert title in flat, title
    agent = chain["agent"]
    for value in (
        agent.user.last_name.upper(),
        agent.employee_number,
        agent.grade,
        agent.corps,
        agent.job_title,
        agent.org_unit.name,
        chain["manager"].user.last_name.upper(),
        chain["reviewer"].user.last_name.upper(),
    ):
        assert value in flat, value
    assert f"année {appraisal.campaign.year}" in flat
    assert appraisal.content_hash in text.replace("\n", "")
    assert "Version 1" in flat and "BROUILLON" not in flat
    assert "Page 1 /" in flat
    # answers: criteria level marked, carried objective result, new objectives, needs, observations
    assert "Réduire les délais de paie" in flat and "Atteint" in flat and "Délais divisés par deux." in flat
    assert "Déployer le nouveau logiciel de paie" in flat and "Préparation au concours" in flat
    assert "Échange constructif." in flat
    assert html.count('class="level chosen"') == 3
    # signatures with timestamps
    assert "Signé et notifié le" in flat and "Pris connaissance et signé le" in flat and "Visa le" in flat


@pytest.mark.django_db
def test_refusal_is_printed_with_its_date_and_reason(appraisal, chain):
    start = timezone.now() - days(30)
    appraisal = to_final(appraisal, chain, start, refuse=True)
    html = pdf.report_html(reload(appraisal))
    assert "Refus ou absence de signature constaté le" in html and "Absence prolongée" in html
    assert timezone.localdate(start + days(19)).strftime("%Y") in html


@pytest.mark.django_db
def test_draft_is_marked_and_renders_the_live_answers(appraisal, chain):
    services.save_draft(
        appraisal_id=appraisal.pk, actor=chain["manager"].user, answers={"sec-overall": "Brouillon en cours"}
    )
    appraisal = reload(appraisal)
    html = pdf.report_html(appraisal)
    assert (
        'class="watermark"' in html
        and "BROUILLON" in html
        and "Brouillon en cours" in html
        and "empreinte SHA-256" not in html
    )
    assert pdf.render_pdf(appraisal).startswith(b"%PDF")


@pytest.mark.django_db
def test_notified_report_renders_the_frozen_version_not_later_changes(appraisal, chain):
    to_notified(appraisal, chain, timezone.now() - days(20))
    Appraisal.objects.filter(pk=appraisal.pk).update(answers={**FULL, "sec-overall": "Modifié en base après coup"})
    html = pdf.report_html(reload(appraisal))
    assert FILLED["sec-overall"] in html and "Modifié en base après coup" not in html
    assert "BROUILLON" not in html and 'class="watermark"' not in html


def test_url_fetcher_refuses_http_and_files_outside_static():
    fetcher = cms_pdf.LocalURLFetcher()
    for url in ("http://intranet.example/secret", "https://example.org/x.css", "file:///etc/passwd"):
        with pytest.raises(RefusedURL):
            fetcher.fetch(url)


@pytest.mark.django_db
def test_render_never_fetches_remote_resources(appraisal, chain, monkeypatch):
    requested = []
    original = cms_pdf.LocalURLFetcher.fetch

    def spy(self, url, headers=None):
        requested.append(url)
        return original(self, url, headers)

    monkeypatch.setattr(cms_pdf.LocalURLFetcher, "fetch", spy)
    services.save_draft(
        appraisal_id=appraisal.pk,
        actor=chain["manager"].user,
        answers={
            "sec-overall": '<img src="http://attacker.example/x.png"> <link rel="stylesheet" href="https://x.example/a.css">'
        },
    )
    html = pdf.report_html(reload(appraisal))
    assert "<img" not in html  # answers are escaped: no markup reaches WeasyPrint
    pdf.render_pdf(reload(appraisal))
    assert not any(url.startswith(("http:", "https:")) for url in requested)


@pytest.mark.django_db
def test_archive_is_a_no_op_before_final(appraisal, chain):
    assert pdf.archive(appraisal.pk) is None
    to_notified(appraisal, chain, timezone.now() - days(20))
    assert pdf.archive(appraisal.pk) is None
    appraisal.refresh_from_db()
    assert not appraisal.pdf


@pytest.mark.django_db
def test_archive_stores_privately_once(appraisal, chain, monkeypatch):
    appraisal = to_final(appraisal, chain, timezone.now() - days(30))
    archived = pdf.archive(appraisal.pk)
    appraisal.refresh_from_db()
    expected = f"appraisals/{appraisal.campaign.year}/{appraisal.campaign_id}-{chain['agent'].employee_number}-v1.pdf"
    assert appraisal.pdf.name == expected == archived.pdf.name
    storage = private_storage()
    assert appraisal.pdf.storage is storage
    path = Path(storage.path(expected)).resolve()
    assert path.is_relative_to(Path(settings.PRIVATE_ROOT).resolve())
    assert not path.is_relative_to(Path(settings.MEDIA_ROOT).resolve())
    with pytest.raises(ValueError):  # no public URL
        appraisal.pdf.url  # noqa: B018
    with storage.open(expected, "rb") as handle:
        assert handle.read(4) == b"%PDF"

    def fail(*args, **kwargs):
        raise AssertionError("re-rendered")

    monkeypatch.setattr(pdf, "render_pdf", fail)
    updated = appraisal.updated_at
    assert pdf.archive(appraisal.pk).pdf.name == expected  # idempotent: no render, no write
    appraisal.refresh_from_db()
    assert appraisal.updated_at == updated
    assert sorted(storage.listdir(f"appraisals/{appraisal.campaign.year}")[1]).count(expected.rsplit("/", 1)[1]) == 1


@pytest.mark.django_db
def test_archive_task_archives_the_final_report(appraisal, chain):
    appraisal = to_final(appraisal, chain, timezone.now() - days(30))
    result = tasks.archive_appraisal.enqueue(appraisal.pk)
    assert result.status == "SUCCESSFUL"
    appraisal.refresh_from_db()
    assert appraisal.pdf.name.endswith("-v1.pdf")


# --- bulk ZIP export ---------------------------------------------------------------------------


@pytest.fixture
def unit_with_reports(org, chain):
    """Three agents in the bureau and one in another direction, all with final reports."""
    other_direction = OrgUnitFactory(code="DFI", name="Direction des finances")
    bureau_agents = [chain["agent"]] + [
        AgentFactory(org_unit=org["bureau"], manager=chain["manager"]) for _ in range(2)
    ]
    outsider = AgentFactory(org_unit=other_direction, manager=chain["manager"])
    campaign = make_campaign(org)
    campaign.org_units.add(other_direction)
    services.launch_campaign(campaign_id=campaign.pk)
    start = timezone.now() - days(30)
    finals = []
    for agent in bureau_agents + [outsider]:
        appraisal = Appraisal.objects.get(campaign=campaign, agent=agent)
        local_chain = {**chain, "agent": agent}
        finals.append(to_final(appraisal, local_chain, start))
    # one more in the bureau, only notified: not exported
    extra = AgentFactory(org_unit=org["bureau"], manager=chain["manager"])
    services.launch_campaign(campaign_id=campaign.pk)
    to_notified(Appraisal.objects.get(campaign=campaign, agent=extra), {**chain, "agent": extra}, start)
    pdf.archive(finals[0].pk)  # one archived already: reused
    return {"campaign": campaign, "in_unit": bureau_agents, "outsider": outsider}


@pytest.mark.django_db
def test_export_zip_has_one_pdf_per_final_report_of_the_subtree(unit_with_reports, org, chain):
    campaign = unit_with_reports["campaign"]
    result = tasks.export_zip_task.enqueue(
        campaign_id=campaign.pk, org_unit_code=org["service"].code, requested_by_id=chain["hr"].user.pk
    )
    assert result.status == "SUCCESSFUL", result.errors
    name = result.return_value
    status = pdf.export_status(result.id)
    assert status["status"] == "done" and status["file"] == name and status["total"] == status["done"] == 3
    assert status["reused"] == 1 and status["rendered"] == 2
    storage = private_storage()
    with storage.open(name, "rb") as handle:
        archive = zipfile.ZipFile(io.BytesIO(handle.read()))
    expected = sorted(f"{agent.employee_number}.pdf" for agent in unit_with_reports["in_unit"])
    assert sorted(archive.namelist()) == expected
    for member in archive.namelist():
        assert archive.read(member).startswith(b"%PDF")
    # missing PDFs were archived on the way; each exported report is in the HR access log
    assert (
        Appraisal.objects.filter(campaign=campaign, state=S.FINAL, agent__in=unit_with_reports["in_unit"])
        .exclude(pdf="")
        .count()
        == 3
    )
    assert AppraisalAccessLog.objects.filter(user=chain["hr"].user, channel="export").count() == 3


@pytest.mark.django_db
def test_export_of_an_empty_unit_gives_an_empty_zip(unit_with_reports, org, chain):
    empty = OrgUnitFactory(code="VIDE", name="Unité vide")
    name = pdf.export_zip(
        campaign_id=unit_with_reports["campaign"].pk, org_unit_code=empty.code, requested_by_id=chain["hr"].user.pk
    )
    with private_storage().open(name, "rb") as handle:
        assert zipfile.ZipFile(io.BytesIO(handle.read())).namelist() == []


def test_export_status_rejects_malformed_ids():
    assert pdf.export_status("../../etc/passwd") is None
    assert pdf.export_status("") is None
