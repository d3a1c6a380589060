"""The public side of recruitment: listing, feed, job notice with JSON-LD, applying."""

import json
import re
from datetime import date, datetime, timedelta
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cms import ratelimit
from recruitment import jsonld, pages, selectors
from recruitment.choices import EmploymentType, OpeningState
from recruitment.models import Application, ApplicationEvent, Candidate
from tests.factories import OrgUnitFactory, UserFactory
from tests.recruitment.conftest import (
    apply_directly,
    big_pdf_upload,
    docx_upload,
    make_opening,
    odt_upload,
    pdf_upload,
    text_as_pdf_upload,
)
from tests.recruitment.factories import set_opening_state

JSONLD = re.compile(r'<script type="application/ld\+json">(.*?)</script>', re.S)


def jsonld_of(response):
    blocks = JSONLD.findall(response.content.decode())
    return [json.loads(block) for block in blocks]


class ScriptCollector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.scripts = []

    def handle_starttag(self, tag, attrs):
        if tag == "script":
            self.scripts.append(dict(attrs))


def apply_url(opening):
    return reverse("recruitment:apply", kwargs={"opening_id": opening.pk})


def form_data(**overrides):
    data = {"first_name": "Alice", "last_name": "Dupont", "email": "alice.dupont@example.org", "phone": "",
            "message": "Je suis très motivée.", "cv": pdf_upload()}
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def titles(response):
    return {opening.title for opening in response.context["openings"]}


# --- listing --------------------------------------------------------------------------------


def test_listing_shows_open_external_openings_to_anonymous_visitors(client, openings, job_index):
    response = client.get(job_index.url)
    assert response.status_code == 200
    assert titles(response) == {"Gestionnaire formation"}
    html = response.content.decode()
    assert "Chef de bureau (mobilité interne)" not in html
    assert "Assistant de direction" not in html  # deadline past
    assert '<link rel="alternate" type="application/rss+xml"' in html
    assert reverse("recruitment:feed") in html


def test_listing_shows_internal_openings_to_agents_only(client, openings, job_index, agent_user):
    client.force_login(UserFactory(username="no_agent_profile"))
    assert titles(client.get(job_index.url)) == {"Gestionnaire formation"}
    client.force_login(agent_user)
    response = client.get(job_index.url)
    assert titles(response) == {"Gestionnaire formation", "Chef de bureau (mobilité interne)"}
    assert "Réservée aux agents de la collectivité" in response.content.decode()


def test_listing_hides_filled_cancelled_and_unpublished_openings(client, openings, job_index, org):
    filled = make_opening(job_index, org_unit=org["bureau"], reference="F-1", title="Poste pourvu", state=OpeningState.FILLED)
    cancelled = make_opening(job_index, org_unit=org["bureau"], reference="F-2", title="Poste annulé",
                             state=OpeningState.CANCELLED)
    draft = make_opening(job_index, org_unit=org["bureau"], reference="F-3", title="Brouillon")
    draft.unpublish()
    assert titles(client.get(job_index.url)) == {"Gestionnaire formation"}
    assert filled.live and cancelled.live


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"direction": "DVD"}, {"Ingénieur voirie"}),
        ({"direction": "DRH"}, {"Gestionnaire formation", "Chef de bureau (mobilité interne)"}),
        ({"category": "A"}, {"Chef de bureau (mobilité interne)", "Ingénieur voirie"}),
        ({"employment_type": "PART_TIME"}, {"Chef de bureau (mobilité interne)"}),
        ({"location": "Lyon"}, {"Chef de bureau (mobilité interne)"}),
        ({"q": "chaussée"}, {"Ingénieur voirie"}),  # in the missions
        ({"q": "RIGUEUR"}, {"Gestionnaire formation", "Chef de bureau (mobilité interne)"}),  # profile, any case
        ({"q": "ingénieurs territoriaux"}, {"Ingénieur voirie"}),  # corps
        ({"q": "gestionnaire"}, {"Gestionnaire formation"}),  # title
        ({"category": "A", "direction": "DRH"}, {"Chef de bureau (mobilité interne)"}),
        ({"category": "Z"}, {"Gestionnaire formation", "Chef de bureau (mobilité interne)", "Ingénieur voirie"}),
    ],
)
def test_listing_filters(client, openings, job_index, agent_user, other_direction, params, expected):
    make_opening(job_index, org_unit=other_direction, reference="2025-DVD-010", title="Ingénieur voirie", category="A",
                 corps="Ingénieurs territoriaux", missions="<p>Entretien de la chaussée.</p>", profile="<p>Autonomie.</p>")
    client.force_login(agent_user)
    response = client.get(job_index.url, params)
    assert response.status_code == 200
    assert titles(response) == expected


def test_listing_paginates_and_keeps_the_filters(rf, openings, job_index, org):
    for number in range(5):
        make_opening(job_index, org_unit=org["bureau"], reference=f"P-{number}", title=f"Poste {number}", category="C")
    request = rf.get(job_index.url, {"category": "C", "page": "2"})
    request.user = AnonymousUser()
    context = pages.job_index_context(request, job_index, page_size=2)
    assert context["page_obj"].paginator.count == 5
    assert context["page_obj"].number == 2
    assert len(context["openings"]) == 2
    assert context["has_filters"] is True


def _listing_queries(client, url):
    client.get(url)  # warm the site root paths cache
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries), len(response.context["openings"])


def test_listing_query_count_does_not_grow_with_the_openings(client, openings, job_index, org, agent_user):
    client.force_login(agent_user)
    few, shown_few = _listing_queries(client, job_index.url)
    for number in range(12):
        make_opening(job_index, org_unit=org["service" if number % 2 else "bureau"], reference=f"Q-{number}")
    many, shown_many = _listing_queries(client, job_index.url)
    assert (shown_few, shown_many) == (2, 14)
    assert few == many


# --- feed -----------------------------------------------------------------------------------


def test_rss_feed_lists_open_external_openings_only(client, openings, settings):
    settings.WAGTAILADMIN_BASE_URL = "http://127.0.0.1:8000"
    response = client.get(reverse("recruitment:feed"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/rss+xml")
    body = response.content.decode()
    assert "Gestionnaire formation (2025-DRH-001)" in body
    assert "http://127.0.0.1:8000/offres/2025-drh-001/" in body
    assert "2025-DRH-002" not in body and "mobilité interne" not in body
    assert "2024-DRH-099" not in body


def test_atom_feed_and_agents_do_not_change_the_feed(client, openings, agent_user):
    client.force_login(agent_user)
    response = client.get(reverse("recruitment:feed_atom"))
    assert response["Content-Type"].startswith("application/atom+xml")
    body = response.content.decode()
    assert "2025-DRH-001" in body
    assert "2025-DRH-002" not in body


# --- job notice -----------------------------------------------------------------------------


def test_open_opening_renders_the_notice_and_typed_jsonld(client, openings):
    opening = openings["open"]
    response = client.get(opening.url)
    assert response.status_code == 200
    html = response.content.decode()
    for text in ("2025-DRH-001", "Direction des ressources humaines", "Bureau des parcours", "Catégorie B",
                 "Secrétaires administratifs", "Secrétaire administratif de classe normale",
                 "fonctionnaires (titulaires) et contractuels", "Temps complet", "B3", "75004 Paris",
                 "Gérer les dossiers de formation", "Rigueur, sens du service public", "Télétravail possible",
                 "Candidatures ouvertes", "de 28\xa0000 € à 34\xa0000,50 €"):
        assert text in html, text

    [data] = jsonld_of(response)
    assert data["@context"] == "https://schema.org"
    assert data["@type"] == "JobPosting"
    assert data["title"] == "Gestionnaire formation"
    assert "<p>Gérer les dossiers de formation des agents.</p>" in data["description"]
    assert "<p>Rigueur, sens du service public.</p>" in data["description"]
    assert date.fromisoformat(data["datePosted"]) == timezone.localtime(opening.first_published_at).date()
    valid_through = datetime.fromisoformat(data["validThrough"])
    assert valid_through.utcoffset() is not None
    assert valid_through == datetime.combine(opening.application_deadline, datetime.max.time().replace(microsecond=0),
                                             tzinfo=ZoneInfo("Europe/Paris"))
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T23:59:59\+0[12]:00", data["validThrough"])
    assert data["hiringOrganization"] == {"@type": "Organization", "name": "Ville de Paris", "sameAs": "http://localhost"}
    assert data["jobLocation"]["@type"] == "Place"
    assert data["jobLocation"]["address"] == {
        "@type": "PostalAddress", "streetAddress": "Place de l'Hôtel de Ville", "postalCode": "75004",
        "addressLocality": "Paris", "addressCountry": "FR",
    }
    assert data["employmentType"] == "FULL_TIME"
    assert data["employmentType"] in {"FULL_TIME", "PART_TIME", "TEMPORARY", "INTERN"}
    assert data["baseSalary"] == {
        "@type": "MonetaryAmount", "currency": "EUR",
        "value": {"@type": "QuantitativeValue", "minValue": 28000, "maxValue": 34000.5, "unitText": "YEAR"},
    }
    assert data["identifier"] == {"@type": "PropertyValue", "name": "Ville de Paris", "value": "2025-DRH-001"}
    assert data["directApply"] is True
    assert data["occupationalCategory"] == "Secrétaires administratifs"


def _facts(html):
    """The notice's "Le poste" list as ``{term: definition}``."""
    section = html.split('id="job-facts-title"', 1)[1].split("</dl>", 1)[0]
    return dict(re.findall(r"<dt>(.*?)</dt>\s*<dd>(.*?)</dd>", section, re.S))


def test_the_notice_names_the_real_direction_the_service_and_the_bureau(client, job_index):
    root = OrgUnitFactory(code="DGS", name="Direction générale des services", kind="other")
    dasco = OrgUnitFactory(code="DASCO", name="Direction des affaires scolaires", kind="direction", parent=root)
    service = OrgUnitFactory(code="DASCO-SPE", name="Service des personnels", kind="service", parent=dasco)
    bureau = OrgUnitFactory(code="DASCO-SPE-B1", name="Bureau des ASEM", kind="bureau", parent=service)
    opening = make_opening(job_index, org_unit=bureau, reference="2026-DASCO-006", title="ASEM")
    facts = _facts(client.get(opening.url).content.decode())
    assert facts["Direction"] == "Direction des affaires scolaires"
    assert facts["Service"] == "Service des personnels"
    assert facts["Bureau"] == "Bureau des ASEM"
    assert "Direction générale des services" not in facts.values()

    at_service = make_opening(job_index, org_unit=service, reference="2026-DASCO-007", title="Chef de bureau")
    facts = _facts(client.get(at_service.url).content.decode())
    assert (facts["Direction"], facts["Service"], "Bureau" in facts) == (
        "Direction des affaires scolaires", "Service des personnels", False)
    at_direction = make_opening(job_index, org_unit=dasco, reference="2026-DASCO-008", title="Directeur adjoint")
    facts = _facts(client.get(at_direction.url).content.decode())
    assert facts["Direction"] == "Direction des affaires scolaires" and "Service" not in facts


def test_jsonld_has_no_salary_when_none_is_given(client, job_index, org):
    opening = make_opening(job_index, org_unit=org["bureau"], reference="NS-1", employment_type=EmploymentType.TEMPORARY)
    [data] = jsonld_of(client.get(opening.url))
    assert "baseSalary" not in data
    assert data["employmentType"] == "TEMPORARY"


def test_jsonld_salary_with_a_minimum_only(openings):
    opening = openings["open"]
    opening.salary_max = None
    assert jsonld.base_salary(opening)["value"] == {"@type": "QuantitativeValue", "unitText": "YEAR", "minValue": 28000}


def test_jsonld_organisation_name_comes_from_the_theme_settings(client, openings):
    from wagtail.models import Site

    from themes.models import ThemeSettings

    settings_ = ThemeSettings.for_site(Site.objects.get(is_default_site=True))
    settings_.organisation_name = "Ville de Lutèce"
    settings_.save()
    [data] = jsonld_of(client.get(openings["open"].url))
    assert data["hiringOrganization"]["name"] == "Ville de Lutèce"
    assert data["identifier"]["name"] == "Ville de Lutèce"


def test_valid_through_uses_the_paris_offset_in_summer_and_winter():
    assert jsonld.valid_through(date(2025, 7, 14)) == "2025-07-14T23:59:59+02:00"
    assert jsonld.valid_through(date(2025, 12, 31)) == "2025-12-31T23:59:59+01:00"


def test_closed_opening_says_closed_and_has_no_jsonld(client, openings):
    response = client.get(openings["closed"].url)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Cette offre est close" in html
    assert "Les candidatures sont closes : la date limite était le" in html
    assert "application/ld+json" not in html
    assert 'enctype="multipart/form-data"' not in html  # no application form


def test_filled_opening_is_closed_without_jsonld(client, openings):
    opening = openings["open"]
    set_opening_state(opening, OpeningState.FILLED)
    html = client.get(opening.url).content.decode()
    assert "Cette offre est close" in html
    assert "Pourvue" in html
    assert "application/ld+json" not in html


def test_internal_opening_is_404_for_anonymous_and_non_agents(client, openings, agent_user):
    url = openings["internal"].url
    response = client.get(url)
    assert response.status_code == 404
    assert "Chef de bureau" not in response.content.decode()
    client.force_login(UserFactory(username="no_agent_profile"))
    assert client.get(url).status_code == 404
    client.force_login(agent_user)
    response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Réservée aux agents de la collectivité" in html
    assert "application/ld+json" not in html  # not a public job posting
    assert '<meta name="robots" content="noindex">' in html


def test_page_works_under_the_csp(client, openings):
    response = client.get(openings["open"].url)
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
    parser = ScriptCollector()
    parser.feed(response.content.decode())
    types = sorted(attrs.get("type", "") for attrs in parser.scripts)
    assert types == ["", "application/ld+json"]  # the page script and the JSON-LD data block
    for attrs in parser.scripts:
        # Either an external script from 'self', or a data block that is never executed.
        assert attrs.get("src", "").startswith("/static/") or attrs.get("type") == "application/ld+json", attrs
    [script] = [attrs["src"] for attrs in parser.scripts if "src" in attrs]
    assert client.get(script).status_code == 200


def test_application_form_fields_privacy_notice_and_unchecked_consent(client, openings):
    html = client.get(openings["open"].url).content.decode()
    assert f'action="{apply_url(openings["open"])}"' in html
    assert 'enctype="multipart/form-data"' in html
    assert 'accept=".pdf,.docx,.odt"' in html
    for name in ("first_name", "last_name", "email", "phone", "cv", "cover_letter", "message", "consent_pool"):
        assert f'name="{name}"' in html, name
    assert re.search(r'<input type="checkbox" name="consent_pool" id="id_consent_pool">', html)  # not checked
    assert "3 mois après la fin du recrutement" in html
    assert "2 ans après notre dernier contact" in html
    assert "délégué à la protection des données" in html
    assert 'autocomplete="email"' in html


# --- applying -------------------------------------------------------------------------------


def test_applying_with_a_pdf_creates_everything_and_acknowledges(client, openings, acknowledgement_template,
                                                                  django_capture_on_commit_callbacks, private_files):
    opening = openings["open"]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(apply_url(opening), form_data(cover_letter=odt_upload()))
    assert response.status_code == 302
    assert response["Location"] == reverse("recruitment:apply_done")

    application = Application.objects.select_related("candidate").get()
    candidate = application.candidate
    assert (candidate.first_name, candidate.last_name, candidate.email) == ("Alice", "Dupont", "alice.dupont@example.org")
    assert candidate.pool_consent is False
    assert application.opening_id == opening.pk
    assert application.status == "received"
    assert application.is_internal is False
    assert application.message == "Je suis très motivée."
    assert application.cv.name.endswith(".pdf") and private_files.exists(application.cv.name)
    assert application.cover_letter.name.endswith(".odt")
    assert ApplicationEvent.objects.filter(application=application, kind="move", to_status="received").exists()

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["alice.dupont@example.org"]
    assert message.subject == "Votre candidature 2025-DRH-001"
    assert "/recrutement/candidat/" in message.body
    assert ApplicationEvent.objects.filter(application=application, kind="message").count() == 1

    page = client.get(response["Location"])
    assert application.reference in page.content.decode()
    assert "Votre candidature a bien été envoyée" in page.content.decode()


def test_consent_to_the_pool_is_recorded_when_checked(client, openings):
    client.post(apply_url(openings["open"]), form_data(consent_pool="on"))
    candidate = Candidate.objects.get()
    assert candidate.pool_consent is True and candidate.pool_consent_at is not None


def test_text_file_renamed_pdf_is_refused_with_a_clear_message_and_nothing_written(client, openings, private_files):
    response = client.post(apply_url(openings["open"]), form_data(cv=text_as_pdf_upload()))
    assert response.status_code == 400
    html = response.content.decode()
    assert "Le formulaire contient des erreurs" in html
    assert "n&#x27;est pas un PDF, un DOCX ou un ODT" in html
    assert "quel que soit son nom" in html
    assert 'href="#id_cv"' in html  # the error summary links to the field
    assert 'id="id_cv_error"' in html
    assert response.context["application_form"].data["first_name"] == "Alice"  # the typed data is kept
    assert not Candidate.objects.exists() and not Application.objects.exists() and not ApplicationEvent.objects.exists()
    assert not private_files.exists("cv")


def test_cv_over_5_mb_is_refused(client, openings):
    response = client.post(apply_url(openings["open"]), form_data(cv=big_pdf_upload()))
    assert response.status_code == 400
    assert "Le fichier dépasse 5 Mo" in response.content.decode()
    assert not Application.objects.exists()


def test_docx_cv_is_accepted(client, openings):
    response = client.post(apply_url(openings["open"]), form_data(cv=docx_upload()))
    assert response.status_code == 302
    assert Application.objects.get().cv.name.endswith(".docx")


def test_missing_fields_are_reported_per_field(client, openings):
    response = client.post(apply_url(openings["open"]), {"first_name": "Alice", "email": "pas-une-adresse"})
    assert response.status_code == 400
    errors = response.context["application_form"].errors
    assert set(errors) == {"last_name", "email", "cv"}
    assert 'href="#id_last_name"' in response.content.decode()


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ({"email": "jean.dupont@gmail.com"}, {"email": "Jean.Du.Pont+jobs@GMAIL.com"}),
        ({"email": "jean@example.org", "phone": "06 12 34 56 78"}, {"email": "autre@example.org", "phone": "+33 6 12 34 56 78"}),
    ],
)
def test_duplicate_candidate_is_linked_and_flagged(client, openings, job_index, org, first, second):
    original, _token = apply_directly(openings["open"], **{"phone": "", **first})
    other = make_opening(job_index, org_unit=org["bureau"], reference="DUP-1")
    response = client.post(apply_url(other), form_data(**{"phone": "", **second}))
    assert response.status_code == 302
    application = Application.objects.select_related("candidate").get(opening=other)
    assert application.possible_duplicate is True
    assert application.candidate.duplicate_of_id == original.candidate_id


def test_second_application_to_the_same_opening_is_a_conflict_shown_as_a_message(client, openings):
    apply_directly(openings["open"], email="alice.dupont@example.org")
    response = client.post(apply_url(openings["open"]), form_data())
    assert response.status_code == 409
    assert "Une candidature avec cette adresse e-mail ou ce téléphone existe déjà" in response.content.decode()
    assert Application.objects.count() == 1


def test_applying_to_a_closed_opening_is_refused(client, openings):
    response = client.post(apply_url(openings["closed"]), form_data())
    assert response.status_code == 409
    assert "Les candidatures sont closes : la date limite était le" in response.content.decode()
    assert not Application.objects.exists()


def test_anonymous_cannot_apply_to_an_internal_opening(client, openings):
    response = client.post(apply_url(openings["internal"]), form_data())
    assert response.status_code == 404
    assert not Application.objects.exists()


def test_agent_applies_internally_with_a_prefilled_form(client, openings, agent_user):
    client.force_login(agent_user)
    opening = openings["internal"]
    html = client.get(opening.url).content.decode()
    assert 'value="Camille"' in html and 'value="Martin"' in html and 'value="camille.martin@ville.example"' in html
    assert "candidature interne" in html
    response = client.post(apply_url(opening), form_data(first_name="Camille", last_name="Martin",
                                                          email="camille.martin@ville.example"))
    assert response.status_code == 302
    application = Application.objects.select_related("candidate").get()
    assert application.is_internal is True
    assert application.candidate.agent_id == agent_user.agent.pk


def test_rate_limit_per_ip(client, openings):
    for number in range(5):
        response = client.post(apply_url(openings["open"]), form_data(email=f"personne{number}@example.org"),
                               REMOTE_ADDR="203.0.113.7")
        assert response.status_code == 302, number
    response = client.post(apply_url(openings["open"]), form_data(email="sixieme@example.org"), REMOTE_ADDR="203.0.113.7")
    assert response.status_code == 429
    assert "Trop de candidatures envoyées" in response.content.decode()
    assert int(response["Retry-After"]) > 0
    assert Application.objects.count() == 5
    # Another address is not affected.
    response = client.post(apply_url(openings["open"]), form_data(email="sixieme@example.org"), REMOTE_ADDR="203.0.113.8")
    assert response.status_code == 302


def test_rate_limit_per_email_counts_normalised_addresses(client, openings, job_index, org):
    targets = [openings["open"]] + [make_opening(job_index, org_unit=org["bureau"], reference=f"RL-{n}") for n in range(3)]
    emails = ["jean.dupont@gmail.com", "jeandupont@gmail.com", "Jean.Dupont+2@gmail.com", "JEAN.DUPONT@gmail.com"]
    for number, (opening, email) in enumerate(zip(targets[:3], emails[:3], strict=True)):
        response = client.post(apply_url(opening), form_data(email=email), REMOTE_ADDR=f"198.51.100.{number}")
        assert response.status_code == 302, number
    response = client.post(apply_url(targets[3]), form_data(email=emails[3]), REMOTE_ADDR="198.51.100.99")
    assert response.status_code == 429
    assert Application.objects.count() == 3


def test_refused_submissions_do_not_count_against_the_limit(client, openings):
    for _number in range(6):
        assert client.post(apply_url(openings["open"]), form_data(cv=text_as_pdf_upload())).status_code == 400
    assert client.post(apply_url(openings["open"]), form_data()).status_code == 302


def test_rate_limit_helper_windows():
    for _ in range(2):
        assert ratelimit.take_rate("test", "x", limit=2, period=60, now=1000.0) == (True, 0)
    allowed, retry_after = ratelimit.take_rate("test", "x", limit=2, period=60, now=1001.0)
    assert (allowed, retry_after) == (False, 19)  # the window 960–1020 ends in 19 s
    assert ratelimit.take_rate("test", "x", limit=2, period=60, now=1020.0) == (True, 0)  # next window


def test_confirmation_page_without_a_recent_application(client, db):
    response = client.get(reverse("recruitment:apply_done"))
    assert response.status_code == 200
    assert "Aucune candidature récente" in response.content.decode()


def test_apply_url_accepts_post_only(client, openings):
    assert client.get(apply_url(openings["open"])).status_code == 405


def test_visible_openings_selector(openings, agent_user):
    assert set(selectors.visible_openings(agent_user).values_list("reference", flat=True)) == {"2025-DRH-001", "2025-DRH-002"}
    assert set(selectors.visible_openings(agent_user, external_only=True).values_list("reference", flat=True)) == {"2025-DRH-001"}
    assert selectors.visible_openings(None, today=timezone.localdate() - timedelta(days=2)).count() == 2  # the closed one too
