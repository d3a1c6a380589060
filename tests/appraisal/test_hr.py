import csv
import datetime
import io
import zipfile

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from appraisal import hr_views, pdf, selectors, services
from appraisal.choices import AppraisalState as S
from appraisal.models import Appraisal
from tests.appraisal.conftest import make_campaign
from tests.appraisal.test_pdf import to_final
from tests.factories import AgentFactory, OrgUnitFactory, UserFactory


def days(n):
    return datetime.timedelta(days=n)


@pytest.fixture
def late_campaign(chain, org):
    """Interviews due within the notice period: every appraisal still "created" is late."""
    today = timezone.localdate()
    campaign = make_campaign(
        org, starts_on=today - days(30), interviews_until=today + days(5), ends_on=today + days(60)
    )
    services.launch_campaign(campaign_id=campaign.pk)
    campaign.refresh_from_db()
    return campaign


@pytest.fixture
def perm_holder(db):
    user = UserFactory(username="service_account")
    user.user_permissions.add(Permission.objects.get(codename="view_all_appraisals"))
    return user


def urls(campaign, export_id="abcdef0123456789"):
    return [
        reverse("appraisal_hr:index"),
        reverse("appraisal_hr:dashboard", args=[campaign.pk]),
        reverse("appraisal_hr:dashboard", args=[campaign.pk]) + "?unit=DRH",
        reverse("appraisal_hr:chart", args=[campaign.pk]),
        reverse("appraisal_hr:progress_csv", args=[campaign.pk]),
        reverse("appraisal_hr:progress_csv", args=[campaign.pk]) + "?detail=1",
        reverse("appraisal_hr:export", args=[campaign.pk]),
    ]


def export_urls(export_id):
    return [
        reverse("appraisal_hr:export_status", args=[export_id]),
        reverse("appraisal_hr:export_download", args=[export_id]),
    ]


def get(client, url):
    response = client.get(url)
    if getattr(response, "streaming", False):
        b"".join(response.streaming_content)
    return response


# --- permission matrix ---------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "who, expected",
    [("anonymous", 302), ("agent", 403), ("manager", 403), ("reviewer", 403), ("hr", 200), ("perm_holder", 200)],
)
def test_dashboards_permission_matrix(client, late_campaign, chain, perm_holder, who, expected):
    users = {**{k: v.user for k, v in chain.items()}, "perm_holder": perm_holder}
    if who != "anonymous":
        client.force_login(users[who])
    for url in urls(late_campaign):
        response = get(client, url)
        assert response.status_code == expected, url
        if expected == 302:
            assert response.url.startswith(reverse("login")) and "next=" in response.url


@pytest.mark.django_db
@pytest.mark.parametrize("who, expected", [("anonymous", 302), ("agent", 403), ("manager", 403), ("other_hr", 404)])
def test_export_status_and_download_are_refused_to_others(client, org, chain, who, expected):
    campaign = make_campaign(org)
    services.launch_campaign(campaign_id=campaign.pk)
    to_final(Appraisal.objects.get(campaign=campaign, agent=chain["agent"]), chain, timezone.now() - days(30))
    client.force_login(chain["hr"].user)
    response = client.post(reverse("appraisal_hr:export", args=[campaign.pk]), {"unit": "DRH"})
    export_id = response.url.rstrip("/").rsplit("/", 1)[1]
    client.logout()
    if who == "other_hr":
        client.force_login(AgentFactory(user__username="hr2", user__groups=["HR"], org_unit=org["direction"]).user)
    elif who != "anonymous":
        client.force_login(chain[who].user)
    for url in export_urls(export_id):
        response = get(client, url)
        assert response.status_code == expected, url


# --- numbers, drill-down, chart, CSV ---------------------------------------------------------------


@pytest.mark.django_db
def test_progress_numbers_and_drill_down(client, late_campaign, chain, org):
    # appraisals: manager (service), agent (bureau), other_agent (direction itself)
    Appraisal.objects.filter(campaign=late_campaign, agent=chain["manager"]).update(
        state=S.HELD, held_at=timezone.now() - days(40)
    )
    client.force_login(chain["hr"].user)

    top = client.get(reverse("appraisal_hr:dashboard", args=[late_campaign.pk]))
    drh = next(row for row in top.context["rows"] if row["unit"].code == "DRH")
    assert drh["counts"][S.CREATED] == 2 and drh["counts"][S.HELD] == 1 and drh["total"] == 3

    response = client.get(reverse("appraisal_hr:dashboard", args=[late_campaign.pk]) + "?unit=DRH")
    assert response.status_code == 200
    rows = {row["unit"].code: row for row in response.context["rows"]}
    assert set(rows) == {"DRH-SF"}
    assert rows["DRH-SF"]["counts"][S.CREATED] == 1 and rows["DRH-SF"]["counts"][S.HELD] == 1
    assert response.context["own"]["total"] == 1  # other_agent, attached to the direction itself
    assert response.context["overall"]["total"] == 3
    html = response.content.decode()
    assert 'aria-current="page">Direction des ressources humaines</a>' in html  # breadcrumb
    assert "?unit=DRH-SF" in html  # drill-down link (the service has a bureau)
    # overdue: two convocations not sent, one report not notified, with the evaluator's name
    late = response.context["overdue_rows"]
    assert len(late) == 3
    assert {row["appraisal"].agent_id for row in late} == {
        chain["manager"].pk,
        chain["agent"].pk,
        chain["other_agent"].pk,
    }
    assert chain["manager"].full_name in html and chain["reviewer"].full_name in html
    assert "Compte rendu non notifié" in html and "Convocation non envoyée" in html

    deeper = client.get(reverse("appraisal_hr:dashboard", args=[late_campaign.pk]) + "?unit=DRH-SF")
    assert [row["unit"].code for row in deeper.context["rows"]] == ["DRH-SF-B1"]
    assert deeper.context["overall"]["total"] == 2 and len(deeper.context["overdue_rows"]) == 2
    assert client.get(reverse("appraisal_hr:dashboard", args=[late_campaign.pk]) + "?unit=NOPE").status_code == 404


@pytest.mark.django_db
def test_unit_progress_matches_progress_by_unit(late_campaign, chain, org):
    Appraisal.objects.filter(campaign=late_campaign, agent=chain["agent"]).update(state=S.FINAL)
    for parent in (None, org["direction"], org["service"]):
        expected = {row["unit"].pk: row["counts"] for row in selectors.progress_by_unit(late_campaign, parent)}
        got = {row["unit"].pk: row["counts"] for row in selectors.unit_progress(late_campaign, parent)["rows"]}
        assert got == expected


@pytest.mark.django_db
def test_chart_svg_has_title_unit_names_and_no_script(client, late_campaign, chain):
    client.force_login(chain["hr"].user)
    response = client.get(reverse("appraisal_hr:chart", args=[late_campaign.pk]) + "?unit=DRH")
    assert response["Content-Type"].startswith("image/svg+xml")
    svg = response.content.decode()
    assert svg.startswith("<?xml") and "<title" in svg and "<desc" in svg and "<script" not in svg
    assert "Service de la formation" in svg and 'role="img"' in svg
    page = client.get(reverse("appraisal_hr:dashboard", args=[late_campaign.pk])).content.decode()
    assert "<svg" in page and "<script" not in page and "Direction des ressources humaines" in page


@pytest.mark.django_db
def test_progress_csv_header_and_rows(client, late_campaign, chain):
    client.force_login(chain["hr"].user)
    response = client.get(reverse("appraisal_hr:progress_csv", args=[late_campaign.pk]) + "?unit=DRH")
    assert response["Content-Type"].startswith("text/csv") and "attachment" in response["Content-Disposition"]
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows[0][:3] == ["Code", "Unité", "À convoquer"] and rows[0][-1].startswith("Taux")
    assert rows[1][:3] == ["DRH-SF", "Service de la formation", "2"]
    assert rows[2][0] == "DRH" and rows[2][2] == "1"  # attached directly
    assert rows[-1][1] == "Total" and rows[-1][2] == "3"

    detail = client.get(reverse("appraisal_hr:progress_csv", args=[late_campaign.pk]) + "?detail=1")
    lines = list(csv.reader(io.StringIO(b"".join(detail.streaming_content).decode("utf-8-sig")), delimiter=";"))
    by_code = {line[1]: line for line in lines[1:]}
    assert by_code["DRH"][3] == "3" and by_code["DRH-SF"][3] == "2" and by_code["DRH-SF-B1"][3] == "1"
    assert by_code["DRH"][-1] == "1"  # own agents of the direction


# --- constant number of queries ---------------------------------------------------------------------


def populate(campaign, org, chain, units, per_unit):
    for i in range(units):
        unit = OrgUnitFactory(
            code=f"DRH-X{units}-{i}", name=f"Bureau {units}-{i}", kind="bureau", parent=org["direction"]
        )
        sub = OrgUnitFactory(code=f"DRH-X{units}-{i}-A", name=f"Cellule {units}-{i}", kind="other", parent=unit)
        for j in range(per_unit):
            AgentFactory(org_unit=sub if j % 2 else unit, manager=chain["manager"])
    services.launch_campaign(campaign_id=campaign.pk)
    ids = list(Appraisal.objects.filter(campaign=campaign).values_list("pk", flat=True))
    Appraisal.objects.filter(pk__in=ids[::3]).update(state=S.HELD, held_at=timezone.now() - days(40))
    Appraisal.objects.filter(pk__in=ids[1::3]).update(state=S.FINAL)


def count_queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = get(client, url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.django_db
def test_query_counts_do_not_grow_with_units_and_appraisals(client, late_campaign, chain, org):
    client.force_login(chain["hr"].user)
    pages = [
        reverse("appraisal_hr:index"),
        reverse("appraisal_hr:dashboard", args=[late_campaign.pk]),
        reverse("appraisal_hr:dashboard", args=[late_campaign.pk]) + "?unit=DRH",
        reverse("appraisal_hr:chart", args=[late_campaign.pk]) + "?unit=DRH",
        reverse("appraisal_hr:progress_csv", args=[late_campaign.pk]) + "?unit=DRH",
        reverse("appraisal_hr:progress_csv", args=[late_campaign.pk]) + "?unit=DRH&detail=1",
    ]
    populate(late_campaign, org, chain, units=2, per_unit=3)
    for url in pages:  # warm the per-process caches (site, settings)
        get(client, url)
    small = [count_queries(client, url) for url in pages]
    populate(late_campaign, org, chain, units=8, per_unit=9)
    assert Appraisal.objects.filter(campaign=late_campaign).count() > 80
    large = [count_queries(client, url) for url in pages]
    assert small == large


# --- export through the views ----------------------------------------------------------------------


@pytest.mark.django_db
def test_export_form_task_status_and_download(client, org, chain):
    campaign = make_campaign(org)
    services.launch_campaign(campaign_id=campaign.pk)
    to_final(Appraisal.objects.get(campaign=campaign, agent=chain["agent"]), chain, timezone.now() - days(30))
    client.force_login(chain["hr"].user)
    form = client.get(reverse("appraisal_hr:export", args=[campaign.pk]) + "?unit=DRH-SF")
    assert form.status_code == 200 and '<option value="DRH-SF" selected>' in form.content.decode()
    assert '<select name="unit"' in form.content.decode()  # chosen from the tree, not typed

    bad = client.post(reverse("appraisal_hr:export", args=[campaign.pk]), {"unit": "INCONNU"})
    assert bad.status_code == 400 and "Aucune unité ne porte ce code : choisissez-la dans la liste." in bad.content.decode()
    empty = OrgUnitFactory(code="VIDE", name="Unité vide")
    nothing = client.post(reverse("appraisal_hr:export", args=[campaign.pk]), {"unit": empty.code})
    assert nothing.status_code == 400 and "Aucun compte rendu définitif" in nothing.content.decode()

    response = client.post(reverse("appraisal_hr:export", args=[campaign.pk]), {"unit": "DRH-SF"})
    assert response.status_code == 302
    status_page = client.get(response.url)
    assert status_page.status_code == 200 and "export est prêt." in status_page.content.decode()
    export_id = status_page.context["export_id"]
    download = client.get(reverse("appraisal_hr:export_download", args=[export_id]))
    assert download.status_code == 200 and download["Content-Type"] == "application/zip"
    assert (
        "attachment" in download["Content-Disposition"]
        and f"entretiens-{campaign.year}-DRH-SF.zip" in download["Content-Disposition"]
    )
    assert "no-store" in download["Cache-Control"]
    archive = zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content)))
    assert archive.namelist() == [f"{chain['agent'].employee_number}.pdf"]


@pytest.mark.django_db
def test_status_of_a_queued_export_comes_from_the_task_result(client, chain, monkeypatch, late_campaign):
    class Result:
        status = "READY"
        kwargs = {"campaign_id": late_campaign.pk, "org_unit_code": "DRH", "requested_by_id": chain["hr"].user.pk}

    monkeypatch.setattr(hr_views, "_task_result", lambda export_id: Result())
    client.force_login(chain["hr"].user)
    page = client.get(reverse("appraisal_hr:export_status", args=["queued-export-0001"]))
    assert page.status_code == 200 and "en attente" in page.content.decode()
    assert client.get(reverse("appraisal_hr:export_download", args=["queued-export-0001"])).status_code == 404
    monkeypatch.setattr(hr_views, "_task_result", lambda export_id: None)
    assert client.get(reverse("appraisal_hr:export_status", args=["unknown-export-01"])).status_code == 404
    assert pdf.export_status("unknown-export-01") is None
