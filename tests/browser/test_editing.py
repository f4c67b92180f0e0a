"""Editing in Chromium on the demo: an editor adds a KPI with thresholds and a cause-and-effect link and sees
it on the strategy map; a viewer trying to edit is refused.

The editor first sends the KPI with its red flag on the wrong side of the target, sees the message next to
that field with everything else still typed, and corrects it. What the test adds it removes at the end, so
the demo is left as the other browser tests expect it.
"""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from .harness import BROWSER, DemoServer, audit_accessibility, phone_size, screenshot, sign_in

pytestmark = BROWSER


def open_first_objective(page: Page, demo_server: DemoServer, role: str) -> int:
    """Sign in with ``role``, open the scorecard and the first objective of its tree; the objective's id."""
    login = demo_server.login(role)
    sign_in(page, login.username, login.password)
    page.get_by_role("link", name=login.scope, exact=True).click()
    page.locator("#scorecard-tree .objective-title a").first.click()
    expect(page).to_have_url(re.compile(r"/objectives/\d+/"))
    match = re.search(r"/objectives/(\d+)/", page.url)
    assert match is not None
    return int(match.group(1))


def test_an_editor_adds_a_kpi_and_a_link_and_sees_the_link_on_the_map(page: Page, demo_server: DemoServer) -> None:
    cause = open_first_objective(page, demo_server, "editor")
    objective_page = page.url

    # The objective's own form, looked at and left unchanged.
    page.get_by_role("link", name="Edit objective").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Edit objective")
    audit_accessibility(page)
    screenshot(page, "edit-objective")
    page.get_by_role("link", name="Cancel").click()

    # A KPI whose red flag sits above its goal: refused next to the red flag, nothing typed lost.
    page.get_by_role("link", name="Add KPI").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("New KPI")
    page.get_by_label("Key").fill("tutor_response_rate")
    page.locator("#id_name").fill("Tutor response rate")
    page.locator("#id_unit").select_option("percent")
    page.get_by_label("From period").fill("2026-01")
    page.locator("#id_target").fill("90")
    page.get_by_label("Red flag").fill("95")
    page.get_by_role("button", name="Add KPI").click()
    red_flag = page.get_by_label("Red flag")
    expect(red_flag).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#id_red_flag_error")).to_contain_text("must not be above the target")
    expect(page.get_by_label("Key")).to_have_value("tutor_response_rate")
    audit_accessibility(page)
    screenshot(page, "edit-kpi")
    with phone_size(page):
        audit_accessibility(page)
        screenshot(page, "edit-kpi-phone")
    red_flag.fill("75")
    page.get_by_role("button", name="Add KPI").click()
    expect(page.locator("#messages")).to_contain_text("KPI “Tutor response rate” added, with its first target.")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Tutor response rate")
    kpi_page = page.url

    # A cause-and-effect link from the objective to another one of the scorecard.
    page.goto(objective_page)
    page.get_by_role("link", name="Add link").click()
    expect(page.locator("#id_cause")).to_have_value(str(cause))
    effect = page.locator("#id_effect option").evaluate_all(
        f"options => options.map(option => option.value).find(value => value !== '{cause}')"
    )
    page.locator("#id_effect").select_option(effect)
    page.locator("#id_strength").select_option("strong")
    page.locator("#id_rationale").fill("Quick tutors keep learners going.")
    audit_accessibility(page)
    page.get_by_role("button", name="Add link").click()
    expect(page.locator("#messages")).to_contain_text("Cause-and-effect link added.")

    page.get_by_role("link", name="Strategy map").click()
    arrow = page.locator(f'.ff-map .map-link[data-cause="{cause}"][data-effect="{effect}"]')
    expect(arrow).to_have_count(1)

    # The scorecard's perspectives and a new initiative's form, looked at and left unchanged.
    page.get_by_role("link", name="Scorecard", exact=True).click()
    audit_accessibility(page)
    screenshot(page, "edit-scorecard-buttons")
    page.get_by_role("link", name="Perspectives").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Perspectives")
    audit_accessibility(page)
    screenshot(page, "edit-perspectives")
    page.get_by_role("link", name="Cancel").click()
    page.get_by_role("link", name="New initiative").click()
    audit_accessibility(page)
    screenshot(page, "edit-initiative")

    # Leave the demo as it was: remove the link, then the KPI.
    page.goto(objective_page)
    audit_accessibility(page)  # with the editing buttons and the new link's Remove
    page.locator(".objective-link .link-delete").filter(has_text="Remove").first.click()
    page.get_by_role("button", name="Delete").click()
    expect(page.locator("#messages")).to_contain_text("deleted")
    page.goto(kpi_page)
    page.get_by_role("link", name="Edit KPI").click()
    page.get_by_role("link", name="Delete KPI").click()
    page.get_by_role("button", name="Delete").click()
    expect(page.locator("#messages")).to_contain_text("“Tutor response rate” deleted.")


def test_a_viewer_sees_no_edit_buttons_and_is_refused_the_forms(page: Page, demo_server: DemoServer) -> None:
    objective = open_first_objective(page, demo_server, "viewer")
    expect(page.get_by_role("link", name="Edit objective")).to_have_count(0)
    expect(page.get_by_role("link", name="Add KPI")).to_have_count(0)
    expect(page.get_by_role("link", name="Add link")).to_have_count(0)
    response = page.goto(f"/objectives/{objective}/edit/")
    assert response is not None
    assert response.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text("Not allowed")
    expect(page.locator(".refusal")).to_contain_text("change this scorecard's structure")
    response = page.goto(f"/objectives/{objective}/kpis/new/")
    assert response is not None
    assert response.status == 403
