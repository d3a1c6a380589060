"""Wagtail admin: "Importer un paquet SCORM" (inline and task paths, status page), the list
of packages, the upload field of the package step's page form; permission matrix."""

import os

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
from cms.storage import private_storage
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


def packages_listing():
    root = private_storage().path("packages")
    return sorted(os.listdir(root)) if os.path.isdir(root) else []


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


def test_page_form_small_upload_is_imported_in_the_request(client, built, settings):
    settings.PACKAGE_INLINE_MAX_BYTES = 50 * 1024**2
    login(client, "superuser")
    url = reverse("wagtailadmin_pages:add", args=["learning", "packagesteppage", built["course"].pk])
    data = page_form_data(client, url)
    data.update({"title": "Petit paquet", "slug": "petit-paquet", "action-publish": "action-publish"})
    data["package_upload"] = zip_upload()
    response = client.post(url, data)
    assert response.status_code == 302
    assert not response["Location"].startswith(reverse("formations_paquets:index"))
    step = PackageStepPage.objects.get(slug="petit-paquet")
    assert step.live and step.package is not None
    assert not PackageImport.objects.exists()


# --- the page form of a package step: large files go through the import task -------------------------


def add_step_url(built):
    return reverse("wagtailadmin_pages:add", args=["learning", "packagesteppage", built["course"].pk])


def test_page_form_large_upload_on_a_new_step_is_queued_then_published_by_the_task(
    client, built, settings, django_capture_on_commit_callbacks
):
    settings.PACKAGE_INLINE_MAX_BYTES = 100
    user = login(client, "training_editor")
    url = add_step_url(built)
    data = page_form_data(client, url)
    data.update({"title": "Gros module", "slug": "gros-module", "action-publish": "action-publish"})
    data["package_upload"] = zip_upload(sample.scorm2004_package(suspend_kb=1), name="gros.zip")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(url, data)
    row = PackageImport.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("formations_paquets:status", args=[row.uuid])
    step = PackageStepPage.objects.get(slug="gros-module")
    # nothing imported in the request; the new step waits, as a draft, for its package
    assert not Package.objects.exists()
    assert step.package is None and not step.live
    assert (row.replace_step_id, row.created_by, row.original_name) == (step.pk, user, "gros.zip")

    html = client.get(response["Location"]).content.decode()  # the task has not run yet
    assert '<meta http-equiv="refresh" content="2">' in html
    assert '<progress id="import-progress" max="100" value="0">' in html
    assert "le paquet sera donné à l'étape « Gros module »" in html
    assert "elle sera publiée dès que le paquet « gros.zip » sera importé" in html

    for callback in callbacks:  # the task (immediate backend in tests)
        callback()
    row.refresh_from_db()
    step.refresh_from_db()
    assert row.step_id == step.pk and row.error == "" and row.progress == 1.0
    assert step.live and not step.has_unpublished_changes
    assert step.package.standard == "scorm2004" and step.package.uploaded_by == user
    assert step.title == "Gros module"
    html = client.get(response["Location"]).content.decode()
    assert 'http-equiv="refresh"' not in html
    assert "l'étape « Gros module » joue ce paquet et elle est publiée" in html
    assert step.get_url() in html


def test_page_form_large_upload_saved_as_draft_stays_a_draft(client, built, settings,
                                                           django_capture_on_commit_callbacks):
    login(client, "superuser")
    url = add_step_url(built)
    data = page_form_data(client, url)
    data.update({"title": "Module en ligne", "slug": "module-en-ligne", "action-publish": "action-publish"})
    data["package_upload"] = zip_upload()
    assert client.post(url, data).status_code == 302
    step = PackageStepPage.objects.get(slug="module-en-ligne")
    first = step.package

    # a new version, too large for the request, saved as a draft with another title
    settings.PACKAGE_INLINE_MAX_BYTES = 100
    edit = reverse("wagtailadmin_pages:edit", args=[step.pk])
    data = page_form_data(client, edit)
    data.update({"title": "Module en ligne, édition 2"})
    data["package_upload"] = zip_upload(sample.scorm12_package(title="Édition 2"))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(edit, data)
    row = PackageImport.objects.get()
    assert response["Location"] == reverse("formations_paquets:status", args=[row.uuid])
    step.refresh_from_db()
    assert step.package_id == first.pk and step.title == "Module en ligne"  # the live version is untouched
    draft = step.get_latest_revision_as_object()
    assert draft.title == "Module en ligne, édition 2"  # the editor's draft is kept…
    assert draft.package.title == "Édition 2" and draft.package.previous_id == first.pk  # …with the new version
    assert step.has_unpublished_changes
    html = client.get(response["Location"]).content.decode()
    assert "le paquet est enregistré dans le brouillon de l'étape" in html

    # publishing it with yet another large file: the task publishes the new version
    data = page_form_data(client, edit)
    data.update({"action-publish": "action-publish"})
    data["package_upload"] = zip_upload(sample.scorm12_package(title="Édition 3"))
    with django_capture_on_commit_callbacks(execute=True):
        client.post(edit, data)
    step.refresh_from_db()
    assert step.package.title == "Édition 3" and step.package.version == 3
    assert step.title == "Module en ligne, édition 2" and not step.has_unpublished_changes


def test_page_form_large_upload_refused_by_the_task_leaves_no_trace(client, built, settings,
                                                                  django_capture_on_commit_callbacks):
    settings.PACKAGE_INLINE_MAX_BYTES = 100
    extracted = packages_listing()
    login(client, "training_editor")
    url = add_step_url(built)
    data = page_form_data(client, url)
    data.update({"title": "Module refusé", "slug": "module-refuse", "action-publish": "action-publish"})
    data["package_upload"] = zip_upload(sample.zip_bytes({"../../etc/passwd": "x", **sample.scorm12_files()}))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, data)
    row = PackageImport.objects.get()
    html = client.get(response["Location"]).content.decode()
    assert "sort du dossier" in html and 'role="alert"' in html
    assert "l'étape reste telle que vous l'avez enregistrée, sans ce paquet" in html
    step = PackageStepPage.objects.get(slug="module-refuse")
    assert reverse("wagtailadmin_pages:edit", args=[step.pk]) in html
    assert 'http-equiv="refresh"' not in html
    assert not Package.objects.exists()
    assert step.package is None and not step.live
    assert row.step is None and row.finished_at is not None
    assert not private_storage().exists(row.upload)
    assert packages_listing() == extracted


def test_page_form_large_file_that_is_not_a_zip_is_refused_on_the_field(client, built, settings):
    settings.PACKAGE_INLINE_MAX_BYTES = 10
    login(client, "superuser")
    url = add_step_url(built)
    data = page_form_data(client, url)
    data.update({"title": "Module", "slug": "module"})
    data["package_upload"] = zip_upload(b"%PDF-1.4 " + b"x" * 200, name="notice.pdf")
    response = client.post(url, data)
    assert response.status_code == 200
    assert "n'est pas une archive ZIP" in response.context["form"].errors["package_upload"][0]
    assert not PackageImport.objects.exists() and not PackageStepPage.objects.exists()


def test_status_page_of_a_step_upload_is_open_to_its_uploader(client, built, settings,
                                                             django_capture_on_commit_callbacks):
    """An editor with page permissions but none of the package roles follows their own import."""
    settings.PACKAGE_INLINE_MAX_BYTES = 100
    writers = Group.objects.create(name="Rédaction")
    writers.permissions.add(Permission.objects.get(codename="access_admin"))
    for codename in ("add_page", "change_page", "publish_page"):
        GroupPagePermission.objects.create(group=writers, page=built["course"],
                                           permission=Permission.objects.get(codename=codename,
                                                                             content_type__app_label="wagtailcore"))
    writer = UserFactory(username="redacteur", groups=[])
    writer.groups.add(writers)
    client.force_login(writer)
    url = add_step_url(built)
    data = page_form_data(client, url)
    data.update({"title": "Module", "slug": "module", "action-publish": "action-publish"})
    data["package_upload"] = zip_upload()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, data)
    status_url = response["Location"]
    assert client.get(status_url).status_code == 200
    assert PackageStepPage.objects.get().live
    other = UserFactory(username="autre_redacteur", groups=[])
    other.groups.add(writers)
    client.force_login(other)
    assert client.get(status_url).status_code == 403


@pytest.mark.parametrize(
    ("path", "large"),
    [
        ("/admin/formations/paquets/importer/", True),
        ("/admin/pages/add/learning/packagesteppage/12/", True),
        ("/admin/pages/12/edit/", True),
        ("/admin/pages/add/learning/lessonpage/12/", False),
        ("/admin/pages/12/edit/preview/", False),
        ("/admin/pages/12/delete/", False),
    ],
)
def test_the_step_page_form_takes_package_sized_bodies(settings, path, large):
    """The page form's upload can reach the task threshold (50 Mo) past the site's 12 Mo limit."""
    from cms.middleware import RequestBodyLimitMiddleware

    limit = RequestBodyLimitMiddleware.limit_for(RequestFactory().post(path))
    assert limit == (settings.PACKAGE_UPLOAD_MAX_BYTES if large else settings.MAX_REQUEST_BODY_BYTES)
    if large:
        from learning.packages.forms import inline_max_bytes

        assert limit > inline_max_bytes()


def test_autosave_does_not_queue_a_large_upload(client, built, settings, django_capture_on_commit_callbacks):
    """Wagtail's autosave posts the whole form, the chosen file included, as soon as it
    changes: the page is saved, the file waits for the editor's own « Enregistrer »."""
    settings.PACKAGE_INLINE_MAX_BYTES = 100
    login(client, "superuser")
    url = add_step_url(built)
    data = page_form_data(client, url)
    data.update({"title": "Module", "slug": "module"})
    data["package_upload"] = zip_upload()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, data, headers={"Accept": "application/json"})
    assert response.status_code == 200 and response.json()["success"] is True
    step = PackageStepPage.objects.get()
    assert step.package is None and not PackageImport.objects.exists() and not Package.objects.exists()

    edit = reverse("wagtailadmin_pages:edit", args=[step.pk])  # the editor then publishes
    data = page_form_data(client, edit)
    data.update({"action-publish": "action-publish"})
    data["package_upload"] = zip_upload()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(edit, data)
    row = PackageImport.objects.get()
    assert response["Location"] == reverse("formations_paquets:status", args=[row.uuid])
    step.refresh_from_db()
    assert step.live and step.package is not None
