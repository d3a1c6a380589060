"""gunicorn settings for Parcours (docs/deployment.md): ``gunicorn -c gunicorn.conf.py``.

Everything an operator may change comes from the environment; a bad number stops the start.

Why ``gthread`` and not the default ``sync`` workers: a sync worker writes a response from
the process's only thread, and the master's heartbeat (``timeout``) is touched only between
requests. An export of 260 MB to a client reading at 1 MB/s keeps that thread in
``send()`` for 260 s: with the default 30 s timeout the master kills the worker mid-file,
and the client is left with a truncated CSV. Raising ``timeout`` to hours would hide every
real hang as well. With ``gthread``, requests run in a pool of threads while the worker's
main thread keeps its event loop, and touches the heartbeat at least once a second
whatever the sockets do: a slow client holds one thread, never the worker's life.
``timeout`` keeps its meaning (a worker whose main loop is stuck, e.g. a deadlocked
interpreter, is restarted), and a stuck database query is bounded by PostgreSQL's
``statement_timeout``, not by gunicorn. (gevent would also do, at the price of
monkey-patching psycopg and Django; threads need nothing.) A proxy with
``proxy_buffering off`` for the exports (docs/deployment.md) passes the client's pace
through, which is what this setting is for.

``graceful_timeout``: a worker recycled after ``max_requests`` (or on ``HUP``/deploy)
stops accepting and lets its running requests finish for that long before being killed:
long enough for the slowest export we support (260 MB at 1 MB/s is 260 s).
"""

import os


def _env_int(name, default, *, minimum=0):
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SystemExit(  # noqa: B904 (the message says it all)
            f"gunicorn.conf.py: the environment variable {name} must be a whole number, not {raw!r}."
        )
    if value < minimum:
        raise SystemExit(f"gunicorn.conf.py: the environment variable {name} must be at least {minimum}.")
    return value


wsgi_app = "cms.wsgi:application"

# GUNICORN_BIND wins ("127.0.0.1:8000", "unix:/run/parcours.sock", several separated by
# commas); otherwise PORT on loopback (the proxy is on the same host), 8000 by default.
bind = [
    address.strip()
    for address in (os.environ.get("GUNICORN_BIND") or f"127.0.0.1:{_env_int('PORT', 8000, minimum=1)}").split(",")
    if address.strip()
]

worker_class = "gthread"
# Processes: one or two per core (each holds its own database connections: CONN_MAX_AGE).
workers = _env_int("GUNICORN_WORKERS", _env_int("WEB_CONCURRENCY", (os.cpu_count() or 1) + 1), minimum=1)
# Threads per process: concurrent requests, slow downloads included, per worker.
threads = _env_int("GUNICORN_THREADS", 8, minimum=1)

# Heartbeat of a worker's main loop (not a limit on a request's duration with gthread).
timeout = _env_int("GUNICORN_TIMEOUT", 30, minimum=1)
graceful_timeout = _env_int("GUNICORN_GRACEFUL_TIMEOUT", 300, minimum=1)
# Behind nginx on the same host: connections kept open between requests, briefly.
keepalive = _env_int("GUNICORN_KEEPALIVE", 5, minimum=0)

# Recycle each worker after about this many requests (memory fragmentation, leaks in
# libraries); the jitter keeps workers from restarting all at once.
max_requests = _env_int("GUNICORN_MAX_REQUESTS", 2000, minimum=0)
max_requests_jitter = _env_int("GUNICORN_MAX_REQUESTS_JITTER", 200, minimum=0)

# Request line and headers: gunicorn's limits (the body limit is the application's and the
# proxy's, MAX_REQUEST_BODY_BYTES / PACKAGE_UPLOAD_MAX_BYTES).
limit_request_line = 8190
limit_request_fields = 100

accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
# gunicorn's default line, plus the X-Request-ID the application answers with (the same id as
# in the application's own log lines, cms/request_id.py).
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %({x-request-id}o)s'
errorlog = os.environ.get("GUNICORN_ERROR_LOG", "-")
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# Temporary heartbeat files in memory, not on a disk that may stall.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
