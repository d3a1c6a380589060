"""Data for the load test (bench/load.py): a seeded site and the plan its virtual users follow.

    DATABASE_URL=postgres://…/parcours_load .venv/bin/python bench/load_data.py --out plan.json

Runs inside Django (``DJANGO_SETTINGS_MODULE``, default ``cms.settings.dev``) on the database
``DATABASE_URL`` names:

1. ``migrate``, ``createcachetable``, then ``seed_demo --agents N`` when the demo directory is
   not there yet (a database already seeded with another size is used as it is);
2. a password (``--password``) on a pool of agents who have not finished the mandatory
   course (RGPD) and still have quiz attempts, on a pool of managers (agents with active
   direct reports) and on the demo accounts: one hash computed once and written in bulk,
   as a bench may (the seeded agents have no usable password);
3. an API token (one day) for the HR demo account, the SIRH's credentials;
4. writes the plan: accounts of each persona, the RGPD course (lessons, quiz), the public
   openings accepting applications, the appraisal campaigns: paths only, relative to the site.

:func:`build_plan` is also what tests/cms/test_load_script.py calls on its test database.
"""

import argparse
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_PASSWORD = "charge-Parcours-2026"  # noqa: S105 (a bench database's throw-away accounts)
RGPD_SLUG = "rgpd"


def ensure_seeded(agents, *, verbosity=1):
    """Migrate, and seed the demo site when the demo logins are missing. Returns True when seeded now."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    call_command("createcachetable", verbosity=0)
    if get_user_model().objects.filter(username="agent").exists():
        return False
    call_command("seed_demo", agents=agents, verbosity=verbosity)
    return True


def _paths(page, site):
    return page.relative_url(site)


def build_plan(*, agents=200, managers=20, password=DEFAULT_PASSWORD, token_days=1):
    """Give the pools their password, create the SIRH token, and return the plan (a dict)."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.db.models import Count, Q
    from wagtail.models import Site

    from appraisal.models import Campaign
    from cms import services
    from cms.choices import OrgUnitKind
    from cms.demo import LOGINS
    from cms.models import Agent
    from learning.choices import EnrollmentStatus
    from learning.models import CoursePage, Enrollment, LessonPage, QuizAttempt, QuizPage
    from recruitment import selectors as recruitment_selectors
    from recruitment.models import JobIndexPage

    User = get_user_model()
    site = Site.objects.get(is_default_site=True)
    course = CoursePage.objects.live().get(slug=RGPD_SLUG)
    steps = list(course.steps())
    lessons = [step for step in steps if isinstance(step, LessonPage)]
    quiz = next(step for step in steps if isinstance(step, QuizPage))

    # Heads of bureaus (the usual N+1: a team of a few dozen agents), not the directors.
    manager_ids = list(
        Agent.objects.filter(active=True, user__is_active=True, org_unit__kind=OrgUnitKind.BUREAU)
        .annotate(reports=Count("direct_reports", filter=Q(direct_reports__active=True)))
        .filter(reports__gt=0)
        .exclude(user__username__in=LOGINS)
        .order_by("pk")
        .values_list("user_id", flat=True)[: max(managers - 2, 0)]
    )
    # Agents who can still take the quiz: an open, unfinished RGPD cycle, no attempt yet.
    busy = QuizAttempt.objects.filter(quiz=quiz).values("enrollment_id")
    learner_ids = list(
        Enrollment.objects.filter(
            course=course,
            status__in=[EnrollmentStatus.NOT_STARTED, EnrollmentStatus.IN_PROGRESS],
            agent__active=True,
            agent__user__is_active=True,
        )
        .exclude(pk__in=busy)
        .exclude(agent__user__username__in=LOGINS)
        .exclude(agent__user_id__in=manager_ids)
        .order_by("agent_id")
        .values_list("agent__user_id", flat=True)[:agents]
    )
    demo_ids = list(User.objects.filter(username__in=LOGINS).values_list("pk", flat=True))
    hashed = make_password(password)
    User.objects.filter(pk__in=[*learner_ids, *manager_ids, *demo_ids]).update(password=hashed, is_active=True)
    usernames = dict(User.objects.filter(pk__in=[*learner_ids, *manager_ids]).values_list("pk", "username"))

    hr = User.objects.get(username="hr")
    _api_token, key = services.create_api_token(user=hr, name="Test de charge (SIRH)", days=token_days)

    openings = list(recruitment_selectors.visible_openings(None).order_by("pk"))
    index = JobIndexPage.objects.live().order_by("path").first()
    campaigns = list(Campaign.objects.order_by("-pk").values_list("pk", flat=True)[:3])
    return {
        "password": password,
        "agents": [usernames[pk] for pk in learner_ids],
        "managers": ["manager", "reviewer", *[usernames[pk] for pk in manager_ids]],
        "hr": ["hr"],
        "api_token": key,
        "course": {
            "path": _paths(course, site),
            "lessons": [{"id": lesson.pk, "path": _paths(lesson, site)} for lesson in lessons],
            "quiz": {"id": quiz.pk, "path": _paths(quiz, site)},
        },
        "openings": [{"id": opening.pk, "path": _paths(opening, site)} for opening in openings],
        "openings_index": _paths(index, site) if index is not None else None,
        "campaigns": campaigns,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="where to write the plan (JSON)")
    parser.add_argument("--seed-agents", type=int, default=55_000, help="seed_demo --agents when not seeded yet")
    parser.add_argument("--agents", type=int, default=200, help="agent accounts of the pool (default 200)")
    parser.add_argument("--managers", type=int, default=20, help="manager accounts of the pool (default 20)")
    parser.add_argument("--password", default=DEFAULT_PASSWORD)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cms.settings.dev")

    import django

    django.setup()
    from django.db import connection

    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}")
    if ensure_seeded(args.seed_agents):
        print(f"seeded: seed_demo --agents {args.seed_agents}")
    plan = build_plan(agents=args.agents, managers=args.managers, password=args.password)
    Path(args.out).write_text(json.dumps(plan, indent=1))
    print(
        f"plan: {len(plan['agents'])} agents, {len(plan['managers'])} managers, "
        f"{len(plan['openings'])} openings, {len(plan['campaigns'])} campaigns -> {args.out}"
    )


if __name__ == "__main__":
    main()
