"""A viewer's first visit: home, the company scorecard, one KPI; each page accessible, at desktop and phone size."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from .harness import BROWSER, DemoServer, audit_accessibility, phone_size, screenshot, sign_in

pytestmark = BROWSER


def test_a_viewer_reads_home_the_company_scorecard_and_a_kpi(page: Page, demo_server: DemoServer) -> None:
    viewer = demo_server.login("viewer")
    sign_in(page, viewer.username, viewer.password)
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Home")).to_have_attribute(
        "aria-current", "page"
    )
    audit_accessibility(page)
    screenshot(page, "home-empty")  # a viewer's home: every section's empty state (test_home.py takes "home")

    page.get_by_role("link", name=viewer.scope, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(viewer.scope)
    expect(page.get_by_role("navigation", name="Perspectives").get_by_role("link")).to_have_count(4)
    first_why = page.locator(".kpi-table details.why").first
    first_why.locator("summary").click()
    expect(first_why.locator("p")).to_contain_text("Status:")
    first_why.locator("summary").click()
    audit_accessibility(page)
    with phone_size(page):  # the scorecard's screenshots are taken by test_scorecard.py
        audit_accessibility(page)

    kpi_link = page.locator(".kpi-table .kpi-name a").first
    kpi_name = kpi_link.inner_text()
    kpi_link.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(kpi_name)
    expect(page.locator(".verdict .status")).to_be_visible()
    expect(page.get_by_text("Enter a value")).to_have_count(0)
    audit_accessibility(page)  # the KPI page's screenshots are taken by test_kpi_page.py


def test_on_a_phone_the_navigation_opens_from_the_menu_button(page: Page, demo_server: DemoServer) -> None:
    viewer = demo_server.login("viewer")
    sign_in(page, viewer.username, viewer.password)
    with phone_size(page):
        navigation = page.get_by_role("navigation", name="Main")
        menu = page.get_by_role("button", name="Menu")
        expect(navigation).to_be_hidden()
        menu.click()
        expect(menu).to_have_attribute("aria-expanded", "true")
        expect(navigation.get_by_role("link", name="Scorecards")).to_be_visible()
        audit_accessibility(page)
        menu.click()
        expect(navigation).to_be_hidden()


def test_the_user_menu_signs_out(page: Page, demo_server: DemoServer) -> None:
    viewer = demo_server.login("viewer")
    sign_in(page, viewer.username, viewer.password)
    page.locator(".user-menu > summary").click()
    expect(page.get_by_role("link", name="Change password")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.get_by_role("link", name="Change password")).to_be_hidden()
    page.locator(".user-menu > summary").click()
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/$"))
    audit_accessibility(page)
    screenshot(page, "login")
