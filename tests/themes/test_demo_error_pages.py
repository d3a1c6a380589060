"""`make run` (the dev settings) shows the site's themed error pages, not Django's debug pages,
unless a developer asks for debug (``DEBUG=1 make run``); static and media files are served
either way."""

import runpy

import pytest
from django.test import RequestFactory, override_settings
from django.urls import clear_url_caches, path, resolve

from cms import urls as cms_urls


def dev_settings(monkeypatch, debug=None):
    """The values of ``cms.settings.dev`` for this environment (evaluated in this process)."""
    if debug is None:
        monkeypatch.delenv("DEBUG", raising=False)
    else:
        monkeypatch.setenv("DEBUG", debug)
    return runpy.run_module("cms.settings.dev")


def test_dev_settings_have_debug_off_unless_asked(monkeypatch):
    assert dev_settings(monkeypatch)["DEBUG"] is False
    assert dev_settings(monkeypatch, "1")["DEBUG"] is True
    assert dev_settings(monkeypatch, "0")["DEBUG"] is False


def test_dev_settings_serve_static_and_media_files_without_debug(monkeypatch):
    values = dev_settings(monkeypatch)
    assert values["WHITENOISE_USE_FINDERS"] is True
    assert "whitenoise.middleware.WhiteNoiseMiddleware" in values["MIDDLEWARE"]
    assert values["SERVE_MEDIA"] is True


@pytest.mark.django_db
def test_with_the_dev_default_an_unknown_page_is_the_themed_404(client, monkeypatch):
    with override_settings(DEBUG=dev_settings(monkeypatch)["DEBUG"]):
        response = client.get("/nulle-part/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "<title>Page introuvable — Parcours</title>" in html
    assert "Using the URLconf" not in html and "Page not found" not in html


@pytest.mark.django_db
def test_with_the_dev_default_an_error_is_the_themed_500(monkeypatch):
    from django.test import Client

    def broken(request):
        raise RuntimeError("boom")

    urlconf = type("BrokenUrls", (), {"urlpatterns": [path("casse/", broken)], "handler500": cms_urls.handler500})
    with override_settings(DEBUG=dev_settings(monkeypatch)["DEBUG"], ROOT_URLCONF=urlconf):
        response = Client(raise_request_exception=False).get("/casse/")
    assert response.status_code == 500
    html = response.content.decode()
    assert "Traceback" not in html and "RuntimeError" not in html
    assert "Parcours" in html


def test_media_files_are_served_when_serve_media_is_on_even_without_debug(tmp_path, settings):
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "photo.txt").write_text("une image")
    settings.DEBUG = False
    settings.MEDIA_ROOT = tmp_path
    settings.SERVE_MEDIA = True
    patterns = cms_urls.media_patterns()
    urlconf = type("MediaUrls", (), {"urlpatterns": patterns})
    try:
        match = resolve("/media/images/photo.txt", urlconf=urlconf)
        response = match.func(RequestFactory().get("/media/images/photo.txt"), **match.kwargs)
        assert b"".join(response.streaming_content) == b"une image"
        settings.SERVE_MEDIA = False
        assert cms_urls.media_patterns() == []
    finally:
        clear_url_caches()
