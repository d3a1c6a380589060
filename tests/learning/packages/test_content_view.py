"""The package content view (``learning:package_content``): who reads a package's files,
their content types, range requests, caching, path traversal, and the relaxed policy that
applies to this view alone."""

import re

import pytest
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cms.storage import private_storage
from learning import services
from learning.models import Enrollment, PackageAttempt
from learning.package_views import content_type_for, parse_range, safe_package_path
from learning.packages import access
from learning.packages.access import can_read_package
from tests.factories import AgentFactory, UserFactory
from tests.learning.conftest import build_course
from tests.learning.packages.conftest import (
    SCORM12_LAUNCHABLES,
    SCORM12_ORGANIZATION,
    add_package_step,
    store_package,
)

VIDEO = bytes(range(256)) * 400  # 102,400 bytes with a recognisable pattern
MEDIA_FILES = {
    "imsmanifest.xml": "<manifest/>",
    "index.html": "<!DOCTYPE html><title>Médias</title><p>été</p>",
    "media/clip.mp4": VIDEO,
    "media/captions.vtt": "WEBVTT\n\n00:00.000 --> 00:01.000\nBonjour\n",
    "fonts/font.woff2": b"wOF2\x00\x01binary",
    "scripts/app.js": "window.x = 1;",
    "scripts/module.mjs": "export const x = 1;",
    "styles/site.css": "body{color:#161616}",
    "data/config.json": '{"a": 1}',
    "images/logo.svg": '<svg xmlns="http://www.w3.org/2000/svg"/>',
    "wasm/engine.wasm": b"\x00asm\x01\x00\x00\x00",
    "files/blob.unknownext": b"\x01\x02\x03",
    "dossier avec espace/é.html": "<p>accents</p>",
}


def url(package, path):
    return reverse("learning:package_content", kwargs={"package_uuid": package.uuid, "path": path})


def body(response):
    return b"".join(response.streaming_content) if response.streaming else response.content


@pytest.fixture
def media_package(scorm12_course):
    """A package with every kind of file, as a second step of the SCORM 1.2 course."""
    package = store_package(
        MEDIA_FILES, standard="scorm12", launchables=SCORM12_LAUNCHABLES, organization=SCORM12_ORGANIZATION,
        title="Médias",
    )
    add_package_step(scorm12_course["course"], package, title="Médias", slug="medias")
    return package


@pytest.fixture
def people(scorm12_course):
    enrolled = AgentFactory(user__username="enrolled")
    services.self_enroll(user=enrolled.user, course=scorm12_course["course"])
    return {
        "enrolled": enrolled.user,
        "stranger": AgentFactory(user__username="stranger").user,
        "editor": UserFactory(username="editor", groups=["Training editors"]),
        "hr": UserFactory(username="hr", groups=["HR"]),
        "superuser": UserFactory(username="root", is_superuser=True),
        "no_agent": UserFactory(username="noagent"),
    }


# --- readers ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "status"),
    [("enrolled", 200), ("editor", 200), ("hr", 200), ("superuser", 200), ("stranger", 404), ("no_agent", 404)],
)
def test_readers_matrix(client, scorm12_package, people, who, status):
    client.force_login(people[who])
    response = client.get(url(scorm12_package, "index.html"))
    assert response.status_code == status
    if status == 200:
        page = body(response)
        assert b"LMSInitialize" not in page  # the page itself, not the script
        assert "Prévention des risques".encode() in page


def test_anonymous_is_sent_to_the_login_page(client, scorm12_package):
    target = url(scorm12_package, "index.html")
    response = client.get(target)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert "next=" in response["Location"]


def test_unknown_package_and_unknown_file_are_404(client, scorm12_package, people):
    import uuid

    client.force_login(people["hr"])
    assert client.get(url(type("P", (), {"uuid": uuid.uuid4()}), "index.html")).status_code == 404
    assert client.get(url(scorm12_package, "missing.html")).status_code == 404
    assert client.get(url(scorm12_package, "sco1")).status_code == 404


def test_a_stranger_gets_the_same_404_for_an_existing_and_a_missing_file(client, scorm12_package, people):
    client.force_login(people["stranger"])
    existing = client.get(url(scorm12_package, "index.html"))
    missing = client.get(url(scorm12_package, "nope.html"))
    assert existing.status_code == missing.status_code == 404
    def neutral(content):  # the page names the path asked and carries a fresh CSRF token
        return re.sub(rb'name="csrfmiddlewaretoken" value="[^"]*"', b"", content.replace(b"index.html", b"nope.html"))

    assert neutral(existing.content) == neutral(missing.content)


def test_an_enrolment_in_any_status_keeps_the_package_readable(client, scorm12_course, scorm12_package, people):
    Enrollment.objects.filter(agent__user=people["enrolled"]).update(status="failed")
    client.force_login(people["enrolled"])
    assert client.get(url(scorm12_package, "index.html")).status_code == 200


def test_an_attempt_keeps_an_old_version_readable(client, scorm12_course, scorm12_package, people):
    """The step now plays version 2; the agent's attempt began on version 1."""
    from learning.packages import sample

    agent_user = people["enrolled"]
    attempt = services.launch_package(user=agent_user, step=scorm12_course["step"])
    assert attempt.package_id == scorm12_package.pk
    newer = store_package(
        sample.scorm12_files(suspend_kb=2, title="Version 2"), standard="scorm12", launchables=SCORM12_LAUNCHABLES,
        organization=SCORM12_ORGANIZATION, title="Version 2", version=2, previous=scorm12_package,
    )
    step = scorm12_course["step"]
    step.package = newer
    step.save_revision().publish()
    cache.clear()
    client.force_login(agent_user)
    assert PackageAttempt.objects.filter(package=scorm12_package).exists()
    assert client.get(url(scorm12_package, "index.html")).status_code == 200
    assert client.get(url(newer, "index.html")).status_code == 200


def test_can_read_package_caches_positive_answers_only(scorm12_package, people, django_assert_num_queries):
    stranger = people["stranger"]
    assert can_read_package(stranger, scorm12_package) is False
    assert cache.get(access._cache_key(stranger.pk, scorm12_package.pk)) is None
    enrolled = people["enrolled"]
    assert can_read_package(enrolled, scorm12_package) is True
    assert cache.get(access._cache_key(enrolled.pk, scorm12_package.pk)) is True
    fresh = type(enrolled).objects.get(pk=enrolled.pk)
    with django_assert_num_queries(1):  # the database cache's read only
        assert can_read_package(fresh, scorm12_package) is True
    access.forget_reader(enrolled, scorm12_package)
    assert cache.get(access._cache_key(enrolled.pk, scorm12_package.pk)) is None


def test_can_read_package_refuses_anonymous_and_missing(scorm12_package):
    from django.contrib.auth.models import AnonymousUser

    assert can_read_package(AnonymousUser(), scorm12_package) is False
    assert can_read_package(None, scorm12_package) is False
    assert can_read_package(UserFactory(is_superuser=True), None) is False


# --- content types ---------------------------------------------------------------------------


CONTENT_TYPES = {
    "index.html": "text/html",
    "media/clip.mp4": "video/mp4",
    "media/captions.vtt": "text/vtt; charset=utf-8",
    "fonts/font.woff2": "font/woff2",
    "scripts/app.js": "text/javascript; charset=utf-8",
    "scripts/module.mjs": "text/javascript; charset=utf-8",
    "styles/site.css": "text/css; charset=utf-8",
    "data/config.json": "application/json; charset=utf-8",
    "images/logo.svg": "image/svg+xml; charset=utf-8",
    "wasm/engine.wasm": "application/wasm",
    "files/blob.unknownext": "application/octet-stream",
    "dossier avec espace/é.html": "text/html",
}


def test_content_types_and_bytes(client, media_package, people):
    client.force_login(people["enrolled"])
    for path, expected in CONTENT_TYPES.items():
        response = client.get(url(media_package, path))
        assert response.status_code == 200, path
        assert response["Content-Type"] == expected, path
        received = body(response)
        data = MEDIA_FILES[path]
        assert received == (data.encode() if isinstance(data, str) else data), path
        assert response["Content-Length"] == str(len(received)), path


def test_content_type_for_is_case_insensitive_and_has_defaults():
    assert content_type_for("A/B.JS") == "text/javascript; charset=utf-8"
    assert content_type_for("clip.MP4") == "video/mp4"
    assert content_type_for("noextension") == "application/octet-stream"
    assert content_type_for("image.png") == "image/png"


# --- ranges, caching ----------------------------------------------------------------------------


RANGES = [
    ("bytes=0-9", 0, 9),
    ("bytes=100-", 100, len(VIDEO) - 1),
    ("bytes=-16", len(VIDEO) - 16, len(VIDEO) - 1),
    ("bytes=1000-1999", 1000, 1999),
    ("bytes=102000-999999", 102000, len(VIDEO) - 1),
]


def test_single_range_answers_206_with_the_exact_bytes(client, media_package, people):
    client.force_login(people["enrolled"])
    for header, start, end in RANGES:
        response = client.get(url(media_package, "media/clip.mp4"), HTTP_RANGE=header)
        assert response.status_code == 206, header
        assert response["Content-Range"] == f"bytes {start}-{end}/{len(VIDEO)}"
        assert response["Content-Length"] == str(end - start + 1)
        assert response["Accept-Ranges"] == "bytes"
        assert response["Content-Type"] == "video/mp4"
        assert body(response) == VIDEO[start:end + 1], header


def test_unsatisfiable_range_answers_416(client, media_package, people):
    client.force_login(people["enrolled"])
    for header in ("bytes=102400-", "bytes=999999-1000000", "bytes=-0"):
        response = client.get(url(media_package, "media/clip.mp4"), HTTP_RANGE=header)
        assert response.status_code == 416, header
        assert response["Content-Range"] == f"bytes */{len(VIDEO)}"


def test_several_or_invalid_ranges_answer_the_whole_file(client, media_package, people):
    client.force_login(people["enrolled"])
    for header in ("bytes=0-1,5-9", "items=0-5", "bytes=9-2", "bytes=abc", "bytes=-"):
        response = client.get(url(media_package, "media/clip.mp4"), HTTP_RANGE=header)
        assert response.status_code == 200, header
        assert body(response) == VIDEO
        assert response["Accept-Ranges"] == "bytes"


def test_if_range_with_another_etag_sends_the_whole_file(client, media_package, people):
    client.force_login(people["enrolled"])
    first = client.get(url(media_package, "media/clip.mp4"))
    etag = first["ETag"]
    same = client.get(url(media_package, "media/clip.mp4"), HTTP_RANGE="bytes=0-3", HTTP_IF_RANGE=etag)
    assert same.status_code == 206 and body(same) == VIDEO[:4]
    other = client.get(url(media_package, "media/clip.mp4"), HTTP_RANGE="bytes=0-3", HTTP_IF_RANGE='"other"')
    assert other.status_code == 200 and body(other) == VIDEO


def test_parse_range_unit():
    assert parse_range(None, 10) is None
    assert parse_range("bytes=0-0", 10) == (0, 0)
    assert parse_range("bytes=-20", 10) == (0, 9)
    assert parse_range("bytes=10-", 10) == "unsatisfiable"
    assert parse_range("bytes=0-", 0) == "unsatisfiable"


def test_caching_headers_and_304(client, media_package, people):
    client.force_login(people["enrolled"])
    response = client.get(url(media_package, "scripts/app.js"))
    assert response["Cache-Control"] == "private, max-age=31536000, immutable"
    assert response["ETag"].startswith('"') and response["ETag"].endswith('"')
    assert response["Last-Modified"].endswith("GMT")
    again = client.get(url(media_package, "scripts/app.js"), HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == response["ETag"]
    assert again["Cache-Control"] == "private, max-age=31536000, immutable"
    weak = client.get(url(media_package, "scripts/app.js"), HTTP_IF_NONE_MATCH=f'"x", W/{response["ETag"]}')
    assert weak.status_code == 304
    changed = client.get(url(media_package, "scripts/app.js"), HTTP_IF_NONE_MATCH='"something-else"')
    assert changed.status_code == 200
    other_file = client.get(url(media_package, "styles/site.css"))
    assert other_file["ETag"] != response["ETag"]


def test_a_stranger_gets_404_even_with_a_matching_etag(client, media_package, people):
    client.force_login(people["enrolled"])
    etag = client.get(url(media_package, "scripts/app.js"))["ETag"]
    client.force_login(people["stranger"])
    assert client.get(url(media_package, "scripts/app.js"), HTTP_IF_NONE_MATCH=etag).status_code == 404


def test_head_gives_the_headers_without_the_body(client, media_package, people):
    client.force_login(people["enrolled"])
    response = client.head(url(media_package, "media/clip.mp4"))
    assert response.status_code == 200
    assert response["Content-Length"] == str(len(VIDEO))
    assert response.content == b""


def test_other_methods_are_refused(client, media_package, people):
    client.force_login(people["enrolled"])
    assert client.post(url(media_package, "index.html")).status_code == 405


def test_a_large_file_is_streamed(client, media_package, people):
    client.force_login(people["enrolled"])
    response = client.get(url(media_package, "media/clip.mp4"))
    assert response.streaming
    ranged = client.get(url(media_package, "media/clip.mp4"), HTTP_RANGE="bytes=10-")
    assert ranged.streaming


# --- path traversal -------------------------------------------------------------------------------


@pytest.fixture
def secret(scorm12_package):
    """A private file beside the package folder, that no traversal may reach."""
    storage = private_storage()
    name = "packages/secret.txt"
    if storage.exists(name):
        storage.delete(name)
    storage.save(name, ContentFile(b"top secret"))
    return name


TRAVERSALS = [
    "../secret.txt",
    "../../packages/secret.txt",
    "a/../../secret.txt",
    "index.html/../../secret.txt",
    "%2e%2e/secret.txt",
    "..%2fsecret.txt",
    "..\\secret.txt",
    "sco\\..\\..\\secret.txt",
    "/etc/passwd",
    "//etc/passwd",
    "C:/Windows/win.ini",
    "index.html%00.png",
    "./",
    ".",
    "..",
]


def test_path_traversal_attempts_are_404(client, scorm12_package, people, secret):
    client.force_login(people["hr"])
    for path in TRAVERSALS:
        response = client.get(f"/formation/paquets/{scorm12_package.uuid}/{path}")
        assert response.status_code == 404, path
        assert b"top secret" not in response.content


def test_safe_package_path_unit():
    assert safe_package_path("a/./b.html") == "a/b.html"
    assert safe_package_path("a//b.html") == "a/b.html"
    assert safe_package_path("index.html") == "index.html"
    for bad in ("", "..", "../x", "a/../../x", "a/..", "/x", "a\\b", "a\x00b", "C:/x", "c:x"):
        assert safe_package_path(bad) is None, bad


# --- policies ---------------------------------------------------------------------------------------


def test_the_content_view_has_the_relaxed_policy(client, scorm12_package, people):
    client.force_login(people["enrolled"])
    response = client.get(url(scorm12_package, "index.html"))
    policy = response["Content-Security-Policy"]
    directives = {part.split()[0]: part.split()[1:] for part in policy.split("; ")}
    assert directives["frame-ancestors"] == ["'self'"]
    assert "'unsafe-inline'" in directives["script-src"]
    assert "'unsafe-eval'" in directives["script-src"]
    assert "'unsafe-inline'" in directives["style-src"]
    assert "'self'" in directives["connect-src"]
    assert response["X-Frame-Options"] == "SAMEORIGIN"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_the_rest_of_the_site_keeps_the_strict_policy(client, scorm12_course, scorm12_package, people):
    client.force_login(people["enrolled"])
    for target in ("/", scorm12_course["step"].url, scorm12_course["course"].url):
        response = client.get(target)
        assert response.status_code == 200, target
        assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
        assert "'unsafe-eval'" not in response["Content-Security-Policy"]
        assert response["X-Frame-Options"] == "DENY"
    # a refusal of the content view is an ordinary page: strict too
    client.force_login(people["stranger"])
    refused = client.get(url(scorm12_package, "index.html"))
    assert refused.status_code == 404
    assert "frame-ancestors 'none'" in refused["Content-Security-Policy"]
    assert refused["X-Frame-Options"] == "DENY"


# --- queries ------------------------------------------------------------------------------------------


def _queries(client, target):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(target)
        body(response)
    assert response.status_code == 200
    return len(captured)


def test_query_count_does_not_grow_with_files_or_enrolments(client, scorm12_course, scorm12_package, media_package):
    big_files = {f"assets/file{n:03d}.js": f"var n = {n};" for n in range(200)}
    big_files["index.html"] = "<p>gros paquet</p>"
    big = store_package(
        big_files, standard="scorm12", launchables=SCORM12_LAUNCHABLES, organization=SCORM12_ORGANIZATION,
        title="Gros paquet",
    )
    add_package_step(scorm12_course["course"], big, title="Gros", slug="gros")

    one = AgentFactory(user__username="one")
    services.self_enroll(user=one.user, course=scorm12_course["course"])
    many = AgentFactory(user__username="many")
    for n in range(8):
        other = build_course(slug=f"autre-{n}", title=f"Autre {n}")
        services.self_enroll(user=many.user, course=other["course"])
    services.self_enroll(user=many.user, course=scorm12_course["course"])

    client.force_login(one.user)
    cache.clear()
    cold_small = _queries(client, url(scorm12_package, "index.html"))
    cache.clear()
    cold_big = _queries(client, url(big, "assets/file150.js"))
    warm = [_queries(client, url(big, f"assets/file{n:03d}.js")) for n in range(5)]
    assert cold_small == cold_big
    assert len(set(warm)) == 1 and warm[0] <= cold_big

    client.force_login(many.user)
    cache.clear()
    assert _queries(client, url(big, "assets/file150.js")) == cold_big
