"""Helpers for browser tests: sign in, audit accessibility with axe-core, save screenshots.

A browser test module starts with ``pytestmark = BROWSER`` and takes the ``page`` fixture (conftest.py)::

    from .harness import BROWSER, audit_accessibility, phone_size, screenshot, sign_in

    pytestmark = BROWSER

    def test_a_viewer_reads_the_scorecard(page, demo_server):
        viewer = demo_server.login("viewer")
        sign_in(page, viewer.username, viewer.password)
        page.get_by_role("link", name=viewer.scope).click()
        audit_accessibility(page)
        screenshot(page, "scorecard")
        with phone_size(page):
            audit_accessibility(page)
            screenshot(page, "scorecard-phone")
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, ViewportSize, expect

REPOSITORY = Path(__file__).resolve().parents[2]
BUILD_DIR = REPOSITORY / "src/fourfold/static/fourfold/build"
AXE = REPOSITORY / "node_modules/axe-core/axe.min.js"
SCREENSHOTS = REPOSITORY / "docs/screenshots"

DESKTOP = ViewportSize(width=1440, height=900)
PHONE = ViewportSize(width=390, height=844)

BROWSER = [pytest.mark.browser, pytest.mark.xdist_group("browser")]
"""The marks of every browser test module: selectable with ``-m browser``, and all on one xdist worker."""

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@dataclass(frozen=True)
class Login:
    """One row of the login table ``fourfold demo`` prints."""

    username: str
    password: str
    role: str
    scope: str


@dataclass(frozen=True)
class DemoServer:
    """The running server: its address, the demo logins, and its log (for a failing test to look at)."""

    url: str
    logins: tuple[Login, ...]
    log: Path

    def login(self, role: str) -> Login:
        """A demo user who holds ``role`` ("viewer", "updater", "editor", "admin", "organisation admin",
        "superuser") and no other, given to them directly rather than through a group; its ``scope`` names
        where (for a scorecard role, the scorecard's name)."""
        for login in self.logins:
            rows = [row for row in self.logins if row.username == login.username]
            if all(row.role == role and "(via group" not in row.scope for row in rows):
                return login
        raise LookupError(f"fourfold demo printed no user who is only a {role}; it printed {self.logins}")


def parse_logins(demo_output: str) -> tuple[Login, ...]:
    """The login table of ``fourfold demo``'s output: the rows under the dashed line, columns two spaces apart."""
    lines = demo_output.splitlines()
    start = next(index for index, line in enumerate(lines) if re.fullmatch(r"\s*-+(\s+-+){3}\s*", line))
    rows = []
    for line in lines[start + 1 :]:
        cells = re.split(r"\s{2,}", line.strip(), maxsplit=3)
        if len(cells) != 4:
            break
        rows.append(Login(*cells))
    return tuple(rows)


def sign_in(page: Page, username: str, password: str) -> None:
    """Sign in through the login form, as a person would, and wait for the home page."""
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1, name="Your scorecards")).to_be_visible()


def _describe(violation: dict[str, Any]) -> str:
    nodes = violation["nodes"]
    targets = "; ".join(" ".join(node["target"]) for node in nodes[:3])
    more = f" (+{len(nodes) - 3} more)" if len(nodes) > 3 else ""
    first = nodes[0].get("failureSummary", "").replace("\n", " ") if nodes else ""
    return f"- {violation['id']} [{violation['impact']}]: {violation['help']}\n    at {targets}{more}\n    {first}"


def audit_accessibility(page: Page, *, exclude: tuple[str, ...] = ()) -> None:
    """Run axe-core's WCAG 2.1 A and AA rules on the page as it is now; fail listing every violation.

    ``exclude`` takes CSS selectors of parts not to audit (for example markup a third party renders).
    """
    if not AXE.exists():
        pytest.fail("axe-core is missing: run `npm ci` (./run does it).")
    if not page.evaluate("() => 'axe' in window"):
        page.add_script_tag(path=str(AXE))
    results = page.evaluate(
        """async ([tags, exclude]) => {
            const context = exclude.length ? { exclude: exclude.map((selector) => [selector]) } : document;
            return await axe.run(context, { runOnly: { type: "tag", values: tags }, resultTypes: ["violations"] });
        }""",
        [WCAG_TAGS, list(exclude)],
    )
    violations = results["violations"]
    if violations:
        listing = "\n".join(_describe(violation) for violation in violations)
        pytest.fail(f"Accessibility violations on {page.url}:\n{listing}", pytrace=False)


def screenshot(page: Page, name: str) -> Path:
    """Save a full-page PNG of the page as it is now as docs/screenshots/<name>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True, animations="disabled")
    return path


@contextmanager
def phone_size(page: Page) -> Iterator[Page]:
    """Show the page at a phone's size (390 × 844) inside the ``with`` block, then at its size before."""
    before = page.viewport_size or DESKTOP
    page.set_viewport_size(PHONE)
    try:
        yield page
    finally:
        page.set_viewport_size(before)
