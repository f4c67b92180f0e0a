"""Architecture rules that matter, checked by tests rather than by memory."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import fourfold

PACKAGE = Path(fourfold.__file__).parent
APPS = ["accounts", "audit", "strategy", "measures", "initiatives"]


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("package", ["engine", "metrics", "scorefile"])
def test_the_pure_packages_import_no_django(package):
    """The engine, the raw-data metrics and the scorecard files run without a database or Django."""
    offenders = {
        str(path.relative_to(PACKAGE)): sorted(
            name for name in imported_modules(path) if name.split(".")[0] == "django"
        )
        for path in (PACKAGE / package).rglob("*.py")
    }
    assert {path: names for path, names in offenders.items() if names} == {}


def test_the_engine_imports_no_other_fourfold_package():
    offenders = {
        str(path.relative_to(PACKAGE)): sorted(
            name
            for name in imported_modules(path)
            if name.startswith("fourfold.") and not name.startswith("fourfold.engine")
        )
        for path in (PACKAGE / "engine").rglob("*.py")
    }
    assert {path: names for path, names in offenders.items() if names} == {}


def test_every_domain_app_has_the_same_file_set():
    expected = {"models.py", "services.py", "selectors.py", "admin.py", "apps.py", "tests"}
    missing = {app: sorted(expected - {child.name for child in (PACKAGE / app).iterdir()}) for app in APPS}
    assert {app: names for app, names in missing.items() if names} == {}


def test_views_do_not_write_to_models_directly():
    """Writes go through services: a view that calls .save(), .delete() or .objects.create() bypasses them."""
    offenders = []
    for app in APPS:
        views = PACKAGE / app / "views.py"
        if not views.exists():
            continue
        source = views.read_text()
        offenders += [
            f"{app}/views.py: {call}" for call in (".save(", ".delete(", ".objects.create(") if call in source
        ]
    assert offenders == []
