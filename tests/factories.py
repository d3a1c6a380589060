"""factory_boy factories shared by every test module."""

import html

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from cms.choices import Category, EmploymentStatus, OrgUnitKind
from cms.models import Agent, OrgUnit


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name", locale="fr_FR")
    last_name = factory.Faker("last_name", locale="fr_FR")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.django.Password("correct horse battery staple")

    @factory.post_generation
    def groups(self, create, extracted, **kwargs):
        if create and extracted:
            for name in extracted:
                self.groups.add(Group.objects.get(name=name))


class OrgUnitFactory(factory.django.DjangoModelFactory):
    """Creates a root unit by default; pass ``parent=`` for a child."""

    class Meta:
        model = OrgUnit

    code = factory.Sequence(lambda n: f"U{n:04d}")
    name = factory.Sequence(lambda n: f"Unité {n}")
    kind = OrgUnitKind.DIRECTION

    @classmethod
    def _create(cls, model_class, *args, parent=None, **kwargs):
        if parent is None:
            return model_class.add_root(**kwargs)
        parent.refresh_from_db()
        return parent.add_child(**kwargs)


class AgentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Agent

    user = factory.SubFactory(UserFactory)
    employee_number = factory.Sequence(lambda n: f"M{n:06d}")
    org_unit = factory.SubFactory(OrgUnitFactory)
    job_title = "Chargé de mission"
    category = Category.B
    corps = "Secrétaires administratifs"
    grade = "Secrétaire administratif de classe normale"
    employment_status = EmploymentStatus.TITULAIRE
    active = True


def api_token_for(user, *, name="tests", days=None):
    """A knox API token for ``user``, created as ``manage.py create_api_token`` does; returns
    the key a client sends as ``Authorization: Token <key>`` (only its hash is stored)."""
    from cms.services import create_api_token

    return create_api_token(user=user, name=name, days=days)[1]


def rename(agent, first, last):
    """Give an agent a chosen name (generated names vary; elision tests need a known one)."""
    agent.user.first_name, agent.user.last_name = first, last
    agent.user.save(update_fields=["first_name", "last_name"])


def page_text(response):
    """A 200 response's HTML as text: entities unescaped, whitespace collapsed."""
    assert response.status_code == 200, response.status_code
    return " ".join(html.unescape(response.content.decode()).split())
