"""Hostile input answers 4xx, never 500 (DESIGN §6): ids beyond 64 bits, deep JSON,
unknown API paths, CSRF failures on the API, oversized bodies, out-of-range id filters."""

import base64
import io
import json

import pytest
from django.db import DataError
from django.test import Client, RequestFactory, override_settings
from django.urls import resolve
from rest_framework.test import APIClient
from wagtail.views import serve as wagtail_serve

from appraisal import services as appraisal_services
from appraisal.models import Appraisal
from cms import services as cms_services
from cms.api.errors import csrf_failure
from cms.api.parsers import MAX_DEPTH, nesting_depth
from cms.api.views import api_not_found
from cms.converters import MAX_ID, IdConverter, parse_id
from cms.middleware import RequestBodyLimitMiddleware
from tests.appraisal.conftest import make_campaign
from tests.factories import UserFactory
from tests.learning.conftest import build_course

BIG = "18446744073709551616"  # 2**64
HOSTILE_IDS = [BIG, str(2**63), "0", "9" * 5000]


def is_json(response):
    return response["Content-Type"].startswith("application/json")


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", is_superuser=True, is_staff=True)


@pytest.fixture
def root_client(superuser):
    client = Client()
    client.force_login(superuser)
    return client


@pytest.fixture
def hr_api(chain):
    client = APIClient()
    client.force_authenticate(chain["hr"].user)
    return client


# --- the <id:…> converter ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("1", 1),
        ("007", 7),
        (str(MAX_ID), MAX_ID),
        (str(MAX_ID + 1), None),
        ("0", None),
        ("", None),
        ("-1", None),
        ("²", None),  # str.isdigit() says yes, int() says no
        ("١٢", None),  # Arabic-Indic digits: int() would accept them
        ("9" * 5000, None),  # int() would refuse it (max str digits): ValueError, not a 500
        (" 12 ", 12),
    ],
)
def test_parse_id_accepts_only_bigint_ids(raw, expected):
    assert parse_id(raw) == expected


def test_id_converter_rejects_out_of_range_so_the_route_does_not_match():
    converter = IdConverter()
    assert converter.to_python("42") == 42
    with pytest.raises(ValueError):
        converter.to_python(BIG)
    assert converter.to_url(42) == "42"


# --- ids beyond 64 bits in paths: 404 ------------------------------------------------------------

API_ID_URLS = [
    ("post", "/api/v1/me/lessons/{id}/complete/"),
    ("post", "/api/v1/me/quizzes/{id}/attempts/"),
    ("get", "/api/v1/campaigns/{id}/progress/"),
    ("get", "/api/v1/appraisals/{id}/"),
    ("patch", "/api/v1/appraisals/{id}/content/"),
    ("post", "/api/v1/appraisals/{id}/actions/hold/"),
    ("get", "/api/v1/appraisals/{id}/pdf/"),
    ("post", "/api/v1/openings/{id}/applications/"),
    ("post", "/api/v1/applications/{id}/actions/move/"),
]


@pytest.mark.django_db
@pytest.mark.parametrize("method, template", API_ID_URLS)
@pytest.mark.parametrize("raw_id", HOSTILE_IDS)
def test_api_ids_beyond_64_bits_answer_json_404(hr_api, method, template, raw_id):
    response = getattr(hr_api, method)(template.format(id=raw_id), {}, format="json")
    assert response.status_code == 404
    assert is_json(response)
    assert response.json()["detail"]


@pytest.mark.django_db
def test_public_apply_api_with_a_huge_id_answers_404_anonymously():
    response = APIClient().post(f"/api/v1/openings/{BIG}/applications/", {"first_name": "A"})
    assert response.status_code == 404
    assert is_json(response)


SITE_ID_URLS = [
    # learning: course enrolment, lesson completion, quiz submission, renewal, certificate
    ("post", "/formation/cours/{id}/inscription/"),
    ("post", "/formation/lecons/{id}/terminer/"),
    ("post", "/formation/quiz/{id}/tentatives/"),
    ("post", "/formation/equipe/formations/inscriptions/{id}/renouveler/"),
    ("get", "/formation/attestations/{id}.pdf"),
    # appraisal: the agent's and evaluator's pages, HR dashboards
    ("get", "/entretiens/{id}/"),
    ("get", "/entretiens/{id}/edit/"),
    ("post", "/entretiens/{id}/autosave/"),
    ("post", "/entretiens/{id}/observations/"),
    ("post", "/entretiens/{id}/actions/hold/"),
    ("get", "/rh/entretiens/{id}/"),
    ("get", "/rh/entretiens/{id}/graphique.svg"),
    ("get", "/rh/entretiens/{id}/avancement.csv"),
    ("get", "/rh/entretiens/{id}/export/"),
    # recruitment: the public apply form
    ("get", "/recrutement/offres/{id}/candidater/"),
    ("post", "/recrutement/offres/{id}/candidater/"),
    # admin: recruitment board and application, campaign launch, Wagtail's own page editor
    ("get", "/admin/recrutement/offres/{id}/"),
    ("post", "/admin/recrutement/offres/{id}/refuser/"),
    ("get", "/admin/recrutement/candidatures/{id}/"),
    ("get", "/admin/recrutement/evaluations/{id}/"),
    ("get", "/admin/appraisal/campaign/launch/{id}/"),
    ("get", "/admin/pages/{id}/edit/"),
    ("get", "/admin/pages/{id}/"),
]


@pytest.mark.django_db
@pytest.mark.parametrize("method, template", SITE_ID_URLS)
@pytest.mark.parametrize("raw_id", [BIG, "9" * 5000])
def test_site_and_admin_ids_beyond_64_bits_answer_404(root_client, method, template, raw_id):
    response = getattr(root_client, method)(template.format(id=raw_id))
    assert response.status_code == 404


@pytest.mark.django_db
def test_public_apply_form_with_a_huge_id_answers_404_anonymously():
    assert Client().get(f"/recrutement/offres/{BIG}/candidater/").status_code == 404
    assert Client().post(f"/recrutement/offres/{BIG}/candidater/", {"first_name": "A"}).status_code == 404


@pytest.mark.django_db
def test_course_lesson_and_quiz_routes_with_huge_ids_answer_404_to_a_learner(chain):
    build_course()
    client = Client()
    client.force_login(chain["agent"].user)
    for url in (f"/formation/cours/{BIG}/inscription/", f"/formation/lecons/{BIG}/terminer/", f"/formation/quiz/{BIG}/tentatives/"):
        assert client.post(url).status_code == 404, url


# --- the safety net: an out-of-range integer that reaches the database anyway --------------------


def _middleware():
    return RequestBodyLimitMiddleware(lambda request: None)


@pytest.mark.django_db
def test_an_overflow_from_sqlite_becomes_404():
    request = RequestFactory().get("/formation/x/")
    overflow = OverflowError("Python int too large to convert to SQLite INTEGER")
    assert _middleware().process_exception(request, overflow).status_code == 404
    api = RequestFactory().get("/api/v1/x/")
    response = _middleware().process_exception(api, overflow)
    assert response.status_code == 404 and is_json(response)


def test_postgresql_out_of_range_becomes_404_other_errors_do_not():
    class NumericValueOutOfRange(Exception):
        sqlstate = "22003"

    class StringDataRightTruncation(Exception):
        sqlstate = "22001"

    request = RequestFactory().get("/api/v1/x/")
    out_of_range = DataError("bigint out of range")
    out_of_range.__cause__ = NumericValueOutOfRange()
    assert _middleware().process_exception(request, out_of_range).status_code == 404
    too_long = DataError("value too long")
    too_long.__cause__ = StringDataRightTruncation()
    assert _middleware().process_exception(request, too_long) is None
    assert _middleware().process_exception(request, OverflowError("date value out of range")) is None


# --- ids in query strings --------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path, parameter",
    [
        ("/api/v1/completions/", "course"),
        ("/api/v1/completions/export.csv", "course"),
        ("/api/v1/applications/", "opening"),
        ("/api/v1/appraisals/", "campaign"),
        ("/api/v1/recruitment/report/", "opening"),
    ],
)
@pytest.mark.parametrize("raw", [BIG, "0", "-3", "²", "abc", "9" * 5000])
def test_api_id_filters_out_of_range_answer_400_naming_the_parameter(hr_api, path, parameter, raw):
    response = hr_api.get(path, {parameter: raw})
    assert response.status_code == 400
    assert is_json(response)
    assert parameter in response.json()["errors"]


@pytest.mark.django_db
def test_site_course_filters_out_of_range_are_404_or_ignored(chain, root_client):
    hr = Client()
    hr.force_login(chain["hr"].user)
    for raw in (BIG, "²", "0"):
        assert hr.get("/formation/rh/formations/", {"course": raw}).status_code == 404
        assert hr.get("/formation/rh/formations/graphique.svg", {"course": raw}).status_code == 404
    manager = Client()
    manager.force_login(chain["manager"].user)
    for raw in (BIG, "²"):
        assert manager.get("/formation/equipe/formations/", {"course": raw}).status_code == 200


def _cursor(text):
    return base64.b64encode(text.encode()).decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path", ["/api/v1/applications/", "/api/v1/openings/", "/api/v1/campaigns/", "/api/v1/appraisals/",
             "/api/v1/courses/", "/api/v1/completions/"]
)
@pytest.mark.parametrize("cursor", ["zzz", _cursor("p=abc"), _cursor("p=" + BIG), _cursor("r=1&p=²"), _cursor("o=x")])
def test_malformed_cursors_answer_json_404(hr_api, path, cursor):
    response = hr_api.get(path, {"cursor": cursor})
    assert response.status_code in (200, 404)  # a well-formed position past the end is an empty page
    assert is_json(response)
    if response.status_code == 404:
        assert response.json()["detail"]


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/v1/applications/", "/api/v1/openings/", "/api/v1/campaigns/"])
def test_a_cursor_whose_position_is_not_an_id_answers_404(hr_api, path):
    assert hr_api.get(path, {"cursor": _cursor("p=abc")}).status_code == 404
    assert hr_api.get(path, {"cursor": _cursor("p=" + BIG)}).status_code == 404


# --- deep JSON ----------------------------------------------------------------------------------


def test_nesting_depth_ignores_brackets_inside_strings():
    assert nesting_depth('{"a": [1, {"b": "[[[[{{"}], "c": "\\"]"}') == 3
    assert nesting_depth("[" * 1000 + "]" * 1000) == 1000
    assert nesting_depth('"' + '\\"' * 1000) == 0  # unterminated: linear scan, no error
    assert nesting_depth("12") == 0


def _deep(levels):
    return "[" * levels + "]" * levels


@pytest.mark.django_db
@pytest.mark.parametrize("levels", [MAX_DEPTH + 1, 200_000])
def test_deep_json_answers_400_on_post(chain, levels):
    client = APIClient()
    client.force_authenticate(chain["agent"].user)
    response = client.post("/api/v1/me/enrollments/", _deep(levels), content_type="application/json")
    assert response.status_code == 400
    assert is_json(response)
    assert str(MAX_DEPTH) in response.json()["detail"]


@pytest.mark.django_db
def test_deep_json_answers_400_on_a_quiz_attempt(chain):
    quiz = build_course()["quiz"]
    client = APIClient()
    client.force_authenticate(chain["agent"].user)
    body = '{"answers": {"q-single": ' + _deep(200_000) + "}}"
    response = client.post(f"/api/v1/me/quizzes/{quiz.pk}/attempts/", body, content_type="application/json")
    assert response.status_code == 400
    assert is_json(response)


@pytest.mark.django_db
def test_deep_json_answers_400_on_patch(chain, org):
    campaign = make_campaign(org)
    appraisal_services.launch_campaign(campaign_id=campaign.pk)
    appraisal = Appraisal.objects.get(campaign=campaign, agent=chain["agent"])
    client = APIClient()
    client.force_authenticate(chain["manager"].user)
    body = '{"answers": {"sec-overall": ' + _deep(200_000) + "}}"
    response = client.patch(f"/api/v1/appraisals/{appraisal.pk}/content/", body, content_type="application/json")
    assert response.status_code == 400
    assert is_json(response)


@pytest.mark.django_db
def test_json_within_the_depth_limit_still_parses(chain):
    client = APIClient()
    client.force_authenticate(chain["agent"].user)
    response = client.post("/api/v1/me/enrollments/", {"course": 424242}, format="json")
    assert response.status_code == 400
    assert "course" in response.json()["errors"]  # the body was read: unknown course, not "required"


@pytest.mark.django_db
def test_undecodable_json_answers_400(chain):
    client = APIClient()
    client.force_authenticate(chain["agent"].user)
    response = client.post("/api/v1/me/enrollments/", b'{"course": "\xff"}', content_type="application/json")
    assert response.status_code == 400
    response = client.post(
        "/api/v1/me/enrollments/", b'{"course": 1}', content_type="application/json; charset=no-such-codec"
    )
    assert response.status_code == 400


# --- unknown API paths ------------------------------------------------------------------------------

UNKNOWN_API_PATHS = ["/api/v1/nope/", "/api/v1/nope", "/api/v1/me/lessons/abc/complete/", "/api/v1/me", "/api/v2/",
                     "/api/", "/api"]


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["get", "post", "delete", "put", "patch"])
@pytest.mark.parametrize("path", UNKNOWN_API_PATHS)
def test_unknown_api_paths_answer_json_404_anonymously(method, path):
    response = getattr(Client(enforce_csrf_checks=True), method)(path)
    assert response.status_code == 404
    assert is_json(response)
    assert response.json()["detail"]


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["get", "post", "delete"])
@pytest.mark.parametrize("path", UNKNOWN_API_PATHS)
def test_unknown_api_paths_answer_json_404_to_session_and_token_users(chain, method, path):
    session = Client(enforce_csrf_checks=True)
    session.force_login(chain["hr"].user)
    _api_token, key = cms_services.create_api_token(user=chain["hr"].user, name="test")
    for client, headers in ((session, {}), (Client(), {"Authorization": f"Token {key}"})):
        response = getattr(client, method)(path, headers=headers)
        assert response.status_code == 404
        assert is_json(response)


# --- CSRF on the API ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_csrf_failure_of_a_session_user_on_an_api_post_answers_json_403(chain):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(chain["agent"].user)
    response = client.post("/api/v1/me/enrollments/", {"course": 1}, format="json")
    assert response.status_code == 403
    assert is_json(response)
    assert "CSRF" in response.json()["detail"]


@pytest.mark.django_db
def test_csrf_failure_view_answers_json_under_api_and_a_page_elsewhere():
    from django.contrib.auth.models import AnonymousUser
    from django.contrib.sessions.backends.db import SessionStore

    factory = RequestFactory()
    response = csrf_failure(factory.post("/api/v1/anything/"), reason="CSRF cookie not set.")
    assert response.status_code == 403
    assert is_json(response)
    assert "CSRF cookie not set." in json.loads(response.content)["detail"]
    request = factory.post("/compte/connexion/")
    request.user, request.session = AnonymousUser(), SessionStore()  # the themed page reads both
    page = csrf_failure(request, reason="CSRF cookie not set.")
    assert page.status_code == 403
    assert page["Content-Type"].startswith("text/html")
    assert "Formulaire expiré" in page.content.decode()


@pytest.mark.django_db
def test_csrf_failure_on_a_site_form_is_still_a_page():
    response = Client(enforce_csrf_checks=True).post("/compte/connexion/", {"username": "x", "password": "y"})
    assert response.status_code == 403
    assert response["Content-Type"].startswith("text/html")


# --- oversized bodies ------------------------------------------------------------------------------


@pytest.mark.django_db
@override_settings(MAX_REQUEST_BODY_BYTES=1000)
def test_a_body_over_the_limit_answers_413_json_on_the_api(chain):
    client = APIClient()
    client.force_authenticate(chain["agent"].user)
    response = client.post("/api/v1/me/enrollments/", {"course": 1, "pad": "x" * 2000}, format="json")
    assert response.status_code == 413
    assert is_json(response)
    assert response.json()["detail"]


@pytest.mark.django_db
@override_settings(MAX_REQUEST_BODY_BYTES=1000)
def test_a_body_over_the_limit_answers_413_on_the_public_apply_api_and_form():
    response = APIClient().post("/api/v1/openings/1/applications/", {"message": "x" * 2000})
    assert response.status_code == 413
    response = Client().post("/recrutement/offres/1/candidater/", {"message": "x" * 2000})
    assert response.status_code == 413
    assert response["Content-Type"].startswith("text/plain")


@pytest.mark.django_db
def test_the_default_limit_is_12_mb_and_a_declared_length_is_enough_to_refuse():
    from django.conf import settings

    assert settings.MAX_REQUEST_BODY_BYTES == 12 * 1024 * 1024
    response = Client().generic(
        "POST", "/api/v1/openings/1/applications/", b"x", CONTENT_LENGTH=str(12 * 1024 * 1024 + 1)
    )
    assert response.status_code == 413


def _chunked(client, path, body, content_type="application/json"):
    """A request whose body comes chunked, as gunicorn hands it over (no Content-Length,
    ``wsgi.input_terminated``)."""
    return client.request(
        REQUEST_METHOD="POST",
        PATH_INFO=path,
        CONTENT_TYPE=content_type,
        HTTP_TRANSFER_ENCODING="chunked",
        **{"wsgi.input": io.BytesIO(body), "wsgi.input_terminated": True},
    )


@pytest.mark.django_db
@override_settings(MAX_REQUEST_BODY_BYTES=1000)
def test_a_chunked_body_is_read_within_the_limit_and_refused_beyond(chain):
    client = APIClient()
    client.force_authenticate(chain["agent"].user)
    response = _chunked(client, "/api/v1/me/enrollments/", json.dumps({"course": 424242}).encode())
    assert response.status_code == 400
    assert "course" in response.json()["errors"]
    assert "obligatoire" not in response.json()["detail"]  # the body was read, not taken as empty
    response = _chunked(client, "/api/v1/me/enrollments/", json.dumps({"course": 1, "pad": "x" * 2000}).encode())
    assert response.status_code == 413
    assert is_json(response)


@pytest.mark.django_db
@override_settings(MAX_REQUEST_BODY_BYTES=1000)
def test_a_chunked_body_without_a_decoding_server_is_left_unread():
    """runserver does not decode chunked bodies: nothing is read (Django's behaviour)."""
    request = RequestFactory().generic("POST", "/api/v1/x/", b"")
    request.META.pop("CONTENT_LENGTH", None)
    request.META["HTTP_TRANSFER_ENCODING"] = "chunked"
    assert not RequestBodyLimitMiddleware.is_chunked(request)


@pytest.mark.django_db
@pytest.mark.parametrize("template", [t for _m, t in API_ID_URLS + SITE_ID_URLS])
def test_the_urls_above_exist_for_an_ordinary_id(template):
    """So that the 404s above come from the id, not from a mistyped path."""
    match = resolve(template.format(id=1))
    assert match.func is not api_not_found
    assert match.func is not wagtail_serve


# --- dates at the ends of the calendar --------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query, named",
    [
        ({"to": "0001-01-01"}, {"to"}),
        ({"from": "9999-12-31"}, {"from"}),
        ({"from": "0001-01-01", "to": "0001-01-02"}, {"from", "to"}),
        ({"from": "0001-01-01", "to": "9999-12-31"}, {"from"}),  # over ten years
    ],
)
def test_report_periods_at_the_ends_of_the_calendar_answer_400(hr_api, query, named):
    response = hr_api.get("/api/v1/recruitment/report/", query)
    assert response.status_code == 400
    assert set(response.json()["errors"]) == named


@pytest.mark.django_db
@pytest.mark.parametrize(
    "raw", ["2020-02-30T00:00:00", "2020-13-01T00:00", "0001-01-01", "9999-12-31T23:59:59-23:59", "nope"]
)
@pytest.mark.parametrize("path", ["/api/v1/completions/", "/api/v1/completions/export.csv"])
def test_updated_since_that_does_not_exist_in_utc_answers_400(hr_api, path, raw):
    response = hr_api.get(path, {"updated_since": raw})
    assert response.status_code == 400
    assert "updated_since" in response.json()["errors"]


@pytest.mark.django_db
def test_updated_since_accepts_an_offset_sent_unencoded(hr_api):
    assert hr_api.get("/api/v1/completions/?updated_since=2020-01-01T00:00:00+01:00").status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("position", ["0001-01-01T00:00:00+14:00|1", "9999-12-31T23:59:59-14:00|1", "2020-02-30|1"])
def test_completion_cursors_beyond_the_calendar_answer_404(hr_api, position):
    response = hr_api.get("/api/v1/completions/", {"cursor": _cursor("p=" + position)})
    assert response.status_code == 404
    assert is_json(response)


# --- form bodies Django refuses -----------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body, content_type",
    [
        ("&".join(f"f{i}=x" for i in range(1200)), "application/x-www-form-urlencoded"),  # > DATA_UPLOAD_MAX_NUMBER_FIELDS
        ("a=" + "x" * (3 * 1024 * 1024), "application/x-www-form-urlencoded"),  # > DATA_UPLOAD_MAX_MEMORY_SIZE
    ],
)
def test_form_bodies_django_refuses_answer_json_400_on_the_api(chain, body, content_type):
    client = APIClient()
    client.force_authenticate(chain["agent"].user)
    response = client.post("/api/v1/me/enrollments/", body, content_type=content_type)
    assert response.status_code == 400
    assert is_json(response)
    assert response.json()["detail"]


@pytest.mark.django_db
def test_too_many_multipart_fields_answer_json_400_on_the_api(chain):
    client = APIClient()
    client.force_authenticate(chain["agent"].user)
    response = client.post("/api/v1/me/enrollments/", {f"f{i}": "x" for i in range(1200)})
    assert response.status_code == 400
    assert is_json(response)


@pytest.mark.django_db
@override_settings(MAX_REQUEST_BODY_BYTES=1000, REQUEST_BODY_LIMITS={"/admin/formations/paquets/importer/": 5000})
def test_the_package_import_page_has_its_own_larger_limit():
    """A SCORM zip is larger than any form: the import page takes up to its own limit, and
    only that page."""
    body = {"pad": "x" * 2000}
    assert Client().post("/admin/formations/paquets/importer/", body).status_code != 413  # the view decides
    assert Client().post("/admin/formations/paquets/importer/", {"pad": "x" * 6000}).status_code == 413
    assert Client().post("/admin/pages/1/edit/", body).status_code == 413
