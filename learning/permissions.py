"""Every access rule of the learning app, once: views, the API, selectors, the admin and
learning/actions.py ask here.

Who sees what (DESIGN.md §5): an agent their own enrolments; a manager their reports' at
every level (and their own); HR and holders of ``learning.view_all_completions``
(service accounts) everything. A manager (someone with active direct reports) sees the
team page; HR the report by unit. HR and the managers above an agent may grant a new
cycle after a failure. Certificates follow the visibility of enrolments.
"""

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.utils.translation import gettext as _

from cms import roles
from cms import selectors as cms_selectors

# Actor roles on one enrolment (matched against the actors of learning.actions.TRANSITIONS).
AGENT, MANAGER, HR = "agent", "manager", "hr"

VIEW_ALL_COMPLETIONS = "learning.view_all_completions"


def can_view_all_completions(user):
    """HR and holders of ``learning.view_all_completions`` (service accounts) see everything."""
    return user.is_authenticated and (cms_selectors.has_role(user, roles.HR) or user.has_perm(VIEW_ALL_COMPLETIONS))


def users_who_view_all_completions(users):
    """``users`` narrowed (in the query) to those ``can_view_all_completions`` accepts."""
    perm = Q(content_type__app_label="learning", codename=VIEW_ALL_COMPLETIONS.split(".")[1])
    from django.contrib.auth.models import Permission

    granted = Permission.objects.filter(perm)
    return users.filter(
        Q(is_superuser=True)
        | Q(groups__name=roles.HR)
        | Q(user_permissions__in=granted)
        | Q(groups__permissions__in=granted)
    ).distinct()


def can_view_hr_report(user):
    return can_view_all_completions(user)


def can_view_team(user):
    """The team page and panel: managers (an agent with active direct reports)."""
    return cms_selectors.is_manager(cms_selectors.agent_for_user(user))


def visible_enrollments_filter(user):
    """A ``Q`` on ``Enrollment`` selecting what ``user`` may see, or None for everything."""
    if can_view_all_completions(user):
        return None
    agent = cms_selectors.agent_for_user(user)
    if agent is None:
        return Q(pk__in=[])
    return Q(agent_id__in=cms_selectors.reports_subquery(agent.pk)) | Q(agent_id=agent.pk)


def can_view_enrollment(user, enrollment_id):
    """The agent themselves, a manager anywhere above them, or HR (one query at most)."""
    scope = visible_enrollments_filter(user)
    if scope is None:
        return True
    from learning.models import Enrollment

    return Enrollment.objects.filter(scope, pk=enrollment_id).exists()


def can_view_certificate(user, enrollment_id):
    """Certificates follow the enrolment: the agent, the managers above them, HR."""
    return can_view_enrollment(user, enrollment_id)


def enrollment_roles(user, enrollment):
    """The actor roles ``user`` holds on ``enrollment`` (``AGENT``, ``MANAGER``, ``HR``)."""
    if user is None or not user.is_authenticated:
        return set()
    found = set()
    if cms_selectors.has_role(user, roles.HR):
        found.add(HR)
    actor = cms_selectors.agent_for_user(user)
    if actor is not None:
        if actor.pk == enrollment.agent_id:
            found.add(AGENT)
        else:
            from cms.models import Agent

            if Agent.objects.filter(pk=enrollment.agent_id, pk__in=cms_selectors.reports_subquery(actor.pk)).exists():
                found.add(MANAGER)
    return found


def can_grant_new_cycle(user, enrollment):
    """HR, or a manager above the agent in the chain (not the agent themselves)."""
    return bool(enrollment_roles(user, enrollment) & {HR, MANAGER})


def learner_agent(user):
    """The user's active agent profile: the only way to learn (enrol, follow a course)."""
    agent = cms_selectors.agent_for_user(user)
    if agent is None or not agent.active:
        raise PermissionDenied(_("Votre compte n'est pas rattaché à une fiche agent active."))
    return agent


def check_self_enroll(course):
    """A learner may enrol themselves only on courses open to self-enrolment."""
    if not course.self_enrollment:
        raise PermissionDenied(_("L'inscription à cette formation se fait uniquement sur assignation."))
