"""The player page (``learning:package_player``), the launch form (``learning:package_launch``)
and the vendored runtime they load."""

import hashlib
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from learning import services
from learning.models import Enrollment, PackageAttempt
from tests.factories import AgentFactory, UserFactory

VENDOR = Path(settings.BASE_DIR) / "learning" / "static" / "learning" / "vendor" / "scorm-again"


class Scripts(HTMLParser):
    """Every <script> of a page: its attributes and whether it has a body."""

    def __init__(self):
        super().__init__()
        self.scripts = []
        self._open = None

    def handle_starttag(self, tag, attrs):
        if tag == "script":
            self._open = {"attrs": dict(attrs), "body": ""}
            self.scripts.append(self._open)

    def handle_data(self, data):
        if self._open is not None:
            self._open["body"] += data

    def handle_endtag(self, tag):
        if tag == "script":
            self._open = None


def scripts_of(html):
    parser = Scripts()
    parser.feed(html)
    return parser.scripts


def player_data(response):
    match = re.search(r'<script id="package-player-data" type="application/json">(.*?)</script>',
                      response.content.decode(), re.S)
    assert match, "the player data is given as json_script"
    return json.loads(match.group(1))


@pytest.fixture
def learner(db):
    return AgentFactory(user__username="learner").user


@pytest.fixture
def attempt12(scorm12_course, learner):
    return services.launch_package(user=learner, step=scorm12_course["step"])


@pytest.fixture
def attempt2004(scorm2004_course, learner):
    return services.launch_package(user=learner, step=scorm2004_course["step"])


def player_url(attempt, sco=None):
    url = reverse("learning:package_player", args=[attempt.pk])
    return f"{url}?sco={sco}" if sco else url


# --- the player page ------------------------------------------------------------------------------


def test_the_owner_gets_the_player_with_its_data(client, learner, attempt12, scorm12_course, scorm12_package):
    client.force_login(learner)
    response = client.get(player_url(attempt12))
    assert response.status_code == 200
    html = response.content.decode()
    data = player_data(response)
    assert data["attempt"] == attempt12.pk
    assert data["standard"] == "scorm12"
    assert data["sco"] == "ITEM-1"
    assert data["mode"] == "normal"
    assert data["content_url"] == reverse(
        "learning:package_content", kwargs={"package_uuid": scorm12_package.uuid, "path": "index.html"}
    )
    assert data["cmi"]["cmi.core.entry"] == "ab-initio"
    assert data["cmi"]["cmi.core.lesson_mode"] == "normal"
    assert data["commit_url"] == reverse("api-package-commit", args=[attempt12.pk])
    assert data["beacon_url"].startswith(reverse("api-package-beacon", args=[attempt12.pk]) + "?token=")
    assert data["attempt_url"] == reverse("api-package-attempt", args=[attempt12.pk])
    assert data["last_seq"] == 0
    assert data["step_url"] == scorm12_course["step"].url
    assert data["choice_urls"] == {"ITEM-1": player_url(attempt12, "ITEM-1")}
    assert "cmi.core.entry" in data["read_only"] and "cmi.entry" in data["read_only"]
    assert data["messages"]["saved"] == "Enregistré"
    assert data["messages"]["failed"] == "Échec de l'enregistrement, nouvel essai…"
    assert data["status_labels"]["in_progress"] == "En cours"
    # the page itself: breadcrumb, TOC, iframe without src (player.js sets it), status, exit
    assert '<nav class="breadcrumb"' in html and scorm12_course["course"].title in html
    assert 'id="package-frame"' in html
    frame = re.search(r"<iframe [^>]*>", html).group(0)
    assert "src=" not in frame
    assert 'title="Contenu du module : Prévention des risques (SCORM 1.2)"' in frame
    assert 'role="status"' in html
    assert f'href="{scorm12_course["step"].url}">Quitter le module</a>' in html
    assert 'aria-current="page">Prévention des risques (SCORM 1.2)</a>' in html
    assert "Tentative 1" in html


def test_the_player_has_no_inline_script_and_loads_the_right_runtime(client, learner, attempt12, attempt2004):
    client.force_login(learner)
    for attempt, wanted, unwanted in ((attempt12, "scorm12.min.js", "scorm2004.min.js"),
                                      (attempt2004, "scorm2004.min.js", "scorm12.min.js")):
        response = client.get(player_url(attempt))
        scripts = scripts_of(response.content.decode())
        sources = [s["attrs"]["src"] for s in scripts if "src" in s["attrs"]]
        inline = [s for s in scripts if "src" not in s["attrs"]]
        assert all(s["attrs"].get("type") == "application/json" for s in inline), inline
        assert any(src.endswith(f"learning/vendor/scorm-again/{wanted}") for src in sources)
        assert not any(src.endswith(unwanted) for src in sources)
        assert sources[-1].endswith("learning/player.js")  # after the runtime


def test_the_player_page_keeps_the_strict_policy_and_may_frame_the_content(client, learner, attempt12):
    client.force_login(learner)
    response = client.get(player_url(attempt12))
    policy = {part.split()[0]: part.split()[1:] for part in response["Content-Security-Policy"].split("; ")}
    assert policy["script-src"] == ["'self'"]
    assert "'self'" in policy["frame-src"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert response["X-Frame-Options"] == "DENY"


def test_multi_sco_flow_links_and_toc(client, learner, attempt2004):
    client.force_login(learner)
    response = client.get(player_url(attempt2004, "ITEM-2"))
    assert response.status_code == 200
    html = response.content.decode()
    data = player_data(response)
    assert data["sco"] == "ITEM-2"
    assert data["previous_url"] == player_url(attempt2004, "ITEM-1")
    assert data["next_url"] == player_url(attempt2004, "ITEM-3")
    assert data["cmi"]["cmi.launch_data"] == "sco=2"
    assert set(data["choice_urls"]) == {"ITEM-1", "ITEM-2", "ITEM-3"}
    # plain links for flow navigation (work without JS)
    assert f'rel="prev" href="{player_url(attempt2004, "ITEM-1").replace("?", "?")}"' in html.replace("&amp;", "&")
    assert 'rel="next"' in html
    assert re.search(r'<a href="[^"]*sco=ITEM-2" aria-current="page">Les gestes qui sauvent</a>', html)
    assert html.count('aria-current="page"') == 2  # the breadcrumb's last item and the TOC's current SCO
    first = client.get(player_url(attempt2004, "ITEM-1")).content.decode()
    assert 'rel="prev"' not in first
    last = client.get(player_url(attempt2004, "ITEM-3")).content.decode()
    assert 'rel="next"' not in last


@pytest.mark.parametrize("who", ["other_agent", "hr", "editor"])
def test_someone_elses_attempt_is_404(client, attempt12, who):
    users = {
        "other_agent": lambda: AgentFactory(user__username="other").user,
        "hr": lambda: AgentFactory(user__username="hr", user__groups=["HR"]).user,
        "editor": lambda: UserFactory(username="editor", groups=["Training editors"]),
    }
    client.force_login(users[who]())
    assert client.get(player_url(attempt12)).status_code == 404


def test_anonymous_is_sent_to_login_and_unknown_ids_are_404(client, learner, attempt12):
    response = client.get(player_url(attempt12))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    client.force_login(learner)
    assert client.get(reverse("learning:package_player", args=[attempt12.pk + 1000])).status_code == 404
    assert client.get(player_url(attempt12, "NOPE")).status_code == 404
    assert client.get("/formation/paquets/tentatives/99999999999999999999999/").status_code == 404


def test_a_finished_attempt_plays_in_review_mode(client, learner, attempt12):
    services.commit_package(user=learner, attempt_id=attempt12.pk, data={
        "sco": "ITEM-1", "seq": 1, "terminate": True,
        "cmi": {"cmi.core.lesson_status": "passed", "cmi.core.score.raw": "90", "cmi.core.lesson_location": "3"},
    })
    client.force_login(learner)
    response = client.get(player_url(attempt12))
    data = player_data(response)
    assert data["mode"] == "review"
    assert data["cmi"]["cmi.core.lesson_mode"] == "review"
    assert data["last_seq"] == 1
    assert "Mode révision" in response.content.decode()


def test_player_queries_do_not_grow_with_the_scos(client, learner, attempt12, attempt2004):
    client.force_login(learner)
    client.get(player_url(attempt12))  # warm the caches (site root, theme settings)
    with CaptureQueriesContext(connection) as one:
        assert client.get(player_url(attempt12)).status_code == 200
    with CaptureQueriesContext(connection) as three:
        assert client.get(player_url(attempt2004)).status_code == 200
    assert len(three) == len(one)


# --- the launch form ------------------------------------------------------------------------------


def launch_url(step):
    return reverse("learning:package_launch", args=[step.pk])


def test_launch_self_enrols_opens_an_attempt_and_goes_to_the_player(client, learner, scorm12_course):
    client.force_login(learner)
    response = client.post(launch_url(scorm12_course["step"]))
    attempt = PackageAttempt.objects.get(enrollment__agent__user=learner)
    assert response.status_code == 302
    assert response["Location"] == player_url(attempt)
    assert Enrollment.objects.filter(agent__user=learner, course=scorm12_course["course"]).count() == 1
    again = client.post(launch_url(scorm12_course["step"]))
    assert again["Location"] == player_url(attempt)  # resumes the open attempt
    assert PackageAttempt.objects.count() == 1


def test_launch_refusals_come_back_as_messages(client, scorm12_course):
    course = scorm12_course["course"]
    course.self_enrollment = False
    course.save_revision().publish()
    agent = AgentFactory(user__username="notenrolled").user
    client.force_login(agent)
    response = client.post(launch_url(scorm12_course["step"]), follow=True)
    assert response.redirect_chain[0][0] == scorm12_course["step"].url
    assert "assignation" in response.content.decode()
    assert not PackageAttempt.objects.exists()

    no_agent = UserFactory(username="noagent")
    client.force_login(no_agent)
    response = client.post(launch_url(scorm12_course["step"]), follow=True)
    assert "fiche agent" in response.content.decode()


def test_launch_needs_post_login_and_csrf(scorm12_course, learner):
    client = Client(enforce_csrf_checks=True)
    step = scorm12_course["step"]
    anonymous = client.post(launch_url(step))
    assert anonymous.status_code == 403  # CSRF first, even anonymous
    relaxed = Client()
    anonymous = relaxed.post(launch_url(step))
    assert anonymous.status_code == 302 and anonymous["Location"].startswith(reverse("login"))
    relaxed.force_login(learner)
    assert relaxed.get(launch_url(step)).status_code == 405
    client.force_login(learner)
    assert client.post(launch_url(step)).status_code == 403
    assert not PackageAttempt.objects.exists()


def test_launch_of_something_else_is_404(client, learner, scorm12_course):
    client.force_login(learner)
    assert client.post(reverse("learning:package_launch", args=[scorm12_course["course"].pk])).status_code == 404
    assert client.post(reverse("learning:package_launch", args=[987654])).status_code == 404
    step = scorm12_course["step"]
    step.unpublish()
    assert client.post(launch_url(step)).status_code == 404


# --- the vendored runtime -------------------------------------------------------------------------


def test_the_vendored_files_match_their_readme():
    readme = (VENDOR / "README.md").read_text()
    assert "3.4.3" in readme
    for name in ("scorm12.min.js", "scorm2004.min.js", "LICENSE"):
        digest = hashlib.sha256((VENDOR / name).read_bytes()).hexdigest()
        assert digest in readme, name
    assert finders.find("learning/vendor/scorm-again/scorm12.min.js")
    assert finders.find("learning/player.js")


def test_the_suspend_data_limit_is_lifted_in_the_vendored_runtime():
    v12 = (VENDOR / "scorm12.min.js").read_text()
    v2004 = (VENDOR / "scorm2004.min.js").read_text()
    assert '"^[\\\\s\\\\S]{0,64000}$"' not in v12
    assert 'suspend_data",suspend_data,"^[\\\\s\\\\S]*$"' in v12
    assert 'suspend_data",suspend_data,"^[\\\\u0000-\\\\uFFFF]*$"' in v2004
    assert "sourceMappingURL" not in v12 and "sourceMappingURL" not in v2004  # no missing .map for collectstatic
