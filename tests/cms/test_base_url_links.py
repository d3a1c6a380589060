"""Links the site gives out follow the configured public base URL, never the Host header of
the request (a reverse proxy's internal address, or a forged one): the password-reset mail."""

import re

import pytest
from django.core import mail
from django.urls import reverse

from tests.factories import UserFactory

BASE = "https://rh.ville.example:8443"
RESET = "/compte/password_reset/"

pytestmark = pytest.mark.django_db


@pytest.fixture
def foreign_host(settings):
    settings.ALLOWED_HOSTS = ["evil.example", "testserver"]
    settings.WAGTAILADMIN_BASE_URL = BASE + "/"
    settings.WAGTAIL_SITE_NAME = "Parcours"
    return {"HTTP_HOST": "evil.example"}


def test_password_reset_mail_links_to_the_base_url_and_is_signed_with_the_site_name(client, foreign_host):
    UserFactory(username="agent", email="agent@example.org")
    response = client.post(RESET, {"email": "agent@example.org"}, **foreign_host)
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    text = message.subject + message.body
    assert "evil.example" not in text
    assert "testserver" not in text and "localhost" not in text
    links = re.findall(r"https?://\S+", message.body)
    assert len(links) == 1
    assert links[0].startswith(f"{BASE}/compte/reset/")
    # The link works: it leads to the form for a new password.
    confirm = client.get(links[0].removeprefix(BASE), follow=True)
    assert confirm.status_code == 200
    assert 'name="new_password1"' in confirm.content.decode()
    # "votre compte sur Parcours" … "L'équipe Parcours": the site's name, not a host.
    assert message.body.count("Parcours") >= 2
    assert "Parcours" in message.subject


def test_password_reset_mail_keeps_a_plain_http_base_url_and_its_port(client, settings):
    settings.WAGTAILADMIN_BASE_URL = "http://127.0.0.1:8113"
    UserFactory(username="agent", email="agent@example.org")
    client.post(RESET, {"email": "agent@example.org"}, HTTP_HOST="localhost:8000")
    assert len(mail.outbox) == 1
    assert "http://127.0.0.1:8113" + reverse("password_reset_confirm", args=["x", "y"])[:-4] in mail.outbox[0].body
    assert "localhost" not in mail.outbox[0].body
