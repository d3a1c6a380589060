"""Demo data hook: each app contributes its demo content to ``seed_demo``.

``cms`` never imports the other apps: they register a seeder in ``AppConfig.ready()``::

    from cms.seed import register_seeder
    register_seeder("learning.courses", seed_courses, order=100)

A seeder is called as ``seeder(context)`` where ``context`` is a :class:`SeedContext`
holding the random generator, the demo users and the stdout writer. Seeders must be
idempotent (run twice, same result).
"""

from dataclasses import dataclass, field

_SEEDERS = {}


@dataclass
class SeedContext:
    rng: object
    users: dict = field(default_factory=dict)  # demo login -> User
    agents: dict = field(default_factory=dict)  # demo login -> Agent
    stdout: object = None
    # Added for seed_demo: the command's --seed, --agents and verbosity, the seeder's key
    # and the root of the demo org chart (OrgUnit "DGS"). ``rng`` is a random.Random
    # derived from (seed, key), so one app's seeder never shifts another app's data.
    seed: int | None = None
    agent_count: int = 0
    verbosity: int = 1
    key: str = ""
    org_root: object = None

    def log(self, message):
        if self.stdout is not None:
            self.stdout.write(message)


def register_seeder(key, func, order=100):
    _SEEDERS[key] = (order, func)


def unregister_seeder(key):
    _SEEDERS.pop(key, None)


def registered_seeders():
    """``(key, func)`` pairs in call order (order, then key)."""
    return [(key, func) for key, (order, func) in sorted(_SEEDERS.items(), key=lambda kv: (kv[1][0], kv[0]))]


def seeders():
    return [func for key, func in registered_seeders()]


def seed_pages(context):
    """The site root: a published HomePage with a welcome text, set as the default site's
    root, served at ``WAGTAILADMIN_BASE_URL`` (``make run PORT=8101`` sets it)."""
    from django.conf import settings

    from cms.services import align_site_with_base_url, ensure_home_page

    ensure_home_page()
    align_site_with_base_url(settings.WAGTAILADMIN_BASE_URL)
