"""The xAPI activity ids of Parcours' own learning (courses, steps, quiz questions, SCOs).

Every id is an IRL under the site's base URL (``WAGTAILADMIN_BASE_URL``), so it is globally
unique and points at Parcours::

    <base>/xapi/activities/course/<course page id>
    <base>/xapi/activities/step/<step page id>
    <base>/xapi/activities/step/<quiz page id>/question/<question block id>
    <base>/xapi/activities/package/<package uuid>/sco/<item identifier, percent-encoded>

Page ids never change (a page moved or renamed keeps its id); a question is named by its
StreamField block id, as the quiz API and the grading do (editors reorder questions, the
block id stays). ``<base>/xapi/activities/cmi5/…`` belongs to the cmi5 LMS (learning/cmi5):
``parse`` returns None for it. ``registration_for`` gives the stable xAPI registration of
an enrolment (one cycle of one agent in one course): a UUID derived from its primary key,
so nothing is stored.
"""

import re
import uuid
from dataclasses import dataclass
from urllib.parse import quote, unquote

from django.conf import settings

#: The namespace of the UUIDs Parcours derives (registrations, statement ids).
NAMESPACE = uuid.UUID("5b0e7c1e-8c1a-4f55-9d0f-7f1f6a1c0a12")

PATH = "/xapi/activities/"
CMI5 = "cmi5"

_COURSE = re.compile(r"^course/(\d{1,18})$")
_STEP = re.compile(r"^step/(\d{1,18})$")
_QUESTION = re.compile(r"^step/(\d{1,18})/question/([A-Za-z0-9_-]{1,64})$")
_SCO = re.compile(r"^package/([0-9a-fA-F-]{36})/sco/([^/]{1,600})$")


def base_url():
    return settings.WAGTAILADMIN_BASE_URL.rstrip("/")


def prefix():
    return base_url() + PATH


def course(page_id):
    return f"{prefix()}course/{int(page_id)}"


def step(page_id):
    return f"{prefix()}step/{int(page_id)}"


def question(step_id, block_id):
    return f"{step(step_id)}/question/{block_id}"


def sco(package_uuid, identifier):
    return f"{prefix()}package/{package_uuid}/sco/{quote(str(identifier), safe='')}"


def cmi5_prefix():
    return f"{prefix()}{CMI5}/"


@dataclass(frozen=True)
class ActivityRef:
    """What an activity id of Parcours names. ``kind``: ``course``, ``step``, ``question``, ``sco``."""

    kind: str
    page_id: int | None = None
    question: str | None = None
    package_uuid: uuid.UUID | None = None
    sco: str | None = None


def parse(activity_id):
    """The :class:`ActivityRef` of a Parcours activity id, or None (another site's, a cmi5
    activity, anything malformed)."""
    if not isinstance(activity_id, str):
        return None
    start = prefix()
    if not activity_id.startswith(start):
        return None
    rest = activity_id[len(start) :]
    if match := _COURSE.match(rest):
        return ActivityRef("course", page_id=int(match[1]))
    if match := _STEP.match(rest):
        return ActivityRef("step", page_id=int(match[1]))
    if match := _QUESTION.match(rest):
        return ActivityRef("question", page_id=int(match[1]), question=match[2])
    if match := _SCO.match(rest):
        try:
            package_uuid = uuid.UUID(match[1])
        except ValueError:
            return None
        return ActivityRef("sco", package_uuid=package_uuid, sco=unquote(match[2]))
    return None


def registration_for(enrollment_id):
    """The xAPI registration of an enrolment: the same UUID every time, for that cycle only."""
    return str(uuid.uuid5(NAMESPACE, f"enrollment:{int(enrollment_id)}"))


def statement_id(*parts):
    """A statement id derived from ``parts``: the same fact yields the same id, so it is
    stored once however often it is emitted (the LRS keeps the first one)."""
    return str(uuid.uuid5(NAMESPACE, "statement:" + ":".join(str(p) for p in parts)))
