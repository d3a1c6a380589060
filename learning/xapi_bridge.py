"""Statements → enrolments: what content reports through xAPI moves the enrolment.

``on_statements_stored`` listens to ``xapi.signals.statements_stored`` (sent after the
statements are committed). A statement counts when all of these hold:

- it was not recorded by Parcours itself (its authority is not Parcours' own account): what
  Parcours emits already comes from an enrolment action, and this keeps the two from looping;
- it is not voided, and its object is an Activity whose id is a Parcours course or step
  (``learning.xapi_ids``; cmi5 activities, SCOs and quiz questions are left to their own
  rules: the cmi5 session rules, the SCORM run-time, the server-side grading);
- its actor is a Parcours account (``{"homePage": <base URL>, "name": <opaque id>}``) of a
  user with an agent profile and an open enrolment in that course (a statement never enrols
  anyone); when it carries a ``registration``, it is that enrolment's
  (``xapi_ids.registration_for``), otherwise the statement concerns another cycle.

What it does, always through the enrolment actions (``learning.actions``), run as the learner:

===============================  ==================================================================
statement                        effect
===============================  ==================================================================
completed / passed: a lesson     ``CompleteLesson``: the lesson is done, progress, status and
                                 certificate follow as for a click on « Marquer comme terminée »
completed / passed: a quiz or a  nothing: a quiz is graded by Parcours, a package step by its
package step                     run-time (a client cannot award them)
any verb listed in               ``StartCourseFromStatement``: a not-started enrolment starts
``COURSE_START_VERBS``: a course (in progress); a course is completed by its steps only
===============================  ==================================================================

Idempotent: a lesson already done, an enrolment already started change nothing (no write,
no event). Voiding a statement later does not undo its effect (an enrolment's status never
moves backwards). Errors are logged: the LRS has already answered its client.
"""

import logging
import uuid

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.utils.translation import gettext_lazy

from cms.exceptions import Conflict
from learning import xapi_ids
from learning.actions import EnrollmentAction
from learning.choices import EventSource

logger = logging.getLogger(__name__)

ADL = "http://adlnet.gov/expapi/verbs/"
STEP_DONE_VERBS = frozenset({ADL + "completed", ADL + "passed"})
COURSE_START_VERBS = frozenset(
    ADL + name
    for name in (
        "launched",
        "initialized",
        "attempted",
        "experienced",
        "progressed",
        "resumed",
        "answered",
        "completed",
        "passed",
        "failed",
    )  # fmt: skip
)

#: The event source of a status change caused by a statement (a choice the lead may add to
#: ``EventSource``; until then the raw value is recorded).
XAPI_EVENT_SOURCE = EventSource.XAPI


class StartCourseFromStatement(EnrollmentAction):
    """A statement about the course (content launched outside Parcours) starts the enrolment."""

    name = "start_from_statement"
    label = gettext_lazy("Commencer la formation")
    source = XAPI_EVENT_SOURCE

    def apply(self):
        if self.obj.status in self.table.sources_of("start"):
            self.start()


def _is_parcours_authority(authority):
    from xapi.identity import SYSTEM_ACCOUNT_NAME, home_page

    account = (authority or {}).get("account") or {}
    return account.get("name") == SYSTEM_ACCOUNT_NAME and account.get("homePage") == home_page()


def _account_name(actor):
    from xapi.identity import home_page

    account = (actor or {}).get("account") if isinstance(actor, dict) else None
    if not isinstance(account, dict) or account.get("homePage") != home_page():
        return None
    try:
        return uuid.UUID(str(account.get("name")))
    except ValueError:
        return None


def candidates(rows):
    """``[(statement id, account name, ActivityRef, verb id, registration)]`` of the statements
    that may concern an enrolment (no query)."""
    found = []
    for statement_id, data in rows:
        if _is_parcours_authority(data.get("authority")):
            continue
        obj = data.get("object") or {}
        if obj.get("objectType", "Activity") != "Activity":
            continue
        ref = xapi_ids.parse(obj.get("id"))
        verb_id = (data.get("verb") or {}).get("id")
        if ref is None or not (
            (ref.kind == "step" and verb_id in STEP_DONE_VERBS)
            or (ref.kind == "course" and verb_id in COURSE_START_VERBS)
        ):
            continue
        name = _account_name(data.get("actor"))
        if name is None:
            continue
        found.append((str(statement_id), name, ref, verb_id, (data.get("context") or {}).get("registration")))
    return found


def _open_enrollment(agent, course_id, registration):
    from learning.choices import OPEN_STATUSES
    from learning.models import Enrollment

    enrollment = (
        Enrollment.objects.select_related("course")
        .filter(agent=agent, course_id=course_id, status__in=OPEN_STATUSES)
        .first()
    )
    if enrollment is None:
        return None
    if registration and str(registration).lower() != xapi_ids.registration_for(enrollment.pk):
        return None
    return enrollment


def apply_one(statement_id, user, ref, registration):
    """Apply one counted statement for ``user``; returns the executed action or None."""
    from wagtail.models import Page

    from cms.selectors import agent_for_user
    from learning import actions
    from learning.choices import EnrollmentStatus
    from learning.models import CoursePage, LessonPage, LessonProgress

    agent = agent_for_user(user)
    if agent is None or not agent.active:
        return None
    if ref.kind == "course":
        if not CoursePage.objects.filter(pk=ref.page_id).exists():
            return None
        enrollment = _open_enrollment(agent, ref.page_id, registration)
        if enrollment is None or enrollment.status != EnrollmentStatus.NOT_STARTED:
            return None
        action = StartCourseFromStatement(enrollment, user=user)
    else:
        page = Page.objects.filter(pk=ref.page_id, live=True).first()
        step = page.specific if page is not None else None
        if not isinstance(step, LessonPage):
            return None  # quizzes and package steps are not awarded by statements
        enrollment = _open_enrollment(agent, page.get_parent().pk, registration)
        if enrollment is None or LessonProgress.objects.filter(enrollment=enrollment, lesson=step).exists():
            return None
        action = actions.CompleteLesson(enrollment, user=user, step=step)
    action.xapi_origin = statement_id
    action.execute()
    return action


def apply_statements(statement_ids):
    """Move the enrolments the statements ``statement_ids`` concern; returns the executed actions."""
    from xapi.models import AgentIdentity, Statement

    rows = Statement.objects.filter(statement_id__in=statement_ids, voided=False).values_list("statement_id", "data")
    found = candidates(rows)
    if not found:
        return []
    identities = AgentIdentity.objects.filter(account_name__in={name for _s, name, *_rest in found}).select_related(
        "user"
    )
    users = {identity.account_name: identity.user for identity in identities}
    executed = []
    for statement_id, name, ref, _verb, registration in found:
        user = users.get(name)
        if user is None or not user.is_active:
            continue
        try:
            action = apply_one(statement_id, user, ref, registration)
        except (Conflict, PermissionDenied, ValidationError, ObjectDoesNotExist) as error:
            logger.info("statement %s does not move its enrolment: %s", statement_id, error)
            continue
        if action is not None:
            executed.append(action)
    return executed


def on_statements_stored(sender, statement_ids, client=None, **kwargs):
    """Receiver of ``statements_stored``; errors are logged, never raised."""
    try:
        apply_statements(statement_ids)
    except Exception:  # noqa: BLE001 - the statements are stored; the enrolment update must not fail the LRS
        logger.exception("statements %s could not update enrolments", statement_ids[:5])
