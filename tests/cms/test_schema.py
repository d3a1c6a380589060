"""The OpenAPI schema documents what the API answers (schemathesis checks it in CI: .ci/schemathesis)."""

import io

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from cms.converters import MAX_ID

pytestmark = pytest.mark.django_db

ID_QUERY_PARAMETERS = {"course", "opening", "campaign"}


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    with django_db_blocker.unblock():
        response = APIClient().get("/api/v1/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    return response.json()


def operations(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in {"get", "post", "put", "patch", "delete"}:
                yield path, method, operation


def test_the_schema_generates_without_warnings_and_validates():
    out = io.StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", "--format", "openapi-json", stdout=out)
    assert '"openapi"' in out.getvalue()


def test_every_me_endpoint_documents_401(schema):
    me = [(path, method, op) for path, method, op in operations(schema) if path.startswith("/api/v1/me")]
    assert len(me) >= 5
    for path, method, operation in me:
        assert "401" in operation["responses"], (method, path)


def test_every_endpoint_but_health_documents_401(schema):
    """Private endpoints for anonymous callers; public ones for a bad or expired token."""
    for path, method, operation in operations(schema):
        if path != "/api/v1/health/":
            assert "401" in operation["responses"], (method, path)


def test_id_parameters_are_documented_from_1_to_2_63_minus_1(schema):
    seen = set()
    for path, method, operation in operations(schema):
        for parameter in operation.get("parameters", []):
            name = parameter["name"]
            is_id = (parameter["in"] == "path" and (name == "id" or name.endswith("_id"))) or (
                parameter["in"] == "query" and name in ID_QUERY_PARAMETERS
            )
            if not is_id:
                continue
            seen.add((parameter["in"], name))
            assert parameter["schema"]["type"] == "integer", (method, path, name)
            assert parameter["schema"]["minimum"] == 1, (method, path, name)
            assert parameter["schema"]["maximum"] == MAX_ID, (method, path, name)
    assert {("path", "id"), ("path", "lesson_id"), ("path", "quiz_id")} <= seen
    assert {("query", name) for name in ID_QUERY_PARAMETERS} <= seen


def test_every_cursor_paginated_list_documents_404_for_a_bad_cursor(schema):
    lists = [(path, op) for path, method, op in operations(schema) if any(
        p["name"] == "cursor" for p in op.get("parameters", [])
    )]
    assert len(lists) >= 6
    for path, operation in lists:
        assert "404" in operation["responses"], path


def test_id_filters_document_400(schema):
    for path, method, operation in operations(schema):
        names = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
        if names & ID_QUERY_PARAMETERS:
            assert "400" in operation["responses"], (method, path)


def test_the_recruitment_report_documents_its_period_limit(schema):
    operation = schema["paths"]["/api/v1/recruitment/report/"]["get"]
    parameters = {p["name"]: p for p in operation["parameters"]}
    assert "3660" in parameters["from"]["description"]
    assert "400" in operation["responses"]


def test_errors_are_documented_as_json_with_a_detail(schema):
    components = schema["components"]["schemas"]
    for path, method, operation in operations(schema):
        for status, response in operation["responses"].items():
            if not status.startswith(("4", "5")) or path == "/api/v1/health/":  # its 503 is the health report
                continue
            content = response.get("content", {})
            assert "application/json" in content, (method, path, status)
            ref = content["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
            assert "detail" in components[ref]["properties"], (method, path, status)
