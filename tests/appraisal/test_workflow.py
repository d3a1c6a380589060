import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from appraisal import deadlines, services
from appraisal.actions import expire_revision_requests
from appraisal.choices import AppraisalState as S
from appraisal.choices import RevisionState as R
from appraisal.models import Appraisal, AppraisalTransition, AppraisalVersion, Objective
from cms import dates as calendar
from cms.exceptions import Conflict
from tests.appraisal import factories
from tests.appraisal.conftest import FILLED, make_campaign


def days(n):
    return datetime.timedelta(days=n)


def act(appraisal, action, user, now=None, **params):
    return factories.act(appraisal, action, user, now=now, **params)


def run_to_notified(appraisal, chain, start):
    manager = chain["manager"].user
    act(appraisal, "convoke", manager, now=start, interview_at=(start + days(10)).isoformat())
    act(appraisal, "hold", manager, now=start + days(10, ) + datetime.timedelta(hours=1))
    services.save_draft(appraisal_id=appraisal.pk, actor=manager, answers=FILLED)
    return act(appraisal, "notify", manager, now=start + days(11))


@pytest.mark.parametrize(
    "notified, expected",
    [
        (datetime.date(2026, 1, 30), datetime.date(2026, 2, 16)),  # D+16 is a Sunday → Monday
        (datetime.date(2026, 4, 20), datetime.date(2026, 5, 6)),  # a Wednesday: no shift
        (datetime.date(2026, 10, 16), datetime.date(2026, 11, 2)),  # Sunday 1 Nov (Toussaint) → Monday 2
        (datetime.date(2026, 4, 24), datetime.date(2026, 5, 11)),  # Sat 10 May → Mon 11 May
        (datetime.date(2026, 12, 15), datetime.date(2026, 12, 31)),  # across the month end
        (datetime.date(2026, 12, 16), datetime.date(2027, 1, 4)),  # 1 Jan (Friday) → Monday 4 Jan
    ],
)
def test_jours_francs_deadline(notified, expected):
    assert calendar.jours_francs_deadline(notified, 15) == expected


def test_public_holidays_include_easter_based_days():
    holidays = calendar.public_holidays(2026)
    assert datetime.date(2026, 4, 6) in holidays  # lundi de Pâques
    assert datetime.date(2026, 5, 14) in holidays  # Ascension
    assert datetime.date(2026, 5, 25) in holidays  # lundi de Pentecôte
    assert len(holidays) == 11


@pytest.mark.django_db
def test_launch_creates_appraisals_with_n1_n2_and_lists_agents_without_manager(campaign, chain):
    a = Appraisal.objects.get(campaign=campaign, agent=chain["agent"])
    assert a.evaluator == chain["manager"] and a.reviewer == chain["reviewer"]
    without = {row["employee_number"] for row in campaign.launch_report["without_manager"]}
    assert chain["reviewer"].employee_number in without and chain["hr"].employee_number in without
    assert campaign.template_snapshot and campaign.template_revision_id
    again = services.launch_campaign(campaign_id=campaign.pk)  # idempotent
    assert again.launch_report["created"] == 0


@pytest.mark.django_db
def test_full_workflow_with_signatures_hash_and_log(appraisal, chain):
    start = timezone.now()
    run_to_notified(appraisal, chain, start)
    appraisal.refresh_from_db()
    assert appraisal.state == S.NOTIFIED and len(appraisal.content_hash) == 64
    version = AppraisalVersion.objects.get(appraisal=appraisal)
    assert version.content_hash == appraisal.content_hash and version.number == 1
    assert Objective.objects.filter(set_in=appraisal).count() == 1
    act(appraisal, "acknowledge", chain["agent"].user, now=start + days(12), observations="Merci pour cet échange.")
    act(appraisal, "visa", chain["reviewer"].user, now=start + days(13))
    appraisal.refresh_from_db()
    assert appraisal.state == S.FINAL and appraisal.visa_at and appraisal.agent_signed_at
    log = list(AppraisalTransition.objects.filter(appraisal=appraisal).values_list("action", "from_state", "to_state"))
    assert log == [
        ("convoke", "created", "convoked"),
        ("hold", "convoked", "held"),
        ("notify", "held", "notified"),
        ("acknowledge", "notified", "acknowledged"),
        ("visa", "acknowledged", "final"),
    ]


@pytest.mark.django_db
def test_convocation_needs_eight_days_notice(appraisal, chain):
    now = timezone.now()
    with pytest.raises(Conflict, match="au moins 8 jours"):
        act(appraisal, "convoke", chain["manager"].user, now=now, interview_at=(now + days(5)).isoformat())
    with pytest.raises(ValidationError) as excinfo:
        act(appraisal, "convoke", chain["manager"].user, now=now, interview_at="demain")
    assert "interview_at" in excinfo.value.message_dict
    appraisal.refresh_from_db()
    assert appraisal.state == S.CREATED and not AppraisalTransition.objects.exists()


@pytest.mark.django_db
def test_wrong_actor_and_wrong_state(appraisal, chain):
    with pytest.raises(PermissionDenied):
        act(appraisal, "convoke", chain["agent"].user, interview_at=(timezone.now() + days(10)).isoformat())
    with pytest.raises(PermissionDenied):
        act(appraisal, "convoke", chain["other_manager"].user, interview_at=(timezone.now() + days(10)).isoformat())
    with pytest.raises(Conflict, match="À convoquer"):
        act(appraisal, "visa", chain["reviewer"].user)


@pytest.mark.django_db
def test_notify_requires_the_overall_appraisal(appraisal, chain):
    manager, now = chain["manager"].user, timezone.now()
    act(appraisal, "convoke", manager, now=now, interview_at=(now + days(9)).isoformat())
    act(appraisal, "hold", manager, now=now + days(9, ) + datetime.timedelta(hours=1))
    with pytest.raises(ValidationError, match="Appréciation générale littérale"):
        act(appraisal, "notify", manager, now=now + days(10))


@pytest.mark.django_db
def test_late_notification_needs_a_reason(appraisal, chain):
    manager, now = chain["manager"].user, timezone.now()
    act(appraisal, "convoke", manager, now=now, interview_at=(now + days(9)).isoformat())
    act(appraisal, "hold", manager, now=now + days(9, ) + datetime.timedelta(hours=1))
    services.save_draft(appraisal_id=appraisal.pk, actor=manager, answers=FILLED)
    with pytest.raises(Conflict, match="15 jours"):
        act(appraisal, "notify", manager, now=now + days(30))
    act(appraisal, "notify", manager, now=now + days(30), reason="Arrêt maladie de l'évaluateur")
    assert AppraisalTransition.objects.get(action="notify").note == "Arrêt maladie de l'évaluateur"


@pytest.mark.django_db
def test_report_is_frozen_after_notification(appraisal, chain):
    run_to_notified(appraisal, chain, timezone.now())
    with pytest.raises(Conflict, match="figé"):
        services.save_draft(appraisal_id=appraisal.pk, actor=chain["manager"].user, answers={"sec-overall": "changé"})
    appraisal.refresh_from_db()
    assert appraisal.answers["sec-overall"] == FILLED["sec-overall"]


@pytest.mark.django_db
def test_refusal_recorded_by_hr_then_visa(appraisal, chain):
    start = timezone.now()
    run_to_notified(appraisal, chain, start)
    with pytest.raises(ValidationError) as excinfo:
        act(appraisal, "record_refusal", chain["hr"].user, now=start + days(20))
    assert "reason" in excinfo.value.message_dict
    act(appraisal, "record_refusal", chain["hr"].user, now=start + days(20), reason="Refus de signer")
    appraisal.refresh_from_db()
    assert appraisal.state == S.ACKNOWLEDGED and appraisal.agent_signed_at is None


@pytest.mark.django_db
def test_revision_accepted_creates_a_new_linked_version(appraisal, chain):
    start = timezone.now()
    run_to_notified(appraisal, chain, start)
    act(appraisal, "request_revision", chain["agent"].user, now=start + days(13), reason="L'appréciation est injuste")
    act(appraisal, "answer_revision", chain["reviewer"].user, now=start + days(15), decision="accept", reason="Fondé")
    appraisal.refresh_from_db()
    assert appraisal.state == S.HELD and appraisal.version == 2 and appraisal.revision_state == R.ACCEPTED
    services.save_draft(appraisal_id=appraisal.pk, actor=chain["manager"].user, answers={"sec-overall": "Corrigé."})
    act(appraisal, "notify", chain["manager"].user, now=start + days(16))
    v1, v2 = AppraisalVersion.objects.filter(appraisal=appraisal).order_by("number")
    assert v2.previous == v1 and v1.content_hash != v2.content_hash
    assert v1.answers["sec-overall"] == FILLED["sec-overall"]  # nothing overwritten


@pytest.mark.django_db
def test_revision_window_in_jours_francs(appraisal, chain):
    start = timezone.make_aware(datetime.datetime(2026, 1, 10, 10, 0))
    run_to_notified(appraisal, chain, start)  # notified on 2026-01-21 (Wednesday)
    appraisal.refresh_from_db()
    deadline = deadlines.revision_by(appraisal)
    assert deadline == datetime.date(2026, 2, 6)
    too_late = timezone.make_aware(datetime.datetime(2026, 2, 7, 9, 0))
    with pytest.raises(Conflict, match="jours francs"):
        act(appraisal, "request_revision", chain["agent"].user, now=too_late, reason="Trop tard")
    act(appraisal, "request_revision", chain["agent"].user, now=too_late - days(1), reason="Juste à temps")


@pytest.mark.django_db
def test_no_answer_is_an_implicit_rejection_then_cap(appraisal, chain):
    start = timezone.now()
    run_to_notified(appraisal, chain, start)
    act(appraisal, "request_revision", chain["agent"].user, now=start + days(12), reason="Désaccord")
    assert expire_revision_requests(now=start + days(20)) == 0
    assert expire_revision_requests(now=start + days(28)) == 1
    appraisal.refresh_from_db()
    assert appraisal.revision_state == R.IMPLICITLY_REJECTED
    with pytest.raises(Conflict):
        act(appraisal, "answer_revision", chain["reviewer"].user, decision="accept", reason="x")
    act(appraisal, "refer_cap", chain["hr"].user, now=start + days(30), reason="Saisine par l'agent")
    assert AppraisalTransition.objects.get(action="refer_cap").on_behalf_of == chain["agent"]
    act(appraisal, "record_cap_opinion", chain["hr"].user, now=start + days(50), opinion="Avis favorable à la révision")
    appraisal.refresh_from_db()
    assert appraisal.revision_state == R.CAP_OPINION


@pytest.mark.django_db
def test_delegation_changes_the_evaluator_with_a_reason(appraisal, chain):
    with pytest.raises(ValidationError) as excinfo:
        act(appraisal, "delegate", chain["manager"].user, evaluator=chain["other_manager"].employee_number)
    assert "reason" in excinfo.value.message_dict
    act(appraisal, "delegate", chain["hr"].user, evaluator=chain["other_manager"].employee_number, reason="Congé long")
    appraisal.refresh_from_db()
    assert appraisal.evaluator == chain["other_manager"] and appraisal.delegated_from == chain["manager"]
    now = timezone.now()
    with pytest.raises(PermissionDenied):
        act(appraisal, "convoke", chain["manager"].user, interview_at=(now + days(10)).isoformat())
    act(appraisal, "convoke", chain["other_manager"].user, interview_at=(now + days(10)).isoformat())


@pytest.mark.django_db
def test_cancel_needs_hr_and_a_reason(appraisal, chain):
    with pytest.raises(PermissionDenied):
        act(appraisal, "cancel", chain["manager"].user, reason="x")
    act(appraisal, "cancel", chain["hr"].user, reason="Départ de l'agent")
    appraisal.refresh_from_db()
    assert appraisal.state == S.CANCELLED


@pytest.mark.django_db
def test_objectives_are_carried_over_to_next_year(appraisal, chain, org):
    start = timezone.now()
    run_to_notified(appraisal, chain, start)
    next_year = make_campaign(org, year=appraisal.campaign.year + 1)
    report = services.launch_campaign(campaign_id=next_year.pk).launch_report
    assert report["carried_objectives"] == 1
    new = Appraisal.objects.get(campaign=next_year, agent=chain["agent"])
    assert list(new.objectives_assessed.values_list("title", flat=True)) == ["Déployer le nouveau logiciel de paie"]
