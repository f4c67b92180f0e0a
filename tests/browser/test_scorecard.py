"""The scorecard page in a browser: a viewer switches the period, filters by status, folds the tree, follows the
scorecard and a cascaded scorecard's link; each state accessible, at desktop and phone size."""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import date, timedelta

from playwright.sync_api import Page, expect

from .harness import BROWSER, DemoServer, Login, audit_accessibility, phone_size, screenshot, sign_in

pytestmark = BROWSER


def company_viewer(demo_server: DemoServer) -> Login:
    """A demo user who only views: a company scorecard, and a scorecard that cascades from it."""
    rows: dict[str, list[Login]] = defaultdict(list)
    for login in demo_server.logins:
        rows[login.username].append(login)
    for logins in rows.values():
        if len(logins) > 1 and all(login.role == "viewer" and "(via group" not in login.scope for login in logins):
            return logins[0]
    raise LookupError(f"fourfold demo printed no viewer of two scorecards: {demo_server.logins}")


def last_month() -> str:
    """The latest month of the demo's values (they run up to the last complete month)."""
    return (date.today().replace(day=1) - timedelta(days=1)).strftime("%Y-%m")


def test_a_viewer_switches_the_period_filters_folds_and_follows_a_cascade(page: Page, demo_server: DemoServer) -> None:
    viewer = company_viewer(demo_server)
    sign_in(page, viewer.username, viewer.password)
    page.get_by_role("link", name=viewer.scope, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(viewer.scope)
    expect(page.locator(".kpi-table .sparkline").first).to_be_visible()
    audit_accessibility(page)
    screenshot(page, "scorecard")
    with phone_size(page):
        audit_accessibility(page)
        screenshot(page, "scorecard-phone")

    # Switch the period: a step back, then a month typed, compared with the month before.
    help_text = page.locator("#period-help strong")
    shown = help_text.inner_text()
    page.get_by_role("link", name=re.compile("^Previous period")).click()
    expect(help_text).not_to_have_text(shown)
    page.locator("#period").fill(last_month())
    page.get_by_label("Compare with").select_option("previous")  # submits the form
    expect(page).to_have_url(re.compile(rf"period={last_month()}.*compare=previous"))
    expect(page.locator(".overall-change")).to_contain_text("since")
    expect(page.get_by_role("columnheader", name=re.compile("^Change")).first).to_be_visible()
    audit_accessibility(page)

    # Filter by status: htmx redraws the tree alone and the address follows.
    page.get_by_label("Status").select_option(label="Off target")
    expect(page).to_have_url(re.compile(r"status=off_target"))
    expect(page.locator("#tree-summary")).to_contain_text(re.compile(r"Showing \d+ of \d+ KPIs"))
    statuses = page.locator("#scorecard-tree .kpi-row .status")
    expect(statuses.first).to_be_visible()
    for status in statuses.all():
        expect(status).to_have_text("Off target")
    expect(page.locator("#period-previous")).to_have_attribute("href", re.compile("status=off_target"))
    audit_accessibility(page)
    screenshot(page, "scorecard-filtered")

    # Fold and unfold, with the buttons and with the keyboard.
    page.get_by_role("link", name="Clear filters").first.click()
    kpi_rows = page.locator("#scorecard-tree .kpi-row")
    expect(kpi_rows.first).to_be_visible()
    page.get_by_role("button", name="Collapse all").click()
    expect(kpi_rows.first).to_be_hidden()
    toggles = page.locator("#scorecard-tree .tree-toggle[aria-expanded='true']")
    expect(toggles).to_have_count(0)
    audit_accessibility(page)
    first_perspective = page.locator("#scorecard-tree .perspective .card-head .tree-toggle").first
    first_perspective.focus()
    page.keyboard.press("Enter")
    expect(first_perspective).to_have_attribute("aria-expanded", "true")
    objective = page.locator("#scorecard-tree .objective-row .tree-toggle").first
    objective.focus()
    page.keyboard.press("Space")
    expect(objective).to_have_attribute("aria-expanded", "true")
    expect(kpi_rows.first).to_be_visible()
    page.get_by_role("button", name="Expand all").click()
    expect(page.locator("#scorecard-tree .tree-toggle[aria-expanded='false']")).to_have_count(0)

    # Follow the scorecard, then stop again (other tests see the demo as it was).
    page.get_by_role("button", name="Follow", exact=True).click()
    expect(page.get_by_role("button", name="Unfollow", exact=True)).to_be_visible()
    expect(page.locator("#messages")).to_contain_text("You follow this scorecard now.")
    page.get_by_role("button", name="Unfollow", exact=True).click()
    expect(page.get_by_role("button", name="Follow", exact=True)).to_be_visible()

    # A cascaded scorecard's objective, aligned to one here, leads to that scorecard for the same view.
    cascade = page.locator("#scorecard-tree .aligned-row a").first
    child_name = cascade.inner_text()
    cascade.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(child_name)
    expect(page).to_have_url(re.compile(rf"period={last_month()}&span=period#objective-\d+$"))
    audit_accessibility(page)
