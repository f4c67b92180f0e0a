"""An updater's round of numbers in the data-entry grid: values typed and pasted, one off target and asked for a
note, saved at once, and the new scores shown; accessible at desktop and phone size.

The updater is Alderbrook Academy's welding trainer, whose four team KPIs are all typed in: a within-a-range
class size, a yes/no safety check and two ratios. Alderbrook is made to ask for a note with every off-target
value through the service, in the test server's own data folder (the demo leaves the rule off, and nothing
else reads it). The values go into the last two months of the welding team's scorecard, which no other
browser test reads.
"""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import date

import pytest
from playwright.sync_api import Locator, Page, expect

from fourfold.engine.periods import FiscalCalendar, Frequency

from .conftest import server_environment
from .harness import BROWSER, DemoServer, Login, audit_accessibility, phone_size, screenshot, sign_in

pytestmark = BROWSER

TRAINER = "academy.trainer"
REQUIRE_NOTES = """
from fourfold.accounts.models import User
from fourfold.strategy.models import Organisation
from fourfold.strategy.services import organisation_update
organisation_update(
    by=User.objects.get(username="demo.admin"),
    organisation=Organisation.objects.get(slug="alderbrook-academy"),
    changes={"note_required_off_target": True},
)
"""


@pytest.fixture
def trainer(demo_server: DemoServer) -> Login:
    """The welding trainer, with Alderbrook asking for notes on off-target values."""
    environment = server_environment(demo_server.log.parent)
    command = [sys.executable, "-m", "fourfold.cli", "manage", "shell", "-c", REQUIRE_NOTES]
    subprocess.run(command, env=environment, check=True, capture_output=True, timeout=120)
    return next(login for login in demo_server.logins if login.username == TRAINER)


def last_months() -> tuple[str, str]:
    """The labels of the two latest months that have ended, as the grid's columns name them."""
    calendar = FiscalCalendar()
    latest = calendar.previous(calendar.period_containing(date.today(), Frequency.MONTHLY))
    return calendar.previous(latest).label, latest.label


def cell(page: Page, month: str, kpi: str) -> Locator:
    return page.get_by_role("textbox", name=f"{month}, {kpi}", exact=True)


def feedback(page: Page, month: str, kpi: str) -> Locator:
    return page.locator(f"#fb-{cell(page, month, kpi).get_attribute('id', timeout=5000)[2:]}")


def screenshot_whole(page: Page, name: str) -> None:
    """The harness's screenshot in a window as tall as the page, so that the sticky top bar and save bar sit
    where they belong instead of where the window's edges happen to be."""
    size = page.viewport_size
    assert size is not None
    height = page.evaluate("document.documentElement.scrollHeight")
    page.set_viewport_size({"width": size["width"], "height": height})
    screenshot(page, name)
    page.set_viewport_size(size)


def test_an_updater_enters_values_one_off_target_with_a_note_and_sees_the_scores_change(
    page: Page, trainer: Login, script_errors: list[str]
) -> None:
    previous, latest = last_months()
    sign_in(page, trainer.username, trainer.password)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Enter values").click()
    expect(page.get_by_role("heading", level=1, name="Enter values")).to_be_visible()
    expect(page.get_by_role("heading", name="Welding & Fabrication training team scorecard")).to_be_visible()
    qualified = "Welders holding a current ISO 9606 qualification"
    before = feedback(page, latest, qualified).inner_text()
    audit_accessibility(page)

    # Three values by keyboard, down the latest month: Enter moves to the cell below.
    cell(page, latest, "Average class size").click()
    page.keyboard.type("30")  # far above the good range of 6 to 10: off target
    page.keyboard.press("Enter")
    expect(cell(page, latest, "Safety refresher completed by all welders")).to_be_focused()
    page.keyboard.press("Enter")
    page.keyboard.type("120/6000")  # repairs per weld: 2 %, under the 2.5 % target
    page.keyboard.press("Enter")
    page.keyboard.type("69/69")
    page.keyboard.press("Escape")  # Esc puts the cell back as it was...
    expect(cell(page, latest, qualified)).not_to_have_value("69/69")
    page.keyboard.type("68/69")  # ...and it is typed again
    expect(feedback(page, latest, "Average class size")).to_contain_text("Off target — a note is required")
    expect(feedback(page, latest, "Weld repair rate")).to_contain_text("= 2.00 %")
    expect(feedback(page, latest, qualified)).to_contain_text("On target")

    # One by pasting a block from a spreadsheet: two rows of one column, the second unchanged.
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.evaluate("text => navigator.clipboard.writeText(text)", "8.2\r\nYes\r\n")
    cell(page, previous, "Average class size").click()
    page.keyboard.press("Control+V")
    expect(cell(page, previous, "Average class size")).to_have_value("8.2")
    expect(page.locator("#messages")).to_contain_text("Pasted 2 values")
    expect(page.locator("[data-pending]")).to_have_text("Cells changed, not saved yet: 4")
    expect(feedback(page, previous, "Average class size")).to_contain_text("not saved")
    audit_accessibility(page)
    screenshot_whole(page, "entry-grid")

    # Saving without the note is refused next to the cell, and nothing is saved.
    page.keyboard.press("Control+Enter")
    expect(feedback(page, latest, "Average class size")).to_contain_text("Off target: a note is required.")
    expect(cell(page, latest, "Average class size")).to_be_focused()
    expect(page.locator("#messages")).to_contain_text("Nothing was saved: 1 value needs attention.")
    script_errors.clear()  # the refusal is a 400 answer, on purpose
    audit_accessibility(page)

    # Shift+F2 opens the cell's note; Esc goes back to the cell; Ctrl+Enter saves every change at once.
    page.keyboard.press("Shift+F2")
    note = page.get_by_role("textbox", name=f"Note for {latest}")
    expect(note).to_be_focused()
    note.type("Two groups merged for the new welding booth; split again next month.")
    page.keyboard.press("Escape")
    expect(cell(page, latest, "Average class size")).to_be_focused()
    page.keyboard.press("Control+Enter")
    expect(page.locator("#messages")).to_contain_text("Saved 4 values.")
    expect(page.locator("[data-pending]")).to_have_text("No unsaved changes.")
    expect(feedback(page, latest, "Average class size")).to_contain_text("Off target")
    expect(feedback(page, latest, "Average class size")).not_to_contain_text("not saved")
    expect(feedback(page, latest, "Weld repair rate")).to_contain_text("On target")
    after = feedback(page, latest, qualified).inner_text()
    assert "On target" in after
    assert after != before, f"the score of {qualified} did not change: {before!r}"
    expect(cell(page, latest, "Weld repair rate")).to_have_value("120/6000")
    audit_accessibility(page)

    with phone_size(page):
        expect(page.locator(".entry-cell .cell-label").first).to_be_visible()  # each period named in its card
        audit_accessibility(page)
        screenshot_whole(page, "entry-grid-phone")

    page.get_by_role("link", name="Average class size").click()
    expect(page.get_by_text("Two groups merged for the new welding booth")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/kpis/\d+/"))
