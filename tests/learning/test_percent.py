"""One percent format per language: « 38 % » (non-breaking space) in French, "38%" in English,
in the training dashboard's table, its chart (labels, values, description) and everywhere
else a percentage is shown (``cms.numbers.percent`` and the ``percent`` template filter)."""

import re
from decimal import Decimal

import pytest
from django.template import Context, Template
from django.urls import reverse
from django.utils import timezone, translation

from cms import numbers
from learning import services
from learning.choices import EnrollmentStatus
from learning.models import Enrollment
from recruitment.charts import describe
from tests.factories import AgentFactory

NBSP = "\u00a0"


def test_percent_in_french_and_english():
    with translation.override("fr"):
        assert numbers.percent(37) == f"37{NBSP}%"
        assert numbers.percent(37.5) == f"38{NBSP}%"  # half up, as the tables
        assert numbers.percent(Decimal("41.46"), 1) == f"41,5{NBSP}%"
        assert numbers.ratio_percent(0.375) == f"38{NBSP}%"
        assert numbers.percent(-0.2) == f"0{NBSP}%"
    with translation.override("en"):
        assert numbers.percent(37) == "37%"
        assert numbers.percent(Decimal("41.46"), 1) == "41.5%"
        assert numbers.ratio_percent(1) == "100%"
    assert numbers.percent(None) == "" and numbers.percent("abc") == "" and numbers.ratio_percent(None) == ""


def test_percent_template_filters():
    template = Template("{% load parcours_numbers %}{{ a|percent }} {{ b|ratio_percent }} {{ c|percent:1 }}")
    context = Context({"a": 37, "b": 0.5, "c": 12.34})
    with translation.override("fr"):
        assert template.render(context) == f"37{NBSP}% 50{NBSP}% 12,3{NBSP}%"
    with translation.override("en"):
        assert template.render(context) == "37% 50% 12.3%"


@pytest.fixture
def three_of_eight(chain, course, org):
    """3 completed enrolments of 8 under the DRH direction: 37.5 %, shown as 38 %."""
    for number in range(8):
        enrollment, _created = services.enroll(agent=AgentFactory(org_unit=org["bureau"]), course=course["course"])
        if number < 3:
            Enrollment.objects.filter(pk=enrollment.pk).update(
                status=EnrollmentStatus.COMPLETED, completed_at=timezone.now()
            )
    return chain["hr"]


PERCENTS = re.compile(r"\d+(?:[.,]\d+)?\s?%", re.UNICODE)


@pytest.mark.parametrize(
    ("language", "expected"),
    [("fr", f"38{NBSP}%"), ("en", "38%")],
)
def test_training_dashboard_writes_percentages_one_way(client, three_of_eight, language, expected):
    client.force_login(three_of_eight.user)
    html = client.get(reverse("learning:hr"), HTTP_ACCEPT_LANGUAGE=language).text
    chart = client.get(reverse("learning:hr_chart"), HTTP_ACCEPT_LANGUAGE=language).text
    assert f'<td class="num">{expected}</td>' in html
    description = re.search(r"<desc[^>]*>(.*?)</desc>", chart, re.S).group(1)
    assert expected in description
    assert f">{expected}</text>" in chart  # the value printed after the bar
    for label in ("0", "25", "50", "75", "100"):
        assert f">{label}{expected[2:]}</text>" in chart  # the value axis
    # Every percentage of the page and the chart is written the same way.
    shown = set(PERCENTS.findall(html + chart))
    assert shown and all(text.endswith(expected[2:]) for text in shown), shown
    if language == "en":
        assert " %" not in chart and f"{NBSP}%" not in chart
        assert not re.search(r"\d %", html)


def test_recruitment_funnel_description_uses_the_same_format():
    stages = [
        type("Stage", (), {"label": "Reçue", "count": 8, "rate": 1.0}),
        type("Stage", (), {"label": "Recevabilité", "count": 3, "rate": 0.375}),
    ]
    with translation.override("fr"):
        assert f"(38{NBSP}%)" in describe(stages)
    with translation.override("en"):
        assert "(38%)" in describe(stages)
