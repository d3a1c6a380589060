"""bench/load.py: the journeys of the load test reach every endpoint and the site answers as expected.

The load test itself (gunicorn, PostgreSQL, Redis, locust) takes minutes on this machine: here
the same journey code runs on Django's test client, with CSRF checks on, against a small demo
site seeded by ``seed_demo`` and the plan bench/load_data.py builds.
"""

import importlib.util
import io
import random
import sys
from pathlib import Path

import pytest
from django.core.files.uploadhandler import MemoryFileUploadHandler
from django.core.management import call_command
from django.http.multipartparser import MultiPartParser
from django.test import Client
from django.utils import translation

from learning.models import QuizAttempt
from recruitment.models import Application

BENCH = Path(__file__).resolve().parents[2] / "bench"


def load_module(name):
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def load(monkeypatch):
    monkeypatch.delenv("LOAD_PLAN", raising=False)  # imported as a library: no locust users
    module = load_module("load")
    assert "locust" not in sys.modules or not hasattr(module, "AgentUser")
    return module


class DjangoClientHttp:
    """The journeys' client interface on Django's test client; records what was asked."""

    def __init__(self, client):
        self.client = client
        self.calls = []

    def request(self, method, path, *, name, expect=(200,), body=None, content_type=None, headers=None):
        if method == "GET":
            response = self.client.get(path, headers=headers or {})
        else:
            response = self.client.generic(
                method, path, data=body or b"", content_type=content_type, headers=headers or {}
            )
        if getattr(response, "streaming", False):
            text = b"".join(response.streaming_content).decode()
        else:
            text = response.content.decode()
        self.calls.append((name, method, path, response.status_code, tuple(expect)))
        return response.status_code, text


@pytest.fixture
def plan(db, settings, monkeypatch):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    with translation.override("fr"):
        call_command("seed_demo", "--agents", "60", verbosity=0)
    return load_module("load_data").build_plan(agents=5, managers=3, password="un-mot-de-passe-de-charge")


def run_persona(load, plan, persona, rounds=2):
    http = DjangoClientHttp(Client(enforce_csrf_checks=True))
    accounts = plan.get(load.ACCOUNTS.get(persona, ""), [None])
    journey = load.JOURNEYS[persona](http, plan, accounts[0], random.Random(1))
    journey.start()
    for _round in range(rounds):
        for method in load.TASKS[persona]:
            getattr(journey, method)()
    return http, journey


def test_every_endpoint_of_every_persona_answers_as_the_load_test_expects(load, plan, rf):
    """One seeded site for the five personas (seeding is the slow part): each signs in,
    runs each of its tasks twice, and every request answers the status the load test expects."""
    from django.contrib.auth import authenticate

    assert len(plan["agents"]) == 5
    assert plan["managers"][:2] == ["manager", "reviewer"] and len(plan["managers"]) == 3
    for username in [*plan["agents"], *plan["managers"], *plan["hr"]]:
        assert authenticate(rf.get("/"), username=username, password=plan["password"]) is not None, username

    for persona in load.JOURNEYS:
        http, journey = run_persona(load, plan, persona)

        unexpected = [call for call in http.calls if call[3] not in call[4]]
        assert unexpected == [], persona
        assert set(load.ENDPOINTS[persona]) <= {call[0] for call in http.calls}, persona
        if persona == "agent":  # real quiz submissions, graded and recorded
            assert QuizAttempt.objects.filter(enrollment__agent__user__username=journey.username).count() >= 1
        if persona == "candidate":  # two applications, each with its PDF CV
            applications = Application.objects.filter(candidate__email__startswith=f"candidat.{journey.prefix}.")
            assert applications.count() == 2
            assert all(application.cv for application in applications)
        if persona == "sirh":  # one page of 1,000 holds the small site: the walk starts again
            assert [call[2] for call in http.calls] == [journey.first, journey.first]
            assert journey.pages == 2


def test_the_quiz_form_gets_one_answer_per_question(load):
    html = (
        '<form class="quiz-form"><input type="radio" name="q-a" id="q-a-1" value="1">'
        '<input type="radio" name="q-a" id="q-a-2" value="2">'
        '<input type="checkbox" name="q-b" id="q-b-x" value="x"><input type="checkbox" name="q-b" id="q-b-y" value="y">'
        '<input type="radio" name="q-c" id="q-c-true" value="true"><input type="radio" name="q-c" id="q-c-false" value="false">'
        '<input type="text" name="q-d" id="q-d" value="" maxlength="200"></form>'
    )
    answers = load.quiz_answers(html, random.Random(3))

    assert set(answers) == {"q-a", "q-b", "q-c", "q-d"}
    assert answers["q-a"] in {"1", "2"} and answers["q-c"] in {"true", "false"}
    assert answers["q-b"] and set(answers["q-b"]) <= {"x", "y"}
    assert answers["q-d"]


def test_the_hand_made_multipart_body_is_what_django_parses(load):
    body, content_type = load.multipart_body(
        {"first_name": "Léa", "email": "lea@exemple.fr"}, {"cv": ("cv.pdf", load.CV_PDF, "application/pdf")}
    )
    meta = {"CONTENT_TYPE": content_type, "CONTENT_LENGTH": str(len(body))}

    data, files = MultiPartParser(meta, io.BytesIO(body), [MemoryFileUploadHandler()]).parse()

    assert data["first_name"] == "Léa" and data["email"] == "lea@exemple.fr"
    assert files["cv"].name == "cv.pdf" and files["cv"].read() == load.CV_PDF


def test_percentiles_come_from_the_histogram(load):
    histogram = {10.0: 50, 20.0: 45, 300.0: 4, 900.0: 1}

    assert load.percentile(histogram, 0.5) == 10.0
    assert load.percentile(histogram, 0.95) == 20.0
    assert load.percentile(histogram, 0.99) == 300.0
    assert load.percentile({}, 0.5) == 0
