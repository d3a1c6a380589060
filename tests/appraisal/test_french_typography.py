"""French typography on the appraisal pages (``cms.text``, filters ``of_name`` and ``ldate``):
« compte rendu d'Alexandre Reynaud », « le visa d'Hélène … », « 1er décembre »; English keeps
the name alone and « 1 December »."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from appraisal.actions import Notify, Visa
from appraisal.choices import AppraisalState as S
from tests.appraisal.factories import put_in
from tests.factories import page_text, rename

pytestmark = pytest.mark.django_db


def test_the_reviewer_queue_elides_before_the_agents_name(client, chain, appraisal):
    rename(chain["agent"], "Alexandre", "Reynaud")
    put_in(appraisal, S.ACKNOWLEDGED)
    client.force_login(chain["reviewer"].user)
    body = page_text(client.get(reverse("appraisal:reviewer_queue")))
    assert "compte rendu d'Alexandre Reynaud" in body and "compte rendu de Alexandre" not in body


def test_the_agents_panel_elides_before_the_reviewers_name(client, chain, appraisal):
    rename(chain["reviewer"], "Hélène", "Martin")
    put_in(appraisal, S.ACKNOWLEDGED)
    client.force_login(chain["agent"].user)
    body = page_text(client.get("/mon-espace/"))
    assert "le compte rendu attend le visa d'Hélène Martin, autorité hiérarchique." in body


def test_the_confirmation_sentences_elide(chain, appraisal):
    rename(chain["agent"], "Yves", "Olivier")
    put_in(appraisal, S.HELD)
    with translation.override("fr"):
        assert Notify.consequences(appraisal)[0].startswith("Vous signez le compte rendu d'Yves Olivier :")
        assert Visa.consequences(appraisal)[0].startswith("Le compte rendu d'Yves Olivier devient définitif")


def test_the_interview_on_the_first_of_the_month_is_the_1er(client, chain, appraisal):
    first = timezone.make_aware(datetime.datetime(timezone.localdate().year + 1, 12, 1, 14, 30))
    put_in(appraisal, S.CONVOKED, interview_at=first)
    client.force_login(chain["agent"].user)
    body = page_text(client.get(reverse("appraisal:detail", kwargs={"pk": appraisal.pk})))
    assert f"1er décembre {first.year} 14:30" in body and f" 1 décembre {first.year}" not in body
    client.cookies["django_language"] = "en"
    with translation.override("en"):
        english = page_text(client.get(reverse("appraisal:detail", kwargs={"pk": appraisal.pk}), HTTP_ACCEPT_LANGUAGE="en"))
    assert f"1 December {first.year} 14:30" in english
