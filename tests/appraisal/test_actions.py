"""The actions of the entretien professionnel (appraisal/actions.py), one by one: each
transition allowed to its actor at its moment and refused otherwise (wrong state →
Conflict, wrong actor → PermissionDenied), its audit row, its notification dispatched after
commit only (none on rollback, none with ``notify=False``), ``log=False``; the state after
each action is the one the table declares; and, on PostgreSQL, two simultaneous visas."""

import threading

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, connections, transaction
from django.utils import timezone

from appraisal import notifications
from appraisal.actions import ACTIONS, USER_ACTIONS, allowed_actions, expire_revision_requests
from appraisal.choices import AppraisalState as S
from appraisal.choices import RevisionState as R
from appraisal.models import Appraisal, AppraisalTransition
from appraisal.workflow import TABLE
from cms.exceptions import Conflict
from tests.appraisal.factories import act, days, put_in

pytestmark = pytest.mark.django_db

# name → (state, revision state, who acts, parameters, notification event). "answer_revision"
# appears twice (its two declared transitions); None as the actor: the system.
CASES = {
    "convoke": (S.CREATED, R.NONE, "manager", lambda c: {"interview_at": (timezone.now() + days(10)).isoformat(),
                                                        "place": "Salle 12"}, "convocation"),
    "hold": (S.CONVOKED, R.NONE, "manager", lambda c: {}, None),
    "notify": (S.HELD, R.NONE, "manager", lambda c: {}, "notification"),
    "acknowledge": (S.NOTIFIED, R.NONE, "agent", lambda c: {"observations": "Merci pour cet échange."}, "acknowledged"),
    "record_refusal": (S.NOTIFIED, R.NONE, "hr", lambda c: {"reason": "Refus de signer"}, None),
    "visa": (S.ACKNOWLEDGED, R.NONE, "reviewer", lambda c: {}, "final"),
    "cancel": (S.CREATED, R.NONE, "hr", lambda c: {"reason": "Départ de l'agent"}, None),
    "delegate": (S.CREATED, R.NONE, "hr", lambda c: {"evaluator": c["other_manager"].employee_number,
                                                     "reason": "Congé long"}, "delegation"),
    "request_revision": (S.NOTIFIED, R.NONE, "agent", lambda c: {"reason": "Appréciation injuste"},
                         "revision_requested"),
    "answer_revision:accept": (S.NOTIFIED, R.REQUESTED, "reviewer", lambda c: {"decision": "accept", "reason": "Fondé"},
                               "revision_accepted"),
    "answer_revision:reject": (S.FINAL, R.REQUESTED, "reviewer", lambda c: {"decision": "reject", "reason": "Non fondé"},
                               "revision_rejected"),
    "implicit_rejection": (S.ACKNOWLEDGED, R.REQUESTED, None, lambda c: {}, None),
    "refer_cap": (S.ACKNOWLEDGED, R.REJECTED, "agent", lambda c: {"reason": "Saisine de la CAP"}, None),
    "record_cap_opinion": (S.ACKNOWLEDGED, R.CAP_REFERRED, "hr", lambda c: {"opinion": "Avis favorable"}, None),
}  # fmt: skip


def name_of(case):
    return case.split(":")[0]


def prepare(appraisal, chain, case):
    """The appraisal at the moment of ``case``; returns (action name, user, params, event)."""
    state, revision, who, params, event = CASES[case]
    extra = {}
    if case == "implicit_rejection":  # the answer period is over
        extra["revision_requested_at"] = timezone.now() - days(20)
    put_in(appraisal, state, revision_state=revision, **extra)
    user = chain[who].user if who else None
    return name_of(case), user, params(chain), event


@pytest.fixture
def dispatched(monkeypatch):
    sent = []
    monkeypatch.setattr(notifications, "dispatch", lambda mails, pk: sent.append((mails[0][0], pk)))
    return sent


def test_every_declared_transition_has_its_action_and_every_user_action_its_form():
    assert set(ACTIONS) == set(TABLE.names)
    assert set(USER_ACTIONS) == set(ACTIONS) - {"implicit_rejection"}
    assert {name_of(case) for case in CASES} == set(ACTIONS)
    for cls in ACTIONS.values():
        assert cls.label and cls.done_message
        assert cls.button or cls.system_allowed


@pytest.mark.parametrize("case", list(CASES))
def test_allowed_writes_the_audit_row_and_notifies_after_commit(
    appraisal, chain, case, dispatched, django_capture_on_commit_callbacks
):
    name, user, params, event = prepare(appraisal, chain, case)
    before = Appraisal.objects.get(pk=appraisal.pk)
    if user is not None:
        assert name in allowed_actions(user, before)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        done = act(appraisal, name, user, **params)
        assert dispatched == []  # nothing leaves before commit
    row = AppraisalTransition.objects.get(appraisal=appraisal)
    assert (row.action, row.from_state, row.to_state, row.actor) == (name, before.state, done.state, user)
    assert row.version == done.version
    for callback in callbacks:
        callback()
    assert dispatched == ([(event, appraisal.pk)] if event else [])


@pytest.mark.parametrize("case", list(CASES))
def test_the_state_after_each_action_is_the_one_the_table_declares(appraisal, chain, case):
    name, user, params, _event = prepare(appraisal, chain, case)
    before = Appraisal.objects.get(pk=appraisal.pk)
    candidates = [t for t in TABLE.named(name) if t.applies_to(before.state, before.revision_state)]
    assert candidates, case
    done = act(appraisal, name, user, **params)
    declared = [t.target or before.state for t in candidates]
    if name == "answer_revision":  # two transitions: accepted → held, rejected → unchanged
        assert declared == [S.HELD, before.state]
        expected = S.HELD if params["decision"] == "accept" else before.state
    else:
        assert len(declared) == 1
        expected = declared[0]
    assert done.state == expected == Appraisal.objects.get(pk=appraisal.pk).state


@pytest.mark.parametrize("case", list(CASES))
def test_wrong_state_is_a_conflict(appraisal, chain, case):
    name, user, params, _event = prepare(appraisal, chain, case)
    put_in(appraisal, S.CANCELLED, cancelled_reason="Départ")
    with pytest.raises(Conflict, match="Annulé"):
        act(appraisal, name, user, **params)
    assert not AppraisalTransition.objects.exists()


@pytest.mark.parametrize("case", list(CASES))
def test_wrong_actor_is_permission_denied(appraisal, chain, case):
    name, _user, params, _event = prepare(appraisal, chain, case)
    with pytest.raises(PermissionDenied):
        act(appraisal, name, chain["other_manager"].user, **params)
    assert Appraisal.objects.get(pk=appraisal.pk).state == CASES[case][0]
    assert not AppraisalTransition.objects.exists()


@pytest.mark.parametrize("case", [c for c in CASES if CASES[c][2] is not None])
def test_the_system_runs_only_the_implicit_rejection(appraisal, chain, case):
    name, _user, params, _event = prepare(appraisal, chain, case)
    with pytest.raises(PermissionDenied):
        act(appraisal, name, None, **params)


def test_a_revision_in_the_wrong_sub_state_says_so(appraisal, chain):
    put_in(appraisal, S.ACKNOWLEDGED)
    with pytest.raises(Conflict, match="la révision est à l'état « Aucune »"):
        act(appraisal, "answer_revision", chain["reviewer"].user, decision="reject", reason="Non fondé")


def test_log_false_writes_no_audit_row(appraisal, chain):
    done = act(appraisal, "cancel", chain["hr"].user, log=False, reason="Départ de l'agent")
    assert done.state == S.CANCELLED and not AppraisalTransition.objects.exists()


def test_notify_false_dispatches_nothing(appraisal, chain, dispatched, django_capture_on_commit_callbacks):
    name, user, params, _event = prepare(appraisal, chain, "visa")
    with django_capture_on_commit_callbacks(execute=True):
        act(appraisal, name, user, notify=False, **params)
    assert dispatched == []
    assert AppraisalTransition.objects.get().action == "visa"  # still audited


def test_nothing_is_dispatched_when_the_transaction_rolls_back(
    appraisal, chain, dispatched, django_capture_on_commit_callbacks
):
    name, user, params, _event = prepare(appraisal, chain, "visa")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            act(appraisal, name, user, **params)
            raise RuntimeError("a later step fails")
    assert callbacks == [] and dispatched == []
    assert Appraisal.objects.get(pk=appraisal.pk).state == S.ACKNOWLEDGED
    assert not AppraisalTransition.objects.exists()


def test_parameters_are_validated_naming_the_field(appraisal, chain):
    with pytest.raises(ValidationError) as error:
        act(appraisal, "convoke", chain["manager"].user, interview_at="demain")
    assert error.value.message_dict == {"interview_at": ["Indiquez la date et l'heure de l'entretien (ISO 8601)."]}
    with pytest.raises(ValidationError) as error:
        act(appraisal, "delegate", chain["manager"].user, evaluator=chain["reviewer"].employee_number)
    assert error.value.message_dict == {"reason": ["Le motif de la délégation est obligatoire."]}
    put_in(appraisal, S.NOTIFIED, revision_state=R.REQUESTED)
    with pytest.raises(ValidationError) as error:
        act(appraisal, "answer_revision", chain["reviewer"].user, decision="maybe", reason="x")
    assert error.value.message_dict == {"decision": ["Répondez « accept » ou « reject »."]}


def test_the_wrong_moment_answers_before_the_parameters(appraisal, chain):
    """A request at the wrong moment is told why (409), whatever its body."""
    with pytest.raises(Conflict, match="À convoquer"):
        act(appraisal, "visa", chain["reviewer"].user)
    put_in(appraisal, S.FINAL)
    with pytest.raises(Conflict, match="Visé"):
        act(appraisal, "cancel", chain["hr"].user)  # no reason given: still a Conflict


def test_refer_cap_by_hr_is_on_behalf_of_the_agent(appraisal, chain):
    prepare(appraisal, chain, "refer_cap")
    act(appraisal, "refer_cap", chain["hr"].user)
    assert AppraisalTransition.objects.get().on_behalf_of == chain["agent"]


def test_delegation_row_names_both_evaluators(appraisal, chain, dispatched, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        act(appraisal, "delegate", chain["hr"].user, evaluator=chain["other_manager"].employee_number, reason="Congé")
    row = AppraisalTransition.objects.get()
    assert (row.from_evaluator, row.to_evaluator) == (chain["manager"], chain["other_manager"])
    assert "Motif : Congé" in row.note and dispatched == [("delegation", appraisal.pk)]


def test_expire_revision_requests_runs_the_implicit_rejection(appraisal, chain):
    put_in(appraisal, S.FINAL, revision_state=R.REQUESTED, revision_requested_at=timezone.now() - days(3))
    assert expire_revision_requests() == 0  # the answer period is still running
    assert expire_revision_requests(now=timezone.now() + days(20)) == 1
    row = AppraisalTransition.objects.get()
    assert (row.action, row.actor, row.from_state, row.to_state) == ("implicit_rejection", None, S.FINAL, S.FINAL)
    assert Appraisal.objects.get(pk=appraisal.pk).revision_state == R.IMPLICITLY_REJECTED
    assert expire_revision_requests(now=timezone.now() + days(20)) == 0


# --- PostgreSQL: two visas at once ----------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_visas_one_wins(chain, org):
    if connection.vendor != "postgresql":
        pytest.skip("row locks are tested on PostgreSQL (set DATABASE_URL)")
    from tests.appraisal.factories import CampaignFactory

    campaign = CampaignFactory(org_units=[org["direction"]], launched=True)
    appraisal = put_in(Appraisal.objects.get(campaign=campaign, agent=chain["agent"]), S.ACKNOWLEDGED)
    barrier = threading.Barrier(2)
    outcomes = []

    def visa():
        try:
            reviewer = get_user_model().objects.get(pk=chain["reviewer"].user.pk)  # one user object per thread
            barrier.wait()
            act(appraisal.pk, "visa", reviewer, notify=False)
            outcomes.append("ok")
        except Conflict:
            outcomes.append("conflict")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=visa) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict", "ok"]
    assert AppraisalTransition.objects.filter(appraisal=appraisal, action="visa").count() == 1
    assert Appraisal.objects.get(pk=appraisal.pk).state == S.FINAL


# --- the campaign's launch ------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_campaign_launch_follows_its_table(chain, org, django_capture_on_commit_callbacks):
    from appraisal.actions import BeginLaunch, FinishLaunch, RequestLaunch
    from appraisal.choices import CampaignStatus
    from appraisal.workflow import CAMPAIGN_TABLE
    from tests.appraisal.factories import CampaignFactory

    campaign = CampaignFactory(org_units=[org["direction"]])
    assert CAMPAIGN_TABLE.targets(CampaignStatus.DRAFT) == [CampaignStatus.LAUNCHING]
    with pytest.raises(PermissionDenied):  # an agent is not HR
        RequestLaunch(campaign, user=chain["agent"].user).execute()
    with pytest.raises(Conflict, match="finish_launch"):  # not launching yet
        FinishLaunch(campaign, params={"report": {}}).execute()
    BeginLaunch(campaign).execute()
    FinishLaunch(campaign, params={"report": {"created": 0}}).execute()
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.RUNNING and campaign.launch_report == {"created": 0}
    campaign.status = CampaignStatus.CLOSED
    campaign.save(update_fields=["status"])
    with pytest.raises(Conflict, match="clôturée"):
        BeginLaunch(campaign).execute()
