"""The front end is built, and each page's JavaScript and CSS stay within the budget (gzip-compressed).

The budget lives in package.json (config.budgetKB), where `npm run build` checks it too.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[1]
BUILD = REPOSITORY / "src/fourfold/static/fourfold/build"
BUDGET_BYTES = json.loads((REPOSITORY / "package.json").read_text())["config"]["budgetKB"] * 1000
PAGES = {
    "every page": ("app.js", "app.css"),
    "a page with charts": ("app.js", "app.css", "charts.js"),
}
HOW_TO_BUILD = "run `npm ci && npm run build` (./run does it)"


def gzip_size(name: str) -> int:
    return len(gzip.compress((BUILD / name).read_bytes(), compresslevel=9))


def test_the_front_end_is_built():
    missing = [name for name in ("app.js", "app.css", "charts.js") if not (BUILD / name).exists()]
    assert missing == [], f"{', '.join(missing)} missing from {BUILD.relative_to(REPOSITORY)}: {HOW_TO_BUILD}"


@pytest.mark.parametrize(("page", "files"), PAGES.items())
def test_a_pages_scripts_and_styles_stay_within_the_budget(page, files):
    if not all((BUILD / name).exists() for name in files):
        pytest.fail(f"the front end is not built: {HOW_TO_BUILD}")
    sizes = {name: gzip_size(name) for name in files}
    assert sum(sizes.values()) <= BUDGET_BYTES, f"{page}: {sizes} exceed {BUDGET_BYTES / 1000:.0f} kB gzip"


def test_the_stylesheet_is_split_into_partials_and_the_old_one_is_gone():
    """Engineers each add a page partial and one @import line; a second stylesheet would split the design."""
    entry = (REPOSITORY / "assets/css/app.css").read_text()
    imported = {line.split('"')[1] for line in entry.splitlines() if line.startswith("@import")}
    partials = {
        f"./{path.relative_to(REPOSITORY / 'assets/css')}" for path in (REPOSITORY / "assets/css").rglob("*.css")
    }
    assert partials - imported == {"./app.css"}, "every partial in assets/css/ is imported by app.css"
    assert not (REPOSITORY / "src/fourfold/static/fourfold/fourfold.css").exists()
