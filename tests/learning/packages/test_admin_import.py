"""Wagtail admin: "Importer un paquet SCORM" (inline and task paths, status page), the list
of packages, the upload field of the package step's page form; permission matrix."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from wagtail.admin.menu import admin_menu
from wagtail.models import GroupPagePermission, Page
from wagtail.test.utils.form_data import querydict_from_html

from cms import roles
from learning.models import CoursePage, Package, PackageImport, PackageStepPage
from learning.packages import importer, sample
from tests.factories import UserFactory
from tests.learning.conftest import build_course

ROLES = ["anonymous", "agent", "interviewer", "recruiter", "training_editor", "hr", "superuser"]
GROUPS = {
    "agent": [],
    "interviewer": [roles.INTERVIEWERS],
    "recruiter": [roles.RECRUITERS],
    "training_editor": [roles.TRAINING_EDITORS],
    "hr": [roles.HR],
}
ALLOWED = {"training_editor", "hr", "superuser"}


def has_admin(user):
    """Admin access without the package roles gets a 403 page; no admin access, the login page."""
    return user is not None and user.has_perm("wagtailadmin.access_admin")


def make_user(role):
    if role == "anonymous":
        return None
    if role == "superuser":
        return UserFactory(username="root", is_superuser=True, is_staff=True)
    return UserFactory(username=f"role_{role}", groups=GROUPS[role])


def login(client, role):
    user = make_user(role)
    if user is not None:
        client.force_login(user)
    return user


@pytest.fixture
def built(db):
    built = build_course()
    permissions = Permission.objects.filter(
        content_type__app_label="wagtailcore", codename__in=["add_page", "change_page", "publish_page"]
    )
    group = Group.objects.get(name=roles.TRAINING_EDITORS)
    for permission in permissions:
        GroupPagePermission.objects.get_or_create(group=group, page=built["index"], permission=permission)
    return built


def zip_upload(blob=None, name="module.zip"):
    return SimpleUploadedFile(name, blob if blob is not None else sample.scorm12_package(), "application/zip")


# --- permissions ----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_permission_matrix(client, built, role):
    row = PackageImport.objects.create(upload="package-uploads/x.zip", original_name="x.zip", progress=0.5)
    user = login(client, role)
    for url in (
        reverse("formations_paquets:import"),
        reverse("formations_paquets:index"),
        reverse("formations_paquets:status", args=[row.uuid]),
    ):
        response = client.get(url)
        if role in ALLOWED:
            assert response.status_code == 200, url
        elif has_admin(user):
            assert response.status_code == 403, url
            assert "réservés aux ressources humaines" in response.content.decode()
        else:
            assert response.status_code == 302, url
            assert response["Location"].startswith(reverse("wagtailadmin_login"))
    # a POST is refused the same way, and nothing is imported
    response = client.post(reverse("formations_paquets:import"),
                           {"package": zip_upload(), "target": "new", "new_course_title": "X"})
    assert response.status_code == (302 if role in ALLOWED else 403 if has_admin(user) else 302)
    assert Package.objects.exists() is (role in ALLOWED)
    assert PackageStepPage.objects.exists() is (role in ALLOWED)
    if role in {"recruiter", "interviewer"}:
        assert has_admin(user)  # both roles reach the admin: the matrix really tests the 403


@pytest.mark.parametrize("role", ROLES[1:])
def test_menu_items_under_formations(built, role):
    admin_menu.__dict__.pop("registered_menu_items", None)
    request = RequestFactory().get("/admin/")
    request.user = make_user(role)
    items = {item.name: item for item in admin_menu.menu_items_for_request(request)}
    formations = items.get("formations")
    names = {item.name for item in formations.menu.menu_items_for_request(request)} if formations else set()
    assert ("importer-paquet" in names) is (role in ALLOWED)
    assert ("paquets-scorm" in names) is (role in ALLOWED)


def test_courses_offered_are_those_the_user_may_edit(client, built):
    other_index_course = CoursePage(title="Hors périmètre", slug="hors", summary="x")
    Page.objects.get(depth=1).add_child(instance=other_index_course)
    login(client, "training_editor")
    form = client.get(reverse("formations_paquets:import")).context["form"]
    assert list(form.fields["course"].queryset) == [built["course"]]
    response = client.post(reverse("formations_paquets:import"),
                           {"package": zip_upload(), "target": "existing", "course": other_index_course.pk})
    assert response.status_code == 200
    assert response.context["form"].errors["course"]
    assert not Package.objects.exists()
    hr_form = (login(client, "hr"), client.get(reverse("formations_paquets:import")).context["form"])[1]
    assert list(hr_form.fields["course"].queryset) == []  # HR: new courses only (no page permission)


# --- inline import ---------------------------------------------------------------------------------


def test_inline_import_into_a_course(client, built):
    user = login(client, "training_editor")
    response = client.post(
        reverse("formations_paquets:import"),
        {"package": zip_upload(), "target": "existing", "course": built["course"].pk, "title": "Module prévention"},
    )
    step = PackageStepPage.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("wagtailadmin_pages:edit", args=[step.pk])
    assert step.title == "Module prévention" and step.live
    assert step.get_parent().pk == built["course"].pk
    assert step.package.uploaded_by == user
    page = client.get(response["Location"])
    assert "Module prévention" in page.content.decode()


def test_inline_import_into_a_new_course(client, built):
    login(client, "hr")
    response = client.post(reverse("formations_paquets:import"),
                           {"package": zip_upload(sample.scorm2004_package(suspend_kb=1)), "target": "new",
                            "new_course_title": "Premiers secours"})
    assert response.status_code == 302
    step = PackageStepPage.objects.get()
    assert step.get_parent().title == "Premiers secours"
    assert step.package.standard == "scorm2004"


def test_inline_refusal_shows_on_the_field_with_a_summary(client, built):
    login(client, "training_editor")
    response = client.post(
        reverse("formations_paquets:import"),
        {"package": zip_upload(sample.zip_bytes({"../../etc/passwd": "x", **sample.scorm12_files()})),
         "target": "existing", "course": built["course"].pk},
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert "sort du dossier" in form.errors["package"][0]
    html = response.content.decode()
    assert 'role="alert"' in html and 'href="#id_package"' in html
    assert "Le formulaire contient 1 erreur" in html
    assert not Package.objects.exists() and not PackageStepPage.objects.exists()


def test_missing_destination_fields(client, built):
    login(client, "training_editor")
    response = client.post(reverse("formations_paquets:import"), {"package": zip_upload(), "target": "new"})
    assert "titre de la formation" in response.context["form"].errors["new_course_title"][0]
    response = client.post(reverse("formations_paquets:import"), {"package": zip_upload(), "target": "existing"})
    assert response.context["form"].errors["course"]
    assert not Package.objects.exists()


# --- task path and status page ---------------------------------------------------------------------------


def test_large_file_goes_through_the_task_and_the_status_page(client, built, settings,
                                                             django_capture_on_commit_callbacks):
    settings.PACKAGE_INLINE_MAX_BYTES = 100
    login(client, "training_editor")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("formations_paquets:import"),
            {"package": zip_upload(), "target": "existing", "course": built["course"].pk, "title": "En tâche"},
        )
    row = PackageImport.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("formations_paquets:status", args=[row.uuid])
    assert row.step is not None and row.step.title == "En tâche" and row.finished_at is not None
    page = client.get(response["Location"])
    html = page.content.decode()
    assert 'http-equiv="refresh"' not in html
    assert reverse("wagtailadmin_pages:edit", args=[row.step_id]) in html
    assert row.step.get_url() in html


def test_large_file_into_a_new_course_by_task(client, built, settings, django_capture_on_commit_callbacks):
    settings.PACKAGE_INLINE_MAX_BYTES = 100
    login(client, "hr")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("formations_paquets:import"),
                    {"package": zip_upload(), "target": "new", "new_course_title": "Formation en tâche"})
    row = PackageImport.objects.get()
    assert row.step.get_parent().title == "Formation en tâche"


def test_status_page_while_running_refreshes_itself(client, built):
    row = PackageImport.objects.create(upload="package-uploads/x.zip", original_name="gros.zip", progress=0.42)
    login(client, "training_editor")
    html = client.get(reverse("formations_paquets:status", args=[row.uuid])).content.decode()
    assert '<meta http-equiv="refresh" content="2">' in html
    assert '<progress id="import-progress" max="100" value="42">' in html
    assert "42 %" in html and 'for="import-progress"' in html


def test_status_page_shows_the_error_sentence(client, built, settings, django_capture_on_commit_callbacks):
    settings.PACKAGE_INLINE_MAX_BYTES = 100
    login(client, "training_editor")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("formations_paquets:import"),
            {"package": zip_upload(sample.zip_bytes({"index.html": "x" * 500})), "target": "existing",
             "course": built["course"].pk},
        )
    html = client.get(response["Location"]).content.decode()
    assert "imsmanifest.xml à sa racine" in html
    assert 'http-equiv="refresh"' not in html
    assert not Package.objects.exists() and not PackageStepPage.objects.exists()


def test_unknown_import_is_404(client, built):
    login(client, "hr")
    assert client.get(reverse("formations_paquets:status", args=["00000000-0000-0000-0000-000000000000"])).status_code \
        == 404


# --- list of packages -------------------------------------------------------------------------------


def test_package_list_and_constant_queries(client, built):
    user = login(client, "training_editor")
    course = built["course"]

    def queries():
        with CaptureQueriesContext(connection) as captured:
            response = client.get(reverse("formations_paquets:index"))
        assert response.status_code == 200
        return len(captured), response.content.decode()

    importer.import_package(zip_upload(), user=user, course=course, title="Étape A")
    few, html = queries()
    assert "Prévention des risques (SCORM 1.2)" in html and "Étape A" in html and "SCORM 1.2" in html
    package = Package.objects.get()
    assert package.sha256[:12] in html
    for n in range(3):
        importer.import_package(zip_upload(sample.scorm12_package(title=f"Autre {n}")), course=course,
                                title=f"Étape {n}")
    more, html = queries()
    assert "Autre 2" in html
    assert more == few


# --- the page form of a package step ------------------------------------------------------------------


def page_form_data(client, url):
    data = querydict_from_html(client.get(url).content.decode(), form_id="page-edit-form").copy()
    return data


def test_page_form_has_the_upload_field(client, built):
    login(client, "superuser")
    url = reverse("wagtailadmin_pages:add", args=["learning", "packagesteppage", built["course"].pk])
    html = client.get(url).content.decode()
    assert "Téléverser un paquet (.zip, ou cmi5.xml)" in html
    assert 'name="package_upload"' in html


def test_page_form_upload_stores_the_package_and_publishes(client, built):
    user = login(client, "superuser")
    url = reverse("wagtailadmin_pages:add", args=["learning", "packagesteppage", built["course"].pk])
    data = page_form_data(client, url)
    data.update({"title": "Module téléversé", "slug": "module-televerse", "action-publish": "action-publish"})
    data["package_upload"] = zip_upload()
    response = client.post(url, data)
    assert response.status_code == 302, response.context["form"].errors if response.context else ""
    step = PackageStepPage.objects.get(slug="module-televerse")
    assert step.live
    assert step.package.title == "Prévention des risques (SCORM 1.2)"
    assert (step.package.version, step.package.uploaded_by) == (1, user)

    # editing it with another zip makes a new version of its package
    edit = reverse("wagtailadmin_pages:edit", args=[step.pk])
    data = page_form_data(client, edit)
    data.update({"action-publish": "action-publish"})
    data["package_upload"] = zip_upload(sample.scorm12_package(title="Édition 2"))
    response = client.post(edit, data)
    assert response.status_code == 302
    step.refresh_from_db()
    assert step.package.title == "Édition 2"
    assert (step.package.version, step.package.previous.title) == (2, "Prévention des risques (SCORM 1.2)")


def test_page_form_upload_error_is_on_the_field_and_writes_nothing(client, built):
    login(client, "superuser")
    url = reverse("wagtailadmin_pages:add", args=["learning", "packagesteppage", built["course"].pk])
    data = page_form_data(client, url)
    data.update({"title": "Module", "slug": "module", "action-publish": "action-publish"})
    data["package_upload"] = zip_upload(b"GIF89a not a zip")
    response = client.post(url, data)
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "n'est pas une archive ZIP" in errors["package_upload"][0]
    assert not Package.objects.exists() and not PackageStepPage.objects.exists()


def test_a_step_is_not_published_without_a_package(client, built):
    login(client, "superuser")
    url = reverse("wagtailadmin_pages:add", args=["learning", "packagesteppage", built["course"].pk])
    data = page_form_data(client, url)
    data.update({"title": "Sans paquet", "slug": "sans-paquet", "action-publish": "action-publish"})
    response = client.post(url, data)
    assert response.status_code == 200
    assert "ne peut pas être publié sans paquet" in response.context["form"].errors["package"][0]
    assert not PackageStepPage.objects.exists()
    data.pop("action-publish")  # a draft without package is fine
    response = client.post(url, data)
    assert response.status_code == 302
    assert not PackageStepPage.objects.get().live
