"""The id of the request being served, for the logs.

``cms.middleware.RequestIdMiddleware`` takes a sane incoming ``X-Request-ID`` (set by the
reverse proxy, e.g. nginx's ``$request_id``) or makes one, keeps it in a context variable for
the time of the request and returns it in the response's ``X-Request-ID`` header.
``RequestIdFilter`` (installed on the log handlers by cms/settings/operations.py) copies it to
every log record as ``request_id`` (``-`` outside a request: tasks, commands)."""

import contextvars
import logging
import re
import uuid

HEADER = "X-Request-ID"
META_KEY = "HTTP_X_REQUEST_ID"
# What a proxy or a client may send: 8 to 128 letters, digits and ``._:-`` (UUIDs, hex ids,
# trace ids). Anything else (too long, spaces, control characters) is replaced by a new id.
SANE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{7,127}$")
NONE = "-"

_current = contextvars.ContextVar("request_id", default=NONE)


def new_id():
    return uuid.uuid4().hex


def from_header(value):
    """The incoming id when it is sane, else a new one."""
    value = (value or "").strip()
    return value if SANE.match(value) else new_id()


def get():
    return _current.get()


def set(value):  # noqa: A001 - mirrors ContextVar.set
    return _current.set(value)


def reset(token):
    _current.reset(token)


class RequestIdFilter(logging.Filter):
    """Adds ``record.request_id`` (never filters a record out)."""

    def filter(self, record):
        if not getattr(record, "request_id", None):
            record.request_id = _current.get()
        return True
