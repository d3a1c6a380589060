"""Benchmark of the xAPI LRS on PostgreSQL: POST batches against COPY, a filtered GET on a large
store, and paging through ``more``.

    .venv/bin/python bench/xapi.py                         # 1,000,000 statements
    .venv/bin/python bench/xapi.py --statements 200000 --paging 50000 --rebuild

PostgreSQL only. ``DATABASE_URL`` (default ``postgres://postgres@127.0.0.1:5432/parcours_xapi_bench``)
must name a dedicated database whose name contains "bench": it is created when missing,
migrated, and dropped and built again with ``--rebuild`` (or when the store holds another
number of statements). The store is built with ``INSERT ... SELECT generate_series`` (the
statements, their agent and activity index rows, with the same SHA-256 keys the LRS computes),
not through the API. 10,000 agents, 8 verbs, 1,000 activities, ``stored`` spread over a year;
then 10,000 StatementRef statements of the last hour (1,000 voiding, 8,000 targeting a statement,
1,000 targeting another reference) so that the filters follow real references (added to an
existing store that has none).

Prints, from one run:
- statements/second of ``POST /xapi/statements`` with batches of 1,000 statements (through
  ``django.test.Client``, HTTP Basic, validation and index rows included), over ``--batches``;
- rows/second of a raw ``COPY ... FROM STDIN`` of the same rows (statements and their index
  rows, read back from the tables) into tables built ``LIKE`` the LRS's, with their indexes;
  and the ratio POST / COPY;
- median latency (ms) and query count of ``GET /xapi/statements?agent=…&verb=…&since=…``
  over ``--runs`` different agents (the query count must be the same for each);
- rows/second of walking ``--paging`` statements through the ``more`` links (500 a page).

Never asserts on time: it prints figures.
"""

import argparse
import base64
import io
import json
import os
import statistics
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pgdb import database_name, ensure_database  # noqa: E402  (bench/, beside this script)

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/parcours_xapi_bench"
AGENTS = 10_000
ACTIVITIES = 1_000
VERBS = ["launched", "initialized", "experienced", "answered", "completed", "passed", "failed", "terminated"]
ADL = "http://adlnet.gov/expapi/verbs/"
ACTIVITY = "http://bench.example.com/activities/"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--statements", type=int, default=1_000_000)
    parser.add_argument("--paging", type=int, default=100_000)
    parser.add_argument("--batches", type=int, default=5, help="POST batches of 1,000 statements")
    parser.add_argument("--runs", type=int, default=20, help="filtered GETs to time")
    parser.add_argument("--rebuild", action="store_true")
    return parser.parse_args()


# --- database ------------------------------------------------------------------------------------


def setup_django(url):
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cms.settings.test")  # DEBUG off: no query log
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def step(label, started):
    print(f"  {label}: {time.perf_counter() - started:.1f} s", flush=True)
    return time.perf_counter()


# --- build ---------------------------------------------------------------------------------------

SHA = "encode(sha256(convert_to({}, 'UTF8')), 'hex')"
BUILD_STATEMENTS = f"""
INSERT INTO xapi_statement (statement_id, data, content_hash, stored, timestamp, voided, actor_ifi, actor_key,
                            verb_id, verb_key, object_type, object_activity_key, object_agent_key, registration,
                            is_voiding)
SELECT s.sid, jsonb_build_object(
           'id', s.sid::text,
           'actor', jsonb_build_object('objectType', 'Agent', 'mbox', s.mbox),
           'verb', jsonb_build_object('id', s.verb, 'display', jsonb_build_object('en-US', s.verb_name)),
           'object', jsonb_build_object('objectType', 'Activity', 'id', s.activity),
           'result', jsonb_build_object('score', jsonb_build_object('scaled', (s.n %% 100) / 100.0),
                                        'completion', true),
           'stored', to_char(s.stored AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
           'timestamp', to_char(s.stored AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
           'authority', %(authority)s::jsonb, 'version', '1.0.0'),
       md5(s.sid::text) || md5(s.sid::text), s.stored, s.stored, false, 'mbox:' || s.mbox,
       {SHA.format("'mbox:' || s.mbox")}, s.verb, {SHA.format("s.verb")}, 'Activity', {SHA.format("s.activity")}, '',
       NULL, false
FROM (
    SELECT n, md5('bench-' || n)::uuid AS sid,
           'mailto:learner' || (n %% {AGENTS}) || '@bench.example.com' AS mbox,
           '{ADL}' || (ARRAY{VERBS!r})[1 + (n / 7) %% {len(VERBS)}] AS verb,
           (ARRAY{VERBS!r})[1 + (n / 7) %% {len(VERBS)}] AS verb_name,
           '{ACTIVITY}' || (n %% {ACTIVITIES}) AS activity,
           now() - make_interval(secs => (%(total)s - n) * 31536000.0 / %(total)s) AS stored
    FROM generate_series(1, %(total)s) AS n
) AS s
"""
BUILD_AGENTS = """
INSERT INTO xapi_statementagent (statement_id, agent_key, direct)
SELECT id, actor_key, true FROM xapi_statement WHERE actor_ifi LIKE 'mbox:mailto:learner%%@bench.example.com'
"""
BUILD_ACTIVITIES = """
INSERT INTO xapi_statementactivity (statement_id, activity_key, direct)
SELECT id, object_activity_key, true FROM xapi_statement WHERE actor_ifi LIKE 'mbox:mailto:learner%%@bench.example.com'
"""


REFERENCES = 10_000  # StatementRef statements: 1,000 voiding, 8,000 to a statement, 1,000 to a reference
BUILD_REFERENCES = f"""
INSERT INTO xapi_statement (statement_id, data, content_hash, stored, timestamp, voided, actor_ifi, actor_key,
                            verb_id, verb_key, object_type, object_activity_key, object_agent_key,
                            object_statement_id, registration, is_voiding)
SELECT s.sid, jsonb_build_object(
           'id', s.sid::text,
           'actor', jsonb_build_object('objectType', 'Agent', 'mbox', s.mbox),
           'verb', jsonb_build_object('id', s.verb),
           'object', jsonb_build_object('objectType', 'StatementRef', 'id', s.target::text),
           'stored', to_char(s.stored AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
           'timestamp', to_char(s.stored AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
           'authority', %(authority)s::jsonb, 'version', '1.0.0'),
       md5(s.sid::text) || md5(s.sid::text), s.stored, s.stored, false, 'mbox:' || s.mbox,
       {SHA.format("'mbox:' || s.mbox")}, s.verb, {SHA.format("s.verb")}, 'StatementRef', '', '', s.target, NULL,
       s.n <= 1000
FROM (
    SELECT n, md5('bench-ref-' || n)::uuid AS sid,
           'mailto:reviewer' || (n %% 100) || '@bench.example.com' AS mbox,
           CASE WHEN n <= 1000 THEN 'http://adlnet.gov/expapi/verbs/voided'
                ELSE 'http://adlnet.gov/expapi/verbs/commented' END AS verb,
           CASE WHEN n <= {REFERENCES - 1000} THEN md5('bench-' || (1 + (n * 7919) %% %(total)s))::uuid
                ELSE md5('bench-ref-' || (n - {REFERENCES - 2000}))::uuid END AS target,
           now() - make_interval(secs => (%(references)s - n) * 3600.0 / %(references)s) AS stored
    FROM generate_series(1, %(references)s) AS n
) AS s
"""
VOID_TARGETS = """
UPDATE xapi_statement SET voided = true WHERE statement_id IN (
    SELECT object_statement_id FROM xapi_statement WHERE is_voiding AND actor_ifi LIKE 'mbox:mailto:reviewer%%'
)
"""
BUILD_REFERENCE_AGENTS = """
INSERT INTO xapi_statementagent (statement_id, agent_key, direct)
SELECT id, actor_key, true FROM xapi_statement WHERE actor_ifi LIKE 'mbox:mailto:reviewer%%@bench.example.com'
"""


def build_references(total):
    """StatementRef statements (voiding ones included) over the last hour, so that the filters
    follow real references: 1% of the store."""
    from django.db import connection

    from xapi.identity import system_authority

    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM xapi_statement WHERE actor_ifi LIKE 'mbox:mailto:reviewer%%'")
        if cursor.fetchone()[0]:
            return
        params = {"total": total, "references": REFERENCES, "authority": json.dumps(system_authority())}
        cursor.execute(BUILD_REFERENCES, params)
        cursor.execute(VOID_TARGETS)
        cursor.execute(BUILD_REFERENCE_AGENTS)
        cursor.execute("ANALYZE xapi_statement; ANALYZE xapi_statementagent")
    step(f"{REFERENCES:,} StatementRef statements (1,000 voiding, 1,000 to another reference)", started)


def bench_count(cursor):
    cursor.execute("SELECT count(*) FROM xapi_statement WHERE actor_ifi LIKE 'mbox:mailto:learner%%@bench.example.com'")
    return cursor.fetchone()[0]


def build_store(total):
    from django.db import connection

    from xapi.identity import system_authority

    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SET maintenance_work_mem = '256MB'")
        cursor.execute(BUILD_STATEMENTS, {"total": total, "authority": json.dumps(system_authority())})
        started = step(f"{total:,} statements (INSERT ... SELECT generate_series)", started)
        cursor.execute(BUILD_AGENTS)
        cursor.execute(BUILD_ACTIVITIES)
        started = step("agent and activity index rows", started)
        cursor.execute("ANALYZE xapi_statement; ANALYZE xapi_statementagent; ANALYZE xapi_statementactivity")
        step("ANALYZE", started)


# --- measures ------------------------------------------------------------------------------------


def http_client():
    from django.test import Client

    from xapi.services import create_client

    client, secret = create_client(name=f"bench {uuid.uuid4().hex[:8]}")
    auth = "Basic " + base64.b64encode(f"{client.key}:{secret}".encode()).decode()
    return Client(headers={"authorization": auth, "x-experience-api-version": "1.0.3"})


def batch(index, size=1000):
    return [
        {
            "actor": {"objectType": "Agent", "name": f"Agent {n}", "mbox": f"mailto:post{n % 500}@bench.example.com"},
            "verb": {"id": ADL + VERBS[n % len(VERBS)], "display": {"en-US": VERBS[n % len(VERBS)]}},
            "object": {
                "id": f"{ACTIVITY}post/{n % 200}",
                "definition": {
                    "name": {"fr-FR": f"Activité {n % 200}"},
                    "type": "http://adlnet.gov/expapi/activities/lesson",
                },
            },
            "result": {
                "score": {"scaled": (n % 100) / 100},
                "success": n % 3 > 0,
                "completion": True,
                "duration": "PT4M12S",
            },
            "context": {
                "registration": str(uuid.uuid5(uuid.NAMESPACE_URL, f"reg-{n % 300}")),
                "contextActivities": {"parent": [{"id": f"{ACTIVITY}course/{n % 20}"}]},
            },
            "timestamp": "2025-03-01T10:00:00.000Z",
        }  # fmt: skip
        for n in range(index * size, (index + 1) * size)
    ]


def measure_post(http, batches):
    from xapi.models import Statement

    ids, elapsed = [], 0.0
    for index in range(batches):
        body = json.dumps(batch(index))
        started = time.perf_counter()
        response = http.post("/xapi/statements", data=body, content_type="application/json")
        elapsed += time.perf_counter() - started
        assert response.status_code == 200, response.content[:300]
        ids += response.json()
    rate = len(ids) / elapsed
    print(f"POST /xapi/statements, {batches} batches of 1,000: {rate:,.0f} statements/s ({elapsed:.2f} s)")
    return list(Statement.objects.filter(statement_id__in=ids).values_list("pk", flat=True)), rate


def measure_copy(pks):
    """COPY the rows the POSTs wrote (statements and index rows) into LIKE tables with indexes."""
    from django.db import connection

    tables = ["xapi_statement", "xapi_statementagent", "xapi_statementactivity"]
    buffers = {}
    with connection.cursor() as cursor:
        raw = cursor.connection  # psycopg 3
        for table in tables:
            key = "id" if table == "xapi_statement" else "statement_id"
            buffer = io.BytesIO()
            wanted = "{" + ",".join(str(int(pk)) for pk in pks) + "}"
            with raw.cursor().copy(
                f"COPY (SELECT * FROM {table} WHERE {key} = ANY('{wanted}'::bigint[])) TO STDOUT"
            ) as copy:
                for data in copy:
                    buffer.write(data)
            buffers[table] = buffer.getvalue()
            cursor.execute(f"DROP TABLE IF EXISTS bench_copy_{table}")
            cursor.execute(f"CREATE TABLE bench_copy_{table} (LIKE {table} INCLUDING DEFAULTS INCLUDING INDEXES)")
        started = time.perf_counter()
        for table in tables:
            with raw.cursor().copy(f"COPY bench_copy_{table} FROM STDIN") as copy:
                copy.write(buffers[table])
        elapsed = time.perf_counter() - started
        for table in tables:
            cursor.execute(f"DROP TABLE bench_copy_{table}")
    rate = len(pks) / elapsed
    print(f"COPY of the same rows (statements + index rows, indexed tables): {rate:,.0f} statements/s "
          f"({elapsed:.2f} s)")  # fmt: skip
    return rate


def measure_get(http, runs):
    from datetime import timedelta

    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    since = (timezone.now() - timedelta(days=90)).isoformat()
    timings, query_counts, sizes = [], set(), []
    for run in range(runs):
        agent = {"mbox": f"mailto:learner{(run * 397) % AGENTS}@bench.example.com"}
        params = {"agent": json.dumps(agent), "verb": ADL + VERBS[run % len(VERBS)], "since": since}
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = http.get(f"/xapi/statements?{urlencode(params)}")
            timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
        sizes.append(len(response.json()["statements"]))
        query_counts.add(len(queries))
    print(f"GET agent+verb+since: median {statistics.median(timings):.1f} ms over {runs} agents "
          f"(p90 {sorted(timings)[int(runs * 0.9) - 1]:.1f} ms; {statistics.mean(sizes):.1f} statements each); "
          f"queries per request: {sorted(query_counts)}")  # fmt: skip


def measure_paging(http, wanted):
    url = "/xapi/statements?limit=500"
    rows, pages = 0, 0
    started = time.perf_counter()
    while url and rows < wanted:
        response = http.get(url)
        assert response.status_code == 200
        body = response.json()
        rows += len(body["statements"])
        pages += 1
        url = body["more"]
    elapsed = time.perf_counter() - started
    print(f"more paging: {rows:,} statements in {pages} pages: {rows / elapsed:,.0f} rows/s ({elapsed:.1f} s)")


def main():
    args = parse_args()
    url = os.environ.get("DATABASE_URL", DEFAULT_URL)
    if not url.startswith("postgres") or "bench" not in database_name(url):
        sys.exit("bench/xapi.py needs a PostgreSQL DATABASE_URL whose database name contains 'bench'")
    ensure_database(url, drop=args.rebuild)
    setup_django(url)
    from django.db import connection

    with connection.cursor() as cursor:
        present = bench_count(cursor)
    if present != args.statements:
        if present:
            print(f"store holds {present:,} statements, {args.statements:,} wanted: rebuilding")
            connection.close()
            ensure_database(url, drop=True)
            setup_django(url)
        print("building the store:")
        build_store(args.statements)
    build_references(args.statements)
    print(f"store: {args.statements:,} statements (+{REFERENCES:,} references), {AGENTS:,} agents, "
          f"{ACTIVITIES:,} activities; "
          f"PostgreSQL {connection.pg_version}")  # fmt: skip
    http = http_client()
    http.get("/xapi/about")  # imports the URLconf and the views before anything is timed
    http.post("/xapi/statements", data=json.dumps(batch(10_000, size=10)), content_type="application/json")
    pks, post_rate = measure_post(http, args.batches)
    copy_rate = measure_copy(pks)
    print(f"ratio POST / COPY: {post_rate / copy_rate:.3f}")
    measure_get(http, args.runs)
    measure_paging(http, args.paging)


if __name__ == "__main__":
    main()
