"""The first journey of an agent: home page, login with the keyboard, Mon espace."""

import re

from playwright.sync_api import expect

from tests.e2e.conftest import PASSWORD, header_link


def test_agent_logs_in_with_the_keyboard_and_sees_mon_espace(page, demo, axe_check):
    """The home page's « Se connecter à mon espace » (no ``next``) signs in to Mon espace."""
    page.goto("/")
    page.locator("main").get_by_role("link", name="Se connecter à mon espace").click()
    page.get_by_label("Nom d’utilisateur").fill("agent")
    password_field = page.get_by_label("Mot de passe")
    password_field.fill(PASSWORD)
    password_field.press("Enter")

    expect(page).to_have_url(re.compile(r"/mon-espace/$"))
    axe_check(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Mon espace")
    profile = page.locator("main")
    expect(profile).to_contain_text(demo["agent"].employee_number)
    expect(profile).to_contain_text(demo["manager"].full_name)


def test_key_pages_have_no_serious_accessibility_violation(page, demo, login, axe_check):
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    axe_check(page)

    page.locator(".header-tools").get_by_role("link", name="Se connecter", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Connexion")
    axe_check(page)

    login(page, "agent")  # back on the home page, signed in
    header_link(page, "Mon espace").click()
    expect(page).to_have_url(re.compile(r"/mon-espace/$"))
    axe_check(page)


def test_skip_link_is_the_first_focusable_element_and_moves_focus_to_main(page, site_db):
    page.goto("/")
    page.keyboard.press("Tab")
    skip_link = page.get_by_role("link", name="Aller au contenu")
    expect(skip_link).to_be_focused()
    expect(skip_link).to_be_visible()  # visible when focused (WCAG 2.4.7)

    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()


def test_language_switcher_changes_the_page_language(page, site_db):
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "fr")

    page.locator("form.lang-switch").get_by_role("button", name=re.compile("^English")).click()
    expect(page.locator("html")).to_have_attribute("lang", "en")

    page.locator("form.lang-switch").get_by_role("button", name=re.compile("^Français")).click()
    expect(page.locator("html")).to_have_attribute("lang", "fr")


def test_home_page_has_no_horizontal_scroll_at_320px(page, site_db):
    page.set_viewport_size({"width": 320, "height": 640})
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= 320 + 1, f"the page is {scroll_width}px wide at a 320px viewport"


BUSIEST_NAV = 9  # Mon espace, Mes entretiens, Formations, the team, the two HR dashboards, recruitment, authoring, scorecards


def test_the_header_does_not_wrap_at_1280px_for_the_busiest_role(page, demo, login):
    """A manager (with a reviewer above) who holds every role (HR, training editor, recruiter,
    interviewer) has the most header entries: at 1280 px the brand and the tools share the
    top row and the navigation holds on its own row, in French and in English."""
    from django.contrib.auth.models import Group

    from cms import roles
    from tests.learning.conftest import build_course

    build_course()
    demo["manager"].user.groups.add(*Group.objects.filter(name__in=roles.GROUPS))
    page.set_viewport_size({"width": 1280, "height": 800})
    login(page, "manager")
    for language in ("Français", "English"):
        page.goto("/")
        labels = page.locator(".site-nav a").all_inner_texts()
        assert len(labels) == BUSIEST_NAV, labels
        tops = page.eval_on_selector_all(
            ".header-inner > *, .site-nav li", "els => els.map(e => Math.round(e.getBoundingClientRect().top))"
        )
        brand_and_tools, nav = tops[:2], tops[2:]
        assert max(brand_and_tools) - min(brand_and_tools) < 12, (language, tops)
        assert len(set(nav)) == 1 and nav[0] > max(brand_and_tools), (language, tops)
        switch = page.locator("form.lang-switch").get_by_role("button")
        if switch.count() and language == "Français":
            switch.click()


def test_the_manager_grants_a_new_enrolment_after_a_failure_from_the_team_view(page, demo, login, axe_check):
    """Issue 13, item 11: the agent failed the course (attempts exhausted); from the home page,
    « Mon équipe » in the header, the manager grants a new enrolment on the failed
    row; the button disappears once granted and the new cycle is listed."""
    from learning import services
    from learning.choices import EnrollmentStatus
    from learning.models import Enrollment
    from tests.learning.conftest import HALF_RIGHT, build_course

    course = build_course()  # two attempts at the quiz
    agent = demo["agent"]
    for _attempt in range(2):
        services.submit_quiz(user=agent.user, quiz=course["quiz"], answers=HALF_RIGHT)
    assert Enrollment.objects.get(agent=agent).status == EnrollmentStatus.FAILED

    login(page, "manager")  # back on the home page, signed in
    header_link(page, "Mon équipe").click()
    grant = page.get_by_role("button", name=re.compile(rf"^Accorder une nouvelle inscription – {agent.full_name}"))
    expect(grant).to_have_count(1)
    axe_check(page)  # the team view with the failed row
    grant.click()

    granted = f"Nouvelle inscription accordée à {agent.full_name} pour « Protection des données »."
    expect(page.get_by_text(granted)).to_be_visible()
    expect(grant).to_have_count(0)
    axe_check(page)
    statuses = set(Enrollment.objects.filter(agent=agent).values_list("status", flat=True))
    assert statuses == {EnrollmentStatus.FAILED, EnrollmentStatus.NOT_STARTED}
