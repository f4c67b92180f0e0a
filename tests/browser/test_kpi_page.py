"""The KPI page in a browser: a viewer drills from the company scorecard into a red KPI and reads why it is red
(the chart of actuals against targets on its status bands, the explanation), and joins its commentary; an
editor previews how a threshold change would rescore history before saving it; a German reader reads the
chart's value axis in German numbers. Accessible, desktop and phone."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from .harness import BROWSER, DemoServer, audit_accessibility, phone_size, screenshot, sign_in

pytestmark = BROWSER


def wait_for_chart(page: Page) -> None:
    """Scroll the chart into view (it loads lazily) and wait until it is drawn."""
    chart = page.locator(".chart-card .chart")
    chart.scroll_into_view_if_needed()
    expect(chart).to_have_attribute("data-chart-state", "ready")
    expect(chart.locator("svg")).to_be_visible()
    page.evaluate("() => window.scrollTo(0, 0)")


def test_a_viewer_drills_into_a_red_kpi_and_reads_why_it_is_red(page: Page, demo_server: DemoServer) -> None:
    viewer = demo_server.login("viewer")
    sign_in(page, viewer.username, viewer.password)
    page.get_by_role("link", name=viewer.scope, exact=True).click()
    page.get_by_label("Status").select_option(label="Off target")
    expect(page).to_have_url(re.compile(r"status=off_target"))
    red = page.locator(".kpi-row:has(.status-off_target) .kpi-name a").first
    name = red.inner_text()
    red.click()

    expect(page.get_by_role("heading", level=1)).to_contain_text(name)
    expect(page.locator(".verdict .status")).to_have_text("Off target")
    explanation = page.locator(".explanation")
    expect(explanation).to_contain_text("Status: Off target.")
    expect(explanation).to_contain_text(re.compile(r"Scored \d"))
    wait_for_chart(page)
    bands = page.evaluate(
        """() => {
            const option = FourfoldCharts.instance(document.querySelector(".chart-card .chart")).getOption();
            return option.series.find((series) => series.name === "Status bands").markArea.data.length;
        }"""
    )
    assert bands > 0
    expect(page.locator(".chart-legend .status")).to_have_count(3)
    expect(page.get_by_text("Preview rescoring")).to_have_count(0)
    audit_accessibility(page)
    screenshot(page, "kpi")
    with phone_size(page):
        wait_for_chart(page)
        audit_accessibility(page)
        screenshot(page, "kpi-phone")

    # The viewer adds to the commentary about the period, then takes the comment back.
    thread = page.locator("#comments")
    page.get_by_role("textbox", name="Comment").fill("Off target since the survey moved to the new tool.")
    page.get_by_label("About").select_option(index=1)
    page.get_by_role("button", name="Add comment").click()
    comment = thread.locator(".comment").filter(has_text="since the survey moved")
    expect(comment).to_be_visible()
    expect(comment.locator(".pill")).to_contain_text("about ")
    expect(page.locator("#messages .message.success")).to_have_text("Comment added.")
    audit_accessibility(page)

    page.once("dialog", lambda dialog: dialog.accept())
    comment.get_by_role("button", name=re.compile("^Remove")).click()
    expect(comment).to_have_count(0)
    expect(thread.locator(".empty-note")).to_be_visible()


def test_an_editor_previews_how_a_threshold_change_rescores_history(page: Page, demo_server: DemoServer) -> None:
    editor = demo_server.login("editor")
    sign_in(page, editor.username, editor.password)
    page.get_by_role("link", name=editor.scope, exact=True).click()
    page.locator(".kpi-table .kpi-name a").first.click()
    oldest = page.locator(".values-table tbody tr").last.locator("td").first.inner_text()
    # A stricter target: the latest value becomes the goal, with the red flag 5 % on the bad side of it.
    latest = float(
        re.sub(r"[^\d.]", "", page.locator(".verdict .stat").nth(1).locator("dd").inner_text().split("±")[0])
    )
    higher = page.locator(".facts").get_by_text("Higher is better").count() > 0
    targets = page.locator(".target-form")
    page.get_by_text("Set a target").click()
    targets.get_by_label("From period").fill(oldest)
    targets.get_by_label("Target").fill(f"{latest:.1f}")
    targets.get_by_label("Red flag").fill(f"{latest * (0.95 if higher else 1.05):.1f}")
    page.get_by_role("button", name="Preview rescoring").click()

    summary = page.locator(".rescoring-summary")
    expect(summary).to_contain_text(re.compile(rf"\d+ of the \d+ periods from {oldest} on would change status\."))
    expect(page.locator(".rescoring-table tbody tr").first).to_be_visible()
    expect(targets.get_by_label("Target", exact=True)).to_have_value(f"{latest:.1f}")  # the form keeps what was typed
    audit_accessibility(page)
    page.evaluate("() => window.scrollTo(0, 0)")  # the sticky top bar belongs at the top of a full-page picture
    screenshot(page, "kpi-preview")


def test_a_german_reader_reads_the_value_axis_in_german_numbers(page: Page, demo_server: DemoServer) -> None:
    viewer = demo_server.login("viewer")
    sign_in(page, viewer.username, viewer.password)
    page.locator(".user-menu > summary").click()
    page.get_by_role("group", name="Language, numbers and dates").get_by_role("button", name="Deutsch").click()
    expect(page.locator("html")).to_have_attribute("lang", "de")
    page.get_by_role("link", name=viewer.scope, exact=True).click()
    page.locator(".kpi-table .kpi-name a").first.click()
    wait_for_chart(page)
    axis = page.evaluate(
        """() => {
            const chart = FourfoldCharts.instance(document.querySelector(".chart-card .chart"));
            const yAxis = chart.getOption().yAxis[0];
            const ticks = chart.getModel().getComponent("yAxis", 0).axis.scale.getTicks();
            const drawn = [...chart.getDom().querySelectorAll("svg text")].map((text) => text.textContent);
            return {
                sample: yAxis.axisLabel.formatter(1234.5),
                labels: ticks.map((tick) => yAxis.axisLabel.formatter(tick.value)),
                drawn,
            };
        }"""
    )
    # The unit stays where the template puts it ("1.234,5 %", "USD 1.234,5", "1.234,5"), the number is German.
    assert re.fullmatch(r"(\D* )?1\.234,5( \D*)?", axis["sample"]), axis["sample"]
    assert axis["labels"], "the value axis has ticks"
    assert set(axis["labels"]) <= set(axis["drawn"]), (axis["labels"], axis["drawn"])
    assert not any(re.search(r"\d\.\d(?!\d\d)", label) for label in axis["labels"]), axis["labels"]
    screenshot(page, "kpi-german")
