"""Operations: request ids in responses and logs, JSON log lines, the private storage chosen
from the environment (filesystem by default, S3-compatible when configured; no network)."""

import io
import json
import logging
import logging.config

import pytest
from django.conf import settings
from django.core.files.storage import storages
from django.test import override_settings

from cms import request_id
from cms.settings import operations
from cms.storage import PrivateFileSystemStorage

# --------------------------------------------------------------------------- request ids


@pytest.mark.django_db
def test_every_response_carries_a_new_request_id(client):
    first = client.get("/api/v1/health/")
    second = client.get("/api/v1/health/")
    assert request_id.SANE.match(first["X-Request-ID"])
    assert first["X-Request-ID"] != second["X-Request-ID"]


@pytest.mark.django_db
def test_a_sane_incoming_request_id_is_kept(client):
    response = client.get("/api/v1/health/", HTTP_X_REQUEST_ID="3f9c2a0e-proxy-id:42")
    assert response["X-Request-ID"] == "3f9c2a0e-proxy-id:42"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "hostile", ["short", "x" * 129, "a b c d e f g h", "abcdefgh\nX-Evil: 1", "<script>alert(1)</script>"]
)
def test_a_hostile_incoming_request_id_is_replaced(client, hostile):
    response = client.get("/api/v1/nowhere/", HTTP_X_REQUEST_ID=hostile)
    assert response.status_code == 404  # the request itself is served as usual
    assert response["X-Request-ID"] != hostile and request_id.SANE.match(response["X-Request-ID"])


@pytest.mark.django_db
def test_log_records_written_during_a_request_carry_its_id(client, caplog, monkeypatch):
    from cms.api import views

    def report():
        logging.getLogger("parcours.test").warning("inside the view")
        return {"status": "ok", "database": {"status": "ok", "vendor": "x"}, "tasks": {"backend": "x", "status": "ok"}}

    monkeypatch.setattr(views.health, "report", report)
    handler_filter = request_id.RequestIdFilter()
    caplog.handler.addFilter(handler_filter)
    try:
        with caplog.at_level(logging.WARNING, logger="parcours.test"):
            response = client.get("/api/v1/health/", HTTP_X_REQUEST_ID="req-0123456789")
    finally:
        caplog.handler.removeFilter(handler_filter)
    assert response["X-Request-ID"] == "req-0123456789"
    record = next(r for r in caplog.records if r.getMessage() == "inside the view")
    assert record.request_id == "req-0123456789"
    # outside a request: the placeholder
    outside = logging.LogRecord("x", logging.INFO, __file__, 1, "m", (), None)
    handler_filter.filter(outside)
    assert outside.request_id == request_id.NONE


def test_request_id_middleware_runs_first():
    assert settings.MIDDLEWARE[0] == operations.REQUEST_ID_MIDDLEWARE


# --------------------------------------------------------------------------- log format


def emit_through(config, message, **extra):
    """Configure a throw-away logger with the console handler of ``config`` writing to a buffer."""
    buffer = io.StringIO()
    config = json.loads(json.dumps(config, default=str))  # a copy, as dictConfig mutates it
    config["handlers"]["console"]["stream"] = buffer
    config["disable_existing_loggers"] = False
    config["root"] = {"handlers": [], "level": "WARNING"}
    config["loggers"] = {"h2.probe": {"handlers": ["console"], "level": "INFO", "propagate": False}}
    for key in ("filters", "formatters"):  # '()' factories survive the JSON copy as strings
        config[key] = {name: dict(value) for name, value in config[key].items()}
    logging.config.dictConfig(config)
    token = request_id.set("req-abcdef012345")
    try:
        logging.getLogger("h2.probe").warning(message, extra=extra)
    finally:
        request_id.reset(token)
    logging.config.dictConfig(settings.LOGGING)  # back to the project's logging
    return buffer.getvalue()


def test_json_log_lines_when_log_format_is_json():
    config = operations.logging_config(
        {"version": 1, "handlers": {"console": {"class": "logging.StreamHandler"}}}, "json"
    )
    line = emit_through(config, "export done", rows=12)
    record = json.loads(line)  # one JSON object per line
    assert line.count("\n") == 1
    assert record["message"] == "export done" and record["level"] == "WARNING" and record["logger"] == "h2.probe"
    assert record["request_id"] == "req-abcdef012345" and record["rows"] == 12 and record["time"]


def test_text_log_lines_show_the_request_id():
    config = operations.logging_config(
        {"version": 1, "handlers": {"console": {"class": "logging.StreamHandler"}}}, "text"
    )
    line = emit_through(config, "plain line")
    assert "[req-abcdef012345] plain line" in line and "WARNING h2.probe" in line


def test_an_unknown_log_format_stops_the_process(monkeypatch):
    monkeypatch.setenv("LOG_FORMAT", "yaml")
    with pytest.raises(RuntimeError, match="LOG_FORMAT"):
        operations.apply({"MIDDLEWARE": [], "LOGGING": {"version": 1}, "STORAGES": {}, "PRIVATE_ROOT": "/x"})


# --------------------------------------------------------------------------- private storage


def test_private_files_stay_on_the_filesystem_by_default(tmp_path):
    config = operations.private_storage_config({}, tmp_path)
    assert config == {"BACKEND": "cms.storage.PrivateFileSystemStorage", "OPTIONS": {"location": str(tmp_path)}}
    assert settings.STORAGES["private"]["BACKEND"] == "cms.storage.PrivateFileSystemStorage"
    assert isinstance(storages["private"], PrivateFileSystemStorage)


S3_ENV = {
    "PRIVATE_STORAGE_S3_BUCKET": "parcours-private",
    "PRIVATE_STORAGE_S3_ENDPOINT_URL": "https://s3.example.test",
    "PRIVATE_STORAGE_S3_ACCESS_KEY_ID": "AKIAEXAMPLE",
    "PRIVATE_STORAGE_S3_SECRET_ACCESS_KEY": "not-a-real-secret",
    "PRIVATE_STORAGE_S3_REGION": "fr-par",
    "PRIVATE_STORAGE_S3_PREFIX": "/parcours/prod/",
}


def test_private_files_go_to_s3_compatible_storage_when_a_bucket_is_set(tmp_path):
    config = operations.private_storage_config(S3_ENV, tmp_path)
    assert config["BACKEND"] == "cms.storage.PrivateS3Storage"
    assert config["OPTIONS"] == {
        "bucket_name": "parcours-private",
        "endpoint_url": "https://s3.example.test",
        "access_key": "AKIAEXAMPLE",
        "secret_key": "not-a-real-secret",
        "region_name": "fr-par",
        "location": "parcours/prod",
        "signature_version": "s3v4",
        "default_acl": None,
        "file_overwrite": False,
        "querystring_auth": True,
    }
    with_sse = operations.private_storage_config({**S3_ENV, "PRIVATE_STORAGE_S3_SSE": "AES256"}, tmp_path)
    assert with_sse["OPTIONS"]["object_parameters"] == {"ServerSideEncryption": "AES256"}


def test_apply_reads_the_bucket_from_the_environment(monkeypatch, tmp_path):
    for name, value in S3_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("LOG_FORMAT", raising=False)
    s = {"MIDDLEWARE": ["x"], "LOGGING": {"version": 1, "handlers": {}}, "STORAGES": {}, "PRIVATE_ROOT": tmp_path}
    operations.apply(s)
    assert s["STORAGES"]["private"]["BACKEND"] == "cms.storage.PrivateS3Storage"
    assert s["MIDDLEWARE"] == [operations.REQUEST_ID_MIDDLEWARE, "x"] and s["LOG_FORMAT"] == "text"


def test_the_s3_storage_built_from_settings_refuses_urls(tmp_path):
    pytest.importorskip("boto3", reason="S3 needs boto3 (django-storages[s3]); pip install boto3")
    config = operations.private_storage_config(S3_ENV, tmp_path)
    with override_settings(STORAGES={**settings.STORAGES, "private": config}):
        storages._storages.pop("private", None)
        try:
            storage = storages["private"]
            assert type(storage).__name__ == "PrivateS3Storage"
            assert storage.bucket_name == "parcours-private" and storage.location == "parcours/prod"
            assert storage.endpoint_url == "https://s3.example.test" and storage.default_acl is None
            with pytest.raises(ValueError):
                storage.url("appraisals/2026/report.pdf")
        finally:
            storages._storages.pop("private", None)
