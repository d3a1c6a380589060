"""Interviews (scheduling, ICS invitations) and scorecards (validation, finality, summary,
the decision gate), through the services and the admin pages."""

from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from icalendar import Calendar

from cms.exceptions import Conflict
from recruitment import actions, interviews
from recruitment.choices import ApplicationStatus, OpeningState
from recruitment.models import Application, ApplicationEvent, Interview, Scorecard
from tests.factories import AgentFactory, UserFactory
from tests.recruitment.test_board import jury_member, make_application, schedule, url

GOOD_SCORES = {"skills": 4, "aptitudes": 5, "qualifications": 3, "experience": 4, "potential": 4, "mission_fit": 5}


@pytest.fixture
def jury(db):
    return [
        jury_member("jury_a", first_name="Agnès", last_name="Arnaud", email="agnes.arnaud@ville.example"),
        jury_member("jury_b", first_name="Bruno", last_name="Bernard", email="bruno.bernard@ville.example"),
    ]


@pytest.fixture
def shortlisted(openings):
    return make_application(openings["open"], status=ApplicationStatus.SHORTLISTED, first_name="Inès",
                            last_name="Martin", email="ines.martin@example.org")


def scorecard_post(**overrides):
    data = {name: str(value) for name, value in GOOD_SCORES.items()}
    data |= {"recommendation": "yes", "comment": "Très bonne connaissance du statut."}
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def submit(scorecard, **overrides):
    values = {"scores": dict(GOOD_SCORES), "recommendation": "yes", "comment": ""} | overrides
    return interviews.submit_scorecard(scorecard_id=scorecard.pk, actor=scorecard.interviewer, **values)


# --- scheduling ---------------------------------------------------------------------------


def test_scheduling_sends_ics_to_candidate_and_interviewers(client, openings, recruiter, jury, shortlisted,
                                                            django_capture_on_commit_callbacks):
    recruiter.email = "recruteur@ville.example"
    recruiter.save()
    starts = timezone.localtime() + timedelta(days=4)
    client.force_login(recruiter)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("schedule", shortlisted.pk), {
            "starts_at": starts.strftime("%Y-%m-%d %H:%M"), "duration_minutes": "60", "location": "Salle 101",
            "interviewers": [user.pk for user in jury],
        })
    assert response.status_code == 302 and response["Location"] == url("application", shortlisted.pk)

    interview = Interview.objects.get(application=shortlisted)
    assert set(interview.interviewers.all()) == set(jury) and interview.created_by == recruiter
    assert set(Scorecard.objects.filter(application=shortlisted).values_list("interviewer", flat=True)) == {u.pk for u in jury}
    shortlisted.refresh_from_db()
    assert shortlisted.status == ApplicationStatus.INTERVIEW
    assert ApplicationEvent.objects.filter(application=shortlisted, kind="interview", actor=recruiter).exists()

    assert sorted(m.to[0] for m in mail.outbox) == sorted(["ines.martin@example.org", *(u.email for u in jury)])
    for message in mail.outbox:
        (name, content, mimetype), = message.attachments
        assert name == "entretien.ics" and mimetype.startswith("text/calendar")
        calendar = Calendar.from_ical(content)
        assert calendar["method"] == "REQUEST"
        events = calendar.walk("VEVENT")
        assert len(events) == 1
        event = events[0]
        assert str(event["uid"]) == f"recruitment-interview-{interview.pk}@parcours"
        assert event.decoded("dtstart") == interview.starts_at
        assert event.decoded("dtend") - event.decoded("dtstart") == timedelta(minutes=60)
        assert str(event["organizer"]) == "mailto:recruteur@ville.example"
        attendees = event["attendee"] if isinstance(event["attendee"], list) else [event["attendee"]]
        attendees = {str(a) for a in attendees}
        if message.to == ["ines.martin@example.org"]:
            assert attendees == {"mailto:ines.martin@example.org"}  # the jury's addresses are not given out
            assert openings["open"].title in message.subject and "Inès" in message.body
            assert "Salle 101" in message.body
        else:
            assert attendees == {f"mailto:{u.email}" for u in jury}
            assert "Inès Martin" in message.body and url("my_scorecards") in message.body
    copy = ApplicationEvent.objects.get(application=shortlisted, kind="message")
    assert copy.message_to == "ines.martin@example.org" and "Salle 101" in copy.message_body


def test_invitation_text_uses_french_dates(openings, recruiter, jury, shortlisted, django_capture_on_commit_callbacks):
    starts = timezone.make_aware(timezone.datetime(timezone.localdate().year + 1, 3, 3, 14, 30))
    with django_capture_on_commit_callbacks(execute=True):
        interviews.schedule_interview(application=shortlisted, starts_at=starts, duration_minutes=45, location="Salle 3",
                                      interviewer_ids=[jury[0].pk], actor=recruiter)
    candidate_mail = next(m for m in mail.outbox if m.to == ["ines.martin@example.org"])
    weekday = ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"][starts.weekday()]
    assert f"le {weekday} 3 mars {starts.year} à 14 h 30" in candidate_mail.body  # French typography for the hour


def test_scheduling_validates_everything_on_its_field(openings, recruiter, jury, shortlisted):
    inactive = jury_member("jury_off", is_active=False)
    agent = AgentFactory(user__username="simple_agent").user
    with pytest.raises(ValidationError) as error:
        interviews.schedule_interview(application=shortlisted, starts_at=timezone.now() - timedelta(hours=1),
                                      duration_minutes=5, location=" ", interviewer_ids=[inactive.pk, agent.pk],
                                      actor=recruiter)
    errors = error.value.message_dict
    assert set(errors) == {"starts_at", "duration_minutes", "location", "interviewer_ids"}
    assert any("désactivé" in e for e in errors["interviewer_ids"])
    assert any("ni membre de jury" in e for e in errors["interviewer_ids"])
    with pytest.raises(ValidationError) as error:
        schedule(shortlisted, recruiter, [])
    assert "interviewer_ids" in error.value.message_dict
    assert not Interview.objects.exists() and not Scorecard.objects.exists()


def test_the_openings_recruiters_may_sit_on_the_jury(openings, recruiter, shortlisted):
    schedule(shortlisted, recruiter, [recruiter])
    assert Scorecard.objects.filter(application=shortlisted, interviewer=recruiter).exists()


def test_schedule_form_shows_service_errors_on_fields(client, openings, recruiter, jury, shortlisted):
    client.force_login(recruiter)
    past = (timezone.localtime() - timedelta(days=1)).strftime("%Y-%m-%d %H:%M")
    response = client.post(url("schedule", shortlisted.pk), {"starts_at": past, "duration_minutes": "45",
                                                             "location": "Salle 1", "interviewers": [jury[0].pk]})
    assert response.status_code == 200
    assert "L&#x27;entretien doit avoir lieu dans le futur." in response.content.decode()
    assert not Interview.objects.exists()


def test_only_managers_schedule_and_not_on_closed_things(openings, recruiter, jury, shortlisted):
    with pytest.raises(PermissionDenied):
        schedule(shortlisted, jury[0], jury)
    other = UserFactory(username="recruiter_elsewhere", groups=["Recruiters"])
    with pytest.raises(PermissionDenied):
        schedule(shortlisted, other, jury)
    rejected = make_application(openings["open"], status=ApplicationStatus.REJECTED)
    with pytest.raises(Conflict):
        schedule(rejected, recruiter, jury)
    actions.close_opening(opening=openings["open"], state=OpeningState.CANCELLED, actor=recruiter)
    with pytest.raises(Conflict):
        schedule(shortlisted, recruiter, jury)
    assert not Interview.objects.exists()


def held(application):
    """The application's interviews took place yesterday (a scorecard waits for its interview)."""
    Interview.objects.filter(application=application).update(starts_at=timezone.now() - timedelta(days=1))


def test_a_second_interview_keeps_existing_scorecards(openings, recruiter, jury, shortlisted):
    schedule(shortlisted, recruiter, jury[:1])
    held(shortlisted)
    submit(Scorecard.objects.get(interviewer=jury[0]))
    schedule(shortlisted, recruiter, jury, days=6)
    cards = Scorecard.objects.filter(application=shortlisted)
    assert cards.count() == 2 and cards.get(interviewer=jury[0]).submitted_at is not None
    assert Application.objects.get(pk=shortlisted.pk).status == ApplicationStatus.INTERVIEW


# --- scorecards ---------------------------------------------------------------------------


@pytest.fixture
def scheduled(openings, recruiter, jury, shortlisted):
    schedule(shortlisted, recruiter, jury)
    held(shortlisted)
    return {user.username: Scorecard.objects.get(application=shortlisted, interviewer=user) for user in jury}


@pytest.mark.parametrize(
    "scores, field",
    [
        ({k: v for k, v in GOOD_SCORES.items() if k != "potential"}, "potential"),
        (GOOD_SCORES | {"skills": 6}, "skills"),
        (GOOD_SCORES | {"experience": 0}, "experience"),
        (GOOD_SCORES | {"aptitudes": "trois"}, "aptitudes"),
        (GOOD_SCORES | {"mission_fit": 2.5}, "mission_fit"),
        (GOOD_SCORES | {"qualifications": True}, "qualifications"),
    ],
)
def test_scorecard_validation(scheduled, scores, field):
    card = scheduled["jury_a"]
    with pytest.raises(ValidationError) as error:
        submit(card, scores=scores)
    assert set(error.value.message_dict) == {field}
    card.refresh_from_db()
    assert card.submitted_at is None and card.skills is None


def test_scorecard_needs_a_recommendation(scheduled):
    with pytest.raises(ValidationError) as error:
        submit(scheduled["jury_a"], recommendation="")
    assert set(error.value.message_dict) == {"recommendation"}
    with pytest.raises(ValidationError):
        submit(scheduled["jury_a"], recommendation="maybe")


def test_only_its_interviewer_submits_a_scorecard_and_it_is_final(scheduled, recruiter, jury):
    card = scheduled["jury_a"]
    for intruder in (jury[1], recruiter):
        with pytest.raises(PermissionDenied):
            interviews.submit_scorecard(scorecard_id=card.pk, actor=intruder, scores=GOOD_SCORES, recommendation="yes")
    submitted = submit(card, scores={k: str(v) for k, v in GOOD_SCORES.items()}, comment="  Solide.  ")
    assert submitted.submitted_at is not None and submitted.skills == 4 and submitted.comment == "Solide."
    assert ApplicationEvent.objects.filter(application=card.application, kind="scorecard", actor=jury[0]).exists()
    with pytest.raises(Conflict):
        submit(card, scores=GOOD_SCORES | {"skills": 1})
    card.refresh_from_db()
    assert card.skills == 4


def test_scorecard_form_shows_anchors_and_submits(client, scheduled, jury):
    card = scheduled["jury_a"]
    client.force_login(jury[0])
    html = client.get(url("scorecard", card.pk)).content.decode()
    for text in ("Insuffisant", "Excellent", "1 — Insuffisant", "5 — Excellent", str(interviews.CRITERIA_HELP["potential"]),
                 "<legend", 'name="mission_fit"'):
        assert text in html
    response = client.post(url("scorecard", card.pk), scorecard_post(potential=None, skills="7"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Ce critère est obligatoire." in html and "La note doit être un nombre entier de 1 à 5." in html
    card.refresh_from_db()
    assert card.submitted_at is None

    response = client.post(url("scorecard", card.pk), scorecard_post())
    assert response.status_code == 302 and response["Location"] == url("my_scorecards")
    card.refresh_from_db()
    assert card.submitted_at is not None and card.recommendation == "yes"
    html = client.get(url("scorecard", card.pk)).content.decode()
    assert "elle est définitive" in html and 'name="skills"' not in html
    response = client.post(url("scorecard", card.pk), scorecard_post(skills="1"), follow=True)
    assert "déjà été soumise" in response.content.decode()
    card.refresh_from_db()
    assert card.skills == 4


def test_someone_elses_scorecard_is_a_404(client, scheduled, jury, recruiter):
    card = scheduled["jury_a"]
    for user in (jury[1], recruiter):
        client.force_login(user)
        assert client.get(url("scorecard", card.pk)).status_code == 404
        assert client.post(url("scorecard", card.pk), scorecard_post()).status_code == 404
    card.refresh_from_db()
    assert card.submitted_at is None


def test_my_scorecards_lists_only_mine_pending_first(client, openings, recruiter, jury, scheduled):
    other = make_application(openings["open"], status=ApplicationStatus.SHORTLISTED, first_name="Omar", last_name="Diallo")
    schedule(other, recruiter, [jury[1]])
    submit(scheduled["jury_a"])
    second = make_application(openings["open"], status=ApplicationStatus.SHORTLISTED, first_name="Sarah", last_name="Klein")
    schedule(second, recruiter, [jury[0]])
    client.force_login(jury[0])
    html = client.get(url("my_scorecards")).content.decode()
    assert "Omar Diallo" not in html
    assert html.index("Sarah Klein") < html.index("Inès Martin")  # pending first
    assert "Soumise le" in html


def test_my_scorecards_query_count_does_not_grow(client, openings, recruiter, jury):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url("my_scorecards")).status_code == 200
        return len(queries)

    for _i in range(2):
        schedule(make_application(openings["open"], status=ApplicationStatus.SHORTLISTED), recruiter, [jury[0]])
    client.force_login(jury[0])
    count()
    small = count()
    for _i in range(8):
        schedule(make_application(openings["open"], status=ApplicationStatus.SHORTLISTED), recruiter, [jury[0]])
    assert count() == small


# --- decision gate and summary --------------------------------------------------------------


def test_decision_waits_for_every_scorecard_then_hired_closes(openings, recruiter, jury, shortlisted, scheduled):
    def move(status):
        return actions.move(application_id=shortlisted.pk, to_status=status, actor=recruiter)

    for status in (ApplicationStatus.DECISION, ApplicationStatus.OFFER, ApplicationStatus.HIRED):
        with pytest.raises(Conflict):
            move(status)
    submit(scheduled["jury_a"])
    with pytest.raises(Conflict):
        move(ApplicationStatus.DECISION)
    submit(scheduled["jury_b"], scores={k: 2 for k in GOOD_SCORES}, recommendation="no")
    move(ApplicationStatus.DECISION)
    move(ApplicationStatus.OFFER)
    application = move(ApplicationStatus.HIRED)
    application.refresh_from_db()
    assert application.status == ApplicationStatus.HIRED and application.closed_at is not None


def test_decision_through_the_admin_shows_the_conflict(client, recruiter, shortlisted, scheduled):
    client.force_login(recruiter)
    response = client.post(url("move", shortlisted.pk), {"status": "decision"}, follow=True)
    assert "Toutes les grilles d&#x27;évaluation" in response.content.decode()
    assert Application.objects.get(pk=shortlisted.pk).status == ApplicationStatus.INTERVIEW


def test_scorecard_summary_averages_and_recommendations(client, recruiter, jury, shortlisted, scheduled):
    summary = interviews.scorecard_summary(shortlisted)
    assert (summary["submitted"], summary["total"], summary["all_submitted"]) == (0, 2, False)
    assert all(average is None for average in summary["averages"].values())

    submit(scheduled["jury_a"], recommendation="strong_yes")
    submit(scheduled["jury_b"], scores={k: 2 for k in GOOD_SCORES}, recommendation="no")
    summary = interviews.scorecard_summary(shortlisted)
    assert summary["all_submitted"] and summary["submitted"] == 2
    assert summary["averages"] == {"skills": 3, "aptitudes": 3.5, "qualifications": 2.5, "experience": 3,
                                   "potential": 3, "mission_fit": 3.5}
    assert {r["value"]: r["count"] for r in summary["recommendations"]} == {"strong_yes": 1, "yes": 0, "no": 1,
                                                                           "strong_no": 0}
    row = next(r for r in summary["criteria"] if r["key"] == "aptitudes")
    assert row["scores"] == [5, 2]  # Arnaud, Bernard

    client.force_login(recruiter)
    html = client.get(url("scorecard_summary", shortlisted.pk)).content.decode()
    for text in ("Agnès Arnaud", "Bruno Bernard", "Moyenne", "3,5", "Très favorable",
                 "Défavorable", "<caption"):
        assert text in html
    page = client.get(url("application", shortlisted.pk)).content.decode()
    assert "2 grille(s) soumise(s) sur 2." in page and url("scorecard_summary", shortlisted.pk) in page


def test_interviewer_sees_the_application_but_not_the_others_scores(client, jury, shortlisted, scheduled):
    submit(scheduled["jury_b"])
    client.force_login(jury[0])
    page = client.get(url("application", shortlisted.pk)).content.decode()
    assert "Inès Martin" in page and url("scorecard", scheduled["jury_a"].pk) in page
    assert url("scorecard_summary", shortlisted.pk) not in page and url("move", shortlisted.pk) not in page
    assert "Historique" not in page
