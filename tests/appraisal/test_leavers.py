"""Issue 14, item 2: leavers' open appraisals are flagged for HR. An agent made inactive (CSV
``active=0``, SCIM ``active=false``/``DELETE``, the admin) has their open appraisals flagged on
the HR pages (count, filter « Agents partis », badge), and HR is told once by e-mail; a
reactivated agent is no longer flagged."""

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from appraisal import hr_views, leavers, services
from appraisal.choices import AppraisalState as S
from appraisal.models import Appraisal
from cms import services as directory
from cms.importer import COLUMNS, import_agents
from cms.models import Agent, ReminderLog
from provisioning import tokens
from tests.appraisal.factories import put_in
from tests.factories import AgentFactory

pytestmark = pytest.mark.django_db
LIST = reverse("appraisal_hr:appraisals")


def csv_for(*agents, active="1", **values):
    """A CSV import of ``agents`` as they are, with ``active`` (and other columns) set."""
    columns = [c for c in COLUMNS if c in {"employee_number", "first_name", "last_name", "email", "org_unit_code"}]
    columns += [c for c in values if c not in columns] + ["active"]
    lines = [",".join(columns)]
    for agent in agents:
        cells = {
            "employee_number": agent.employee_number,
            "first_name": agent.user.first_name,
            "last_name": agent.user.last_name,
            "email": agent.user.email,
            "org_unit_code": agent.org_unit.code,
            "active": active,
            **values,
        }
        lines.append(",".join(str(cells[c]) for c in columns))
    return ("\n".join(lines) + "\n").encode()


def run_import(data, capture):
    with capture(execute=True):
        report = import_agents(file=data)
    assert not report.errors, report.errors
    return report


def leaver_mails():
    return [m for m in mail.outbox if m.subject.startswith("Agents partis")]


def flagged_ids():
    return set(Appraisal.objects.filter(leavers.flagged()).values_list("pk", flat=True))


def logged_ids():
    return set(ReminderLog.objects.filter(kind=leavers.LOG_KIND).values_list("object_id", flat=True))


def rows_of(response):
    return [a.pk for a in response.context["rows"]]


# --- the listener: CSV import ------------------------------------------------------------------


def test_csv_deactivation_flags_open_appraisals_and_tells_hr_once(chain, appraisal, django_capture_on_commit_callbacks):
    agent = chain["agent"]
    run_import(csv_for(agent, active="0"), django_capture_on_commit_callbacks)
    assert flagged_ids() == {appraisal.pk} == logged_ids()
    sent = leaver_mails()
    assert len(sent) == 1 and sent[0].to == [chain["hr"].user.email]
    assert agent.full_name in sent[0].body and agent.employee_number in sent[0].body
    assert reverse("appraisal:detail", kwargs={"pk": appraisal.pk}) in sent[0].body
    assert f"{LIST}?partis=on" in sent[0].body
    assert sent[0].subject == "Agents partis : 1 entretien professionnel en cours à traiter"

    # The same file again: the agent is unchanged, nothing is sent.
    mail.outbox.clear()
    report = run_import(csv_for(agent, active="0"), django_capture_on_commit_callbacks)
    assert report.agents_unchanged == 1 and leaver_mails() == []
    # A change to the leaver's other data calls the listener again: still nothing sent.
    run_import(csv_for(agent, active="0", job_title="Parti"), django_capture_on_commit_callbacks)
    assert Agent.objects.get(pk=agent.pk).job_title == "Parti"
    assert leaver_mails() == [] and logged_ids() == {appraisal.pk}


def test_reactivation_unflags_and_leaving_again_is_told_again(chain, appraisal, django_capture_on_commit_callbacks):
    agent = chain["agent"]
    run_import(csv_for(agent, active="0"), django_capture_on_commit_callbacks)
    run_import(csv_for(agent, active="1"), django_capture_on_commit_callbacks)
    assert flagged_ids() == set() == logged_ids()
    mail.outbox.clear()
    run_import(csv_for(agent, active="0"), django_capture_on_commit_callbacks)
    assert len(leaver_mails()) == 1 and logged_ids() == {appraisal.pk}


def test_closed_appraisals_are_not_flagged(chain, appraisal, django_capture_on_commit_callbacks):
    for state in (S.FINAL, S.CANCELLED):
        put_in(appraisal, state)
        run_import(csv_for(chain["agent"], active="0"), django_capture_on_commit_callbacks)
        assert flagged_ids() == set() == logged_ids() and leaver_mails() == []
        run_import(csv_for(chain["agent"], active="1"), django_capture_on_commit_callbacks)


def test_one_message_per_hr_member_listing_every_leaver(chain, org, campaign, django_capture_on_commit_callbacks):
    second_hr = AgentFactory(user__username="hr2", user__groups=["HR"], org_unit=org["direction"])
    AgentFactory(user__username="hr3", user__groups=["HR"], user__email="", org_unit=org["direction"])  # no address
    leaving = [chain["agent"], chain["other_agent"]]
    run_import(csv_for(*leaving, active="0"), django_capture_on_commit_callbacks)
    sent = leaver_mails()
    assert sorted(m.to[0] for m in sent) == sorted([chain["hr"].user.email, second_hr.user.email])
    assert all(len(m.to) == 1 for m in sent)  # HR members do not see each other's address
    assert sent[0].subject == "Agents partis : 2 entretiens professionnels en cours à traiter"
    assert all(a.employee_number in sent[0].body for a in leaving)


def test_nobody_to_tell_claims_nothing_and_the_catch_up_tells_later(
    chain, appraisal, django_capture_on_commit_callbacks
):
    chain["hr"].user.groups.clear()
    run_import(csv_for(chain["agent"], active="0"), django_capture_on_commit_callbacks)
    assert flagged_ids() == {appraisal.pk} and logged_ids() == set() and leaver_mails() == []
    chain["hr"].user.groups.add(Group.objects.get(name="HR"))
    with django_capture_on_commit_callbacks(execute=True):
        assert leavers.notify_pending() == [appraisal.pk]
    assert len(leaver_mails()) == 1 and logged_ids() == {appraisal.pk}


def test_a_refused_message_gives_the_keys_back(chain, appraisal, django_capture_on_commit_callbacks, monkeypatch):
    from django.core.mail.backends.locmem import EmailBackend

    monkeypatch.setattr(EmailBackend, "send_messages", lambda self, messages: 0)
    run_import(csv_for(chain["agent"], active="0"), django_capture_on_commit_callbacks)
    assert flagged_ids() == {appraisal.pk} and logged_ids() == set()
    monkeypatch.undo()
    with django_capture_on_commit_callbacks(execute=True):
        assert leavers.notify_pending() == [appraisal.pk]
    assert len(leaver_mails()) == 1


def test_a_rolled_back_import_tells_nobody(chain, appraisal, django_capture_on_commit_callbacks):
    from cms.importer import register_import_listener, unregister_import_listener

    def fail(created, updated):
        raise RuntimeError("listener after ours")

    register_import_listener(fail)
    try:
        with pytest.raises(RuntimeError), django_capture_on_commit_callbacks(execute=True):
            import_agents(file=csv_for(chain["agent"], active="0"))
    finally:
        unregister_import_listener(fail)
    assert Agent.objects.get(pk=chain["agent"].pk).active
    assert logged_ids() == set() and leaver_mails() == []


# --- the other paths: set_agent_active (admin, SCIM DELETE), SCIM PATCH ----------------------------


def test_set_agent_active_flags_at_once_and_the_catch_up_tells_hr(chain, appraisal, django_capture_on_commit_callbacks):
    directory.set_agent_active(agent=chain["agent"], active=False)
    assert flagged_ids() == {appraisal.pk}  # computed: visible to HR at once
    with django_capture_on_commit_callbacks(execute=True):
        assert leavers.notify_pending() == [appraisal.pk]
        assert leavers.notify_pending() == []  # idempotent
    assert len(leaver_mails()) == 1
    # Reactivated in the admin: no longer flagged; the catch-up forgets it, so leaving again is told.
    directory.set_agent_active(agent=chain["agent"], active=True)
    assert flagged_ids() == set()
    with django_capture_on_commit_callbacks(execute=True):
        assert leavers.notify_pending() == []
    assert logged_ids() == set()


def test_scim_delete_and_patch_run_the_listener(client, chain, appraisal, django_capture_on_commit_callbacks):
    _token, secret = tokens.create_token(name="Entra ID")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.delete(f"/scim/v2/Users/{chain['agent'].pk}", **auth)
    assert response.status_code == 204
    assert logged_ids() == {appraisal.pk} and len(leaver_mails()) == 1
    # Reactivated by a PATCH: released; deactivated again by a PATCH: told again.
    patch = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"]}
    for active in (True, False):
        body = {**patch, "Operations": [{"op": "replace", "path": "active", "value": active}]}
        with django_capture_on_commit_callbacks(execute=True):
            response = client.patch(
                f"/scim/v2/Users/{chain['agent'].pk}", data=body, content_type="application/scim+json", **auth
            )
        assert response.status_code == 200, response.content
        assert logged_ids() == (set() if active else {appraisal.pk})
    assert len(leaver_mails()) == 2


# --- the HR pages -----------------------------------------------------------------------------------


def test_hr_sees_the_count_the_filter_and_the_badge(client, chain, campaign, appraisal):
    directory.set_agent_active(agent=chain["agent"], active=False)
    client.force_login(chain["hr"].user)
    everything = client.get(LIST, {"campagne": campaign.pk})
    assert len(rows_of(everything)) > 1
    body = everything.content.decode()
    assert "1 entretien en cours concerne un agent parti" in body
    assert f"{LIST}?campagne={campaign.pk}&amp;partis=on" in body
    assert body.count('class="state state-revision state-leaver"') == 1
    only = client.get(LIST, {"campagne": campaign.pk, "partis": "on"})
    assert rows_of(only) == [appraisal.pk]
    assert 'id="id_partis"' in only.content.decode() and "Agents partis" in only.content.decode()

    dashboard = client.get(reverse("appraisal_hr:dashboard", args=[campaign.pk])).content.decode()
    assert "1 entretien en cours d'un agent parti." in dashboard
    assert f"{LIST}?campagne={campaign.pk}&amp;partis=on" in dashboard
    index = client.get(reverse("appraisal_hr:index"))
    assert {c.pk: c.leaver_count for c in index.context["campaigns"]} == {campaign.pk: 1}

    directory.set_agent_active(agent=chain["agent"], active=True)  # reactivated: no longer flagged
    assert rows_of(client.get(LIST, {"partis": "on"})) == []
    assert "state-leaver" not in client.get(LIST).content.decode()


@pytest.mark.parametrize("who", ["agent", "manager", "reviewer"])
def test_other_roles_do_not_see_the_hr_pages(client, chain, campaign, appraisal, who):
    directory.set_agent_active(agent=chain["other_agent"], active=False)
    client.force_login(chain[who].user)
    assert client.get(LIST, {"partis": "on"}).status_code == 403
    assert client.get(reverse("appraisal_hr:dashboard", args=[campaign.pk])).status_code == 403
    assert client.get(reverse("appraisal_hr:index")).status_code == 403


def test_hr_list_of_leavers_runs_a_fixed_number_of_queries(client, chain, org, campaign, monkeypatch):
    monkeypatch.setattr(hr_views, "APPRAISALS_PAGE_SIZE", 5)
    client.force_login(chain["hr"].user)

    def grow_and_measure(n):
        for _ in range(n):
            AgentFactory(org_unit=org["bureau"], manager=chain["manager"])
        services.launch_campaign(campaign_id=campaign.pk)
        Agent.objects.filter(manager=chain["manager"]).exclude(pk=chain["agent"].pk).update(active=False)
        client.get(LIST)  # the session and the caches of the first request of a login
        with CaptureQueriesContext(connection) as queries:
            response = client.get(LIST, {"campagne": campaign.pk, "partis": "on"})
        assert response.status_code == 200
        return len(queries), len(response.context["rows"]), response.context["leaver_total"]

    small = grow_and_measure(2)
    large = grow_and_measure(8)
    assert small[1:] == (2, 2) and large[1:] == (5, 10)
    assert small[0] == large[0]
    for page in (None, 2):  # the unfiltered list counts the leavers with one more query, also constant
        with CaptureQueriesContext(connection) as first:
            client.get(LIST, {"campagne": campaign.pk, "page": page or 1})
        assert len(first) == small[0] + 1


def test_listener_queries_do_not_grow_with_the_number_of_leavers(chain, org, campaign):
    def measure(n):
        agents = [AgentFactory(org_unit=org["bureau"], manager=chain["manager"]) for _ in range(n)]
        services.launch_campaign(campaign_id=campaign.pk)
        Agent.objects.filter(pk__in=[a.pk for a in agents]).update(active=False)
        with CaptureQueriesContext(connection) as queries:
            assert len(leavers.flag_leavers([a.pk for a in agents])) == n
        return len(queries)

    assert measure(2) == measure(12)
