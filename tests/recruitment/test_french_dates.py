"""« 1er » for the first day of the month on the interviewer's pages (``cms.text.date_format``
and the ``ldate`` filter): « entretien du 1er décembre … » in Mon espace, « après l'entretien
du 1er décembre » when a scorecard comes too early; English keeps « 1 December »."""

import datetime
import html

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from cms.exceptions import Conflict
from recruitment import interviews
from recruitment.choices import ApplicationStatus as S
from recruitment.models import Interview, Scorecard
from tests.recruitment.test_board import jury_member, make_application

pytestmark = pytest.mark.django_db


def interview_on(application, jury, starts_at):
    interview = Interview.objects.create(application=application, starts_at=starts_at, location="Salle 101")
    interview.interviewers.add(jury)
    return Scorecard.objects.get_or_create(application=application, interviewer=jury)[0]


def test_the_interviewers_panel_and_the_early_scorecard_say_1er(client, openings):
    jury = jury_member("jury", first_name="Jules", last_name="Juré")
    first = timezone.make_aware(datetime.datetime(timezone.localdate().year + 1, 12, 1, 9, 30))
    card = interview_on(make_application(openings["open"], status=S.INTERVIEW, first_name="Yann"), jury, first)
    client.force_login(jury)
    body = " ".join(html.unescape(client.get(reverse("cms:mon_espace")).content.decode()).split())
    assert "Remplir la grille de Yann" in body
    assert f"à remplir après l'entretien du 1er décembre {first.year} 09:30" in body
    scores = {name: 4 for name in Scorecard.CRITERIA}
    with translation.override("fr"), pytest.raises(Conflict, match=f"après l'entretien du 1er décembre {first.year}"):
        interviews.submit_scorecard(scorecard_id=card.pk, actor=jury, scores=scores, recommendation="yes")
    with translation.override("en"), pytest.raises(Conflict, match=f"1 December {first.year}"):
        interviews.submit_scorecard(scorecard_id=card.pk, actor=jury, scores=scores, recommendation="yes")
