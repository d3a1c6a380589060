"""Load test with locust: the persona mix of a working day, against gunicorn + PostgreSQL + Redis + an RQ worker.

    .venv/bin/python bench/load.py                          # 150 users, 60 s, PostgreSQL "parcours_load"
    .venv/bin/python bench/load.py --users 200 --spawn-rate 20 --duration 120 --processes 2
    .venv/bin/python bench/load.py --smoke                  # one user per persona for 20 s
    .venv/bin/python bench/load.py --host https://… --plan plan.json   # an existing server

Without ``--host`` the script builds its own site on loopback:

1. the PostgreSQL database ``--database-url`` (default
   ``postgres://postgres@127.0.0.1:5432/parcours_load``; its name must contain "load") is
   created when missing, migrated and seeded once with ``seed_demo --agents 55000``
   (bench/load_data.py, which also gives the persona accounts their password, creates the
   SIRH's API token and writes the plan the virtual users follow);
2. ``collectstatic`` into a directory of its own, then gunicorn (``gunicorn.conf.py`` of the
   repository when present, ``--workers`` to override) and ``manage.py rqworker default``
   start with the production settings (``cms.settings.production``: DEBUG off, Redis cache,
   ``TASKS_BACKEND=rq``, Redis database ``--redis-db``, default 7, flushed first), as behind
   a TLS reverse proxy: the virtual users send ``X-Forwarded-Proto: https`` (and a
   candidate's ``X-Forwarded-For``, ``TRUSTED_PROXY_COUNT=1``);
3. locust runs headless (``--users``, ``--spawn-rate``, ``--duration``, ``--processes``).

Personas (weights of the virtual users): agents (Mon espace, the mandatory course, its
lessons, marking a lesson done, the quiz page and real quiz submissions: form posts with
the page's CSRF token, while attempts remain); managers (the team's training, all levels,
their appraisals); HR (training and appraisal dashboards with their charts, the recruitment
report); the SIRH (one user walking ``/api/v1/completions/?page_size=1000`` with ``next``,
token auth); candidates (the openings, one notice, and an application: multipart with a
small PDF CV, then the confirmation). Each virtual user signs in once (session cookie).

Prints per endpoint: requests, failures, requests/s, p50/p95/p99 (ms), then a total line,
the failures, and the CPU used during the run by locust, gunicorn, the RQ worker,
PostgreSQL and Redis (the share of the machine's cores), which says what limits the
figures. Never asserts on time; exits with status 1 when a request failed or a persona's
endpoint was never reached.

The journeys are plain code on a small client interface (``request(method, path, name=,
expect=, body=, content_type=, headers=)``): locust drives them here, Django's test client
in tests/cms/test_load_script.py.
"""

import argparse
import itertools
import json
import os
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/parcours_load"
STATIC_ROOT = Path(tempfile.gettempdir()) / "parcours-load-static"
API_PAGE_SIZE = 1000

# --- journeys ------------------------------------------------------------------------------------

CSRF_RE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
QUESTION_RE = re.compile(r'<input type="(radio|checkbox|text)" name="(q-[^"]+)" id="[^"]*" value="([^"]*)"')
NEXT_RE = re.compile(r'"next":\s*(null|"([^"]*)")')
# A valid one-page PDF (what the upload sniffing expects of a CV), 300 bytes or so.
CV_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
    b"xref\n0 4\n0000000000 65535 f \n0000000009 00000 n \n0000000052 00000 n \n0000000101 00000 n \n"
    b"trailer<</Size 4/Root 1 0 R>>\nstartxref\n164\n%%EOF\n"
)

# Every endpoint a persona reaches, by the name its requests are reported under.
ENDPOINTS = {
    "agent": [
        "connexion (formulaire)",
        "connexion",
        "mon espace",
        "formation",
        "leçon",
        "leçon terminée (POST)",
        "quiz",
        "quiz envoyé (POST)",
    ],
    "manager": ["connexion (formulaire)", "connexion", "équipe : formations", "équipe : tous niveaux", "entretiens"],
    "hr": [
        "connexion (formulaire)",
        "connexion",
        "RH : formations",
        "RH : graphique formations",
        "RH : entretiens",
        "RH : campagne",
        "RH : rapport recrutement",
    ],
    "sirh": ["API : completions (page de 1000)"],
    "candidate": ["offres", "offre", "candidature (POST multipart)", "candidature envoyée"],
}


def csrf_token(html):
    match = CSRF_RE.search(html)
    return match.group(1) if match else ""


def form_body(fields):
    return urlencode(fields, doseq=True).encode(), "application/x-www-form-urlencoded"


def multipart_body(fields, files):
    """``multipart/form-data`` by hand (fields: name -> str; files: name -> (filename, bytes, type))."""
    boundary = "----parcours-load-" + secrets.token_hex(8)
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for name, (filename, content, content_type) in files.items():
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
            f"Content-Type: {content_type}\r\n\r\n"
        )
        parts.append(head.encode() + content + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def quiz_answers(html, rng):
    """One answer per question of the quiz form, picked at random (text questions get a word)."""
    choices = {}
    for kind, name, value in QUESTION_RE.findall(html):
        choices.setdefault(name, (kind, []))[1].append(value)
    answers = {}
    for name, (kind, values) in choices.items():
        if kind == "text":
            answers[name] = rng.choice(["finalité", "CNIL", "je ne sais pas"])
        elif kind == "checkbox":
            answers[name] = rng.sample(values, rng.randint(1, len(values)))
        else:
            answers[name] = rng.choice(values)
    return answers


def sign_in(http, username, password):
    status, html = http.request("GET", "/compte/connexion/", name="connexion (formulaire)", expect=(200,))
    body = form_body({"csrfmiddlewaretoken": csrf_token(html), "username": username, "password": password})
    http.request("POST", "/compte/connexion/", name="connexion", expect=(302,), body=body[0], content_type=body[1])


class AgentJourney:
    """An agent taking the mandatory course: Mon espace, the course, lessons, the quiz."""

    def __init__(self, http, plan, username, rng):
        self.http, self.plan, self.username, self.rng = http, plan, username, rng
        self.quiz_open = True

    def start(self):
        sign_in(self.http, self.username, self.plan["password"])

    def mon_espace(self):
        self.http.request("GET", "/mon-espace/", name="mon espace", expect=(200,))

    def read_lesson(self):
        course = self.plan["course"]
        self.http.request("GET", course["path"], name="formation", expect=(200,))
        lesson = self.rng.choice(course["lessons"])
        _status, html = self.http.request("GET", lesson["path"], name="leçon", expect=(200,))
        token = csrf_token(html)
        if token and f"/formation/lecons/{lesson['id']}/terminer/" in html:
            body, content_type = form_body({"csrfmiddlewaretoken": token})
            self.http.request(
                "POST",
                f"/formation/lecons/{lesson['id']}/terminer/",
                name="leçon terminée (POST)",
                expect=(302,),
                body=body,
                content_type=content_type,
            )

    def take_quiz(self):
        quiz = self.plan["course"]["quiz"]
        _status, html = self.http.request("GET", quiz["path"], name="quiz", expect=(200,))
        if 'class="quiz-form"' not in html:  # passed, or no attempt left: the page says so
            self.quiz_open = False
            return
        fields = {"csrfmiddlewaretoken": csrf_token(html), **quiz_answers(html, self.rng)}
        body, content_type = form_body(fields)
        self.http.request(
            "POST",
            f"/formation/quiz/{quiz['id']}/tentatives/",
            name="quiz envoyé (POST)",
            expect=(302,),
            body=body,
            content_type=content_type,
        )


class ManagerJourney:
    def __init__(self, http, plan, username, rng):
        self.http, self.plan, self.username, self.rng = http, plan, username, rng

    def start(self):
        sign_in(self.http, self.username, self.plan["password"])

    def team(self):
        self.http.request("GET", "/formation/equipe/formations/", name="équipe : formations", expect=(200,))

    def team_all_levels(self):
        self.http.request(
            "GET", "/formation/equipe/formations/?levels=all", name="équipe : tous niveaux", expect=(200,)
        )

    def appraisals(self):
        self.http.request("GET", "/entretiens/", name="entretiens", expect=(200,))


class HrJourney:
    def __init__(self, http, plan, username, rng):
        self.http, self.plan, self.username, self.rng = http, plan, username, rng

    def start(self):
        sign_in(self.http, self.username, self.plan["password"])

    def learning_dashboard(self):
        self.http.request("GET", "/formation/rh/formations/", name="RH : formations", expect=(200,))
        self.http.request(
            "GET", "/formation/rh/formations/graphique.svg", name="RH : graphique formations", expect=(200,)
        )

    def appraisal_dashboards(self):
        self.http.request("GET", "/rh/entretiens/", name="RH : entretiens", expect=(200,))
        if self.plan["campaigns"]:
            campaign = self.rng.choice(self.plan["campaigns"])
            self.http.request("GET", f"/rh/entretiens/{campaign}/", name="RH : campagne", expect=(200,))

    def recruitment_report(self):
        self.http.request("GET", "/recrutement/rapports/", name="RH : rapport recrutement", expect=(200,))


class SirhJourney:
    """The HR information system pulling completions: page after page through ``next``."""

    def __init__(self, http, plan, username=None, rng=None):
        self.http, self.plan = http, plan
        self.first = f"/api/v1/completions/?page_size={API_PAGE_SIZE}"
        self.next = self.first
        self.pages = 0

    def start(self):
        pass

    def next_page(self):
        headers = {"Authorization": f"Token {self.plan['api_token']}", "Accept": "application/json"}
        _status, text = self.http.request(
            "GET", self.next, name=f"API : completions (page de {API_PAGE_SIZE})", expect=(200,), headers=headers
        )
        self.pages += 1
        match = NEXT_RE.search(text[:2000])
        if match and match.group(2):
            parts = urlsplit(match.group(2))
            self.next = urlunsplit(("", "", parts.path, parts.query, ""))
        else:  # the end (or an unreadable page): start again, as tomorrow night's run would
            self.next = self.first


class CandidateJourney:
    """A member of the public: the openings, one notice, an application with a PDF CV."""

    counter = itertools.count()

    def __init__(self, http, plan, username=None, rng=None):
        self.http, self.plan, self.rng = http, plan, rng or random.Random()
        self.prefix = secrets.token_hex(4)

    def start(self):
        pass

    def apply(self):
        if self.plan.get("openings_index"):
            self.http.request("GET", self.plan["openings_index"], name="offres", expect=(200,))
        if not self.plan["openings"]:
            return
        opening = self.rng.choice(self.plan["openings"])
        _status, html = self.http.request("GET", opening["path"], name="offre", expect=(200,))
        number = next(self.counter)
        # Each application comes from its own address (the proxy's X-Forwarded-For) and e-mail:
        # the per-address and per-e-mail limits of the form are not what is measured here.
        address = f"10.{self.rng.randint(0, 255)}.{self.rng.randint(0, 255)}.{self.rng.randint(1, 254)}"
        fields = {
            "csrfmiddlewaretoken": csrf_token(html),
            "first_name": "Camille",
            "last_name": f"Charge {self.prefix}{number}",
            "email": f"candidat.{self.prefix}.{number}@exemple.fr",
            "phone": "06 " + " ".join(f"{secrets.randbelow(100):02d}" for _pair in range(4)),  # random: a phone already used for the opening is refused
            "message": "Candidature envoyée par le test de charge.",
        }
        body, content_type = multipart_body(fields, {"cv": ("cv.pdf", CV_PDF, "application/pdf")})
        status, _text = self.http.request(
            "POST",
            f"/recrutement/offres/{opening['id']}/candidater/",
            name="candidature (POST multipart)",
            expect=(302,),
            body=body,
            content_type=content_type,
            headers={"X-Forwarded-For": address},
        )
        if status == 302:
            self.http.request("GET", "/recrutement/candidature-envoyee/", name="candidature envoyée", expect=(200,))


# What each persona does, with weights (a task is a short journey of one to three requests).
TASKS = {
    "agent": {"mon_espace": 3, "read_lesson": 4, "take_quiz": 2},
    "manager": {"team": 3, "team_all_levels": 1, "appraisals": 2},
    "hr": {"learning_dashboard": 2, "appraisal_dashboards": 2, "recruitment_report": 1},
    "sirh": {"next_page": 1},
    "candidate": {"apply": 1},
}
JOURNEYS = {
    "agent": AgentJourney,
    "manager": ManagerJourney,
    "hr": HrJourney,
    "sirh": SirhJourney,
    "candidate": CandidateJourney,
}
ACCOUNTS = {"agent": "agents", "manager": "managers", "hr": "hr"}


# --- locust (only when locust imports this file) -----------------------------------------------


def _locust_users():
    from http.cookiejar import DefaultCookiePolicy

    from locust import FastHttpUser, between, events
    from locust.runners import WorkerRunner

    plan = json.loads(Path(os.environ["LOAD_PLAN"]).read_text())
    processes = max(int(os.environ.get("LOAD_PROCESSES", "1")), 1)
    counters = {persona: itertools.count() for persona in JOURNEYS}

    class BehindTlsProxy(DefaultCookiePolicy):
        """TLS ends at the reverse proxy: the users talk HTTP on loopback and say https in
        X-Forwarded-Proto, so the site's Secure cookies must still be sent back."""

        def return_ok_secure(self, cookie, request):
            return True

    class LocustClient:
        def __init__(self, user):
            self.user = user
            self.origin = os.environ.get("LOAD_ORIGIN") or user.host.rstrip("/")

        def request(self, method, path, *, name, expect=(200,), body=None, content_type=None, headers=None):
            all_headers = {"X-Forwarded-Proto": "https"}
            if method != "GET":
                all_headers["Origin"] = self.origin
            if content_type:
                all_headers["Content-Type"] = content_type
            all_headers.update(headers or {})
            with self.user.client.request(
                method, path, name=name, data=body, headers=all_headers, allow_redirects=False, catch_response=True
            ) as response:
                if response.status_code in expect:
                    response.success()
                else:
                    response.failure(f"HTTP {response.status_code} (attendu : {', '.join(map(str, expect))})")
                return response.status_code, response.text or ""

    def journey_task(method):
        def run(user):
            method(user.journey)

        run.__name__ = method.__name__
        return run

    def persona_user(persona, weight, wait):
        tasks = {getattr(JOURNEYS[persona], method): count for method, count in TASKS[persona].items()}

        class PersonaUser(FastHttpUser):
            def on_start(self):
                self.client.cookiejar.set_policy(BehindTlsProxy())
                runner = self.environment.runner
                index = next(counters[persona]) * processes + getattr(runner, "worker_index", 0)
                accounts = plan.get(ACCOUNTS.get(persona, ""), [None]) or [None]
                username = accounts[index % len(accounts)]
                self.journey = JOURNEYS[persona](LocustClient(self), plan, username, random.Random(index))
                self.journey.start()

        PersonaUser.weight = weight
        PersonaUser.wait_time = wait
        if os.environ.get("LOAD_SMOKE"):  # every step of the persona, in order, again and again

            def every_step(user):
                for method in tasks:
                    method(user.journey)

            PersonaUser.tasks = [every_step]
        else:
            PersonaUser.tasks = {journey_task(method): count for method, count in tasks.items()}
        PersonaUser.__name__ = PersonaUser.__qualname__ = f"{persona.title()}User"
        return PersonaUser

    think = between(0.5, 2.0)
    users = {
        "AgentUser": persona_user("agent", 14, think),
        "ManagerUser": persona_user("manager", 2, think),
        "HrUser": persona_user("hr", 1, think),
        "CandidateUser": persona_user("candidate", 3, between(1.0, 3.0)),
        "SirhUser": persona_user("sirh", 1, between(0.5, 1.0)),
    }
    users["SirhUser"].fixed_count = 1
    if os.environ.get("LOAD_SMOKE"):  # one user of each persona, whatever the weights
        for user in users.values():
            user.fixed_count = 1

    @events.quit.add_listener
    def save_results(exit_code, **kwargs):
        """The final figures (the master's, with several processes), for bench/load.py to print."""
        runner = getattr(save_results, "runner", None)
        if runner is None or isinstance(runner, WorkerRunner) or not os.environ.get("LOAD_RESULTS"):
            return
        stats = runner.stats
        results = {
            "start": stats.total.start_time,
            "last_request": stats.total.last_request_timestamp or stats.total.start_time,
            "entries": [
                {
                    "name": entry.name,
                    "method": entry.method,
                    "num_requests": entry.num_requests,
                    "num_failures": entry.num_failures,
                    "response_times": entry.response_times,
                }
                for entry in stats.entries.values()
            ],
            "errors": [error.to_dict() for error in stats.errors.values()],
        }
        Path(os.environ["LOAD_RESULTS"]).write_text(json.dumps(results))

    @events.init.add_listener
    def remember_runner(environment, **kwargs):
        save_results.runner = environment.runner

    return users


# --- orchestration -------------------------------------------------------------------------------


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=150, help="virtual users (default 150)")
    parser.add_argument("--spawn-rate", type=float, default=15, help="users started per second (default 15)")
    parser.add_argument("--duration", type=int, default=60, help="seconds of load (default 60)")
    parser.add_argument("--processes", type=int, default=1, help="locust processes (default 1; -1: one per core)")
    parser.add_argument("--workers", type=int, default=None, help="gunicorn workers (default: gunicorn.conf.py's)")
    parser.add_argument("--database-url", default=os.environ.get("LOAD_DATABASE_URL", DEFAULT_DATABASE_URL))
    parser.add_argument("--seed-agents", type=int, default=55_000, help="seed_demo --agents on a new database")
    parser.add_argument("--redis-db", type=int, default=7, help="Redis database of the cache and the queue (default 7)")
    parser.add_argument("--port", type=int, default=0, help="gunicorn port (default: a free one)")
    parser.add_argument("--host", default=None, help="load an existing server instead (needs --plan)")
    parser.add_argument("--plan", default=None, help="a plan written by bench/load_data.py (with --host)")
    parser.add_argument(
        "--smoke", action="store_true", help="one user of each persona for 20 s (2,000 agents on a new database)"
    )
    parser.add_argument("--keep-logs", action="store_true", help="keep the working directory (logs, CSV, CVs)")
    args = parser.parse_args(argv)
    if args.smoke:
        args.users, args.spawn_rate = len(JOURNEYS), len(JOURNEYS)
        if args.duration == 60:
            args.duration = 20
        if args.seed_agents == 55_000:
            args.seed_agents = 2_000
    if args.host and not args.plan:
        parser.error("--host needs --plan (bench/load_data.py --out plan.json, run against that server's database)")
    if not args.host and "load" not in urlsplit(args.database_url).path:
        parser.error("the database name must contain 'load' (it is seeded and written to)")
    return args


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def ensure_database(url):
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urlunsplit((parts.scheme, parts.netloc, "/postgres", parts.query, ""))
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def server_env(args, port, workdir):
    redis_url = f"redis://127.0.0.1:6379/{args.redis_db}"
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "cms.settings.production",
            "DATABASE_URL": args.database_url,
            "SECRET_KEY": secrets.token_urlsafe(40),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "WAGTAILADMIN_BASE_URL": f"https://127.0.0.1:{port}",
            "SECURE_SSL_REDIRECT": "false",
            "SECURE_HSTS_SECONDS": "0",
            "TRUSTED_PROXY_COUNT": "1",
            "TASKS_BACKEND": "rq",
            "REDIS_URL": redis_url,
            "CACHE_BACKEND": "redis",
            "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
            "STATIC_ROOT": str(STATIC_ROOT),
            "PRIVATE_ROOT": str(workdir / "private"),
            "LOG_LEVEL": "WARNING",
        }
    )
    return env


def run_step(command, env, log, what):
    started = time.perf_counter()
    with open(log, "ab") as out:
        result = subprocess.run(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    if result.returncode:
        sys.exit(f"{what} failed (exit {result.returncode}): see {log}")
    print(f"{what}: {time.perf_counter() - started:.1f} s")


def static_fingerprint():
    """What the collected files depend on: the pinned packages and the project's static files."""
    import hashlib

    digest = hashlib.sha256((ROOT / "requirements.txt").read_bytes())
    for path in sorted(ROOT.glob("*/static/**/*")):
        if path.is_file():
            stat = path.stat()
            digest.update(f"{path.relative_to(ROOT)}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return digest.hexdigest()


def collect_static(env, log):
    """``collectstatic`` (the production storage needs its manifest), skipped when nothing changed
    since the last run: compressing every file takes minutes on a busy machine."""
    stamp = STATIC_ROOT / ".parcours-load-fingerprint"
    fingerprint = static_fingerprint()
    if (STATIC_ROOT / "staticfiles.json").exists() and stamp.exists() and stamp.read_text() == fingerprint:
        print(f"collectstatic: up to date ({STATIC_ROOT})")
        return
    run_step([PYTHON, "manage.py", "collectstatic", "--noinput", "-v0"], env, log, "collectstatic")
    stamp.write_text(fingerprint)


def wait_for_server(url, timeout=90):
    import urllib.error
    import urllib.request

    deadline = time.monotonic() + timeout
    request = urllib.request.Request(url + "/api/v1/health/", headers={"X-Forwarded-Proto": "https"})
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                return response.status
        except urllib.error.HTTPError as exc:
            return exc.code  # it answers (503: a part is not ready; the run will say more)
        except OSError:
            time.sleep(0.5)
    sys.exit(f"the server at {url} did not answer within {timeout} s")


def warm_up(host, plan, rounds=12):
    """A few anonymous pages per worker before measuring: each gunicorn worker imports and
    compiles its templates on its first requests, which is not what a working day costs."""
    import urllib.error
    import urllib.request

    paths = ["/compte/connexion/", "/", plan["course"]["path"], plan.get("openings_index") or "/"]
    started = time.perf_counter()
    for _round in range(rounds):
        for path in paths:
            request = urllib.request.Request(host + path, headers={"X-Forwarded-Proto": "https"})
            try:
                with urllib.request.urlopen(request, timeout=60) as response:
                    response.read()
            except urllib.error.HTTPError:
                pass  # a page that needs a login answers a redirect or 403: it is warm all the same
    print(f"warm-up: {rounds * len(paths)} requests in {time.perf_counter() - started:.1f} s")


class CpuMeter:
    """CPU seconds of groups of processes (a process and its children), and of the machine."""

    def __init__(self, groups):
        import psutil

        self.psutil = psutil
        self.groups = groups  # name -> callable returning the pids of the group

    def _tree(self, pid):
        try:
            process = self.psutil.Process(pid)
            return [process, *process.children(recursive=True)]
        except self.psutil.Error:
            return []

    def sample(self):
        seen, figures = {}, {}
        for name, pids in self.groups.items():
            total = 0.0
            for pid in pids():
                for process in self._tree(pid):
                    try:
                        times = process.cpu_times()
                    except self.psutil.Error:
                        continue
                    value = times.user + times.system
                    seen[process.pid] = value
                    total += value
            figures[name] = total
        machine = self.psutil.cpu_times()
        figures["_busy"] = sum(machine) - machine.idle - getattr(machine, "iowait", 0.0)
        return seen, figures

    def pids_named(self, *names):
        def pids():
            return [p.pid for p in self.psutil.process_iter(["name"]) if p.info["name"] in names]

        return pids


def percentile(histogram, fraction):
    """The response time (ms) under which ``fraction`` of the requests fall, from locust's histogram."""
    total = sum(histogram.values())
    if not total:
        return 0
    seen = 0
    for value in sorted(histogram):
        seen += histogram[value]
        if seen >= fraction * total:
            return value
    return max(histogram)


def print_report(results_path):
    """The per-endpoint table; returns (total requests, failures, seconds, reached names)."""
    results = json.loads(Path(results_path).read_text())
    entries = sorted(results["entries"], key=lambda entry: entry["name"])
    width = max([len(entry["name"]) for entry in entries] + [10]) + 2
    seconds = max(results["last_request"] - results["start"], 1e-9) if entries else 1.0
    print()
    print(
        f"{'endpoint':<{width}}{'method':>7}{'requests':>10}{'errors':>8}{'req/s':>9}{'p50':>7}{'p95':>7}{'p99':>7}  (ms)"
    )
    merged, reached = {}, set()

    def line(label, method, requests, failures, histogram):
        figures = "".join(f"{percentile(histogram, fraction):>7.0f}" for fraction in (0.5, 0.95, 0.99))
        print(f"{label:<{width}}{method:>7}{requests:>10}{failures:>8}{requests / seconds:>9.1f}{figures}")

    for entry in entries:
        histogram = {float(key): count for key, count in entry["response_times"].items()}
        for value, count in histogram.items():
            merged[value] = merged.get(value, 0) + count
        line(entry["name"], entry["method"], entry["num_requests"], entry["num_failures"], histogram)
        if entry["num_requests"]:
            reached.add(entry["name"])
    total = sum(entry["num_requests"] for entry in entries)
    failures = sum(entry["num_failures"] for entry in entries)
    print("-" * (width + 55))
    line("total", "", total, failures, merged)
    for error in results["errors"]:
        print(f"  error: {error['method']} {error['name']}: {error['error']} ({error['occurrences']}x)")
    return total, failures, seconds, reached


def stop(process, what, sig=signal.SIGTERM):
    if process is None or process.poll() is not None:
        return
    process.send_signal(sig)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        print(f"{what} did not stop within 30 s: killed")
        process.kill()
        process.wait()


def main(argv=None):
    args = parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="parcours-load-"))
    log = workdir / "setup.log"
    gunicorn = worker = None
    try:
        if args.host:
            host, plan_path = args.host.rstrip("/"), Path(args.plan)
        else:
            port = args.port or free_port()
            host = f"http://127.0.0.1:{port}"
            plan_path = workdir / "plan.json"
            env = server_env(args, port, workdir)
            ensure_database(args.database_url)
            data_env = {**env, "DJANGO_SETTINGS_MODULE": "cms.settings.dev", "TASKS_BACKEND": "immediate"}
            pool = 40 if args.smoke else max(2 * args.users, 200)
            run_step(
                [PYTHON, "bench/load_data.py", "--out", str(plan_path), "--seed-agents", str(args.seed_agents),
                 "--agents", str(pool)],
                data_env, log, "database and plan (bench/load_data.py)",
            )  # fmt: skip
            collect_static(env, log)
            import redis

            redis.Redis.from_url(env["REDIS_URL"]).flushdb()
            worker_log = open(workdir / "rqworker.log", "ab")  # noqa: SIM115 (open for the worker's life)
            worker = subprocess.Popen(
                [PYTHON, "manage.py", "rqworker", "default"],
                cwd=ROOT,
                env=env,
                stdout=worker_log,
                stderr=subprocess.STDOUT,
            )
            command = [str(Path(PYTHON).parent / "gunicorn"), "cms.wsgi:application", "--bind", f"127.0.0.1:{port}"]
            if (ROOT / "gunicorn.conf.py").exists():
                command += ["--config", str(ROOT / "gunicorn.conf.py")]
            else:
                command += ["--workers", "5", "--timeout", "30"]
            if args.workers:
                command += ["--workers", str(args.workers)]
            gunicorn_log = open(workdir / "gunicorn.log", "ab")  # noqa: SIM115
            gunicorn = subprocess.Popen(command, cwd=ROOT, env=env, stdout=gunicorn_log, stderr=subprocess.STDOUT)
            print(f"gunicorn: {' '.join(command[1:])} (health: {wait_for_server(host)})")
        plan = json.loads(plan_path.read_text())
        if not args.host:
            warm_up(host, plan)
        print(
            f"plan: {len(plan['agents'])} agent accounts, {len(plan['managers'])} managers, "
            f"{len(plan['openings'])} openings"
        )

        results_path = workdir / "results.json"
        # The figures are the steady state: locust resets them once every user is started (and
        # signed in: an Argon2 hash per sign-in, a fraction of a CPU second by design).
        ramp = int(args.users / args.spawn_rate + 0.999)
        locust_env = {
            **os.environ,
            "LOAD_PLAN": str(plan_path),
            "LOAD_RESULTS": str(results_path),
            "LOAD_PROCESSES": str(max(args.processes, 1)),
        }
        if args.smoke:
            locust_env["LOAD_SMOKE"] = "1"
        if not args.host:  # behind the (absent) TLS proxy, the site's origin is https
            locust_env["LOAD_ORIGIN"] = host.replace("http://", "https://", 1)
        locust_cmd = [
            str(Path(PYTHON).parent / "locust"), "-f", str(Path(__file__).resolve()), "--headless",
            "--users", str(args.users), "--spawn-rate", str(args.spawn_rate), "--run-time", f"{args.duration + ramp}s", "--reset-stats",
            "--host", host, "--stop-timeout", "10", "--only-summary",
            "--loglevel", "WARNING", "--logfile", str(workdir / "locust.log"),
        ]  # fmt: skip
        if args.smoke:  # the sign-ins are endpoints the smoke run must see
            locust_cmd.remove("--reset-stats")
        if args.processes != 1:
            locust_cmd += ["--processes", str(args.processes)]
        locust = subprocess.Popen(
            locust_cmd,
            cwd=ROOT,
            env=locust_env,
            stdout=subprocess.DEVNULL,
            stderr=open(workdir / "locust.err", "wb"),  # noqa: SIM115
        )
        meter = CpuMeter(
            {
                "locust": lambda: [locust.pid],
                "gunicorn": lambda: [gunicorn.pid] if gunicorn else [],
                "rq worker": lambda: [worker.pid] if worker else [],
                "postgresql": None,
                "redis": None,
            }
        )
        meter.groups["postgresql"] = meter.pids_named("postgres")
        meter.groups["redis"] = meter.pids_named("redis-server")
        print(
            f"locust: {args.users} users, {args.spawn_rate:g}/s ({ramp} s of ramp-up, not counted), "
            f"{args.duration} s measured, {args.processes} process(es)"
        )
        _seen, before = meter.sample()
        started = time.monotonic()
        while locust.poll() is None:
            time.sleep(1)
            _seen, last = meter.sample()  # the last sample before the processes exit
        elapsed = time.monotonic() - started
        total, failures, seconds, reached = print_report(results_path)
        print(f"total: {total} requests in {seconds:.0f} s = {total / seconds:.1f} req/s, {failures} errors")
        cores = os.cpu_count() or 1
        busy = last["_busy"] - before["_busy"]
        print(f"CPU during the run ({elapsed:.0f} s, {cores} cores = {elapsed * cores:.0f} core-seconds):")
        for name in ("gunicorn", "postgresql", "locust", "rq worker", "redis"):
            used = last[name] - before[name]
            share = f"{100 * used / busy:.0f} % of the busy CPU" if busy else ""
            print(f"  {name:<11}{used:7.1f} s  {100 * used / (elapsed * cores):5.1f} % of the machine  {share}")
        print(f"  {'all':<11}{busy:7.1f} s  {100 * busy / (elapsed * cores):5.1f} % of the machine (others included)")
        missing = [
            f"{persona}: {name}" for persona, names in ENDPOINTS.items() for name in names if name not in reached
        ]
        if missing:
            print("never reached: " + "; ".join(missing))
        status = 1 if failures or missing or locust.returncode not in (0, 1) else 0
        if status or args.keep_logs:
            args.keep_logs = True
            print(f"logs: {workdir}")
        return status
    finally:
        stop(gunicorn, "gunicorn", signal.SIGINT)  # quick shutdown: the load is over
        stop(worker, "rq worker")
        if args.keep_logs or sys.exc_info()[0]:
            print(f"working directory kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)  # logs, CSV and the CVs uploaded by the run


if __name__ == "__main__":
    sys.exit(main())
elif "LOAD_PLAN" in os.environ:  # imported by locust: the virtual users
    globals().update(_locust_users())
