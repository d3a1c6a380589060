"""gunicorn.conf.py (issue 15, item 3): a client that reads an export slowly receives all of it.

gunicorn is started with the committed gunicorn.conf.py on a free loopback port, against a
database it can read (PostgreSQL: the test database, data committed by a transactional
test; SQLite: the in-memory test database copied to a file), with its worker heartbeat
timeout lowered to 2 s. A raw-socket client whose receive buffer is small reads the
multi-megabyte export in 8 KB pieces at most about 800 KB/s: by construction the server
is blocked writing to it for several times the timeout. A sync worker would be killed
(``WORKER TIMEOUT``) and the chunked body cut short; here the body ends with the last
chunk and holds every row.
"""

import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from learning.models import Enrollment
from tests.factories import AgentFactory, api_token_for
from tests.learning.conftest import build_course

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

ROOT = Path(settings.BASE_DIR)
ROWS = 32_000  # about 9 MB of CSV: more than twice what loopback sockets can buffer (4 MB + the client's)
PIECE, PAUSE = 8192, 0.016  # at most ~500 KB/s: 18 s for the file, of which > 9 s past what sockets buffer
HEARTBEAT = 5  # GUNICORN_TIMEOUT for the test (the default 30 s would need a 30 s+ test)
STARTUP = 30  # seconds for the worker to load Django (about 3 on an idle machine)
DEADLINE = 60  # seconds for the export itself (about 18 at the client's pace)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url(tmp_path):
    """A URL of the test database for another process."""
    if connection.vendor == "postgresql":
        s = connection.settings_dict
        password = f":{s['PASSWORD']}" if s.get("PASSWORD") else ""
        return f"postgres://{s['USER']}{password}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"
    path = tmp_path / "export.sqlite3"
    connection.ensure_connection()
    target = sqlite3.connect(path)
    connection.connection.backup(target)
    target.close()
    return f"sqlite:///{path}"


def build_rows():
    agent = AgentFactory()
    course = build_course()["course"]
    moment = datetime(2026, 1, 31, 8, 0, tzinfo=UTC)
    Enrollment.objects.bulk_create(
        [
            Enrollment(
                agent=agent,
                course=course,
                cycle=cycle,
                status="expired",
                progress=1.0,
                score=87.5,
                started_at=moment,
                completed_at=moment,
                expires_at=moment,
                certificate_code=f"C{cycle}",
            )  # fmt: skip
            for cycle in range(1, ROWS + 1)
        ],
        batch_size=4000,
    )
    hr = AgentFactory(user__username="hr_gunicorn", user__groups=["HR"])
    return api_token_for(hr.user)


def start_gunicorn(url, port):
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "cms.settings.test",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": "1",
        "GUNICORN_THREADS": "2",
        "GUNICORN_TIMEOUT": str(HEARTBEAT),
        "GUNICORN_ACCESS_LOG": "/dev/null",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py")],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    started = time.monotonic()
    while time.monotonic() - started < STARTUP:  # until the worker has loaded Django and answers
        if process.poll() is not None:
            raise AssertionError(f"gunicorn stopped: {process.stderr.read().decode()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=STARTUP) as sock:
                sock.sendall(b"GET /api/v1/no-such-path/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                if sock.recv(12).startswith(b"HTTP/1.1 "):
                    return process
        except OSError:
            time.sleep(0.2)
    log = stop(process)
    raise AssertionError(f"gunicorn did not answer within {STARTUP} s: {log[-2000:]}")


def stop(process):
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    return process.stderr.read().decode()


def slow_get(port, path, token, deadline):
    """The raw response of ``GET path`` read PIECE bytes at a time with a pause between reads."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)  # before connect: no autotuning
    sock.settimeout(DEADLINE)
    sock.connect(("127.0.0.1", port))
    request = (f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Token {token}\r\n"
               "Connection: close\r\n\r\n")  # fmt: skip
    sock.sendall(request.encode())
    received = bytearray()
    with sock:
        while time.monotonic() < deadline:
            data = sock.recv(PIECE)
            if not data:
                return bytes(received)
            received += data
            time.sleep(PAUSE)
    raise AssertionError(f"the export was not received within the test's bound ({len(received)} bytes)")


def dechunk(raw):
    """The body of a chunked HTTP/1.1 response; fails unless the terminating chunk arrived."""
    head, _sep, rest = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), head[:200]
    assert re.search(rb"(?im)^transfer-encoding: chunked\r?$", head), head
    body, position = bytearray(), 0
    while True:
        line_end = rest.index(b"\r\n", position)
        size = int(rest[position:line_end].split(b";")[0], 16)
        if size == 0:
            assert rest[line_end : line_end + 4] == b"\r\n\r\n", "no end of the chunked body"
            return bytes(body)
        start = line_end + 2
        chunk = rest[start : start + size]
        assert len(chunk) == size and rest[start + size : start + size + 2] == b"\r\n", "a chunk is cut short"
        body += chunk
        position = start + size + 2


def test_a_slow_client_receives_the_whole_export(tmp_path):
    token = build_rows()
    url, port = database_url(tmp_path), free_port()
    process = start_gunicorn(url, port)
    try:
        raw = slow_get(port, "/api/v1/completions/export.csv", token, time.monotonic() + DEADLINE)
    finally:
        log = stop(process)
    assert "WORKER TIMEOUT" not in log, log[-2000:]
    body = dechunk(raw)
    assert len(body) > 2 * 4_194_304  # the server had to wait for the client for most of it
    lines = body.decode("utf-8").split("\r\n")
    assert lines[0].startswith("\ufeffid,agent_employee_number,") and lines[-1] == ""
    rows = lines[1:-1]
    assert len(rows) == Enrollment.objects.count() == ROWS
    last = Enrollment.objects.order_by("updated_at", "id").last()
    assert rows[-1].split(",")[0] == str(last.pk) and rows[-1].endswith("Z")
