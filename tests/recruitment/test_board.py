"""The recruiter's side in the Wagtail admin: openings list, board, application page,
file downloads, moves, bulk rejection with undo, closing an opening; the permission
matrix of every admin view; anonymised screening; constant query counts."""

import itertools
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.core.files.base import ContentFile
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from wagtail.admin.menu import admin_menu

from cms.exceptions import Conflict
from recruitment import actions, interviews, selectors, services
from recruitment.choices import PIPELINE, TERMINAL, ApplicationStatus, MessageKind, OpeningState
from recruitment.models import Application, ApplicationEvent, Candidate, Interview, MessageTemplate, Scorecard
from tests.factories import AgentFactory, UserFactory
from tests.recruitment.conftest import pdf_bytes, publish

_numbers = itertools.count(1)


# --- helpers (also used by test_interviews.py) ----------------------------------------------


def make_application(opening, *, status=ApplicationStatus.RECEIVED, first_name="Alice", last_name=None, email=None,
                     cv=True, letter=False, internal=False, duplicate=False, days_in_stage=0, message="Bonjour, je suis motivée."):
    """An application written straight to the database (no e-mail, no upload checks)."""
    n = next(_numbers)
    now = timezone.now()
    last_name = last_name or f"Dupont{n}"
    email = email or f"{first_name}.{last_name}@example.org".lower()
    candidate = Candidate.objects.create(
        first_name=first_name, last_name=last_name, email=email, email_normalised=services.normalise_email(email),
        phone="06 12 34 56 78", phone_normalised="0612345678", last_contact_at=now,
    )
    changed = now - timedelta(days=days_in_stage)
    application = Application(
        opening=opening, candidate=candidate, reference=f"C-T{n:05d}", status=status, message=message,
        submitted_at=changed, status_changed_at=changed, is_internal=internal, possible_duplicate=duplicate,
        closed_at=now if status in TERMINAL else None,
    )
    if cv:
        application.cv.save(f"{application.reference}.pdf", ContentFile(pdf_bytes(f"CV de {first_name} {last_name}")), save=False)
    if letter:
        application.cover_letter.save(f"{application.reference}-lettre.pdf", ContentFile(pdf_bytes("Lettre")), save=False)
    application.save()
    ApplicationEvent.objects.create(application=application, kind="move", to_status=status, at=changed,
                                    reason="Candidature déposée")
    return application


def add_recruiter(opening, user):
    opening.recruiters.add(user)
    publish(opening)
    return user


def schedule(application, actor, jury, *, days=3, now=None):
    return interviews.schedule_interview(
        application=application, starts_at=timezone.now() + timedelta(days=days), duration_minutes=45,
        location="Hôtel de Ville, salle 101", interviewer_ids=[user.pk for user in jury], actor=actor, now=now,
    )


def jury_member(username, **kwargs):
    return UserFactory(username=username, groups=["Interviewers"], **kwargs)


def url(name, *args):
    return reverse(f"recruitment_admin:{name}", args=args)


# --- the permission matrix ------------------------------------------------------------------

OK, DENIED, NOT_FOUND, LOGIN = "ok", "denied", "404", "login"
ENDPOINTS = ["openings", "board", "application", "file", "move", "bulk_reject", "bulk_move", "undo", "close", "schedule",
             "my_scorecards", "scorecard", "summary"]
ROLES = ["anonymous", "agent", "interviewer", "other_interviewer", "recruiter", "other_recruiter", "hr"]
EVERYTHING_BUT_SCORECARDS = {name: OK for name in ENDPOINTS} | {"my_scorecards": DENIED, "scorecard": NOT_FOUND}
EXPECTED = {
    "anonymous": {},
    "agent": {},
    "interviewer": {"application": OK, "file": OK, "my_scorecards": OK, "scorecard": OK},
    "other_interviewer": {"application": NOT_FOUND, "file": NOT_FOUND, "move": NOT_FOUND, "schedule": NOT_FOUND,
                          "my_scorecards": OK, "scorecard": NOT_FOUND, "summary": NOT_FOUND},
    "recruiter": EVERYTHING_BUT_SCORECARDS,
    "other_recruiter": {"openings": OK, "application": NOT_FOUND, "file": NOT_FOUND, "move": NOT_FOUND,
                        "schedule": NOT_FOUND, "scorecard": NOT_FOUND, "summary": NOT_FOUND},
    "hr": EVERYTHING_BUT_SCORECARDS,
}
NO_ADMIN = {"anonymous", "agent"}


def expected(role, endpoint):
    return EXPECTED[role].get(endpoint, LOGIN if role in NO_ADMIN else DENIED)


@pytest.fixture
def world(openings, recruiter):
    """One opening managed by ``recruiter`` with: an application at the interview stage (its
    interview has ``interviewer`` on the jury), a received one (to reject), a rejected one
    from a bulk action (to undo); and users for every role."""
    opening = openings["open"]
    users = {
        "agent": AgentFactory(user__username="agent_x").user,
        "interviewer": jury_member("jury", first_name="Jules", last_name="Juré"),
        "other_interviewer": jury_member("jury_other"),
        "recruiter": recruiter,
        "other_recruiter": add_recruiter(openings["internal"], UserFactory(username="recruiter2", groups=["Recruiters"])),
        "hr": UserFactory(username="hr_user", groups=["HR"]),
    }
    interviewing = make_application(opening, status=ApplicationStatus.SHORTLISTED, first_name="Inès", last_name="Martin")
    schedule(interviewing, recruiter, [users["interviewer"]])
    interviewing.refresh_from_db()
    received = make_application(opening, first_name="Rémi", last_name="Leroy")
    undone = make_application(opening, status=ApplicationStatus.SCREENING, first_name="Zoé", last_name="Petit")
    batch, _count = actions.bulk_reject(application_ids=[undone.pk], actor=users["hr"], reason="Hors délai", send=False)
    return {
        "opening": opening, "users": users, "application": interviewing, "received": received, "undone": undone,
        "batch": batch, "scorecard": Scorecard.objects.get(application=interviewing, interviewer=users["interviewer"]),
    }


def call(client, endpoint, world):
    opening, application = world["opening"], world["application"]
    future = (timezone.localtime() + timedelta(days=5)).strftime("%Y-%m-%d %H:%M")
    requests = {
        "openings": ("get", url("openings"), None),
        "board": ("get", url("board", opening.pk), None),
        "application": ("get", url("application", application.pk), None),
        "file": ("get", url("file", application.pk, "cv"), None),
        "move": ("post", url("move", application.pk), {"status": "shortlisted", "reason": "Revoir le dossier"}),
        "bulk_reject": ("post", url("bulk_reject", opening.pk),
                        {"applications": [world["received"].pk], "reason": "Profil éloigné", "message": "none",
                         "confirm": "1"}),
        "bulk_move": ("post", url("bulk_move", opening.pk),
                      {"applications": [world["received"].pk], "status": "screening", "confirm": "1"}),
        "undo": ("post", url("undo"), {"batch": world["batch"]}),
        "close": ("post", url("close", opening.pk), {"state": "filled", "confirm": "on"}),
        "schedule": ("post", url("schedule", application.pk),
                     {"starts_at": future, "duration_minutes": "30", "location": "Salle 2",
                      "interviewers": [world["users"]["interviewer"].pk]}),
        "my_scorecards": ("get", url("my_scorecards"), None),
        "scorecard": ("get", url("scorecard", world["scorecard"].pk), None),
        "summary": ("get", url("scorecard_summary", application.pk), None),
    }
    method, address, data = requests[endpoint]
    return getattr(client, method)(address, data) if data is not None else getattr(client, method)(address)


def effect(endpoint, world):
    """Did the POST change what it should have changed?"""
    refresh = {key: Application.objects.get(pk=world[key].pk) for key in ("application", "received", "undone")}
    return {
        "move": refresh["application"].status == ApplicationStatus.SHORTLISTED,
        "bulk_reject": refresh["received"].status == ApplicationStatus.REJECTED,
        "bulk_move": refresh["received"].status == ApplicationStatus.SCREENING,
        "undo": refresh["undone"].status == ApplicationStatus.SCREENING,
        "close": type(world["opening"]).objects.get(pk=world["opening"].pk).recruitment_state == OpeningState.FILLED,
        "schedule": Interview.objects.filter(application=world["application"]).count() == 2,
    }.get(endpoint)


POSTS = ["move", "bulk_reject", "bulk_move", "undo", "close", "schedule"]
GETS = [name for name in ENDPOINTS if name not in POSTS]


def check(client, world, role, endpoint):
    client.logout()
    if role != "anonymous":
        client.force_login(world["users"][role])
    response = call(client, endpoint, world)
    outcome, where = expected(role, endpoint), f"{role} → {endpoint}"
    if outcome == OK:
        if endpoint in POSTS:
            assert response.status_code == 302, (where, response.content.decode()[:2000])
            assert effect(endpoint, world) is True, where
        elif endpoint == "file":
            assert response.status_code == 200, where
            assert response["Content-Disposition"].startswith("attachment"), where
            assert b"".join(response.streaming_content).startswith(b"%PDF"), where
        else:
            assert response.status_code == 200, where
        return
    if outcome == NOT_FOUND:
        assert response.status_code == 404, where
    elif outcome == DENIED:  # Wagtail's "permission denied": back to the dashboard with a message
        assert response.status_code == 302, where
        assert response["Location"] == reverse("wagtailadmin_home"), where
    else:  # no admin access at all: the login page
        assert response.status_code == 302, where
        assert response["Location"].startswith(reverse("wagtailadmin_login")), where
    assert effect(endpoint, world) in (None, False), where


@pytest.mark.parametrize("endpoint", GETS)
def test_permission_matrix_reads(client, world, endpoint):
    """GET views change nothing: every role is tried on the same data."""
    for role in ROLES:
        check(client, world, role, endpoint)


@pytest.mark.parametrize("endpoint", POSTS)
def test_permission_matrix_refused_writes(client, world, endpoint):
    """Every role that may not do it is refused, and nothing changes."""
    for role in ROLES:
        if expected(role, endpoint) != OK:
            check(client, world, role, endpoint)


@pytest.mark.parametrize("endpoint", POSTS)
@pytest.mark.parametrize("role", [role for role in ROLES if any(expected(role, e) == OK for e in POSTS)])
def test_permission_matrix_allowed_writes(client, world, role, endpoint):
    assert expected(role, endpoint) == OK
    check(client, world, role, endpoint)


@pytest.mark.parametrize(
    "role, shown",
    [("agent", set()), ("interviewer", {"mes-evaluations"}), ("recruiter", {"recrutement"}),
     ("hr", {"recrutement"}), ("recruiter_on_jury", {"recrutement", "mes-evaluations"})],
)
def test_menu_items(world, role, shown):
    user = world["users"].get(role)
    if role == "recruiter_on_jury":
        user = world["users"]["recruiter"]
        Scorecard.objects.create(application=world["received"], interviewer=user)
    request = RequestFactory().get("/admin/")
    request.user = user
    names = {item.name for item in admin_menu.menu_items_for_request(request)}
    assert names & {"recrutement", "mes-evaluations"} == shown


def test_selectors_filter_in_the_queryset(world):
    users, opening = world["users"], world["opening"]
    all_ids = set(Application.objects.values_list("pk", flat=True))
    visible = {role: set(selectors.applications_visible_to(users[role]).values_list("pk", flat=True)) for role in users}
    assert visible["hr"] == all_ids
    assert visible["recruiter"] == all_ids  # all three belong to the recruiter's opening
    assert visible["interviewer"] == {world["application"].pk}
    assert visible["other_interviewer"] == set()
    assert visible["other_recruiter"] == set()
    assert visible["agent"] == set()
    assert list(selectors.openings_managed_by(users["recruiter"])) == [opening]
    assert set(selectors.openings_managed_by(users["hr"])) == set(type(opening).objects.all())


# --- openings list and board ----------------------------------------------------------------


def test_openings_list_counts_per_status(client, openings, recruiter):
    opening = openings["open"]
    for status, n in ((ApplicationStatus.RECEIVED, 3), (ApplicationStatus.INTERVIEW, 2), (ApplicationStatus.REJECTED, 1)):
        for _i in range(n):
            make_application(opening, status=status, cv=False)
    make_application(openings["internal"], cv=False)  # not the recruiter's opening

    row = selectors.with_status_counts(selectors.openings_managed_by(recruiter)).get()
    assert (row.n_received, row.n_interview, row.n_hired, row.n_closed, row.n_active) == (3, 2, 0, 1, 5)

    client.force_login(recruiter)
    html = client.get(url("openings")).content.decode()
    assert opening.title in html and url("board", opening.pk) in html
    assert openings["internal"].title not in html


def test_board_counts_and_cards(client, openings, recruiter):
    opening = openings["open"]
    opening.stage_labels = {"interview": "Jury"}
    publish(opening)
    make_application(opening, first_name="Anne", last_name="Durand", internal=True, days_in_stage=4)
    make_application(opening, first_name="Paul", last_name="Morel", duplicate=True)
    make_application(opening, status=ApplicationStatus.INTERVIEW, first_name="Lina", last_name="Roux")
    make_application(opening, status=ApplicationStatus.REJECTED, first_name="Hugo", last_name="Blanc")
    make_application(opening, status=ApplicationStatus.HIRED, first_name="Léa", last_name="Fabre")

    board = selectors.board(opening)
    counts = {column.status: column.count for column in board.columns}
    assert counts == {s: {"received": 2, "interview": 1, "hired": 1}.get(s, 0) for s in PIPELINE}
    assert [column.label for column in board.columns][4] == "Jury"
    assert dict((s, n) for s, _label, n in board.closed)[ApplicationStatus.REJECTED] == 1
    assert (board.total, board.active) == (5, 3)
    received = board.columns[0].cards
    assert [card.name for card in received] == ["Anne Durand", "Paul Morel"]  # longest in stage first
    assert received[0].days_in_stage == 4

    client.force_login(recruiter)
    html = client.get(url("board", opening.pk)).content.decode()
    assert "Jury" in html and "Anne Durand" in html and "Interne" in html and "Doublon possible" in html
    assert "4 jours à l&#x27;étape" in html or "4 jours à l'étape" in html
    assert "Hugo Blanc" in html  # in the closed applications table
    assert 'name="applications"' in html and "Refuser la sélection" in html and "Clôturer le recrutement" in html


def test_board_columns_are_capped_but_counts_are_not(openings):
    opening = openings["open"]
    for _i in range(4):
        make_application(opening, cv=False)
    board = selectors.board(opening, limit=3)
    assert board.columns[0].count == 4
    assert len(board.columns[0].cards) == 3 and board.columns[0].hidden_count == 1


def _populate(opening, size):
    statuses = [ApplicationStatus.RECEIVED, ApplicationStatus.SCREENING, ApplicationStatus.INTERVIEW,
                ApplicationStatus.REJECTED, ApplicationStatus.SHORTLISTED]
    for i in range(size):
        make_application(opening, status=statuses[i % len(statuses)], cv=False, internal=i % 3 == 0, duplicate=i % 4 == 0)


def _count_queries(client, address):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(address)
    assert response.status_code == 200
    return len(queries)


def test_board_query_count_does_not_grow(client, openings, recruiter):
    opening = openings["open"]
    client.force_login(recruiter)
    _populate(opening, 5)
    client.get(url("board", opening.pk))  # warm caches (site root paths, content types)
    small = _count_queries(client, url("board", opening.pk))
    _populate(opening, 35)
    assert Application.objects.filter(opening=opening).count() == 40
    large = _count_queries(client, url("board", opening.pk))
    assert small == large


def test_openings_and_application_pages_query_counts_do_not_grow(client, openings, recruiter):
    opening = openings["open"]
    client.force_login(recruiter)
    application = make_application(opening, status=ApplicationStatus.SHORTLISTED)
    _populate(opening, 5)
    client.get(url("openings"))
    client.get(url("application", application.pk))
    small = (_count_queries(client, url("openings")), _count_queries(client, url("application", application.pk)))
    _populate(opening, 30)
    for i in range(20):
        ApplicationEvent.objects.create(application=application, kind="note", reason=f"Note {i}", actor=recruiter,
                                        at=timezone.now())
    large = (_count_queries(client, url("openings")), _count_queries(client, url("application", application.pk)))
    assert small == large


# --- anonymised screening -------------------------------------------------------------------


def test_anonymised_screening_hides_identity_until_the_application_leaves_screening(client, openings, recruiter):
    opening = openings["open"]
    opening.anonymised_screening = True
    publish(opening)
    application = make_application(opening, status=ApplicationStatus.SCREENING, first_name="Camille",
                                   last_name="Secret", email="camille.secret@example.org", letter=True,
                                   message="Cordialement, Camille Secret")
    MessageTemplate.objects.filter(kind=MessageKind.ACKNOWLEDGEMENT, language="fr").update(
        subject="Accusé", body="Bonjour {candidat_prenom} {candidat_nom}"
    )
    services.send_message(application_id=application.pk, kind=MessageKind.ACKNOWLEDGEMENT)
    client.force_login(recruiter)
    label = f"Candidat·e {application.reference}"
    assert selectors.display_name(application, opening) == label

    board = client.get(url("board", opening.pk)).content.decode()
    assert label in board and "Secret" not in board
    page = client.get(url("application", application.pk)).content.decode()
    assert label in page
    for secret in ("Secret", "camille.secret@example.org", "06 12 34 56 78", url("file", application.pk, "cv"),
                   url("file", application.pk, "lettre")):
        assert secret not in page
    assert "masqués pendant la présélection anonyme" in page
    for kind in ("cv", "lettre"):
        response = client.get(url("file", application.pk, kind))
        assert response.status_code == 302 and response["Location"] == url("application", application.pk)
        assert not hasattr(response, "streaming_content")

    actions.move(application_id=application.pk, to_status=ApplicationStatus.SHORTLISTED, actor=recruiter)
    page = client.get(url("application", application.pk)).content.decode()
    assert "Camille Secret" in page and "camille.secret@example.org" in page
    assert url("file", application.pk, "cv") in page and "Bonjour Camille Secret" in page
    response = client.get(url("file", application.pk, "cv"))
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="{application.reference}-cv.pdf"'
    assert b"Secret" in b"".join(response.streaming_content)


def test_without_anonymised_screening_names_show_from_the_start(openings):
    application = make_application(openings["open"], first_name="Nina", last_name="Visible")
    assert selectors.display_name(application, openings["open"]) == "Nina Visible"
    assert selectors.identity(application).files_available


def test_missing_file_is_a_404(client, openings, recruiter):
    application = make_application(openings["open"], cv=False)
    client.force_login(recruiter)
    assert client.get(url("file", application.pk, "cv")).status_code == 404
    assert client.get(url("file", application.pk, "passeport")).status_code == 404


# --- moves ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "start, target, message",
    [
        (ApplicationStatus.SCREENING, ApplicationStatus.REJECTED, "Le motif du refus est obligatoire."),
        (ApplicationStatus.REJECTED, ApplicationStatus.SCREENING, "La réouverture d&#x27;une candidature close exige un motif."),
        (ApplicationStatus.SHORTLISTED, ApplicationStatus.SCREENING, "Un retour à une étape précédente exige un motif."),
    ],
)
def test_moves_needing_a_reason_are_refused_on_the_field(client, openings, recruiter, start, target, message):
    application = make_application(openings["open"], status=start)
    client.force_login(recruiter)
    response = client.post(url("move", application.pk), {"status": target, "reason": "  "})
    assert response.status_code == 200
    html = response.content.decode()
    assert message in html
    assert 'id="move-error-summary-title"' in html  # error summary at the top of the form
    application.refresh_from_db()
    assert application.status == start
    assert not ApplicationEvent.objects.filter(application=application, to_status=target).exists()


def test_move_with_reason_is_recorded_with_actor_and_shown_in_the_timeline(client, openings, recruiter):
    application = make_application(openings["open"], status=ApplicationStatus.SCREENING)
    client.force_login(recruiter)
    response = client.post(url("move", application.pk), {"status": "rejected", "reason": "Diplôme requis absent",
                                                         "note": "Vu avec la DRH"})
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.status == ApplicationStatus.REJECTED and application.closed_at is not None
    event = ApplicationEvent.objects.filter(application=application, kind="move").last()
    assert (event.actor, event.from_status, event.to_status) == (recruiter, "screening", "rejected")
    assert "Diplôme requis absent" in event.reason and "Vu avec la DRH" in event.reason
    html = client.get(url("application", application.pk)).content.decode()
    assert "Diplôme requis absent" in html and "« Présélection » → « Non retenue »" in html


def test_move_conflict_is_a_message(client, openings, recruiter):
    application = make_application(openings["open"], status=ApplicationStatus.HIRED)
    client.force_login(recruiter)
    response = client.post(url("move", application.pk), {"status": "offer", "reason": "Erreur"}, follow=True)
    assert response.redirect_chain[-1][0] == url("application", application.pk)
    assert "Une candidature recrutée ne peut plus changer d&#x27;étape." in response.content.decode()
    assert Application.objects.get(pk=application.pk).status == ApplicationStatus.HIRED


# --- bulk rejection and undo ---------------------------------------------------------------


def test_bulk_reject_then_undo_restores_statuses_and_keeps_events(client, openings, recruiter, django_capture_on_commit_callbacks):
    opening = openings["open"]
    first = make_application(opening, status=ApplicationStatus.RECEIVED)
    second = make_application(opening, status=ApplicationStatus.SCREENING)
    untouched = make_application(opening, status=ApplicationStatus.RECEIVED)
    client.force_login(recruiter)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("bulk_reject", opening.pk),
                               {"applications": [first.pk, second.pk], "reason": "Profil éloigné", "message": "send"})
    # first the step that names what will happen; nothing is done yet
    assert response.status_code == 200
    html = response.content.decode()
    assert "Vous allez refuser 2 candidatures" in html and str(first.candidate) in html and str(second.candidate) in html
    assert str(untouched.candidate) not in html and "2 messages partiront après le refus." in html
    assert 'name="confirm" value="1"' in html and mail.outbox == []
    assert Application.objects.filter(status="rejected").count() == 0
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("bulk_reject", opening.pk),
                               {"applications": [first.pk, second.pk], "reason": "Profil éloigné", "message": "send",
                                "confirm": "1"})
    assert response.status_code == 302
    statuses = dict(Application.objects.values_list("pk", "status"))
    assert (statuses[first.pk], statuses[second.pk], statuses[untouched.pk]) == ("rejected", "rejected", "received")
    assert sorted(m.to[0] for m in mail.outbox) == sorted([first.candidate.email, second.candidate.email])
    batch = ApplicationEvent.objects.get(application=first, to_status="rejected").batch
    assert batch and ApplicationEvent.objects.filter(batch=batch).count() == 2

    board = client.get(response["Location"]).content.decode()  # the message carries the "Annuler" form
    assert url("undo") in board and f'value="{batch}"' in board and "2 candidatures refusées." in board

    response = client.post(url("undo"), {"batch": batch})
    assert response.status_code == 302 and response["Location"] == url("board", opening.pk)
    statuses = dict(Application.objects.values_list("pk", "status"))
    assert (statuses[first.pk], statuses[second.pk], statuses[untouched.pk]) == ("received", "screening", "received")
    assert Application.objects.get(pk=first.pk).closed_at is None
    assert ApplicationEvent.objects.filter(batch=batch).count() == 2  # the rejection events are kept
    assert ApplicationEvent.objects.filter(batch=f"undo-{batch}"[:32], actor=recruiter).count() == 2
    assert ApplicationEvent.objects.filter(kind="message", application__in=[first, second]).count() == 2


def test_bulk_reject_without_message_sends_nothing(client, openings, recruiter, django_capture_on_commit_callbacks):
    application = make_application(openings["open"])
    client.force_login(recruiter)
    with django_capture_on_commit_callbacks(execute=True):
        html = client.post(url("bulk_reject", openings["open"].pk),
                           {"applications": [application.pk], "reason": "Hors profil", "message": "none"}).content.decode()
        assert "Aucun message ne sera envoyé." in html
        client.post(url("bulk_reject", openings["open"].pk),
                    {"applications": [application.pk], "reason": "Hors profil", "message": "none", "confirm": "1"})
    assert Application.objects.get(pk=application.pk).status == ApplicationStatus.REJECTED
    assert mail.outbox == []


def test_bulk_reject_needs_a_reason_and_a_selection(client, openings, recruiter):
    opening = openings["open"]
    application = make_application(opening)
    client.force_login(recruiter)
    html = client.post(url("bulk_reject", opening.pk), {"applications": [application.pk], "reason": "", "message": "none"}).content.decode()
    assert "Le motif du refus est obligatoire." in html
    assert f'value="{application.pk}" id="select-{application.pk}" form="bulk-form" checked' in html  # selection kept
    html = client.post(url("bulk_reject", opening.pk), {"reason": "Hors profil", "message": "none"}).content.decode()
    assert "Cochez au moins une candidature." in html
    assert Application.objects.get(pk=application.pk).status == ApplicationStatus.RECEIVED


def test_bulk_reject_cannot_reach_another_openings_applications(client, openings, recruiter):
    foreign = make_application(openings["internal"])
    client.force_login(recruiter)
    response = client.post(url("bulk_reject", openings["open"].pk),
                           {"applications": [foreign.pk], "reason": "Hors profil", "message": "none", "confirm": "1"})
    assert response.status_code == 200
    assert Application.objects.get(pk=foreign.pk).status == ApplicationStatus.RECEIVED


def test_undo_is_refused_once_an_application_moved_again(client, openings, recruiter):
    application = make_application(openings["open"])
    batch, _n = actions.bulk_reject(application_ids=[application.pk], actor=recruiter, reason="Hors profil", send=False)
    actions.move(application_id=application.pk, to_status=ApplicationStatus.SCREENING, actor=recruiter, reason="Erreur")
    client.force_login(recruiter)
    html = client.post(url("undo"), {"batch": batch}, follow=True).content.decode()
    assert "a changé depuis : annulation impossible" in html
    assert Application.objects.get(pk=application.pk).status == ApplicationStatus.SCREENING


def test_undo_unknown_batch_is_a_404(client, openings, recruiter):
    client.force_login(recruiter)
    assert client.post(url("undo"), {"batch": "nope"}).status_code == 404


# --- closing an opening -----------------------------------------------------------------------


def test_close_opening_cancels_remaining_applications_and_blocks_moves(client, openings, recruiter):
    opening = openings["open"]
    active = [make_application(opening, status=s) for s in (ApplicationStatus.RECEIVED, ApplicationStatus.INTERVIEW)]
    rejected = make_application(opening, status=ApplicationStatus.REJECTED)
    hired = make_application(opening, status=ApplicationStatus.HIRED)
    client.force_login(recruiter)

    response = client.post(url("close", opening.pk), {"state": "filled"})  # the step that says what will happen
    assert response.status_code == 200
    html = response.content.decode()
    assert "2 candidatures encore en cours seront annulées." in html and "Poste pourvu" in html
    assert "Clôturer et annuler 2 candidatures" in html and 'name="confirm" value="1"' in html
    assert type(opening).objects.get(pk=opening.pk).recruitment_state == OpeningState.OPEN
    assert Application.objects.get(pk=active[0].pk).status == ApplicationStatus.RECEIVED

    response = client.post(url("close", opening.pk), {"state": "filled", "confirm": "on"}, follow=True)
    assert "2 candidatures en cours annulées" in response.content.decode()
    assert type(opening).objects.get(pk=opening.pk).recruitment_state == OpeningState.FILLED
    for application in active:
        application.refresh_from_db()
        assert application.status == ApplicationStatus.CANCELLED and application.closed_at is not None
        assert ApplicationEvent.objects.filter(application=application, to_status="cancelled", actor=recruiter).exists()
    assert Application.objects.get(pk=rejected.pk).status == ApplicationStatus.REJECTED
    assert Application.objects.get(pk=hired.pk).status == ApplicationStatus.HIRED

    board = client.get(url("board", opening.pk)).content.decode()
    assert "Recrutement clos" in board and 'id="bulk-form"' not in board and 'name="confirm"' not in board
    page = client.get(url("application", rejected.pk)).content.decode()
    assert url("move", rejected.pk) not in page
    response = client.post(url("move", rejected.pk), {"status": "screening", "reason": "Réouverture"}, follow=True)
    assert "plus aucun mouvement n&#x27;est possible" in response.content.decode()
    assert Application.objects.get(pk=rejected.pk).status == ApplicationStatus.REJECTED
    response = client.post(url("close", opening.pk), {"state": "cancelled", "confirm": "on"}, follow=True)
    assert "déjà clos" in response.content.decode()
    assert type(opening).objects.get(pk=opening.pk).recruitment_state == OpeningState.FILLED


def test_undo_after_closing_is_refused(openings, recruiter):
    opening = openings["open"]
    application = make_application(opening, status=ApplicationStatus.SCREENING)
    batch, _n = actions.bulk_reject(application_ids=[application.pk], actor=recruiter, reason="Hors profil", send=False)
    actions.close_opening(opening=opening, state=OpeningState.CANCELLED, actor=recruiter)
    with pytest.raises(Conflict):
        actions.undo_batch(batch=batch, actor=recruiter)
    assert Application.objects.get(pk=application.pk).status == ApplicationStatus.REJECTED


# --- data migration ---------------------------------------------------------------------------


def test_migration_grants_permissions_and_creates_default_templates(db):
    for name in ("Recruiters", "HR"):
        codenames = set(Group.objects.get(name=name).permissions.filter(content_type__app_label="recruitment")
                        .values_list("codename", flat=True))
        assert {"add_messagetemplate", "change_messagetemplate", "view_messagetemplate"} <= codenames
    assert Group.objects.get(name="Interviewers").permissions.filter(codename="access_admin").exists()
    pairs = set(MessageTemplate.objects.values_list("kind", "language"))
    assert pairs >= {(kind, language) for kind in MessageKind.values for language in ("fr", "en")}
    for template in MessageTemplate.objects.all():  # rewritten with placeholders by migration 0003
        assert "{offre_titre}" in template.body and "{candidat_prenom}" in template.body
        assert "{{" not in template.subject + template.body and "{%" not in template.subject + template.body
        template.full_clean()
    assert "{date_entretien} à {heure_entretien}" in MessageTemplate.objects.get(kind="interview", language="fr").body


def test_the_board_links_the_opening_edit_page_for_who_may_edit_it(client, openings, recruiter):
    from wagtail.models import GroupPagePermission

    opening = openings["open"]
    edit = reverse("wagtailadmin_pages:edit", args=[opening.pk])
    client.force_login(recruiter)
    # a recruiter of the opening without page permissions: the board, no edit link
    html = client.get(url("board", opening.pk)).content.decode()
    assert "Candidatures par étape" in html
    assert f'href="{edit}"' not in html

    # the Recruiters group may edit the openings under the job index (as seed_demo sets it up)
    GroupPagePermission.objects.create(
        group=Group.objects.get(name="Recruiters"), page=opening.get_parent(), permission_type="change"
    )
    html = client.get(url("board", opening.pk)).content.decode()
    assert "Modifier l&#x27;offre" in html or "Modifier l'offre" in html
    assert f'href="{edit}"' in html
