"""Two submissions at once cannot both take the last allowed attempt (row lock on the
enrolment + unique attempt number). Runs on PostgreSQL, where requests really overlap."""

import threading

import pytest
from django.db import connection, connections

from cms.exceptions import Conflict
from learning import services
from learning.models import QuizAttempt
from tests.learning.conftest import HALF_RIGHT, build_course

pytestmark = pytest.mark.postgres


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_submissions_respect_the_attempt_limit(chain):
    if connection.vendor != "postgresql":
        pytest.skip("row locks are tested on PostgreSQL (set DATABASE_URL)")
    built = build_course(attempt_limit=1)
    user = chain["agent"].user
    services.self_enroll(user=user, course=built["course"])
    barrier = threading.Barrier(4)
    outcomes = []

    def submit():
        try:
            barrier.wait()
            services.submit_quiz(user=user, quiz=built["quiz"], answers=HALF_RIGHT)
            outcomes.append("ok")
        except Conflict:
            outcomes.append("conflict")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=submit) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict", "conflict", "conflict", "ok"]
    assert QuizAttempt.objects.count() == 1
