"""Settings of the operations part, applied at the end of base.py: ``apply(settings)`` reads and
changes the module's globals (INSTALLED_APPS, MIDDLEWARE, … are lists there).

* Request ids: ``cms.middleware.RequestIdMiddleware`` first in ``MIDDLEWARE``; every log
  handler carries ``cms.request_id.RequestIdFilter`` (``request_id`` on each record).
* Logs: ``LOG_FORMAT=json`` writes one JSON object per line (python-json-logger) with the
  time, level, logger, message, request id and any extra field; otherwise plain text lines
  that show the request id. ``LOG_LEVEL`` as before.
* Private files (CVs, reports, certificates, exports): on the filesystem under
  ``PRIVATE_ROOT`` by default; on S3-compatible object storage (django-storages) when
  ``PRIVATE_STORAGE_S3_BUCKET`` is set, with ``PRIVATE_STORAGE_S3_ENDPOINT_URL``,
  ``…_ACCESS_KEY_ID``, ``…_SECRET_ACCESS_KEY``, ``…_REGION``, ``…_PREFIX``,
  ``…_ADDRESSING_STYLE``, ``…_SSE`` (docs/operations.md).
"""

import os

REQUEST_ID_MIDDLEWARE = "cms.middleware.RequestIdMiddleware"
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
JSON_FIELDS = ["asctime", "levelname", "name", "request_id", "message"]
S3_PREFIX = "PRIVATE_STORAGE_S3_"


def logging_config(base, log_format):
    """``base`` (the LOGGING dict of base.py) with the request-id filter on every handler and
    the text or JSON formatter on the console handler."""
    config = {**base}
    config["filters"] = {**base.get("filters", {}), "request_id": {"()": "cms.request_id.RequestIdFilter"}}
    if log_format == "json":
        from pythonjsonlogger.core import RESERVED_ATTRS

        formatter = {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": JSON_FIELDS,
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
            # Django's request logger attaches the request object: not a field of the line.
            "reserved_attrs": [*RESERVED_ATTRS, "request"],
        }
    else:
        formatter = {"format": TEXT_FORMAT}
    config["formatters"] = {**base.get("formatters", {}), "parcours": formatter}
    handlers = {}
    for name, handler in base.get("handlers", {}).items():
        handler = {**handler, "filters": sorted({*handler.get("filters", []), "request_id"})}
        if name == "console":
            handler["formatter"] = "parcours"
        handlers[name] = handler
    config["handlers"] = handlers
    return config


def private_storage_config(environ, location):
    """The ``STORAGES["private"]`` entry: S3-compatible storage when the bucket is named in
    ``environ``, else the filesystem at ``location``."""
    bucket = (environ.get(S3_PREFIX + "BUCKET") or "").strip()
    if not bucket:
        return {"BACKEND": "cms.storage.PrivateFileSystemStorage", "OPTIONS": {"location": str(location)}}

    def opt(name):
        return (environ.get(S3_PREFIX + name) or "").strip() or None

    given = {
        "endpoint_url": opt("ENDPOINT_URL"),
        "access_key": opt("ACCESS_KEY_ID"),
        "secret_key": opt("SECRET_ACCESS_KEY"),
        "region_name": opt("REGION"),
        "addressing_style": opt("ADDRESSING_STYLE"),
    }
    options = {
        "bucket_name": bucket,
        **{name: value for name, value in given.items() if value is not None},
        "location": (opt("PREFIX") or "").strip("/"),
        "signature_version": "s3v4",
        # Private: no ACL granting public reads, never overwrite a stored file (names are
        # made unique), no public or signed URLs handed out (``url()`` refuses).
        "default_acl": None,
        "file_overwrite": False,
        "querystring_auth": True,
    }
    if opt("SSE"):  # e.g. AES256 (not every S3-compatible server accepts it)
        options["object_parameters"] = {"ServerSideEncryption": opt("SSE")}
    return {"BACKEND": "cms.storage.PrivateS3Storage", "OPTIONS": options}


def apply(s):
    """Change the settings dict ``s`` in place."""
    middleware = s["MIDDLEWARE"]
    if REQUEST_ID_MIDDLEWARE not in middleware:
        middleware.insert(0, REQUEST_ID_MIDDLEWARE)
    s["LOG_FORMAT"] = (os.environ.get("LOG_FORMAT") or "text").strip().lower()
    if s["LOG_FORMAT"] not in ("text", "json"):
        raise RuntimeError(f"LOG_FORMAT must be text or json, not {s['LOG_FORMAT']!r}")
    s["LOGGING"] = logging_config(s["LOGGING"], s["LOG_FORMAT"])
    s["STORAGES"]["private"] = private_storage_config(os.environ, s["PRIVATE_ROOT"])
