"""Browser tests: Playwright drives Debian's Chromium against pytest-django's live server.

Playwright's own browser download cannot work here, so the browser is always
``/usr/bin/chromium`` (``executable_path``). Every test in this folder is marked ``e2e``
and skipped, with a message saying how to install the browser, when it is missing.
"""

import os
import threading
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
PASSWORD = "correct horse battery staple"  # tests.factories.UserFactory's password
E2E_DIR = Path(__file__).parent


def _is_e2e(item):
    return E2E_DIR in Path(str(item.fspath)).parents


@pytest.hookimpl(wrapper=True)
def pytest_collection_modifyitems(config, items):
    """Mark the browser tests ``e2e``, skip them when Chromium is missing, run them last.

    Marking happens before the other implementations run (so ``-m "not e2e"`` sees the
    marker), sorting after them (pytest-django puts transactional tests last). Once
    Playwright has started, an event loop runs in the main thread until the session ends;
    running the browser tests last keeps every other test out of that state.
    """
    skip = None
    if not CHROMIUM.exists():
        skip = pytest.mark.skip(reason="Browser tests need Debian's Chromium: apt-get install -y chromium")
    for item in items:
        if _is_e2e(item):
            item.add_marker(pytest.mark.e2e)
            if skip is not None:
                item.add_marker(skip)
    result = yield
    items.sort(key=_is_e2e)  # stable: the order within each group is kept
    return result


# Playwright's sync API runs an event loop in the test thread; Django's ORM refuses to run
# in a thread with a running loop unless DJANGO_ALLOW_ASYNC_UNSAFE says it is safe (the
# calls are still synchronous). It is set around each browser test only (setup, call and
# teardown), so that other tests and the subprocesses they start never inherit it.
@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item):
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    try:
        return (yield)
    finally:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """pytest-playwright's launch options, pointed at Debian's Chromium, headless."""
    return {
        **browser_type_launch_args,
        "executable_path": str(CHROMIUM),
        "headless": True,
        "args": CHROMIUM_ARGS,
    }


@pytest.fixture(scope="session")
def base_url(live_server):
    """``page.goto("/")`` goes to pytest-django's live server."""
    return live_server.url


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    """The browser asks for French, like the agents', in a desktop-sized window."""
    return {
        **browser_context_args,
        "locale": "fr-FR",
        "viewport": {"width": 1280, "height": 800},
    }


@pytest.fixture(scope="session")
def _db_snapshots(django_db_setup):
    """The snapshots ``serialized_rollback`` restores, taken when the test databases were made."""
    from django.db import connections

    return {
        conn.alias: conn._test_serialized_contents
        for conn in connections.all()
        if hasattr(conn, "_test_serialized_contents")
    }


@pytest.fixture(scope="session")
def playwright(_db_snapshots, playwright):
    """pytest-playwright's Playwright, started after the test databases exist.

    Playwright's sync API leaves an event loop running in the main thread, and while one
    runs Django keeps a second set of connection objects (asgiref ``Local`` with
    ``thread_critical``). The snapshots were taken on the first set, so they are handed
    to the second here; without them serialized rollback would silently do nothing.
    """
    from django.db import connections

    for alias, contents in _db_snapshots.items():
        if not hasattr(connections[alias], "_test_serialized_contents"):
            connections[alias]._test_serialized_contents = contents
    return playwright


class _Gate:
    """Wraps the live server's WSGI application: counts the requests it is handling and, once
    closed, answers 503 without touching Django or the database.

    For an in-memory SQLite database the live server's threads share the test thread's
    connection: a request handled while the database is flushed runs inside the flush's
    transaction (a row written then breaks its foreign keys, or a table is locked).

    For the same reason requests are handled one at a time: two of them at once (a player's
    commit and its page's next request, say) would share one connection, and the second
    ``BEGIN`` fails with "cannot start a transaction within a transaction"."""

    def __init__(self, application):
        self.application = application
        self.serial = threading.Lock()
        self.condition = threading.Condition()
        self.in_flight = 0
        self.closed = False

    def __call__(self, environ, start_response):
        with self.condition:
            if self.closed:
                start_response("503 Service Unavailable", [("Content-Type", "text/plain"), ("Content-Length", "0")])
                return [b""]
            self.in_flight += 1
        try:
            with self.serial:
                return [bytes(chunk) for chunk in self._run(environ, start_response)]
        finally:
            with self.condition:
                self.in_flight -= 1
                self.condition.notify_all()

    def _run(self, environ, start_response):
        result = self.application(environ, start_response)
        try:
            yield from result
        finally:
            if hasattr(result, "close"):
                result.close()

    def close(self, timeout=15.0):
        """Refuse new requests and wait for those in flight to finish."""
        with self.condition:
            self.closed = True
            self.condition.wait_for(lambda: self.in_flight == 0, timeout=timeout)

    def open(self):
        with self.condition:
            self.closed = False


def _gate(live_server):
    httpd = live_server.thread.httpd
    application = httpd.get_app()
    if not isinstance(application, _Gate):
        application = _Gate(application)
        httpd.set_app(application)
    return application


@pytest.fixture
def site_db(transactional_db, django_db_serialized_rollback, live_server, context):
    """The live server sees committed data only, hence a transactional database.

    Flushing after each transactional test would also remove the rows the migrations
    create (Wagtail's root page and locale, the role groups); serialized rollback puts
    them back before the next test.

    The browser's pages outlive this fixture (pytest-playwright closes them later), and a
    page still open may send a request (a player's autosave, a beacon on unload) while the
    database is flushed. So before the flush every page is taken to ``about:blank`` (its
    unload handlers run), then the live server stops taking requests (503) and finishes
    those it is handling (``_Gate``); it opens again for the next test.
    """
    from cms.services import ensure_home_page

    gate = _gate(live_server)
    gate.open()
    ensure_home_page()
    try:
        yield
    finally:
        for open_page in list(context.pages):
            try:
                open_page.goto("about:blank", timeout=5000)
            except Exception:  # a page that cannot leave (crashed, closed): nothing to flush
                pass
        gate.close()


@pytest.fixture
def demo(site_db):
    """The demo chain: ``agent`` in a bureau, N+1 ``manager``, N+2 ``reviewer``."""
    from tests.factories import AgentFactory, OrgUnitFactory

    direction = OrgUnitFactory(code="DRH", name="Direction des ressources humaines", kind="direction")
    service = OrgUnitFactory(code="DRH-SF", name="Service de la formation", kind="service", parent=direction)
    bureau = OrgUnitFactory(code="DRH-SF-B1", name="Bureau des parcours", kind="bureau", parent=service)
    reviewer = AgentFactory(user__username="reviewer", org_unit=direction)
    manager = AgentFactory(user__username="manager", org_unit=service, manager=reviewer)
    agent = AgentFactory(user__username="agent", org_unit=bureau, manager=manager)
    return {"agent": agent, "manager": manager, "reviewer": reviewer, "password": PASSWORD}


def _format_violations(violations):
    lines = []
    for violation in violations:
        lines.append(
            f"- {violation['id']} [{violation['impact']}] {violation['help']} ({violation.get('helpUrl', '')})"
        )
        for node in violation["nodes"]:
            target = ", ".join(" ".join(t) if isinstance(t, list) else t for t in node["target"])
            lines.append(f"    {target}")
            summary = (node.get("failureSummary") or "").replace("\n", " ")
            if summary:
                lines.append(f"      {summary}")
    return "\n".join(lines)


@pytest.fixture(scope="session")
def axe():
    from axe_playwright_python.sync_playwright import Axe

    return Axe()


@pytest.fixture
def axe_check(axe):
    """``axe_check(page)``: run axe on the page; fail on any serious or critical violation.

    Moderate and minor findings do not fail the test (they are reported by axe only).
    """

    def serious(results):
        return [v for v in results.response["violations"] if v["impact"] in ("serious", "critical")]

    def check(page, context=None):
        # axe reads the page as it is shown: after the load, and once more after a short
        # pause when it finds something (scripts of the Wagtail admin still moving nodes
        # gave a one-off "label" finding on an element that has its label once settled).
        # ``context`` is axe's own (``{"exclude": [[selector]]}`` leaves out markup that
        # is not the project's, e.g. Wagtail's Draftail editors).
        page.wait_for_load_state("load")
        results = axe.run(page, context=context)
        violations = serious(results)
        if violations:
            page.wait_for_timeout(500)
            results = axe.run(page, context=context)
            violations = serious(results)
        if violations:
            pytest.fail(
                f"axe found {len(violations)} serious or critical violation(s) on {page.url}:\n"
                + _format_violations(violations),
                pytrace=False,
            )
        return results

    return check


def settled(page):
    """Wait for the page's finite animations (Wagtail's messages fade in) to end, so that axe
    measures the colours as shown, not halfway through a fade.

    Wagtail's sidebar badge pulses (``ping-warning``: a box shadow, five times five seconds)
    without changing any colour axe measures: waiting for it cost 25 s on every admin page."""
    page.wait_for_function(
        """() => document.getAnimations().every(a => a.playState !== 'running'
            || a.animationName === 'ping-warning' || a.effect.getTiming().iterations === Infinity)"""
    )


def header_link(page, name):
    """The header's navigation link ``name`` (« Mon espace », « Formations »…)."""
    return page.locator(".site-nav").get_by_role("link", name=name, exact=True)


@pytest.fixture
def login(axe_check):
    """``login(page, username, password)``: from the home page, « Se connecter » in the header,
    then the real form with the keyboard; back on the home page, signed in. axe is run on the
    home page and the login form on the way (every page reached is checked)."""

    def do_login(page, username, password=PASSWORD):
        page.goto("/")
        axe_check(page)
        page.locator(".header-tools").get_by_role("link", name="Se connecter", exact=True).click()
        page.get_by_label("Nom d’utilisateur").wait_for()
        axe_check(page)
        page.get_by_label("Nom d’utilisateur").fill(username)
        password_field = page.get_by_label("Mot de passe")
        password_field.fill(password)
        password_field.press("Enter")
        page.wait_for_load_state()
        axe_check(page)  # where « Se connecter » came from: the home page, signed in
        return page

    return do_login
