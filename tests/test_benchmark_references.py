"""The benchmark's hand-written SQL gives the library's numbers, row for row, on generated data and on odd data.

``benchmarks/metrics_sql.py`` is written from the documented definitions, independently of the compiler, and
the metrics benchmark measures the compiled KPIs against it; both only mean something if the two agree. They
are compared unsplit and by segment, for all months and for the latest month alone, on a generated data set
and on a copy of it changed in ways the generator never writes.
"""

from __future__ import annotations

import importlib.util
import math
import sys
from datetime import date
from pathlib import Path
from types import ModuleType

import duckdb
import pyarrow as pa
import pytest

from fourfold.metrics.compile import RESULT_SCHEMA, compute, kpis_splittable_by
from fourfold.metrics.generate import generate_dataset
from fourfold.metrics.library import load_library
from fourfold.metrics.sources import LoadedTables, load_directory

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
END = date(2026, 6, 30)
LAST_MONTH = date(2026, 6, 1)
MEASURED = ("value", "numerator", "denominator", "n", "margin_of_error", "too_few_responses")

ODDITIES = (
    "UPDATE customers SET segment = NULL WHERE id LIKE '%7'",
    "UPDATE customers SET channel = NULL WHERE id LIKE '%3'",
    "DELETE FROM customers WHERE id LIKE '%11'",  # their orders, tickets and subscriptions have no customer
    "UPDATE orders SET gross_margin = NULL WHERE id LIKE '%2'",
    "DELETE FROM orders WHERE order_date BETWEEN DATE '2025-03-01' AND DATE '2025-03-31'",  # a month without
    "UPDATE orders SET order_date = order_date - 400 WHERE id LIKE '%5'",  # some long before their customer signed up
    "INSERT INTO market_totals SELECT period_start, NULL, 3 * sum(market_revenue) FROM market_totals"
    " WHERE period_start < DATE '2026-01-01' GROUP BY period_start",  # the whole market, for some months
    # A second subscription beside the first, and a comeback after a cancellation.
    "INSERT INTO subscriptions SELECT customer_id, start_date + 40, end_date - 3, recurring_amount / 2"
    " FROM subscriptions WHERE customer_id LIKE '%5' AND (end_date IS NULL OR end_date > start_date + 45)",
    "INSERT INTO subscriptions SELECT customer_id, end_date + 5, NULL, 1.5 * recurring_amount"
    " FROM subscriptions WHERE customer_id LIKE '%9' AND end_date IS NOT NULL",
    "UPDATE support_tickets SET kind = NULL WHERE id LIKE '%8'",
    "UPDATE support_tickets SET customer_id = NULL WHERE id LIKE '%4'",
    "UPDATE survey_responses SET segment = NULL WHERE id LIKE '%6'",
    "UPDATE employees SET fte = NULL WHERE id LIKE '%3'",
    "UPDATE training_enrollments SET cost = NULL WHERE course_id LIKE '%7'",
)
"""Changes the generator never makes, each one a choice point: missing segments and margins, orders of unknown
customers or from before the signup, a month without orders, whole-market totals, overlapping subscriptions,
tickets of no kind."""


def load_benchmark_module(name: str) -> ModuleType:
    """A module of ``benchmarks/``, which is a folder of scripts rather than a package."""
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


metrics_sql = load_benchmark_module("metrics_sql")
LIBRARY = load_library()
BY_SEGMENT = kpis_splittable_by(LIBRARY, "segment")


def keyed(table: pa.Table) -> dict[tuple[object, ...], dict[str, object]]:
    return {(row["kpi"], row["period_start"], row["segment"]): row for row in table.to_pylist()}


def equal(found: object, expected: object) -> bool:
    if isinstance(found, float) and isinstance(expected, float):
        return math.isclose(found, expected, rel_tol=1e-9, abs_tol=1e-12)
    return found == expected


def both(tables: LoadedTables) -> dict[tuple[str | None, date | None], tuple[dict, dict]]:
    """The library's and the SQL's rows, keyed, unsplit and by segment, for every month and from the last one.

    The library's rows from the last month are its rows of every month, filtered: ``start`` only chooses the
    months returned, so one computation serves both, and the test stays quick.
    """
    results = {}
    for by in (None, "segment"):
        library = keyed(compute(LIBRARY, tables, by=by, keys=None if by is None else BY_SEGMENT))
        for start in (None, LAST_MONTH):
            handwritten = metrics_sql.handwritten_kpis(tables.backend.con, by=by, start=start)
            assert handwritten.schema == RESULT_SCHEMA.to_pyarrow()
            since = {row: values for row, values in library.items() if start is None or row[1] >= start}
            results[by, start] = since, keyed(handwritten)
    return results


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    folder = tmp_path_factory.mktemp("generated")
    generate_dataset(folder, end=END, customers=3000, orders=20000, months=24, seed=7)
    return folder


@pytest.fixture(scope="module")
def results(generated):
    return both(load_directory(generated))


@pytest.fixture(scope="module")
def odd_results(generated, tmp_path_factory):
    """The generated files changed by :data:`ODDITIES`, written as files again and loaded as any data is."""
    folder = tmp_path_factory.mktemp("odd")
    connection = duckdb.connect()
    names = sorted(path.stem for path in generated.glob("*.parquet"))
    for name in names:
        connection.execute(f"CREATE TABLE {name} AS FROM read_parquet('{generated / name}.parquet')")
    for statement in ODDITIES:
        connection.execute(statement)
    for name in names:
        connection.execute(f"COPY {name} TO '{folder / name}.parquet' (FORMAT parquet)")
    connection.close()
    return both(load_directory(folder))


def cases() -> list[object]:
    """Every KPI unsplit, and every one that can be split by segment by segment."""
    chosen = [(key, None) for key in LIBRARY] + [(key, "segment") for key in BY_SEGMENT]
    return [pytest.param(key, by, id=f"{key}-{by or 'unsplit'}") for key, by in chosen]


def assert_agree(results, key: str, by: str | None) -> None:
    for start in (None, LAST_MONTH):
        library, handwritten = results[by, start]
        expected = {row: values for row, values in library.items() if row[0] == key}
        found = {row: values for row, values in handwritten.items() if row[0] == key}
        assert expected or start is not None, f"the library gives no rows for {key}"
        assert sorted(found, key=str) == sorted(expected, key=str), f"{key} from {start}: other months or segments"
        wrong = [
            (row[1], row[2], column, found[row][column], expected[row][column])
            for row in expected
            for column in MEASURED
            if not equal(found[row][column], expected[row][column])
        ]
        assert wrong == [], f"{key} from {start}: (month, segment, column, SQL, library) {wrong[:5]}"


def test_the_handwritten_sql_has_every_kpi_of_the_library_and_splits_the_same_by_segment():
    assert sorted(metrics_sql.KPI_KEYS) == sorted(LIBRARY)
    assert set(BY_SEGMENT) == metrics_sql.SPLITTABLE_BY_SEGMENT


@pytest.mark.parametrize(("key", "by"), cases())
def test_the_handwritten_sql_gives_the_numbers_of_the_library(results, key, by):
    assert_agree(results, key, by)


@pytest.mark.parametrize(("key", "by"), cases())
def test_they_agree_on_data_the_generator_never_writes(odd_results, key, by):
    assert_agree(odd_results, key, by)


def test_the_handwritten_sql_refuses_what_it_cannot_compute():
    with pytest.raises(ValueError, match="cac cannot be split by segment"):
        metrics_sql.handwritten_query(by="segment", keys=["cac", "nps"])
    with pytest.raises(ValueError, match="not by region"):
        metrics_sql.handwritten_query(by="region")
    with pytest.raises(ValueError, match="revenu are not KPIs of the library"):
        metrics_sql.handwritten_query(keys=["revenu"])
