"""Test settings of the metrics package: the marker that selects the slow test run on every backend."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "backends: computes on DuckDB, PostgreSQL and Spark and compares (select with -m backends)"
    )
