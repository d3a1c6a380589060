"""The Wagtail admin speaks the interface's language on its sign-in page (every label) and its
page titles name the site ("… - Parcours"), not "Wagtail"."""

import re
from html import unescape

import pytest

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/"
PASSWORD = "correct horse battery staple"  # UserFactory's


def labels(html):
    return [" ".join(unescape(re.sub(r"<[^>]+>", "", label)).split()) for label in re.findall(r"<label[^>]*>(.*?)</label>", html, re.S)]


def title(html):
    return unescape(re.search(r"<title>(.*?)</title>", html, re.S).group(1)).strip()


def test_admin_sign_in_page_is_all_french_in_french(client):
    html = client.get(LOGIN, HTTP_ACCEPT_LANGUAGE="fr").text
    found = labels(html)
    assert any(label.startswith("Mot de passe") for label in found), found
    assert any(label.startswith("Nom d’utilisateur") for label in found), found
    assert "Se souvenir de moi" in found
    assert "Password" not in html and "Username" not in html and "Remember me" not in html
    assert title(html) == "S'identifier - Parcours"


def test_admin_sign_in_page_is_all_english_in_english(client):
    html = client.get(LOGIN, HTTP_ACCEPT_LANGUAGE="en").text
    found = labels(html)
    assert any(label.startswith("Password") for label in found), found
    assert any(label.startswith("Username") for label in found), found
    assert "Mot de passe" not in html and "Nom d’utilisateur" not in html
    assert title(html) == "Sign in - Parcours"


def test_admin_sign_in_still_signs_in(client):
    UserFactory(username="editeur", is_superuser=True, is_staff=True)
    response = client.post(LOGIN, {"username": "editeur", "password": PASSWORD, "next": "/admin/"})
    assert response.status_code == 302 and response["Location"] == "/admin/"


def test_admin_page_titles_end_with_the_site_name(client, settings):
    settings.WAGTAIL_SITE_NAME = "Parcours"
    client.force_login(UserFactory(username="editeur", is_superuser=True, is_staff=True))
    for url in ("/admin/", "/admin/pages/", "/admin/users/"):
        html = client.get(url, HTTP_ACCEPT_LANGUAGE="fr").text
        assert title(html).endswith(" - Parcours"), (url, title(html))
        assert "- Wagtail</title>" not in html
