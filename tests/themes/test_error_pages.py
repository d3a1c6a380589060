"""Themed, French-first error pages: what happened, the view's reason, where to go."""

import pytest
from django.test import Client, RequestFactory

from cms.views import server_error
from tests.factories import AgentFactory


@pytest.mark.django_db
def test_unknown_page_is_a_french_themed_404_with_a_way_out(client):
    response = client.get("/nulle-part/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "<title>Page introuvable — Parcours</title>" in html
    assert "Adresse demandée : <code>/nulle-part/</code>" in html
    assert '?next=/nulle-part/">Se connecter</a>' in html
    assert "Not Found" not in html and "Resolver404" not in html


@pytest.mark.django_db
def test_the_reason_the_view_raised_reaches_the_403_page(client):
    agent = AgentFactory()
    client.force_login(agent.user)
    response = client.get("/formation/equipe/formations/")
    assert response.status_code == 403
    html = response.content.decode()
    assert "<title>Accès refusé — Parcours</title>" in html
    assert '<p class="error-reason">Cette page est réservée aux encadrants.</p>' in html
    assert 'href="/mon-espace/"' in html
    assert "403 Forbidden" not in html


@pytest.mark.django_db
def test_a_404_raised_with_a_sentence_shows_it():
    response = Client().post("/formation/lecons/999999/terminer/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "Page introuvable" in html
    assert '<p class="error-reason">Cette page n&#x27;existe pas ou n&#x27;est pas publiée.</p>' in html


@pytest.mark.django_db
def test_csrf_failure_on_a_site_form_is_a_french_page_and_json_under_the_api():
    client = Client(enforce_csrf_checks=True)
    response = client.post("/compte/connexion/", {"username": "x", "password": "y"})
    assert response.status_code == 403
    html = response.content.decode()
    assert "<title>Formulaire expiré — Parcours</title>" in html
    assert "Rien n'a été enregistré." in html
    agent = AgentFactory()
    client.force_login(agent.user)
    api = client.post("/api/v1/me/enrollments/", {"course": 1}, content_type="application/json")
    assert api.status_code == 403
    assert api["Content-Type"].startswith("application/json")


def test_the_500_page_renders_without_any_context():
    response = server_error(RequestFactory().get("/"))
    assert response.status_code == 500
    html = response.content.decode()
    assert "Une erreur est survenue" in html
    assert '<html lang="fr">' in html
