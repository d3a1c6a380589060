"""The importer: a package into an existing course, into a new course, as a new version
of a step; the same file reused by its SHA-256; a refusal leaves no trace; the import task."""

import io
import os

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from wagtail.models import Page

from cms.storage import private_storage
from learning.choices import AttemptStatus
from learning.models import CourseIndexPage, CoursePage, Package, PackageAttempt, PackageImport, PackageStepPage
from learning.packages import importer, sample
from tests.factories import AgentFactory, UserFactory
from tests.learning.conftest import build_course
from tests.learning.packages.conftest import SCORM12_LAUNCHABLES, scorm2004_launchables


def packages_listing():
    folder = os.path.join(private_storage().location, "packages")
    return sorted(os.listdir(folder)) if os.path.isdir(folder) else []


def stored_files(package):
    return sorted(
        os.path.relpath(os.path.join(folder, name), private_storage().path(package.root))
        for folder, _dirs, names in os.walk(private_storage().path(package.root))
        for name in names
    )


@pytest.fixture
def course(db):
    return build_course()["course"]


@pytest.fixture
def editor(db):
    return UserFactory(username="editeur")


def test_store_package_creates_the_row_and_the_files(db, editor):
    blob = sample.scorm2004_package(suspend_kb=1)
    package, created = importer.store_package(io.BytesIO(blob), user=editor)
    assert created
    assert package.standard == "scorm2004"
    assert package.schema_version == "2004 4th Edition"
    assert package.identifier == "parcours-demo-scorm2004"
    assert package.title == "Premiers secours (SCORM 2004)"
    assert package.launchables == scorm2004_launchables()
    assert package.version == 1 and package.previous is None
    assert package.uploaded_by == editor
    files = sample.scorm2004_files(suspend_kb=1)
    assert package.file_count == len(files)
    assert package.size == sum(len(content.encode()) for content in files.values())
    assert stored_files(package) == sorted(files)
    assert package.manifest["unsupported"] == []


def test_import_into_an_existing_course_publishes_a_step_at_the_end(course, editor):
    result = importer.import_package(io.BytesIO(sample.scorm12_package()), user=editor, course=course)
    step = result.step
    assert result.created
    assert isinstance(step, PackageStepPage)
    assert step.live and not step.has_unpublished_changes
    assert step.title == "Prévention des risques (SCORM 1.2)"
    assert step.slug == "prevention-des-risques-scorm-12"
    assert step.get_parent().pk == course.pk
    assert list(course.get_children().values_list("pk", flat=True))[-1] == step.pk
    assert step.package.launchables == SCORM12_LAUNCHABLES
    assert step.latest_revision.user == editor


def test_the_given_title_and_a_free_slug(course):
    first = importer.import_package(io.BytesIO(sample.scorm12_package()), course=course, title="Module")
    second = importer.import_package(io.BytesIO(sample.scorm12_package()), course=course, title="Module")
    assert (first.step.title, second.step.title) == ("Module", "Module")
    assert first.step.slug != second.step.slug


def test_import_into_a_new_course(db, editor):
    index = build_course()["index"]
    result = importer.import_package(
        io.BytesIO(sample.scorm2004_package(suspend_kb=1)), user=editor, new_course_title="Premiers secours"
    )
    course = result.step.get_parent().specific
    assert isinstance(course, CoursePage)
    assert course.title == "Premiers secours"
    assert course.live and course.self_enrollment
    assert course.get_parent().pk == index.pk
    assert course.summary
    assert [child.pk for child in course.get_children()] == [result.step.pk]


def test_new_course_without_course_index_is_refused_and_writes_nothing(db):
    from cms.services import ensure_home_page

    ensure_home_page()
    assert not CourseIndexPage.objects.exists()
    pages = Page.objects.count()
    with pytest.raises(ValidationError) as caught:
        importer.import_package(io.BytesIO(sample.scorm12_package()), new_course_title="Nouvelle")
    assert "catalogue de formations" in caught.value.message_dict["new_course_title"][0]
    assert Page.objects.count() == pages
    assert not Package.objects.exists()


@pytest.mark.parametrize("kwargs", [{}, {"new_course_title": "X", "course": "course"}])
def test_exactly_one_destination(course, kwargs):
    kwargs = {key: course if value == "course" else value for key, value in kwargs.items()}
    with pytest.raises(ValidationError) as caught:
        importer.import_package(io.BytesIO(sample.scorm12_package()), **kwargs)
    assert "une seule destination" in caught.value.message_dict["course"][0]


def test_a_page_that_is_not_a_course_is_refused(course):
    with pytest.raises(ValidationError) as caught:
        importer.import_package(io.BytesIO(sample.scorm12_package()), course=course.get_parent())
    assert "n'est pas une formation" in caught.value.message_dict["course"][0]


def test_same_sha256_reuses_the_stored_package(course):
    blob = sample.scorm12_package()
    first = importer.import_package(io.BytesIO(blob), course=course)
    listing = packages_listing()
    second = importer.import_package(io.BytesIO(blob), course=course, title="Encore")
    assert first.created and not second.created
    assert second.package.pk == first.package.pk
    assert Package.objects.count() == 1
    assert packages_listing() == listing
    assert second.step.pk != first.step.pk


@pytest.fixture
def step_with_attempt(course):
    result = importer.import_package(io.BytesIO(sample.scorm12_package()), course=course)
    agent = AgentFactory()
    from learning import services

    enrollment, _created = services.self_enroll(user=agent.user, course=course)
    attempt = PackageAttempt.objects.create(
        enrollment=enrollment, step=result.step, package=result.package, started_at=timezone.now(),
        scos={"ITEM-1": {"cmi": {"cmi.core.lesson_location": "2"}}},
    )
    return result, attempt


def test_a_new_version_keeps_old_attempts_on_the_old_package(step_with_attempt, editor):
    first, attempt = step_with_attempt
    revisions = first.step.revisions.count()
    blob = sample.scorm12_package(title="Prévention des risques, édition 2", mastery_score=70)
    result = importer.import_package(io.BytesIO(blob), user=editor, step=first.step)
    assert result.created and not result.unchanged
    new = result.package
    assert (new.version, new.previous_id) == (2, first.package.pk)
    assert new.launchables[0]["mastery_score"] == 70
    step = PackageStepPage.objects.get(pk=first.step.pk)
    assert step.package_id == new.pk
    assert step.live and step.revisions.count() == revisions + 1
    assert step.title == first.step.title  # the editor's title is kept
    attempt.refresh_from_db()
    assert attempt.package_id == first.package.pk
    assert attempt.status == AttemptStatus.IN_PROGRESS
    assert os.path.isdir(private_storage().path(first.package.root))  # old files stay readable


def test_a_new_version_with_the_same_file_is_already_up_to_date(step_with_attempt):
    first, _attempt = step_with_attempt
    revisions = first.step.revisions.count()
    result = importer.import_package(io.BytesIO(sample.scorm12_package()), step=first.step)
    assert result.unchanged and not result.created
    assert result.package.pk == first.package.pk
    assert Package.objects.count() == 1
    assert first.step.revisions.count() == revisions


def test_a_refusal_leaves_no_trace(course):
    files = sample.scorm12_files()
    files["imsmanifest.xml"] = files["imsmanifest.xml"].replace('href="index.html"', 'href="absent.html"', 1)
    before = (Package.objects.count(), Page.objects.count(), packages_listing())
    with pytest.raises(ValidationError) as caught:
        importer.import_package(io.BytesIO(sample.zip_bytes(files)), course=course)
    assert "« absent.html »" in caught.value.message_dict["package"][0]
    assert (Package.objects.count(), Page.objects.count(), packages_listing()) == before


def test_a_database_failure_removes_the_folder_this_call_extracted(course, monkeypatch):
    def broken(*args, **kwargs):
        raise ValidationError({"course": "page refusée"})

    monkeypatch.setattr(importer, "_add_step", broken)
    blob = sample.scorm12_package(title="Unique")
    before = (Package.objects.count(), Page.objects.count(), packages_listing())
    with pytest.raises(ValidationError):
        importer.import_package(io.BytesIO(blob), course=course)
    assert (Package.objects.count(), Page.objects.count(), packages_listing()) == before


def test_a_rolled_back_import_leaves_a_folder_that_the_next_import_replaces(course):
    blob = sample.scorm12_package(title="Annulé")
    with pytest.raises(RuntimeError), transaction.atomic():
        importer.import_package(io.BytesIO(blob), course=course)
        raise RuntimeError("rollback")
    assert not Package.objects.exists()
    result = importer.import_package(io.BytesIO(blob), course=course)
    assert result.created
    assert "index.html" in stored_files(result.package)


def test_progress_is_reported(course):
    calls = []
    importer.import_package(io.BytesIO(sample.scorm12_package()), course=course,
                            progress=lambda done, total: calls.append((done, total)))
    assert calls and calls[-1][0] == calls[-1][1] > 0


# --- the import task -----------------------------------------------------------------------------


def uploaded(blob, name="module.zip"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, blob, content_type="application/zip")


def test_the_task_imports_the_upload_and_deletes_it(course, editor, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        row = importer.queue_upload(uploaded(sample.scorm2004_package(suspend_kb=1)), user=editor, course=course,
                                    title="Secourisme")
    row.refresh_from_db()
    assert row.upload == f"package-uploads/{row.uuid}.zip"
    assert row.step is not None and row.step.title == "Secourisme"
    assert row.error == ""
    assert row.progress == 1.0 and row.finished_at is not None
    assert not private_storage().exists(row.upload)
    assert row.step.get_parent().pk == course.pk


def test_the_task_into_a_new_course(db, django_capture_on_commit_callbacks):
    build_course()
    with django_capture_on_commit_callbacks(execute=True):
        row = importer.queue_upload(uploaded(sample.scorm12_package()), new_course_title="Créée en tâche")
    row.refresh_from_db()
    assert row.step.get_parent().title == "Créée en tâche"


def test_the_task_records_the_refusal_sentence(course, django_capture_on_commit_callbacks):
    blob = sample.zip_bytes({"index.html": "x"})
    with django_capture_on_commit_callbacks(execute=True):
        row = importer.queue_upload(uploaded(blob), course=course)
    row.refresh_from_db()
    assert row.step is None
    assert "imsmanifest.xml à sa racine" in row.error
    assert row.finished_at is not None
    assert not private_storage().exists(row.upload)
    assert not Package.objects.exists()


def test_the_task_records_progress_while_extracting(course, monkeypatch):
    row = importer.queue_upload(uploaded(sample.scorm12_package()), course=course)
    seen = []
    real = importer.import_package

    def spy(file, **kwargs):
        def progress(done, total):
            kwargs_progress(done // 2, total)
            seen.append(PackageImport.objects.get(pk=row.pk).progress)

        kwargs_progress = kwargs["progress"]
        return real(file, **{**kwargs, "progress": progress})

    monkeypatch.setattr(importer, "import_package", spy)
    importer.run_upload(row.uuid)
    assert seen and 0 < seen[-1] < 1
    row.refresh_from_db()
    assert row.progress == 1.0


def test_queue_refuses_what_is_not_a_zip_and_writes_nothing(course):
    with pytest.raises(ValidationError) as caught:
        importer.queue_upload(uploaded(b"%PDF-1.4 not a zip"), course=course)
    assert "n'est pas une archive ZIP" in caught.value.message_dict["package"][0]
    assert not PackageImport.objects.exists()


def test_a_finished_import_is_not_run_again(course):
    row = importer.queue_upload(uploaded(sample.scorm12_package()), course=course)
    PackageImport.objects.filter(pk=row.pk).update(error="déjà échoué", finished_at=timezone.now())
    assert importer.run_upload(row.uuid) is None
    assert not PackageStepPage.objects.exists()
    assert PackageImport.objects.get(pk=row.pk).error == "déjà échoué"
