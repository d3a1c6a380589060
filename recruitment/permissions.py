"""Who may do what in recruitment: small functions, ``can_<verb>(user, obj)``.

Roles are the groups of ``cms.roles`` (HR, Recruiters, Interviewers). Managing an opening
(moving its applications, writing to candidates, scheduling interviews, closing it) is
for HR and for the users listed in the opening's ``recruiters``: that rule lives in
``services.can_manage`` and is reused here. Which *applications* a user may read is a
queryset: ``selectors.applications_visible_to``.
"""

from cms import roles
from cms.selectors import has_role
from recruitment import services


def is_hr(user):
    return has_role(user, roles.HR)


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


def can_manage_opening(user, opening):
    return services.can_manage(user, opening)


def can_fill_scorecard(user, scorecard):
    """Only the interviewer it belongs to; a submitted scorecard is final (read-only)."""
    return user.is_authenticated and scorecard.interviewer_id == user.pk

