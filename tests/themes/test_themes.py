import pytest
from django.core.exceptions import ValidationError
from wagtail.models import Site

from cms.services import ensure_home_page
from themes import registry
from themes.models import ThemeSettings


@pytest.fixture
def site(db):
    ensure_home_page()
    return Site.objects.get(is_default_site=True)


def test_contrast_ratio_matches_wcag_reference_values():
    assert registry.contrast_ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert registry.contrast_ratio("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)


@pytest.mark.parametrize("key", ["default", "high_contrast"])
def test_every_registered_theme_keeps_aa_contrast(key):
    tokens = registry.get(key).tokens
    for name in ("color-primary", "color-text", "color-muted", "color-danger", "color-success"):
        assert registry.contrast_ratio(tokens[name], tokens["color-bg"]) >= 4.5, name
    assert registry.contrast_ratio(tokens["color-primary-contrast"], tokens["color-primary"]) >= 4.5


def test_theme_css_serves_the_default_tokens(client, site):
    response = client.get("/theme.css")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/css")
    assert "--color-primary: #1f4e8c;" in response.text


def test_switching_to_high_contrast_changes_tokens_and_body_class(client, site):
    settings = ThemeSettings.for_site(site)
    settings.theme = "high_contrast"
    settings.primary_colour = "#1b5e20"  # ignored by the high-contrast theme
    settings.save()
    css = client.get("/theme.css").text
    assert "--color-primary: #000000;" in css
    assert "theme-high_contrast" in client.get("/").text


def test_colour_override_applies_to_the_default_theme(client, site):
    settings = ThemeSettings.for_site(site)
    settings.primary_colour = "#1b5e20"
    settings.organisation_name = "Ville de Paris"
    settings.save()
    assert "--color-primary: #1b5e20;" in client.get("/theme.css").text
    assert "Ville de Paris" in client.get("/").text


def test_low_contrast_colour_is_refused_with_the_field_named(site):
    settings = ThemeSettings.for_site(site)
    settings.primary_colour = "#ffdd00"
    with pytest.raises(ValidationError) as excinfo:
        settings.full_clean()
    assert "primary_colour" in excinfo.value.message_dict
    assert "4,5:1" in excinfo.value.message_dict["primary_colour"][0]


def test_malformed_colour_is_refused(site):
    settings = ThemeSettings.for_site(site)
    settings.accent_colour = "red"
    with pytest.raises(ValidationError) as excinfo:
        settings.full_clean()
    assert "accent_colour" in excinfo.value.message_dict


@pytest.mark.django_db
def test_language_switch_sets_english_then_french(client, site):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"}, follow=True)
    assert 'lang="en"' in response.text
    response = client.post("/i18n/setlang/", {"language": "fr", "next": "/"}, follow=True)
    assert 'lang="fr"' in response.text


@pytest.mark.django_db
def test_french_is_the_default_language(client, site):
    assert 'lang="fr"' in client.get("/").text
    assert 'lang="en"' in client.get("/", HTTP_ACCEPT_LANGUAGE="en").text
