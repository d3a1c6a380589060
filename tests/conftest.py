import os

import pytest
from django.conf import settings
from django.core.cache import cache
from django.utils import translation

from tests.factories import AgentFactory, OrgUnitFactory, UserFactory


@pytest.fixture(autouse=True)
def _french_by_default():
    """Every test starts in the site's language (French), whatever the previous test in the
    same worker activated (a view called with English, a request with ``Accept-Language``)."""
    with translation.override(settings.LANGUAGE_CODE):
        yield


@pytest.fixture(autouse=True)
def _empty_shared_cache(request):
    """Every test that uses the database starts with an empty cache: login and password-reset
    counters, rate limits and Wagtail's site root paths live there. The test settings keep the
    production default (the database cache, table created with the test database), so
    clearing it is a query; a test without the database has no cache table to clear."""
    uses_db = request.node.get_closest_marker("django_db") or {"db", "transactional_db"} & set(request.fixturenames)
    if uses_db:
        request.getfixturevalue("django_db_setup")
        with request.getfixturevalue("django_db_blocker").unblock():
            cache.clear()
    yield


@pytest.fixture
def org(db):
    """A small org chart: a direction, a service under it, a bureau under the service."""
    direction = OrgUnitFactory(code="DRH", name="Direction des ressources humaines", kind="direction")
    service = OrgUnitFactory(code="DRH-SF", name="Service de la formation", kind="service", parent=direction)
    bureau = OrgUnitFactory(code="DRH-SF-B1", name="Bureau des parcours", kind="bureau", parent=service)
    return {"direction": direction, "service": service, "bureau": bureau}


@pytest.fixture
def chain(org):
    """reviewer (N+2) → manager (N+1) → agent, plus an unrelated manager with a report."""
    reviewer = AgentFactory(user__username="reviewer", org_unit=org["direction"])
    manager = AgentFactory(user__username="manager", org_unit=org["service"], manager=reviewer)
    agent = AgentFactory(user__username="agent", org_unit=org["bureau"], manager=manager)
    other_manager = AgentFactory(user__username="other_manager", org_unit=org["direction"])
    other_agent = AgentFactory(user__username="other_agent", org_unit=org["direction"], manager=other_manager)
    hr = AgentFactory(user__username="hr", user__groups=["HR"], org_unit=org["direction"])
    return {
        "reviewer": reviewer,
        "manager": manager,
        "agent": agent,
        "other_manager": other_manager,
        "other_agent": other_agent,
        "hr": hr,
    }


@pytest.fixture
def user(db):
    return UserFactory()


def pytest_collection_modifyitems(config, items):
    """Tests marked ``postgres`` are skipped before their fixtures run on SQLite: a skipped
    transactional test would otherwise still flush the database behind the next tests."""
    if os.environ.get("DATABASE_URL", "").startswith("postgres"):
        return
    skip = pytest.mark.skip(reason="row locks are tested on PostgreSQL (set DATABASE_URL)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)
