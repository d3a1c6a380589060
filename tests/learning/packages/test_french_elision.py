"""« de » / « d' » before a name on the learning pages (``cms.text.of`` through the template
filter ``of_name``): the team's progress bars and the HR reset of a module attempt."""


import pytest
from django.urls import reverse

from learning import services
from tests.factories import page_text, rename
from tests.learning.packages.test_package_reset import INDEX, RESET
from tests.learning.test_views import enrol


@pytest.mark.django_db
def test_the_team_progress_bars_elide(client, chain, course):
    rename(chain["agent"], "Émilie", "Millet")
    enrol(chain["agent"], course["course"])
    client.force_login(chain["manager"].user)
    body = page_text(client.get(reverse("learning:team")))
    assert 'aria-label="Progression d\'Émilie Millet"' in body and "Progression de Émilie" not in body


@pytest.mark.django_db
def test_the_attempt_reset_pages_elide(client, chain, scorm12_course):
    rename(chain["agent"], "Hugo", "Arnaud")
    attempt = services.launch_package(user=chain["agent"].user, step=scorm12_course["step"])
    client.force_login(chain["hr"].user)
    assert "la tentative n° 1 d'Hugo Arnaud" in page_text(client.get(reverse(INDEX)))
    assert "Réinitialiser la tentative d'Hugo Arnaud ?" in page_text(client.get(reverse(RESET, args=[attempt.pk])))
    done = page_text(client.post(reverse(RESET, args=[attempt.pk]), follow=True))
    assert f"Tentative n° 1 d'Hugo Arnaud au module « {scorm12_course['step'].title} » réinitialisée" in done
