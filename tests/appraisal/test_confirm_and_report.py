"""Issue 13, appraisal items on the site: irreversible acts ask first (visa, notify), "L'entretien
a eu lieu" only from the interview's date, revision requests acknowledged with the agent's
motive beside the reviewer's answer form, the report as PDF once notified and the agent's
reports of past years. Each new view is tried by every role (allowed and denied)."""

import datetime
from html import escape

import pytest
from django.contrib.messages import get_messages
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from appraisal.choices import AppraisalState as S
from appraisal.models import Appraisal, AppraisalAccessLog, AppraisalTransition
from tests.appraisal.conftest import make_campaign
from tests.appraisal.factories import put_in
from tests.appraisal.test_trust import fake_pdf_renderer  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db
ROLES = ["agent", "manager", "reviewer", "hr", "other_agent", "anonymous"]


def url(name, appraisal, **kwargs):
    return reverse(f"appraisal:{name}", kwargs={"pk": appraisal.pk, **kwargs})


def login(client, chain, who):
    if who != "anonymous":
        client.force_login(chain[who].user)
    return client


def flashed(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


# --- item 5: confirmation steps ------------------------------------------------------------------

CONFIRM_MATRIX = {  # GET /entretiens/<pk>/actions/visa/confirmer/ on an acknowledged report
    "agent": 403,
    "manager": 403,
    "reviewer": 200,
    "hr": 403,
    "other_agent": 404,
}


@pytest.mark.parametrize("who", ROLES)
def test_visa_confirmation_page_permission_matrix(client, chain, appraisal, who):
    put_in(appraisal, S.ACKNOWLEDGED)
    login(client, chain, who)
    response = client.get(url("confirm", appraisal, action="visa"))
    if who == "anonymous":
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
        return
    assert response.status_code == CONFIRM_MATRIX[who]
    if who == "reviewer":
        body = response.content.decode()
        assert "Ce qui va se passer" in body and "devient définitif" in body
        assert chain["agent"].full_name in body and 'name="confirm" value="1"' in body
        assert f'action="{url("action", appraisal, action="visa")}"' in body
    assert Appraisal.objects.get(pk=appraisal.pk).state == S.ACKNOWLEDGED


@pytest.mark.parametrize("who", ROLES)
def test_notify_confirmation_page_permission_matrix(client, chain, appraisal, who):
    put_in(appraisal, S.HELD)
    login(client, chain, who)
    response = client.get(url("confirm", appraisal, action="notify"))
    expected = {"agent": 403, "manager": 200, "reviewer": 403, "hr": 403, "other_agent": 404, "anonymous": 302}
    assert response.status_code == expected[who]
    if who == "manager":
        body = response.content.decode()
        assert "Confirmer : signer et notifier" in body and "figé" in body and "15 jours" in body
    assert Appraisal.objects.get(pk=appraisal.pk).state == S.HELD


def test_confirmation_only_for_irreversible_acts_and_at_the_right_moment(client, chain, appraisal):
    login(client, chain, "reviewer")
    assert client.get(url("confirm", appraisal, action="cancel")).status_code == 404
    assert client.get(url("confirm", appraisal, action="destroy")).status_code == 404
    # the report is not signed yet: back to the appraisal, with the sentence that says why
    put_in(appraisal, S.NOTIFIED)
    response = client.get(url("confirm", appraisal, action="visa"))
    assert response.status_code == 302 and response["Location"] == url("detail", appraisal)
    assert "impossible" in flashed(response)[0]


@pytest.mark.parametrize("who", ["agent", "manager", "hr", "other_agent"])
def test_the_visa_post_is_refused_to_the_others_even_confirmed(client, chain, appraisal, who):
    put_in(appraisal, S.ACKNOWLEDGED)
    login(client, chain, who)
    response = client.post(url("action", appraisal, action="visa"), {"confirm": "1"})
    assert response.status_code == (404 if who == "other_agent" else 403)
    assert Appraisal.objects.get(pk=appraisal.pk).state == S.ACKNOWLEDGED


def test_visa_goes_through_the_confirmation_step(client, chain, appraisal):
    put_in(appraisal, S.ACKNOWLEDGED)
    login(client, chain, "reviewer")
    detail = client.get(url("detail", appraisal)).content.decode()
    assert "Une page de confirmation vous indiquera ce qui va se passer" in detail
    response = client.post(url("action", appraisal, action="visa"), {})
    assert response.status_code == 200 and "Confirmer le visa" in response.content.decode()
    assert not AppraisalTransition.objects.filter(appraisal=appraisal, action="visa").exists()
    response = client.post(url("action", appraisal, action="visa"), {"confirm": "1"})
    assert response.status_code == 302
    assert "Le compte rendu est visé : il est définitif." in flashed(response)
    assert Appraisal.objects.get(pk=appraisal.pk).state == S.FINAL


def test_late_notify_confirmed_without_reason_shows_the_field_again(client, chain, appraisal):
    put_in(appraisal, S.HELD, held_at=timezone.now() - datetime.timedelta(days=30))
    login(client, chain, "manager")
    response = client.get(url("confirm", appraisal, action="notify"))
    assert 'name="reason"' in response.content.decode() and 'type="hidden" name="reason"' not in (
        response.content.decode()
    )
    response = client.post(url("action", appraisal, action="notify"), {"confirm": "1"}, follow=True)
    assert "indiquez le motif du retard pour notifier" in response.content.decode()
    assert Appraisal.objects.get(pk=appraisal.pk).state == S.HELD


# --- item 11: "L'entretien a eu lieu" from the interview's date on -------------------------------


def test_hold_is_offered_only_from_the_interview_date(client, chain, appraisal):
    future = timezone.now() + datetime.timedelta(days=3)
    put_in(appraisal, S.CONVOKED, interview_at=future)
    login(client, chain, "manager")
    body = client.get(url("detail", appraisal)).content.decode()
    assert url("action", appraisal, action="hold") not in body
    assert "Vous pourrez déclarer l'entretien tenu à partir du" in body
    # asked anyway (an old page, a crafted form): refused with a sentence, nothing changes
    response = client.post(url("action", appraisal, action="hold"), {}, follow=True)
    assert "il ne peut pas être déclaré tenu avant" in response.content.decode()
    assert Appraisal.objects.get(pk=appraisal.pk).state == S.CONVOKED
    # the date has come: the button is there and works
    Appraisal.objects.filter(pk=appraisal.pk).update(interview_at=timezone.now() - datetime.timedelta(minutes=5))
    body = client.get(url("detail", appraisal)).content.decode()
    assert url("action", appraisal, action="hold") in body and "à partir du" not in body
    response = client.post(url("action", appraisal, action="hold"), {})
    assert response.status_code == 302 and Appraisal.objects.get(pk=appraisal.pk).state == S.HELD


# --- item 10: revision requests --------------------------------------------------------------------


def test_revision_request_is_acknowledged_and_its_motive_shown_to_the_reviewer(
    client, chain, appraisal, django_capture_on_commit_callbacks
):
    put_in(appraisal, S.FINAL, notified_at=timezone.now() - datetime.timedelta(days=2))
    login(client, chain, "agent")
    motive = "L'intérim assuré au printemps n'est pas mentionné."
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("action", appraisal, action="request_revision"), {"reason": motive})
    assert response.status_code == 302
    assert "Votre demande de révision est envoyée à l'autorité hiérarchique." in flashed(response)
    subjects = {m.subject: m.to for m in mail.outbox}
    assert subjects[f"Votre demande de révision du compte rendu {appraisal.campaign.year} est enregistrée"] == [
        chain["agent"].email
    ]
    received = next(m for m in mail.outbox if m.to == [chain["agent"].email])
    assert chain["reviewer"].full_name in received.body and motive in received.body
    assert any(m.to == [chain["reviewer"].email] for m in mail.outbox)
    body = client.get(url("detail", appraisal)).content.decode()
    assert "Votre demande de révision du" in body and chain["reviewer"].full_name in body

    client.force_login(chain["reviewer"].user)
    body = client.get(url("detail", appraisal)).content.decode()
    form_at = body.index('id="action-answer_revision"')
    motive_at = body.index("L&#x27;intérim assuré au printemps", form_at)
    assert motive_at < body.index('name="decision"', form_at)  # the motive, then the answer form
    queue = client.get(reverse("appraisal:reviewer_queue")).content.decode()
    assert "L&#x27;intérim assuré au printemps" in queue and url("detail", appraisal) in queue


# --- item 8: the report as PDF, and past years' reports -----------------------------------------

PDF_MATRIX = {"agent": 200, "manager": 200, "reviewer": 200, "hr": 200, "other_agent": 404, "anonymous": 302}


@pytest.mark.parametrize("who", ROLES)
def test_report_pdf_permission_matrix(client, chain, appraisal, who, fake_pdf_renderer):  # noqa: F811
    put_in(appraisal, S.NOTIFIED)
    login(client, chain, who)
    response = client.get(url("pdf", appraisal))
    assert response.status_code == PDF_MATRIX[who]
    if response.status_code == 200:
        assert response["Content-Type"] == "application/pdf" and b"".join(response)[:4] == b"%PDF"
        assert "attachment" in response["Content-Disposition"]
        assert response["Cache-Control"] == "private, no-store"
    logged = AppraisalAccessLog.objects.filter(appraisal=appraisal, channel="pdf").exists()
    assert logged == (who == "hr")


def test_no_pdf_before_notification(client, chain, appraisal, fake_pdf_renderer):  # noqa: F811
    put_in(appraisal, S.HELD)
    for who in ("agent", "manager"):
        login(client, chain, who)
        assert url("pdf", appraisal) not in client.get(url("detail", appraisal)).content.decode()
        assert client.get(url("pdf", appraisal)).status_code == 403
    assert not fake_pdf_renderer


def test_the_agent_page_offers_the_pdf_once_notified_and_the_past_reports(client, chain, org, appraisal):
    put_in(appraisal, S.NOTIFIED)
    last_year = make_campaign(org, year=appraisal.campaign.year - 1, launched=True)
    old = put_in(Appraisal.objects.get(campaign=last_year, agent=chain["agent"]), S.FINAL)
    login(client, chain, "agent")
    body = client.get(url("detail", appraisal)).content.decode()
    assert f'href="{url("pdf", appraisal)}"' in body and "Télécharger le compte rendu (PDF" in body
    assert "Mes comptes rendus des autres années" in body
    assert f'href="{url("pdf", old)}"' in body and escape(f"{last_year.name} {last_year.year}") in body
    # the manager reads the same page without the agent's list
    client.force_login(chain["manager"].user)
    body = client.get(url("detail", appraisal)).content.decode()
    assert f'href="{url("pdf", appraisal)}"' in body and "Mes comptes rendus des autres années" not in body
    # a draft of last year (never notified) is not listed
    Appraisal.objects.filter(pk=old.pk).update(state=S.HELD)
    client.force_login(chain["agent"].user)
    assert f'href="{url("pdf", old)}"' not in client.get(url("detail", appraisal)).content.decode()

