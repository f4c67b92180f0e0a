"""Home in a browser: the complaints lead signs in and sees what needs them (KPIs to update with due dates,
their red KPIs, their late initiative), follows their scorecard and sees its changes, opens its members;
the password reset page and the language choice work; every page accessible, at desktop and phone size.

The complaints lead (Meridian's Complaints & Resolution scorecard admin) is chosen because the demo gives
them all three: KPIs to report, two KPIs off target and a late initiative. The follow is undone at the end,
so other tests see the demo as it was.
"""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from .harness import BROWSER, DemoServer, Login, audit_accessibility, phone_size, screenshot, sign_in

pytestmark = BROWSER

COMPLAINTS_LEAD = "care.complaints.lead"
SCORECARD = "Complaints & Resolution scorecard"


def complaints_lead(demo_server: DemoServer) -> Login:
    return next(login for login in demo_server.logins if login.username == COMPLAINTS_LEAD)


def test_home_shows_what_needs_the_user_and_the_changes_they_follow(page: Page, demo_server: DemoServer) -> None:
    lead = complaints_lead(demo_server)
    sign_in(page, lead.username, lead.password)

    to_update = page.get_by_role("region", name="KPIs to update")
    expect(to_update.get_by_role("listitem").first).to_contain_text(re.compile(r"due \d"))
    red = page.get_by_role("region", name="Your KPIs off target")
    expect(red.get_by_role("link", name="Time to resolve complaints")).to_be_visible()
    expect(red.locator(".status").first).to_be_visible()  # the status in words beside its colour
    late = page.get_by_role("region", name="Your late initiatives")
    expect(late.get_by_role("link", name="Complaint root-cause programme")).to_be_visible()
    changes = page.get_by_role("region", name="Changes on scorecards you follow")
    expect(changes).to_contain_text("You follow no scorecard yet")

    page.locator("#scorecards").get_by_role("link", name=SCORECARD, exact=True).click()
    page.get_by_role("button", name="Follow", exact=True).click()
    expect(page.get_by_role("button", name="Unfollow", exact=True)).to_be_visible()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Home").click()
    expect(changes.get_by_role("listitem").first).to_be_visible()
    expect(changes.locator("a[href$='/history/']").first).to_be_visible()  # each change opens the history
    expect(changes.get_by_role("link", name=SCORECARD, exact=True)).to_be_visible()
    audit_accessibility(page)
    screenshot(page, "home")
    with phone_size(page):
        audit_accessibility(page)
        screenshot(page, "home-phone")

    changes.get_by_role("link", name=SCORECARD, exact=True).click()
    page.get_by_role("link", name="Manage members").click()
    expect(page.get_by_role("heading", level=1, name="Members")).to_be_visible()
    expect(page.get_by_role("button", name="Change role").first).to_be_visible()
    audit_accessibility(page)
    screenshot(page, "members")

    page.go_back()
    page.get_by_role("button", name="Unfollow", exact=True).click()
    expect(page.get_by_role("button", name="Follow", exact=True)).to_be_visible()


def test_a_forgotten_password_is_reset_from_the_sign_in_page(page: Page, demo_server: DemoServer) -> None:
    page.goto("/accounts/login/")
    page.get_by_role("link", name="Forgot your password?").click()
    expect(page.get_by_role("heading", level=1, name="Reset your password")).to_be_visible()
    audit_accessibility(page)
    page.get_by_label("Email").fill("nobody@example.org")
    page.get_by_role("button", name="Send the link").click()
    expect(page.get_by_role("heading", level=1, name="Check your e-mail")).to_be_visible()
    audit_accessibility(page)


def test_choosing_german_in_the_user_menu_formats_the_page_the_german_way(page: Page, demo_server: DemoServer) -> None:
    viewer = demo_server.login("viewer")
    sign_in(page, viewer.username, viewer.password)
    page.locator(".user-menu > summary").click()
    menu = page.get_by_role("group", name="Language, numbers and dates")
    audit_accessibility(page)
    screenshot(page, "user-menu")
    menu.get_by_role("button", name="Deutsch").click()
    expect(page.locator("html")).to_have_attribute("lang", "de")
    page.locator(".user-menu > summary").click()
    expect(menu.get_by_role("button", name="Deutsch")).to_have_attribute("aria-current", "true")
    menu.get_by_role("button", name="English", exact=True).click()
    expect(page.locator("html")).to_have_attribute("lang", "en")


def test_an_organisation_admin_starts_a_top_scorecard_from_home(page: Page, demo_server: DemoServer) -> None:
    org_admin = demo_server.login("organisation admin")
    sign_in(page, org_admin.username, org_admin.password)
    organisation = page.locator("#scorecards .org-card").filter(
        has=page.get_by_role("heading", level=2, name=org_admin.scope, exact=True)
    )
    new_scorecard = organisation.get_by_role("link", name=f"New scorecard in {org_admin.scope}")
    expect(new_scorecard).to_be_visible()
    audit_accessibility(page)
    screenshot(page, "home-organisation-admin")

    new_scorecard.click()
    expect(page.get_by_role("heading", level=1, name="New scorecard")).to_be_visible()
    expect(page.get_by_label("Cascades from")).to_have_value("")  # a top scorecard unless told otherwise
    page.locator("#id_name").fill("Board 2027")
    page.locator("#id_org_unit").select_option(index=1)
    audit_accessibility(page)
    screenshot(page, "scorecard-new")
    page.get_by_role("button", name="Create scorecard").click()
    expect(page.locator("#messages")).to_contain_text("Scorecard created.")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Board 2027")

    # Taken away again, so other tests see the demo as it was.
    page.get_by_role("link", name="Edit scorecard").click()
    page.get_by_role("link", name="Delete scorecard").click()
    page.get_by_role("button", name="Delete").click()
    expect(page.locator("#messages")).to_contain_text("deleted")


def test_scorecard_roles_are_not_offered_new_scorecard(page: Page, demo_server: DemoServer) -> None:
    admin = demo_server.login("admin")  # a scorecard's admin, not the organisation's
    sign_in(page, admin.username, admin.password)
    expect(page.locator("#scorecards .org-card").first).to_be_visible()
    expect(page.get_by_role("link", name=re.compile("^New scorecard"))).to_have_count(0)
