"""The sign-in audit in the Wagtail admin (HR only, filters, constant queries) and the
local accounts (superusers only)."""

from datetime import timedelta

import pytest
from django.contrib.auth import authenticate
from django.db import connection
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from identity.audit import record_sign_in
from identity.models import LocalAccount, SignInEvent
from tests.factories import AgentFactory, UserFactory

pytestmark = pytest.mark.django_db

AUDIT = "/admin/connexions/"
LOCAL = "/admin/comptes-locaux/"


def browser_for(user):
    client = Client()
    client.force_login(user)
    return client


def listed(response):
    return [event.pk for event in response.context["object_list"]]


@pytest.fixture
def hr():
    return UserFactory(username="rh", groups=["HR"])


@pytest.fixture
def hr_browser(hr):
    return browser_for(hr)


@pytest.fixture
def events(hr_browser):
    SignInEvent.objects.all().delete()  # the signing in of the test browsers
    agent = AgentFactory(user__username="agent").user
    now = timezone.now()
    rows = [
        record_sign_in(user=agent, method="password", success=True, ip="192.0.2.1"),
        record_sign_in(username="M999", method="oidc", success=False, ip="192.0.2.2", reason="unknown_agent"),
        record_sign_in(user=agent, method="oidc", success=True, ip="2001:db8::1"),
    ]
    SignInEvent.objects.filter(pk=rows[0].pk).update(at=now - timedelta(days=10))
    return rows


def role_user(role):
    if role == "manager":
        manager = AgentFactory(user__username="manager")
        AgentFactory(manager=manager)
        return manager.user
    if role == "superuser":
        return UserFactory(username="root", is_superuser=True, is_staff=True)
    groups = {"HR": ["HR"], "editor": ["Training editors"], "recruiter": ["Recruiters"], "agent": []}[role]
    return AgentFactory(user__username=f"u-{role}", user__groups=groups).user


@pytest.mark.parametrize(
    ("role", "audit", "local"),
    [
        ("HR", True, False),
        ("superuser", True, True),
        ("editor", False, False),
        ("recruiter", False, False),
        ("manager", False, False),
        ("agent", False, False),
    ],
)
def test_permission_matrix(role, audit, local, events):
    browser = browser_for(role_user(role))
    for url, allowed in ((AUDIT, audit), (LOCAL, local), (LOCAL + "new/", local)):
        status = browser.get(url).status_code
        assert (status == 200) is allowed, (url, status)
        if not allowed:
            assert status in (302, 403)
    assert Client().get(AUDIT).status_code == 302


def test_hr_reads_every_attempt_with_its_reason(hr_browser, events):
    response = hr_browser.get(AUDIT)
    page = response.content.decode()
    assert sorted(listed(response)) == sorted(e.pk for e in events)
    assert "Aucun agent ne correspond" in page
    assert "2001:db8::1" in page and "M999" in page


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"method": "oidc"}, [1, 2]),
        ({"method": "password"}, [0]),
        ({"success": "false"}, [1]),
        ({"success": "true", "method": "oidc"}, [2]),
        ({"q": "M999"}, [1]),
    ],
)
def test_filters(hr_browser, events, params, expected):
    response = hr_browser.get(AUDIT, params)
    assert sorted(listed(response)) == sorted(events[i].pk for i in expected)


def test_date_filter_takes_whole_days(hr_browser, events):
    today = timezone.localdate()
    response = hr_browser.get(AUDIT, {"at_from": today.isoformat(), "at_to": today.isoformat()})
    assert sorted(listed(response)) == sorted([events[1].pk, events[2].pk])
    old = timezone.localdate(timezone.now() - timedelta(days=10))
    response = hr_browser.get(AUDIT, {"at_to": old.isoformat()})
    assert listed(response) == [events[0].pk]


def test_hostile_filter_values_never_fail(hr_browser, events):
    response = hr_browser.get(AUDIT, {"at_from": "pas une date", "method": "fax"})
    assert response.status_code == 200
    assert hr_browser.get(AUDIT, {"p": "99999999999999999999"}).status_code in (200, 404)


def test_the_audit_list_runs_constant_queries(hr):
    browser = browser_for(hr)
    browser.get(AUDIT)
    counts = []
    for size in (3, 40):
        users = [UserFactory() for _ in range(size)]
        for user in users:
            record_sign_in(user=user, method="password", success=True, ip="192.0.2.9")
        with CaptureQueriesContext(connection) as queries:
            assert browser.get(AUDIT).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_superusers_flag_and_unflag_local_accounts(settings):
    settings.LOCAL_LOGIN = "staff"
    root = UserFactory(username="root", is_superuser=True, is_staff=True)
    target = UserFactory(username="secours")
    browser = browser_for(root)

    response = browser.post(LOCAL + "new/", {"username": "inconnu", "reason": "x"})
    assert response.status_code == 200 and "Aucun compte n" in response.content.decode()
    assert not LocalAccount.objects.exists()

    response = browser.post(LOCAL + "new/", {"username": "secours", "reason": "Compte de secours"})
    assert response.status_code == 302
    account = LocalAccount.objects.get(user=target)
    assert account.reason == "Compte de secours"
    request = RequestFactory().post("/")
    assert authenticate(request, username="secours", password="correct horse battery staple") == target
    assert browser.post(LOCAL + "new/", {"username": "secours"}).status_code == 200  # already local
    assert LocalAccount.objects.count() == 1

    assert browser.post(f"{LOCAL}delete/{account.pk}/").status_code == 302
    assert not LocalAccount.objects.exists()


def test_hr_cannot_flag_local_accounts(hr):
    target = UserFactory(username="secours")
    response = browser_for(hr).post(LOCAL + "new/", {"username": "secours", "reason": "x"})
    assert response.status_code in (302, 403)
    assert not LocalAccount.objects.filter(user=target).exists()
