"""A completed package reaches every view of completions: the completion API shows the
enrolment completed with its score, completed_at and certificate URL, as for native courses."""

import csv
import io
import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from learning import reminders, services
from learning.choices import EnrollmentStatus
from learning.models import Enrollment


def commit(user, attempt, seq, cmi, *, sco="ITEM-1", terminate=True):
    return services.commit_package(
        user=user, attempt_id=attempt.pk, data={"sco": sco, "seq": seq, "cmi": cmi, "terminate": terminate}
    )


def completions(user, course):
    client = APIClient()
    client.force_login(user)
    response = client.get("/api/v1/completions/", {"course": course.pk})
    assert response.status_code == 200
    return response.json()["results"]


@pytest.mark.parametrize(
    ("cmi", "score"),
    [
        ({"cmi.core.lesson_status": "passed", "cmi.core.score.raw": "92"}, 92),
        ({"cmi.core.lesson_status": "completed", "cmi.core.score.raw": "85"}, 85),  # mastery 80 → passed
        ({"cmi.core.lesson_status": "completed"}, None),  # no score: completed
    ],
)
def test_scorm12_completion_shows_in_the_completion_api(chain, scorm12_course, cmi, score):
    user = chain["agent"].user
    attempt = services.launch_package(user=user, step=scorm12_course["step"])
    commit(user, attempt, 1, cmi)
    for viewer in (user, chain["manager"].user, chain["hr"].user):
        [row] = [r for r in completions(viewer, scorm12_course["course"]) if r["agent"]["employee_number"]
                 == chain["agent"].employee_number]
        assert row["status"] == "completed" and row["progress"] == 1.0 and row["score"] == score
        assert row["completed_at"] and row["certificate_url"].endswith(f"{row['id']}.pdf")
    assert Enrollment.objects.get(agent=chain["agent"]).certificate_code


def test_mastery_score_below_fails_a_scorm12_package(chain, scorm12_course):
    user = chain["agent"].user
    attempt = services.launch_package(user=user, step=scorm12_course["step"])
    result = commit(user, attempt, 1, {"cmi.core.lesson_status": "completed", "cmi.core.score.raw": "60"})
    assert result["attempt"] == {"id": attempt.pk, "status": "failed", "score": 60, "progress": 1.0}
    [row] = completions(user, scorm12_course["course"])
    assert row["status"] == "failed" and row["completed_at"] is None and row["certificate_url"] is None


def test_scorm2004_package_completion_with_rolled_up_score(chain, scorm2004_course):
    user = chain["agent"].user
    attempt = services.launch_package(user=user, step=scorm2004_course["step"])
    for seq, (sco, scaled) in enumerate([("ITEM-1", "0.9"), ("ITEM-2", "1"), ("ITEM-3", "0.8")], start=1):
        result = commit(user, attempt, seq, {"cmi.completion_status": "completed", "cmi.score.scaled": scaled}, sco=sco)
    assert result["attempt"]["status"] == "passed" and result["attempt"]["score"] == 90
    [row] = completions(user, scorm2004_course["course"])
    assert (row["status"], row["score"], row["progress"]) == ("completed", 90, 1.0)


def test_a_course_mixing_lessons_and_a_package(chain, scorm12_package):
    from tests.learning.conftest import build_course
    from tests.learning.packages.conftest import add_package_step

    user = chain["agent"].user
    built = build_course(slug="mixte", title="Mixte")
    step = add_package_step(built["course"], scorm12_package, slug="module-mixte")
    attempt = services.launch_package(user=user, step=step)
    result = commit(user, attempt, 1, {"cmi.core.lesson_status": "passed", "cmi.core.score.raw": "100"})
    assert result["enrollment"]["status"] == "in_progress" and result["enrollment"]["progress"] == 0.25
    for lesson in built["lessons"]:
        services.complete_lesson(user=user, lesson=lesson)
    client = APIClient()
    client.force_login(user)
    response = client.post(f"/api/v1/me/quizzes/{built['quiz'].pk}/attempts/", json.dumps({"answers": {
        "q-single": ["c-8"], "q-multi": ["m-name", "m-mail"], "q-tf": [True], "q-short": "cnil"}}),
        content_type="application/json")
    assert response.status_code == 200
    enrollment = Enrollment.objects.get(agent=chain["agent"], course=built["course"])
    assert enrollment.status == "completed" and enrollment.score == 100


def _csv_rows(response):
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig")), delimiter=";"))


def test_a_package_in_progress_then_completed_flows_to_the_team_view_hr_reminders_and_mon_espace(
    client, chain, scorm12_course
):
    """The package's enrolment is an enrolment like any other: while open and due soon, the
    team view lists it and the reminder goes; once the package is passed, the team view and
    its export say so (status, progress, completion date), the HR export counts it, no reminder goes, and the
    agent's Mon espace offers the certificate."""
    agent, manager, hr = chain["agent"], chain["manager"], chain["hr"]
    course = scorm12_course["course"]
    attempt = services.launch_package(user=agent.user, step=scorm12_course["step"])
    enrollment = Enrollment.objects.get(agent=agent, course=course)
    Enrollment.objects.filter(pk=enrollment.pk).update(due_at=timezone.now() + timedelta(days=3))
    commit(agent.user, attempt, 1, {"cmi.core.lesson_status": "incomplete", "cmi.core.lesson_location": "p2"},
           terminate=False)  # fmt: skip

    client.force_login(manager.user)
    team = _csv_rows(client.get(reverse("learning:team_export")))
    [row] = [r for r in team[1:] if r[0] == agent.employee_number]
    assert course.title in row and "En cours" in row
    assert reminders.send_all(timezone.now(), dry_run=True)["due_soon"] == 1

    commit(agent.user, attempt, 2, {"cmi.core.lesson_status": "passed", "cmi.core.score.raw": "92"})
    enrollment.refresh_from_db()
    assert enrollment.status == EnrollmentStatus.COMPLETED and enrollment.score == 92

    team = _csv_rows(client.get(reverse("learning:team_export")))
    [row] = [r for r in team[1:] if r[0] == agent.employee_number]
    assert team[0][5:7] == ["Statut", "Progression (%)"] and team[0][9] == "Terminé le"
    assert row[5:7] == ["Terminé", "100"] and row[9] == timezone.localdate().isoformat()
    assert agent.full_name in client.get(reverse("learning:team"), {"course": course.pk}).text

    client.force_login(hr.user)
    hr_rows = _csv_rows(client.get(reverse("learning:hr_export"), {"course": course.pk}))
    assert hr_rows[1][2:4] == ["1", "1"]  # one enrolment, one completed

    assert reminders.send_all(timezone.now(), dry_run=True)["due_soon"] == 0

    client.force_login(agent.user)
    mon_espace = client.get(reverse("cms:mon_espace")).text
    assert reverse("learning:certificate_download", args=[enrollment.pk]) in mon_espace
