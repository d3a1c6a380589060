"""Candidates' rights (self-service link: status, withdrawal, export, erasure) and the
retention rules (purge, its command and its task)."""

import json
from datetime import datetime, timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from recruitment import actions, gdpr
from recruitment.choices import ApplicationStatus
from recruitment.models import Application, ApplicationEvent, Candidate, Interview, Scorecard
from tests.factories import UserFactory
from tests.recruitment.conftest import apply_directly, make_opening, pdf_upload, publish


def self_service_url(token):
    return reverse("recruitment:self_service", kwargs={"token": token})


def set_status(application, status, closed_at=None):
    Application.objects.filter(pk=application.pk).update(status=status, closed_at=closed_at,
                                                         status_changed_at=closed_at or timezone.now())


@pytest.fixture
def applied(openings, acknowledgement_template, django_capture_on_commit_callbacks):
    """Alice applied to the open opening (with a cover letter); the acknowledgement was sent."""
    with django_capture_on_commit_callbacks(execute=True):
        application, token = apply_directly(openings["open"], cover_letter=pdf_upload("lettre.pdf"))
    application.refresh_from_db()
    return application, token


# --- self-service: status and withdrawal ----------------------------------------------------


def test_self_service_shows_the_status_with_the_opening_stage_label(client, openings, applied):
    application, token = applied
    opening = openings["open"]
    opening.stage_labels = {"received": "Dossier bien arrivé"}
    publish(opening)
    response = client.get(self_service_url(token))
    assert response.status_code == 200
    html = response.content.decode()
    assert application.reference in html
    assert "Dossier bien arrivé" in html
    assert "Gestionnaire formation" in html
    assert "no-store" in response["Cache-Control"]
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    for action in ("withdraw", "export", "erase"):
        assert f'name="action" value="{action}"' in html


def test_withdraw_through_the_link(client, applied):
    application, token = applied
    response = client.post(self_service_url(token), {"action": "withdraw"})
    assert response.status_code == 302 and response["Location"] == self_service_url(token)
    application.refresh_from_db()
    assert application.status == ApplicationStatus.WITHDRAWN
    assert application.closed_at is not None
    assert ApplicationEvent.objects.filter(application=application, kind="move", to_status="withdrawn").exists()
    page = client.get(self_service_url(token)).content.decode()
    assert "Votre candidature est retirée" in page
    assert "Retirée" in page
    assert "ne peut plus être retirée" in page
    client.post(self_service_url(token), {"action": "withdraw"})
    assert "Cette candidature est déjà close." in client.get(self_service_url(token)).content.decode()


def test_unknown_and_expired_links_are_404_with_an_explanation(client, applied):
    application, token = applied
    response = client.get(self_service_url("not-a-real-token"))
    assert response.status_code == 404
    assert "Ce lien n’est pas ou plus valable" in response.content.decode()
    Application.objects.filter(pk=application.pk).update(self_service_expires_at=timezone.now() - timedelta(minutes=1))
    response = client.get(self_service_url(token))
    assert response.status_code == 404
    assert "a expiré" in response.content.decode()
    assert client.post(self_service_url(token), {"action": "withdraw"}).status_code == 404
    application.refresh_from_db()
    assert application.status == ApplicationStatus.RECEIVED


def test_unknown_action_is_a_bad_request(client, applied):
    _application, token = applied
    assert client.post(self_service_url(token), {"action": "explode"}).status_code == 400


# --- export ---------------------------------------------------------------------------------


def test_export_my_data_as_json(client, openings, job_index, org, applied, recruiter):
    application, token = applied
    # Alice applied elsewhere with the same (normalised) address; Bob shares her phone only.
    other_opening = make_opening(job_index, org_unit=org["bureau"], reference="EXP-2", title="Autre poste")
    mine, _t = apply_directly(other_opening, email="Alice.Dupont@Example.org", phone="")
    bob, _t = apply_directly(other_opening, first_name="Bob", email="bob@example.org", phone="+33 6 12 34 56 78")
    actions.move(application_id=application.pk, to_status="admissibility", actor=recruiter, note="Dossier complet")
    jury = UserFactory(username="jury_member", first_name="Jules", last_name="Juré")
    interview = Interview.objects.create(application=application, starts_at=timezone.now() + timedelta(days=3),
                                         location="Salle 12")
    interview.interviewers.add(jury)
    Scorecard.objects.create(application=application, interviewer=jury, skills=4, experience=3, recommendation="yes",
                             comment="Très bonne présentation", submitted_at=timezone.now())

    response = client.post(self_service_url(token), {"action": "export"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"] == f'attachment; filename="mes-donnees-{application.reference}.json"'
    raw = response.content.decode()
    data = json.loads(raw)

    assert {c["email"] for c in data["candidate"]} == {"alice.dupont@example.org", "Alice.Dupont@Example.org"}
    assert data["candidate"][0]["phone"] == "06 12 34 56 78"
    references = [a["reference"] for a in data["applications"]]
    assert references == [application.reference, mine.reference]
    assert bob.reference not in raw and "bob@example.org" not in raw
    first = data["applications"][0]
    assert first["opening"] == {"reference": "2025-DRH-001", "title": "Gestionnaire formation"}
    assert first["status"] == "admissibility" and first["status_label"] == "Recevabilité"
    assert datetime.fromisoformat(first["submitted_at"]).utcoffset() is not None
    assert first["files"]["cv"].endswith(".pdf") and first["files"]["cover_letter"].endswith(".pdf")
    messages = [e["message"] for e in first["events"] if e["kind"] == "message"]
    assert messages and messages[0]["to"] == "alice.dupont@example.org"
    assert "Bonjour Alice" in messages[0]["body"]
    moves = [e for e in first["events"] if e["kind"] == "move"]
    assert [m["to_status"] for m in moves] == ["received", "admissibility"]
    assert moves[1]["reason"] == "Dossier complet" and moves[1]["by"] == "recruteur"
    assert first["interviews"][0]["location"] == "Salle 12"
    [card] = first["scorecards"]
    assert card["scores"]["skills"] == 4 and card["scores"]["experience"] == 3 and card["scores"]["potential"] is None
    assert card["comment"] == "Très bonne présentation"
    assert card["recommendation"] == "Favorable"
    # No identity of the recruiter or of the jury (third parties).
    for secret in ("jury_member", "Jules", "Juré", "recruiter", recruiter.email):
        assert secret not in raw
    assert ApplicationEvent.objects.filter(application=application, kind="note", reason__icontains="droit d'accès").exists()


# --- erasure --------------------------------------------------------------------------------


def test_erasure_first_names_what_will_be_erased(client, applied):
    application, token = applied
    response = client.post(self_service_url(token), {"action": "erase"})
    assert response.status_code == 200
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    html = response.content.decode()
    candidate = application.candidate
    assert "<h1>Confirmer l'effacement de mes données</h1>" in html
    assert str(candidate) in html and candidate.email in html
    assert application.reference in html and application.opening.title in html
    assert "1 candidature est concernée" in html and "2 documents (CV et lettres) seront supprimés" in html
    assert "1 candidature en cours sera retirée." in html
    assert 'name="confirm" value="1"' in html
    candidate.refresh_from_db()
    assert candidate.anonymised_at is None and Application.objects.get(pk=application.pk).cv


def test_erase_my_data(client, openings, job_index, org, applied, private_files):
    application, token = applied
    candidate = application.candidate
    files = [application.cv.name, application.cover_letter.name]
    assert all(private_files.exists(name) for name in files)
    other_opening = make_opening(job_index, org_unit=org["bureau"], reference="ER-2")
    mine, _t = apply_directly(other_opening, email="alice.dupont@example.org", phone="")
    bob, _t = apply_directly(other_opening, first_name="Bob", email="bob@example.org", phone="06 12 34 56 78")
    assert bob.candidate.duplicate_of_id == candidate.pk  # matched on the phone only

    preview = client.post(self_service_url(token), {"action": "erase"}).content.decode()
    assert "2 candidatures sont concernées" in preview and "Poste ER-2" in preview
    assert mine.reference in preview and bob.reference not in preview
    response = client.post(self_service_url(token), {"action": "erase", "confirm": "1"})
    assert response.status_code == 302 and response["Location"] == reverse("recruitment:erased")
    assert "Vos données ont été effacées" in client.get(response["Location"]).content.decode()

    assert not any(private_files.exists(name) for name in files)
    candidate.refresh_from_db()
    assert (candidate.first_name, candidate.last_name) == ("Anonyme", "Anonyme")
    assert candidate.email == candidate.email_normalised == f"anonyme-{candidate.pk}@invalid"
    assert (candidate.phone, candidate.phone_normalised) == ("", "")
    assert candidate.pool_consent is False and candidate.anonymised_at is not None
    application.refresh_from_db()
    # Statistics are kept: opening, dates, the history of statuses.
    assert application.opening_id == openings["open"].pk
    assert application.status == ApplicationStatus.WITHDRAWN  # it was still in progress
    assert application.submitted_at is not None and application.closed_at is not None
    assert (application.cv.name, application.cover_letter.name, application.message) == ("", "", "")
    assert application.anonymised_at is not None and application.self_service_token_hash == ""
    events = ApplicationEvent.objects.filter(application=application)
    assert list(events.filter(kind="move").values_list("to_status", flat=True)) == ["received", "withdrawn"]
    message = events.get(kind="message")
    assert (message.message_body, message.message_to, message.message_subject) == ("", "", "")
    assert events.filter(kind="erasure").count() == 1
    # The same person's other record goes too; Bob (phone only) stays, unlinked.
    mine.candidate.refresh_from_db()
    assert mine.candidate.anonymised_at is not None
    bob.candidate.refresh_from_db()
    assert bob.candidate.first_name == "Bob" and bob.candidate.duplicate_of_id is None
    # The link is dead.
    assert client.get(self_service_url(token)).status_code == 404
    assert "alice" not in json.dumps(list(Candidate.objects.filter(pk=candidate.pk).values()), default=str).lower()


def test_erase_candidate_keeps_statistics_records_the_actor_and_is_idempotent(openings, recruiter, private_files):
    application, _token = apply_directly(openings["open"], message="Mon numéro perso est le 06 00 00 00 00")
    actions.move(application_id=application.pk, to_status="rejected", actor=recruiter, reason="Profil : Mme Dupont")
    references = gdpr.erase_candidate(application.candidate, actor=recruiter)
    assert references == [application.reference]
    application.refresh_from_db()
    assert application.status == "rejected"  # a closed application keeps its outcome
    assert application.message == ""
    events = ApplicationEvent.objects.filter(application=application)
    assert events.get(kind="move", to_status="rejected").reason == ""  # recruiters' free text goes
    assert events.get(kind="move", to_status="received").reason.startswith("Candidature déposée")  # system text stays
    assert events.get(kind="erasure").actor == recruiter
    assert gdpr.erase_candidate(application.candidate, actor=recruiter) == []
    assert events.filter(kind="erasure").count() == 1


def test_erasure_blanks_scorecard_comments_but_keeps_scores(openings):
    application, _token = apply_directly(openings["open"])
    jury = UserFactory(username="jury2")
    Scorecard.objects.create(application=application, interviewer=jury, skills=5, comment="Parle de sa famille")
    gdpr.erase_candidate(application.candidate)
    card = Scorecard.objects.get(application=application)
    assert (card.skills, card.comment) == (5, "")


# --- retention ------------------------------------------------------------------------------


@pytest.fixture
def population(openings, job_index, org):
    """Candidates in every retention situation, with their expected fate."""
    now = timezone.now()
    opening = openings["open"]
    long_ago = now - timedelta(days=120)  # more than 3 months
    recently = now - timedelta(days=40)

    def candidate(email, status=None, closed_at=None, pool=False, last_contact=None):
        application, _token = apply_directly(opening, email=email, phone="", consent_pool=pool,
                                             cover_letter=pdf_upload("lettre.pdf"))
        if status:
            set_status(application, status, closed_at)
        if last_contact:
            Candidate.objects.filter(pk=application.candidate_id).update(last_contact_at=last_contact)
        return application

    apps = {
        "rejected_long_ago": candidate("a@example.org", "rejected", long_ago),
        "withdrawn_long_ago": candidate("b@example.org", "withdrawn", long_ago),
        "declined_long_ago": candidate("c@example.org", "offer_declined", long_ago),
        "rejected_recently": candidate("d@example.org", "rejected", recently),
        "in_progress": candidate("e@example.org", "interview"),
        "hired_long_ago": candidate("f@example.org", "hired", long_ago),
        "pool_recent_contact": candidate("g@example.org", "rejected", long_ago, pool=True, last_contact=now - timedelta(days=400)),
        "pool_expired": candidate("h@example.org", "rejected", long_ago, pool=True, last_contact=now - timedelta(days=740)),
    }
    # One record with two applications: one old rejection, one still active → kept.
    mixed = candidate("i@example.org", "rejected", long_ago)
    second = make_opening(job_index, org_unit=org["bureau"], reference="MIX-2")
    Application.objects.create(opening=second, candidate=mixed.candidate, reference="C-MIXED02", submitted_at=now,
                               status_changed_at=now)
    apps["mixed"] = mixed
    return apps


ERASED = {"rejected_long_ago", "withdrawn_long_ago", "declined_long_ago", "pool_expired"}


def test_purge_dry_run_lists_and_changes_nothing(population, private_files):
    entries = gdpr.purge(dry_run=True)
    expected = {population[key].candidate_id for key in ERASED}
    assert {entry.candidate_id for entry in entries} == expected
    rules = {entry.candidate_id: entry.rule for entry in entries}
    assert rules[population["pool_expired"].candidate_id] == gdpr.RULE_POOL
    assert rules[population["rejected_long_ago"].candidate_id] == gdpr.RULE_UNSUCCESSFUL
    by_id = {entry.candidate_id: entry for entry in entries}
    assert by_id[population["rejected_long_ago"].candidate_id].references == [population["rejected_long_ago"].reference]
    assert not Candidate.objects.filter(anonymised_at__isnull=False).exists()
    assert all(private_files.exists(a.cv.name) for a in population.values())
    assert not ApplicationEvent.objects.filter(kind="erasure").exists()


def test_purge_erases_exactly_the_due_candidates(population, private_files):
    files = {key: (a.cv.name, a.cover_letter.name) for key, a in population.items()}
    entries = gdpr.purge()
    assert {entry.candidate_id for entry in entries} == {population[key].candidate_id for key in ERASED}
    for key, application in population.items():
        application.refresh_from_db()
        candidate = Candidate.objects.get(pk=application.candidate_id)
        if key in ERASED:
            assert candidate.anonymised_at is not None, key
            assert candidate.last_name == "Anonyme", key
            assert not any(private_files.exists(name) for name in files[key]), key
            assert application.cv.name == "", key
            assert application.status != "withdrawn" or key == "withdrawn_long_ago"  # outcomes kept
            assert ApplicationEvent.objects.filter(application=application, kind="erasure").exists()
        else:
            assert candidate.anonymised_at is None, key
            assert candidate.last_name == "Dupont", key
            assert all(private_files.exists(name) for name in files[key]), key
    # A second run finds nothing more.
    assert gdpr.purge() == []


def test_pool_consent_is_kept_until_two_years_after_the_last_contact(population):
    now = timezone.now()
    kept = population["pool_recent_contact"]
    assert kept.candidate_id not in {e.candidate_id for e in gdpr.purge(now=now)}
    later = now + timedelta(days=365)  # 765 days after the last contact
    assert kept.candidate_id in {e.candidate_id for e in gdpr.purge(now=later, dry_run=True)}


def test_purge_works_in_batches(population):
    entries = gdpr.purge(batch_size=1)
    assert len(entries) == len(ERASED)
    assert Candidate.objects.filter(anonymised_at__isnull=False).count() == len(ERASED)


def test_listing_what_is_due_runs_a_constant_number_of_queries(openings):
    old = timezone.now() - timedelta(days=200)

    def add(count, start):
        for number in range(start, start + count):
            application, _token = apply_directly(openings["open"], email=f"p{number}@example.org", phone="")
            set_status(application, "rejected", old)

    add(2, 0)
    with CaptureQueriesContext(connection) as few:
        assert len(gdpr.due_for_erasure()) == 2
    add(8, 2)
    with CaptureQueriesContext(connection) as many:
        assert len(gdpr.due_for_erasure()) == 10
    assert len(few) == len(many) == 2  # one per rule


def test_months_before_clamps_to_the_end_of_the_month():
    tz = timezone.get_current_timezone()
    assert gdpr.months_before(datetime(2025, 5, 31, 12, tzinfo=tz), 3) == datetime(2025, 2, 28, 12, tzinfo=tz)
    assert gdpr.months_before(datetime(2025, 1, 15, tzinfo=tz), 24) == datetime(2023, 1, 15, tzinfo=tz)


def test_purge_command_dry_run_and_real_run(population, capsys):
    call_command("purge_candidates", "--dry-run")
    out = capsys.readouterr().out
    assert population["rejected_long_ago"].reference in out
    assert population["rejected_recently"].reference not in out
    assert "Simulation : rien n'a été effacé." in out
    assert "4 candidat(s) à effacer." in out
    assert not Candidate.objects.filter(anonymised_at__isnull=False).exists()
    assert "a@example.org" not in out  # the log carries no personal data

    call_command("purge_candidates")
    out = capsys.readouterr().out
    assert "4 candidat(s) effacé(s)." in out
    assert Candidate.objects.filter(anonymised_at__isnull=False).count() == 4


def test_purge_task(population):
    from recruitment.tasks import purge_candidates_task

    result = purge_candidates_task.enqueue()
    assert result.return_value["erased"] == 4
    assert population["pool_expired"].reference in result.return_value["references"]


def test_purge_does_not_send_messages(population):
    mail.outbox.clear()
    gdpr.purge()
    assert mail.outbox == []
