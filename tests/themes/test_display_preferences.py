"""Display preferences: the high-contrast theme and larger text, chosen in the header's
« Affichage » page or in Mon espace, remembered per user (per session when anonymous);
HR edit the site's theme settings in the admin."""

import pytest
from django.test import Client
from django.urls import reverse

from themes.models import DisplayPreference


@pytest.fixture
def home(db):
    from cms.services import ensure_home_page

    return ensure_home_page()


def _stylesheet(html):
    start = html.index('<link rel="stylesheet" href="/theme.css')
    return html[start : html.index(">", start)]


def test_theme_css_serves_the_high_contrast_tokens_and_the_larger_text(client, home):
    default = client.get("/theme.css").text
    assert "--color-primary: #1f4e8c;" in default and "--font-scale" not in default
    high = client.get("/theme.css", {"contrast": "high", "text": "large"}).text
    assert "--color-primary: #000000;" in high and "--font-scale: 125%;" in high


def test_an_anonymous_visitor_switches_to_high_contrast_for_the_session(client, home):
    page = client.get(reverse("display_preferences"), {"next": "/"})
    assert page.status_code == 200
    html = page.text
    assert '<label for="id_high_contrast">Contraste élevé</label>' in html
    assert '<label for="id_large_text">Texte agrandi</label>' in html
    response = client.post(reverse("display_preferences"), {"high_contrast": "on", "next": "/"})
    assert response.status_code == 302 and response["Location"] == "/"
    assert 'href="/theme.css?contrast=high"' in _stylesheet(client.get("/").text)
    assert 'href="/theme.css"' in _stylesheet(Client().get("/").text)  # someone else's session: unchanged
    assert DisplayPreference.objects.count() == 0


def test_a_signed_in_user_keeps_the_preference_on_every_device(client, chain, home):
    user = chain["agent"].user
    client.force_login(user)
    client.post(reverse("display_preferences"), {"high_contrast": "on", "large_text": "on", "next": "/mon-espace/"})
    assert DisplayPreference.objects.filter(user=user, high_contrast=True, large_text=True).exists()
    other_device = Client()
    other_device.force_login(user)
    assert 'href="/theme.css?contrast=high&amp;text=large"' in _stylesheet(other_device.get("/").text)
    client.post(reverse("display_preferences"), {"next": "/"})  # both unticked
    assert 'href="/theme.css"' in _stylesheet(other_device.get("/").text)


def test_mon_espace_offers_the_preferences_and_the_header_links_them(client, chain, home):
    client.force_login(chain["agent"].user)
    html = client.get(reverse("cms:mon_espace")).text
    assert ">Affichage</h2>" in html and 'name="high_contrast"' in html
    assert f'href="{reverse("display_preferences")}?next=' in html


def test_the_way_back_never_leaves_the_site(client, home):
    response = client.post(reverse("display_preferences"), {"large_text": "on", "next": "https://evil.example/"})
    assert response.status_code == 302 and response["Location"] == reverse("display_preferences")


def test_hr_edit_the_theme_settings_and_agents_do_not(client, chain, home):
    from wagtail.models import Site

    site = Site.objects.get(is_default_site=True)
    url = reverse("wagtailsettings:edit", args=["themes", "themesettings", site.pk])
    client.force_login(chain["hr"].user)
    assert client.get(url).status_code == 200
    client.force_login(chain["agent"].user)
    assert client.get(url).status_code in (302, 403)
