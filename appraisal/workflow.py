"""The legal workflow of the entretien professionnel, declared as data.

``TABLE`` holds the allowed transitions (from-states, to-state, actors, and the revision
sub-state each requires); the operations themselves are the action classes of
appraisal/actions.py (one per action, the only way to change an appraisal's state), which
read this table. Also here: the pure helpers of the workflow (content hash, required
sections, who may be chosen as a delegate).

| action | from | to | actors | revision state |
| --- | --- | --- | --- | --- |
| convoke | created, convoked | convoked | evaluator | |
| hold | convoked | held | evaluator | |
| notify | held | notified | evaluator | |
| acknowledge | notified | acknowledged | agent | |
| record_refusal | notified | acknowledged | hr | |
| visa | acknowledged | final | reviewer | |
| cancel | before final | cancelled | hr | |
| delegate | created, convoked, held | (unchanged) | evaluator, hr | |
| request_revision | notified, acknowledged, final | (unchanged) | agent | none |
| answer_revision (accept) | notified, acknowledged, final | held | reviewer | requested |
| answer_revision (reject) | notified, acknowledged, final | (unchanged) | reviewer | requested |
| implicit_rejection | notified, acknowledged, final | (unchanged) | system (daily task) | requested |
| refer_cap | notified, acknowledged, final | (unchanged) | agent, hr | rejected, implicitly rejected |
| record_cap_opinion | notified, acknowledged, final | (unchanged) | hr | CAP referred |
"""

import hashlib
import json

from appraisal import content
from appraisal.choices import AppraisalState as S
from appraisal.choices import CampaignStatus
from appraisal.choices import RevisionState as R
from appraisal.permissions import AGENT, EVALUATOR, HR, REPORT_STATES, REVIEWER, SYSTEM
from cms.actions import Transition, TransitionTable
from cms.models import Agent
from cms.selectors import reports_subquery

BEFORE_FINAL = frozenset({S.CREATED, S.CONVOKED, S.HELD, S.NOTIFIED, S.ACKNOWLEDGED})
ACCEPT, REJECT = "accept", "reject"

TABLE = TransitionTable(
    S,
    [
        Transition("convoke", {S.CREATED, S.CONVOKED}, S.CONVOKED, actors={EVALUATOR}),
        Transition("hold", {S.CONVOKED}, S.HELD, actors={EVALUATOR}),
        Transition("notify", {S.HELD}, S.NOTIFIED, actors={EVALUATOR}),
        Transition("acknowledge", {S.NOTIFIED}, S.ACKNOWLEDGED, actors={AGENT}),
        Transition("record_refusal", {S.NOTIFIED}, S.ACKNOWLEDGED, actors={HR}, reason_required=True),
        Transition("visa", {S.ACKNOWLEDGED}, S.FINAL, actors={REVIEWER}),
        Transition("cancel", BEFORE_FINAL, S.CANCELLED, actors={HR}, reason_required=True),
        Transition("delegate", {S.CREATED, S.CONVOKED, S.HELD}, None, actors={HR, EVALUATOR}, reason_required=True),
        Transition("request_revision", REPORT_STATES, None, actors={AGENT}, reason_required=True, requires={R.NONE}),
        # accepted: a new version, back to the evaluator who corrects and notifies again
        Transition(
            "answer_revision", REPORT_STATES, S.HELD, actors={REVIEWER}, reason_required=True, requires={R.REQUESTED}
        ),
        # rejected: the report stays as it is (the agent may then refer to the CAP)
        Transition(
            "answer_revision", REPORT_STATES, None, actors={REVIEWER}, reason_required=True, requires={R.REQUESTED}
        ),
        Transition("implicit_rejection", REPORT_STATES, None, actors={SYSTEM}, requires={R.REQUESTED}),
        Transition("refer_cap", REPORT_STATES, None, actors={AGENT, HR}, requires={R.REJECTED, R.IMPLICITLY_REJECTED}),
        Transition("record_cap_opinion", REPORT_STATES, None, actors={HR}, requires={R.CAP_REFERRED}),
    ],
)

# A campaign's launch: HR requests it (again, to create what is missing: a relaunch of a
# running campaign), the task begins it and finishes it; HR closes it. A closed campaign
# launches no more.
CAMPAIGN_TABLE = TransitionTable(
    CampaignStatus,
    [
        Transition(
            "request_launch",
            {CampaignStatus.DRAFT, CampaignStatus.LAUNCHING, CampaignStatus.RUNNING},
            CampaignStatus.LAUNCHING,
            actors={HR},
        ),
        Transition(
            "begin_launch",
            {CampaignStatus.DRAFT, CampaignStatus.LAUNCHING, CampaignStatus.RUNNING},
            CampaignStatus.LAUNCHING,
            actors={SYSTEM},
        ),
        Transition("finish_launch", {CampaignStatus.LAUNCHING}, CampaignStatus.RUNNING, actors={SYSTEM}),
        # HR closes a running campaign once every appraisal is final or cancelled.
        Transition("close", {CampaignStatus.RUNNING}, CampaignStatus.CLOSED, actors={HR}),
    ],
)


def content_hash(appraisal, objectives):
    payload = {
        "appraisal": appraisal.pk,
        "campaign": appraisal.campaign_id,
        "agent": appraisal.agent_id,
        "version": appraisal.version,
        "answers": appraisal.answers,
        "objectives": objectives,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()


def missing_required_sections(appraisal):
    """Titles of the required sections left empty (overall appraisal, required themes)."""
    missing = []
    snapshot = appraisal.campaign.template_snapshot
    readable = content.readable_answers(snapshot, appraisal.answers)
    for sid, kind, spec in content.template_sections(snapshot):
        required = kind == "overall" or (kind == "free_text" and spec.get("required"))
        if required and not readable.get(sid, "").strip():
            missing.append(str(spec.get("title") or sid))
    return missing


def may_evaluate_by_delegation(agent, candidate):
    """Whether an evaluator may hand the appraisal of ``agent`` over to ``candidate``.

    The candidate must be an active agent other than ``agent``, and either:

    1. **in the agent's management chain**: one of the agent's managers above them, i.e. the
       N+1 (``agent.manager``), the N+1's own manager (N+2), and so on upwards
       (``Agent.manager_chain``); or
    2. **a manager of the same unit subtree**: an agent with at least one active direct report,
       whose org unit is the agent's unit, one of its ancestors or one of its descendants
       (the org unit tree's materialised paths: one is a prefix of the other; a sibling or
       cousin unit does not qualify), and who is not below the agent in the manager chain
       (nobody evaluates their own manager).

    Anyone else (an agent without reports, a manager of another branch of the org chart, a
    peer…) needs HR: HR designates such a delegate by performing the delegation itself, and
    may choose any active agent. The checks that apply to every delegation (not the agent, not
    the current evaluator, active) are made by ``actions.Delegate`` with their own sentences.
    """
    if candidate.pk == agent.pk or not candidate.active:
        return False
    if candidate.pk in {manager.pk for manager in agent.manager_chain()}:
        return True
    unit, other = agent.org_unit.path, candidate.org_unit.path
    if not (unit.startswith(other) or other.startswith(unit)):
        return False
    if not Agent.objects.filter(manager=candidate, active=True).exists():
        return False
    return not Agent.objects.filter(pk=candidate.pk).filter(pk__in=reports_subquery(agent.pk)).exists()
