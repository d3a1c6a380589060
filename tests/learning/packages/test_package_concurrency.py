"""Two commits at once on one attempt (seq n and n + 1) serialise on the enrolment's row
lock: the last applied sequence number is n + 1 and neither commit's data is lost. Runs on
PostgreSQL, where requests really overlap."""

import threading

import pytest
from django.db import connection, connections

from learning import services
from learning.models import PackageAttempt
from tests.learning.packages.conftest import SCORM12_LAUNCHABLES, SCORM12_ORGANIZATION, add_package_step, store_package

pytestmark = pytest.mark.postgres


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_commits_serialise(chain):
    if connection.vendor != "postgresql":
        pytest.skip("row locks are tested on PostgreSQL (set DATABASE_URL)")
    from learning.packages import sample
    from tests.learning.conftest import build_course

    package = store_package(
        sample.scorm12_files(suspend_kb=1), standard="scorm12", launchables=SCORM12_LAUNCHABLES,
        organization=SCORM12_ORGANIZATION, title="Concurrence",
    )
    built = build_course(slug="concurrence")
    for step in [*built["lessons"], built["quiz"]]:
        step.delete()
    step = add_package_step(built["course"], package, slug="module-concurrence")
    user = chain["agent"].user
    attempt = services.launch_package(user=user, step=step)
    for round_ in range(5):
        n = 2 * round_ + 1
        barrier = threading.Barrier(2)
        errors = []

        def send(seq, key, barrier=barrier, errors=errors):
            try:
                barrier.wait()
                services.commit_package(
                    user=user, attempt_id=attempt.pk,
                    data={"sco": "ITEM-1", "seq": seq, "cmi": {key: str(seq)}, "terminate": False},
                )
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
            finally:
                connections.close_all()

        threads = [
            threading.Thread(target=send, args=(n, f"cmi.interactions.{n}.id")),
            threading.Thread(target=send, args=(n + 1, f"cmi.interactions.{n + 1}.id")),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        stored = PackageAttempt.objects.get(pk=attempt.pk)
        assert stored.last_seq == n + 1
        cmi = stored.scos["ITEM-1"]["cmi"]
        # n + 1 always lands; n lands too unless it arrived second (then acknowledged, ignored).
        assert cmi[f"cmi.interactions.{n + 1}.id"] == str(n + 1)
        assert all(value == key.split(".")[2] for key, value in cmi.items() if key.startswith("cmi.interactions."))
