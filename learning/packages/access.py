"""Who may read a content package's extracted files (``learning.package_views.content``).

Readers: training editors, HR and superusers (they build and support the courses); an
agent with an enrolment, whatever its status, in a course that has a step on this
package, or with an attempt on it (an attempt keeps the package it was started on, so a
new version of a package leaves old attempts readable). Everyone else, anonymous
included, is refused.

A course loads hundreds of files (scripts, images, fonts, video chunks), so the answer
costs a constant number of queries (the roles, then one ``EXISTS``) and a positive answer
is kept briefly in the shared cache, keyed by user and package. A negative answer is not
cached: an agent who enrols a minute later reads the package at once.
"""

from django.core.cache import cache
from django.db.models import Q
from django.db.models.functions import Length, Substr

from cms import roles
from cms import selectors as cms_selectors

#: Seconds a positive answer stays in the shared cache.
READER_CACHE_SECONDS = 300

# Wagtail's materialised path: four characters per level, the course is the step's parent.
_STEPLEN = 4


def _cache_key(user_id, package_id):
    return f"learning:package-reader:{user_id}:{package_id}"


def _is_staff_reader(user):
    """Training editors, HR and superusers read every package (one query: the roles)."""
    return user.is_superuser or bool(cms_selectors.role_names(user) & {roles.TRAINING_EDITORS, roles.HR})


def _is_enrolled_reader(user, package):
    """An enrolment of the user's agent in a course holding a step on ``package``, or an
    attempt on ``package`` (one query)."""
    from learning.models import Enrollment, PackageStepPage

    course_paths = (
        PackageStepPage.objects.filter(package_id=package.pk)
        .annotate(course_path=Substr("path", 1, Length("path") - _STEPLEN))
        .values("course_path")
    )
    return (
        Enrollment.objects.filter(agent__user_id=user.pk)
        .filter(Q(course__path__in=course_paths) | Q(package_attempts__package_id=package.pk))
        .exists()
    )


def can_read_package(user, package):
    """May ``user`` read the files of ``package``? (at most two queries, none when cached)."""
    if user is None or not user.is_authenticated or package is None or package.pk is None:
        return False
    key = _cache_key(user.pk, package.pk)
    if cache.get(key):
        return True
    allowed = _is_staff_reader(user) or _is_enrolled_reader(user, package)
    if allowed:
        cache.set(key, True, READER_CACHE_SECONDS)
    return allowed


def forget_reader(user, package):
    """Drop the cached answer for ``user`` on ``package`` (after an HR reset, a test…)."""
    cache.delete(_cache_key(user.pk, package.pk))
