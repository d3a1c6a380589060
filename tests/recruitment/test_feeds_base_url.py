"""The RSS and Atom feeds give out URLs on the configured public base URL only: a foreign Host
header (a reverse proxy's internal address, or a forged one) never reaches a feed reader."""

import re
import xml.etree.ElementTree as ET

import pytest
from django.urls import reverse

from tests.recruitment.conftest import make_opening

BASE = "https://emplois.ville.example:8443"
ATOM = "{http://www.w3.org/2005/Atom}"
URL = re.compile(r"""(?:https?:)?//[^\s"'<>&]+|(?:href|src)=["'][^"']*["']""")


@pytest.fixture
def foreign_host(settings):
    settings.ALLOWED_HOSTS = ["evil.example", "testserver"]
    settings.WAGTAILADMIN_BASE_URL = BASE + "/"
    return {"HTTP_HOST": "evil.example"}


@pytest.fixture
def linked_opening(job_index, org):
    """An opening whose missions link to the job index (a page link) and to a relative path."""
    return make_opening(
        job_index, org_unit=org["bureau"], reference="2025-DRH-010", title="Chargé de mission",
        missions=(
            f'<p>Voir <a linktype="page" id="{job_index.pk}">les offres</a> '
            'et <a href="/documents/fiche.pdf">la fiche</a>.</p>'
        ),
    )


def assert_every_url_on_base(body):
    assert "evil.example" not in body
    for url in URL.findall(body):
        if url.startswith(("href=", "src=")):
            target = url.split("=", 1)[1].strip("\"'")
            assert target.startswith(BASE + "/"), url
        elif "w3.org" not in url and "purl.org" not in url:
            assert url.startswith(BASE + "/"), url


def test_rss_feed_links_and_guids_are_absolute_on_the_base_url(client, openings, linked_opening, foreign_host):
    response = client.get(reverse("recruitment:feed"), **foreign_host)
    assert response.status_code == 200
    body = response.content.decode()
    assert_every_url_on_base(body)

    channel = ET.fromstring(response.content).find("channel")
    assert channel.findtext("link") == f"{BASE}/offres/"
    assert channel.find(f"{ATOM}link").get("href") == f"{BASE}{reverse('recruitment:feed')}"
    items = {item.findtext("link"): item for item in channel.findall("item")}
    assert f"{BASE}/offres/2025-drh-001/" in items
    guid = items[f"{BASE}/offres/2025-drh-001/"].find("guid")
    assert guid.text == f"{BASE}/offres/2025-drh-001/"
    assert guid.get("isPermaLink") == "true"
    description = items[f"{BASE}/offres/2025-drh-010/"].findtext("description")
    assert f'href="{BASE}/offres/"' in description
    assert f'href="{BASE}/documents/fiche.pdf"' in description


def test_atom_feed_ids_and_links_are_absolute_on_the_base_url(client, openings, linked_opening, foreign_host):
    response = client.get(reverse("recruitment:feed_atom"), **foreign_host)
    assert response.status_code == 200
    assert_every_url_on_base(response.content.decode())

    feed = ET.fromstring(response.content)
    assert feed.findtext(f"{ATOM}id") == f"{BASE}/offres/"
    links = {link.get("rel"): link.get("href") for link in feed.findall(f"{ATOM}link")}
    assert links == {"alternate": f"{BASE}/offres/", "self": f"{BASE}{reverse('recruitment:feed_atom')}"}
    entries = {entry.findtext(f"{ATOM}id"): entry for entry in feed.findall(f"{ATOM}entry")}
    assert set(entries) == {f"{BASE}/offres/2025-drh-001/", f"{BASE}/offres/2025-drh-010/"}
    for entry_id, entry in entries.items():
        assert entry.find(f"{ATOM}link").get("href") == entry_id
