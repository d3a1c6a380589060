"""Wagtail admin "Formations": assignments (create through the service, bulk enrolment task)
and the read-only enrolment listing; permissions and query counts."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.contrib.messages import get_messages
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse
from wagtail.admin.menu import admin_menu
from wagtail.models import ModelLogEntry

from cms import roles
from cms.choices import Category
from learning import services
from learning.choices import EnrollmentSource, EnrollmentStatus
from learning.models import Assignment, Enrollment
from tests.factories import AgentFactory, OrgUnitFactory, UserFactory
from tests.learning.conftest import build_course

# The permissions the data migration grants (see the integration notes).
ROLE_PERMISSIONS = {
    roles.TRAINING_EDITORS: ["add_assignment", "view_assignment"],
    roles.HR: ["add_assignment", "view_assignment"],
}
ROLES = ["anonymous", "agent", "interviewer", "recruiter", "training_editor", "hr", "superuser"]
GROUPS = {
    "agent": [],
    "interviewer": [roles.INTERVIEWERS],
    "recruiter": [roles.RECRUITERS],
    "training_editor": [roles.TRAINING_EDITORS],
    "hr": [roles.HR],
}
MAY_ASSIGN = {"training_editor", "hr", "superuser"}
MAY_LIST_ENROLMENTS = {"hr", "superuser"}


@pytest.fixture(autouse=True)
def role_permissions(db):
    for group_name, codenames in ROLE_PERMISSIONS.items():
        Group.objects.get(name=group_name).permissions.add(
            *Permission.objects.filter(content_type__app_label="learning", codename__in=codenames)
        )


def make_user(role):
    if role == "anonymous":
        return None
    if role == "superuser":
        return UserFactory(username="root", is_superuser=True, is_staff=True)
    return UserFactory(username=f"role_{role}", groups=GROUPS[role])


def login(client, role):
    user = make_user(role)
    if user is not None:
        client.force_login(user)
    return user


def assert_denied(response, user):
    assert response.status_code == 302
    if user is not None and user.has_perm("wagtailadmin.access_admin"):
        assert response["Location"] == reverse("wagtailadmin_home")  # Wagtail's "permission denied"
    else:
        assert response["Location"].startswith(reverse("wagtailadmin_login"))


@pytest.fixture
def population(org):
    """Agents in the bureau (categories A, B, C, C), one in another direction, one inactive."""
    agents = [
        AgentFactory(org_unit=org["bureau"], category=cat) for cat in (Category.A, Category.B, Category.C, Category.C)
    ]
    agents.append(AgentFactory(org_unit=org["service"], category=Category.B))
    outside = AgentFactory(org_unit=OrgUnitFactory(code="VOIRIE"), category=Category.C)  # sorts after DRH
    inactive = AgentFactory(org_unit=org["bureau"], active=False)
    return {"in_subtree": agents, "outside": outside, "inactive": inactive}


def post_data(course_page, unit, **overrides):
    data = {"course": course_page.pk, "org_unit": unit.pk, "due_in_days": "45", "recurring": "on"}
    data.update(overrides)
    return data


# --------------------------------------------------------------------------- menu and permissions


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES[1:])
def test_formations_menu_for_editors_and_hr_only(role):
    # Viewsets register their menu items when the admin URLs load: load them first, and drop a
    # menu computed before that by an earlier test.
    reverse("wagtailadmin_home")
    admin_menu.__dict__.pop("registered_menu_items", None)
    request = RequestFactory().get("/admin/")
    request.user = make_user(role)
    names = {item.name for item in admin_menu.menu_items_for_request(request)}
    assert ("formations" in names) is (role in MAY_ASSIGN)


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_assignment_views_permission_matrix(client, course, org, role):
    assignment = services.create_assignment(course=course["course"], org_unit=org["direction"], due_in_days=30)
    user = login(client, role)
    for url in (
        reverse("formations_assignations:index"),
        reverse("formations_assignations:add"),
        reverse("formations_assignations:inspect", args=[assignment.pk]),
    ):
        response = client.get(url)
        if role in MAY_ASSIGN:
            assert response.status_code == 200, url
        else:
            assert_denied(response, user)


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_enrolment_listing_permission_matrix(client, role):
    user = login(client, role)
    response = client.get(reverse("formations_inscriptions:index"))
    if role in MAY_LIST_ENROLMENTS:
        assert response.status_code == 200
    else:
        assert_denied(response, user)


@pytest.mark.django_db
def test_assignments_are_neither_edited_nor_deleted_in_the_admin():
    for name in ("edit", "delete", "copy"):
        with pytest.raises(NoReverseMatch):
            reverse(f"formations_assignations:{name}", args=[1])
    for name in ("add", "edit", "delete"):
        with pytest.raises(NoReverseMatch):
            reverse(f"formations_inscriptions:{name}", args=[1])


# --------------------------------------------------------------------------- create


@pytest.mark.django_db
def test_editor_assigns_a_course_and_the_task_enrols_the_subtree(
    client, course, org, population, django_capture_on_commit_callbacks
):
    editor = login(client, "training_editor")
    already = population["in_subtree"][0]
    services.enroll(agent=already, course=course["course"])  # has an open enrolment: not targeted again

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(reverse("formations_assignations:add"), post_data(course["course"], org["direction"]))

    assert response.status_code == 302
    assert response["Location"] == reverse("formations_assignations:index")
    # the bulk enrolment task, enqueued after the commit (then the enrolment action's event)
    assert [c.__qualname__.split(".")[0] for c in callbacks] == ["AssignmentCreateView", "BulkEnrollmentAction"]
    assignment = Assignment.objects.get()
    assert (assignment.course_id, assignment.org_unit_id, assignment.due_in_days) == (
        course["course"].pk,
        org["direction"].pk,
        45,
    )
    assert assignment.categories == [] and assignment.recurring and assignment.created_by == editor
    enrolled = Enrollment.objects.filter(assignment=assignment)
    assert {e.agent_id for e in enrolled} == {a.pk for a in population["in_subtree"][1:]}
    assert all(e.source == EnrollmentSource.ASSIGNED and e.due_at for e in enrolled)
    message = [str(m) for m in get_messages(response.wsgi_request)][-1]
    assert "4 agents ciblés" in message and course["course"].title in message
    assert ModelLogEntry.objects.filter(action="wagtail.create", object_id=str(assignment.pk)).exists()


@pytest.mark.django_db
def test_assignment_to_some_categories_only(client, course, org, population, django_capture_on_commit_callbacks):
    login(client, "hr")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("formations_assignations:add"),
            post_data(course["course"], org["bureau"], categories=["C", "A"], recurring=""),
        )
    assert response.status_code == 302
    assignment = Assignment.objects.get()
    assert assignment.categories == ["A", "C"] and not assignment.recurring
    assert set(Enrollment.objects.filter(assignment=assignment).values_list("agent__category", flat=True)) == {"A", "C"}
    assert Enrollment.objects.filter(assignment=assignment).count() == 3


@pytest.mark.django_db
@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"due_in_days": "0"}, "due_in_days"),
        ({"due_in_days": ""}, "due_in_days"),
        ({"categories": ["Z"]}, "categories"),
        ({"org_unit": ""}, "org_unit"),
        ({"course": "999999"}, "course"),
    ],
)
def test_bad_input_names_the_field_and_creates_nothing(client, course, org, overrides, field):
    login(client, "training_editor")
    response = client.post(
        reverse("formations_assignations:add"), post_data(course["course"], org["direction"], **overrides)
    )
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not Assignment.objects.exists() and not Enrollment.objects.exists()


@pytest.mark.django_db
def test_only_published_courses_can_be_assigned(client, course, org):
    draft = course["course"]
    draft.unpublish()
    login(client, "training_editor")
    response = client.get(reverse("formations_assignations:add"))
    assert draft.title not in response.content.decode()
    response = client.post(reverse("formations_assignations:add"), post_data(draft, org["direction"]))
    assert "course" in response.context["form"].errors
    assert not Assignment.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["agent", "interviewer", "recruiter"])
def test_assigning_is_denied_without_permission(client, course, org, population, role):
    user = login(client, role)
    response = client.post(reverse("formations_assignations:add"), post_data(course["course"], org["direction"]))
    assert_denied(response, user)
    assert not Assignment.objects.exists() and not Enrollment.objects.exists()


# --------------------------------------------------------------------------- lists


@pytest.mark.django_db
def test_assignment_inspect_shows_the_enrolment_counts(client, course, org, population):
    assignment = services.create_assignment(course=course["course"], org_unit=org["direction"], due_in_days=10)
    services.apply_assignment(assignment=assignment)
    login(client, "hr")
    html = client.get(reverse("formations_assignations:inspect", args=[assignment.pk])).content.decode()
    assert course["course"].title in html and "Toutes" in html
    compact = "".join(html.split())
    assert "<dt>Inscriptions</dt><dd>5</dd>" in compact and "<dt>Noncommencé</dt><dd>5</dd>" in compact
    assert "<dt>Recyclage</dt><dd>Oui</dd>" in compact


def count_queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries), len(response.context["object_list"])


@pytest.mark.django_db
def test_assignment_list_query_count_does_not_grow(client, org):
    login(client, "hr")
    first = build_course(slug="c0", title="Cours 0")
    services.apply_assignment(
        assignment=services.create_assignment(course=first["course"], org_unit=org["direction"], due_in_days=5)
    )
    few, shown = count_queries(client, reverse("formations_assignations:index"))
    assert shown == 1
    for number in range(1, 4):
        extra = build_course(slug=f"c{number}", title=f"Cours {number}", index=first["index"])
        unit = OrgUnitFactory()
        AgentFactory(org_unit=unit)
        services.apply_assignment(
            assignment=services.create_assignment(course=extra["course"], org_unit=unit, due_in_days=5)
        )
    many, shown = count_queries(client, reverse("formations_assignations:index"))
    assert shown == 4
    assert many == few


@pytest.mark.django_db
def test_enrolment_listing_filters_searches_and_keeps_query_count(client, course, org):
    login(client, "hr")
    url = reverse("formations_inscriptions:index")
    dupont = AgentFactory(user__last_name="Dupontel", org_unit=org["bureau"])
    services.enroll(agent=dupont, course=course["course"])
    few, shown = count_queries(client, url)
    assert shown == 1
    for _i in range(12):
        services.enroll(agent=AgentFactory(org_unit=org["service"]), course=course["course"])
    many, shown = count_queries(client, url)
    assert shown == 13 and many == few

    response = client.get(url, {"q": "dupontel"})
    assert [e.agent_id for e in response.context["object_list"]] == [dupont.pk]
    response = client.get(url, {"org_unit": org["bureau"].pk})
    assert [e.agent_id for e in response.context["object_list"]] == [dupont.pk]
    Enrollment.objects.filter(agent=dupont).update(status=EnrollmentStatus.IN_PROGRESS)
    response = client.get(url, {"status": ["in_progress"]})
    assert [e.agent_id for e in response.context["object_list"]] == [dupont.pk]
