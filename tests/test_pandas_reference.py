"""The pandas implementation of the KPI library (benchmarks/metrics_pandas.py) gives the library's numbers.

The performance benchmark times the compiled engine against that pandas code, which only means something if
both compute the same KPIs: every row, with the same months, segments, values, parts, ``n`` and survey flags.
The pandas code is written from the documented definitions rather than from the compiler, so where the two
disagree one of them misreads a definition; a KPI whose library number is believed wrong is marked here.
"""

from __future__ import annotations

import datetime
import importlib.util
import math
from pathlib import Path
from types import ModuleType

import pandas as pd
import pyarrow as pa
import pytest

from fourfold.metrics.compile import RESULT_SCHEMA, compute, kpis_splittable_by
from fourfold.metrics.generate import generate_dataset
from fourfold.metrics.library import load_library
from fourfold.metrics.sources import load_directory

SPLITS = [None, "segment"]
RELATIVE_TOLERANCE = 1e-9


def _benchmark_module(name: str) -> ModuleType:
    """A module of benchmarks/, which is a folder of scripts rather than a package on the import path."""
    path = Path(__file__).parents[1] / "benchmarks" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


pandas_kpis = _benchmark_module("metrics_pandas").pandas_kpis


def _cases() -> list[object]:
    definitions = load_library()
    cases = []
    for by in SPLITS:
        keys = list(definitions) if by is None else kpis_splittable_by(definitions, by)
        cases += [pytest.param(by, key, id=f"{key}-{by or 'unsplit'}") for key in keys]
    return cases


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("metrics-data")
    generate_dataset(folder, end=datetime.date(2026, 6, 30), customers=3000, orders=20000, months=24, seed=7)
    return folder


@pytest.fixture(scope="module")
def results(data) -> dict[str | None, tuple[pa.Table, pa.Table]]:
    """The library's and the pandas code's results, unsplit and by segment, each computed once."""
    definitions = load_library()
    tables = load_directory(data)
    frames = {path.stem: pd.read_parquet(path) for path in sorted(data.glob("*.parquet"))}
    computed = {}
    for by in SPLITS:
        keys = list(definitions) if by is None else kpis_splittable_by(definitions, by)
        frame = pandas_kpis(frames, by=by)
        _check_frame(frame)
        ours = pa.Table.from_pandas(frame, schema=RESULT_SCHEMA.to_pyarrow(), preserve_index=False)
        computed[by] = (compute(definitions, tables, "month", by=by, keys=keys), ours)
    return computed


def _check_frame(frame: pd.DataFrame) -> None:
    """The columns and types the benchmark and a reader expect: those of ``compute(...).to_pandas()``, with the
    columns that may be missing nullable."""
    assert list(frame.columns) == list(RESULT_SCHEMA.names)
    assert frame["n"].dtype == "Int64"
    assert frame["too_few_responses"].dtype == "boolean"
    assert all(isinstance(day, datetime.date) for day in frame["period_start"])


@pytest.fixture(scope="module")
def rows(results) -> dict[str | None, tuple[Rows, Rows]]:
    """Each result's rows by KPI, then by month and segment."""
    return {by: (_rows_by_kpi(library), _rows_by_kpi(ours)) for by, (library, ours) in results.items()}


Rows = dict[str, dict[tuple[object, ...], dict[str, object]]]


def _rows_by_kpi(table: pa.Table) -> Rows:
    grouped: Rows = {}
    for row in table.to_pylist():
        grouped.setdefault(row["kpi"], {})[row["period_start"], row["segment"]] = row
    return grouped


def _same(library: object, pandas: object) -> bool:
    if library is None or pandas is None:
        return library is None and pandas is None
    if isinstance(library, float):
        return math.isclose(library, pandas, rel_tol=RELATIVE_TOLERANCE)
    return library == pandas


@pytest.mark.parametrize(("by", "kpi"), _cases())
def test_pandas_gives_every_row_of_the_library(rows, by, kpi):
    library_rows, pandas_rows = rows[by]
    library, ours = library_rows.get(kpi, {}), pandas_rows.get(kpi, {})
    assert library, "the library computed no rows, so the comparison would prove nothing"
    assert sorted(ours, key=str) == sorted(library, key=str)
    differences = [
        (key, column, row[column], ours[key][column])
        for key, row in library.items()
        for column in row
        if not _same(row[column], ours[key][column])
    ]
    assert differences[:10] == [], f"{len(differences)} values differ (month and segment, column, library, pandas)"


@pytest.mark.parametrize("by", SPLITS)
def test_pandas_computes_the_same_kpis_in_the_same_order(results, by):
    library, ours = results[by]
    order = ["kpi", "period_start", "segment"]
    assert ours.select(order).to_pylist() == library.select(order).to_pylist()
