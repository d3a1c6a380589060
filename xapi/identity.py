"""How Parcours names people in xAPI.

A Parcours user is the Agent ``{"account": {"homePage": <site base URL>, "name": <opaque id>}}``:
the homePage is ``settings.WAGTAILADMIN_BASE_URL`` and the name a random UUID kept in
``AgentIdentity`` (stable for the user's life, and saying nothing about them: no name, no
e-mail, no employee number goes to content or to another LRS). Parcours itself, when it
records statements (``store_statements(client=None)``), is the authority ``parcours`` of the
same homePage.
"""

from django.conf import settings

from xapi.models import AgentIdentity
from xapi.validation import agent_key

SYSTEM_ACCOUNT_NAME = "parcours"


def home_page():
    return settings.WAGTAILADMIN_BASE_URL


def account_agent(name):
    return {"objectType": "Agent", "account": {"homePage": home_page(), "name": str(name)}}


def actor_for(user):
    """The xAPI Agent that stands for ``user`` (created on first use)."""
    identity, _created = AgentIdentity.objects.get_or_create(user=user)
    return account_agent(identity.account_name)


def actor_key_for(user):
    return agent_key(actor_for(user))


def system_authority():
    agent = account_agent(SYSTEM_ACCOUNT_NAME)
    agent["name"] = settings.WAGTAIL_SITE_NAME
    return agent
