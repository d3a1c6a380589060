"""bench/packages.py at a tiny size: the generated package is what it claims and imports,
and the commit bench drives every attempt to a completed enrolment (no timing asserted)."""

import argparse
import importlib.util
import zipfile
from pathlib import Path

import pytest

from learning.choices import EnrollmentStatus, PackageStandard
from learning.models import Enrollment, Package, PackageAttempt
from learning.packages.importer import store_package

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_packages", ROOT / "bench" / "packages.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_generated_package_has_the_files_and_size_asked_and_imports(bench, tmp_path, db):
    path = tmp_path / "gros-paquet.zip"
    written, files = bench.write_large_package(path, files=24, megabytes=1)
    with zipfile.ZipFile(path) as archive:
        infos = archive.infolist()
    assert files == len(infos) == 24
    assert sum(info.file_size for info in infos) == written
    assert abs(written - 1_000_000) < 50_000
    assert path.stat().st_size > written * 0.8  # random bytes: incompressible, the ratio check passes
    assert any(info.filename.endswith(".html") and info.compress_size < info.file_size / 5 for info in infos[3:])
    with open(path, "rb") as handle:
        package, created = store_package(handle)
    assert created and package.standard == PackageStandard.SCORM12
    assert package.file_count == 24 and package.size == written
    with open(path, "rb") as handle:
        assert store_package(handle) == (package, False)


@pytest.mark.parametrize("via", ["http", "service"])
def test_the_commit_bench_completes_every_enrolment(bench, db, capsys, via):
    args = argparse.Namespace(attempts=3, commits=3, suspend_kb=70, via=via)
    bench.bench_commits(args)
    out = capsys.readouterr().out
    assert "9 commits via" in out
    assert "enrolments completed by the last commit: 3 of 3" in out
    attempts = PackageAttempt.objects.filter(enrollment__course__slug=bench.COURSE_SLUG)
    assert attempts.count() == 3 and attempts.filter(last_seq=3).count() == 3
    assert Enrollment.objects.filter(course__slug=bench.COURSE_SLUG, status=EnrollmentStatus.COMPLETED).count() == 3
    stored = attempts.first().scos
    (sco_data,) = stored.values()
    assert len(sco_data["cmi"]["cmi.suspend_data"]) == len("screen=1;") + 70 * 1024
    # A second run starts again from fresh enrolments, reusing the users and the course.
    bench.bench_commits(args)
    assert PackageAttempt.objects.filter(enrollment__course__slug=bench.COURSE_SLUG).count() == 3
    assert Package.objects.count() == 1


def test_the_options_refuse_what_cannot_run(bench):
    with pytest.raises(SystemExit):
        bench.parse_args(["--commits", "1"])
    with pytest.raises(SystemExit):
        bench.parse_args(["--files", "3"])
    args = bench.parse_args(["--files", "40", "--mb", "4", "--attempts", "20"])
    assert (args.files, args.mb, args.attempts, args.commits, args.via) == (40, 4.0, 20, 5, "http")
