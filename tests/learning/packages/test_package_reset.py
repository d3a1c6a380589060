"""Wagtail admin "Tentatives de modules" (HR): list, filter, search, the reset confirmation
page (no JavaScript needed) and the reset itself; everyone else gets 403."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from wagtail.models import ModelLogEntry

from learning import services
from learning.models import PackageAttempt
from tests.factories import AgentFactory, UserFactory

INDEX = "formations_tentatives_modules:index"
RESET = "formations_tentatives_modules:reset"


@pytest.fixture
def attempt(chain, scorm12_course):
    user = chain["agent"].user
    attempt = services.launch_package(user=user, step=scorm12_course["step"])
    services.commit_package(user=user, attempt_id=attempt.pk, data={
        "sco": "ITEM-1", "seq": 1, "cmi": {"cmi.core.lesson_status": "incomplete", "cmi.core.score.raw": "40"},
    })
    return attempt


def users(chain):
    return {
        "agent": chain["agent"].user,
        "manager": chain["manager"].user,
        "training_editor": UserFactory(username="editor", groups=["Training editors"]),
        "superuser": UserFactory(username="root", is_superuser=True),
        "hr": chain["hr"].user,
    }


@pytest.mark.parametrize("role", ["agent", "manager", "training_editor"])
def test_others_get_403(client, chain, attempt, role):
    client.force_login(users(chain)[role])
    for url in (reverse(INDEX), reverse(RESET, args=[attempt.pk])):
        response = client.get(url)
        if role == "training_editor":
            assert response.status_code == 403, url
        else:  # no admin access at all: Wagtail sends them to its login page
            assert response.status_code in (302, 403)
    assert client.post(reverse(RESET, args=[attempt.pk])).status_code in (302, 403)
    attempt.refresh_from_db()
    assert attempt.status == "in_progress"


def test_anonymous_is_sent_to_the_login(client, attempt):
    response = client.get(reverse(RESET, args=[attempt.pk]))
    assert response.status_code == 302 and reverse("wagtailadmin_login") in response["Location"]


@pytest.mark.parametrize("role", ["hr", "superuser"])
def test_hr_lists_filters_and_searches(client, chain, attempt, scorm2004_course, role):
    other = services.launch_package(user=chain["other_agent"].user, step=scorm2004_course["step"])
    client.force_login(users(chain)[role])
    response = client.get(reverse(INDEX))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Tentatives de modules" in html and chain["agent"].full_name in html and chain["other_agent"].full_name in html
    assert reverse(RESET, args=[attempt.pk]) in html and "40 %" in html  # the score so far
    course_id = scorm2004_course["course"].pk
    filtered = client.get(reverse(INDEX), {"course": course_id}).content.decode()
    assert chain["other_agent"].full_name in filtered and chain["agent"].full_name not in filtered
    searched = client.get(reverse(INDEX), {"q": chain["agent"].employee_number}).content.decode()
    assert reverse(RESET, args=[attempt.pk]) in searched and reverse(RESET, args=[other.pk]) not in searched


def test_list_query_count_does_not_grow(client, chain, scorm12_course):
    client.force_login(chain["hr"].user)
    step = scorm12_course["step"]
    services.launch_package(user=chain["agent"].user, step=step)
    client.get(reverse(INDEX))
    with CaptureQueriesContext(connection) as few:
        assert client.get(reverse(INDEX)).status_code == 200
    for _n in range(5):
        agent = AgentFactory()
        services.launch_package(user=agent.user, step=step)
    with CaptureQueriesContext(connection) as many:
        assert client.get(reverse(INDEX)).status_code == 200
    assert len(many) == len(few)


def test_confirmation_page_then_reset(client, chain, attempt, scorm12_course):
    client.force_login(chain["hr"].user)
    page = client.get(reverse(RESET, args=[attempt.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert chain["agent"].full_name in html and scorm12_course["step"].title in html
    assert "nouvelle tentative" in html and 'method="post"' in html and "Oui, réinitialiser" in html
    attempt.refresh_from_db()
    assert attempt.status == "in_progress"  # GET changes nothing
    response = client.post(reverse(RESET, args=[attempt.pk]), follow=True)
    assert response.status_code == 200 and "réinitialisée" in response.content.decode()
    attempt.refresh_from_db()
    assert attempt.status == "reset" and attempt.reset_by == chain["hr"].user
    assert ModelLogEntry.objects.filter(action="learning.package_attempt_reset", object_id=str(attempt.pk)).count() == 1
    # The row has no reset link any more, and a second reset is refused with a message.
    assert reverse(RESET, args=[attempt.pk]) not in client.get(reverse(INDEX)).content.decode()
    again = client.post(reverse(RESET, args=[attempt.pk]), follow=True)
    assert "déjà réinitialisée" in again.content.decode()
    assert ModelLogEntry.objects.filter(action="learning.package_attempt_reset").count() == 1
    fresh = services.launch_package(user=chain["agent"].user, step=scorm12_course["step"])
    assert fresh.number == 2 and PackageAttempt.objects.count() == 2


def test_unknown_attempt_is_404(client, chain, db):
    client.force_login(chain["hr"].user)
    assert client.get(reverse(RESET, args=[987654])).status_code == 404
