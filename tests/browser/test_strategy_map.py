"""The strategy map, the objective page and the initiative page, in Chromium on the demo.

A viewer reads the map and opens an objective and an initiative from it; an editor drags an objective, finds
it there after a reload, and resets the layout (which leaves the demo as it was); both downloads work; an
updater who owns an initiative marks a milestone done on its page and reopens it (as the demo had it).
"""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Locator, Page, expect

from .harness import BROWSER, DemoServer, audit_accessibility, phone_size, screenshot, sign_in

pytestmark = BROWSER

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def open_map(page: Page, demo_server: DemoServer, role: str) -> str:
    """Sign in as a demo user with ``role``, open their scorecard and its strategy map; the scorecard's name."""
    login = demo_server.login(role)
    sign_in(page, login.username, login.password)
    page.get_by_role("link", name=login.scope, exact=True).click()
    page.get_by_role("link", name="Strategy map").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Strategy map")
    return login.scope


def place(node: Locator) -> tuple[str | None, str | None]:
    """Where an objective is, as the fractions the page stores."""
    return node.get_attribute("data-x"), node.get_attribute("data-y")


def expect_place(node: Locator, where: tuple[str | None, str | None]) -> None:
    expect(node).to_have_attribute("data-x", where[0] or "")
    expect(node).to_have_attribute("data-y", where[1] or "")


def test_a_viewer_reads_the_map_and_opens_an_objective_and_an_initiative(page: Page, demo_server: DemoServer) -> None:
    open_map(page, demo_server, "viewer")
    nodes = page.locator(".ff-map .map-node")
    expect(nodes.first).to_be_visible()
    assert nodes.count() >= 4
    assert page.locator(".ff-map .map-link").count() >= 1
    expect(page.get_by_role("button", name="Save layout")).to_have_count(0)  # viewers do not move objectives
    audit_accessibility(page)
    screenshot(page, "strategy-map")
    with phone_size(page):
        audit_accessibility(page)
        screenshot(page, "strategy-map-phone")

    # The objective with the most links in and out shows the most of its page.
    busiest = page.evaluate(
        """() => {
            const count = (id) => document.querySelectorAll(`[data-cause="${id}"], [data-effect="${id}"]`).length;
            const ids = [...document.querySelectorAll(".map-node")].map((node) => node.dataset.objective);
            return ids.reduce((best, id) => (count(id) > count(best) ? id : best));
        }"""
    )
    chosen = page.locator(f'.ff-map .map-node[data-objective="{busiest}"]')
    objective = (chosen.get_attribute("aria-label") or "").split(",")[0]
    chosen.click()
    expect(page).to_have_url(re.compile(r"/objectives/\d+/"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(objective.split(" ", 1)[1])
    expect(page.locator(".view-bar .status")).to_be_visible()
    audit_accessibility(page)
    screenshot(page, "objective")

    page.get_by_role("link", name="Scorecard", exact=True).click()
    in_progress = page.locator("#initiatives-title").locator("xpath=../..").locator("tr", has_text="In progress")
    initiative = in_progress.first.get_by_role("link")
    initiative_name = initiative.inner_text()
    initiative.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(initiative_name)
    expect(page.get_by_role("heading", name="Budget")).to_be_visible()
    expect(page.locator(".milestone").first).to_be_visible()
    audit_accessibility(page)
    screenshot(page, "initiative")
    with phone_size(page):
        audit_accessibility(page)
        screenshot(page, "initiative-phone")


def test_an_editor_drags_an_objective_keeps_it_there_and_resets_the_layout(page: Page, demo_server: DemoServer) -> None:
    open_map(page, demo_server, "editor")
    node = page.locator(".ff-map .map-node").first
    objective = node.get_attribute("data-objective")
    same = page.locator(f'.ff-map .map-node[data-objective="{objective}"]')
    automatic = place(same)
    save = page.get_by_role("button", name="Save layout")
    expect(save).to_be_disabled()

    box = node.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2 + 120, box["y"] + box["height"] / 2 + 10, steps=8)
    page.mouse.up()
    expect(page).not_to_have_url(re.compile(r"/objectives/"))  # the drop did not open the objective
    dropped = place(same)
    assert dropped != automatic
    expect(page.locator("[data-map-moved]")).to_have_text("1 objective moved; save the layout to keep it.")
    audit_accessibility(page)
    screenshot(page, "strategy-map-editing")
    save.click()
    expect(page.locator("#messages")).to_contain_text("Layout saved: 1 objective placed.")
    expect(save).to_be_disabled()

    page.reload()
    expect_place(same, dropped)

    same.focus()
    for _ in range(3):
        page.keyboard.press("ArrowLeft")
    keyed = place(same)
    assert keyed != dropped
    page.get_by_role("button", name="Save layout").click()
    expect(page.locator("#messages")).to_contain_text("Layout saved")
    page.reload()
    expect_place(same, keyed)

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Reset layout").click()
    expect(page.locator("#messages")).to_contain_text("Layout reset")
    expect_place(same, automatic)


def test_the_map_downloads_as_svg_and_png(page: Page, demo_server: DemoServer) -> None:
    scorecard = open_map(page, demo_server, "viewer")
    with page.expect_download() as svg_download:
        page.get_by_role("link", name="Download SVG").click()
    svg = svg_download.value
    assert svg.suggested_filename.endswith(".svg")
    content = Path(svg.path()).read_text(encoding="utf-8")
    assert content.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    assert f"{scorecard}: strategy map" in content

    with page.expect_download() as png_download:
        page.get_by_role("button", name="Download PNG").click()
    png = png_download.value
    assert png.suggested_filename == svg.suggested_filename.replace(".svg", ".png")
    assert Path(png.path()).read_bytes()[:8] == PNG_SIGNATURE


MENTORING_OWNER = "learning.people.lead"
"""An updater on Brightpath's company scorecard who owns its mentoring initiative, and may edit nothing."""
MENTORING = "Mentoring programme for senior designers"


def test_the_owner_of_an_initiative_marks_a_milestone_done_and_reopens_it(page: Page, demo_server: DemoServer) -> None:
    owner = next(login for login in demo_server.logins if login.username == MENTORING_OWNER)
    assert owner.role == "updater"
    sign_in(page, owner.username, owner.password)
    page.get_by_role("link", name=owner.scope, exact=True).click()
    page.get_by_role("link", name=MENTORING, exact=True).click()
    expect(page.get_by_role("link", name="Edit initiative")).to_have_count(0)  # an owner, not an editor
    milestone = page.locator(".milestone").filter(has_text="Mentors matched")
    done = milestone.get_by_role("button", name="Mark done Mentors matched")
    expect(done).to_be_visible()
    audit_accessibility(page)
    screenshot(page, "initiative-owner")

    done.click()
    expect(page.locator("#messages")).to_contain_text("Milestone “Mentors matched” done.")
    expect(page).to_have_url(re.compile(r"/initiatives/\d+/#milestones$"))
    expect(milestone.locator(".milestone-state")).to_contain_text("Done on")
    with phone_size(page):
        audit_accessibility(page)
        page.evaluate("() => window.scrollTo(0, 0)")  # the sticky top bar belongs at the top of a full-page picture
        screenshot(page, "initiative-owner-phone")
    milestone.get_by_role("button", name="Reopen Mentors matched").click()
    expect(page.locator("#messages")).to_contain_text("Milestone “Mentors matched” reopened.")
    expect(milestone.get_by_role("button", name="Mark done Mentors matched")).to_be_visible()
