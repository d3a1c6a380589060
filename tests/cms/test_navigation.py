"""The site navigation comes from cms.navigation, filled by each app in ready(): the right
items for each role, in order, with aria-current; the theme's base.html names no app URL."""

import re
from html import unescape
from pathlib import Path

import pytest
from django.conf import settings
from django.test import RequestFactory
from django.urls import resolve, reverse
from django.utils import translation

from cms import navigation
from cms.context_processors import navigation as navigation_context

AGENT = ["Mon espace", "Mes entretiens", "Formations"]
MANAGER = ["Mon espace", "Mes entretiens", "Formations", "Mon équipe"]
HR = ["Mon espace", "Mes entretiens", "Formations", "Pilotage formation", "Pilotage entretiens", "Recrutement"]
ANONYMOUS = ["Formations", "Offres d'emploi"]


@pytest.fixture
def catalogue(db):
    from tests.learning.conftest import build_course

    return build_course()["index"]


def _items(user, path="/"):
    request = RequestFactory().get(path)
    request.user = user
    request.resolver_match = resolve(path) if path != "/" else None
    nav = navigation_context(request)["nav"]
    with translation.override("fr"):
        return [{**item, "label": str(item["label"])} for item in nav.items]


def _labels(items):
    return [item["label"] for item in items]


def test_each_app_registers_its_items_in_order():
    keys = [item.key for item in navigation.registered()]
    assert keys == [
        "cms.mon_espace", "appraisal.mine", "learning.catalogue", "recruitment.openings", "learning.team",
        "learning.hr", "appraisal.hr", "learning.editors", "recruitment.board", "recruitment.scorecards",
    ]


@pytest.mark.django_db
def test_an_agent_sees_their_own_space_and_appraisals(chain, catalogue):
    items = _items(chain["agent"].user)
    assert _labels(items) == AGENT
    assert items[0]["url"] == reverse("cms:mon_espace") and items[1]["url"] == reverse("appraisal:list")
    assert not any(item["current"] for item in items)


@pytest.mark.django_db
def test_a_manager_also_sees_their_team(chain, catalogue):
    assert _labels(_items(chain["manager"].user)) == MANAGER


@pytest.mark.django_db
def test_hr_sees_the_steering_pages(chain, catalogue):
    items = _items(chain["hr"].user)
    assert _labels(items) == HR
    assert items[3]["url"] == reverse("learning:hr") and items[4]["url"] == reverse("appraisal_hr:index")
    assert items[5]["url"] == reverse("recruitment_admin:openings")


@pytest.mark.django_db
def test_the_current_page_is_marked(chain):
    items = _items(chain["manager"].user, reverse("learning:team"))
    assert [item["label"] for item in items if item["current"]] == ["Mon équipe"]
    items = _items(chain["agent"].user, reverse("appraisal:list"))
    assert [item["label"] for item in items if item["current"]] == ["Mes entretiens"]


@pytest.mark.django_db
def test_anonymous_visitors_are_led_to_the_catalogue_and_the_job_openings(client):
    from recruitment.models import JobIndexPage
    from tests.learning.conftest import build_course, publish

    index = build_course()["index"]
    openings = JobIndexPage(title="Offres d'emploi", slug="offres")
    index.get_parent().add_child(instance=openings)
    publish(openings)
    html = client.get(reverse("login")).content.decode()
    nav = html[html.index('class="site-nav"') : html.index("</nav>")]
    assert [unescape(label) for label in re.findall(r">([^<>]+)</a>", nav)] == ANONYMOUS
    assert f'href="{index.url}"' in nav and f'href="{openings.url}"' in nav
    assert "Mon espace" not in nav
    home = client.get("/").content.decode()
    shortcuts = home[home.index('class="home-shortcuts"') :]
    assert [unescape(label) for label in re.findall(r"<li><a href=\"[^\"]+\">([^<>]+)</a>", shortcuts)][:2] == ANONYMOUS


@pytest.mark.django_db
def test_editors_recruiters_and_interviewers_are_led_to_their_queues(chain):
    from django.contrib.auth.models import Group

    from cms import roles
    from tests.learning.conftest import build_course

    index = build_course()["index"]
    user = chain["agent"].user
    for name in (roles.TRAINING_EDITORS, roles.RECRUITERS, roles.INTERVIEWERS):
        user.groups.add(Group.objects.get_or_create(name=name)[0])
    user = type(user).objects.get(pk=user.pk)
    items = {item["label"]: item["url"] for item in _items(user)}
    assert items["Gérer les formations"] == reverse("wagtailadmin_explore", args=[index.pk])
    assert items["Recrutement"] == reverse("recruitment_admin:openings")
    assert items["Mes évaluations"] == reverse("recruitment_admin:my_scorecards")
    assert "Pilotage formation" not in items


@pytest.mark.django_db
def test_the_home_page_title_is_not_doubled(client):
    from cms.services import ensure_home_page

    ensure_home_page()
    html = client.get("/").content.decode()
    assert "<title>Parcours</title>" in html


@pytest.mark.django_db
def test_the_header_renders_the_items_with_aria_current(client, chain, catalogue):
    client.force_login(chain["hr"].user)
    html = client.get(reverse("cms:mon_espace"), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    nav = html[html.index('class="site-nav"') : html.index("</nav>")]
    assert [unescape(label) for label in re.findall(r">([^<>]+)</a>", nav)] == HR
    assert f'<a href="{reverse("cms:mon_espace")}" aria-current="page">' in nav
    assert nav.count("aria-current") == 1


def test_the_theme_names_no_app_url_nor_domain():
    themes = Path(settings.BASE_DIR) / "themes"
    for path in [*themes.rglob("*.html"), *themes.rglob("*.py"), *themes.rglob("*.css")]:
        if "migrations" in path.parts:
            continue
        source = path.read_text()
        for app in ("cms:", "learning", "appraisal", "recruitment"):
            assert app not in source, f"{path.relative_to(settings.BASE_DIR)} names {app!r}"
    base = (themes / "templates" / "base.html").read_text()
    assert "{% for item in nav.items %}" in base
    assert not re.search(r"\{% url '[a-z_]+:", base)  # no namespaced (app) URL at all
