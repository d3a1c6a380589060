"""Issue 13, item 13: HR finds any appraisal (search by name or matricule; filters campaign,
state, unit subtree, late), paginated with a fixed number of queries, each row linking to the
appraisal's page where HR's actions are offered; the dashboard's late list links there too."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from appraisal import hr_views, services
from appraisal.choices import AppraisalState as S
from appraisal.choices import RevisionState as R
from appraisal.models import Appraisal
from tests.appraisal.conftest import make_campaign
from tests.appraisal.factories import put_in
from tests.factories import AgentFactory

pytestmark = pytest.mark.django_db
LIST = reverse("appraisal_hr:appraisals")


def rows_of(response):
    return list(response.context["rows"])


@pytest.mark.parametrize(
    "who, status",
    [("hr", 200), ("agent", 403), ("manager", 403), ("reviewer", 403), ("other_agent", 403), ("anonymous", 302)],
)
def test_permission_matrix(client, chain, appraisal, who, status):
    if who != "anonymous":
        client.force_login(chain[who].user)
    response = client.get(LIST)
    assert response.status_code == status
    if status == 302:
        assert response["Location"].startswith(reverse("login"))
    body = response.content.decode()
    assert ('id="appraisals-caption"' in body) == (status == 200)


def test_search_by_name_and_matricule_and_link_to_the_page(client, chain, appraisal):
    client.force_login(chain["hr"].user)
    agent = chain["agent"]
    # Generated names and matricules may share a surname or a prefix with another agent of
    # the fixture: every row must match, and the agent's appraisal must be among them.
    by_name = rows_of(client.get(LIST, {"q": agent.user.last_name.upper()}))
    assert appraisal.pk in [a.pk for a in by_name]
    assert all(agent.user.last_name.lower() in a.agent.user.last_name.lower() for a in by_name)
    by_number = rows_of(client.get(LIST, {"q": agent.employee_number}))
    assert appraisal.pk in [a.pk for a in by_number]
    assert all(a.agent.employee_number.startswith(agent.employee_number) for a in by_number)
    both = rows_of(client.get(LIST, {"q": f"{agent.user.first_name} {agent.user.last_name}"}))
    assert appraisal.pk in [a.pk for a in both]
    assert all(a.agent.user.first_name == agent.user.first_name for a in both)
    assert rows_of(client.get(LIST, {"q": "zzzz-nobody"})) == []
    body = client.get(LIST, {"q": agent.employee_number}).content.decode()
    assert f'href="{reverse("appraisal:detail", kwargs={"pk": appraisal.pk})}"' in body


def test_filters_campaign_state_unit_subtree_and_late(client, chain, org, campaign, appraisal):
    client.force_login(chain["hr"].user)
    put_in(appraisal, S.HELD, held_at=timezone.now() - datetime.timedelta(days=40))  # past the 15 days
    other = make_campaign(org, year=campaign.year - 1, launched=True)
    everything = rows_of(client.get(LIST))
    assert len(everything) == Appraisal.objects.count() == 6
    assert {a.campaign_id for a in rows_of(client.get(LIST, {"campagne": other.pk}))} == {other.pk}
    assert [a.pk for a in rows_of(client.get(LIST, {"etat": S.HELD}))] == [appraisal.pk]
    in_service = rows_of(client.get(LIST, {"unite": org["service"].code, "campagne": campaign.pk}))
    assert {a.agent_id for a in in_service} == {chain["agent"].pk, chain["manager"].pk}  # bureau included
    late = rows_of(client.get(LIST, {"retard": "on", "campagne": campaign.pk}))
    assert [a.pk for a in late] == [appraisal.pk]
    assert appraisal.pk in [a.pk for a in rows_of(client.get(LIST, {"retard": "on"}))]


def test_unknown_filter_values_are_named_errors(client, chain, appraisal):
    client.force_login(chain["hr"].user)
    response = client.get(LIST, {"unite": "NOPE", "etat": "lost"})
    assert response.status_code == 400
    body = response.content.decode()
    assert "Le formulaire contient des erreurs" in body and "Aucune unité ne porte ce code." in body
    assert 'href="#id_unite"' in body and 'href="#id_etat"' in body


def test_paginated_with_a_fixed_number_of_queries(client, chain, org, campaign, monkeypatch):
    monkeypatch.setattr(hr_views, "APPRAISALS_PAGE_SIZE", 5)
    client.force_login(chain["hr"].user)

    def measure():
        client.get(LIST)  # the session and the caches of the first request of a login
        with CaptureQueriesContext(connection) as queries:
            response = client.get(LIST, {"campagne": campaign.pk, "retard": "on", "q": ""})
        assert response.status_code == 200
        return len(queries), len(response.context["rows"])

    for _ in range(2):
        AgentFactory(org_unit=org["bureau"], manager=chain["manager"])
    services.launch_campaign(campaign_id=campaign.pk)
    Appraisal.objects.filter(campaign=campaign).update(state=S.HELD, held_at=timezone.now() - datetime.timedelta(days=40))
    small, shown_small = measure()
    for _ in range(8):
        AgentFactory(org_unit=org["bureau"], manager=chain["manager"])
    services.launch_campaign(campaign_id=campaign.pk)
    Appraisal.objects.filter(campaign=campaign).update(state=S.HELD, held_at=timezone.now() - datetime.timedelta(days=40))
    large, shown_large = measure()
    assert (shown_small, shown_large) == (5, 5) and small == large
    body = client.get(LIST, {"campagne": campaign.pk, "page": 2}).content.decode()
    assert "Page 2 sur" in body


@pytest.mark.parametrize(
    "state, revision, actions",
    [
        (S.NOTIFIED, R.NONE, ["record_refusal", "cancel"]),
        (S.CONVOKED, R.NONE, ["cancel", "delegate"]),
        (S.FINAL, R.REJECTED, ["refer_cap"]),
    ],
)
def test_hr_actions_are_offered_on_the_appraisal_page(client, chain, appraisal, state, revision, actions):
    put_in(appraisal, state, revision_state=revision)
    client.force_login(chain["hr"].user)
    body = client.get(reverse("appraisal:detail", kwargs={"pk": appraisal.pk})).content.decode()
    for name in actions:
        assert f'action="{reverse("appraisal:action", kwargs={"pk": appraisal.pk, "action": name})}"' in body
    assert f'href="{LIST}"' in body  # the breadcrumb leads back to the HR list


def test_dashboard_late_list_links_to_the_appraisals(client, chain, org):
    today = timezone.localdate()
    late = make_campaign(org, starts_on=today - datetime.timedelta(days=30),
                         interviews_until=today + datetime.timedelta(days=5),
                         ends_on=today + datetime.timedelta(days=60), launched=True)  # fmt: skip
    client.force_login(chain["hr"].user)
    body = client.get(reverse("appraisal_hr:dashboard", args=[late.pk])).content.decode()
    for appraisal in Appraisal.objects.filter(campaign=late, state=S.CREATED):
        assert f'href="{reverse("appraisal:detail", kwargs={"pk": appraisal.pk})}"' in body
    assert f"{LIST}?campagne={late.pk}&amp;retard=on" in body
    index = client.get(reverse("appraisal_hr:index")).content.decode()
    assert f'href="{LIST}"' in index


def test_search_ignores_accents_both_ways_with_a_fixed_number_of_queries(client, chain, appraisal):
    """« lefevre » finds « Lefèvre » and « Lefèvre » finds « Lefevre »; « helene » finds
    « Hélène », « oeuvray » finds « Œuvray »: SQLite through the Python ``unaccent`` registered
    on the connection, PostgreSQL through its ``unaccent`` extension."""
    client.force_login(chain["hr"].user)
    agent = chain["agent"]
    agent.user.first_name, agent.user.last_name = "Hélène", "Lefèvre"
    agent.user.save(update_fields=["first_name", "last_name"])
    twin = Appraisal.objects.filter(campaign=appraisal.campaign).exclude(pk=appraisal.pk).select_related("agent__user")[0]
    twin.agent.user.first_name, twin.agent.user.last_name = "Zoé", "Œuvray-Lefevre"
    twin.agent.user.save(update_fields=["first_name", "last_name"])

    def found(q):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(LIST, {"q": q})
        return {a.pk for a in rows_of(response)}, len(queries)

    client.get(LIST)  # the session and the caches of the first request of a login
    plain, count = found("lefevre")
    assert plain == {appraisal.pk, twin.pk}
    assert found("LEFÈVRE")[0] == {appraisal.pk, twin.pk}
    assert found("helene lefevre")[0] == {appraisal.pk}
    assert found("oeuvray")[0] == {twin.pk} and found("ŒUVRAY zoe")[0] == {twin.pk}
    assert found("lefebvre")[0] == set()
    assert found("hélène LEFEVRE lèf É")[1] == count  # one query per page, whatever the words and rows
