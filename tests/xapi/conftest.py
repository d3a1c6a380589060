import base64
import json
from urllib.parse import urlencode

import pytest
from django.test import Client

from xapi import services

VERSION = "1.0.3"


def basic(key, secret):
    return "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode()


class LRS:
    """A Learning Record Provider speaking to /xapi/ with the given credentials."""

    def __init__(self, authorization=None, client=None):
        self.authorization = authorization
        self.http = client or Client()

    def request(self, method, path, params=None, body=None, *, content_type="application/json", headers=None,
                version=VERSION, authorization="default"):
        url = f"/xapi/{path}"
        if params:
            url += "?" + urlencode({k: json.dumps(v) if isinstance(v, dict) else v for k, v in params.items()})
        all_headers = {}
        auth = self.authorization if authorization == "default" else authorization
        if auth:
            all_headers["authorization"] = auth
        if version:
            all_headers["x-experience-api-version"] = version
        all_headers.update(headers or {})
        if body is not None and not isinstance(body, bytes | str):
            body = json.dumps(body)
        return self.http.generic(method, url, data=body if body is not None else b"", content_type=content_type,
                                 headers=all_headers)

    def get(self, path, params=None, **kwargs):
        return self.request("GET", path, params, **kwargs)

    def head(self, path, params=None, **kwargs):
        return self.request("HEAD", path, params, **kwargs)

    def post(self, path, body=None, params=None, **kwargs):
        return self.request("POST", path, params, body, **kwargs)

    def put(self, path, body=None, params=None, **kwargs):
        return self.request("PUT", path, params, body, **kwargs)

    def delete(self, path, params=None, **kwargs):
        return self.request("DELETE", path, params, **kwargs)


def make_client(name="Conformance", **kwargs):
    client, secret = services.create_client(name=name, **kwargs)
    return client, basic(client.key, secret)


@pytest.fixture
def lrs_client(db):
    return make_client()


@pytest.fixture
def lrs(lrs_client):
    return LRS(lrs_client[1])


ACTOR = {"objectType": "Agent", "name": "Ada", "mbox": "mailto:ada@example.com"}
OTHER = {"objectType": "Agent", "name": "Bob", "mbox": "mailto:bob@example.com"}
VERB = {"id": "http://adlnet.gov/expapi/verbs/experienced", "display": {"en-US": "experienced"}}
ACTIVITY = {"objectType": "Activity", "id": "http://example.com/activities/course"}


def statement(**overrides):
    value = {"actor": ACTOR, "verb": VERB, "object": ACTIVITY}
    value.update(overrides)
    return {k: v for k, v in value.items() if v is not None}
