"""The shared front end every page builds on: lazy charts (charts.js) and the htmx conventions (app.js).

No page draws a chart or makes an htmx request yet, so these tests put the markup a page would have into
a real page of the server and answer its requests themselves (Playwright's routing), which tests exactly
the JavaScript that pages will get.
"""

from __future__ import annotations

import json
import re

from playwright.sync_api import Page, Route, expect

from .harness import BROWSER, DemoServer, audit_accessibility, sign_in

pytestmark = BROWSER

TREND = {
    "title": {"text": "Learner satisfaction"},
    "xAxis": {"type": "category", "data": ["2026-01", "2026-02", "2026-03"]},
    "yAxis": {"type": "value"},
    "series": [{"type": "line", "name": "Actual", "data": [4.2, 4.4, 4.5], "markLine": {"data": [{"yAxis": 4.4}]}}],
}


def add_chart(page: Page, attributes: str) -> None:
    """A chart element below a tall spacer (out of view), and charts.js, as a page with charts has them."""
    page.evaluate(
        """(attributes) => {
            document.querySelector("main").insertAdjacentHTML("beforeend",
                `<div style="height: 2400px"></div><div class="chart" ${attributes} role="img" aria-label="Trend"></div>`);
        }""",
        attributes,
    )
    page.add_script_tag(url="/static/fourfold/build/charts.js")


def test_a_chart_loads_its_option_only_when_scrolled_into_view(page: Page, demo_server: DemoServer) -> None:
    fetched: list[str] = []

    def answer(route: Route) -> None:
        fetched.append(route.request.url)
        route.fulfill(json=TREND)

    page.route("**/charts/trend.json", answer)
    page.goto("/accounts/login/")
    add_chart(page, 'data-chart-src="/charts/trend.json"')
    chart = page.locator(".chart")
    expect(chart).to_have_attribute("data-chart-state", "waiting")
    assert fetched == []
    chart.scroll_into_view_if_needed()
    expect(chart).to_have_attribute("data-chart-state", "ready")
    expect(chart.locator("svg")).to_be_visible()
    assert len(fetched) == 1
    expect(chart).to_have_attribute("aria-label", re.compile(r"chart about .Learner satisfaction. .* 2026-03"))
    wide = chart.locator("svg").bounding_box()["width"]
    page.set_viewport_size({"width": 800, "height": 900})
    page.wait_for_function(
        "(wide) => document.querySelector('.chart svg').getBoundingClientRect().width < wide - 100", arg=wide
    )
    audit_accessibility(page)


def test_a_chart_embedded_in_the_page_is_drawn_and_a_failing_one_says_so(
    page: Page, demo_server: DemoServer, script_errors: list[str]
) -> None:
    page.route("**/charts/broken.json", lambda route: route.fulfill(status=500, body="boom"))
    page.goto("/accounts/login/")
    page.evaluate(
        """(option) => {
            const data = document.createElement("script");
            data.type = "application/json";
            data.id = "trend-option";
            data.textContent = JSON.stringify(option);
            document.body.append(data);
        }""",
        TREND,
    )
    add_chart(page, 'data-chart-json="trend-option"')
    page.locator("[data-chart-json]").scroll_into_view_if_needed()
    expect(page.locator("[data-chart-json] svg")).to_be_visible()
    page.evaluate(
        """() => document.querySelector("main").insertAdjacentHTML("beforeend",
            '<div class="chart" id="broken" data-chart-src="/charts/broken.json" data-chart-error="No chart today."></div>')"""
    )
    page.evaluate("() => FourfoldCharts.scan(document.getElementById('broken'))")
    page.locator("#broken").scroll_into_view_if_needed()
    expect(page.locator("#broken")).to_have_text("No chart today.")
    assert any("Fourfold chart" in error for error in script_errors)
    script_errors.clear()


def test_htmx_requests_carry_the_csrf_token_and_show_the_servers_messages(
    page: Page, demo_server: DemoServer, script_errors: list[str]
) -> None:
    viewer = demo_server.login("viewer")
    sign_in(page, viewer.username, viewer.password)
    sent: list[dict[str, str]] = []

    def answer(route: Route) -> None:
        sent.append(route.request.headers)
        status = int(route.request.url.rsplit("/", 1)[-1])
        trigger = {"fourfold:message": {"text": "Value saved.", "level": "success"}}
        route.fulfill(
            status=status,
            body=f'<p id="answer-{status}">Answered {status}</p>',
            headers={"Content-Type": "text/html", "HX-Trigger": json.dumps(trigger)},
        )

    page.route("**/probe/*", answer)
    page.evaluate(
        """() => {
            document.querySelector("main").insertAdjacentHTML("afterbegin",
                ["200", "400", "500"].map((status) =>
                    `<button hx-post="/probe/${status}" hx-target="#target-${status}">Send ${status}</button>
                     <div id="target-${status}"></div>`).join(""));
            htmx.process(document.querySelector("main"));
        }"""
    )
    page.get_by_role("button", name="Send 200").click()
    expect(page.locator("#answer-200")).to_be_visible()
    cookie = next(item["value"] for item in page.context.cookies() if item["name"] == "csrftoken")
    assert sent[0]["x-csrftoken"] == cookie
    expect(page.locator("#messages .message.success")).to_have_text("Value saved.")

    page.get_by_role("button", name="Send 400").click()
    expect(page.locator("#answer-400")).to_be_visible()  # a form with its errors is swapped in

    page.get_by_role("button", name="Send 500").click()
    expect(page.locator("#messages .message.error")).to_contain_text("Something went wrong on the server")
    expect(page.locator("#answer-500")).to_have_count(0)
    script_errors.clear()  # the browser and htmx log the 400 and 500 answers
