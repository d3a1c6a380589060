"""Who may do or see what on an appraisal: small pure functions, the one place of each rule.

``roles_on`` gives the workflow roles a user holds on an appraisal (the ``actors`` of the
transition table, appraisal/workflow.py); the others answer one question each. They run no
query per appraisal: the caller's agent profile, groups and permissions are cached on the
user object by ``cms.selectors`` (and Django's permission cache) for the request.

The list filters (``selectors.appraisals_visible_to``) are the queryset form of
``can_view``; the site views, the API serializers, the selectors and the actions call these
functions instead of restating the rules.
"""

from appraisal.choices import AppraisalState as S
from cms import roles
from cms.selectors import agent_for_user, has_role

EVALUATOR, AGENT, REVIEWER, HR = "evaluator", "agent", "reviewer", "hr"
SYSTEM = "system"  # the daily task (implicit rejection); never held by a user
# Where the report is the notified one (before: the evaluator's draft; cancelled: no report).
REPORT_STATES = frozenset({S.NOTIFIED, S.ACKNOWLEDGED, S.FINAL})
SIGNED_STATES = frozenset({S.ACKNOWLEDGED, S.FINAL})


def can_view_all(user):
    """HR, or a holder of ``appraisal.view_all_appraisals`` (each read of someone else's
    report is logged by the caller)."""
    return bool(
        user is not None
        and user.is_authenticated
        and (has_role(user, roles.HR) or user.has_perm("appraisal.view_all_appraisals"))
    )


def roles_on(user, appraisal):
    """The workflow roles a user holds on an appraisal: evaluator (N+1 or delegate), agent,
    reviewer (N+2), HR."""
    held = set()
    if user is None:
        return held
    agent = agent_for_user(user)
    if agent is not None:
        if appraisal.evaluator_id == agent.pk:
            held.add(EVALUATOR)
        if appraisal.agent_id == agent.pk:
            held.add(AGENT)
        if appraisal.reviewer_id == agent.pk:
            held.add(REVIEWER)
    if user.is_authenticated and has_role(user, roles.HR):
        held.add(HR)
    return held


def can_view(user, appraisal):
    """The agent their own; the evaluator (including a delegate) and the reviewer theirs; HR
    and view_all holders every one (``selectors.appraisals_visible_to`` as a queryset)."""
    return can_view_all(user) or bool(roles_on(user, appraisal) & {AGENT, EVALUATOR, REVIEWER})


def sees_draft(user, appraisal):
    """The evaluator's draft is the agent's to read only once notified (the report is then
    signed and frozen); the evaluator, the reviewer and HR read it at any time. Before
    (re)notification the agent reads the last notified version, if any."""
    if appraisal.state in REPORT_STATES:
        return True
    return can_view_all(user) or bool(roles_on(user, appraisal) & {EVALUATOR, REVIEWER, HR})


def sees_observations(user, appraisal):
    """The agent's observations are their draft until they sign (or HR records a refusal)."""
    signed = bool(appraisal.agent_signed_at or appraisal.refusal_recorded_at) or appraisal.state in SIGNED_STATES
    return signed or AGENT in roles_on(user, appraisal)
