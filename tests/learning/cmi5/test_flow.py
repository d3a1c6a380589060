"""A cmi5 course end to end through HTTP: import, launch, fetch, LaunchData, the AU's
statements, satisfaction (block and course), the enrolment completed with its certificate."""

from learning.models import Enrollment, PackageAttempt
from tests.learning.cmi5.conftest import AU, completed, passed
from xapi.models import Statement

SATISFIED = "https://w3id.org/xapi/adl/verbs/satisfied"


def test_an_au_played_to_the_end_satisfies_block_and_course_and_completes_the_enrolment(agent_client, cmi5_step):
    au = AU(agent_client, cmi5_step).start()
    data = au.launch_data()
    assert data["launchMode"] == "Normal" and data["moveOn"] == "CompletedAndPassed" and data["masteryScore"] == 0.8
    session = data["contextTemplate"]["extensions"]["https://w3id.org/xapi/cmi5/context/extensions/sessionid"]
    ok = au.send(
        au.statement("passed", result=passed(), moveon=True),
        au.statement("completed", result=completed(), moveon=True),
    )
    assert ok.status_code == 200, ok.content
    assert au.send(au.statement("terminated", result={"duration": "PT20S"})).status_code == 200
    attempt = PackageAttempt.objects.get(registration=au.registration)
    assert attempt.status == "passed" and attempt.score == 90 and attempt.progress == 1
    satisfied = Statement.objects.filter(registration=au.registration, verb_id=SATISFIED)
    assert satisfied.count() == 2  # the block, then the course
    assert {
        s.data["context"]["extensions"]["https://w3id.org/xapi/cmi5/context/extensions/sessionid"] for s in satisfied
    } == {session}
    enrollment = Enrollment.objects.get(pk=attempt.enrollment_id)
    assert enrollment.status == "completed" and enrollment.certificate_code


def test_hr_waives_the_au_with_a_reason_and_the_course_is_satisfied(cmi5_step, chain):
    import pytest
    from django.core.exceptions import PermissionDenied, ValidationError

    from learning import services
    from learning.models import Enrollment

    enrollment, _created = services.enroll(agent=chain["agent"], course=cmi5_step.get_parent())
    au = cmi5_step.package.launchables[0]["identifier"]
    with pytest.raises(PermissionDenied):
        services.waive_au(actor=chain["agent"].user, enrollment=enrollment, step=cmi5_step, au=au, reason="x")
    with pytest.raises(ValidationError):
        services.waive_au(actor=chain["hr"].user, enrollment=enrollment, step=cmi5_step, au=au, reason=" ")
    attempt = services.waive_au(actor=chain["hr"].user, enrollment=enrollment, step=cmi5_step, au=au,
                                reason="Formation équivalente suivie en 2025")  # fmt: skip
    waived = Statement.objects.get(registration=attempt.registration, verb_id="https://w3id.org/xapi/adl/verbs/waived")
    assert waived.data["result"]["extensions"]["https://w3id.org/xapi/cmi5/result/extensions/reason"].startswith(
        "Formation"
    )
    assert attempt.status == "completed" and attempt.scos[au]["waived"]
    assert Enrollment.objects.get(pk=enrollment.pk).status == "completed"
