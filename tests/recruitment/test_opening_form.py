"""Issue 13, item 17: the editing form of a job opening in the Wagtail admin. The creator is
the recruiter of a new opening by default; the recruiters field is a searchable list of the
people who may be recruiters, with their names and units; stage labels are one labelled,
validated field per stage of the pipeline, stored in the same JSON as before."""

from datetime import timedelta
from html import unescape

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from wagtail.models import GroupPagePermission
from wagtail.test.utils.form_data import nested_form_data, rich_text

from recruitment import permissions
from recruitment.choices import PIPELINE
from recruitment.models import JobOpeningPage
from recruitment.page_forms import StageLabelsField
from tests.factories import AgentFactory, UserFactory
from tests.recruitment.conftest import make_opening

pytestmark = pytest.mark.django_db


@pytest.fixture
def editors(job_index, org):
    """Recruiters and HR may add and edit openings under the index (as the seed grants), and
    an editor who may too but is no recruiter. Named people, with units or not."""
    editor_group = Group.objects.create(name="Rédaction des offres")
    editor_group.permissions.add(Permission.objects.get(codename="access_admin"))
    for group in Group.objects.filter(name__in=["Recruiters", "HR"]).union(Group.objects.filter(pk=editor_group.pk)):
        for permission in ("add_page", "change_page", "publish_page"):
            GroupPagePermission.objects.get_or_create(group=group, page=job_index, permission=Permission.objects.get(
                codename=permission, content_type__app_label="wagtailcore"))
    people = {
        "creator": AgentFactory(user__username="claire", user__first_name="Claire", user__last_name="Fontaine",
                                user__groups=["Recruiters"], org_unit=org["bureau"]).user,
        "colleague": AgentFactory(user__username="medhi", user__first_name="Medhi", user__last_name="Benali",
                                  user__groups=["Recruiters"], org_unit=org["service"]).user,
        "hr": UserFactory(username="rh", first_name="Rose", last_name="Hamel", email="rose.hamel@ville.example",
                          groups=["HR"]),
        "editor": UserFactory(username="editeur", first_name="Éric", last_name="Dupuis"),
        "agent": AgentFactory(user__username="agent", user__first_name="Anne", user__last_name="Agent",
                              org_unit=org["bureau"]).user,
    }
    people["editor"].groups.add(editor_group)
    return people


def add_url(job_index):
    return reverse("wagtailadmin_pages:add", args=("recruitment", "jobopeningpage", job_index.pk))


def opening_data(org, reference="2026-DRH-100", recruiters=(), **overrides):
    today = timezone.localdate()
    data = {
        "title": "Chargée de mission", "slug": reference.lower(), "reference": reference,
        "org_unit": org["bureau"].pk, "category": "A", "employment_type": "FULL_TIME",
        "corps": "Attachés territoriaux", "grades": "", "open_to_titulaires": "on", "open_to_contractuels": "on",
        "location_name": "Hôtel de Ville", "street_address": "1 place de l'Hôtel de Ville", "postal_code": "75004",
        "locality": "Paris", "missions": rich_text("<p>Piloter les projets.</p>"),
        "profile": rich_text("<p>Rigueur.</p>"), "conditions": rich_text(""),
        "vacancy_date": (today + timedelta(days=40)).isoformat(),
        "application_deadline": (today + timedelta(days=30)).isoformat(),
        "seo_title": "", "search_description": "",
    }  # fmt: skip
    for status in PIPELINE:
        data[f"stage_labels_{status}"] = ""
    data.update(overrides)
    data = nested_form_data(data)
    if recruiters:
        data["recruiters"] = [str(user.pk) for user in recruiters]
    return data


def create(client, job_index, org, user, **kwargs):
    client.force_login(user)
    response = client.post(add_url(job_index), opening_data(org, **kwargs))
    return response


# --- the creator is the recruiter by default ---------------------------------------------------------------------


@pytest.mark.parametrize("role", ["creator", "hr"])
def test_a_new_opening_left_without_recruiters_has_its_creator_as_recruiter(client, job_index, org, editors, role):
    user = editors[role]
    response = create(client, job_index, org, user)
    assert response.status_code == 302, response.content.decode()[:3000]
    opening = JobOpeningPage.objects.get(reference="2026-DRH-100")
    assert list(opening.recruiters.all()) == [user]
    assert permissions.is_recruiter_of(user, opening)
    revision = opening.latest_revision.as_object()  # publishing this draft later keeps it
    assert [u.pk for u in revision.recruiters.all()] == [user.pk]
    board = client.get(reverse("recruitment_admin:board", args=[opening.pk]))
    assert board.status_code == 200


def test_recruiters_chosen_on_creation_are_kept_without_the_creator(client, job_index, org, editors):
    response = create(client, job_index, org, editors["creator"], recruiters=[editors["colleague"]])
    assert response.status_code == 302
    opening = JobOpeningPage.objects.get(reference="2026-DRH-100")
    assert list(opening.recruiters.all()) == [editors["colleague"]]
    assert not permissions.is_recruiter_of(editors["creator"], opening)


def test_a_creator_who_may_not_be_a_recruiter_is_not_added_nor_may_be_chosen(client, job_index, org, editors):
    response = create(client, job_index, org, editors["editor"])
    assert response.status_code == 302
    opening = JobOpeningPage.objects.get(reference="2026-DRH-100")
    assert not opening.recruiters.exists()
    response = create(client, job_index, org, editors["editor"], reference="2026-DRH-101",
                      recruiters=[editors["agent"]])
    assert response.status_code == 200  # the form again, with the error on the field
    assert "Sélectionnez un choix valide" in unescape(response.content.decode())
    assert not JobOpeningPage.objects.filter(reference="2026-DRH-101").exists()


def test_emptying_the_recruiters_of_an_existing_opening_does_not_add_the_editor(client, job_index, org, editors):
    opening = make_opening(job_index, org_unit=org["bureau"], reference="2026-DRH-200", title="Juriste")
    opening.recruiters.add(editors["colleague"])
    opening.save_revision().publish()
    client.force_login(editors["hr"])
    data = opening_data(org, reference="2026-DRH-200", slug="2026-drh-200", **{"action-publish": "publish"})
    response = client.post(reverse("wagtailadmin_pages:edit", args=[opening.pk]), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert not JobOpeningPage.objects.get(pk=opening.pk).recruiters.exists()


# --- the chooser: names and units, only people who may be recruiters, searchable -----------------------------------


def test_the_recruiters_field_lists_who_may_be_recruiter_with_names_and_units(client, job_index, org, editors):
    client.force_login(editors["creator"])
    html = client.get(add_url(job_index)).content.decode()
    assert "Claire Fontaine — Bureau des parcours (DRH-SF-B1)" in html
    assert "Medhi Benali — Service de la formation (DRH-SF)" in html
    assert "Rose Hamel (rose.hamel@ville.example)" in html  # no agent profile: the address tells them apart
    assert "Anne Agent" not in html and "Éric Dupuis" not in html  # neither Recruiters nor HR
    assert "Laissé vide, vous en serez le recruteur." in html
    search = html[html.index('data-recruiters-search'):]
    assert 'type="search"' in search and 'for="id_recruiters-search"' in search  # a labelled search box
    assert 'role="status"' in search  # the number of people shown is announced
    assert "recruitment/admin/recruiters.js" in html
    assert html.count('type="checkbox" name="recruiters"') == 3


def test_the_chosen_recruiters_come_first_and_a_former_recruiter_stays_listed(client, job_index, org, editors):
    opening = make_opening(job_index, org_unit=org["bureau"], reference="2026-DRH-300", title="Juriste")
    former = UserFactory(username="ancien", first_name="Zoé", last_name="Zeller")  # no longer in a group
    opening.recruiters.add(editors["colleague"], former)
    opening.save_revision().publish()
    client.force_login(editors["hr"])
    html = client.get(reverse("wagtailadmin_pages:edit", args=[opening.pk])).content.decode()
    listing = html[html.index('id="id_recruiters-list"'):]
    assert listing.index("Medhi Benali") < listing.index("Claire Fontaine")  # chosen first
    assert listing.index("Zoé Zeller") < listing.index("Claire Fontaine")
    assert "Laissé vide" not in html  # editing: nobody is added any more


def test_the_chooser_renders_in_a_constant_number_of_queries(job_index, org, editors):
    form_class = JobOpeningPage.get_edit_handler().get_form_class()

    def render():
        form = form_class(instance=JobOpeningPage(), parent_page=job_index, for_user=editors["hr"])
        with CaptureQueriesContext(connection) as queries:
            html = str(form["recruiters"])
        return len(queries), html

    few, html = render()
    for n in range(5):
        AgentFactory(user__username=f"recruteur{n}", user__groups=["Recruiters"], org_unit=org["service"])
    many, more_html = render()
    assert more_html.count('name="recruiters"') == html.count('name="recruiters"') + 5
    assert many == few


# --- stage labels: a form, not raw JSON ---------------------------------------------------------------------------


def test_stage_labels_are_one_labelled_field_per_stage(client, job_index, org, editors):
    opening = make_opening(job_index, org_unit=org["bureau"], reference="2026-DRH-400", title="Juriste",
                           stage_labels={"interview": "Jury"})
    client.force_login(editors["hr"])
    html = client.get(reverse("wagtailadmin_pages:edit", args=[opening.pk])).content.decode()
    for index, status in enumerate(PIPELINE):
        assert f'for="id_stage_labels_{index}"' in html and f'name="stage_labels_{status}"' in html
        assert f'id="id_stage_labels_{index}"' in html
    assert "Étape « Entretien »" in html and 'value="Jury"' in html
    assert 'placeholder="Présélection"' in html
    assert "{&quot;interview&quot;" not in html  # no JSON to type


def test_stage_labels_are_saved_as_the_opening_s_labels(client, job_index, org, editors):
    opening = make_opening(job_index, org_unit=org["bureau"], reference="2026-DRH-500", title="Juriste",
                           stage_labels={"interview": "Jury", "rejected": "Écartée"})
    client.force_login(editors["hr"])
    data = opening_data(org, reference="2026-DRH-500", slug="2026-drh-500", **{
        "stage_labels_interview": "  Épreuves   et jury ", "stage_labels_screening": "Présélection",
        "stage_labels_offer": "Promesse d'embauche", "action-publish": "publish"})
    response = client.post(reverse("wagtailadmin_pages:edit", args=[opening.pk]), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    opening = JobOpeningPage.objects.get(pk=opening.pk)
    # spaces tidied, a label equal to the usual name dropped, a label outside the pipeline kept
    assert opening.stage_labels == {"interview": "Épreuves et jury", "offer": "Promesse d'embauche",
                                    "rejected": "Écartée"}
    assert opening.stage_label("interview") == "Épreuves et jury" and opening.stage_label("screening") == "Présélection"


@pytest.mark.parametrize(
    "labels, message",
    [
        ({"interview": "Recevabilité"}, "« Recevabilité » désigne déjà l'étape « Recevabilité »"),
        ({"interview": "Jury", "decision": "jury"}, "« jury » désigne déjà l'étape « Entretien »"),
        ({"offer": "x" * 61}, "Un libellé d'étape tient en 60 caractères au plus."),
    ],
)
def test_bad_stage_labels_are_refused_naming_the_problem(client, job_index, org, editors, labels, message):
    client.force_login(editors["creator"])
    response = client.post(add_url(job_index), opening_data(
        org, **{f"stage_labels_{status}": label for status, label in labels.items()}))
    assert response.status_code == 200
    assert message in unescape(response.content.decode())
    assert not JobOpeningPage.objects.filter(reference="2026-DRH-100").exists()


def test_the_stage_labels_field_alone():
    field = StageLabelsField()
    values = ["", "Dossier reçu", "", "", "Jury", "", "", ""]
    assert field.clean(values) == {"admissibility": "Dossier reçu", "interview": "Jury"}
    assert field.clean([""] * len(PIPELINE)) == {}
