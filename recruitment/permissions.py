"""Who may do what in recruitment: every rule of the app, as small functions.

Roles are the groups of ``cms.roles`` (HR, Recruiters, Interviewers). Managing an opening
(moving its applications, writing to candidates, scheduling interviews, closing it) is for
HR and for the users listed in the opening's ``recruiters`` (``can_manage``, and the actor
roles of ``recruitment.workflow``: ``roles_on``). Being an agent (a user with an ``Agent``
profile) opens internal-only openings and makes an application internal (``agent_of``,
``is_agent``). Which *applications* a user may read is a queryset:
``selectors.applications_visible_to``.
"""

from cms import roles
from cms.selectors import has_role
from recruitment import workflow


def agent_of(user):
    """The ``Agent`` profile of a logged-in user, or None (anonymous, or no profile)."""
    if user is None or not user.is_authenticated:
        return None
    return getattr(user, "agent", None)  # a missing one-to-one raises a subclass of AttributeError


def is_agent(user):
    """Logged in with an agent profile: sees internal-only openings, applies internally."""
    return agent_of(user) is not None


def can_view_opening(user, opening):
    """An internal-only opening exists for agents only."""
    return not opening.internal_only or is_agent(user)


def is_hr(user):
    return user is not None and user.is_authenticated and has_role(user, roles.HR)


def is_recruiter_of(user, opening):
    """Listed in the opening's saved ``recruiters``. Read from the table: ``opening.recruiters``
    may hold unsaved, in-memory changes (modelcluster), which neither grant rights nor
    support a ``pk`` lookup."""
    if user is None or not user.is_authenticated or not opening.pk:
        return False
    recruiters = type(opening).recruiters.through.objects
    return recruiters.filter(jobopeningpage_id=opening.pk, user_id=user.pk).exists()


def roles_on(user, opening):
    """The actor roles of ``recruitment.workflow`` that ``user`` holds on ``opening``."""
    held = set()
    if is_hr(user):
        held.add(workflow.HR)
    if is_recruiter_of(user, opening):
        held.add(workflow.RECRUITER)
    return held


def can_manage(user, opening):
    """HR, and the recruiters listed on the opening."""
    return is_hr(user) or is_recruiter_of(user, opening)


def can_use_recruitment_admin(user):
    """The "Recrutement" menu and the list of openings: HR and recruiters."""
    return has_role(user, roles.HR) or has_role(user, roles.RECRUITERS)


def can_use_scorecards(user):
    """The "Mes évaluations" page: members of the Interviewers group, and anyone who has been
    put on a jury (a recruiter or HR officer may sit on one)."""
    if not user.is_authenticated:
        return False
    if has_role(user, roles.INTERVIEWERS):
        return True
    return user.scorecards.exists()

