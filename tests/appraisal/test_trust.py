"""Trust boundaries of the appraisal app.

* Delegation is bounded: an evaluator hands an appraisal over only to someone in the agent's
  management chain or to a manager of the agent's unit subtree (403 with a sentence
  otherwise); HR may designate any active agent; every delegation is in the transition log
  (evaluator before and after, actor, reason) that HR reads, and the agent is told by mail.
* The content of a compte rendu is validated in one place (``appraisal/content.py``) for the
  web form and the API: malformed content gets a 400 naming the section and never reaches
  the database; the readers (detail page, edit form, PDF, notify) no longer fail on bad
  stored data; a data migration repairs the stored rows.
"""

import datetime
import html
import importlib

import pytest
from django.apps import apps as django_apps
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from appraisal import content, services
from appraisal.choices import AppraisalState as S
from appraisal.models import Appraisal, AppraisalTransition, AppraisalVersion, Objective
from appraisal.workflow import may_evaluate_by_delegation
from cms.models import Agent
from cms.text import of
from tests.appraisal.conftest import FILLED
from tests.factories import AgentFactory, OrgUnitFactory

pytestmark = pytest.mark.django_db

API = "/api/v1/"
OUT_OF_BOUNDS = "qu'à un responsable de la chaîne hiérarchique de l'agent"


def api(agent_or_user):
    client = APIClient()
    client.force_authenticate(getattr(agent_or_user, "user", agent_or_user))
    return client


def api_url(appraisal, suffix=""):
    return f"{API}appraisals/{appraisal.pk}/{suffix}"


def web_url(name, appraisal, **kwargs):
    return reverse(f"appraisal:{name}", kwargs={"pk": appraisal.pk, **kwargs})


def delegate_via_api(who, appraisal, number, reason="Congé de longue durée"):
    return api(who).post(api_url(appraisal, "actions/delegate/"), {"evaluator": number, "reason": reason}, format="json")


# --- delegation ------------------------------------------------------------------------------------


@pytest.fixture
def people(chain, org):
    """Around the chain of tests/conftest.py (reviewer → manager → agent, in the DRH
    direction → service → bureau): people the evaluator may or may not hand the appraisal to."""
    sibling = OrgUnitFactory(code="DRH-SF-B2", name="Bureau des concours", kind="bureau", parent=org["service"])
    below = OrgUnitFactory(code="DRH-SF-B1-C", name="Cellule des parcours", kind="bureau", parent=org["bureau"])
    finance = OrgUnitFactory(code="DFIN", name="Direction des finances", kind="direction")

    def manager_in(unit, **kwargs):
        manager = AgentFactory(org_unit=unit, **kwargs)
        AgentFactory(org_unit=unit, manager=manager)
        return manager

    subordinate = manager_in(below, manager=chain["agent"])  # manages someone, but reports to the agent
    return {
        **chain,
        # eligible
        "bureau_manager": manager_in(org["bureau"]),  # a manager of the agent's own unit
        "below_manager": manager_in(below),  # a manager of a unit below the agent's
        # not eligible
        "peer": AgentFactory(org_unit=org["service"]),  # no direct reports
        "sibling_manager": manager_in(sibling),  # another branch of the org chart
        "finance_manager": manager_in(finance),
        "finance_agent": AgentFactory(org_unit=finance),
        "subordinate": subordinate,
        "inactive_manager": manager_in(org["bureau"], active=False),
    }


@pytest.mark.parametrize("who", ["peer", "sibling_manager", "finance_manager", "finance_agent", "subordinate"])
def test_evaluator_cannot_delegate_outside_the_chain_or_unit_subtree(people, appraisal, who):
    response = delegate_via_api(people["manager"], appraisal, people[who].employee_number)
    assert response.status_code == 403, response.content
    detail = response.json()["detail"]
    assert OUT_OF_BOUNDS in detail and "ressources humaines" in detail and detail.endswith(".")
    appraisal.refresh_from_db()
    assert appraisal.evaluator == people["manager"] and appraisal.delegated_from is None
    assert not AppraisalTransition.objects.filter(appraisal=appraisal).exists()


def test_a_delegate_is_bounded_too(people, appraisal):
    """Whoever the current evaluator is (here a delegate), the bounds are the agent's."""
    Appraisal.objects.filter(pk=appraisal.pk).update(evaluator=people["bureau_manager"], delegated_from=people["manager"])
    response = delegate_via_api(people["bureau_manager"], appraisal, people["finance_manager"].employee_number)
    assert response.status_code == 403 and OUT_OF_BOUNDS in response.json()["detail"]
    assert delegate_via_api(people["bureau_manager"], appraisal, people["reviewer"].employee_number).status_code == 200


def test_delegation_to_n_plus_2_is_logged_for_hr_and_mailed_to_the_agent(
    people, appraisal, client, django_capture_on_commit_callbacks
):
    manager, reviewer, agent = people["manager"], people["reviewer"], people["agent"]
    with django_capture_on_commit_callbacks(execute=True):
        response = delegate_via_api(manager, appraisal, reviewer.employee_number, "Congé de longue durée")
    assert response.status_code == 200, response.content
    appraisal.refresh_from_db()
    assert appraisal.evaluator == reviewer and appraisal.delegated_from == manager

    # The append-only log: from, to, actor, reason.
    row = AppraisalTransition.objects.get(appraisal=appraisal, action="delegate")
    assert (row.from_evaluator, row.to_evaluator, row.actor) == (manager, reviewer, manager.user)
    assert "Congé de longue durée" in row.note and reviewer.employee_number in row.note

    # The agent is told who now evaluates them (in French); the new evaluator is told too.
    [to_agent] = [m for m in mail.outbox if m.to == [agent.email]]
    assert to_agent.subject == f"Entretien professionnel {appraisal.campaign.year} : changement d'évaluateur"
    assert f"désormais conduit par {reviewer.full_name}" in to_agent.body
    assert f"par délégation {of(manager.full_name)}" in to_agent.body and "Motif : Congé de longue durée" in to_agent.body
    assert [m.to for m in mail.outbox if m.to == [reviewer.email]] == [[reviewer.email]]

    # Where HR reads the history: the campaign dashboard, the appraisal's page, the API.
    client.force_login(people["hr"].user)
    body = html.unescape(
        client.get(reverse("appraisal_hr:dashboard", args=[appraisal.campaign_id])).content.decode()
    )
    assert 'class="delegation-row"' in body
    section = body[body.index('id="delegations"') :]
    for text in (agent.full_name, manager.full_name, reviewer.full_name, "Congé de longue durée"):
        assert text in section
    body = html.unescape(client.get(web_url("detail", appraisal)).content.decode())
    assert f"{manager.full_name} ({manager.employee_number}) remplacé par {reviewer.full_name}" in body
    [logged] = [t for t in api(people["hr"]).get(api_url(appraisal)).json()["transitions"] if t["action"] == "delegate"]
    assert logged["from_evaluator"]["employee_number"] == manager.employee_number
    assert logged["to_evaluator"]["employee_number"] == reviewer.employee_number
    assert logged["actor"] == manager.user.get_full_name() and "Congé de longue durée" in logged["note"]


@pytest.mark.parametrize("who", ["bureau_manager", "below_manager", "other_manager"])
def test_evaluator_may_delegate_to_a_manager_of_the_unit_subtree(people, appraisal, who):
    # other_manager: a manager of the DRH direction, above the agent's bureau.
    response = delegate_via_api(people["manager"], appraisal, people[who].employee_number)
    assert response.status_code == 200, response.content
    assert response.json()["evaluator"]["employee_number"] == people[who].employee_number


@pytest.mark.parametrize("who", ["finance_agent", "peer", "sibling_manager"])
def test_hr_designates_any_active_agent(people, appraisal, who, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = delegate_via_api(people["hr"], appraisal, people[who].employee_number, "Désignation RH")
    assert response.status_code == 200, response.content
    row = AppraisalTransition.objects.get(appraisal=appraisal, action="delegate")
    assert (row.from_evaluator, row.to_evaluator, row.actor) == (people["manager"], people[who], people["hr"].user)
    assert any(m.to == [people["agent"].email] and people[who].full_name in m.body for m in mail.outbox)


@pytest.mark.parametrize("actor", ["manager", "hr"])
@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("inactive_manager", "n'est plus en activité"),
        ("agent", "ne peut pas être son propre évaluateur"),
        ("manager", "déjà l'évaluateur"),
    ],
)
def test_delegation_to_inactive_self_or_current_evaluator_is_400(people, appraisal, actor, target, message):
    response = delegate_via_api(people[actor], appraisal, people[target].employee_number)
    assert response.status_code == 400, response.content
    assert message in response.json()["errors"]["evaluator"][0]
    appraisal.refresh_from_db()
    assert appraisal.evaluator == people["manager"]
    assert not AppraisalTransition.objects.filter(appraisal=appraisal).exists()


def test_web_form_refuses_an_out_of_bounds_delegation_with_the_sentence(people, appraisal, client):
    client.force_login(people["manager"].user)
    response = client.post(
        web_url("action", appraisal, action="delegate"),
        {"evaluator": people["finance_manager"].employee_number, "reason": "Congé"},
    )
    assert response.status_code == 403
    body = html.unescape(response.content.decode())
    assert 'class="error-summary"' in body and OUT_OF_BOUNDS in body and 'href="#delegate-evaluator"' in body
    appraisal.refresh_from_db()
    assert appraisal.evaluator == people["manager"]
    response = client.post(
        web_url("action", appraisal, action="delegate"),
        {"evaluator": people["reviewer"].employee_number, "reason": "Congé"},
    )
    assert response.status_code == 302
    appraisal.refresh_from_db()
    assert appraisal.evaluator == people["reviewer"]


def test_eligibility_is_the_documented_rule(people, appraisal):
    fresh = {name: Agent.objects.select_related("org_unit").get(pk=person.pk) for name, person in people.items()}
    eligible = {"manager", "reviewer", "bureau_manager", "below_manager", "other_manager"}
    for name, person in fresh.items():
        assert may_evaluate_by_delegation(fresh["agent"], person) == (name in eligible), name


# --- content: one validator ---------------------------------------------------------------------------

BEFORE = {"sec-overall": "Avant"}


def nested(depth):
    value = "fond"
    for _ in range(depth):
        value = {"x": value}
    return value


# (answers sent, a fragment of the 400's sentence naming the section)
BAD_CONTENT = {
    "unknown section": ({"sec-nope": "x"}, "Sections inconnues : sec-nope"),
    "criteria level outside the scale": (
        {"sec-criteria": {"crit-results": {"level": "lvl-9", "comment": ""}}},
        "Section « Appréciation de la valeur professionnelle », critère « Résultats professionnels obtenus » : "
        "niveau « lvl-9 » hors de l'échelle",
    ),
    "unknown criterion": ({"sec-criteria": {"crit-nope": {"level": "lvl-1"}}}, "critère inconnu : « crit-nope »"),
    "20,001-character text": ({"sec-service": "a" * 20001}, "Section « Manière de servir » : le texte ne doit pas"),
    "objective title over 500": (
        {"sec-objectives": [{"title": "t" * 501}]},
        "Section « Objectifs assignés pour l'année à venir », objectif n° 1 : l'intitulé ne doit pas dépasser 500",
    ),
    "date that does not exist": (
        {"sec-objectives": [{"title": "Former", "due_on": "2026-02-31"}]},
        "Section « Objectifs assignés pour l'année à venir », objectif n° 1 : échéance invalide",
    ),
    "date not ISO": ({"sec-objectives": [{"title": "Former", "due_on": "31/12/2026"}]}, "échéance invalide"),
    "course that does not exist": (
        {"sec-training": [{"course": 999999, "text": "x"}]},
        "Section « Besoins de formation », besoin de formation n° 1 : formation « 999999 » inconnue",
    ),
    "course id beyond 64 bits": ({"sec-training": [{"course": 2**70, "text": "x"}]}, "Section « Besoins de formation »"),
    "list instead of a string": ({"sec-service": ["a", "b"]}, "Section « Manière de servir » : la réponse doit être un texte"),
    "string instead of a list": ({"sec-objectives": "Former"}, "la réponse doit être une liste d'objectifs"),
    "nested dicts 50 deep in a text": ({"sec-career": nested(50)}, "Section « Perspectives d'évolution"),
    "nested dicts 50 deep in a grid": ({"sec-criteria": {"crit-results": nested(50)}}, "champs inconnus : x"),
    "nested dicts 50 deep in a row": ({"sec-training": [{"text": nested(50)}]}, "le besoin exprimé doit être un texte"),
    "unknown field in a row": ({"sec-objectives": [{"title": "A", "owner": "B"}]}, "champs inconnus : owner"),
    "NUL character": ({"sec-overall": "a\x00b"}, "Section « Appréciation générale littérale » : le texte contient"),
    "too many rows": ({"sec-objectives": [{"title": f"O{i}"} for i in range(101)]}, "au plus 100 lignes"),
    "objective not carried over": ({"sec-results": {"424242": {"status": "achieved"}}}, "non reporté sur cet entretien"),
    "the agent's observations": ({"sec-observations": "x"}, "Section « Observations de l'agent »"),
}


@pytest.mark.parametrize("case", list(BAD_CONTENT))
def test_api_content_patch_refuses_malformed_content_naming_the_section(chain, appraisal, case):
    answers, fragment = BAD_CONTENT[case]
    Appraisal.objects.filter(pk=appraisal.pk).update(answers=BEFORE)
    response = api(chain["manager"]).patch(api_url(appraisal, "content/"), {"answers": answers}, format="json")
    assert response.status_code == 400, response.content
    body = response.json()
    assert any(fragment in message for message in body["errors"]["answers"]), body
    assert fragment in body["detail"]
    assert Appraisal.objects.get(pk=appraisal.pk).answers == BEFORE


def test_api_content_patch_stores_cleaned_content(chain, appraisal):
    from tests.learning.conftest import build_course

    course = build_course()["course"]
    answers = {
        "sec-service": "  Rigoureux.  ",
        "sec-training": [{"course": str(course.pk), "text": "RGPD"}, {"course": None, "text": ""}],
        "sec-objectives": [{"title": "Former deux collègues", "due_on": "2026-12-31"}],
        "sec-criteria": {"crit-results": {"level": "lvl-3"}, "crit-skills": {"level": "", "comment": ""}},
    }
    response = api(chain["manager"]).patch(api_url(appraisal, "content/"), {"answers": answers}, format="json")
    assert response.status_code == 200, response.content
    assert Appraisal.objects.get(pk=appraisal.pk).answers == {
        "sec-service": "Rigoureux.",
        "sec-training": [{"course": course.pk, "text": "RGPD"}],
        "sec-objectives": [{"title": "Former deux collègues", "indicators": "", "due_on": "2026-12-31"}],
        "sec-criteria": {"crit-results": {"level": "lvl-3", "comment": ""}},
    }


def test_service_refuses_malformed_content_whoever_calls(chain, appraisal):
    with pytest.raises(ValidationError) as excinfo:
        services.save_draft(appraisal_id=appraisal.pk, actor=chain["manager"].user, answers={"sec-service": {"a": 1}})
    assert "Section « Manière de servir »" in excinfo.value.message_dict["answers"][0]
    assert Appraisal.objects.get(pk=appraisal.pk).answers == {}


def test_agent_observations_are_capped(chain, appraisal):
    Appraisal.objects.filter(pk=appraisal.pk).update(state=S.NOTIFIED, notified_at=timezone.now(), answers=FILLED)
    agent = api(chain["agent"])
    response = agent.patch(api_url(appraisal, "content/"), {"observations": "o" * 20001}, format="json")
    assert response.status_code == 400 and "observations" in response.json()["errors"]
    with pytest.raises(ValidationError):
        services.save_draft(appraisal_id=appraisal.pk, actor=chain["agent"].user, observations="o" * 20001)
    assert Appraisal.objects.get(pk=appraisal.pk).observations == ""


# Through the web form: (POST fields, a fragment of the message, the input it is linked to)
BAD_FORM = {
    "20,001-character text": ({"s__sec-service": "a" * 20001}, "Section « Manière de servir »", "s__sec-service"),
    "criteria level outside the scale": (
        {"s__sec-criteria__crit-results__level": "lvl-9"},
        "Section « Appréciation de la valeur professionnelle », critère « Résultats professionnels obtenus »",
        "s__sec-criteria__crit-results__level__lvl-1",
    ),
    "objective title over 500": (
        {"s__sec-objectives__rows": "1", "s__sec-objectives__0__title": "t" * 501},
        "Section « Objectifs assignés pour l'année à venir », objectif n° 1",
        "s__sec-objectives__0__title",
    ),
    "date that does not exist": (
        {"s__sec-objectives__rows": "1", "s__sec-objectives__0__title": "A", "s__sec-objectives__0__due_on": "2026-02-31"},
        "Échéance invalide",
        "s__sec-objectives__0__due_on",
    ),
    "course that does not exist": (
        {"s__sec-training__rows": "1", "s__sec-training__0__course": "999999"},
        "Section « Besoins de formation », besoin de formation n° 1",
        "s__sec-training__0__course",
    ),
    "course id beyond 64 bits": (
        {"s__sec-training__rows": "1", "s__sec-training__0__course": "9" * 30},
        "Section « Besoins de formation »",
        "s__sec-training__0__course",
    ),
}


@pytest.mark.parametrize("case", list(BAD_FORM))
def test_web_form_refuses_malformed_content_naming_the_section(client, chain, appraisal, case):
    fields, fragment, html_id = BAD_FORM[case]
    Appraisal.objects.filter(pk=appraisal.pk).update(answers=BEFORE)
    client.force_login(chain["manager"].user)
    response = client.post(web_url("edit", appraisal), {"intent": "draft", "s__sec-overall": "Avant", **fields})
    assert response.status_code == 400
    body = html.unescape(response.content.decode())
    assert 'class="error-summary"' in body and fragment in body and f'href="#{html_id}"' in body
    assert Appraisal.objects.get(pk=appraisal.pk).answers == BEFORE
    # the autosave goes through the same validator
    response = client.post(web_url("autosave", appraisal), {"s__sec-overall": "Avant", **fields})
    assert response.status_code == 400 and fragment.split(",")[0] in response.json()["detail"]
    assert Appraisal.objects.get(pk=appraisal.pk).answers == BEFORE


def test_web_form_refuses_an_unknown_result_status(client, chain, appraisal):
    carried = Objective.objects.create(agent=chain["agent"], set_in=appraisal, assessed_in=appraisal, title="Congés")
    client.force_login(chain["manager"].user)
    response = client.post(
        web_url("edit", appraisal), {"intent": "draft", f"s__sec-results__{carried.pk}__status": "parfait"}
    )
    assert response.status_code == 400
    body = html.unescape(response.content.decode())
    assert "Section « Résultats professionnels au regard des objectifs de l'année écoulée »" in body
    assert f'href="#s__sec-results__{carried.pk}__status"' in body
    assert Appraisal.objects.get(pk=appraisal.pk).answers == {}


# --- readers of bad stored data ------------------------------------------------------------------------

GARBAGE = {
    "a list": [1, "deux", {"trois": 3}],
    "a string": "n'importe quoi",
    "a number": 42,
    "bad values everywhere": {
        "sec-service": {"nested": ["x"]},
        "sec-overall": ["liste"],
        "sec-career": 12,
        "sec-experience": nested(50),
        "sec-criteria": {"crit-results": "lvl-3", "crit-skills": {"level": ["x"], "comment": {"a": 1}}, "zz": 1},
        "sec-results": {"abc": "x", "12": ["y"], "9" * 30: {"status": ["z"], "comment": 3}},
        "sec-objectives": [
            "texte",
            {"title": {"a": 1}, "due_on": "2026-02-31"},
            {"title": "Valide", "due_on": 20261231, "indicators": ["i"]},
        ],
        "sec-training": [{"course": "²", "text": 5}, {"course": 10**30, "text": "x"}, {"course": "abc"}, "str"],
        "sec-observations": {"pas": "ici"},
        "sec-unknown": "x",
        "_invalid": 3,
    },
    "wrong container types": {
        "sec-criteria": ["pas", "un", "objet"],
        "sec-results": "texte",
        "sec-objectives": {"title": "x"},
        "sec-training": 7,
    },
}


@pytest.fixture
def fake_pdf_renderer(monkeypatch):
    """WeasyPrint itself is tested in test_pdf.py: here, the template is rendered (where bad
    data would fail) and the HTML is not laid out."""
    from cms import pdf  # the shared renderer appraisal.pdf lays its HTML out with

    rendered = []

    class FakeHTML:
        def __init__(self, string=None, **kwargs):
            rendered.append(string)

        def write_pdf(self, *args, **kwargs):
            return b"%PDF-1.7 fake"

    monkeypatch.setattr(pdf, "HTML", FakeHTML)
    return rendered


@pytest.mark.parametrize("case", list(GARBAGE))
def test_detail_edit_pdf_and_notify_survive_garbage_answers(client, chain, appraisal, case, fake_pdf_renderer):
    now = timezone.now()
    Appraisal.objects.filter(pk=appraisal.pk).update(
        state=S.HELD, interview_at=now - datetime.timedelta(days=1), held_at=now, answers=GARBAGE[case]
    )
    for who in ("manager", "hr", "reviewer"):
        client.force_login(chain[who].user)
        assert client.get(web_url("detail", appraisal)).status_code == 200, who
    client.force_login(chain["manager"].user)
    assert client.get(web_url("edit", appraisal)).status_code == 200

    response = api(chain["manager"]).get(api_url(appraisal, "pdf/"))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert fake_pdf_renderer and "Manière de servir" in fake_pdf_renderer[-1]

    # notify: a sentence, never a 500, and nothing frozen
    response = api(chain["manager"]).post(api_url(appraisal, "actions/notify/"), {}, format="json")
    assert response.status_code == 400, response.content
    assert "contient des erreurs à corriger avant de le notifier" in response.json()["detail"]
    assert Appraisal.objects.get(pk=appraisal.pk).state == S.HELD and not AppraisalVersion.objects.exists()
    assert services.training_needs(Appraisal.objects.get(pk=appraisal.pk)) is not None

    # the evaluator saves the form again: the report can then be notified
    response = client.post(
        web_url("edit", appraisal),
        {"intent": "notify", "s__sec-service": "Rigoureux.", "s__sec-overall": "Très bonne année."},
    )
    assert response.status_code == 200 and 'name="confirm" value="1"' in response.content.decode()  # confirmation step
    response = client.post(web_url("action", appraisal, action="notify"), {"confirm": "1"})
    assert response.status_code == 302, response.content.decode()[-3000:]
    assert Appraisal.objects.get(pk=appraisal.pk).state == S.NOTIFIED


@pytest.mark.parametrize("case", list(GARBAGE))
def test_the_agent_reads_a_garbage_frozen_version(client, chain, appraisal, case, fake_pdf_renderer):
    Appraisal.objects.filter(pk=appraisal.pk).update(
        state=S.NOTIFIED, notified_at=timezone.now(), answers=GARBAGE[case]
    )
    AppraisalVersion.objects.create(
        appraisal=appraisal, number=1, answers=GARBAGE[case], content_hash="0" * 64,
        signed_by=chain["manager"].user, signed_at=timezone.now(),
    )  # fmt: skip
    client.force_login(chain["agent"].user)
    assert client.get(web_url("detail", appraisal)).status_code == 200
    assert api(chain["agent"]).get(api_url(appraisal, "pdf/")).status_code == 200


def test_the_real_pdf_of_garbage_answers_renders(chain, appraisal):
    from appraisal import pdf

    Appraisal.objects.filter(pk=appraisal.pk).update(answers=GARBAGE["bad values everywhere"])
    assert pdf.render_pdf(Appraisal.objects.get(pk=appraisal.pk)).startswith(b"%PDF")


def test_readable_answers_are_well_typed():
    from appraisal.defaults import default_sections

    readable = content.readable_answers(default_sections(), GARBAGE["bad values everywhere"])
    assert readable["sec-service"] == "" and readable["sec-career"] == "12"
    assert readable["sec-criteria"] == {}
    assert readable["sec-objectives"] == [{"title": "Valide", "indicators": "", "due_on": ""}]
    assert readable["sec-training"] == [{"course": None, "text": "5"}, {"course": None, "text": "x"}]
    assert "sec-unknown" not in readable and "_invalid" not in readable


# --- the repair migration ---------------------------------------------------------------------------------


def test_repair_answers_sets_invalid_values_aside_and_is_idempotent():
    from appraisal.defaults import default_sections

    snapshot = default_sections()
    stored = {
        "sec-service": "Bon.",
        "sec-overall": ["liste"],
        "sec-objectives": [{"title": "Garder", "due_on": "2026-02-31"}, "texte"],
        "sec-training": [{"course": 5, "text": "A"}, {"course": 6, "text": "B"}],
        "sec-criteria": {"crit-results": {"level": "lvl-9"}, "crit-skills": {"level": "lvl-2", "comment": ""}},
        "sec-old": "section supprimée",
    }
    repaired, changes = content.repair_answers(snapshot, stored, existing_course_ids={5})
    assert repaired["sec-service"] == "Bon."
    assert repaired["sec-overall"] == ""
    assert repaired["sec-objectives"] == [{"title": "Garder", "indicators": "", "due_on": ""}]
    assert repaired["sec-training"] == [{"course": 5, "text": "A"}, {"course": None, "text": "B"}]
    assert repaired["sec-criteria"] == {"crit-skills": {"level": "lvl-2", "comment": ""}}
    assert repaired["_invalid"] == {
        key: stored[key] for key in ("sec-overall", "sec-objectives", "sec-training", "sec-criteria", "sec-old")
    }
    assert any("sec-old" in change for change in changes)
    assert any("Section « Appréciation générale littérale »" in change for change in changes)
    # nothing left for the validator to refuse; a second run changes nothing
    sections = {k: v for k, v in repaired.items() if k != "_invalid"}
    assert content.validate_answers(snapshot, sections, carried_ids=set(), course_ids={5})[1] == []
    assert content.repair_answers(snapshot, repaired, existing_course_ids={5}) == (repaired, [])
    repaired, changes = content.repair_answers(snapshot, "texte")
    assert repaired == {"_invalid": {"(contenu)": "texte"}} and changes
    assert content.repair_answers(snapshot, {}) == ({}, []) and content.repair_answers(snapshot, None) == (None, [])


def test_the_migration_repairs_bad_rows_reports_them_and_is_idempotent(chain, appraisal, campaign):
    from learning.models import CoursePage

    migration = importlib.import_module("appraisal.migrations.0004_repair_answers")
    good = dict(FILLED)
    other = Appraisal.objects.get(campaign=campaign, agent=chain["manager"])
    Appraisal.objects.filter(pk=other.pk).update(answers=good)
    Appraisal.objects.filter(pk=appraisal.pk).update(answers={"sec-service": ["x"], "sec-zzz": 1})
    frozen = AppraisalVersion.objects.create(
        appraisal=other, number=1, answers={"sec-overall": {"x": 1}}, content_hash="0" * 64,
        signed_by=chain["manager"].user, signed_at=timezone.now(),
    )  # fmt: skip

    lines = []
    report = content.repair_all(Appraisal, AppraisalVersion, CoursePage, log=lines.append)
    assert list(report) == [appraisal.pk]
    assert Appraisal.objects.get(pk=appraisal.pk).answers == {
        "sec-service": "",
        "_invalid": {"sec-service": ["x"], "sec-zzz": 1},
    }
    assert Appraisal.objects.get(pk=other.pk).answers == good
    assert any(line.startswith(f"appraisal {appraisal.pk}: ") and "sec-zzz" in line for line in lines)
    assert any(f"appraisal {other.pk} version 1 (signed, left unchanged)" in line for line in lines)
    assert AppraisalVersion.objects.get(pk=frozen.pk).answers == {"sec-overall": {"x": 1}}

    # the migration's function, run again: nothing left to change
    migration.repair(django_apps, None)
    assert content.repair_all(Appraisal, AppraisalVersion, CoursePage, log=lines.append) == {}


def test_the_migration_is_safe_on_an_empty_database(db):
    assert not Appraisal.objects.exists()
    importlib.import_module("appraisal.migrations.0004_repair_answers").repair(django_apps, None)

