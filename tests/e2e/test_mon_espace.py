"""The first journey of an agent: home page, login with the keyboard, Mon espace."""

import re

from playwright.sync_api import expect


def test_agent_logs_in_with_the_keyboard_and_sees_mon_espace(page, demo, login):
    login(page, "agent")

    expect(page).to_have_url(re.compile(r"/mon-espace/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Mon espace")
    profile = page.locator("main")
    expect(profile).to_contain_text(demo["agent"].employee_number)
    expect(profile).to_contain_text(demo["manager"].full_name)


def test_key_pages_have_no_serious_accessibility_violation(page, demo, login, axe_check):
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    axe_check(page)

    page.goto("/compte/connexion/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Connexion")
    axe_check(page)

    login(page, "agent")
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

    page.get_by_label("Langue").select_option("en")
    page.locator("form.lang-switch").get_by_role("button").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")

    page.get_by_label(re.compile(r"^(Langue|Language)$")).select_option("fr")
    page.locator("form.lang-switch").get_by_role("button").click()
    expect(page.locator("html")).to_have_attribute("lang", "fr")


def test_home_page_has_no_horizontal_scroll_at_320px(page, site_db):
    page.set_viewport_size({"width": 320, "height": 640})
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= 320 + 1, f"the page is {scroll_width}px wide at a 320px viewport"
