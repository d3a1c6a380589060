"""Issue 13, recruitment: moves from the board (buttons, reason step, drag-and-drop script),
the confirmation steps, openings closed by their deadline, the directions filter, the
pending scorecards panel of Mon espace, no scorecard before the interview, French elision."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone, translation

from cms.exceptions import Conflict
from recruitment import actions, interviews, selectors
from recruitment.choices import ApplicationStatus, OpeningState
from recruitment.dashboard import PendingScorecardsPanel
from recruitment.models import Application, ApplicationEvent, Interview, JobOpeningPage, Scorecard
from recruitment.text import of
from tests.factories import AgentFactory, OrgUnitFactory, UserFactory
from tests.recruitment.conftest import make_opening
from tests.recruitment.test_board import add_recruiter, jury_member, make_application, schedule, url

S = ApplicationStatus


def board_html(client, opening):
    response = client.get(url("board", opening.pk))
    assert response.status_code == 200
    return response.content.decode()


# --- item 16: the board moves applications -------------------------------------------------------


def test_each_card_offers_the_moves_of_the_table(client, openings, recruiter):
    opening = openings["open"]
    received = make_application(opening, first_name="Rémi", last_name="Leroy")
    offer = make_application(opening, status=S.OFFER, first_name="Inès", last_name="Martin")
    client.force_login(recruiter)
    html = board_html(client, opening)
    card = html[html.index(f'id="application-{received.pk}"'):html.index(f'id="application-{offer.pk}"')]
    assert url("board_move", received.pk) in card
    assert 'value="admissibility"' in card and 'value="screening"' in card and 'value="rejected"' in card
    assert 'value="interview"' not in card and 'value="hired"' not in card  # not declared from "received"
    assert 'data-targets="admissibility screening rejected' in card
    assert "Vers « Présélection »" in card and "Refuser…" in card
    card = html[html.index(f'id="application-{offer.pk}"'):]
    for target in ("hired", "offer_declined", "rejected", "interview"):
        assert f'value="{target}"' in card
    assert "recruitment/admin/board.js" in html and 'data-status="screening"' in html
    assert "<script>" not in html.split("recruitment/admin/board.js")[0].rsplit("</header>", 1)[-1]


def test_a_forward_move_from_the_board_is_done_at_once_and_returns_to_the_card(client, openings, recruiter):
    application = make_application(openings["open"])
    client.force_login(recruiter)
    response = client.post(url("board_move", application.pk), {"status": "screening"})
    assert response.status_code == 302
    assert response["Location"] == url("board", openings["open"].pk) + f"#application-{application.pk}"
    application.refresh_from_db()
    assert application.status == S.SCREENING
    event = ApplicationEvent.objects.filter(application=application, kind="move").last()
    assert (event.from_status, event.to_status, event.actor) == ("received", "screening", recruiter)
    html = client.get(response["Location"]).content.decode()
    assert f"Candidature {application.reference} placée à l&#x27;étape « Présélection »." in html or \
        f"Candidature {application.reference} placée à l'étape « Présélection »." in html


def test_a_move_needing_a_reason_asks_for_it_on_a_step_naming_the_move(client, openings, recruiter):
    application = make_application(openings["open"], status=S.SCREENING, first_name="Zoé", last_name="Petit")
    client.force_login(recruiter)
    response = client.post(url("board_move", application.pk), {"status": "rejected"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Zoé Petit" in html and "de « Présélection » vers « Non retenue »" in html
    assert 'name="step" value="1"' in html and 'name="reason"' in html
    assert "Le refus envoie la réponse négative au candidat." in html
    assert Application.objects.get(pk=application.pk).status == S.SCREENING

    response = client.post(url("board_move", application.pk), {"status": "rejected", "step": "1", "reason": " "})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Le motif du refus est obligatoire." in html and 'id="move-error-summary-title"' in html
    assert Application.objects.get(pk=application.pk).status == S.SCREENING

    response = client.post(url("board_move", application.pk),
                           {"status": "rejected", "step": "1", "reason": "Diplôme absent"})
    assert response.status_code == 302
    assert Application.objects.get(pk=application.pk).status == S.REJECTED
    assert ApplicationEvent.objects.filter(application=application, to_status="rejected",
                                           reason__contains="Diplôme absent").exists()


def test_a_move_the_table_refuses_is_a_message_on_the_board(client, openings, recruiter):
    opening = openings["open"]
    application = make_application(opening, status=S.SHORTLISTED)
    schedule(application, recruiter, [jury_member("jury")])  # moves it to the interview, a scorecard pending
    client.force_login(recruiter)
    response = client.post(url("board_move", application.pk), {"status": "decision"}, follow=True)
    assert "Toutes les grilles d&#x27;évaluation" in response.content.decode() or \
        "Toutes les grilles d'évaluation" in response.content.decode()
    assert Application.objects.get(pk=application.pk).status == S.INTERVIEW
    response = client.post(url("board_move", application.pk), {"status": "hired"}, follow=True)
    assert Application.objects.get(pk=application.pk).status == S.INTERVIEW
    response = client.post(url("board_move", application.pk), {"status": "nope"})
    assert response.status_code == 302 and Application.objects.get(pk=application.pk).status == S.INTERVIEW


def test_a_closed_opening_offers_no_move_on_its_cards(client, openings, recruiter):
    opening = openings["open"]
    application = make_application(opening)
    actions.close_opening(opening=opening, state=OpeningState.FILLED, actor=recruiter)
    client.force_login(recruiter)
    html = board_html(client, opening)
    assert url("board_move", application.pk) not in html and "board.js" not in html


@pytest.mark.parametrize(
    "role, outcome",
    [("recruiter", "ok"), ("hr", "ok"), ("other_recruiter", "404"), ("interviewer", "denied"),
     ("agent", "login"), ("anonymous", "login")],
)
def test_board_move_permission_matrix(client, openings, recruiter, role, outcome):
    application = make_application(openings["open"])
    users = {
        "recruiter": recruiter,
        "hr": UserFactory(username="hr_user", groups=["HR"]),
        "other_recruiter": add_recruiter(openings["internal"], UserFactory(username="r2", groups=["Recruiters"])),
        "interviewer": jury_member("jury_x"),
        "agent": AgentFactory(user__username="agent_x").user,
    }
    if role == "interviewer":
        Scorecard.objects.create(application=application, interviewer=users["interviewer"])  # sees the application
    if role != "anonymous":
        client.force_login(users[role])
    response = client.post(url("board_move", application.pk), {"status": "screening"})
    moved = Application.objects.get(pk=application.pk).status == S.SCREENING
    if outcome == "ok":
        assert response.status_code == 302 and moved
        return
    assert not moved
    if outcome == "404":
        assert response.status_code == 404
    elif outcome == "denied":
        assert response.status_code == 302 and response["Location"] == reverse("wagtailadmin_home")
    else:
        assert response.status_code == 302 and response["Location"].startswith(reverse("wagtailadmin_login"))


# --- item 5: the confirmation steps -----------------------------------------------------------------


def test_confirmation_steps_are_refused_to_who_may_not_act(client, openings, recruiter):
    opening = openings["open"]
    application = make_application(opening)
    other = add_recruiter(openings["internal"], UserFactory(username="r2", groups=["Recruiters"]))
    client.force_login(other)
    response = client.post(url("bulk_reject", opening.pk), {"applications": [application.pk], "reason": "x",
                                                            "message": "none"})
    assert response.status_code == 302 and response["Location"] == reverse("wagtailadmin_home")
    response = client.post(url("close", opening.pk), {"state": "filled"})
    assert response.status_code == 302 and response["Location"] == reverse("wagtailadmin_home")
    client.force_login(recruiter)
    html = client.post(url("close", opening.pk), {"state": "cancelled"}).content.decode()
    assert "1 candidature encore en cours sera annulée." in html and "Recrutement annulé" in html
    assert JobOpeningPage.objects.get(pk=opening.pk).recruitment_state == OpeningState.OPEN


# --- item 18: the deadline closes applications ----------------------------------------------------


def test_reading_a_notice_past_its_deadline_closes_it_to_applications_and_says_so(client, openings, recruiter):
    opening = openings["closed"]  # deadline yesterday, still "open"
    add_recruiter(opening, recruiter)
    application = make_application(opening, status=S.SCREENING)
    assert opening.recruitment_state == OpeningState.OPEN
    html = client.get(opening.url).content.decode()
    assert "Les candidatures sont closes : la date limite était le" in html
    opening = JobOpeningPage.objects.get(pk=opening.pk)
    assert opening.recruitment_state == OpeningState.APPLICATIONS_CLOSED
    assert opening.recruitment_status.closed_by is None
    # the recruitment goes on: nothing cancelled, moves allowed, then the recruiter closes it
    assert Application.objects.get(pk=application.pk).status == S.SCREENING
    actions.move(application_id=application.pk, to_status=S.SHORTLISTED, actor=recruiter)
    client.force_login(recruiter)
    assert "Candidatures closes" in board_html(client, opening)
    assert actions.close_opening(opening=opening, state=OpeningState.FILLED, actor=recruiter) == 1
    assert JobOpeningPage.objects.get(pk=opening.pk).recruitment_state == OpeningState.FILLED


def test_the_daily_command_closes_every_opening_past_its_deadline_and_only_those(openings):
    call_command("close_past_deadline")
    states = {key: JobOpeningPage.objects.get(pk=o.pk).recruitment_state for key, o in openings.items()}
    assert states == {"open": OpeningState.OPEN, "internal": OpeningState.OPEN,
                      "closed": OpeningState.APPLICATIONS_CLOSED}
    assert actions.close_openings_past_deadline() == []  # idempotent
    with pytest.raises(Conflict):  # the system cannot close an opening before its deadline
        actions.close_opening(opening=openings["open"], state=OpeningState.APPLICATIONS_CLOSED, actor=None)


def test_the_directions_filter_lists_the_directions_of_the_openings(client, job_index, org, openings):
    city = OrgUnitFactory(code="VDP", name="Ville de Paris", kind="other")
    dvd = OrgUnitFactory(code="DVD", name="Direction de la voirie", kind="direction", parent=city)
    service = OrgUnitFactory(code="DVD-S", name="Service des déplacements", kind="service", parent=dvd)
    make_opening(job_index, org_unit=service, reference="DVD-1", title="Ingénieur voirie")
    html = client.get(job_index.url).content.decode()
    assert '<option value="DVD">Direction de la voirie</option>' in html
    assert '<option value="DRH">Direction des ressources humaines</option>' in html
    assert 'value="VDP"' not in html
    html = client.get(job_index.url, {"direction": "DVD"}).content.decode()
    assert "Ingénieur voirie" in html and "Gestionnaire formation" not in html


# --- item 19: pending scorecards, not before the interview, elision ---------------------------------


def test_elision_of_names():
    with translation.override("fr"):
        assert of("Émilie Millet") == "d'Émilie Millet" and of("Jules Juré") == "de Jules Juré"
        assert of("Yann") == "de Yann" and of("Yves") == "d'Yves" and of("Candidat·e C-1") == "de Candidat·e C-1"
    with translation.override("en"):
        assert of("Émilie") == "Émilie"


def test_a_scorecard_cannot_be_submitted_before_the_interview(client, openings, recruiter):
    application = make_application(openings["open"], status=S.SHORTLISTED, first_name="Émilie", last_name="Millet")
    jury = jury_member("jury")
    schedule(application, recruiter, [jury], days=2)
    card = Scorecard.objects.get(application=application, interviewer=jury)
    scores = {name: 4 for name in Scorecard.CRITERIA}
    with pytest.raises(Conflict, match="pourra être soumise après l'entretien"):
        interviews.submit_scorecard(scorecard_id=card.pk, actor=jury, scores=scores, recommendation="yes")
    client.force_login(jury)
    html = client.get(url("scorecard", card.pk)).content.decode()
    assert "Cette grille pourra être soumise après l" in html and "Soumettre ma grille" not in html
    assert "la grille d&#x27;Émilie Millet" in client.get(url("my_scorecards")).content.decode()
    later = timezone.now() + timedelta(days=3)
    interviews.submit_scorecard(scorecard_id=card.pk, actor=jury, scores=scores, recommendation="yes", now=later)
    assert Scorecard.objects.get(pk=card.pk).submitted_at == later


def interview_with(application, jury, *, days):
    interview = Interview.objects.create(application=application, starts_at=timezone.now() + timedelta(days=days),
                                         location="Salle 101")
    interview.interviewers.add(*jury)
    for member in jury:
        Scorecard.objects.get_or_create(application=application, interviewer=member)
    return interview


def _panel(user):
    request = RequestFactory().get("/mon-espace/")
    request.user = user
    panel = PendingScorecardsPanel()
    return panel.is_visible(request), (panel.get_context(request) if panel.is_visible(request) else None)


def test_mon_espace_lists_the_pending_scorecards(client, openings, recruiter, django_assert_max_num_queries):
    opening = openings["open"]
    jury = jury_member("jury", first_name="Jules", last_name="Juré")
    held = make_application(opening, status=S.INTERVIEW, first_name="Émilie", last_name="Millet")
    interview_with(held, [jury], days=-1)
    coming = make_application(opening, status=S.INTERVIEW, first_name="Paul", last_name="Durand")
    interview_with(coming, [jury], days=4)
    visible, context = _panel(jury)
    assert visible and context["count"] == 2
    assert [c.application_id for c in context["scorecards"]] == [held.pk, coming.pk]
    assert [c.ready for c in context["scorecards"]] == [True, False]
    assert _panel(AgentFactory(user__username="agent_y").user)[0] is False
    client.force_login(jury)
    html = client.get(reverse("cms:mon_espace")).content.decode()
    assert "Remplir la grille d&#x27;Émilie Millet" in html or "Remplir la grille d'Émilie Millet" in html
    assert "à remplir après l" in html and url("scorecard", Scorecard.objects.get(application=held).pk) in html
    for i in range(6):
        extra = make_application(opening, status=S.SHORTLISTED, first_name=f"X{i}")
        Scorecard.objects.create(application=extra, interviewer=jury)
    with django_assert_max_num_queries(4):
        assert _panel(jury)[1]["count"] == 8
    assert _panel(jury)[1]["more"] == 3
    assert selectors.scorecards_of(jury).count() == 8
