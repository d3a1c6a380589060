"""The site navigation comes from cms.navigation, filled by each app in ready(): the right
items for each role, in order, with aria-current; the theme's base.html names no app URL."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import RequestFactory
from django.urls import resolve, reverse
from django.utils import translation

from cms import navigation
from cms.context_processors import navigation as navigation_context

AGENT = ["Mon espace", "Mes entretiens"]
MANAGER = ["Mon espace", "Mes entretiens", "Formations de mon équipe"]
HR = ["Mon espace", "Mes entretiens", "Pilotage des formations", "Pilotage des entretiens"]


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
    assert keys[:5] == ["cms.mon_espace", "appraisal.mine", "learning.team", "learning.hr", "appraisal.hr"]


@pytest.mark.django_db
def test_an_agent_sees_their_own_space_and_appraisals(chain):
    items = _items(chain["agent"].user)
    assert _labels(items) == AGENT
    assert items[0]["url"] == reverse("cms:mon_espace") and items[1]["url"] == reverse("appraisal:list")
    assert not any(item["current"] for item in items)


@pytest.mark.django_db
def test_a_manager_also_sees_their_team(chain):
    assert _labels(_items(chain["manager"].user)) == MANAGER


@pytest.mark.django_db
def test_hr_sees_the_steering_pages(chain):
    items = _items(chain["hr"].user)
    assert _labels(items) == HR
    assert items[2]["url"] == reverse("learning:hr") and items[3]["url"] == reverse("appraisal_hr:index")


@pytest.mark.django_db
def test_the_current_page_is_marked(chain):
    items = _items(chain["manager"].user, reverse("learning:team"))
    assert [item["label"] for item in items if item["current"]] == ["Formations de mon équipe"]
    items = _items(chain["agent"].user, reverse("appraisal:list"))
    assert [item["label"] for item in items if item["current"]] == ["Mes entretiens"]


@pytest.mark.django_db
def test_anonymous_visitors_get_no_navigation(client):
    response = client.get(reverse("login"))
    assert 'class="site-nav"' in response.content.decode()
    assert "Mon espace" not in response.content.decode()


@pytest.mark.django_db
def test_the_header_renders_the_items_with_aria_current(client, chain):
    client.force_login(chain["hr"].user)
    html = client.get(reverse("cms:mon_espace"), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    nav = html[html.index('class="site-nav"') : html.index("</nav>")]
    assert re.findall(r">([^<>]+)</a>", nav) == HR
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
