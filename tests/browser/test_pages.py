"""Every page of the interface as its most capable user sees it (every form shown): accessible, and
photographed for docs/screenshots/."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from .harness import BROWSER, DemoServer, audit_accessibility, phone_size, screenshot, sign_in

pytestmark = BROWSER


def test_an_organisation_admin_s_pages_are_accessible(page: Page, demo_server: DemoServer) -> None:
    admin = demo_server.login("organisation admin")
    sign_in(page, admin.username, admin.password)
    page.locator(".scorecard-name a").first.click()
    scorecard_url = page.url

    page.get_by_role("link", name="Manage members").click()
    expect(page.get_by_role("heading", level=1, name="Members")).to_be_visible()
    audit_accessibility(page)
    screenshot(page, "members")

    page.goto(scorecard_url)
    page.get_by_role("link", name="History").click()
    expect(page.get_by_role("heading", level=1, name="History")).to_be_visible()
    audit_accessibility(page)
    screenshot(page, "history")

    page.goto(scorecard_url)
    page.locator(".kpi-table .kpi-name a").first.click()
    page.get_by_text("Set a target").click()
    page.get_by_role("button", name="Save target").click()  # empty: errors appear next to the fields
    expect(page.locator(".field.has-error").first).to_be_visible()
    audit_accessibility(page)
    screenshot(page, "kpi-form-errors")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Data and computations").click()
    expect(page.get_by_role("heading", level=1, name="Data and computations")).to_be_visible()
    audit_accessibility(page)
    screenshot(page, "data")
    runs = page.locator("a[href^='/runs/']")
    if runs.count():
        runs.first.click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("Computation run")
        audit_accessibility(page)
        screenshot(page, "run")

    page.goto("/accounts/password/")
    audit_accessibility(page)
    screenshot(page, "password")
    with phone_size(page):
        page.goto(scorecard_url)
        audit_accessibility(page)


def test_a_refusal_says_why_and_is_accessible(page: Page, demo_server: DemoServer) -> None:
    viewer = demo_server.login("viewer")
    sign_in(page, viewer.username, viewer.password)
    page.goto("/scorecards/999999/")
    expect(page.get_by_role("heading", level=1, name="Not found")).to_be_visible()
    audit_accessibility(page)
    response = page.goto("/admin/")
    assert response is not None
    expect(page).to_have_url(re.compile(r"/admin/login/"))
