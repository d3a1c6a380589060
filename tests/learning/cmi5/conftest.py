"""cmi5 fixtures: the project's sample course imported into a course, and an AU session
driven through HTTP as an AU would (launch → fetch → LMS.LaunchData → statements)."""

import base64
import io
import json
import uuid
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client, TestCase

from learning.packages import importer, sample
from tests.learning.conftest import build_course

XAPI = {"HTTP_X_EXPERIENCE_API_VERSION": "1.0.3"}
CMI5 = "https://w3id.org/xapi/cmi5/context/categories/cmi5"
MOVEON = "https://w3id.org/xapi/cmi5/context/categories/moveon"
SESSION = "https://w3id.org/xapi/cmi5/context/extensions/sessionid"
VERBS = "http://adlnet.gov/expapi/verbs/"


def import_course(files_or_bytes, *, slug="accueil", title="Accueil"):
    built = build_course(slug=slug, title=title)
    course = built["course"]
    for step in [*built["lessons"], built["quiz"]]:
        step.delete()
    course.refresh_from_db()
    data = files_or_bytes if isinstance(files_or_bytes, bytes) else sample.zip_bytes(files_or_bytes)
    return importer.import_package(io.BytesIO(data), course=course).step


@pytest.fixture
def cmi5_step(chain):
    return import_course(sample.cmi5_package())


@pytest.fixture
def agent_client(chain):
    client = Client()
    client.force_login(chain["agent"].user)
    return client


class AU:
    """An AU session driven over HTTP: ``launch`` (the API), ``fetch``, then statements."""

    def __init__(self, client, step, au=None, mode=None):
        self.client = client
        body = {**({"au": au} if au else {}), **({"mode": mode} if mode else {})}
        response = client.post(
            f"/api/v1/me/packages/{step.pk}/launch/",
            data=json.dumps(body),
            content_type="application/json",
        )
        assert response.status_code == 200, response.content
        self.launch = response.json()
        self.url = self.launch["url"]
        query = {k: v[0] for k, v in parse_qs(urlsplit(self.url).query).items()}
        self.query = query
        self.endpoint = query["endpoint"]
        self.actor = json.loads(query["actor"])
        self.registration = query["registration"]
        self.activity_id = query["activityId"]
        self.http = Client()  # the AU has no site session: only its token
        self.auth = None

    def path(self, url):
        return urlsplit(url).path

    def fetch(self):
        response = self.http.post(self.path(self.query["fetch"]))
        assert response.status_code == 200
        body = response.json()
        if "auth-token" in body:
            self.auth = "Basic " + body["auth-token"]
        return body

    def headers(self):
        return {**XAPI, "HTTP_AUTHORIZATION": self.auth}

    def launch_data(self):
        response = self.http.get(
            "/xapi/activities/state",
            {"stateId": "LMS.LaunchData", "activityId": self.activity_id, "agent": json.dumps(self.actor),
             "registration": self.registration},
            **self.headers(),
        )  # fmt: skip
        assert response.status_code == 200, response.content
        return response.json()

    def statement(self, verb, *, result=None, moveon=False, category=True, session=None, registration=None,
                  object_id=None, grouping=True, **extra):  # fmt: skip
        data = self._launch_data if hasattr(self, "_launch_data") else self.launch_data()
        self._launch_data = data
        context = json.loads(json.dumps(data["contextTemplate"]))
        if not grouping:
            context["contextActivities"].pop("grouping", None)
        context["registration"] = registration or self.registration
        categories = []
        if category:
            categories.append({"id": CMI5})
        if moveon:
            categories.append({"id": MOVEON})
        if categories:
            context["contextActivities"]["category"] = categories
        if session is not None:
            context["extensions"][SESSION] = session
        value = {
            "id": str(uuid.uuid4()), "actor": self.actor,
            "verb": {"id": verb if "://" in verb else VERBS + verb, "display": {"en-US": verb}},
            "object": {"objectType": "Activity", "id": object_id or self.activity_id}, "context": context,
        }  # fmt: skip
        if result is not None:
            value["result"] = result
        value.update(extra)
        return value

    def send(self, *statements):
        """POST the statements; the after-commit work (the LMS's listener) runs as in production."""
        payload = list(statements) if len(statements) > 1 else statements[0]
        with TestCase.captureOnCommitCallbacks(execute=True):
            return self.http.post("/xapi/statements", data=json.dumps(payload), content_type="application/json",
                                  **self.headers())  # fmt: skip

    def start(self):
        self.fetch()
        response = self.send(self.statement("initialized"))
        assert response.status_code == 200, response.content
        return self


def passed(scaled=0.9, **result):
    return {"success": True, "duration": "PT10S", "score": {"scaled": scaled}, **result}


def completed(**result):
    return {"completion": True, "duration": "PT12S", **result}


def token_parts(auth):
    return base64.b64decode(auth.split(" ", 1)[1]).decode().split(":", 1)
