import json

import pytest

from provisioning import tokens

SCIM = "application/scim+json"
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"


class ScimClient:
    """The Django test client speaking SCIM with a bearer token."""

    def __init__(self, client, token):
        self.client, self.token = client, token

    def _headers(self, headers):
        return {"HTTP_AUTHORIZATION": f"Bearer {self.token}", **(headers or {})}

    def get(self, path, params=None, **headers):
        return self.client.get(f"/scim/v2/{path}", params or {}, **self._headers(headers))

    def send(self, method, path, body=None, raw=None, **headers):
        data = raw if raw is not None else json.dumps(body) if body is not None else ""
        return getattr(self.client, method)(f"/scim/v2/{path}", data=data, content_type=SCIM, **self._headers(headers))

    def post(self, path, body=None, **kw):
        return self.send("post", path, body, **kw)

    def put(self, path, body=None, **kw):
        return self.send("put", path, body, **kw)

    def patch(self, path, operations, **kw):
        return self.send("patch", path, {"schemas": [PATCH_OP], "Operations": operations}, **kw)

    def delete(self, path, **kw):
        return self.send("delete", path, **kw)


@pytest.fixture
def scim_token(db):
    return tokens.create_token(name="Entra ID")


@pytest.fixture
def scim(client, scim_token):
    return ScimClient(client, scim_token[1])


def user_body(number="M100001", *, given="Camille", family="Martin", email=None, department=None, manager=None,
              active=True, organization=None, **extra):  # fmt: skip
    body = {
        "schemas": [USER, ENTERPRISE],
        "userName": number,
        "name": {"givenName": given, "familyName": family},
        "emails": [{"value": email or f"{number.lower()}@ville.example", "type": "work", "primary": True}],
        "active": active,
        "title": "Chargée d'accueil",
        ENTERPRISE: {"employeeNumber": number},
    }
    if department:
        body[ENTERPRISE]["department"] = department
    if organization:
        body[ENTERPRISE]["organization"] = organization
    if manager:
        body[ENTERPRISE]["manager"] = {"value": str(manager)}
    body.update(extra)
    return body
