"""The training editor's main job in a browser: from the home page, « Gérer les formations » in
the header opens the Wagtail explorer of the catalogue; the editor goes down to a course,
renames a lesson, publishes it, then opens it on the site from Wagtail's message. axe finds
no serious or critical violation on the site and admin pages reached (Wagtail's Draftail
editor left out of the page editor's check, as in test_recruitment.py)."""

import re

from playwright.sync_api import expect

from tests.e2e.conftest import header_link, settled

DRAFTAIL = {"exclude": [[".Draftail-Editor"]]}  # Wagtail's rich text editor (not ours): an unnamed textbox


def test_the_editor_renames_a_lesson_and_publishes_it_from_the_header(page, site_db, login, axe_check):
    from cms import roles
    from learning.demo import grant_editor_permissions
    from learning.models import LessonPage
    from tests.factories import UserFactory
    from tests.learning.conftest import build_course

    course = build_course()
    grant_editor_permissions(course["index"])  # as seed_demo grants on the catalogue
    UserFactory(username="editor", first_name="Élise", last_name="Lemoine", groups=[roles.TRAINING_EDITORS])
    lesson = course["lessons"][0]

    login(page, "editor")  # back on the home page, signed in
    header_link(page, "Gérer les formations").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Formations")
    settled(page)
    axe_check(page)  # the explorer of the catalogue

    page.get_by_role("link", name="Explorer les sous-pages de « Protection des données »").click()
    expect(page.get_by_role("link", name="Les principes", exact=True)).to_be_visible()
    settled(page)
    axe_check(page)  # the course's steps
    page.get_by_role("link", name="Les principes", exact=True).click()
    expect(page).to_have_url(re.compile(rf"/admin/pages/{lesson.pk}/edit/$"))
    settled(page)
    axe_check(page, context=DRAFTAIL)  # the page editor

    page.get_by_role("textbox", name=re.compile(r"^Titre")).fill("Les grands principes du RGPD")
    page.get_by_role("button", name="Plus d'actions").click()
    page.get_by_role("button", name="Publier", exact=True).click()

    # Back in the course's explorer, with Wagtail's message and its « Visualiser la version publiée ».
    message = page.locator(".messages").filter(has_text="Les grands principes du RGPD")
    expect(message).to_be_visible()
    settled(page)
    axe_check(page)
    message.get_by_role("link", name="Visualiser la version publiée").click()
    expect(page).to_have_url(re.compile(r"/formations/rgpd/principes/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Les grands principes du RGPD")
    axe_check(page)  # the lesson on the site

    lesson = LessonPage.objects.get(pk=lesson.pk)
    assert lesson.live and not lesson.has_unpublished_changes and lesson.title == "Les grands principes du RGPD"
