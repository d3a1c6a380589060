"""Issue 13, item 16: bulk moves from the board. Several applications of one opening go to
the same stage (``actions.BulkMove``): the stages offered are those allowed for every one of
them; a step confirms how many move where; all or none, one event each under one batch
(undoable), in a constant number of queries."""

from datetime import timedelta
from html import unescape

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cms.exceptions import Conflict
from recruitment import actions
from recruitment.choices import ApplicationStatus as S
from recruitment.choices import MessageKind, OpeningState
from recruitment.models import Application, ApplicationEvent, Scorecard
from tests.factories import UserFactory
from tests.recruitment.factories import ApplicationFactory, OpeningFactory, set_opening_state
from tests.recruitment.test_board import jury_member, make_application, schedule, url

pytestmark = pytest.mark.django_db


@pytest.fixture
def recruiter(db):
    return UserFactory(username="recruteuse", groups=["Recruiters"])


@pytest.fixture
def opening(recruiter):
    return OpeningFactory(recruiters=[recruiter], stage_labels={"screening": "Tri des dossiers"})


def statuses(*applications):
    return [Application.objects.get(pk=a.pk).status for a in applications]


# --- the action -------------------------------------------------------------------------------------------


def test_a_bulk_move_writes_one_event_each_under_one_batch_and_is_undone(opening, recruiter):
    first, second = ApplicationFactory(opening=opening), ApplicationFactory(opening=opening)
    third = ApplicationFactory(opening=opening, status=S.ADMISSIBILITY)
    batch, count = actions.bulk_move(application_ids=[first.pk, second.pk, third.pk], actor=recruiter,
                                     to_status=S.SCREENING, note="Dossiers complets")
    assert count == 3 and statuses(first, second, third) == [S.SCREENING] * 3
    events = ApplicationEvent.objects.filter(batch=batch).order_by("application_id")
    assert [(e.application_id, e.from_status, e.to_status) for e in events] == [
        (first.pk, S.RECEIVED, S.SCREENING), (second.pk, S.RECEIVED, S.SCREENING), (third.pk, S.ADMISSIBILITY, S.SCREENING)]
    assert {(e.actor_id, e.reason, e.kind) for e in events} == {(recruiter.pk, "Dossiers complets", "move")}
    assert Application.objects.get(pk=first.pk).closed_at is None
    assert actions.undo_batch(batch=batch, actor=recruiter) == 3
    assert statuses(first, second, third) == [S.RECEIVED, S.RECEIVED, S.ADMISSIBILITY]


def test_a_bulk_move_runs_in_a_constant_number_of_queries(opening, recruiter):
    def queries(n, target):  # after a first bulk move: what is cached per user is cached
        applications = [ApplicationFactory(opening=opening) for _ in range(n)]
        with CaptureQueriesContext(connection) as captured:
            actions.bulk_move(application_ids=[a.pk for a in applications], actor=recruiter, to_status=target)
        return len(captured)

    queries(1, S.SCREENING)
    assert queries(2, S.SCREENING) == queries(7, S.SCREENING)
    assert queries(2, S.ADMISSIBILITY) == queries(9, S.ADMISSIBILITY)


def test_a_bulk_move_is_all_or_none_naming_the_application_that_cannot_move(opening, recruiter):
    fine = ApplicationFactory(opening=opening)
    hired = ApplicationFactory(opening=opening, status=S.HIRED)
    with pytest.raises(Conflict) as refused:
        actions.bulk_move(application_ids=[fine.pk, hired.pk], actor=recruiter, to_status=S.SCREENING)
    assert hired.reference in str(refused.value) and "recrutée" in str(refused.value)
    assert statuses(fine, hired) == [S.RECEIVED, S.HIRED]
    assert not ApplicationEvent.objects.exclude(batch="").exists()


def test_a_move_back_in_bulk_needs_a_reason(opening, recruiter):
    first = ApplicationFactory(opening=opening, status=S.SCREENING)
    second = ApplicationFactory(opening=opening, status=S.SHORTLISTED)
    with pytest.raises(ValidationError) as refused:
        actions.bulk_move(application_ids=[first.pk, second.pk], actor=recruiter, to_status=S.RECEIVED)
    assert "reason" in refused.value.message_dict
    batch, count = actions.bulk_move(application_ids=[first.pk, second.pk], actor=recruiter, to_status=S.RECEIVED,
                                     reason="Pièces manquantes")
    assert count == 2 and statuses(first, second) == [S.RECEIVED, S.RECEIVED]
    assert set(ApplicationEvent.objects.filter(batch=batch).values_list("reason", flat=True)) == {"Pièces manquantes"}


@pytest.mark.parametrize("who", ["other_recruiter", "interviewer", "hr"])
def test_only_the_opening_s_recruiters_and_hr_move_in_bulk(opening, who):
    application = ApplicationFactory(opening=opening)
    user = {"other_recruiter": UserFactory(groups=["Recruiters"]), "interviewer": jury_member("jury_bulk"),
            "hr": UserFactory(groups=["HR"])}[who]
    if who == "hr":
        actions.bulk_move(application_ids=[application.pk], actor=user, to_status=S.SCREENING)
        assert statuses(application) == [S.SCREENING]
        return
    with pytest.raises(PermissionDenied):
        actions.bulk_move(application_ids=[application.pk], actor=user, to_status=S.SCREENING)
    assert statuses(application) == [S.RECEIVED]


def test_a_bulk_move_stays_within_one_open_opening(opening, recruiter):
    here = ApplicationFactory(opening=opening)
    elsewhere = ApplicationFactory(opening=OpeningFactory(recruiters=[recruiter]))
    with pytest.raises(ValidationError) as refused:
        actions.bulk_move(application_ids=[here.pk, elsewhere.pk], actor=recruiter, to_status=S.SCREENING)
    assert "applications" in refused.value.message_dict
    with pytest.raises(ValidationError):
        actions.bulk_move(application_ids=[], actor=recruiter, to_status=S.SCREENING)
    set_opening_state(opening, OpeningState.FILLED)
    with pytest.raises(Conflict) as refused:
        actions.bulk_move(application_ids=[here.pk], actor=recruiter, to_status=S.SCREENING)
    assert "clos" in str(refused.value)
    assert statuses(here, elsewhere) == [S.RECEIVED, S.RECEIVED]


def test_the_offer_in_bulk_waits_for_the_scorecards_and_leaves_after_commit(
    opening, recruiter, django_capture_on_commit_callbacks
):
    waiting = make_application(opening, status=S.INTERVIEW)
    ready = make_application(opening, status=S.INTERVIEW)
    jury = jury_member("jury_offer")
    schedule(waiting, recruiter, [jury])
    with pytest.raises(Conflict) as refused:
        actions.bulk_move(application_ids=[waiting.pk, ready.pk], actor=recruiter, to_status=S.OFFER)
    assert waiting.reference in str(refused.value) and ready.reference not in str(refused.value)
    Scorecard.objects.filter(application=waiting).update(submitted_at=timezone.now() - timedelta(minutes=1))
    with django_capture_on_commit_callbacks(execute=True):
        actions.bulk_move(application_ids=[waiting.pk, ready.pk], actor=recruiter, to_status=S.OFFER)
    assert statuses(waiting, ready) == [S.OFFER, S.OFFER]
    assert len(mail.outbox) == 2
    assert ApplicationEvent.objects.filter(kind="message", reason=MessageKind.OFFER.label).count() == 2


def test_the_common_targets_are_the_moves_allowed_for_every_status():
    assert actions.common_targets([S.RECEIVED]) == [S.ADMISSIBILITY, S.SCREENING, S.REJECTED]
    assert actions.common_targets([S.RECEIVED, S.ADMISSIBILITY]) == [S.SCREENING, S.REJECTED]
    assert actions.common_targets([S.RECEIVED, S.OFFER], {"advance", "back"}) == [S.ADMISSIBILITY, S.SCREENING]
    assert actions.common_targets([S.RECEIVED, S.ADMISSIBILITY, S.SCREENING], {"advance", "hire", "back"}) == []
    assert actions.common_targets([]) == []
    assert actions.bulk_move_needs_reason([S.RECEIVED, S.SHORTLISTED], S.SCREENING) is True  # back for one
    assert actions.bulk_move_needs_reason([S.RECEIVED, S.ADMISSIBILITY], S.SCREENING) is False


# --- the board ------------------------------------------------------------------------------------------------


def page(response):
    assert response.status_code == 200, response.status_code
    return unescape(response.content.decode())


def test_the_board_offers_to_move_the_selection(client, opening, recruiter):
    application = make_application(opening)
    client.force_login(recruiter)
    html = page(client.get(url("board", opening.pk)))
    assert f'id="select-{application.pk}" form="bulk-form"' in html
    assert f'formaction="{url("bulk_move", opening.pk)}"' in html and 'name="step" value="choose"' in html
    assert "Déplacer la sélection…" in html and "Refuser la sélection" in html


def test_the_step_offers_the_stages_allowed_for_every_selected_application(client, opening, recruiter):
    first = make_application(opening, first_name="Rémi", last_name="Leroy")
    second = make_application(opening, status=S.ADMISSIBILITY, first_name="Inès", last_name="Martin")
    client.force_login(recruiter)
    html = page(client.post(url("bulk_move", opening.pk), {"step": "choose", "applications": [first.pk, second.pk],
                                                             "reason": "from the rejection panel"}))
    assert "2 candidatures sélectionnées" in html and "Rémi Leroy" in html and "Inès Martin" in html
    assert 'name="status" value="screening"' in html and "Tri des dossiers" in html  # the opening's own label
    for absent in ("admissibility", "rejected", "received"):
        assert f'name="status" value="{absent}"' not in html
    assert "from the rejection panel" not in html  # the step starts afresh
    assert statuses(first, second) == [S.RECEIVED, S.ADMISSIBILITY]


def test_without_a_common_stage_the_board_comes_back_with_the_selection_kept(client, opening, recruiter):
    chosen = [make_application(opening, status=status) for status in (S.RECEIVED, S.ADMISSIBILITY, S.SCREENING)]
    client.force_login(recruiter)
    html = page(client.post(url("bulk_move", opening.pk), {"step": "choose", "applications": [a.pk for a in chosen]}))
    assert "Aucune étape n'est possible pour toutes les candidatures sélectionnées" in html
    for application in chosen:
        assert f'id="select-{application.pk}" form="bulk-form" checked' in html
    assert 'id="board"' in html and f"<title>{opening.title}" in html


def test_nothing_selected_or_another_opening_s_application_goes_back_to_the_board(client, opening, recruiter):
    foreign = ApplicationFactory(opening=OpeningFactory(recruiters=[recruiter]))
    client.force_login(recruiter)
    html = page(client.post(url("bulk_move", opening.pk), {"step": "choose"}))
    assert "Cochez au moins une candidature." in html
    html = page(client.post(url("bulk_move", opening.pk), {"applications": [foreign.pk], "status": "screening",
                                                           "confirm": "1"}))
    assert "Sélectionnez un choix valide" in html
    assert statuses(foreign) == [S.RECEIVED]


def test_the_confirmation_names_how_many_move_where_then_the_move_is_done_and_undoable(client, opening, recruiter):
    first, second = make_application(opening), make_application(opening, status=S.ADMISSIBILITY)
    client.force_login(recruiter)
    data = {"applications": [first.pk, second.pk], "status": "screening", "note": "Complets"}
    html = page(client.post(url("bulk_move", opening.pk), data))
    assert f"Vous allez placer 2 candidatures de l'offre « {opening.title} » à l'étape « Tri des dossiers »" in html
    assert "de « Recevabilité » vers « Tri des dossiers »" in html
    assert "Confirmer : 2 candidatures vers « Tri des dossiers »" in html
    assert statuses(first, second) == [S.RECEIVED, S.ADMISSIBILITY]  # nothing yet
    response = client.post(url("bulk_move", opening.pk), {**data, "confirm": "1"}, follow=True)
    html = page(response)
    assert "2 candidatures placées à l'étape « Tri des dossiers »." in html
    assert "ce déplacement groupé" in html and "ce refus groupé" not in html  # what the undo button undoes, for screen readers
    assert statuses(first, second) == [S.SCREENING, S.SCREENING]
    batch = ApplicationEvent.objects.filter(application=first, to_status=S.SCREENING).get().batch
    assert f'value="{batch}"' in html  # the undo button of the message
    client.post(url("undo"), {"batch": batch})
    assert statuses(first, second) == [S.RECEIVED, S.ADMISSIBILITY]


def test_a_move_back_without_a_reason_stays_on_the_step_naming_the_field(client, opening, recruiter):
    first = make_application(opening, status=S.SHORTLISTED)
    second = make_application(opening, status=S.SCREENING)
    client.force_login(recruiter)
    data = {"applications": [first.pk, second.pk], "status": "received", "confirm": "1"}
    html = page(client.post(url("bulk_move", opening.pk), data))
    assert "Un retour à une étape précédente ou une réouverture exige un motif." in html
    assert 'href="#id_reason"' in html  # the error summary links to the field
    assert statuses(first, second) == [S.SHORTLISTED, S.SCREENING]
    html = page(client.post(url("bulk_move", opening.pk), {**data, "status": "hired"}))
    assert "Cette étape n'est pas possible pour toutes les candidatures sélectionnées." in html


def test_a_closed_opening_moves_nothing_in_bulk(client, opening, recruiter):
    application = make_application(opening)
    set_opening_state(opening, OpeningState.CANCELLED)
    client.force_login(recruiter)
    response = client.post(url("bulk_move", opening.pk), {"applications": [application.pk], "status": "screening",
                                                           "confirm": "1"}, follow=True)
    assert "clos" in page(response)
    assert statuses(application) == [S.RECEIVED]
