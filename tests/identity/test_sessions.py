"""identity.sessions: a user's sessions and API tokens end at once, in constant queries."""

import pytest
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from knox.models import AuthToken

from cms.models import ApiToken
from identity.models import UserSession
from identity.sessions import revoke_api_tokens, revoke_credentials, revoke_sessions
from tests.factories import AgentFactory, UserFactory, api_token_for


def signed_in_client(user):
    client = Client()
    client.force_login(user)
    return client


def signed_in(client):
    return "_auth_user_id" in client.session


@pytest.mark.django_db
def test_signing_in_tracks_the_session_and_signing_out_forgets_it():
    user = UserFactory()
    client = signed_in_client(user)
    key = client.session.session_key
    assert UserSession.objects.filter(user=user, session_key=key).exists()
    client.logout()
    assert not UserSession.objects.filter(session_key=key).exists()


@pytest.mark.django_db
def test_revoke_sessions_ends_only_the_given_users_sessions():
    users = [UserFactory() for _ in range(2)]
    bystander = UserFactory()
    clients = [signed_in_client(u) for u in users + users] + [signed_in_client(bystander)]
    assert revoke_sessions(users) == 4
    assert [signed_in(client) for client in clients] == [False, False, False, False, True]
    assert not UserSession.objects.filter(user__in=users).exists()
    assert UserSession.objects.filter(user=bystander).count() == 1


@pytest.mark.django_db
def test_revoke_credentials_takes_ids_users_or_querysets_and_deletes_tokens():
    agent = AgentFactory()
    other = AgentFactory()
    key = api_token_for(agent.user)
    api_token_for(other.user)
    client = signed_in_client(agent.user)
    assert Client().get("/api/v1/me/enrollments/", HTTP_AUTHORIZATION=f"Token {key}").status_code == 200
    from cms.models import Agent

    result = revoke_credentials(Agent.objects.filter(pk=agent.pk))
    assert result == {"sessions": 1, "tokens": 1}
    assert Client().get("/api/v1/me/enrollments/", HTTP_AUTHORIZATION=f"Token {key}").status_code == 401
    assert not signed_in(client)
    assert AuthToken.objects.filter(user=other.user).count() == 1 and ApiToken.objects.count() == 1
    assert revoke_credentials([other.user.pk]) == {"sessions": 0, "tokens": 1}
    assert revoke_api_tokens([]) == 0


@pytest.mark.django_db
@pytest.mark.parametrize("revoke", [revoke_sessions, revoke_api_tokens, revoke_credentials])
def test_revocation_runs_the_same_queries_for_few_and_many(revoke):
    def run(size):
        users = [UserFactory() for _ in range(size)]
        for user in users:
            signed_in_client(user)
            signed_in_client(user)
            api_token_for(user)
            api_token_for(user)
        with CaptureQueriesContext(connection) as queries:
            revoke(users)
        assert not Session.objects.filter(session_key__in=UserSession.objects.values("session_key")).exists() or (
            revoke is revoke_api_tokens
        )
        return len(queries)

    assert run(2) == run(12)
