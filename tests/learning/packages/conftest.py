"""Fixtures for the package tests: the project's sample packages stored as the importer
stores them (files under ``packages/<sha256>/`` in private storage, a ``Package`` row),
and published courses whose only step plays them.

These fixtures write the rows directly, without the importer, so the runtime, the
player and the content view are tested on their own; the importer's tests import the
same samples through ``learning.packages.importer``.
"""

import hashlib

import pytest
from django.core.files.base import ContentFile

from cms.storage import private_storage
from learning.models import Package, PackageStepPage
from learning.packages import sample
from tests.learning.conftest import build_course, publish

SCORM12_LAUNCHABLES = [
    {
        "identifier": "ITEM-1", "title": "Prévention des risques (SCORM 1.2)", "href": "index.html",
        "scorm_type": "sco", "mastery_score": 80, "scaled_passing_score": None, "completion_threshold": None,
        "launch_data": "", "max_time_allowed": "", "time_limit_action": "",
    }
]
SCORM12_ORGANIZATION = [{"identifier": "ITEM-1", "title": "Prévention des risques (SCORM 1.2)", "sco": "ITEM-1", "children": []}]


def scorm2004_launchables(count=3):
    titles = [title for title, _screens in sample.DEFAULT_SCOS]
    return [
        {
            "identifier": f"ITEM-{n}", "title": titles[n - 1], "href": f"sco{n}/index.html", "scorm_type": "sco",
            "mastery_score": None, "scaled_passing_score": 0.8, "completion_threshold": None,
            "launch_data": f"sco={n}", "max_time_allowed": "", "time_limit_action": "",
        }
        for n in range(1, count + 1)
    ]


def scorm2004_organization(count=3):
    return [
        {"identifier": item["identifier"], "title": item["title"], "sco": item["identifier"], "children": []}
        for item in scorm2004_launchables(count)
    ]


def store_package(files, *, standard, launchables, organization, title, version=1, previous=None, user=None):
    """Write ``files`` ({path: str | bytes}) where the importer would and create the row."""
    blob = sample.zip_bytes(files)
    sha = hashlib.sha256(blob).hexdigest()
    existing = Package.objects.filter(sha256=sha).first()
    if existing is not None:
        return existing
    storage = private_storage()
    size = 0
    for path, content in files.items():
        data = content.encode() if isinstance(content, str) else content
        size += len(data)
        name = f"packages/{sha}/{path}"
        if storage.exists(name):
            storage.delete(name)
        storage.save(name, ContentFile(data))
    return Package.objects.create(
        standard=standard, schema_version="1.2" if standard == "scorm12" else "2004 4th Edition",
        identifier=f"sample-{standard}", title=title, version=version, previous=previous,
        manifest={}, organization=organization, launchables=launchables, size=size, file_count=len(files),
        sha256=sha, uploaded_by=user,
    )


def add_package_step(course, package, *, title="Module", slug="module", **fields):
    step = PackageStepPage(title=title, slug=slug, package=package, **fields)
    course.add_child(instance=step)
    return publish(step)


@pytest.fixture
def scorm12_package(db):
    files = sample.scorm12_files(suspend_kb=1)
    return store_package(
        files, standard="scorm12", launchables=SCORM12_LAUNCHABLES, organization=SCORM12_ORGANIZATION,
        title="Prévention des risques (SCORM 1.2)",
    )


@pytest.fixture
def scorm2004_package(db):
    files = sample.scorm2004_files(suspend_kb=1)
    return store_package(
        files, standard="scorm2004", launchables=scorm2004_launchables(), organization=scorm2004_organization(),
        title="Premiers secours (SCORM 2004)",
    )


@pytest.fixture
def scorm12_course(scorm12_package):
    """A published self-enrolment course whose only step plays the SCORM 1.2 sample."""
    built = build_course(slug="scorm12", title="Prévention (SCORM 1.2)")
    course = built["course"]
    for step in [*built["lessons"], built["quiz"]]:
        step.delete()
    course.refresh_from_db()
    built["step"] = add_package_step(course, scorm12_package, title="Module SCORM 1.2", slug="module-12")
    return built


@pytest.fixture
def scorm2004_course(scorm2004_package):
    """A published self-enrolment course whose only step plays the multi-SCO 2004 sample."""
    built = build_course(slug="scorm2004", title="Premiers secours (SCORM 2004)")
    course = built["course"]
    for step in [*built["lessons"], built["quiz"]]:
        step.delete()
    course.refresh_from_db()
    built["step"] = add_package_step(course, scorm2004_package, title="Module SCORM 2004", slug="module-2004")
    return built
