"""``manage.py import_package``: output, refusals (CommandError, exit code 1, nothing written)."""

import io
import re

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from wagtail.models import Page

from learning.management.commands.import_package import Command
from learning.models import CoursePage, Package, PackageStepPage
from learning.packages import sample
from tests.learning.conftest import build_course


@pytest.fixture
def course(db):
    return build_course()["course"]


def write(tmp_path, blob, name="module.zip"):
    path = tmp_path / name
    path.write_bytes(blob)
    return path


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("import_package", *map(str, args), stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_import_into_a_course_prints_id_url_and_standard(course, tmp_path):
    out, _err = run(write(tmp_path, sample.scorm12_package()), "--course", course.pk)
    step = PackageStepPage.objects.get()
    assert step.get_parent().pk == course.pk and step.live
    match = re.search(r"Étape (\d+) créée : (\S+) \(norme : SCORM 1\.2\)", out)
    assert match, out
    assert int(match.group(1)) == step.pk
    assert match.group(2) == step.get_full_url()
    assert match.group(2).startswith("http")


def test_new_course_with_a_title(db, tmp_path):
    build_course()
    out, _err = run(write(tmp_path, sample.scorm2004_package(suspend_kb=1)), "--new-course", "Secourisme",
                    "--title", "Module interactif")
    step = PackageStepPage.objects.get()
    assert step.title == "Module interactif"
    course = step.get_parent().specific
    assert isinstance(course, CoursePage) and course.title == "Secourisme" and course.self_enrollment and course.live
    assert "(norme : SCORM 2004)" in out
    assert f"Formation {course.pk} créée" in out


def test_reimport_says_the_files_were_reused(course, tmp_path):
    path = write(tmp_path, sample.scorm12_package())
    run(path, "--course", course.pk)
    out, _err = run(path, "--course", course.pk)
    assert "réutilisés" in out
    assert Package.objects.count() == 1 and PackageStepPage.objects.count() == 2


def test_a_refused_package_is_a_command_error_and_writes_nothing(course, tmp_path):
    pages = Page.objects.count()
    with pytest.raises(CommandError) as caught:
        run(write(tmp_path, sample.zip_bytes({"../evil.html": "x", **sample.scorm12_files()})), "--course", course.pk)
    assert "« ../evil.html »" in str(caught.value)
    assert Page.objects.count() == pages and not Package.objects.exists()


def test_unknown_course_is_named(db, tmp_path):
    with pytest.raises(CommandError) as caught:
        run(write(tmp_path, sample.scorm12_package()), "--course", 987654)
    assert "987654" in str(caught.value)
    with pytest.raises(CommandError):
        run(write(tmp_path, sample.scorm12_package()), "--course", 2**70)


def test_missing_file(db, tmp_path):
    with pytest.raises(CommandError) as caught:
        run(tmp_path / "absent.zip", "--new-course", "X")
    assert "introuvable" in str(caught.value)


def test_exit_codes(course, tmp_path, capsys, monkeypatch):
    # run_from_argv closes every connection when it ends: keep the test's transaction alive.
    monkeypatch.setattr("django.db.connections.close_all", lambda: None)
    path = write(tmp_path, b"not a zip at all")
    with pytest.raises(SystemExit) as exited:
        Command().run_from_argv(["manage.py", "import_package", str(path), "--course", str(course.pk)])
    assert exited.value.code == 1
    assert "n'est pas une archive ZIP" in capsys.readouterr().err
    for arguments in ([], ["--course", str(course.pk), "--new-course", "X"]):
        with pytest.raises(SystemExit) as exited:
            Command().run_from_argv(["manage.py", "import_package", str(path), *arguments])
        assert exited.value.code == 2  # argparse: one destination, and only one, is required
    assert not Package.objects.exists()


class FakeBar:
    made = []

    def __init__(self, **kwargs):
        self.kwargs, self.n, self.closed = kwargs, 0, False
        FakeBar.made.append(self)

    def update(self, count):
        self.n += count

    def close(self):
        self.closed = True


@pytest.mark.parametrize("inline_max, disabled", [(10, None), (10**9, True)])
def test_progress_bar_on_stderr_for_large_files_only(course, tmp_path, settings, monkeypatch, inline_max, disabled):
    from learning.management.commands import import_package

    settings.PACKAGE_INLINE_MAX_BYTES = inline_max
    FakeBar.made = []
    monkeypatch.setattr(import_package, "tqdm", FakeBar)
    err = io.StringIO()
    call_command("import_package", str(write(tmp_path, sample.scorm12_package())), "--course", str(course.pk),
                 stdout=io.StringIO(), stderr=err)
    (bar,) = FakeBar.made
    assert bar.kwargs["file"] is err  # stderr, never stdout
    assert bar.kwargs["disable"] is disabled  # None: drawn when stderr is a terminal
    assert bar.n == bar.kwargs["total"] > 0 and bar.closed


def test_sequencing_rules_parcours_does_not_apply_are_named_in_the_output(course, tmp_path):
    files = sample.scorm2004_files(suspend_kb=1)
    files["imsmanifest.xml"] = files["imsmanifest.xml"].replace(
        "<imsss:sequencing><imsss:controlMode",
        "<imsss:sequencing><imsss:sequencingRules><imsss:preConditionRule><imsss:ruleConditions>"
        '<imsss:ruleCondition condition="satisfied"/></imsss:ruleConditions>'
        '<imsss:ruleAction action="skip"/></imsss:preConditionRule></imsss:sequencingRules><imsss:controlMode',
    )
    out, _err = run(write(tmp_path, sample.zip_bytes(files)), "--course", course.pk)
    assert "Étape" in out
    assert "que Parcours n'applique pas encore" in out and "règles de séquencement" in out
