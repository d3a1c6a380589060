"""recruitment.reports (funnel, time-to-hire, internal vs external) and the report page
``/recrutement/rapports/``: who may open it, the SVG chart without script, the tables,
bad parameters, and a constant number of queries."""

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from recruitment import charts, reports
from recruitment.choices import PIPELINE, ApplicationStatus
from recruitment.models import ApplicationEvent
from tests.factories import AgentFactory, UserFactory
from tests.recruitment.conftest import make_opening, publish
from tests.recruitment.test_api import DAY, add_application, at

P = ApplicationStatus
URL = "/recrutement/rapports/"
PERIOD = "from=2025-03-01&to=2025-04-30"


@pytest.fixture
def dataset(job_index, org, recruiter):
    """The known dataset of test_api.py on an opening of ``recruiter`` (``Recruiters`` group),
    plus one application on an opening they do not manage."""
    opening = make_opening(job_index, org_unit=org["bureau"], reference="RPT-001", title="Gestionnaire paie")
    opening.recruiters.add(recruiter)
    publish(opening)
    other = make_opening(job_index, org_unit=org["direction"], reference="RPT-002", title="Juriste")
    start = date(2025, 3, 1)
    add_application(opening, path=[P.RECEIVED], submitted_at=at(start))
    add_application(opening, path=[P.RECEIVED, P.ADMISSIBILITY, P.SCREENING, P.REJECTED], submitted_at=at(start + DAY))
    add_application(opening, path=PIPELINE, submitted_at=at(start + 2 * DAY), changed_at=at(start + 32 * DAY))
    add_application(
        opening, path=PIPELINE, submitted_at=at(start + 3 * DAY), changed_at=at(start + 13 * DAY), internal=True
    )
    add_application(opening, path=[P.RECEIVED, P.SHORTLISTED, P.WITHDRAWN], submitted_at=at(start + 4 * DAY))
    add_application(opening, path=PIPELINE, submitted_at=at(start - 20 * DAY), changed_at=at(start + 20 * DAY))
    add_application(other, path=[P.RECEIVED, P.SCREENING], submitted_at=at(start + 5 * DAY), internal=True)
    return {"opening": opening, "other": other}


@pytest.fixture
def hr(org):
    return AgentFactory(user__username="hr", user__groups=["HR"], org_unit=org["direction"]).user


def period():
    return reports.period_from("2025-03-01", "2025-04-30")


# --- the figures --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_report_over_every_opening_for_hr(dataset, hr):
    report = reports.report_for(hr, period())
    assert report.applications == 6
    assert [stage.count for stage in report.funnel] == [6, 5, 5, 3, 2, 2, 2, 2]
    assert report.funnel[0].rate == 1.0 and report.funnel[0].step_rate == 1.0
    assert report.funnel[1].step_rate == round(5 / 6, 4)
    assert (report.hires, report.median_days, report.mean_days) == (3, 30.0, 26.7)
    assert report.internal == {"applications": 2, "hires": 1} and report.external == {"applications": 4, "hires": 2}
    assert {row["status"]: row["count"] for row in report.outcomes if row["count"]} == {
        "received": 1, "screening": 1, "rejected": 1, "hired": 2, "withdrawn": 1,
    }  # fmt: skip
    assert report.active == 2


@pytest.mark.django_db
def test_report_of_a_recruiter_is_limited_to_their_openings(dataset, recruiter):
    report = reports.report_for(recruiter, period())
    assert report.applications == 5 and report.internal["applications"] == 1
    assert reports.report_for(recruiter, period(), dataset["other"]).applications == 0  # never beyond their scope
    assert set(reports.reportable_openings(recruiter).values_list("reference", flat=True)) == {
        "2025-DRH-001",
        "RPT-001",
    }


@pytest.mark.django_db
def test_the_funnel_uses_the_events_of_applications_moved_back_or_closed(dataset, hr):
    """A rejection after the interview counts up to the interview; a move back to an earlier
    stage keeps the furthest stage reached."""
    opening = dataset["opening"]
    application = add_application(
        opening, path=[P.RECEIVED, P.SCREENING, P.INTERVIEW, P.SCREENING], submitted_at=at(date(2025, 4, 1))
    )
    assert application.status == P.SCREENING
    report = reports.report_for(hr, period(), opening)
    assert [stage.count for stage in report.funnel] == [6, 5, 5, 4, 3, 2, 2, 2]


@pytest.mark.django_db
def test_the_current_status_counts_when_the_events_are_missing(dataset, hr):
    """Applications imported without their history still count at their current stage."""
    opening = dataset["opening"]
    application = add_application(opening, path=[P.RECEIVED, P.OFFER], submitted_at=at(date(2025, 4, 2)))
    ApplicationEvent.objects.filter(application=application).delete()
    report = reports.report_for(hr, period(), opening)
    assert report.funnel[0].count == 6 and report.funnel[6].count == 3 and report.funnel[7].count == 2


@pytest.mark.django_db
def test_stage_labels_of_the_opening_are_used(dataset, hr):
    opening = dataset["opening"]
    opening.stage_labels = {"interview": "Jury"}
    report = reports.report_for(hr, period(), opening)
    assert report.funnel[4].label == "Jury"


def test_period_parsing_names_the_bad_parameter():
    today = date(2026, 6, 30)
    assert reports.period_from(None, None, today=today) == reports.Period(today - timedelta(days=364), today)
    assert reports.period_from("2026-01-01", None, today=today) == reports.Period(date(2026, 1, 1), today)
    assert reports.period_from("2027-01-01", None, today=today).date_to == date(2027, 1, 1)
    for raw_from, raw_to, field in [
        ("2026-02-30", "", "from"),
        ("", "demain", "to"),
        ("2026-05-01", "2026-04-01", "from"),
    ]:
        with pytest.raises(reports.PeriodError) as error:
            reports.period_from(raw_from, raw_to, today=today)
        assert error.value.field == field and error.value.message


def test_period_bounds_are_local_days():
    period = reports.Period(date(2025, 3, 1), date(2025, 3, 31))
    assert timezone.localtime(period.start).isoformat().startswith("2025-03-01T00:00:00")
    assert timezone.localtime(period.end).isoformat().startswith("2025-04-01T00:00:00")


@pytest.mark.django_db
def test_report_queries_do_not_grow_with_the_applications(dataset, hr):
    def count(opening=None):
        with CaptureQueriesContext(connection) as ctx:
            reports.report_for(hr, period(), opening)
        return len(ctx.captured_queries)

    count()  # the caller's groups are read once, then cached on the user
    small = (count(), count(dataset["opening"]))
    for index in range(25):
        add_application(dataset["opening"], path=PIPELINE[: 1 + index % 8], submitted_at=at(date(2025, 3, 10)))
    assert (count(), count(dataset["opening"])) == small
    assert small == (3, 3)  # the funnel, the hires, the median


# --- the chart ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_chart_has_no_script_and_says_its_figures(dataset, hr):
    report = reports.report_for(hr, period())
    svg = charts.funnel_chart(report.funnel, title="Entonnoir")
    assert "<script" not in svg and "<?xml" not in svg
    assert 'role="img"' in svg and "<title" in svg and "<desc" in svg
    assert "Reçue : 6" in svg and "Recrutée : 2 (33\u00a0%)" in svg
    assert charts.funnel_chart(report.funnel, title="Entonnoir", standalone=True).startswith("<?xml")


# --- the page ---------------------------------------------------------------------------------------


def get(client, user, url=URL):
    if user is not None:
        client.force_login(user)
    return client.get(url)


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["anonymous", "agent", "interviewer", "recruiter", "hr"])
def test_who_may_open_the_report_page(client, dataset, role, recruiter, hr, agent_user):
    users = {
        "anonymous": None, "agent": agent_user, "interviewer": UserFactory(username="jury", groups=["Interviewers"]),
        "recruiter": recruiter, "hr": hr,
    }  # fmt: skip
    response = get(client, users[role], f"{URL}?{PERIOD}")
    if role == "anonymous":
        assert response.status_code == 302 and response.url.startswith(reverse("login"))
    elif role in ("agent", "interviewer"):
        assert response.status_code == 403
    else:
        assert response.status_code == 200
        assert response["Cache-Control"] == "private, no-store"
    svg = get(client, users[role], f"{URL}entonnoir.svg?{PERIOD}")
    assert svg.status_code == response.status_code


@pytest.mark.django_db
def test_the_page_shows_the_chart_and_the_tables(client, dataset, hr):
    response = get(client, hr, f"{URL}?{PERIOD}")
    html = response.content.decode()
    assert "<svg" in html and "<script" not in html.split("<svg", 1)[1].split("</svg>", 1)[0]
    assert "Entonnoir du recrutement du 01/03/2025 au 30/04/2025" in html
    funnel = [(stage.label, stage.count) for stage in response.context["report"].funnel]
    assert funnel[0] == ("Reçue", 6) and funnel[-1] == ("Recrutée", 2)
    assert "30.0 jours" in html or "30,0 jours" in html
    assert "RPT-001" in html and "RPT-002" in html  # by opening
    assert f"entonnoir.svg?{PERIOD}" in html.replace("&amp;", "&")
    svg = client.get(f"{URL}entonnoir.svg?{PERIOD}")
    assert svg["Content-Type"].startswith("image/svg+xml") and b"<script" not in svg.content


@pytest.mark.django_db
def test_a_recruiter_sees_and_may_choose_only_their_openings(client, dataset, recruiter):
    response = get(client, recruiter, f"{URL}?{PERIOD}")
    html = response.content.decode()
    assert response.context["report"].applications == 5
    assert "RPT-001" in html and "RPT-002" not in html
    refused = client.get(f"{URL}?{PERIOD}&opening={dataset['other'].pk}")
    assert refused.status_code == 400 and "opening" in refused.context["form"].errors
    one = client.get(f"{URL}?{PERIOD}&opening={dataset['opening'].pk}")
    assert one.status_code == 200 and one.context["report"].opening.pk == dataset["opening"].pk


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query, field", [("from=2025-02-30", "from"), ("to=hier", "to"), ("from=2025-05-01&to=2025-04-01", "from")]
)
def test_bad_dates_show_an_error_summary_naming_the_field(client, dataset, hr, query, field):
    response = get(client, hr, f"{URL}?{query}")
    assert response.status_code == 400
    assert field in response.context["form"].errors
    html = response.content.decode()
    assert 'class="error-summary"' in html and f'href="#id_{field}"' in html


@pytest.mark.django_db
def test_the_page_runs_a_constant_number_of_queries(client, dataset, hr, job_index, org):
    client.force_login(hr)

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(f"{URL}?{PERIOD}").status_code == 200
        return len(ctx.captured_queries)

    count()
    small = count()
    for number in range(4):
        opening = make_opening(job_index, org_unit=org["service"], reference=f"RPT-1{number}")
        for index in range(6):
            add_application(opening, path=PIPELINE[: 1 + (index + number) % 8], submitted_at=at(date(2025, 3, 20)))
    assert count() == small


@pytest.mark.parametrize("query", ["to=0001-01-01", "from=9999-12-31", "from=0001-01-01&to=0001-01-02"])
@pytest.mark.parametrize("suffix", ["", "entonnoir.svg"])
def test_periods_at_the_ends_of_the_calendar_are_refused_not_500(client, dataset, hr, query, suffix):
    response = get(client, hr, f"{URL}{suffix}?{query}")
    assert response.status_code == 400
    if not suffix:  # the page says why, next to the field
        assert "hors des limites du calendrier" in response.content.decode()
