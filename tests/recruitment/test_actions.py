"""The actions of recruitment over the declared table of moves (``recruitment.workflow``):
every (from, to) pair allowed or refused with a sentence, the audit row in the same
transaction, messages after commit only (none with ``notify=False``), withdrawal, bulk
rejection and undo, closing an opening (kept off the page's revisions: publishing a
revision does not reopen it), and two recruiters moving one application at once
(PostgreSQL)."""

import itertools
import re
import threading

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, connections
from django.db.migrations.executor import MigrationExecutor
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from cms.exceptions import Conflict
from recruitment import actions, interviews, services, workflow
from recruitment.choices import ApplicationStatus as S
from recruitment.choices import MessageKind, OpeningState
from recruitment.models import Application, ApplicationEvent, JobOpeningPage, OpeningStatus, Scorecard
from tests.factories import UserFactory
from tests.recruitment.factories import ApplicationFactory, JobIndexFactory, OpeningFactory

API = "/api/v1/"
ALL = list(S.values)
IN_PROGRESS = [S.RECEIVED, S.ADMISSIBILITY, S.SCREENING, S.SHORTLISTED, S.INTERVIEW, S.DECISION, S.OFFER]


def earlier(status):
    return set(IN_PROGRESS[: IN_PROGRESS.index(status)])


# The moves a recruiter may make, written out by hand (the specification the table is checked
# against). Forward: the next stage, or over the optional ones (admissibility, shortlisted,
# decision) only; back: any earlier stage; rejected from any stage in progress; offer declined
# from the offer; reopening a closed application at any stage in progress; hired is final.
# Withdrawn is the candidate's (``Withdraw``), cancelled comes from closing the opening.
ALLOWED = {
    S.RECEIVED: {S.ADMISSIBILITY, S.SCREENING, S.REJECTED},
    S.ADMISSIBILITY: {S.SCREENING, S.REJECTED} | earlier(S.ADMISSIBILITY),
    S.SCREENING: {S.SHORTLISTED, S.INTERVIEW, S.REJECTED} | earlier(S.SCREENING),
    S.SHORTLISTED: {S.INTERVIEW, S.REJECTED} | earlier(S.SHORTLISTED),
    S.INTERVIEW: {S.DECISION, S.OFFER, S.REJECTED} | earlier(S.INTERVIEW),
    S.DECISION: {S.OFFER, S.REJECTED} | earlier(S.DECISION),
    S.OFFER: {S.HIRED, S.REJECTED, S.OFFER_DECLINED} | earlier(S.OFFER),
    S.HIRED: set(),
    S.REJECTED: set(IN_PROGRESS),
    S.WITHDRAWN: set(IN_PROGRESS),
    S.OFFER_DECLINED: set(IN_PROGRESS),
    S.CANCELLED: set(IN_PROGRESS),
}
PAIRS = list(itertools.product(ALL, ALL))


def needs_reason(source, target):
    return (
        target == S.REJECTED
        or source in (S.REJECTED, S.WITHDRAWN, S.OFFER_DECLINED, S.CANCELLED)
        or (source in IN_PROGRESS and target in IN_PROGRESS and IN_PROGRESS.index(target) < IN_PROGRESS.index(source))
    )


@pytest.fixture
def recruiter(db):
    return UserFactory(username="recruteur", groups=["Recruiters"])


@pytest.fixture
def opening(recruiter):
    return OpeningFactory(recruiters=[recruiter])


def declared_move(source, target):
    transition = workflow.MOVES.between(source, target)
    return transition if transition is not None and transition.name in workflow.RECRUITER_MOVES else None


# --- the table, as data -------------------------------------------------------------------------


def test_the_table_declares_exactly_the_expected_moves():
    for source, target in PAIRS:
        transition = declared_move(source, target)
        assert (transition is not None) == (target in ALLOWED[source]), (source, target)
        if transition is not None:
            assert transition.actors == {workflow.RECRUITER, workflow.HR}
            assert transition.reason_required == needs_reason(source, target), (source, target)


def test_withdrawal_and_cancellation_are_declared_for_their_own_actions_only():
    withdraw, cancel = workflow.MOVES["withdraw"], workflow.MOVES["cancel"]
    assert withdraw.sources == set(IN_PROGRESS) and withdraw.target == S.WITHDRAWN
    assert withdraw.actors == {workflow.CANDIDATE}
    assert cancel.sources == set(IN_PROGRESS) and cancel.target == S.CANCELLED
    assert not {"withdraw", "cancel"} & workflow.RECRUITER_MOVES


def test_forward_moves_skip_optional_stages_only():
    pipeline = [*IN_PROGRESS, S.HIRED]
    for source, targets in workflow.FORWARD.items():
        for target in targets:
            skipped = pipeline[pipeline.index(source) + 1 : pipeline.index(target)]
            assert set(skipped) <= {S.ADMISSIBILITY, S.SHORTLISTED, S.DECISION}, (source, target)
    for target in (S.INTERVIEW, S.DECISION, S.OFFER, S.HIRED):
        assert declared_move(S.RECEIVED, target) is None


@pytest.mark.parametrize(("source", "target"), [p for p in PAIRS if p[1] not in ALLOWED[p[0]]])
def test_every_refused_pair_has_a_sentence(source, target):
    sentence = workflow.refusal(source, target)
    assert sentence[0].isupper() and sentence.endswith(".") and len(sentence) > 20


def test_the_move_form_offers_only_the_declared_moves():
    assert workflow.targets(S.RECEIVED) == [S.ADMISSIBILITY, S.SCREENING, S.REJECTED]
    assert workflow.targets(S.HIRED) == []
    for source in ALL:
        assert set(workflow.targets(source)) == ALLOWED[source]


def test_the_application_page_offers_the_declared_moves_only(opening, recruiter, client):
    client.force_login(recruiter)
    received = ApplicationFactory(opening=opening)
    html = client.get(reverse("recruitment_admin:application", args=[received.pk])).content.decode()
    select = re.search(r'<select name="status".*?</select>', html, re.S).group(0)
    assert re.findall(r'<option value="(\w+)"', select) == [S.ADMISSIBILITY, S.SCREENING, S.REJECTED]
    hired = ApplicationFactory(opening=opening, status=S.HIRED)
    html = client.get(reverse("recruitment_admin:application", args=[hired.pk])).content.decode()
    assert reverse("recruitment_admin:move", args=[hired.pk]) not in html


# --- every pair, through the action ---------------------------------------------------------------


@pytest.mark.parametrize("source", ALL)
def test_each_move_is_allowed_or_refused_by_the_action(opening, recruiter, source):
    """Every (source, target) pair, on a fresh application each: refused ones with the table's
    sentence and nothing written; allowed ones (with a reason where one is required) moved,
    with their audit row."""
    for target in ALL:
        check_pair(opening, recruiter, source, target)


def check_pair(opening, recruiter, source, target):
    pair = (source, target)
    application = ApplicationFactory(opening=opening, status=source)
    events = ApplicationEvent.objects.filter(application=application).count()

    def move(**params):
        return actions.Move(application.pk, user=recruiter, params={"status": target, **params}).execute()

    if target not in ALLOWED[source]:
        with pytest.raises((Conflict, ValidationError)) as refused:
            move(reason="Un motif")
        sentence = workflow.refusal(source, target, opening.stage_label)
        given = [str(refused.value)] if isinstance(refused.value, Conflict) else refused.value.messages
        assert sentence in given, pair
        application.refresh_from_db()
        assert application.status == source, pair
        assert ApplicationEvent.objects.filter(application=application).count() == events, pair
        return

    if needs_reason(source, target):
        with pytest.raises(ValidationError) as missing:
            move(reason="  ")
        assert list(missing.value.message_dict) == ["reason"], pair
        assert Application.objects.get(pk=application.pk).status == source, pair
    moved = move(reason="Un motif", note="Une note")
    assert moved.status == target, pair
    assert (moved.closed_at is not None) == (target in (S.HIRED, S.REJECTED, S.OFFER_DECLINED)), pair
    event = ApplicationEvent.objects.filter(application=application).latest("pk")
    assert (event.kind, event.from_status, event.to_status, event.actor) == ("move", source, target, recruiter), pair
    assert event.reason == "Un motif\nUne note", pair
    assert ApplicationEvent.objects.filter(application=application, kind="move").count() == events + 1, pair


def test_received_to_hired_is_refused(opening, recruiter, client):
    application = ApplicationFactory(opening=opening)
    with pytest.raises(Conflict, match="proposition"):
        actions.move(application_id=application.pk, to_status=S.HIRED, actor=recruiter, reason="Coup de cœur")
    api = APIClient()
    api.force_login(recruiter)
    response = api.post(f"{API}applications/{application.pk}/actions/move/", {"status": "hired"}, format="json")
    assert response.status_code == 409 and "Proposition" in response.json()["detail"]
    response = api.post(f"{API}applications/{application.pk}/actions/move/", {"status": "offer"}, format="json")
    assert response.status_code == 409 and "Présélection" in response.json()["detail"]
    assert Application.objects.get(pk=application.pk).status == S.RECEIVED
    assert not ApplicationEvent.objects.filter(application=application, to_status__in=["hired", "offer"]).exists()


def test_the_refusal_names_the_opening_s_own_stage_labels(recruiter):
    opening = OpeningFactory(recruiters=[recruiter], stage_labels={"screening": "Tri des CV"})
    application = ApplicationFactory(opening=opening)
    with pytest.raises(Conflict, match="« Tri des CV »"):
        actions.move(application_id=application.pk, to_status=S.INTERVIEW, actor=recruiter)


# --- who may move ------------------------------------------------------------------------------------


def test_only_the_opening_s_recruiters_and_hr_move(opening, recruiter):
    application = ApplicationFactory(opening=opening)
    elsewhere = UserFactory(username="autre_recruteur", groups=["Recruiters"])
    for user in (elsewhere, None):
        with pytest.raises(PermissionDenied, match="Vous ne gérez pas ce recrutement"):
            actions.move(application_id=application.pk, to_status=S.SCREENING, actor=user)
    hr = UserFactory(username="rh", groups=["HR"])
    assert actions.move(application_id=application.pk, to_status=S.SCREENING, actor=hr).status == S.SCREENING


def test_a_recruiter_cannot_withdraw_or_cancel(opening, recruiter):
    application = ApplicationFactory(opening=opening)
    for target, sentence in ((S.WITHDRAWN, "Seul le candidat"), (S.CANCELLED, "en clôturant le recrutement")):
        with pytest.raises(ValidationError) as refused:
            actions.move(application_id=application.pk, to_status=target, actor=recruiter, reason="x")
        assert list(refused.value.message_dict) == ["status"] and sentence in refused.value.messages[0]


def test_an_unknown_status_names_the_field(opening, recruiter):
    application = ApplicationFactory(opening=opening)
    with pytest.raises(ValidationError) as refused:
        actions.move(application_id=application.pk, to_status="nope", actor=recruiter)
    assert refused.value.message_dict == {"status": ["Statut inconnu : nope."]}


def test_the_decision_waits_for_the_jury_s_scorecards(opening, recruiter):
    application = ApplicationFactory(opening=opening, status=S.INTERVIEW)
    Scorecard.objects.create(application=application, interviewer=recruiter)
    for target in (S.DECISION, S.OFFER):
        with pytest.raises(Conflict, match="grilles d'évaluation"):
            actions.move(application_id=application.pk, to_status=target, actor=recruiter)
    Scorecard.objects.filter(application=application).update(submitted_at=timezone.now())
    assert actions.move(application_id=application.pk, to_status=S.OFFER, actor=recruiter).status == S.OFFER


def test_an_interview_is_not_scheduled_before_the_screening(opening, recruiter):
    application = ApplicationFactory(opening=opening)
    jury = UserFactory(username="jure", groups=["Interviewers"])
    with pytest.raises(Conflict, match="Présélection"):
        interviews.schedule_interview(
            application=application, starts_at=timezone.now() + timezone.timedelta(days=3), duration_minutes=45,
            location="Salle 1", interviewer_ids=[jury.pk], actor=recruiter,
        )
    assert not application.interviews.exists()
    assert not interviews.schedulable(S.RECEIVED) and interviews.schedulable(S.SCREENING)


# --- audit row and messages ---------------------------------------------------------------------------


def test_the_audit_row_is_written_in_the_move_s_transaction(opening, recruiter, monkeypatch):
    application = ApplicationFactory(opening=opening, status=S.SCREENING)

    def broken_audit(self):
        raise RuntimeError("audit impossible")

    monkeypatch.setattr(actions.Move, "audit", broken_audit)
    with pytest.raises(RuntimeError):
        actions.move(application_id=application.pk, to_status=S.SHORTLISTED, actor=recruiter)
    assert Application.objects.get(pk=application.pk).status == S.SCREENING  # rolled back with the audit


def test_the_rejection_leaves_after_commit_only(opening, recruiter, django_capture_on_commit_callbacks):
    application = ApplicationFactory(opening=opening, status=S.SCREENING)
    with django_capture_on_commit_callbacks() as callbacks:
        actions.move(application_id=application.pk, to_status=S.REJECTED, actor=recruiter, reason="Profil éloigné")
        assert mail.outbox == []
    assert mail.outbox == [] and callbacks  # the transaction committed, the callbacks are not run yet
    for callback in callbacks:
        callback()
    assert [m.to for m in mail.outbox] == [[application.candidate.email]]
    copy = ApplicationEvent.objects.get(application=application, kind="message")
    assert copy.reason == str(MessageKind.REJECTION.label) and copy.actor == recruiter
    assert "Profil éloigné" not in mail.outbox[0].body  # the reason stays internal


def test_the_offer_leaves_after_commit(opening, recruiter, django_capture_on_commit_callbacks):
    application = ApplicationFactory(opening=opening, status=S.INTERVIEW)
    with django_capture_on_commit_callbacks(execute=True):
        actions.move(application_id=application.pk, to_status=S.OFFER, actor=recruiter)
    assert len(mail.outbox) == 1
    assert ApplicationEvent.objects.filter(application=application, kind="message", reason=MessageKind.OFFER.label)


def test_a_refused_move_sends_nothing(opening, recruiter, django_capture_on_commit_callbacks):
    application = ApplicationFactory(opening=opening, status=S.HIRED)
    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(Conflict):
        actions.move(application_id=application.pk, to_status=S.REJECTED, actor=recruiter, reason="x")
    assert callbacks == [] and mail.outbox == []


def test_notify_false_sends_nothing(opening, recruiter, django_capture_on_commit_callbacks):
    application = ApplicationFactory(opening=opening, status=S.SCREENING)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        actions.move(application_id=application.pk, to_status=S.REJECTED, actor=recruiter, reason="x", notify=False)
    assert len(callbacks) == 1  # the action_executed signal only
    assert mail.outbox == [] and not ApplicationEvent.objects.filter(application=application, kind="message").exists()
    assert ApplicationEvent.objects.filter(application=application, kind="move", to_status=S.REJECTED).exists()


# --- withdrawal, bulk rejection and undo ------------------------------------------------------------------


def test_the_candidate_withdraws_through_the_link_only(opening, recruiter):
    application = ApplicationFactory(opening=opening, status=S.INTERVIEW)
    token = services.new_self_service_token(application)
    application.save()
    with pytest.raises(PermissionDenied, match="Seul le candidat"):
        actions.Withdraw(application.pk, user=recruiter).execute()
    actions.withdraw(token=token)
    application.refresh_from_db()
    assert application.status == S.WITHDRAWN and application.closed_at is not None
    event = ApplicationEvent.objects.filter(application=application, kind="move").latest("pk")
    assert (event.from_status, event.to_status, event.actor, event.reason) == (
        S.INTERVIEW, S.WITHDRAWN, None, "Retrait par le candidat"
    )
    with pytest.raises(Conflict, match="déjà close"):
        actions.withdraw(token=token)
    with pytest.raises(PermissionDenied, match="plus valable"):
        actions.withdraw(token="inconnu")


def test_bulk_rejection_is_one_batch_sent_after_commit_and_undone(opening, recruiter, django_capture_on_commit_callbacks):
    first = ApplicationFactory(opening=opening)
    second = ApplicationFactory(opening=opening, status=S.INTERVIEW)
    with django_capture_on_commit_callbacks() as callbacks:
        batch, count = actions.bulk_reject(application_ids=[first.pk, second.pk], actor=recruiter, reason="Hors profil")
    assert count == 2 and mail.outbox == []
    for callback in callbacks:
        callback()
    assert len(mail.outbox) == 2
    events = ApplicationEvent.objects.filter(batch=batch, kind="move")
    assert {(e.application_id, e.from_status, e.to_status) for e in events} == {
        (first.pk, S.RECEIVED, S.REJECTED), (second.pk, S.INTERVIEW, S.REJECTED)
    }
    assert actions.undo_batch(batch=batch, actor=recruiter) == 2
    assert dict(Application.objects.values_list("pk", "status")) == {first.pk: S.RECEIVED, second.pk: S.INTERVIEW}
    assert ApplicationEvent.objects.filter(batch=f"undo-{batch}"[:32], to_status__in=[S.RECEIVED, S.INTERVIEW]).count() == 2


def test_bulk_rejection_is_all_or_nothing(opening, recruiter):
    fine = ApplicationFactory(opening=opening)
    hired = ApplicationFactory(opening=opening, status=S.HIRED)
    with pytest.raises(Conflict):
        actions.bulk_reject(application_ids=[fine.pk, hired.pk], actor=recruiter, reason="Hors profil", send=False)
    assert Application.objects.get(pk=fine.pk).status == S.RECEIVED
    with pytest.raises(ValidationError) as missing:
        actions.bulk_reject(application_ids=[fine.pk], actor=recruiter, reason=" ")
    assert missing.value.message_dict == {"reason": ["Le motif du refus est obligatoire."]}


# --- closing an opening -----------------------------------------------------------------------------------


def test_closing_cancels_the_applications_in_progress(opening, recruiter):
    in_progress = [ApplicationFactory(opening=opening, status=s) for s in (S.RECEIVED, S.OFFER)]
    hired = ApplicationFactory(opening=opening, status=S.HIRED)
    assert actions.close_opening(opening=opening, state=OpeningState.FILLED, actor=recruiter, reason="Poste pourvu") == 2
    assert opening.recruitment_state == OpeningState.FILLED
    row = OpeningStatus.objects.get(opening=opening)
    assert (row.state, row.closed_by, row.reason) == (OpeningState.FILLED, recruiter, "Poste pourvu") and row.closed_at
    for application in in_progress:
        application.refresh_from_db()
        assert application.status == S.CANCELLED and application.closed_at == row.closed_at
        event = ApplicationEvent.objects.filter(application=application, kind="move").latest("pk")
        assert (event.to_status, event.actor, event.reason) == (S.CANCELLED, recruiter, "Recrutement clos : Pourvue")
    assert Application.objects.get(pk=hired.pk).status == S.HIRED


def test_closing_is_for_managers_once_with_a_valid_outcome(opening, recruiter):
    elsewhere = UserFactory(username="autre", groups=["Recruiters"])
    with pytest.raises(PermissionDenied):
        actions.close_opening(opening=opening, state=OpeningState.FILLED, actor=elsewhere)
    with pytest.raises(ValidationError) as invalid:
        actions.close_opening(opening=opening, state=OpeningState.OPEN, actor=recruiter)
    assert invalid.value.message_dict == {"state": ["État de clôture invalide."]}
    actions.close_opening(opening=opening, state=OpeningState.CANCELLED, actor=recruiter)
    with pytest.raises(Conflict, match="déjà clos"):
        actions.close_opening(opening=opening, state=OpeningState.FILLED, actor=recruiter)
    assert JobOpeningPage.objects.get(pk=opening.pk).recruitment_state == OpeningState.CANCELLED


def test_publishing_a_revision_does_not_reopen_a_closed_opening(opening, recruiter, client):
    first_revision = opening.latest_revision
    stale = JobOpeningPage.objects.get(pk=opening.pk)  # read before the closing
    actions.close_opening(opening=opening, state=OpeningState.FILLED, actor=recruiter)

    JobOpeningPage.objects.get(pk=opening.pk).get_latest_revision().publish()
    first_revision.publish()  # an earlier revision, saved while the opening was open
    stale.title = "Poste modifié après coup"
    stale.save_revision().publish()

    fresh = JobOpeningPage.objects.get(pk=opening.pk)
    assert fresh.title == "Poste modifié après coup" and fresh.live
    assert fresh.recruitment_state == OpeningState.FILLED
    assert "Pourvue" in client.get(fresh.url).content.decode()

    application = ApplicationFactory(opening=fresh, status=S.REJECTED)
    with pytest.raises(Conflict, match="plus aucun mouvement"):
        actions.move(application_id=application.pk, to_status=S.SCREENING, actor=recruiter, reason="Réouverture")
    api = APIClient()
    api.force_login(recruiter)
    response = api.post(f"{API}applications/{application.pk}/actions/move/",
                        {"status": "screening", "reason": "Réouverture"}, format="json")
    assert response.status_code == 409 and "clos" in response.json()["detail"]
    assert Application.objects.get(pk=application.pk).status == S.REJECTED


def test_lists_read_the_state_without_a_query_per_opening(recruiter, client):
    index = JobIndexFactory()
    openings = [OpeningFactory(index=index, recruiters=[recruiter]) for _ in range(3)]
    actions.close_opening(opening=openings[0], state=OpeningState.CANCELLED, actor=recruiter)
    hr = UserFactory(username="rh_liste", groups=["HR"])
    client.force_login(hr)
    url = reverse("recruitment_admin:openings")
    client.get(url)
    with CaptureQueriesContext(connection) as small:
        html = client.get(url).content.decode()
    assert "Annulée" in html and "Ouverte" in html
    for _ in range(4):
        OpeningFactory(index=index)
    with CaptureQueriesContext(connection) as large:
        client.get(url)
    assert len(large) == len(small)
    assert client.get(url, {"ordering": "opening_state"}).status_code == 200


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_migration_moves_the_states_off_the_pages_and_back(recruiter):
    opening = OpeningFactory(recruiters=[recruiter])
    actions.close_opening(opening=opening, state=OpeningState.FILLED, actor=recruiter)
    executor = MigrationExecutor(connection)
    executor.migrate([("recruitment", "0003_placeholder_messages")])
    old = executor.loader.project_state([("recruitment", "0003_placeholder_messages")]).apps
    assert old.get_model("recruitment", "JobOpeningPage").objects.get(pk=opening.pk).state == "filled"
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    assert OpeningStatus.objects.get(pk=opening.pk).state == OpeningState.FILLED


# --- two recruiters at once (PostgreSQL) -----------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_moves_by_two_recruiters_one_wins_the_other_gets_409():
    if connection.vendor != "postgresql":
        pytest.skip("row locks are tested on PostgreSQL (set DATABASE_URL)")
    first = UserFactory(username="recruteur_a", groups=["Recruiters"])
    second = UserFactory(username="recruteur_b", groups=["Recruiters"])
    opening = OpeningFactory(recruiters=[first, second])
    application = ApplicationFactory(opening=opening)
    barrier = threading.Barrier(2)
    outcomes = []

    def move(user):
        try:
            api = APIClient()
            api.force_login(user)
            barrier.wait()
            response = api.post(f"{API}applications/{application.pk}/actions/move/", {"status": "screening"},
                                format="json")
            outcomes.append((response.status_code, response.json().get("detail", "")))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=move, args=(user,)) for user in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(code for code, _detail in outcomes) == [200, 409]
    assert "déjà à l'étape" in next(detail for code, detail in outcomes if code == 409)
    assert Application.objects.get(pk=application.pk).status == S.SCREENING
    assert ApplicationEvent.objects.filter(application=application, kind="move", to_status=S.SCREENING).count() == 1
