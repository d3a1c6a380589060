"""The recruitment API (DESIGN.md section 5): the permission matrix of every endpoint × every
role, public openings and applying (multipart, files checked by content, rate limit),
the applications list (visibility, anonymised screening, filters, cursor pagination),
moves, the report, constant query counts and the schema."""

import itertools
from datetime import date, datetime, timedelta
from types import SimpleNamespace

import pytest
from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from recruitment import interviews
from recruitment.choices import PIPELINE, TERMINAL, ApplicationStatus, OpeningState
from recruitment.models import Application, ApplicationEvent, Candidate, Interview, JobIndexPage, JobOpeningPage
from tests.factories import AgentFactory, OrgUnitFactory, UserFactory, api_token_for
from tests.recruitment.conftest import (
    big_pdf_upload,
    docx_upload,
    make_opening,
    odt_upload,
    pdf_bytes,
    pdf_upload,
    publish,
    text_as_pdf_upload,
)
from tests.recruitment.factories import set_opening_state

API = "/api/v1/"
ROLES = ["anonymous", "agent", "interviewer", "other_interviewer", "recruiter", "other_recruiter", "hr"]
OPENING_KEYS = {
    "id", "reference", "title", "url", "org_unit", "category", "corps", "grades", "employment_type", "locality",
    "application_deadline", "internal_only",
}  # fmt: skip
APPLICATION_KEYS = {
    "id", "reference", "opening", "status", "stage_label", "identity_hidden", "candidate", "message", "cv_url",
    "cover_letter_url", "is_internal", "possible_duplicate", "submitted_at", "status_changed_at", "closed_at",
}  # fmt: skip
_numbers = itertools.count(1)


# --- the world ------------------------------------------------------------------------------------


def add_application(
    opening,
    *,
    status=ApplicationStatus.RECEIVED,
    path=None,
    submitted_at=None,
    changed_at=None,
    internal=False,
    cv=False,
    first_name="Alice",
):
    """An application written to the database with its move events: ``path`` is the list of
    statuses it went through (default: straight to ``status``), one day apart."""
    n = next(_numbers)
    submitted_at = submitted_at or timezone.now() - timedelta(days=5)
    path = path or (
        [ApplicationStatus.RECEIVED] if status == ApplicationStatus.RECEIVED else [ApplicationStatus.RECEIVED, status]
    )
    changed_at = changed_at or submitted_at + timedelta(days=len(path) - 1)
    email = f"{first_name.lower()}.api{n}@example.org"
    candidate = Candidate.objects.create(
        first_name=first_name,
        last_name=f"Martin{n}",
        email=email,
        email_normalised=email,
        phone="06 11 22 33 44",
        phone_normalised="0611223344",
        last_contact_at=submitted_at,
    )
    application = Application(
        opening=opening,
        candidate=candidate,
        reference=f"C-API{n:05d}",
        status=path[-1],
        message="Motivée.",
        submitted_at=submitted_at,
        status_changed_at=changed_at,
        is_internal=internal,
        closed_at=changed_at if path[-1] in TERMINAL else None,
    )
    if cv:
        application.cv.save(f"{application.reference}.pdf", ContentFile(pdf_bytes()), save=False)
    application.save()
    step = (changed_at - submitted_at) / max(len(path) - 1, 1)
    ApplicationEvent.objects.bulk_create(
        [
            ApplicationEvent(
                application=application,
                kind="move",
                from_status=path[i - 1] if i else "",
                to_status=status_,
                at=submitted_at + step * i,
                reason="Motif" if status_ == ApplicationStatus.REJECTED else "",
            )
            for i, status_ in enumerate(path)
        ]
    )
    return application


def make_world():
    from cms.services import ensure_home_page

    direction = OrgUnitFactory(code="DRH", name="Direction des ressources humaines", kind="direction")
    service = OrgUnitFactory(code="DRH-SRC", name="Service du recrutement", kind="service", parent=direction)
    home = ensure_home_page()
    index = JobIndexPage(title="Offres d'emploi", slug="offres")
    home.add_child(instance=index)
    index = publish(index)
    users = {
        "agent": AgentFactory(user__username="agent", org_unit=service).user,
        "interviewer": UserFactory(username="interviewer", groups=["Interviewers"]),
        "other_interviewer": UserFactory(username="other_interviewer", groups=["Interviewers"]),
        "recruiter": UserFactory(username="recruiter", groups=["Recruiters"]),
        "other_recruiter": UserFactory(username="other_recruiter", groups=["Recruiters"]),
        "hr": AgentFactory(user__username="hr", user__groups=["HR"], org_unit=direction).user,
    }
    today = timezone.localdate()
    openings = {
        "mine": make_opening(index, org_unit=service, reference="API-001", title="Gestionnaire recrutement"),
        "theirs": make_opening(index, org_unit=direction, reference="API-002", title="Chargé de paie", category="C"),
        "anonymised": make_opening(
            index, org_unit=service, reference="API-003", title="Juriste", category="A", anonymised_screening=True
        ),
        "internal": make_opening(
            index, org_unit=service, reference="API-004", title="Chef de bureau", internal_only=True
        ),
        "closed": make_opening(
            index,
            org_unit=direction,
            reference="API-005",
            title="Assistant",
            application_deadline=today - timedelta(days=1),
        ),
    }
    for key in ("mine", "anonymised", "internal", "closed"):
        openings[key].recruiters.add(users["recruiter"])
        publish(openings[key])
    openings["theirs"].recruiters.add(users["other_recruiter"])
    publish(openings["theirs"])
    apps = {
        "jury": add_application(openings["mine"], status=ApplicationStatus.SHORTLISTED, cv=True),
        "mine": add_application(openings["mine"], cv=True),
        "theirs": add_application(openings["theirs"]),
        "hidden": add_application(openings["anonymised"], status=ApplicationStatus.SCREENING, cv=True),
    }
    interviews.schedule_interview(
        application=apps["jury"],
        starts_at=timezone.now() + timedelta(days=3),
        duration_minutes=45,
        location="Hôtel de Ville",
        interviewer_ids=[users["interviewer"].pk],
        actor=users["recruiter"],
    )
    return SimpleNamespace(index=index, service=service, direction=direction, users=users, openings=openings, apps=apps)


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """Built once for the module inside a transaction rolled back at its end; each test runs in
    its own savepoint. Tests re-read what they change."""
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            yield make_world()
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


def client_for(world, role):
    client = APIClient()
    if role != "anonymous":
        client.force_login(world.users[role])
    return client


def application_form(**overrides):
    data = {
        "first_name": "Jeanne", "last_name": "Moreau", "email": "jeanne.moreau@example.org", "phone": "06 98 76 54 32",
        "cv": pdf_upload(), "message": "Bonjour, je candidate.", "consent_pool": "true",
    }  # fmt: skip
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def apply(client, opening, **overrides):
    return client.post(f"{API}openings/{opening.pk}/applications/", application_form(**overrides), format="multipart")


def references(response):
    assert response.status_code == 200, response.content
    return {item["reference"] for item in response.json()["results"]}


# --- permission matrix --------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_matrix_openings_list(world, role):
    response = client_for(world, role).get(f"{API}openings/")
    expected = {"API-001", "API-002", "API-003"}
    if role in ("agent", "hr"):  # agents (an Agent profile) also see internal-only openings
        expected.add("API-004")
    assert references(response) == expected  # never the closed one


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_matrix_apply(world, role):
    client = client_for(world, role)
    response = apply(client, world.openings["mine"], email=f"{role}@example.org")
    assert response.status_code == 201, response.content
    application = Application.objects.get(reference=response.json()["reference"])
    assert application.is_internal is (role in ("agent", "hr"))
    internal = apply(client, world.openings["internal"], email=f"{role}.2@example.org")
    assert internal.status_code == (201 if role in ("agent", "hr") else 404), internal.content


@pytest.mark.django_db
@pytest.mark.parametrize(
    "role, visible",
    [
        ("anonymous", None),
        ("agent", set()),
        ("interviewer", {"jury"}),
        ("other_interviewer", set()),
        ("recruiter", {"jury", "mine", "hidden"}),
        ("other_recruiter", {"theirs"}),
        ("hr", {"jury", "mine", "hidden", "theirs"}),
    ],
)
def test_matrix_applications_list(world, role, visible):
    response = client_for(world, role).get(f"{API}applications/")
    if visible is None:
        assert response.status_code == 401
        assert response.json()["detail"]
        return
    assert references(response) == {world.apps[key].reference for key in visible}


@pytest.mark.django_db
@pytest.mark.parametrize(
    "role, target, code",
    [
        ("anonymous", "mine", 401),
        ("agent", "mine", 404),
        ("interviewer", "mine", 404),
        ("interviewer", "jury", 403),  # visible (on the jury), but not a manager of the opening
        ("other_interviewer", "jury", 404),
        ("other_recruiter", "mine", 404),
        ("other_recruiter", "theirs", 200),
        ("recruiter", "theirs", 404),
        ("recruiter", "mine", 200),
        ("hr", "mine", 200),
        ("hr", "theirs", 200),
    ],
)
def test_matrix_move(world, role, target, code):
    response = client_for(world, role).post(
        f"{API}applications/{world.apps[target].pk}/actions/move/",
        {"status": "admissibility", "note": "Dossier complet"},
        format="json",
    )
    assert response.status_code == code, response.content
    application = Application.objects.get(pk=world.apps[target].pk)
    if code == 200:
        assert response.json()["status"] == application.status == "admissibility"
        event = application.events.filter(kind="move").last()
        assert event.actor == world.users[role] and event.reason == "Dossier complet"
    else:
        assert response.json()["detail"]
        assert application.status != "admissibility"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "role, code",
    [("anonymous", 401), ("agent", 403), ("interviewer", 403), ("other_interviewer", 403), ("recruiter", 200),
     ("other_recruiter", 200), ("hr", 200)],
)  # fmt: skip
def test_matrix_report(world, role, code):
    response = client_for(world, role).get(f"{API}recruitment/report/")
    assert response.status_code == code, response.content
    if code == 200:
        expected = {"recruiter": 3, "other_recruiter": 1, "hr": 4}[role]
        assert response.json()["applications"] == expected


@pytest.mark.django_db
def test_a_user_listed_as_recruiter_without_the_group_may_read_the_report_of_their_openings(world):
    user = UserFactory(username="lent_recruiter")
    opening = JobOpeningPage.objects.get(pk=world.openings["theirs"].pk)
    opening.recruiters.add(user)
    publish(opening)
    client = APIClient()
    client.force_login(user)
    assert client.get(f"{API}recruitment/report/").json()["applications"] == 1
    assert references(client.get(f"{API}applications/")) == {world.apps["theirs"].reference}


# --- openings ---------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_opening_item_shape(world):
    items = APIClient().get(f"{API}openings/").json()["results"]
    item = next(i for i in items if i["reference"] == "API-002")
    assert set(item) == OPENING_KEYS
    opening = world.openings["theirs"]
    assert item["id"] == opening.pk and item["title"] == "Chargé de paie"
    assert item["url"].startswith("http") and item["url"].endswith(opening.url) and opening.url == "/offres/api-002/"
    assert item["org_unit"] == {"code": "DRH", "name": "Direction des ressources humaines"}
    assert item["category"] == "C" and item["employment_type"] == "FULL_TIME" and item["locality"] == "Paris"
    assert item["application_deadline"] == opening.application_deadline.isoformat()
    assert item["internal_only"] is False


@pytest.mark.django_db
def test_unpublished_filled_and_cancelled_openings_are_not_listed(world):
    set_opening_state(world.openings["mine"], OpeningState.FILLED)
    JobOpeningPage.objects.get(pk=world.openings["theirs"].pk).unpublish()
    assert references(APIClient().get(f"{API}openings/")) == {"API-003"}


@pytest.mark.django_db
def test_openings_list_queries_do_not_grow(world):
    def count():
        with CaptureQueriesContext(connection) as ctx:
            response = APIClient().get(f"{API}openings/?page_size=1000")
        assert response.status_code == 200
        return len(ctx.captured_queries), len(response.json()["results"])

    count()  # warm Wagtail's site root paths cache
    small, n_small = count()
    for number in range(6):
        make_opening(world.index, org_unit=world.service, reference=f"API-1{number:02d}")
    large, n_large = count()
    assert n_large == n_small + 6
    assert small == large


# --- applying ------------------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("upload", [pdf_upload, docx_upload, odt_upload])
def test_apply_happy_path_with_each_document_type(world, upload, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = apply(APIClient(), world.openings["mine"], cv=upload(), cover_letter=pdf_upload("lettre.pdf"))
    assert response.status_code == 201, response.content
    assert set(response.json()) == {"reference"}
    application = Application.objects.select_related("candidate").get(reference=response.json()["reference"])
    assert application.opening_id == world.openings["mine"].pk and application.status == "received"
    candidate = application.candidate
    assert (candidate.first_name, candidate.last_name, candidate.email) == (
        "Jeanne",
        "Moreau",
        "jeanne.moreau@example.org",
    )
    assert candidate.pool_consent is True and application.message == "Bonjour, je candidate."
    assert application.cv and application.cover_letter and not application.is_internal
    assert [m.to for m in mailoutbox] == [["jeanne.moreau@example.org"]]  # the acknowledgement


@pytest.mark.django_db
def test_a_text_file_renamed_pdf_is_refused_naming_the_field(world):
    response = apply(APIClient(), world.openings["mine"], cv=text_as_pdf_upload())
    assert response.status_code == 400
    body = response.json()
    assert list(body["errors"]) == ["cv"]
    assert "n'est pas un PDF, un DOCX ou un ODT" in body["errors"]["cv"][0] and "cv" in body["detail"]
    assert not Application.objects.filter(candidate__email="jeanne.moreau@example.org").exists()


@pytest.mark.django_db
def test_a_cv_over_5_mb_is_refused(world):
    response = apply(APIClient(), world.openings["mine"], cv=big_pdf_upload())
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["cv"] and "5 Mo" in response.json()["errors"]["cv"][0]


@pytest.mark.django_db
def test_a_bad_cover_letter_is_refused_naming_it(world):
    response = apply(APIClient(), world.openings["mine"], cover_letter=text_as_pdf_upload("lettre.pdf"))
    assert response.status_code == 400 and list(response.json()["errors"]) == ["cover_letter"]


@pytest.mark.django_db
def test_missing_fields_are_all_named_at_once(world):
    response = apply(APIClient(), world.openings["mine"], first_name="", last_name=None, email=None, cv=None)
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"first_name", "last_name", "email", "cv"}
    assert Candidate.objects.filter(first_name="Jeanne").count() == 0


@pytest.mark.django_db
def test_bad_email_phone_and_overlong_name_are_named(world):
    response = apply(APIClient(), world.openings["mine"], email="pas-une-adresse", phone="12")
    assert response.status_code == 400 and set(response.json()["errors"]) == {"email", "phone"}
    response = apply(APIClient(), world.openings["mine"], first_name="x" * 151, cv=text_as_pdf_upload())
    assert response.status_code == 400 and set(response.json()["errors"]) == {"first_name", "cv"}


@pytest.mark.django_db
def test_closed_opening_is_a_409_with_the_reason(world):
    response = apply(APIClient(), world.openings["closed"])
    assert response.status_code == 409
    assert "date limite" in response.json()["detail"]
    set_opening_state(world.openings["mine"], OpeningState.FILLED)
    response = apply(APIClient(), world.openings["mine"])
    assert response.status_code == 409 and "clos" in response.json()["detail"]


@pytest.mark.django_db
def test_unknown_unpublished_and_internal_openings_are_404(world):
    assert apply(APIClient(), SimpleNamespace(pk=987654)).status_code == 404
    assert apply(APIClient(), world.openings["internal"]).status_code == 404
    JobOpeningPage.objects.get(pk=world.openings["theirs"].pk).unpublish()
    response = apply(APIClient(), world.openings["theirs"])
    assert response.status_code == 404 and response.json()["detail"]


@pytest.mark.django_db
def test_a_second_application_by_the_same_person_is_a_409(world):
    assert apply(APIClient(), world.openings["mine"]).status_code == 201
    response = apply(APIClient(), world.openings["mine"], email="JEANNE.MOREAU@example.org")
    assert response.status_code == 409 and "existe déjà" in response.json()["detail"]


@pytest.mark.django_db
def test_applications_are_limited_to_5_an_hour_per_address(world):
    client = APIClient()
    for number in range(5):
        response = apply(client, world.openings["mine"], email=f"rafale{number}@example.org", phone=None)
        assert response.status_code == 201, response.content
    response = apply(client, world.openings["mine"], email="rafale6@example.org", phone=None)
    assert response.status_code == 429
    assert response.json()["detail"] and int(response["Retry-After"]) > 0
    assert not Candidate.objects.filter(email="rafale6@example.org").exists()
    # X-Forwarded-For is not trusted: it does not open a new allowance.
    response = client.post(
        f"{API}openings/{world.openings['mine'].pk}/applications/",
        application_form(email="rafale7@example.org", phone=None),
        format="multipart",
        HTTP_X_FORWARDED_FOR="203.0.113.9",
    )
    assert response.status_code == 429
    # Another client address has its own allowance.
    response = client.post(
        f"{API}openings/{world.openings['mine'].pk}/applications/",
        application_form(email="rafale8@example.org", phone=None),
        format="multipart",
        REMOTE_ADDR="203.0.113.10",
    )
    assert response.status_code == 201


@pytest.mark.django_db
def test_applying_takes_multipart_only(world):
    response = APIClient().post(
        f"{API}openings/{world.openings['mine'].pk}/applications/", {"first_name": "Jeanne"}, format="json"
    )
    assert response.status_code == 415


# --- applications ------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_application_item_shape_and_file_url(world):
    items = client_for(world, "recruiter").get(f"{API}applications/").json()["results"]
    item = next(i for i in items if i["reference"] == world.apps["mine"].reference)
    assert set(item) == APPLICATION_KEYS
    application = world.apps["mine"]
    assert item["opening"] == {
        "id": world.openings["mine"].pk,
        "reference": "API-001",
        "title": "Gestionnaire recrutement",
    }
    assert item["status"] == "received" and item["stage_label"] == "Reçue" and item["identity_hidden"] is False
    assert item["candidate"]["first_name"] == "Alice" and item["candidate"]["email"] == application.candidate.email
    assert item["candidate"]["full_name"] == str(application.candidate)
    assert item["cv_url"] == f"http://127.0.0.1:8000/api/v1/applications/{application.pk}/cv/"
    assert item["cover_letter_url"] is None and item["message"] == "Motivée."
    assert item["closed_at"] is None and item["submitted_at"]


@pytest.mark.django_db
def test_anonymised_screening_hides_identity_until_the_application_leaves_screening(world):
    client = client_for(world, "recruiter")
    application = world.apps["hidden"]
    item = client.get(f"{API}applications/?opening={world.openings['anonymised'].pk}").json()["results"][0]
    assert item["identity_hidden"] is True
    assert item["candidate"] == {
        "full_name": f"Candidat·e {application.reference}",
        "first_name": None,
        "last_name": None,
        "email": None,
        "phone": None,
    }
    assert item["message"] is None and item["cv_url"] is None
    response = client.post(
        f"{API}applications/{application.pk}/actions/move/", {"status": "shortlisted"}, format="json"
    )
    assert response.status_code == 200
    item = response.json()
    assert item["identity_hidden"] is False and item["candidate"]["first_name"] == "Alice" and item["cv_url"]


@pytest.mark.django_db
def test_filters_opening_and_status(world):
    client = client_for(world, "hr")
    assert references(client.get(f"{API}applications/?opening={world.openings['mine'].pk}")) == {
        world.apps["jury"].reference,
        world.apps["mine"].reference,
    }
    assert references(client.get(f"{API}applications/?status=received")) == {
        world.apps["mine"].reference,
        world.apps["theirs"].reference,
    }
    assert references(client.get(f"{API}applications/?status=screening,interview")) == {
        world.apps["hidden"].reference,
        world.apps["jury"].reference,
    }


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query, field", [("status=nope", "status"), ("opening=abc", "opening"), ("opening=-1", "opening")]
)
def test_bad_filters_are_a_400_naming_the_parameter(world, query, field):
    response = client_for(world, "hr").get(f"{API}applications/?{query}")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == [field] and field in response.json()["detail"]


@pytest.mark.django_db
def test_cursor_pagination_walks_every_application_once(world):
    for _ in range(5):
        add_application(world.openings["mine"])
    client = client_for(world, "hr")
    seen, url = [], f"{API}applications/?page_size=2"
    while url:
        body = client.get(url).json()
        seen += [item["id"] for item in body["results"]]
        url = body["next"]
    assert seen == sorted(Application.objects.values_list("pk", flat=True))


def count_queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
        assert response.status_code == 200, response.content
    return len(ctx.captured_queries)


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["hr", "recruiter", "interviewer"])
def test_applications_list_queries_do_not_grow(world, role):
    urls = [f"{API}applications/?page_size=100", f"{API}applications/?page_size=1000",
            f"{API}applications/?status=received,interview&opening={world.openings['mine'].pk}"]  # fmt: skip
    small = [count_queries(client_for(world, role), url) for url in urls]
    for index in range(40):
        add_application(
            world.openings["mine" if index % 2 else "anonymised"],
            cv=index % 3 == 0,
            status=ApplicationStatus.SCREENING if index % 5 else ApplicationStatus.RECEIVED,
        )
    large = [count_queries(client_for(world, role), url) for url in urls]
    assert small == large


# --- moves ------------------------------------------------------------------------------------------------------


def move(world, role, key, **data):
    return client_for(world, role).post(f"{API}applications/{world.apps[key].pk}/actions/move/", data, format="json")


@pytest.mark.django_db
def test_a_rejection_needs_a_reason_naming_the_field(world):
    response = move(world, "recruiter", "mine", status="rejected")
    assert response.status_code == 400 and list(response.json()["errors"]) == ["reason"]
    response = move(world, "recruiter", "mine", status="rejected", reason="Profil éloigné du poste")
    assert response.status_code == 200 and response.json()["status"] == "rejected" and response.json()["closed_at"]


@pytest.mark.django_db
@pytest.mark.parametrize("data", [{"status": "nope"}, {}, {"status": "received", "reason": "x" * 5001}])
def test_bad_move_payload_is_a_400_naming_the_field(world, data):
    response = move(world, "recruiter", "mine", **data)
    assert response.status_code == 400
    assert set(response.json()["errors"]) <= {"status", "reason"} and response.json()["errors"]


@pytest.mark.django_db
def test_impossible_moves_are_409_with_the_reason(world):
    same = move(world, "recruiter", "mine", status="received")
    assert same.status_code == 409 and "déjà" in same.json()["detail"]
    pending = move(world, "recruiter", "jury", status="decision")  # the jury's scorecard is not in
    assert pending.status_code == 409 and "grilles" in pending.json()["detail"]
    set_opening_state(world.openings["mine"], OpeningState.CANCELLED)
    closed = move(world, "recruiter", "mine", status="screening")
    assert closed.status_code == 409 and "clos" in closed.json()["detail"]


@pytest.mark.django_db
def test_move_to_hired_after_the_scorecards_are_in(world):
    scorecard = world.apps["jury"].scorecards.get()
    # The interview took place yesterday: a scorecard cannot be submitted before it.
    Interview.objects.filter(application=world.apps["jury"]).update(starts_at=timezone.now() - timedelta(days=1))
    interviews.submit_scorecard(
        scorecard_id=scorecard.pk,
        actor=world.users["interviewer"],
        scores=dict.fromkeys(scorecard.CRITERIA, 4),
        recommendation="yes",
    )
    for status in ("decision", "offer", "hired"):
        response = move(world, "recruiter", "jury", status=status)
        assert response.status_code == 200, response.content
    assert Application.objects.get(pk=world.apps["jury"].pk).status == "hired"
    assert move(world, "hr", "jury", status="offer", reason="Erreur").status_code == 409


@pytest.mark.django_db
def test_move_is_post_only(world):
    response = client_for(world, "hr").get(f"{API}applications/{world.apps['mine'].pk}/actions/move/")
    assert response.status_code == 405


# --- report --------------------------------------------------------------------------------------------------------

DAY = timedelta(days=1)
P = ApplicationStatus


def at(day):
    return timezone.make_aware(datetime.combine(day, datetime.min.time())) + timedelta(hours=10)


def known_dataset(world):
    """Six applications on a fresh opening, with known paths and dates (see the test)."""
    opening = make_opening(world.index, org_unit=world.service, reference="API-RPT", title="Rapport")
    opening.recruiters.add(world.users["other_recruiter"])
    publish(opening)
    start = date(2025, 3, 1)
    add_application(opening, path=[P.RECEIVED], submitted_at=at(start))
    add_application(opening, path=[P.RECEIVED, P.ADMISSIBILITY, P.SCREENING, P.REJECTED], submitted_at=at(start + DAY))
    add_application(opening, path=PIPELINE, submitted_at=at(start + 2 * DAY), changed_at=at(start + 32 * DAY))
    add_application(
        opening, path=PIPELINE, submitted_at=at(start + 3 * DAY), changed_at=at(start + 13 * DAY), internal=True
    )
    # Skips straight to shortlisted, then withdrawn: it still passed admissibility and screening.
    add_application(opening, path=[P.RECEIVED, P.SHORTLISTED, P.WITHDRAWN], submitted_at=at(start + 4 * DAY))
    # Submitted before the period (not in the funnel) but hired in it, after 40 days.
    add_application(opening, path=PIPELINE, submitted_at=at(start - 20 * DAY), changed_at=at(start + 20 * DAY))
    # Submitted after the period: nowhere.
    add_application(opening, path=[P.RECEIVED], submitted_at=at(date(2025, 5, 1)))
    return opening


@pytest.mark.django_db
def test_report_figures_on_a_known_dataset(world):
    opening = known_dataset(world)
    response = client_for(world, "hr").get(
        f"{API}recruitment/report/?from=2025-03-01&to=2025-04-30&opening={opening.pk}"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["period"] == {"from": "2025-03-01", "to": "2025-04-30"}
    assert body["opening"] == {"id": opening.pk, "reference": "API-RPT", "title": "Rapport"}
    assert body["applications"] == 5
    funnel = {stage["status"]: stage["count"] for stage in body["funnel"]}
    assert [stage["status"] for stage in body["funnel"]] == list(PIPELINE)
    assert funnel == {
        "received": 5,
        "admissibility": 4,
        "screening": 4,
        "shortlisted": 3,
        "interview": 2,
        "decision": 2,
        "offer": 2,
        "hired": 2,
    }
    assert body["funnel"][0]["rate"] == 1.0 and body["funnel"][-1]["rate"] == 0.4
    assert body["funnel"][3]["step_rate"] == 0.75
    outcomes = {row["status"]: row["count"] for row in body["outcomes"] if row["count"]}
    assert outcomes == {"received": 1, "rejected": 1, "hired": 2, "withdrawn": 1}
    assert body["time_to_hire"] == {"hires": 3, "median_days": 30.0, "mean_days": 26.7}
    assert body["internal_external"] == {
        "internal": {"applications": 1, "hires": 1},
        "external": {"applications": 4, "hires": 2},
    }


@pytest.mark.django_db
def test_report_of_a_recruiter_covers_their_openings_only(world):
    opening = known_dataset(world)  # other_recruiter's
    query = "from=2025-03-01&to=2025-04-30"
    assert client_for(world, "other_recruiter").get(f"{API}recruitment/report/?{query}").json()["applications"] == 5
    assert client_for(world, "recruiter").get(f"{API}recruitment/report/?{query}").json()["applications"] == 0
    response = client_for(world, "recruiter").get(f"{API}recruitment/report/?{query}&opening={opening.pk}")
    assert response.status_code == 403 and response.json()["detail"]


@pytest.mark.django_db
def test_report_of_an_empty_period(world):
    body = client_for(world, "hr").get(f"{API}recruitment/report/?from=2001-01-01&to=2001-12-31").json()
    assert body["applications"] == 0 and body["time_to_hire"] == {"hires": 0, "median_days": None, "mean_days": None}
    assert all(stage["count"] == 0 and stage["rate"] is None for stage in body["funnel"])


@pytest.mark.django_db
def test_report_defaults_to_the_last_365_days(world):
    body = client_for(world, "hr").get(f"{API}recruitment/report/").json()
    today = timezone.localdate()
    assert body["period"] == {"from": (today - timedelta(days=364)).isoformat(), "to": today.isoformat()}
    assert body["opening"] is None and body["applications"] == 4


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query, field",
    [("from=2025-13-01", "from"), ("to=hier", "to"), ("from=2025-05-01&to=2025-04-01", "from"),
     ("opening=x", "opening"), ("from=1990-01-01&to=2025-01-01", "from")],
)  # fmt: skip
def test_report_bad_parameters_are_a_400_naming_them(world, query, field):
    response = client_for(world, "hr").get(f"{API}recruitment/report/?{query}")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == [field] and field in response.json()["detail"]


@pytest.mark.django_db
def test_report_unknown_opening_is_a_404(world):
    assert client_for(world, "hr").get(f"{API}recruitment/report/?opening=987654").status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["hr", "other_recruiter"])
def test_report_queries_do_not_grow(world, role):
    opening = known_dataset(world)
    urls = [f"{API}recruitment/report/?from=2025-01-01&to=2025-12-31",
            f"{API}recruitment/report/?from=2025-01-01&to=2025-12-31&opening={opening.pk}"]  # fmt: skip
    small = [count_queries(client_for(world, role), url) for url in urls]
    for index in range(30):
        add_application(
            opening,
            path=PIPELINE[: 2 + index % 7],
            submitted_at=at(date(2025, 6, 1) + index * DAY),
            internal=bool(index % 2),
        )
    large = [count_queries(client_for(world, role), url) for url in urls]
    assert small == large


# --- the candidate's files through the API (issue 13, item 20) --------------------------------------------------


def token_client(world, role):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_for(world.users[role])}")
    return client


def served(response):
    return b"".join(response.streaming_content)


def store_cv(application, content=None):
    """Write the CV into this test's private folder (the world's files were written under the
    folder of the test that built it) and return the bytes."""
    content = content or pdf_bytes()
    application = Application.objects.get(pk=application.pk)
    application.cv.save(f"{application.reference}.pdf", ContentFile(content))
    return content


@pytest.mark.django_db
@pytest.mark.parametrize("auth", ["session", "token"])
@pytest.mark.parametrize(
    "role, target, code",
    [
        ("anonymous", "mine", 401),
        ("agent", "mine", 404),
        ("interviewer", "jury", 200),  # on the jury: reads the application, so its CV
        ("interviewer", "mine", 404),
        ("other_interviewer", "jury", 404),
        ("recruiter", "mine", 200),
        ("recruiter", "jury", 200),
        ("other_recruiter", "mine", 404),
        ("hr", "mine", 200),
        ("hr", "jury", 200),
    ],
)
def test_matrix_cv(world, auth, role, target, code):
    if role == "anonymous":
        client = APIClient()
        if auth == "token":
            client.credentials(HTTP_AUTHORIZATION="Token not-a-real-key")
    else:
        client = token_client(world, role) if auth == "token" else client_for(world, role)
    application = world.apps[target]
    content = store_cv(application, pdf_bytes() + f"% {role} {auth}".encode())
    response = client.get(f"{API}applications/{application.pk}/cv/", HTTP_ACCEPT="application/pdf")
    assert response.status_code == code
    if code == 200:
        assert served(response) == content
        assert response["Content-Type"] == "application/pdf"
        assert response["Content-Disposition"] == f'attachment; filename="{application.reference}-cv.pdf"'
    else:  # JSON errors, not a 406 for the PDF client, and not a redirect to a login page
        assert response["Content-Type"].startswith("application/json")
        assert response.json()["detail"]


@pytest.mark.django_db
def test_cv_url_of_the_list_works_with_the_token_that_read_the_list(world):
    client = token_client(world, "recruiter")
    items = client.get(f"{API}applications/", {"opening": world.openings["mine"].pk}).json()["results"]
    urls = {item["reference"]: item["cv_url"] for item in items}
    assert set(urls) == {world.apps["jury"].reference, world.apps["mine"].reference}
    store_cv(world.apps["jury"]), store_cv(world.apps["mine"])
    for url in urls.values():
        assert url.startswith("http://127.0.0.1:8000/api/v1/applications/")
        response = client.get(url)
        assert response.status_code == 200 and served(response) == pdf_bytes()


@pytest.mark.django_db
def test_a_file_hidden_by_anonymised_screening_is_404_until_the_application_leaves_screening(world):
    client = token_client(world, "recruiter")
    application = world.apps["hidden"]
    store_cv(application)
    url = f"{API}applications/{application.pk}/cv/"
    response = client.get(url)
    assert response.status_code == 404 and "Présélection anonyme" in response.json()["detail"]
    assert client.post(f"{API}applications/{application.pk}/actions/move/", {"status": "shortlisted"},
                       format="json").status_code == 200
    response = client.get(url)
    assert response.status_code == 200 and served(response) == pdf_bytes()


@pytest.mark.django_db
def test_missing_erased_and_unknown_files_are_404(world):
    hr = token_client(world, "hr")
    theirs = world.apps["theirs"]  # applied without a CV
    assert hr.get(f"{API}applications/{theirs.pk}/cv/").json()["detail"] == "Aucun CV accessible pour cette candidature."
    mine = world.apps["mine"]
    store_cv(mine)
    assert hr.get(f"{API}applications/{mine.pk}/cv/").status_code == 200
    assert hr.get(f"{API}applications/{mine.pk}/cover-letter/").status_code == 404  # no cover letter
    assert hr.get(f"{API}applications/99999999999999999999/cv/").status_code == 404
    assert hr.get(f"{API}applications/{mine.pk + 100000}/cv/").status_code == 404
    Candidate.objects.filter(pk=mine.candidate_id).update(anonymised_at=timezone.now())
    assert hr.get(f"{API}applications/{mine.pk}/cv/").status_code == 404
    [item] = [i for i in hr.get(f"{API}applications/").json()["results"] if i["reference"] == mine.reference]
    assert item["cv_url"] is None


@pytest.mark.django_db
def test_cover_letter_is_served_at_cover_letter_url(world):
    application = Application.objects.get(pk=world.apps["jury"].pk)
    letter = b"%PDF-1.4 lettre " + pdf_bytes()
    application.cover_letter.save(f"{application.reference}-lettre.pdf", ContentFile(letter))
    client = token_client(world, "recruiter")
    items = client.get(f"{API}applications/", {"opening": world.openings["mine"].pk}).json()["results"]
    [item] = [i for i in items if i["reference"] == application.reference]
    assert item["cover_letter_url"] == f"http://127.0.0.1:8000/api/v1/applications/{application.pk}/cover-letter/"
    response = client.get(item["cover_letter_url"])
    assert response.status_code == 200 and served(response) == letter
    assert response["Content-Disposition"] == f'attachment; filename="{application.reference}-lettre.pdf"'
    assert token_client(world, "other_recruiter").get(item["cover_letter_url"]).status_code == 404


@pytest.mark.django_db
def test_a_docx_cv_is_served_with_its_media_type(world):
    application = Application.objects.get(pk=world.apps["mine"].pk)
    content = docx_upload().read()
    application.cv.save(f"{application.reference}.docx", ContentFile(content))
    response = token_client(world, "hr").get(f"{API}applications/{application.pk}/cv/")
    assert response.status_code == 200 and served(response) == content
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    assert response["Content-Disposition"] == f'attachment; filename="{application.reference}-cv.docx"'


@pytest.mark.django_db
def test_files_are_get_only(world):
    response = token_client(world, "hr").post(f"{API}applications/{world.apps['mine'].pk}/cv/")
    assert response.status_code == 405


# --- schema ---------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_schema_documents_the_recruitment_endpoints():
    response = APIClient().get(f"{API}schema/")
    assert response.status_code == 200
    text = response.content.decode()
    for path in ("/api/v1/openings/", "/api/v1/openings/{id}/applications/", "/api/v1/applications/",
                 "/api/v1/applications/{id}/actions/move/", "/api/v1/recruitment/report/",
                 "/api/v1/applications/{id}/cv/", "/api/v1/applications/{id}/cover-letter/"):  # fmt: skip
        assert path in text
    assert "ApplicationStatusEnum" in text and "multipart/form-data" in text
