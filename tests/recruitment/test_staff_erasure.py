"""HR erases a person's data on their request (RGPD art. 17, by mail or at the desk), from
the application's admin page: a confirmation names every application of the person, the
files and those in progress; only then is everything erased, the applications kept without
a name. Recruiters, interviewers and agents cannot."""


import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from recruitment.models import ApplicationEvent, Candidate
from tests.factories import UserFactory, page_text
from tests.recruitment.conftest import apply_directly, make_opening

pytestmark = pytest.mark.django_db


@pytest.fixture
def person(openings, job_index, org):
    """Alice applied twice with the same address: to the open opening and to another one."""
    other = make_opening(job_index, org_unit=org["service"], reference="2025-DRH-003", title="Chargé de paie")
    first, _token = apply_directly(openings["open"])
    second, _token = apply_directly(other)
    return {"first": first, "second": second}


@pytest.fixture
def hr_user(db):
    return UserFactory(username="rh", groups=["HR"])


def erase_url(application):
    return reverse("recruitment_admin:erase", args=[application.pk])


def test_hr_sees_what_goes_then_erases_every_record_of_the_person(client, hr_user, person, private_files):
    first, second = person["first"], person["second"]
    cv_names = [first.cv.name, second.cv.name]
    assert all(private_files.exists(name) for name in cv_names)
    client.force_login(hr_user)
    page = page_text(client.get(reverse("recruitment_admin:application", args=[first.pk])))
    assert erase_url(first) in page and "Effacer les données de ce candidat" in page

    confirm = page_text(client.post(erase_url(first)))
    assert "Confirmer l'effacement des données" in confirm
    assert first.reference in confirm and second.reference in confirm
    assert "2 candidatures encore en cours seront retirées" in confirm and "2 fichiers" in confirm
    assert "définitive" in confirm and 'name="confirm" value="1"' in confirm
    assert Candidate.objects.filter(anonymised_at__isnull=True).count() == 2  # nothing erased yet

    response = client.post(erase_url(first), {"confirm": "1"})
    assert response.status_code == 302 and response["Location"] == reverse("recruitment_admin:board", args=[first.opening_id])
    message = " ".join(str(m) for m in get_messages(response.wsgi_request))
    assert "Données personnelles effacées" in message and first.reference in message and second.reference in message
    assert not Candidate.objects.filter(anonymised_at__isnull=True).exists()
    assert not any(private_files.exists(name) for name in cv_names)
    assert set(ApplicationEvent.objects.filter(kind="erasure").values_list("actor", flat=True)) == {hr_user.pk}
    for application in (first, second):
        application.refresh_from_db()
        assert application.status == "withdrawn" and application.anonymised_at is not None

    again = client.post(erase_url(first), {"confirm": "1"})  # already erased: said, nothing more
    assert "déjà effacées" in " ".join(str(m) for m in get_messages(again.wsgi_request))
    assert ApplicationEvent.objects.filter(kind="erasure").count() == 2
    assert erase_url(first) not in page_text(client.get(reverse("recruitment_admin:application", args=[first.pk])))


@pytest.mark.parametrize("who", ["recruiter", "interviewer", "agent"])
def test_others_can_neither_see_nor_use_the_erasure(client, recruiter, person, who):
    first = person["first"]
    user = {
        "recruiter": lambda: recruiter,  # manages the opening, but not the person's other records
        "interviewer": lambda: UserFactory(username="jury", groups=["Interviewers"]),
        "agent": lambda: UserFactory(username="someone"),
    }[who]()
    client.force_login(user)
    page = client.get(reverse("recruitment_admin:application", args=[first.pk]))
    assert erase_url(first) not in page.content.decode()
    for data in ({}, {"confirm": "1"}):
        assert client.post(erase_url(first), data).status_code in (302, 403, 404)
    assert not Candidate.objects.filter(anonymised_at__isnull=False).exists()
