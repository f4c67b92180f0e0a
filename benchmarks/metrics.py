"""Benchmark of the KPI library computed from raw data, against the requirement and two references.

Run it with ``SECRET_KEY=x uv run python benchmarks/metrics.py`` (``--help`` lists the options). At the
requirement's scale — a million customers, ten million orders, two million survey responses and a million
tickets over 36 months, five segments — it generates the data once into ``benchmarks/.data/`` (reused by
later runs; ``--data DIR`` measures a folder of canonical files instead) and prints:

* end to end: ``load_directory`` (read and validate the Parquet files) and ``compute`` of the whole library,
  unsplit, and of the KPIs that can be split by segment, by segment; compared with the 5 s target;
* the same computation on tables already loaded, next to the hand-written DuckDB SQL of
  ``benchmarks/metrics_sql.py`` on the same tables, their ratio (target at most 1.25) and whether both give
  the same numbers;
* the latest month alone, end to end, compared with the 1 s target;
* the straightforward pandas of ``benchmarks/metrics_pandas.py``, when that module is there: reading the Parquet
  files with pandas and computing the same KPIs, how many times slower than end to end it is (target at
  least 10) and whether it gives the same numbers;
* the peak resident memory of each of these.

Every figure is the best of ``--runs`` runs (3), except pandas, which runs once (``--pandas-runs``): the best
run shows what the code costs without the machine's noise. Each figure is measured in a fresh Python process,
so that its peak memory is its own and no run inherits another's caches; end to end, each run also loads the
data into a new DuckDB connection. Unequal numbers make the script exit with status 1 after the report.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import ibis
import pyarrow as pa
import pyarrow.parquet as pq

from fourfold.metrics.compile import RESULT_SCHEMA, compute, kpis_splittable_by
from fourfold.metrics.generate import generate_dataset
from fourfold.metrics.library import load_library
from fourfold.metrics.sources import LoadedTables, load_directory

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".data"
PANDAS_MODULE = HERE / "metrics_pandas.py"
END = date(2026, 9, 30)
"""The last month of generated data: fixed, so that every run and machine measures the same data."""

END_TO_END_TARGET = 5.0
LATEST_MONTH_TARGET = 1.0
SQL_RATIO_TARGET = 1.25
PANDAS_RATIO_TARGET = 10.0

LIBRARY = load_library()
BY_SEGMENT = kpis_splittable_by(LIBRARY, "segment")
COMPARED = ("value", "numerator", "denominator", "n", "margin_of_error", "too_few_responses")


# -- Measuring, in a process of its own ------------------------------------------------------------------------


def library_kpis(tables: LoadedTables, start: date | None = None) -> list[pa.Table]:
    """What the requirement times: the whole library unsplit, and by segment what can be split so."""
    return [
        compute(LIBRARY, tables, start=start),
        compute(LIBRARY, tables, by="segment", start=start, keys=BY_SEGMENT),
    ]


def handwritten(tables: LoadedTables, start: date | None = None) -> list[pa.Table]:
    """The same KPIs from the hand-written SQL, on the DuckDB connection the tables are registered on."""
    from metrics_sql import handwritten_kpis

    connection = tables.backend.con
    return [handwritten_kpis(connection, start=start), handwritten_kpis(connection, by="segment", start=start)]


def timed(action: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


def end_to_end(data: Path, runs: int, start: date | None) -> dict[str, Any]:
    """Load and compute, each run in a new DuckDB connection; the parts of the best run, and the first run's
    total, the only one that compiles the definitions (the others run the SQL ``compute`` kept)."""
    best: dict[str, float] | None = None
    first = 0.0
    rows = 0
    for run in range(runs):
        load_seconds, tables = timed(lambda: load_directory(data))
        compute_seconds, results = timed(lambda tables=tables: library_kpis(tables, start))
        rows = sum(result.num_rows for result in results)
        tables.backend.disconnect()
        if run == 0:
            first = load_seconds + compute_seconds
        if best is None or load_seconds + compute_seconds < best["total"]:
            best = {"total": load_seconds + compute_seconds, "load": load_seconds, "compute": compute_seconds}
    assert best is not None
    return {**best, "first": first, "rows": rows}


def library_and_sql(data: Path, runs: int, start: date | None, out: Path) -> dict[str, Any]:
    """The library and the hand-written SQL on the same loaded tables, runs interleaved so that a busy moment
    of the machine does not favour one; the results are written to ``out`` to be compared."""
    tables = load_directory(data)
    library_seconds, sql_seconds = [], []
    for _ in range(runs):
        seconds, library_results = timed(lambda: library_kpis(tables))
        library_seconds.append(seconds)
        seconds, sql_results = timed(lambda: handwritten(tables))
        sql_seconds.append(seconds)
    latest_seconds = min(timed(lambda: handwritten(tables, start))[0] for _ in range(runs))
    write_results(library_results, out / "library.parquet")
    write_results(sql_results, out / "sql.parquet")
    return {
        "library": min(library_seconds),
        "library_first": library_seconds[0],
        "sql": min(sql_seconds),
        "sql_latest_month": latest_seconds,
    }


def with_pandas(data: Path, runs: int, out: Path) -> dict[str, Any]:
    """Read the Parquet files with pandas and compute the same KPIs with ``metrics_pandas``."""
    import pandas as pd
    from metrics_pandas import pandas_kpis

    best: dict[str, float] | None = None
    for _ in range(runs):
        read_seconds, frames = timed(
            lambda: {path.stem: pd.read_parquet(path) for path in sorted(data.glob("*.parquet"))}
        )
        compute_seconds, results = timed(lambda frames=frames: [pandas_kpis(frames), pandas_kpis(frames, by="segment")])
        del frames  # before the next run reads them again
        if best is None or read_seconds + compute_seconds < best["total"]:
            best = {"total": read_seconds + compute_seconds, "read": read_seconds, "compute": compute_seconds}
    assert best is not None
    write_results([pandas_result(frame) for frame in results], out / "pandas.parquet")
    return best


def pandas_result(frame: Any) -> pa.Table:
    """A pandas result as an Arrow table of the library's columns and types."""
    columns = list(RESULT_SCHEMA.names)
    return pa.Table.from_pandas(frame[columns], preserve_index=False).cast(RESULT_SCHEMA.to_pyarrow())


def write_results(results: list[pa.Table], path: Path) -> None:
    """Unsplit and by-segment results in one file, told apart by ``split``, since a KPI may be in both."""
    parts = [
        result.append_column("split", pa.array([split] * result.num_rows))
        for result, split in zip(results, ("unsplit", "segment"), strict=True)
    ]
    pq.write_table(pa.concat_tables(parts), path)


def peak_memory_bytes() -> int:
    """The process's peak resident set so far.

    On Linux it is read from ``VmHWM``: ``ru_maxrss`` survives ``exec``, so a child would report the parent's
    peak (the data generation) as its own. Elsewhere ``ru_maxrss`` is what there is (bytes on macOS).
    """
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def run_stage(arguments: argparse.Namespace) -> None:
    """The child side: measure one stage and print its figures as one line of JSON."""
    data, out = Path(arguments.data), Path(arguments.out)
    start = date.fromisoformat(arguments.start) if arguments.start else None
    memory_at_start = peak_memory_bytes()
    if arguments.stage == "end-to-end":
        figures = end_to_end(data, arguments.runs, None)
    elif arguments.stage == "latest-month":
        figures = end_to_end(data, arguments.runs, start)
    elif arguments.stage == "library-and-sql":
        figures = library_and_sql(data, arguments.runs, start, out)
    else:
        figures = with_pandas(data, arguments.pandas_runs, out)
    print(json.dumps({**figures, "memory_at_start": memory_at_start, "peak_memory": peak_memory_bytes()}))


# -- The report ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sizes:
    customers: int
    orders: int
    survey_responses: int
    tickets: int
    months: int
    seed: int

    @property
    def folder(self) -> Path:
        return CACHE / (
            f"metrics-{self.customers}c-{self.orders}o-{self.survey_responses}s-{self.tickets}t-"
            f"{self.months}m-to{END:%Y-%m}-seed{self.seed}"
        )


def dataset(sizes: Sizes) -> Path:
    """The generated data set of these sizes, written first if it is not in the cache yet."""
    folder = sizes.folder
    if folder.is_dir():
        print(f"data: {folder.relative_to(HERE.parent)} (generated earlier)")
        return folder
    partial = folder.with_name(folder.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    written = generate_dataset(
        partial,
        end=END,
        customers=sizes.customers,
        orders=sizes.orders,
        months=sizes.months,
        seed=sizes.seed,
        survey_responses=sizes.survey_responses,
        tickets=sizes.tickets,
    )
    partial.rename(folder)  # only a complete data set gets the name that is reused
    print(f"data: {folder.relative_to(HERE.parent)}, generated in {written.seconds:.1f} s")
    return folder


def describe(data: Path) -> tuple[date, str]:
    """The first day of the data's last month of orders, and a line on the data's size."""
    files = sorted(data.glob("*.parquet"))
    rows = {path.stem: pq.read_metadata(path).num_rows for path in files}
    size = sum(path.stat().st_size for path in files)
    ((last,),) = duckdb.sql(f"SELECT max(order_date) FROM read_parquet('{data / 'orders.parquet'}')").fetchall()
    if not isinstance(last, date):
        raise SystemExit(f"{data} has no orders to find the latest month by")
    shown = ", ".join(
        f"{rows[name]:,} {name}" for name in ("customers", "orders", "survey_responses", "support_tickets")
    )
    summary = f"{shown}; {sum(rows.values()):,} rows in {len(files)} tables, {size / 1e6:,.0f} MB of Parquet"
    return last.replace(day=1), summary


def measure(stage: str, data: Path, out: Path, arguments: argparse.Namespace, start: date) -> dict[str, Any] | None:
    """Run one stage in a new Python process and return its figures, or None if it failed, saying why."""
    print(f"measuring: {stage}", file=sys.stderr, flush=True)
    command = [
        sys.executable,
        __file__,
        "--stage",
        stage,
        "--data",
        str(data),
        "--out",
        str(out),
        "--runs",
        str(arguments.runs),
        "--pandas-runs",
        str(arguments.pandas_runs),
        "--start",
        start.isoformat(),
    ]
    finished = subprocess.run(command, capture_output=True, text=True, check=False)
    if finished.returncode != 0:
        print(f"the {stage} stage failed (exit status {finished.returncode}):\n{finished.stderr}", file=sys.stderr)
        return None
    figures: dict[str, Any] = json.loads(finished.stdout.strip().splitlines()[-1])
    return figures


def keyed(path: Path) -> dict[tuple[Any, ...], dict[str, Any]]:
    return {
        (row["split"], row["kpi"], row["period_start"], row["segment"]): row for row in pq.read_table(path).to_pylist()
    }


def equal(found: Any, expected: Any) -> bool:
    """Equal, floats to 1e-9 relative; no value equals only no value."""
    if isinstance(found, float) and isinstance(expected, float):
        return math.isclose(found, expected, rel_tol=1e-9, abs_tol=1e-12)
    return bool(found == expected)


def differences(found: Path, expected: Path) -> list[str]:
    """What differs between two results, by KPI: rows only one of them has, and values that differ."""
    mine, theirs = keyed(found), keyed(expected)
    by_kpi: dict[str, list[str]] = {}
    for key in sorted(set(mine) | set(theirs), key=str):
        split, kpi, month, segment = key
        where = f"{month} {segment or ''} ({split})".replace("  ", " ")
        if key not in theirs or key not in mine:
            by_kpi.setdefault(kpi, []).append(f"{where}: only in {'the reference' if key in mine else 'the library'}")
            continue
        for column in COMPARED:
            if not equal(mine[key][column], theirs[key][column]):
                by_kpi.setdefault(kpi, []).append(
                    f"{where} {column}: {mine[key][column]!r} against the library's {theirs[key][column]!r}"
                )
    return [
        f"{kpi}: {len(found_here)} differences, e.g. {'; '.join(found_here[:2])}" for kpi, found_here in by_kpi.items()
    ]


def verdict(meets: bool) -> str:
    """Whether a figure meets its target, in capitals when it does not, so that a failing run stands out."""
    return "meets" if meets else "MISSES"


def show(label: str, figure: str, comparison: str = "") -> None:
    """One line of the report: what was measured, the figure, and how it was taken or what it must meet."""
    print(f"{label:<58} {figure:>11}   {comparison}".rstrip())


def megabytes(figures: Mapping[str, Any]) -> str:
    return f"{figures['peak_memory'] / 1e6:,.0f} MB"


def report(arguments: argparse.Namespace) -> int:
    """Generate or find the data, measure every stage, print the figures; 1 if numbers differ or a stage failed."""
    print("Fourfold metrics benchmark")
    print(
        f"machine: {os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}, "
        f"DuckDB {duckdb.__version__}, Ibis {ibis.__version__}; load average {os.getloadavg()[0]:.1f}"
    )
    if arguments.data:
        data = Path(arguments.data).resolve()
    else:
        customers = arguments.customers
        data = dataset(
            Sizes(
                customers=customers,
                orders=arguments.orders,
                survey_responses=2 * customers if arguments.survey_responses is None else arguments.survey_responses,
                tickets=customers if arguments.tickets is None else arguments.tickets,
                months=arguments.months,
                seed=arguments.seed,
            )
        )
    latest, size = describe(data)
    print(f"data: {size}; the latest month is {latest:%Y-%m}")
    print(f"KPIs: {len(LIBRARY)} unsplit, {len(BY_SEGMENT)} by segment")
    print()
    runs = f"best of {arguments.runs}"
    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="fourfold-metrics-") as scratch:
        out = Path(scratch)
        whole = measure("end-to-end", data, out, arguments, latest)
        compared = measure("library-and-sql", data, out, arguments, latest)
        latest_month = measure("latest-month", data, out, arguments, latest)
        pandas = measure("pandas", data, out, arguments, latest) if PANDAS_MODULE.exists() else None
        sql_differences = differences(out / "sql.parquet", out / "library.parquet") if compared else []
        pandas_differences = differences(out / "pandas.parquet", out / "library.parquet") if pandas and compared else []

    if whole is None:
        show("end to end", "FAILED")
        problems.append("the end-to-end stage failed")
    else:
        meets = verdict(whole["total"] <= END_TO_END_TARGET)
        show(
            "end to end: load, all KPIs unsplit and by segment",
            seconds(whole["total"]),
            f"{runs}; target <= {END_TO_END_TARGET:.0f} s: {meets}",
        )
        show("  of which load_directory (read and validate)", seconds(whole["load"]))
        show("  of which compute", seconds(whole["compute"]), f"{whole['rows']:,} KPI rows")
        show("  first run, compiling the definitions", seconds(whole["first"]), "the later runs reuse its SQL")
    if compared is None:
        show("compute and hand-written SQL", "FAILED")
        problems.append("the stage comparing compute with the hand-written SQL failed")
    else:
        ratio = compared["library"] / compared["sql"]
        show("compute on loaded tables", seconds(compared["library"]), runs)
        show("  first run, compiling the definitions", seconds(compared["library_first"]))
        show("hand-written DuckDB SQL on the same tables", seconds(compared["sql"]), runs)
        show(
            "compute / hand-written SQL",
            f"{ratio:.2f} x",
            f"target <= {SQL_RATIO_TARGET} x: {verdict(ratio <= SQL_RATIO_TARGET)}",
        )
        show("  first run, compiling the definitions", f"{compared['library_first'] / compared['sql']:.2f} x")
        show("same numbers as the hand-written SQL", "NO" if sql_differences else "yes", counted(sql_differences))
    if latest_month is None:
        show("latest month alone", "FAILED")
        problems.append("the latest-month stage failed")
    else:
        meets = verdict(latest_month["total"] <= LATEST_MONTH_TARGET)
        show(
            f"latest month alone ({latest:%Y-%m}), end to end",
            seconds(latest_month["total"]),
            f"{runs}; target <= {LATEST_MONTH_TARGET:.0f} s: {meets}",
        )
        show("  of which load_directory", seconds(latest_month["load"]))
        show("  of which compute", seconds(latest_month["compute"]))
        show("  first run, compiling the definitions", seconds(latest_month["first"]))
    if compared is not None:
        show("  hand-written SQL, latest month, on loaded tables", seconds(compared["sql_latest_month"]), runs)
    if not PANDAS_MODULE.exists():
        show("pandas", "skipped", f"{PANDAS_MODULE.relative_to(HERE.parent)} is not there yet")
    elif pandas is None:
        show("pandas", "FAILED", f"{PANDAS_MODULE.name} did not run")
        problems.append("the pandas stage failed")
    else:
        times = "once" if arguments.pandas_runs == 1 else f"best of {arguments.pandas_runs}"
        show("pandas: read the Parquet files, the same KPIs", seconds(pandas["total"]), times)
        show("  of which pandas.read_parquet", seconds(pandas["read"]))
        if whole is not None:
            ratio = pandas["total"] / whole["total"]
            meets = verdict(ratio >= PANDAS_RATIO_TARGET)
            show("pandas / end to end", f"{ratio:.1f} x", f"target >= {PANDAS_RATIO_TARGET:.0f} x: {meets}")
        if compared is not None:
            show("same numbers from pandas", "NO" if pandas_differences else "yes", counted(pandas_differences))
    if whole is not None:
        imports = f"of which {whole['memory_at_start'] / 1e6:,.0f} MB Python and imports"
        show("peak memory (resident), end to end", megabytes(whole), imports)
    if compared is not None:
        show("peak memory, compute and hand-written SQL", megabytes(compared), "one process, both on the same tables")
    if latest_month is not None:
        show("peak memory, latest month alone", megabytes(latest_month))
    if pandas is not None:
        show("peak memory, pandas", megabytes(pandas))
    for name, found in (("hand-written SQL", sql_differences), ("pandas", pandas_differences)):
        if found:
            problems.append(f"the {name} and the library give different numbers")
            print(f"\nThe {name} and the library differ:")
            for line in found:
                print(f"- {line}")
    if problems:
        print()
    for problem in problems:
        print(f"FAILED: {problem}")
    return 1 if problems else 0


def seconds(figure: float) -> str:
    return f"{figure:.2f} s"


def counted(found: list[str]) -> str:
    return f"{len(found)} KPIs differ (listed below)" if found else ""


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=1_000_000, help="customers to generate (1 000 000)")
    parser.add_argument("--orders", type=int, default=10_000_000, help="orders to generate (10 000 000)")
    parser.add_argument("--survey-responses", type=int, help="survey responses to generate (2 per customer)")
    parser.add_argument("--tickets", type=int, help="support tickets to generate (1 per customer)")
    parser.add_argument("--months", type=int, default=36, help=f"months of data, to {END:%Y-%m} (36)")
    parser.add_argument("--seed", type=int, default=42, help="random seed of the generated data (42)")
    parser.add_argument("--data", help="measure this folder of canonical Parquet files instead of generated data")
    parser.add_argument("--runs", type=int, default=3, help="runs of each timing, the best shown (3)")
    parser.add_argument("--pandas-runs", type=int, default=1, help="runs of the pandas timing (1)")
    parser.add_argument("--stage", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--start", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.stage:
        run_stage(arguments)
    else:
        raise SystemExit(report(arguments))


if __name__ == "__main__":
    main()
