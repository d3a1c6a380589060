"""Admin of provisioning: « Jetons SCIM » (list, revoke) and « Journal du provisionnement »
(read-only, filters), for HR and superusers only; query counts constant."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from provisioning import tokens
from provisioning.models import ProvisioningEvent
from tests.cms.test_admin import ADMIN_ACCESS, ALLOWED, ROLES, login

pytestmark = pytest.mark.django_db

ENDPOINTS = {
    "token_list": ("jetons_scim:index", False),
    "token_revoke": ("jetons_scim:delete", True),
    "audit_list": ("journal_provisionnement:index", False),
}


@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
@pytest.mark.parametrize("role", ROLES)
def test_permission_matrix(client, org, role, endpoint):
    scim_token, _token = tokens.create_token(name="Entra ID")
    url_name, with_pk = ENDPOINTS[endpoint]
    url = reverse(url_name, args=[scim_token.pk] if with_pk else None)
    login(client, role)
    response = client.get(url)
    if role in ALLOWED:
        assert response.status_code == 200
    elif role in ADMIN_ACCESS:
        assert response.status_code == 302 and response["Location"] == reverse("wagtailadmin_home")
    else:
        assert response.status_code == 302 and response["Location"].startswith(reverse("wagtailadmin_login"))
    # Nobody revokes without being allowed.
    client.post(reverse("jetons_scim:delete", args=[scim_token.pk]))
    scim_token.refresh_from_db()
    assert scim_token.is_active == (role not in ALLOWED)


def test_hr_revokes_a_token_and_the_connector_is_refused(client, org):
    scim_token, token = tokens.create_token(name="Okta")
    login(client, "hr")
    index = client.get(reverse("jetons_scim:index"))
    assert "Okta" in index.content.decode() and token not in index.content.decode()
    response = client.post(reverse("jetons_scim:delete", args=[scim_token.pk]))
    assert response.status_code == 302
    assert tokens.authenticate(token) is None
    scim_token.refresh_from_db()
    assert scim_token.revoked_at is not None  # kept: the audit names it
    assert client.get(reverse("jetons_scim:delete", args=[scim_token.pk])).status_code == 404


def _events(count, scim_token):
    ProvisioningEvent.objects.bulk_create(
        ProvisioningEvent(
            token=scim_token, token_name=scim_token.name, action="update" if i % 2 else "create",
            resource_type="User", resource_id=str(i), label=f"M{i}", changes={"title": ["A", f"B{i}"]},
        )
        for i in range(count)
    )  # fmt: skip


def test_audit_list_shows_changes_filters_and_keeps_a_constant_query_count(client, org):
    scim_token, _token = tokens.create_token(name="Entra ID")
    login(client, "hr")
    url = reverse("journal_provisionnement:index")

    def queries(params=None):
        with CaptureQueriesContext(connection) as context:
            response = client.get(url, params or {})
        assert response.status_code == 200
        return len(context), response.content.decode()

    _events(3, scim_token)
    small, html = queries()
    assert "title : A → B1" in html and "Entra ID" in html
    _events(40, scim_token)
    assert queries()[0] == small
    _count, html = queries({"action": "create"})
    assert "M2" in html and "title : A → B1<" not in html
    assert queries({"at_after": "2000-01-01", "token": scim_token.pk})[0] >= 1
