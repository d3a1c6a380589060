import pytest
from django.urls import reverse

from cms.services import ensure_home_page


@pytest.mark.django_db
def test_home_page_is_served_and_idempotent(client):
    home = ensure_home_page()
    assert ensure_home_page().pk == home.pk
    response = client.get("/")
    assert response.status_code == 200
    assert 'lang="fr"' in response.text
    assert 'href="#contenu"' in response.text  # skip link
    assert '<main id="contenu"' in response.text


@pytest.mark.django_db
def test_mon_espace_requires_login(client):
    response = client.get(reverse("cms:mon_espace"))
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


@pytest.mark.django_db
def test_mon_espace_shows_profile_panel(client, chain):
    client.force_login(chain["agent"].user)
    response = client.get(reverse("cms:mon_espace"))
    assert response.status_code == 200
    assert chain["agent"].employee_number in response.text
    assert chain["manager"].full_name in response.text
    assert chain["reviewer"].full_name in response.text  # N+2
