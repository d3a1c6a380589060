"""Front-end views of the entretien professionnel: confidentiality, the workflow through the
forms, the compte rendu form, autosave, the reviewer's queue and constant query counts."""

import datetime
import re

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from appraisal import services
from appraisal.choices import AppraisalState as S
from appraisal.choices import RevisionState as R
from appraisal.models import Appraisal, AppraisalAccessLog, AppraisalTransition, Objective
from tests.appraisal import factories
from tests.appraisal.conftest import FILLED
from tests.factories import AgentFactory

pytestmark = pytest.mark.django_db


def url(name, appraisal=None, **kwargs):
    if appraisal is not None:
        kwargs["pk"] = appraisal.pk
    return reverse(f"appraisal:{name}", kwargs=kwargs or None)


def action_url(appraisal, action):
    return url("action", appraisal, action=action)


def login(client, chain, who):
    client.force_login(chain[who].user)
    return client


def local_input(moment):
    """The value a datetime-local input sends."""
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def flashed(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def act(appraisal, action, user, **params):
    return factories.act(appraisal, action, user, **params)


def to_held(appraisal, chain):
    """Convoke (10 days ahead), then move the interview into the past and hold it."""
    manager = chain["manager"].user
    act(appraisal, "convoke", manager, interview_at=(timezone.now() + datetime.timedelta(days=10)).isoformat())
    Appraisal.objects.filter(pk=appraisal.pk).update(interview_at=timezone.now() - datetime.timedelta(hours=1))
    act(appraisal, "hold", manager)


def to_notified(appraisal, chain):
    to_held(appraisal, chain)
    services.save_draft(appraisal_id=appraisal.pk, actor=chain["manager"].user, answers=FILLED)
    act(appraisal, "notify", chain["manager"].user)


def to_acknowledged(appraisal, chain):
    to_notified(appraisal, chain)
    act(appraisal, "acknowledge", chain["agent"].user, observations="RAS")


# --- confidentiality ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["list", "detail", "edit", "reviewer_queue"])
def test_anonymous_is_sent_to_the_login_page(client, appraisal, name):
    target = url(name, appraisal if name in ("detail", "edit") else None)
    response = client.get(target)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login")) and "next=" in response["Location"]


def test_anonymous_action_and_autosave_change_nothing(client, appraisal):
    response = client.post(action_url(appraisal, "cancel"), {"reason": "x"})
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    response = client.post(url("autosave", appraisal), {"s__sec-overall": "x"})
    assert response.status_code == 401 and "detail" in response.json()
    appraisal.refresh_from_db()
    assert appraisal.state == S.CREATED and appraisal.answers == {}


@pytest.mark.parametrize(
    "who, detail, edit",
    [
        ("agent", 200, 403),
        ("manager", 200, 200),
        ("reviewer", 200, 403),
        ("hr", 200, 403),
        ("other_manager", 404, 404),
        ("other_agent", 404, 404),
    ],
)
def test_confidentiality_matrix_on_detail_and_edit(client, chain, appraisal, who, detail, edit):
    login(client, chain, who)
    response = client.get(url("detail", appraisal))
    assert response.status_code == detail
    if detail == 200:
        assert chain["agent"].full_name in response.content.decode()
    else:
        assert chain["agent"].full_name not in response.content.decode()
    assert client.get(url("edit", appraisal)).status_code == edit


@pytest.mark.parametrize(
    "who, status",
    [("agent", 403), ("reviewer", 403), ("hr", 403), ("other_manager", 404), ("other_agent", 404)],
)
def test_confidentiality_matrix_on_actions(client, chain, appraisal, who, status):
    login(client, chain, who)
    moment = timezone.now() + datetime.timedelta(days=10)
    response = client.post(action_url(appraisal, "convoke"), {"interview_at": local_input(moment)})
    assert response.status_code == status
    response = client.post(url("autosave", appraisal), {"s__sec-overall": "Texte"})
    assert response.status_code == status and "detail" in response.json()
    appraisal.refresh_from_db()
    assert appraisal.state == S.CREATED and appraisal.answers == {}
    assert not AppraisalTransition.objects.filter(appraisal=appraisal).exists()


def test_unknown_action_is_404(client, chain, appraisal):
    login(client, chain, "manager")
    assert client.post(action_url(appraisal, "destroy"), {}).status_code == 404
    assert client.get(action_url(appraisal, "hold")).status_code == 405


def test_list_shows_each_user_only_their_appraisals(client, chain, appraisal):
    agent_name, other_name = chain["agent"].full_name, chain["other_agent"].full_name
    detail = url("detail", appraisal)

    body = login(client, chain, "manager").get(url("list")).content.decode()
    assert "Entretiens que je conduis" in body and agent_name in body and detail in body and other_name not in body

    body = login(client, chain, "other_manager").get(url("list")).content.decode()
    assert other_name in body and agent_name not in body and detail not in body

    body = login(client, chain, "agent").get(url("list")).content.decode()
    assert detail in body and "Mon entretien professionnel" in body and "Entretiens que je conduis" not in body

    body = login(client, chain, "other_agent").get(url("list")).content.decode()
    assert detail not in body


def test_hr_read_is_logged_but_not_the_evaluators(client, chain, appraisal):
    login(client, chain, "manager").get(url("detail", appraisal))
    assert not AppraisalAccessLog.objects.exists()
    response = login(client, chain, "hr").get(url("detail", appraisal))
    assert response.status_code == 200
    log = AppraisalAccessLog.objects.get()
    assert log.appraisal == appraisal and log.user == chain["hr"].user and log.channel == "web"


def test_delegate_takes_over_and_the_former_evaluator_loses_access(client, chain, appraisal):
    # A manager of the agent's service (delegation is bounded: tests/appraisal/test_trust.py).
    delegate = AgentFactory(user__username="delegate", org_unit=chain["manager"].org_unit)
    AgentFactory(org_unit=chain["manager"].org_unit, manager=delegate)
    login(client, chain, "manager")
    response = client.post(
        action_url(appraisal, "delegate"), {"evaluator": delegate.employee_number, "reason": "Congé long"}
    )
    assert response.status_code == 302 and response["Location"] == url("list")
    assert "L'entretien est délégué." in flashed(response)
    appraisal.refresh_from_db()
    assert appraisal.evaluator == delegate and appraisal.delegated_from == chain["manager"]

    assert client.get(url("detail", appraisal)).status_code == 404
    assert client.get(url("edit", appraisal)).status_code == 404

    client.force_login(delegate.user)
    assert chain["agent"].full_name in client.get(url("list")).content.decode()
    body = client.get(url("detail", appraisal)).content.decode()
    assert "par délégation" in body and "Congé long" in body
    assert client.get(url("edit", appraisal)).status_code == 200
    moment = timezone.now() + datetime.timedelta(days=9)
    response = client.post(action_url(appraisal, "convoke"), {"interview_at": local_input(moment), "place": "B12"})
    assert response.status_code == 302
    appraisal.refresh_from_db()
    assert appraisal.state == S.CONVOKED and appraisal.interview_place == "B12"


def test_delegate_to_an_unknown_employee_number_shows_the_error_summary(client, chain, appraisal):
    login(client, chain, "manager")
    response = client.post(action_url(appraisal, "delegate"), {"evaluator": "ZZZ999", "reason": "Absence"})
    assert response.status_code == 400
    body = response.content.decode()
    assert 'class="error-summary"' in body and "Aucun agent actif avec le matricule ZZZ999" in body
    assert 'href="#delegate-evaluator"' in body and 'id="delegate-evaluator"' in body
    appraisal.refresh_from_db()
    assert appraisal.evaluator == chain["manager"]


# --- the manager's path -------------------------------------------------------------------------


def test_manager_convokes_holds_writes_and_notifies_through_the_forms(client, chain, appraisal):
    login(client, chain, "manager")
    body = client.get(url("detail", appraisal)).content.decode()
    assert f'action="{action_url(appraisal, "convoke")}"' in body and 'type="datetime-local"' in body
    assert action_url(appraisal, "visa") not in body  # only the actions the manager may use now

    # Convocation with less than 8 days' notice: refused with the workflow's sentence.
    too_soon = timezone.now() + datetime.timedelta(days=3)
    response = client.post(
        action_url(appraisal, "convoke"), {"interview_at": local_input(too_soon), "place": "Salle 2"}, follow=True
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "doit être fixé au moins 8 jours après la convocation" in body
    appraisal.refresh_from_db()
    assert appraisal.state == S.CREATED

    # A malformed date: the field is named in the error summary.
    response = client.post(action_url(appraisal, "convoke"), {"interview_at": "demain"})
    assert response.status_code == 400 and 'href="#convoke-interview_at"' in response.content.decode()

    moment = timezone.now() + datetime.timedelta(days=10)
    response = client.post(action_url(appraisal, "convoke"), {"interview_at": local_input(moment), "place": "Salle 2"})
    assert response.status_code == 302 and response["Location"] == url("detail", appraisal)
    appraisal.refresh_from_db()
    assert appraisal.state == S.CONVOKED and appraisal.interview_place == "Salle 2"
    assert abs((appraisal.interview_at - moment).total_seconds()) < 60

    # Holding before the interview date is refused; after it, accepted.
    response = client.post(action_url(appraisal, "hold"), {}, follow=True)
    assert "ne peut pas être déclaré tenu avant" in response.content.decode()
    Appraisal.objects.filter(pk=appraisal.pk).update(interview_at=timezone.now() - datetime.timedelta(hours=2))
    response = client.post(action_url(appraisal, "hold"), {})
    assert response.status_code == 302
    appraisal.refresh_from_db()
    assert appraisal.state == S.HELD

    # The form: one fieldset per section, radios per criterion and level, 3 empty objective rows.
    response = client.get(url("edit", appraisal))
    assert response.status_code == 200
    body = response.content.decode()
    assert body.count('<fieldset class="appraisal-section') == len(appraisal.campaign.template_snapshot)
    assert 'name="s__sec-criteria__crit-results__level" value="lvl-3"' in body
    assert 'id="s__sec-criteria__crit-results__level__lvl-3"' in body
    assert 'name="s__sec-objectives__rows" value="3"' in body
    assert 'name="s__sec-objectives__2__title"' in body
    assert "Enregistrer et notifier" in body and "appraisal/autosave.js" in body

    draft = {
        "intent": "draft",
        "s__sec-service": "Rigoureux et disponible.",
        "s__sec-criteria__crit-results__level": "lvl-3",
        "s__sec-criteria__crit-skills__level": "lvl-2",
        "s__sec-criteria__crit-skills__comment": "À consolider",
        "s__sec-objectives__rows": "3",
        "s__sec-objectives__0__title": "Former deux collègues",
        "s__sec-objectives__0__due_on": "2026-12-31",
        "s__sec-training__rows": "3",
        "s__sec-training__0__text": "Préparation au concours",
    }
    response = client.post(url("edit", appraisal), draft)
    assert response.status_code == 302 and response["Location"] == url("edit", appraisal)
    appraisal.refresh_from_db()
    assert appraisal.state == S.HELD
    assert appraisal.answers["sec-service"] == "Rigoureux et disponible."
    assert appraisal.answers["sec-criteria"] == {
        "crit-results": {"level": "lvl-3", "comment": ""},
        "crit-skills": {"level": "lvl-2", "comment": "À consolider"},
    }
    assert appraisal.answers["sec-objectives"] == [
        {"title": "Former deux collègues", "indicators": "", "due_on": "2026-12-31"}
    ]
    assert appraisal.answers["sec-training"] == [{"course": None, "text": "Préparation au concours"}]

    # The saved draft is shown again, with one filled row and three empty ones.
    body = client.get(url("edit", appraisal)).content.decode()
    assert re.search(r'id="s__sec-criteria__crit-results__level__lvl-3"[^>]*checked', body)
    assert 'name="s__sec-objectives__rows" value="4"' in body and 'value="Former deux collègues"' in body

    # Notify with the overall appraisal missing: refused, the section is named and linked.
    response = client.post(url("edit", appraisal), {**draft, "intent": "notify"})
    assert response.status_code == 400
    body = response.content.decode()
    assert "Sections obligatoires à remplir avant de notifier : Appréciation générale littérale." in body
    assert 'href="#s__sec-overall"' in body and 'aria-invalid="true"' in body
    appraisal.refresh_from_db()
    assert appraisal.state == S.HELD

    # The draft is saved, then a confirmation step names what notifying does; nothing is notified yet.
    response = client.post(url("edit", appraisal), {**draft, "intent": "notify", "s__sec-overall": "Très bonne année."})
    assert response.status_code == 200
    body = response.content.decode()
    assert "Confirmer : Signer et notifier le compte rendu" in body and "Ce qui va se passer" in body
    assert f'action="{action_url(appraisal, "notify")}"' in body and 'name="confirm" value="1"' in body
    appraisal.refresh_from_db()
    assert appraisal.state == S.HELD and appraisal.answers["sec-overall"] == "Très bonne année."
    response = client.post(action_url(appraisal, "notify"), {"confirm": "1", "reason": ""})
    assert response.status_code == 302 and response["Location"] == url("detail", appraisal)
    appraisal.refresh_from_db()
    assert appraisal.state == S.NOTIFIED and appraisal.answers["sec-overall"] == "Très bonne année."
    assert len(appraisal.content_hash) == 64 and appraisal.evaluator_signed_at
    assert Objective.objects.filter(set_in=appraisal, title="Former deux collègues").exists()

    # Frozen: the form is closed, the detail shows the hash and the timeline.
    response = client.get(url("edit", appraisal))
    assert response.status_code == 302 and response["Location"] == url("detail", appraisal)
    body = client.get(url("detail", appraisal)).content.decode()
    assert appraisal.content_hash in body and "Très bonne année." in body and "figé depuis sa notification" in body
    assert body.count("<li>\n      <time datetime=") == 3  # convoke, hold, notify


def test_edit_form_rejects_bad_input_and_keeps_what_was_typed(client, chain, appraisal):
    login(client, chain, "manager")
    data = {
        "intent": "draft",
        "s__sec-service": "Texte gardé",
        "s__sec-criteria__crit-results__level": "lvl-99",
        "s__sec-objectives__rows": "3",
        "s__sec-objectives__0__indicators": "sans intitulé",
        "s__sec-objectives__1__title": "Objectif daté",
        "s__sec-objectives__1__due_on": "31/02/2026",
        "s__sec-training__rows": "3",
        "s__sec-training__0__course": "999999",
    }
    response = client.post(url("edit", appraisal), data)
    assert response.status_code == 400
    body = response.content.decode()
    assert 'class="error-summary"' in body
    assert 'href="#s__sec-criteria__crit-results__level__lvl-1"' in body
    assert 'href="#s__sec-objectives__0__title"' in body and "Indiquez l&#x27;intitulé de l&#x27;objectif." in body
    assert 'href="#s__sec-objectives__1__due_on"' in body
    assert 'href="#s__sec-training__0__course"' in body
    assert "Texte gardé" in body and 'value="Objectif daté"' in body
    appraisal.refresh_from_db()
    assert appraisal.answers == {}


def test_carried_objectives_are_assessed_in_the_results_section(client, chain, appraisal, campaign):
    previous = Objective.objects.create(
        agent=chain["agent"], set_in=appraisal, assessed_in=appraisal, title="Dématérialiser les congés"
    )
    login(client, chain, "manager")
    body = client.get(url("edit", appraisal)).content.decode()
    field = f"s__sec-results__{previous.pk}__status"
    assert "Dématérialiser les congés" in body and f'name="{field}"' in body
    response = client.post(
        url("edit", appraisal),
        {"intent": "draft", field: "achieved", f"s__sec-results__{previous.pk}__comment": "Fait en juin"},
    )
    assert response.status_code == 302
    appraisal.refresh_from_db()
    assert appraisal.answers["sec-results"] == {str(previous.pk): {"status": "achieved", "comment": "Fait en juin"}}


def test_training_needs_link_live_courses(client, chain, appraisal):
    from tests.learning.conftest import build_course

    course = build_course()["course"]
    login(client, chain, "manager")
    body = client.get(url("edit", appraisal)).content.decode()
    assert f'<option value="{course.pk}">{course.title}</option>' in body
    response = client.post(
        url("edit", appraisal),
        {
            "intent": "draft",
            "s__sec-training__rows": "3",
            "s__sec-training__1__course": str(course.pk),
            "s__sec-training__1__text": "Avant la migration du fichier RH",
        },
    )
    assert response.status_code == 302
    appraisal.refresh_from_db()
    assert appraisal.answers["sec-training"] == [{"course": course.pk, "text": "Avant la migration du fichier RH"}]
    assert services.training_needs(appraisal) == [{"course": course.pk, "text": "Avant la migration du fichier RH"}]
    body = client.get(url("edit", appraisal)).content.decode()
    assert f'<option value="{course.pk}" selected>' in body
    body = client.get(url("detail", appraisal)).content.decode()
    assert f"<strong>{course.title}</strong> — Avant la migration du fichier RH" in body


def test_late_notification_needs_a_reason(client, chain, appraisal):
    to_held(appraisal, chain)
    Appraisal.objects.filter(pk=appraisal.pk).update(held_at=timezone.now() - datetime.timedelta(days=20))
    services.save_draft(appraisal_id=appraisal.pk, actor=chain["manager"].user, answers=FILLED)
    login(client, chain, "manager")
    body = client.get(url("detail", appraisal)).content.decode()
    assert "dépassée" in body
    response = client.post(action_url(appraisal, "notify"), {}, follow=True)
    assert "indiquez le motif du retard pour notifier" in response.content.decode()
    # With the reason, the confirmation step keeps it in its (visible) field; then the act.
    response = client.post(action_url(appraisal, "notify"), {"reason": "Arrêt maladie de l'évaluateur"})
    assert response.status_code == 200
    body = response.content.decode()
    assert 'name="confirm" value="1"' in body and "Arrêt maladie de l&#x27;évaluateur</textarea>" in body
    assert Appraisal.objects.get(pk=appraisal.pk).state == S.HELD
    response = client.post(action_url(appraisal, "notify"), {"reason": "Arrêt maladie de l'évaluateur", "confirm": "1"})
    assert response.status_code == 302
    appraisal.refresh_from_db()
    assert appraisal.state == S.NOTIFIED
    assert AppraisalTransition.objects.get(appraisal=appraisal, action="notify").note == "Arrêt maladie de l'évaluateur"


# --- the agent ---------------------------------------------------------------------------------


def test_agent_does_not_read_the_draft_before_notification(client, chain, appraisal):
    to_held(appraisal, chain)
    services.save_draft(appraisal_id=appraisal.pk, actor=chain["manager"].user, answers=FILLED)
    body = login(client, chain, "agent").get(url("detail", appraisal)).content.decode()
    assert FILLED["sec-overall"] not in body and "vous sera communiqué" in body
    body = login(client, chain, "reviewer").get(url("detail", appraisal)).content.decode()
    assert FILLED["sec-overall"] in body


def test_agent_saves_observations_then_acknowledges(client, chain, appraisal):
    to_notified(appraisal, chain)
    login(client, chain, "agent")
    body = client.get(url("detail", appraisal)).content.decode()
    assert FILLED["sec-overall"] in body and FILLED["sec-objectives"][0]["title"] in body
    assert "Je certifie avoir pris connaissance du compte rendu" in body
    assert f'formaction="{url("observations", appraisal)}"' in body

    response = client.post(url("observations", appraisal), {"observations": "Premier jet"})
    assert response.status_code == 302
    appraisal.refresh_from_db()
    assert appraisal.observations == "Premier jet" and appraisal.state == S.NOTIFIED
    assert "Premier jet" in client.get(url("detail", appraisal)).content.decode()
    # A draft until signed: the evaluator does not read it yet.
    assert "Premier jet" not in login(client, chain, "manager").get(url("detail", appraisal)).content.decode()
    login(client, chain, "agent")

    # Without the certification box: refused, the box is named in the error summary.
    response = client.post(action_url(appraisal, "acknowledge"), {"observations": "Merci pour cet échange."})
    assert response.status_code == 400
    body = response.content.decode()
    assert 'href="#acknowledge-certify"' in body and "Cochez la case" in body
    assert "Merci pour cet échange." in body  # what was typed is kept
    appraisal.refresh_from_db()
    assert appraisal.state == S.NOTIFIED

    response = client.post(
        action_url(appraisal, "acknowledge"), {"observations": "Merci pour cet échange.", "certify": "on"}
    )
    assert response.status_code == 302
    appraisal.refresh_from_db()
    assert appraisal.state == S.ACKNOWLEDGED and appraisal.agent_signed_at
    assert appraisal.observations == "Merci pour cet échange."
    body = client.get(url("detail", appraisal)).content.decode()
    assert "a pris connaissance le" in body and "Merci pour cet échange." in body


def test_agent_requests_a_revision_and_the_reviewer_rejects_it(client, chain, appraisal):
    to_acknowledged(appraisal, chain)
    login(client, chain, "agent")
    response = client.post(action_url(appraisal, "request_revision"), {"reason": ""})
    assert response.status_code == 400 and 'href="#request_revision-reason"' in response.content.decode()
    response = client.post(action_url(appraisal, "request_revision"), {"reason": "L'objectif 1 n'a pas été discuté."})
    assert response.status_code == 302
    appraisal.refresh_from_db()
    assert appraisal.revision_state == R.REQUESTED

    login(client, chain, "reviewer")
    queue = client.get(url("reviewer_queue")).content.decode()
    assert "Demandes de révision à traiter" in queue and f"{url('detail', appraisal)}#action-answer_revision" in queue
    response = client.post(
        action_url(appraisal, "answer_revision"), {"decision": "reject", "reason": "Objectif discuté."}
    )
    assert response.status_code == 302
    appraisal.refresh_from_db()
    assert appraisal.revision_state == R.REJECTED and appraisal.state == S.ACKNOWLEDGED


def test_hr_records_a_refusal_then_cancels(client, chain, appraisal):
    to_notified(appraisal, chain)
    login(client, chain, "hr")
    body = client.get(url("detail", appraisal)).content.decode()
    assert f'action="{action_url(appraisal, "record_refusal")}"' in body
    assert f'action="{action_url(appraisal, "cancel")}"' in body
    assert f'action="{action_url(appraisal, "acknowledge")}"' not in body

    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    response = client.post(
        action_url(appraisal, "record_refusal"), {"reason": "Refus de signer", "date": tomorrow.isoformat()}
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert 'href="#record_refusal-date"' in body and "entre la notification et aujourd" in body
    response = client.post(
        action_url(appraisal, "record_refusal"), {"reason": "Refus de signer", "date": timezone.localdate().isoformat()}
    )
    assert response.status_code == 302
    appraisal.refresh_from_db()
    assert appraisal.state == S.ACKNOWLEDGED and appraisal.refusal_recorded_at and not appraisal.agent_signed_at

    response = client.post(action_url(appraisal, "cancel"), {"reason": ""})
    assert response.status_code == 400 and 'href="#cancel-reason"' in response.content.decode()
    response = client.post(action_url(appraisal, "cancel"), {"reason": "Départ de l'agent"}, follow=True)
    assert response.status_code == 200
    appraisal.refresh_from_db()
    assert appraisal.state == S.CANCELLED
    assert (
        "Départ de l&#x27;agent" in response.content.decode()
        and "L&#x27;entretien est annulé." in response.content.decode()
    )


# --- the reviewer ------------------------------------------------------------------------------


def test_reviewer_visas_from_the_queue(client, chain, appraisal):
    login(client, chain, "reviewer")
    assert "Aucun compte rendu n'attend votre visa." in client.get(url("reviewer_queue")).content.decode()
    body = client.get(url("list")).content.decode()
    assert url("reviewer_queue") in body and "Comptes rendus à viser : 0" in body
    to_acknowledged(appraisal, chain)

    body = client.get(url("list")).content.decode()
    assert url("reviewer_queue") in body and "Comptes rendus à viser : 1" in body
    # The queue links to the report (read before the visa): no visa button in the list.
    body = client.get(url("reviewer_queue")).content.decode()
    assert chain["agent"].full_name in body and f'action="{action_url(appraisal, "visa")}"' not in body
    assert f'href="{url("detail", appraisal)}#report-title"' in body
    body = client.get(url("detail", appraisal)).content.decode()
    assert f'action="{action_url(appraisal, "visa")}"' in body and "Très bonne année" in body

    # The visa asks for confirmation first, naming what will happen.
    response = client.post(action_url(appraisal, "visa"), {"next": url("reviewer_queue")})
    assert response.status_code == 200
    body = response.content.decode()
    assert "Confirmer : Viser le compte rendu" in body and "devient définitif" in body
    assert f'name="next" value="{url("reviewer_queue")}"' in body
    assert Appraisal.objects.get(pk=appraisal.pk).state == S.ACKNOWLEDGED
    response = client.post(action_url(appraisal, "visa"), {"next": url("reviewer_queue"), "confirm": "1"})
    assert response.status_code == 302 and response["Location"] == url("reviewer_queue")
    assert "Le compte rendu est visé : il est définitif." in flashed(response)
    appraisal.refresh_from_db()
    assert appraisal.state == S.FINAL and appraisal.visa_at
    assert f'action="{action_url(appraisal, "visa")}"' not in client.get(url("reviewer_queue")).content.decode()

    # A second visa is refused with a sentence (PRG), not an error page.
    response = client.post(action_url(appraisal, "visa"), {"confirm": "1"}, follow=True)
    assert (
        response.status_code == 200 and "impossible : l&#x27;entretien est à l&#x27;état" in response.content.decode()
    )


def test_next_must_stay_on_the_site(client, chain, appraisal):
    to_acknowledged(appraisal, chain)
    login(client, chain, "reviewer")
    response = client.post(action_url(appraisal, "visa"), {"next": "https://evil.example/", "confirm": "1"})
    assert response["Location"] == url("detail", appraisal)


# --- autosave ----------------------------------------------------------------------------------


def test_autosave_returns_json_and_refuses_once_notified(client, chain, appraisal):
    login(client, chain, "manager")
    response = client.post(
        url("autosave", appraisal),
        {"s__sec-service": "Brouillon auto", "s__sec-criteria__crit-results__level": "lvl-4"},
    )
    assert response.status_code == 200
    payload = response.json()
    assert payload["saved_at"] and payload["message"].startswith("Brouillon enregistré à ")
    appraisal.refresh_from_db()
    assert appraisal.answers["sec-service"] == "Brouillon auto"
    assert appraisal.answers["sec-criteria"]["crit-results"]["level"] == "lvl-4"

    response = client.post(url("autosave", appraisal), {"s__sec-criteria__crit-results__level": "nope"})
    assert response.status_code == 400 and "detail" in response.json()

    to_notified(appraisal, chain)
    response = client.post(url("autosave", appraisal), {"s__sec-service": "Trop tard"})
    assert response.status_code == 409 and "figé" in response.json()["detail"]
    appraisal.refresh_from_db()
    assert appraisal.answers["sec-service"] == FILLED["sec-service"]


def test_autosave_of_the_agents_observations(client, chain, appraisal):
    login(client, chain, "agent")
    assert client.post(url("autosave", appraisal), {"observations": "Trop tôt"}).status_code == 409
    to_notified(appraisal, chain)
    response = client.post(url("autosave", appraisal), {"observations": "En cours de rédaction"})
    assert response.status_code == 200 and "saved_at" in response.json()
    appraisal.refresh_from_db()
    assert appraisal.observations == "En cours de rédaction"


# --- template preview --------------------------------------------------------------------------


def test_template_preview_renders_the_blank_form(campaign, chain):
    request = RequestFactory().get("/admin/snippets/appraisal/appraisaltemplate/preview/")
    request.user = chain["hr"].user
    html = render_to_string(
        "appraisal/template_preview.html", {"object": campaign.template, "request": request}, request
    )
    assert html.count('<fieldset class="appraisal-section') == len(campaign.template_snapshot)
    assert 'type="radio"' in html and "Maîtrise" in html and 'name="s__sec-objectives__2__title"' in html
    assert "Appréciation générale littérale" in html and "(obligatoire pour notifier)" in html


# --- constant query counts ---------------------------------------------------------------------


def _reports(chain, org, count):
    for _index in range(count):
        AgentFactory(org_unit=org["bureau"], manager=chain["manager"])


def _list_queries(client):
    client.get(url("list"))  # warm caches (session, site settings)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url("list"))
    assert response.status_code == 200
    return len(ctx.captured_queries), response.content.decode()


def test_list_query_count_does_not_grow_with_rows(client, chain, org, campaign):
    _reports(chain, org, 1)
    services.launch_campaign(campaign_id=campaign.pk)
    login(client, chain, "manager")
    small, body = _list_queries(client)
    assert body.count("/entretiens/") and Appraisal.objects.filter(evaluator=chain["manager"]).count() == 2

    _reports(chain, org, 8)
    services.launch_campaign(campaign_id=campaign.pk)
    mine = Appraisal.objects.filter(evaluator=chain["manager"])
    assert mine.count() == 10
    # Different states, so that every deadline column is computed.
    now = timezone.now()
    ids = list(mine.values_list("pk", flat=True))
    Appraisal.objects.filter(pk__in=ids[:3]).update(state=S.HELD, held_at=now, interview_at=now)
    Appraisal.objects.filter(pk__in=ids[3:6]).update(state=S.NOTIFIED, held_at=now, interview_at=now, notified_at=now)
    large, body = _list_queries(client)
    assert large == small
    assert "Limite de notification" in body and "Compte rendu notifié" in body


def test_reviewer_queue_query_count_does_not_grow_with_rows(client, chain, org, campaign):
    _reports(chain, org, 1)
    services.launch_campaign(campaign_id=campaign.pk)
    mine = Appraisal.objects.filter(reviewer=chain["reviewer"])
    mine.update(state=S.ACKNOWLEDGED, notified_at=timezone.now(), agent_signed_at=timezone.now())
    login(client, chain, "reviewer")
    client.get(url("reviewer_queue"))
    with CaptureQueriesContext(connection) as small:
        client.get(url("reviewer_queue"))
    _reports(chain, org, 8)
    services.launch_campaign(campaign_id=campaign.pk)
    mine.update(state=S.ACKNOWLEDGED, notified_at=timezone.now(), agent_signed_at=timezone.now())
    with CaptureQueriesContext(connection) as large:
        response = client.get(url("reviewer_queue"))
    assert response.content.decode().count(">Lire et viser<") == 10
    assert len(large.captured_queries) == len(small.captured_queries)
