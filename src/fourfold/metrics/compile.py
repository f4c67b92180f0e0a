"""Compiling KPI definitions to Ibis expressions over the canonical tables, and computing them.

A compiled KPI is one Ibis expression giving one row per period (and segment, when split) with the columns of
:data:`RESULT_SCHEMA`: the value, and what it is made of. The numerator and denominator are kept so that a
scorecard can combine periods and segments correctly and show the arithmetic behind a number; ``n`` counts the
rows behind the value (the denominator's rows for a ratio, the answers for a survey, the entities at the start
for a cohort), and survey KPIs add their margin of error and a flag for too few responses.

**The same numbers on every backend.** The expressions use only what DuckDB, PostgreSQL and Spark compute
alike: integer period numbers (year × 12 + month − 1 for months), ``make_date``, counts, sums, averages,
min/max, the sample standard deviation, square roots, and continuous percentiles. Medians and p90 are the
linear-interpolation percentile (DuckDB ``quantile_cont``, PostgreSQL ``percentile_cont``, Spark ``percentile``;
numpy's default, Excel's PERCENTILE.INC), which all three compute exactly. Divisions go through ``NULLIF(d, 0)``,
so a zero denominator gives no value (NULL), never infinity, 0 or an error; the caller reports "no data".
Joins that could meet a NULL segment are avoided: parts are stacked with UNION ALL and grouped, as GROUP BY
treats NULLs alike everywhere.

**Periods** are months, and quarters and years of the fiscal year (:class:`PeriodGrid`; calendar ones when it
starts in January), found from a row's date (or the UTC date of its timestamp). A fiscal year is named and
keyed by :mod:`fourfold.engine.periods`; here a period is its first day.

**One scan per set of rows.** Flows of the same table, date, filters and split are aggregated together
(:class:`_FlowPlan`), and a cohort counts an entity of one span from the span's bounds rather than comparing it
with every period; both only change how much is read, never a number.

**Which periods have a row.** A flow KPI (orders, tickets) has a row for each period with at least one row of
data, and none for a period without: a month without orders may be a month whose orders were not loaded, so it
shows "no data" rather than a confident 0. Within a period that has data, an additive part without rows is 0:
leads but no conversions is a conversion rate of 0 %. Stocks (headcount) and cohorts have a row for every
period from their first date to their last date, or to ``end`` when it is given, since people stay employed
through months in which nothing is recorded. A growth or windowed KPI reads the periods before ``start`` it
needs; ``start`` and ``end`` only choose which periods are returned.
"""

from __future__ import annotations

import datetime
import difflib
import functools
import hashlib
import json
import operator
import threading
from collections import OrderedDict
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.operations as ops
import ibis.expr.types as ir
import pyarrow as pa
from ibis.backends.duckdb import Backend as DuckDBBackend

from fourfold.engine.formulas import Binary, Expression, Number, Reference, Unary, parse_formula
from fourfold.metrics import stats
from fourfold.metrics.definitions import (
    ADDITIVE_AGGREGATES,
    CohortKpi,
    Condition,
    CumulativeKpi,
    DefinitionError,
    Definitions,
    DerivedKpi,
    GrowthKpi,
    Measure,
    RatioKpi,
    Rows,
    Scalar,
    SimpleKpi,
    SurveyKpi,
    dependencies,
    fixed_split,
    optional_segments,
)

Grain = Literal["month", "quarter", "year"]
PERIODS_PER_YEAR: Mapping[Grain, int] = {"month": 12, "quarter": 4, "year": 1}
MONTHS_PER_PERIOD: Mapping[Grain, int] = {"month": 1, "quarter": 3, "year": 12}

RESULT_SCHEMA = ibis.schema(
    {
        "kpi": "string",
        "period_start": "date",
        "segment": "string",
        "value": "float64",
        "numerator": "float64",
        "denominator": "float64",
        "n": "int64",
        "margin_of_error": "float64",
        "too_few_responses": "boolean",
    }
)
"""The columns of every compiled KPI, and of :func:`compute`'s result."""

_MEASURED = {name: dtype for name, dtype in RESULT_SCHEMA.items() if name not in {"kpi", "period_start", "segment"}}
"""The columns a KPI's frame has besides ``period`` (a number, so that shifting one is arithmetic) and ``segment``."""

_QUANTILES: Mapping[str, float] = {"median": 0.5, "p90": 0.9}
"""The continuous percentile each percentile aggregate is."""


@dataclass(frozen=True)
class PeriodGrid:
    """How rows are put in periods: the grain, and the month the (fiscal) year starts in.

    Periods are numbered so that consecutive periods differ by 1 and the first period of every year is a
    multiple of :attr:`per_year`: counting months from year 0 less the months before the fiscal year starts,
    divided by the months of a period. Shifting a period is then arithmetic (growth), and so is finding the
    start of its year (year to date), on every backend. With ``first_month=4`` the quarter of 15 May 2025 is
    the first of the fiscal year that starts on 1 April 2025.

    >>> grid = PeriodGrid("quarter", first_month=4)
    >>> grid.number_of(datetime.date(2025, 5, 15)) % grid.per_year
    0
    >>> grid.number_of(datetime.date(2025, 5, 17)) - grid.number_of(datetime.date(2025, 2, 1))
    1
    """

    grain: Grain = "month"
    first_month: int = 1

    def __post_init__(self) -> None:
        if self.grain not in PERIODS_PER_YEAR:
            raise ValueError(f"the grain must be month, quarter or year, not {self.grain!r}")
        if not 1 <= self.first_month <= 12:
            raise ValueError(f"the fiscal year must start in month 1 to 12, not {self.first_month!r}")

    @property
    def per_year(self) -> int:
        """How many periods a year has."""
        return PERIODS_PER_YEAR[self.grain]

    @property
    def months(self) -> int:
        """How many months a period has."""
        return MONTHS_PER_PERIOD[self.grain]

    def number(self, moment: ir.TemporalValue) -> ir.IntegerValue:
        """The period containing a date or timestamp."""
        months = moment.year().cast("int64") * 12 + moment.month().cast("int64") - self.first_month
        return months if self.months == 1 else months // self.months

    def number_of(self, day: datetime.date) -> int:
        """:meth:`number` of a Python date."""
        return (day.year * 12 + day.month - self.first_month) // self.months

    def first_day(self, number: ir.IntegerValue) -> ir.DateValue:
        """The first day of a numbered period."""
        months = number * self.months + (self.first_month - 1)
        return ibis.date(months // 12, months % 12 + 1, 1)

    def last_day(self, number: ir.IntegerValue) -> ir.DateValue:
        """The last day of a numbered period, which stocks and cohorts are counted on."""
        return self.first_day(number + 1) - ibis.interval(days=1)

    def first_period_from(self, day: datetime.date) -> int:
        """The first period starting on or after ``day``: the period containing it, unless it starts earlier.

        >>> PeriodGrid("quarter").first_period_from(datetime.date(2025, 4, 1)) == PeriodGrid("quarter").number_of(
        ...     datetime.date(2025, 4, 1)
        ... )
        True
        """
        number = self.number_of(day)
        months = number * self.months + (self.first_month - 1)
        starts = datetime.date(months // 12, months % 12 + 1, 1)
        return number if day == starts else number + 1


def compile_kpis(
    definitions: Definitions,
    tables: Mapping[str, ir.Table],
    *,
    grain: Grain = "month",
    by: str | None = None,
    start: datetime.date | None = None,
    end: datetime.date | None = None,
    keys: Collection[str] | None = None,
    fiscal_year_start_month: int = 1,
) -> ir.Table:
    """One Ibis expression computing the KPIs ``keys`` (all of ``definitions`` by default), stacked.

    KPIs always split by a dimension of their own (CAC by channel) are split by it; with ``by``, every other
    KPI is split by that dimension, and one that cannot be raises :class:`DefinitionError` (choose the KPIs
    with :func:`kpis_splittable_by`). ``start`` and ``end`` keep the periods whose first day is between them,
    both included. Quarters and years are those of the fiscal year starting in ``fiscal_year_start_month``
    (and so is a year to date). Raises :class:`DefinitionError` when a definition does not fit the tables.
    """
    chosen = list(definitions) if keys is None else list(keys)
    unknown = sorted(set(chosen) - definitions.keys())
    if unknown:
        raise ValueError(f"unknown KPI {', '.join(unknown)}")
    grid = PeriodGrid(grain, fiscal_year_start_month)
    lowest = None if start is None else grid.first_period_from(start)
    highest = None if end is None else grid.number_of(end)
    compiler = _Compiler(definitions, tables, grid, by, end, chosen, lowest)
    results = [compiler.result(key, lowest, highest) for key in chosen]
    if not results:
        raise ValueError("no KPIs to compute")
    return results[0].union(*results[1:]) if len(results) > 1 else results[0]


def compute(
    definitions: Definitions,
    tables: Mapping[str, ir.Table],
    grain: Grain = "month",
    by: str | None = None,
    start: datetime.date | None = None,
    end: datetime.date | None = None,
    *,
    keys: Collection[str] | None = None,
    fiscal_year_start_month: int = 1,
) -> pa.Table:
    """Compute KPIs on the backend the tables live on, as one Arrow table sorted by KPI, period and segment.

    The arguments are those of :func:`compile_kpis`. Every KPI is computed in one query, so a backend with a
    high cost per query (Spark) pays it once. On DuckDB the query's SQL is kept (:class:`_CompiledQueries`), so
    computing the same KPIs over tables of the same names and columns again — a worker's next scheduled run,
    the next organisation with the library's definitions — runs it without compiling the definitions anew.
    """
    arguments = (grain, by, start, end, None if keys is None else tuple(keys), fiscal_year_start_month)
    cached = _COMPILED.key(definitions, tables, arguments)
    sql = None if cached is None else _COMPILED.get(cached[1])
    if sql is None:
        expression = compile_kpis(
            definitions,
            tables,
            grain=grain,
            by=by,
            start=start,
            end=end,
            keys=keys,
            fiscal_year_start_month=fiscal_year_start_month,
        )
        if cached is None:
            rows = expression.to_pyarrow()
        else:
            sql = _COMPILED.put(cached[1], str(cached[0].compile(expression)))
    if cached is not None and sql is not None:
        rows = cached[0].con.sql(sql).to_arrow_table()
    result = rows.cast(RESULT_SCHEMA.to_pyarrow())
    return result.sort_by([("kpi", "ascending"), ("period_start", "ascending"), ("segment", "ascending", "at_start")])


class _CompiledQueries:
    """The SQL DuckDB was given for a set of definitions, tables and arguments, most recently used first.

    Building the Ibis expression of the whole library and turning it into SQL takes about as long as DuckDB
    takes to run it on a million customers' data (2 to 3 s), and the SQL depends only on the definitions, the
    arguments, and the names and columns of the tables it reads — never on their rows (even a cohort's first
    and last periods are computed in the query). So it is kept under a key made of exactly those, and only for
    tables that are named tables of a DuckDB connection (views or tables, as the sources load them), which any
    connection with tables of those names and columns can run.
    """

    SIZE = 32

    def __init__(self) -> None:
        self._queries: OrderedDict[str, str] = OrderedDict()
        self._lock = threading.Lock()

    def key(
        self, definitions: Definitions, tables: Mapping[str, ir.Table], arguments: tuple[object, ...]
    ) -> tuple[DuckDBBackend, str] | None:
        """The DuckDB backend the tables live on and the key of their query; ``None`` for other tables."""
        backends = set()
        described = []
        for name, table in sorted(tables.items()):
            operation = table.op()
            if not isinstance(operation, ops.DatabaseTable):
                return None
            backends.add(operation.source)
            described.append((name, operation.name, str(operation.namespace), repr(table.schema())))
        if len(backends) != 1:
            return None
        backend = backends.pop()
        if not isinstance(backend, DuckDBBackend):
            return None
        kpis = {key: kpi.model_dump(mode="json") for key, kpi in definitions.items()}
        text = json.dumps([kpis, described, [str(argument) for argument in arguments]], sort_keys=True)
        return backend, hashlib.sha256(text.encode()).hexdigest()

    def get(self, key: str) -> str | None:
        with self._lock:
            sql = self._queries.get(key)
            if sql is not None:
                self._queries.move_to_end(key)
            return sql

    def put(self, key: str, sql: str) -> str:
        with self._lock:
            self._queries[key] = sql
            while len(self._queries) > self.SIZE:
                self._queries.popitem(last=False)
            return sql

    def clear(self) -> None:
        with self._lock:
            self._queries.clear()


_COMPILED = _CompiledQueries()


def forget_compiled_queries() -> None:
    """Forget the SQL kept by :func:`compute`, so that the next computation compiles its definitions."""
    _COMPILED.clear()


def kpis_splittable_by(definitions: Definitions, dimension: str) -> list[str]:
    """The KPIs that can be computed split by ``dimension``: those allowing it, and those always split by it."""
    return [
        key
        for key in definitions
        if dimension in optional_segments(key, definitions) or fixed_split(key, definitions) == dimension
    ]


def _periods_needed(
    definitions: Definitions, keys: Collection[str], lowest: int | None, grid: PeriodGrid
) -> dict[str, int | None]:
    """The first period of each KPI's frame that a computation from period ``lowest`` needs; ``None``: all.

    A KPI asked for needs its own periods from ``lowest``; one it is computed from may need earlier ones: a
    growth rate the period compared with, a year to date the year's first period, a window its width, a
    running total everything. Reading only those rows is what makes computing the latest month cheap.
    """
    needs: dict[str, int | None] = {}

    def need(key: str, first: int | None) -> None:
        if key not in definitions:
            return
        if key in needs:
            known = needs[key]
            if known is None or (first is not None and first >= known):
                return
            first = None if first is None else min(first, known)
        needs[key] = first
        kpi = definitions[key]
        if isinstance(kpi, GrowthKpi):
            shift = 1 if kpi.compare_to == "previous_period" else grid.per_year
            need(kpi.of, None if first is None else first - shift)
        elif isinstance(kpi, DerivedKpi):
            for reference in dependencies(kpi):
                need(reference, first)
        elif isinstance(kpi, CumulativeKpi) and first is not None:
            if kpi.window == "running":
                needs[key] = None
            elif kpi.window == "year_to_date":
                needs[key] = first - first % grid.per_year
            else:
                needs[key] = first - (kpi.window - 1)

    for key in keys:
        need(key, lowest)
    return needs


class _Compiler:
    """Builds each KPI's frame once, so that KPIs computed from others reuse their inputs' expressions.

    A frame has ``period`` (numbered), ``segment`` and the measured columns of :data:`RESULT_SCHEMA`. Columns
    are always read as ``table["name"]``: attribute access would meet Ibis's own methods (``count``).
    """

    def __init__(
        self,
        definitions: Definitions,
        tables: Mapping[str, ir.Table],
        grid: PeriodGrid,
        by: str | None,
        end: datetime.date | None,
        keys: Collection[str],
        lowest: int | None = None,
    ) -> None:
        self._definitions = definitions
        self._tables = tables
        self._grid = grid
        self._by = by
        self._end = None if end is None else grid.number_of(end)
        self._frames: dict[str, ir.Table] = {}
        self._needs = _periods_needed(definitions, keys, lowest, grid)
        self._flows = _FlowPlan(self, definitions, keys)

    def needed_from(self, keys: Iterable[str]) -> int | None:
        """The first period the frames of ``keys`` are needed from; ``None`` for all of them."""
        needs = [self._needs.get(key) for key in keys]
        return None if not needs or None in needs else min(need for need in needs if need is not None)

    def result(self, key: str, lowest: int | None, highest: int | None) -> ir.Table:
        """The KPI's rows in the columns of :data:`RESULT_SCHEMA`, for the periods asked for."""
        frame = self.frame(key)
        if lowest is not None:
            frame = frame.filter(frame["period"] >= lowest)
        if highest is not None:
            frame = frame.filter(frame["period"] <= highest)
        return frame.select(
            kpi=ibis.literal(key, type="string"),
            period_start=self._grid.first_day(frame["period"]),
            segment=frame["segment"],
            **{name: frame[name] for name in _MEASURED},
        )

    def frame(self, key: str) -> ir.Table:
        """The KPI for every period it has."""
        if key not in self._frames:
            self._frames[key] = self._build(key)
        return self._frames[key]

    @property
    def tables(self) -> Mapping[str, ir.Table]:
        """The tables the KPIs are computed from, by name."""
        return self._tables

    @property
    def grid(self) -> PeriodGrid:
        """The periods the KPIs are computed in."""
        return self._grid

    @property
    def definitions(self) -> Definitions:
        """The definitions being compiled."""
        return self._definitions

    def problem(self, key: str, field: str, message: str) -> DefinitionError:
        """A definition that does not fit the tables, located in its file."""
        return self._definitions.problem(key, field, message)

    def split_of(self, key: str) -> str | None:
        """The dimension the KPI is split by in this computation, if any."""
        fixed = fixed_split(key, self._definitions)
        if fixed is not None or self._by is None:
            return fixed
        allowed = optional_segments(key, self._definitions)
        if self._by not in allowed:
            options = f"it can be split by {', '.join(sorted(allowed))}" if allowed else "it cannot be split"
            raise self.problem(key, "segments", f"cannot be split by {self._by}; {options}")
        return self._by

    def _build(self, key: str) -> ir.Table:
        kpi = self._definitions[key]
        split = self.split_of(key)
        match kpi:
            case SimpleKpi(measure=measure):
                measured = self._measure(key, "measure", measure, split)
                return _frame(measured, value=measured["value"], n=measured["n"])
            case RatioKpi():
                return self._ratio(key, kpi, split)
            case CumulativeKpi():
                return self._cumulative(key, kpi, split)
            case DerivedKpi():
                return self._derived(kpi)
            case GrowthKpi():
                return self._growth(kpi)
            case CohortKpi():
                return self._cohort(key, kpi, split)
            case SurveyKpi():
                return self._survey(key, kpi, split)

    # -- Rows ---------------------------------------------------------------------------------------------

    def rows(
        self,
        key: str,
        field: str,
        table_name: str,
        where: Iterable[Condition],
        split: str | None,
        columns: Mapping[str, tuple[str, str]],
        values: Mapping[str, tuple[str, str, str]] | None = None,
    ) -> ir.Table:
        """The filtered rows of a table as ``segment``, the named ``columns`` and the named ``values``.

        ``columns`` maps names to (column path, field of the definition); ``values`` maps names to (KPI key,
        formula over the table's own columns, field), the key naming the KPI a problem of the formula is
        reported for. Columns of referred tables (``customer.region``) are joined in through the matching
        ``_id`` column, so the result has exactly one row per row of the table.
        """
        base = self._table(key, f"{field}.table", table_name)
        conditions = list(where)
        paths = dict(columns.values())
        paths.update({condition.column: f"{field}.where[{index}]" for index, condition in enumerate(conditions)})
        dimension = None
        if split is not None:
            segment_field = "by" if getattr(self._definitions[key], "by", None) else "segments"
            dimension = self.dimension_path(key, segment_field, table_name, split)
            paths[dimension] = segment_field
        flat = self._flat(key, table_name, base, paths)
        if conditions:
            flat = flat.filter(*(self.condition(key, paths[item.column], flat, item) for item in conditions))
        selected: dict[str, ir.Value] = {name: flat[_flat_name(path)] for name, (path, _) in columns.items()}
        selected["segment"] = ibis.null("string") if dimension is None else flat[_flat_name(dimension)]
        for name, (owner, formula, value_field) in (values or {}).items():
            selected[name] = self._value(owner, value_field, table_name, flat, parse_formula(formula).expression)
        return flat.select(**selected)

    def _table(self, key: str, field: str, name: str) -> ir.Table:
        if name not in self._tables:
            given = ", ".join(sorted(self._tables)) or "none"
            raise self.problem(key, field, f"no table '{name}' was given (the tables given are {given})")
        return self._tables[name]

    def dimension_path(self, key: str, field: str, table_name: str, dimension: str) -> str:
        """Where a dimension is for a table: its own column first (a ticket's channel is where it came in,
        not the customer's acquisition channel), else a column of exactly one table it refers to."""
        own = self._tables[table_name].columns
        if dimension in own:
            return dimension
        found = [
            f"{column.removesuffix('_id')}.{dimension}"
            for column in sorted(own)
            if column.endswith("_id")
            and (referred := self._tables.get(column.removesuffix("_id") + "s")) is not None
            and dimension in referred.columns
        ]
        if len(found) != 1:
            where = (
                "in more than one table it refers to" if found else "neither its column nor one of a table it refers to"
            )
            raise self.problem(key, field, f"'{dimension}' is {where} in {table_name}")
        return found[0]

    def _flat(self, key: str, table_name: str, base: ir.Table, paths: Mapping[str, str]) -> ir.Table:
        """``base`` with the columns of referred tables that ``paths`` name, as ``__relation__column``."""
        referred: dict[str, set[str]] = {}
        for path, field in paths.items():
            relation, _, column = path.rpartition(".")
            if not relation:
                self.require_column(key, field, table_name, base, column)
                continue
            if f"{relation}_id" not in base.columns:
                raise self.problem(key, field, f"'{path}' needs a column {relation}_id in {table_name}")
            target = self._table(key, field, f"{relation}s")
            self.require_column(key, field, f"{relation}s", target, column)
            referred.setdefault(relation, set()).add(column)
        flat = base
        for relation, names in sorted(referred.items()):
            target = self._tables[f"{relation}s"]
            side = target.select(
                **{f"__{relation}__": target["id"]},
                **{_flat_name(f"{relation}.{name}"): target[name] for name in sorted(names)},
            )
            flat = flat.left_join(side, flat[f"{relation}_id"] == side[f"__{relation}__"])
        return flat

    def require_column(self, key: str, field: str, table_name: str, table: ir.Table, column: str) -> None:
        if column not in table.columns:
            known = [name for name in table.columns if not name.startswith("__")]
            close = difflib.get_close_matches(column, known, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            raise self.problem(key, field, f"{table_name} has no column '{column}'{hint}")

    def require_type(self, key: str, field: str, rows: ir.Table, column: str, expected: str) -> None:
        """Refuse a column whose type cannot serve, before Ibis fails on it with a message about Ibis."""
        dtype = rows[column].type()
        fits = {"a date": dtype.is_date(), "a date or time": dtype.is_temporal(), "a number": dtype.is_numeric()}
        if not fits[expected]:
            raise self.problem(key, field, f"the column must hold {expected}, not {dtype}")

    def _require_dates(self, key: str, field: str, rows: ir.Table) -> None:
        """Activity spans are compared with the days of a period, so they are dates."""
        self.require_type(key, f"{field}.from", rows, "starts", "a date")
        if "until" in rows.columns:
            self.require_type(key, f"{field}.until", rows, "until", "a date")

    def condition(self, key: str, field: str, rows: ir.Table, condition: Condition) -> ir.BooleanValue:
        column = rows[_flat_name(condition.column)]
        operand = condition.operand
        if condition.operator == "present":
            return column.notnull() if operand else column.isnull()
        dtype = column.type()
        for value in operand if isinstance(operand, list) else [operand]:
            if isinstance(value, bool):
                fits = dtype.is_boolean()
            elif isinstance(value, str):
                fits = dtype.is_string()
            else:
                fits = dtype.is_numeric()
            if not fits or (condition.operator in {"at_least", "at_most"} and not dtype.is_numeric()):
                raise self.problem(key, field, f"cannot compare {condition.column} ({dtype}) with {value!r}")
        if isinstance(operand, list):
            return column.isin(operand)
        comparisons: Mapping[str, Callable[[ir.Value, Scalar], ir.BooleanValue]] = {
            "equals": operator.eq,
            "not_equals": operator.ne,
            "at_least": operator.ge,
            "at_most": operator.le,
        }
        return comparisons[condition.operator](column, operand)

    def _value(self, key: str, field: str, table_name: str, rows: ir.Table, expression: Expression) -> ir.Value:
        """A measure's value: a bare text column as it is (to count ids), anything else as a number.

        In arithmetic a TIMESTAMP is its whole seconds and a DATE its days since 1970-01-01 (in UTC, which
        Spark must be set to), so differences are durations; a boolean is 1 or 0.
        """

        def number(name: str) -> ir.Value:
            self.require_column(key, field, table_name, rows, name)
            column = rows[name]
            dtype = column.type()
            if dtype.is_timestamp():
                # Whole seconds: Spark's unix_timestamp drops fractions, which DuckDB and PostgreSQL keep.
                return column.epoch_seconds().cast("float64").floor()
            if dtype.is_date():
                return column.cast("timestamp").epoch_seconds().cast("float64") / 86400.0
            if dtype.is_boolean():
                # PostgreSQL casts a boolean to INTEGER, but not to BIGINT or DOUBLE PRECISION.
                return column.cast("int32")
            if dtype.is_numeric():
                return column
            raise self.problem(key, field, f"{name} holds {dtype}, which is not a number")

        if isinstance(expression, Reference):
            self.require_column(key, field, table_name, rows, expression.key)
            if rows[expression.key].type().is_string():
                return rows[expression.key]
        return _arithmetic(expression, number)

    # -- Measures -----------------------------------------------------------------------------------------

    def _measure(self, key: str, field: str, measure: Measure, split: str | None) -> ir.Table:
        """An aggregated measure: ``period``, ``segment``, ``value`` and ``n`` for each period it has."""
        if self._flows.handles(key, field):
            return self._flows.measure(key, field)
        values = {"value": (key, measure.value, f"{field}.value")} if measure.value is not None else {}
        if measure.time is not None:
            rows = self.flow_rows(key, field, measure, split, values, needed_from=self.needed_from([key]))
        else:
            active = measure.active
            assert active is not None  # a Rows model has either time or active
            columns = {"starts": (active.starts, f"{field}.active.from")}
            if active.until is not None:
                columns["until"] = (active.until, f"{field}.active.until")
            rows = self.rows(key, field, measure.table, measure.where, split, columns, values)
            self._require_dates(key, f"{field}.active", rows)
            rows = self._still_active(rows, self.needed_from([key]))
            spine = self._spine(rows)
            day = spine["first_day"] if active.at == "period_start" else spine["last_day"]
            rows = spine.join(rows, _active_on(rows, day))
        return _aggregate(rows, measure)

    def flow_rows(
        self,
        key: str,
        field: str,
        rows_of: Rows,
        split: str | None,
        values: Mapping[str, tuple[str, str, str]],
        *,
        entity: str | None = None,
        needed_from: int | None = None,
    ) -> ir.Table:
        """The rows of a flow with their ``period``, ``segment`` and ``values`` (see :meth:`rows`), and the
        ``entity`` column when one is named; only those of the periods from ``needed_from`` on, if given."""
        assert rows_of.time is not None  # a flow is placed in periods by its time
        columns = {"time": (rows_of.time, f"{field}.time")}
        if entity is not None:
            columns["entity"] = (entity, f"{field}.value")
        rows = self.rows(key, field, rows_of.table, rows_of.where, split, columns, values)
        self.require_type(key, f"{field}.time", rows, "time", "a date or time")
        # A row without its date belongs to no period (a lead not converted has no conversion month).
        rows = rows.filter(rows["time"].notnull()).mutate(period=self._grid.number(rows["time"]))
        return rows if needed_from is None else rows.filter(rows["period"] >= needed_from)

    def _still_active(self, rows: ir.Table, needed_from: int | None) -> ir.Table:
        """Spans that can be active in a period from ``needed_from`` on: the others cannot change a number
        that is asked for, so they are not compared with every period."""
        if needed_from is None or "until" not in rows.columns:
            return rows
        first = self._grid.first_day(ibis.literal(needed_from, type="int64"))
        return rows.filter(rows["until"].isnull() | (rows["until"] >= first))

    def _bounds(self, rows: ir.Table) -> ir.Table:
        """One row: the ``lowest`` and ``highest`` period of a stock, from the first ``starts`` to the last
        date of ``rows`` (or to ``end``)."""
        last_until = rows["until"].max() if "until" in rows.columns else ibis.null("date")
        bounds = rows.aggregate(first=rows["starts"].min(), last_start=rows["starts"].max(), last_until=last_until)
        last = ibis.cases(
            (bounds["last_until"] > bounds["last_start"], bounds["last_until"]), else_=bounds["last_start"]
        )
        highest = self._grid.number(last) if self._end is None else ibis.literal(self._end, type="int64")
        return bounds.select(lowest=self._grid.number(bounds["first"]), highest=highest.cast("int64"))

    def _spine(self, rows: ir.Table) -> ir.Table:
        """Every period of a stock (see :meth:`_bounds`), with its first and last day."""
        bounds = self._bounds(rows)
        numbers = bounds.select(period=ibis.range(bounds["lowest"], bounds["highest"] + 1).unnest().cast("int64"))
        return numbers.mutate(
            first_day=self._grid.first_day(numbers["period"]),
            last_day=self._grid.last_day(numbers["period"]),
        )

    def _ratio(self, key: str, kpi: RatioKpi, split: str | None) -> ir.Table:
        numerator = self._measure(key, "numerator", kpi.numerator, split)
        denominator = self._measure(key, "denominator", kpi.denominator, split)
        parts = _stack(
            numerator.select("period", "segment", top=numerator["value"]),
            denominator.select("period", "segment", bottom=denominator["value"], rows=denominator["n"]),
        )
        combined = parts.group_by("period", "segment").aggregate(
            top=parts["top"].max(), bottom=parts["bottom"].max(), rows=parts["rows"].max()
        )
        top = _zero_if_absent(combined["top"], kpi.numerator)
        bottom = _zero_if_absent(combined["bottom"], kpi.denominator)
        return _frame(
            combined,
            value=kpi.scale * top / bottom.nullif(0.0),
            numerator=top,
            denominator=bottom,
            n=combined["rows"].fill_null(0),
        )

    def _cumulative(self, key: str, kpi: CumulativeKpi, split: str | None) -> ir.Table:
        periods = self._measure(key, "measure", kpi.measure, split)
        bounds = periods.aggregate(first=periods["period"].min(), last=periods["period"].max())
        spine = bounds.select(at=ibis.range(bounds["first"], bounds["last"] + 1).unnest().cast("int64"))
        reach = [periods["period"] <= spine["at"]]
        if kpi.window == "year_to_date":
            reach.append(periods["period"] >= spine["at"] - spine["at"] % self._grid.per_year)
        elif isinstance(kpi.window, int):
            reach.append(periods["period"] > spine["at"] - kpi.window)
        windows = spine.join(periods, reach)
        totals = windows.group_by(period=windows["at"], segment=windows["segment"]).aggregate(
            total=windows["value"].sum(), rows=windows["n"].sum()
        )
        return _frame(totals, value=totals["total"], n=totals["rows"])

    # -- KPIs from KPIs -----------------------------------------------------------------------------------

    def _derived(self, kpi: DerivedKpi) -> ir.Table:
        inputs = sorted(dependencies(kpi))
        parts = _stack(
            *(
                self.frame(reference).select("period", "segment", **{_input(reference): self.frame(reference)["value"]})
                for reference in inputs
            )
        )
        combined = parts.group_by("period", "segment").aggregate(
            **{_input(name): parts[_input(name)].max() for name in inputs}
        )

        def operand(name: str) -> ir.Value:
            return combined[_input(name)]

        expression = parse_formula(kpi.formula).expression
        parts_of_division: dict[str, ir.Value] = {}
        if isinstance(expression, Binary) and expression.operator == "/":
            parts_of_division = {
                "numerator": _arithmetic(expression.left, operand),
                "denominator": _arithmetic(expression.right, operand),
            }
        return _frame(combined, value=_arithmetic(expression, operand), **parts_of_division)

    def _growth(self, kpi: GrowthKpi) -> ir.Table:
        base = self.frame(kpi.of)
        shift = 1 if kpi.compare_to == "previous_period" else self._grid.per_year
        parts = _stack(
            base.select("period", "segment", now=base["value"], rows=base["n"], here=ibis.literal(1)),
            base.select("segment", period=base["period"] + shift, before=base["value"], here=ibis.literal(0)),
        )
        combined = parts.group_by("period", "segment").aggregate(
            now=parts["now"].max(), before=parts["before"].max(), rows=parts["rows"].max(), here=parts["here"].max()
        )
        combined = combined.filter(combined["here"] == 1)
        change = combined["now"] - combined["before"]
        return _frame(
            combined,
            value=100 * change / combined["before"].nullif(0.0),
            numerator=change,
            denominator=combined["before"],
            n=combined["rows"],
        )

    # -- Cohorts and surveys ------------------------------------------------------------------------------

    def _cohort(self, key: str, kpi: CohortKpi, split: str | None) -> ir.Table:
        population = kpi.population
        columns = {"entity": (population.entity, "population.entity"), "starts": (population.starts, "population.from")}
        if population.until is not None:
            columns["until"] = (population.until, "population.until")
        if population.amount is not None:
            columns["amount"] = (population.amount, "population.amount")
        rows = self.rows(key, "population", population.table, population.where, split, columns)
        self._require_dates(key, "population", rows)
        rows = self._still_active(rows.filter(rows["starts"].notnull()), self.needed_from([key]))
        if population.amount is not None:
            rows = rows.mutate(amount=rows["amount"].cast("float64"))
        # An entity with one span of a sound amount is retained exactly when that span is active on both days;
        # those (nearly all) are counted from the span's bounds. Entities with several spans, or an amount
        # the bounds cannot carry (missing, negative), are compared period by period, entity by entity.
        simple = rows["entity"].count().over(ibis.window(group_by=rows["entity"])) == 1
        if population.amount is not None:
            simple = simple & rows["amount"].notnull() & (rows["amount"] >= 0)
        rows = rows.mutate(simple=simple)
        bounds = self._bounds(rows)
        parts = _stack(
            self._cohort_of_single_spans(rows.filter(rows["simple"]), bounds, kpi),
            self._cohort_entity_by_entity(rows.filter(~rows["simple"]), self._spine(rows), kpi),
        )
        result = parts.group_by("period", "segment").aggregate(
            part=parts["part"].sum(), whole=parts["whole"].sum(), entities=parts["entities"].sum()
        )
        return _frame(
            result,
            value=100 * result["part"] / result["whole"].nullif(0.0),
            numerator=result["part"],
            denominator=result["whole"],
            n=result["entities"],
        )

    def _cohort_entity_by_entity(self, rows: ir.Table, spine: ir.Table, kpi: CohortKpi) -> ir.Table:
        """Each entity's spans against the first and last day of every period: ``part``, ``whole`` and
        ``entities`` per period and segment, for the periods with at least one entity at the start."""
        at_start = _active_on(rows, spine["first_day"])
        at_end = _active_on(rows, spine["last_day"])
        spans = spine.join(rows, [_both(at_start) | _both(at_end)])
        spans = spans.mutate(was=_both(at_start).ifelse(1, 0), still=_both(at_end).ifelse(1, 0))
        amount = spans["amount"] if kpi.population.amount is not None else ibis.literal(0.0)
        entities = spans.group_by("period", "segment", "entity").aggregate(
            was=spans["was"].max(),
            still=spans["still"].max(),
            amount_start=(spans["was"] * amount).sum(),
            amount_end=(spans["still"] * amount).sum(),
        )
        entities = entities.filter(entities["was"] == 1)
        if kpi.basis == "count":
            kept, whole = entities["still"].cast("float64"), entities["was"].cast("float64")
        else:
            start, end = entities["amount_start"], entities["amount_end"]
            kept, whole = ibis.ifelse(end < start, end, start), start
        part = kept if kpi.outcome == "retained" else whole - kept
        return entities.group_by("period", "segment").aggregate(
            part=part.sum(), whole=whole.sum(), entities=entities.count()
        )

    def _cohort_of_single_spans(self, rows: ir.Table, bounds: ir.Table, kpi: CohortKpi) -> ir.Table:
        """Entities of one span, counted from the span's bounds: what :meth:`_cohort_entity_by_entity` gives
        for them, without comparing every span with every period.

        A span is active on the first day of the periods from the first one starting on or after its first
        day to the one containing its last day, and on the last day of the periods from the one containing
        its first day to the last one ending on or before its last day. Kept (at both) are therefore the
        periods from the first bound of the one range to the last bound of the other. Each range adds 1 (and
        the amount) at its first period and takes it away after its last; running sums over the periods,
        split by segment, give the entities at the start and those kept in every period. Amounts are summed
        as exact decimals: in doubles, what is added and later taken away would leave rounding dust, and a
        month in which no amount was lost must show a loss of exactly 0.
        """
        grid = self._grid
        spans = rows.cross_join(bounds)
        highest = spans["highest"]
        first = grid.number(spans["starts"])
        start_from = first + ibis.ifelse(spans["starts"] == grid.first_day(first), 0, 1)
        if "until" in spans.columns:
            last = grid.number(spans["until"])
            end_until = last - ibis.ifelse(spans["until"] == grid.last_day(last), 0, 1)
            start_until = ibis.least(last.fill_null(highest), highest)
            kept_until = ibis.least(end_until.fill_null(highest), highest)
        else:
            start_until = kept_until = highest
        exact = dt.Decimal(38, 10)
        zero = ibis.literal(0, type=exact)
        amount = spans["amount"].cast(exact) if kpi.population.amount is not None else zero
        spans = spans.mutate(
            start_from=start_from, start_until=start_until, kept_until=kept_until, amount_of_span=amount
        )
        spans = spans.filter(spans["start_from"] <= spans["start_until"])
        is_kept = spans["start_from"] <= spans["kept_until"]
        kept_amount = is_kept.ifelse(spans["amount_of_span"], zero)
        none, one = ibis.literal(0, type="int64"), ibis.literal(1, type="int64")
        periods = bounds.select(period=ibis.range(bounds["lowest"], bounds["highest"] + 1).unnest().cast("int64"))
        changes = _stack(
            spans.select(
                "segment",
                period=spans["start_from"],
                was=one,
                kept=is_kept.ifelse(one, none),
                amount_start=spans["amount_of_span"],
                amount_kept=kept_amount,
            ),
            spans.select(
                "segment",
                period=spans["start_until"] + 1,
                was=-one,
                kept=none,
                amount_start=-spans["amount_of_span"],
                amount_kept=zero,
            ),
            spans.filter(is_kept).select(
                "segment",
                period=spans["kept_until"] + 1,
                was=none,
                kept=-one,
                amount_start=zero,
                amount_kept=-spans["amount_of_span"],
            ),
            # Every period of every segment, so that the running sums carry through periods without changes.
            spans.select("segment")
            .distinct()
            .cross_join(periods)
            .mutate(was=none, kept=none, amount_start=zero, amount_kept=zero),
        )
        measured = ("was", "kept", "amount_start", "amount_kept")
        per_period = changes.group_by("segment", "period").aggregate(**{name: changes[name].sum() for name in measured})
        running = ibis.window(
            group_by=per_period["segment"], order_by=per_period["period"], preceding=None, following=0
        )
        totals = per_period.select(
            "segment", "period", **{name: per_period[name].sum().over(running) for name in measured}
        )
        totals = totals.filter(totals["was"] > 0)
        if kpi.basis == "count":
            kept, whole = totals["kept"].cast("float64"), totals["was"].cast("float64")
            part = kept if kpi.outcome == "retained" else whole - kept
        else:
            kept, whole = totals["amount_kept"], totals["amount_start"]
            part = (kept if kpi.outcome == "retained" else whole - kept).cast("float64")
            whole = whole.cast("float64")
        return totals.select("period", "segment", part=part, whole=whole, entities=totals["was"])

    def _survey(self, key: str, kpi: SurveyKpi, split: str | None) -> ir.Table:
        responses = kpi.responses
        assert responses.time is not None  # checked when the definition was loaded
        columns = {"time": (responses.time, "responses.time"), "score": (kpi.score, "score")}
        if kpi.scale_max is not None:
            columns["scale_max"] = (kpi.scale_max, "scale_max")
        rows = self.rows(key, "responses", responses.table, responses.where, split, columns)
        self.require_type(key, "responses.time", rows, "time", "a date or time")
        self.require_type(key, "score", rows, "score", "a number")
        answered = rows["score"].notnull() & rows["time"].notnull()
        rows = rows.filter(answered).mutate(period=self._grid.number(rows["time"]))
        needed_from = self.needed_from([key])
        if needed_from is not None:
            rows = rows.filter(rows["period"] >= needed_from)
        score = rows["score"].cast("float64")
        if kpi.statistic == "nps":
            statistic = stats.nps_aggregates(score)
        elif kpi.statistic == "mean":
            statistic = stats.mean_aggregates(score)
        else:
            assert kpi.top_box is not None  # checked when the definition was loaded
            statistic = stats.top_box_aggregates(score, rows["scale_max"].cast("float64"), kpi.top_box)
        result = rows.group_by("period", "segment").aggregate(
            value=statistic.value,
            numerator=statistic.numerator,
            denominator=statistic.denominator,
            n=statistic.n,
            margin_of_error=statistic.margin_of_error,
        )
        return _frame(
            result,
            **{name: result[name] for name in ("value", "numerator", "denominator", "n", "margin_of_error")},
            too_few_responses=result["n"] < kpi.min_responses,
        )


def _input(key: str) -> str:
    """The column holding an input KPI in a derived KPI's working; prefixed, so a KPI may be called period."""
    return f"input_{key}"


def _flat_name(path: str) -> str:
    """The column a path becomes once referred tables are joined: ``customer.region`` is ``__customer__region``."""
    relation, _, column = path.rpartition(".")
    return f"__{relation}__{column}" if relation else column


def _active_on(rows: ir.Table, day: ir.DateValue) -> list[ir.BooleanValue]:
    """Conditions for a row to be active on ``day``: started, and not ended before (``until`` is its last day)."""
    conditions = [rows["starts"] <= day]
    if "until" in rows.columns:
        conditions.append(rows["until"].isnull() | (rows["until"] >= day))
    return conditions


def _both(conditions: list[ir.BooleanValue]) -> ir.BooleanValue:
    return functools.reduce(operator.and_, conditions)


def _arithmetic(expression: Expression, operand: Callable[[str], ir.Value]) -> ir.FloatingValue:
    """A portable formula (numbers, names, + - * /) in doubles; a division by zero gives NULL."""
    match expression:
        case Number(value):
            return ibis.literal(value, type="float64")
        case Reference(key):
            return operand(key).cast("float64")
        case Unary(_, inner):
            return -_arithmetic(inner, operand)
        case Binary(symbol, left, right):
            first, second = _arithmetic(left, operand), _arithmetic(right, operand)
            if symbol == "/":
                return first / second.nullif(0.0)
            return _ARITHMETIC[symbol](first, second)
    raise AssertionError(f"not a portable formula: {expression}")  # the definitions admit no other


_ARITHMETIC: Mapping[str, Callable[[ir.FloatingValue, ir.FloatingValue], ir.FloatingValue]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
}


def _aggregate(rows: ir.Table, measure: Measure) -> ir.Table:
    """Group rows by ``period`` and ``segment`` into the measure's ``value`` and the ``n`` rows behind it."""
    if measure.at_least is not None:
        value = rows["value"]
        per_value = rows.group_by("period", "segment", "value").aggregate(rows=value.count())
        frequent = per_value.filter(per_value["rows"] >= measure.at_least)
        return frequent.group_by("period", "segment").aggregate(
            value=frequent.count().cast("float64"), n=frequent["rows"].sum()
        )
    aggregated, behind = _aggregates(rows, measure.aggregate, None if measure.value is None else "value")
    return rows.group_by("period", "segment").aggregate(value=aggregated, n=behind)


def _aggregates(rows: ir.Table, aggregate: str, column: str | None) -> tuple[ir.FloatingValue, ir.IntegerValue]:
    """A measure's aggregate of ``column`` (of the rows, when None) as a double, and the rows behind it."""
    if column is None:
        return rows.count().cast("float64"), rows.count()
    value = rows[column]
    if aggregate in _QUANTILES:
        aggregated = value.quantile(_QUANTILES[aggregate])
    else:
        aggregated = getattr(value, _AGGREGATE_METHODS[aggregate])()
    return aggregated.cast("float64"), value.count()


@dataclass(frozen=True)
class _Member:
    """A flow measure of one KPI, where it sits in the definition, and the split it is computed with.

    ``split_path`` is where the split's values are: a column of the measure's table (a ticket's channel) or
    of a table it refers to (``customer.segment``).
    """

    key: str
    field: str
    measure: Measure
    split: str | None
    split_path: str | None

    @property
    def referred(self) -> set[str]:
        """The columns of referred tables the member reads (its conditions and its split), as paths."""
        paths = {condition.column for condition in self.measure.where if "." in condition.column}
        return paths | ({self.split_path} if self.split_path is not None and "." in self.split_path else set())

    @property
    def own_split(self) -> str | None:
        """The split, when it is a column of the measure's own table."""
        return self.split if self.split_path is not None and "." not in self.split_path else None


class _FlowPlan:
    """The flows of one computation grouped by the rows they aggregate, so that each group is read once.

    Revenue, active customers and gross margin are all orders in the period of their order date: the same
    rows, filtered and split alike, aggregated differently. Computed one by one, each reads the orders
    table again, which on ten million orders is most of a library's time; grouped, the rows are read and
    grouped by period once, with one ``(value, n)`` pair of columns per distinct aggregate. The plan is made
    before any expression is built, from the KPIs asked for and those they are computed from.

    When a group counts distinct values of a key such as ``customer_id`` (active customers, repeat buyers),
    it is aggregated in two steps, as an analyst would write it: first per period and customer, then per
    period (and segment); the customer's columns (segment, loyalty) are joined to the first step's rows, far
    fewer than the table's, and filters and splits by them are applied in the second step
    (:meth:`_by_entity`). Sums, counts, minima and maxima of the same rows come out of the same first step.
    A flow whose period is a column of the entity (orders in the period of their customer's signup) is
    aggregated per entity alone before the entity's columns are joined (:meth:`_through_entity`).
    """

    def __init__(self, compiler: _Compiler, definitions: Definitions, keys: Collection[str]) -> None:
        self._compiler = compiler
        self._members: dict[str, list[_Member]] = {}
        self._grouped: dict[tuple[str, str | None], ir.Table] = {}
        self._group_of: dict[tuple[str, str], tuple[str, _Member]] = {}
        members: list[_Member] = []
        visited: set[str] = set()

        def visit(key: str) -> None:
            if key in visited or key not in definitions:
                return
            visited.add(key)
            kpi = definitions[key]
            for reference in sorted(dependencies(kpi)):
                visit(reference)
            fields = {
                SimpleKpi: ("measure",),
                CumulativeKpi: ("measure",),
                RatioKpi: ("numerator", "denominator"),
            }.get(type(kpi), ())
            for field in fields:
                measure = getattr(kpi, field)
                if measure.time is not None:
                    members.append(self._member(key, field, measure))

        for key in keys:
            visit(key)
        entities: dict[str, str] = {}
        for member in members:
            entity = self._entity_key(member)
            if entity is not None:
                entities.setdefault(self._base(member), entity)
        for member in members:
            entity = entities.get(self._base(member))
            through = self._time_through(member)
            if through is not None:
                signature = json.dumps(["through", self._base(member), through])
            elif entity is not None and self._joins_entity(member, entity):
                signature = json.dumps(["entity", self._base(member), entity])
            elif member.measure.at_least is None:
                needed_from = compiler.needed_from([member.key])
                signature = json.dumps(["rows", _signature(member.measure, member.split), needed_from])
            else:
                continue  # values counted per value first, on their own (see _aggregate of the compiler)
            self._members.setdefault(signature, []).append(member)
            self._group_of[member.key, member.field] = (signature, member)

    def handles(self, key: str, field: str) -> bool:
        """Whether the measure at ``field`` of KPI ``key`` is computed by the plan."""
        return (key, field) in self._group_of

    def measure(self, key: str, field: str) -> ir.Table:
        """The measure's ``period``, ``segment``, ``value`` and ``n``, from its group's aggregation."""
        signature, member = self._group_of[key, field]
        members = self._members[signature]
        kind, _, detail = json.loads(signature)
        is_entity = kind in {"entity", "through"}
        variant = member.split_path if is_entity else None
        if (signature, variant) not in self._grouped:
            if kind == "entity":
                grouped = self._by_entity(members, detail, variant)
            elif kind == "through":
                grouped = self._through_entity(members, detail, variant)
            else:
                grouped = self._aggregate(members, member.split)
            self._grouped[signature, variant] = grouped
        grouped = self._grouped[signature, variant]
        if not is_entity:
            slot = _slot(member.measure, members)
            return grouped.select("period", "segment", value=grouped[f"{slot}_value"], n=grouped[f"{slot}_n"])
        name = f"k{members.index(member)}"
        grouped = grouped.filter(grouped[f"{name}_rows"] > 0)
        return grouped.select("period", "segment", value=grouped[f"{name}_value"], n=grouped[f"{name}_n"])

    def _base(self, member: _Member) -> str:
        """What a two-step group shares: a flow's table, date, conditions on the table's own columns, split by
        one of its own columns, and the first period it is needed from. Conditions and splits through the
        entity are applied in the second step; a different first period is a group of its own, so that the
        latest month of active customers is not counted over the year a growth rate beside it needs."""
        measure = member.measure
        own = [
            condition.model_dump(mode="json", by_alias=True)
            for condition in measure.where
            if "." not in condition.column
        ]
        needed_from = self._compiler.needed_from([member.key])
        return json.dumps([measure.table, measure.time, own, member.own_split, needed_from], sort_keys=True)

    def _member(self, key: str, field: str, measure: Measure) -> _Member:
        split = self._compiler.split_of(key)
        path = None
        if split is not None:
            segment_field = "by" if getattr(self._compiler.definitions[key], "by", None) else "segments"
            path = self._compiler.dimension_path(key, segment_field, measure.table, split)
        return _Member(key, field, measure, split, path)

    def _aggregate(self, members: list[_Member], split: str | None) -> ir.Table:
        first = members[0]
        values = {
            _slot(member.measure, members): (member.key, member.measure.value, f"{member.field}.value")
            for member in members
            if member.measure.value is not None
        }
        needed_from = self._compiler.needed_from(member.key for member in members)
        rows = self._compiler.flow_rows(first.key, first.field, first.measure, split, values, needed_from=needed_from)
        aggregates: dict[str, ir.Value] = {}
        for member in members:
            slot = _slot(member.measure, members)
            column = None if member.measure.value is None else slot
            aggregates[f"{slot}_value"], aggregates[f"{slot}_n"] = _aggregates(rows, member.measure.aggregate, column)
        return rows.group_by("period", "segment").aggregate(**aggregates)

    # -- Two steps, by entity --------------------------------------------------------------------------------

    def _entity_key(self, member: _Member) -> str | None:
        """The key column whose distinct values the member counts, if its group can be aggregated by it."""
        value = member.measure.value
        if member.measure.aggregate != "count_distinct" or value is None or not value.endswith("_id"):
            return None
        table = self._compiler.tables[member.measure.table]
        if f"{value.removesuffix('_id')}s" not in self._compiler.tables or value not in table.columns:
            return None
        return value if self._joins_entity(member, value) else None

    def _joins_entity(self, member: _Member, entity: str) -> bool:
        """Whether a member can be computed from the per-entity step: an aggregate that survives being done
        in two steps, of the table's own columns, with whatever it refers to found through ``entity``."""
        measure = member.measure
        if measure.aggregate == "count_distinct":
            if measure.value != entity:
                return False
        elif measure.aggregate not in _TWO_STEP_AGGREGATES:
            return False
        relation = entity.removesuffix("_id")
        return all(path.rpartition(".")[0] == relation for path in member.referred)

    def _time_through(self, member: _Member) -> str | None:
        """The key column through which a flow gets its time from the entity it refers to (an order placed in
        the period of its customer's signup), when the member's aggregate survives being done per entity."""
        measure = member.measure
        relation, _, column = (measure.time or "").rpartition(".")
        entity = f"{relation}_id"
        table, referred = self._compiler.tables.get(measure.table), self._compiler.tables.get(f"{relation}s")
        # Anything missing is left to the row-by-row path, whose messages name the definition's time field.
        if not relation or table is None or referred is None or entity not in table.columns:
            return None
        if column not in referred.columns:
            return None
        if measure.at_least is not None or not self._joins_entity(member, entity):
            return None
        return entity

    def _by_entity(self, members: list[_Member], entity: str, variant: str | None) -> ir.Table:
        """Aggregate per period and entity first, then per period and segment (see the class); ``variant``
        is the split path of the members this second step is for."""
        compiler, first = self._compiler, members[0]
        valued, partials = _partials(members)
        rows = compiler.flow_rows(
            first.key,
            first.field,
            _own_conditions(first.measure),
            first.own_split,
            valued,
            entity=entity,
            needed_from=compiler.needed_from(member.key for member in members),
        )
        steps = _first_step(rows, partials, "period", "segment", "entity")
        steps = self._with_entity_columns(steps, members, entity, set())
        return self._second_steps(steps, members, variant)

    def _through_entity(self, members: list[_Member], entity: str, variant: str | None) -> ir.Table:
        """Like :meth:`_by_entity`, for flows whose time is a column of the entity: every row of an entity
        falls in the same period, so the first step is per entity alone, and the entity's columns, time
        included, are joined to one row per entity (a million customers) rather than to every row (ten
        million orders)."""
        compiler, first = self._compiler, members[0]
        valued, partials = _partials(members)
        time_path = first.measure.time
        assert time_path is not None  # a flow's time (see _time_through)
        field = f"{first.field}.time"
        rows = compiler.rows(
            first.key,
            first.field,
            first.measure.table,
            _own_conditions(first.measure).where,
            first.own_split,
            {"entity": (entity, field)},
            valued,
        )
        steps = _first_step(rows, partials, "segment", "entity")
        steps = self._with_entity_columns(steps, members, entity, {time_path})
        steps = steps.mutate(time=steps[_flat_name(time_path)])
        compiler.require_type(first.key, field, steps, "time", "a date or time")
        steps = steps.filter(steps["time"].notnull())
        steps = steps.mutate(period=compiler.grid.number(steps["time"]))
        needed_from = compiler.needed_from(member.key for member in members)
        if needed_from is not None:
            steps = steps.filter(steps["period"] >= needed_from)
        return self._second_steps(steps, members, variant)

    def _with_entity_columns(self, steps: ir.Table, members: list[_Member], entity: str, also: set[str]) -> ir.Table:
        """The per-entity steps with the entity's columns that the members refer to (and ``also``) joined."""
        compiler, first = self._compiler, members[0]
        referred = sorted(set().union(*(member.referred for member in members)) | also)
        if not referred:
            return steps
        target_name = f"{entity.removesuffix('_id')}s"
        target = compiler.tables[target_name]
        for path in referred:
            compiler.require_column(first.key, "where", target_name, target, path.rpartition(".")[2])
        side = target.select(
            __entity__=target["id"], **{_flat_name(path): target[path.rpartition(".")[2]] for path in referred}
        )
        return steps.left_join(side, steps["entity"] == side["__entity__"])

    def _second_steps(self, steps: ir.Table, members: list[_Member], variant: str | None) -> ir.Table:
        """The members split by ``variant`` aggregated from the per-entity steps per period and segment."""
        if variant is not None and "." in variant:
            steps = steps.mutate(segment=steps[_flat_name(variant)].cast("string"))
        aggregates: dict[str, ir.Value] = {}
        for index, member in enumerate(members):
            if member.split_path == variant:
                aggregates |= self._second_step(steps, f"k{index}", member, _slot(member.measure, members))
        return steps.group_by("period", "segment").aggregate(**aggregates)

    def _second_step(self, steps: ir.Table, name: str, member: _Member, slot: str) -> dict[str, ir.Value]:
        """A member's value, ``n`` and rows from the per-entity step, within its own conditions."""
        measure = member.measure
        conditions = [
            self._compiler.condition(member.key, f"{member.field}.where[{index}]", steps, condition)
            for index, condition in enumerate(measure.where)
            if "." in condition.column
        ]
        keep = functools.reduce(operator.and_, conditions) if conditions else None
        rows = steps["rows"]
        found: dict[str, ir.Value] = {f"{name}_rows": rows.sum(where=keep)}
        if measure.aggregate == "count_distinct":
            known = steps["entity"].notnull() if keep is None else keep & steps["entity"].notnull()
            if measure.at_least is not None:
                known = known & (rows >= measure.at_least)
            found[f"{name}_value"] = steps["entity"].count(where=known).cast("float64")
            found[f"{name}_n"] = rows.sum(where=known).fill_null(0)
        elif measure.value is None:
            found[f"{name}_value"] = rows.sum(where=keep).fill_null(0).cast("float64")
            found[f"{name}_n"] = rows.sum(where=keep).fill_null(0)
        else:
            count = steps[f"{slot}_count"].sum(where=keep)
            if measure.aggregate in {"min", "max"}:
                value = getattr(steps[f"{slot}_{measure.aggregate}"], measure.aggregate)(where=keep)
            elif measure.aggregate == "count":
                value = count
            else:
                total = steps[f"{slot}_sum"].sum(where=keep)
                value = total if measure.aggregate == "sum" else total / count.cast("float64").nullif(0.0)
            found[f"{name}_value"] = value.cast("float64")
            found[f"{name}_n"] = count.fill_null(0)
        return found


def _partials(
    members: list[_Member],
) -> tuple[dict[str, tuple[str, str, str]], dict[str, tuple[str, str]]]:
    """What a per-entity first step computes: the values it reads (see :meth:`_Compiler.rows`) and, by the name of
    its column, each partial aggregate as (slot, method) — a sum (or minimum, maximum) and a count per value."""
    valued: dict[str, tuple[str, str, str]] = {}
    partials: dict[str, tuple[str, str]] = {}
    for member in members:
        measure = member.measure
        if measure.value is None or measure.aggregate == "count_distinct":
            continue
        slot = _slot(measure, members)
        valued[slot] = (member.key, measure.value, f"{member.field}.value")
        kind = measure.aggregate if measure.aggregate in {"min", "max"} else "sum"
        partials[f"{slot}_{kind}"], partials[f"{slot}_count"] = (slot, kind), (slot, "count")
    return valued, partials


def _first_step(rows: ir.Table, partials: Mapping[str, tuple[str, str]], *keys: str) -> ir.Table:
    """The per-entity first step: the rows and the partial aggregates (see :func:`_partials`) per ``keys``."""
    return rows.group_by(*keys).aggregate(
        rows=rows.count(), **{name: getattr(rows[slot], kind)() for name, (slot, kind) in partials.items()}
    )


def _own_conditions(measure: Measure) -> Measure:
    """The measure with only its conditions on its table's own columns, those of the first step."""
    return measure.model_copy(
        update={"where": [condition for condition in measure.where if "." not in condition.column]}
    )


_TWO_STEP_AGGREGATES = frozenset({"sum", "count", "avg", "min", "max"})
"""Aggregates that give the same number computed per entity first and then summed, minimised, maximised."""


def _signature(measure: Measure, split: str | None) -> str:
    """What decides a flow's rows: its table, date, conditions and split; not what it aggregates."""
    conditions = [condition.model_dump(mode="json", by_alias=True) for condition in measure.where]
    return json.dumps([measure.table, measure.time, conditions, split], sort_keys=True)


def _slot(measure: Measure, members: list[_Member]) -> str:
    """The columns of a group's aggregation that hold ``measure``: one per distinct aggregate and value."""
    distinct = list(dict.fromkeys((member.measure.aggregate, member.measure.value) for member in members))
    return f"m{distinct.index((measure.aggregate, measure.value))}"


_AGGREGATE_METHODS: Mapping[str, str] = {
    "sum": "sum",
    "count": "count",
    "count_distinct": "nunique",
    "avg": "mean",
    "min": "min",
    "max": "max",
}
"""The Ibis column method of each aggregate other than the percentiles."""


def _zero_if_absent(part: ir.FloatingValue, measure: Measure) -> ir.FloatingValue:
    """An additive part without rows in a period that has data is 0; any other part stays unknown."""
    return part.fill_null(0.0) if measure.aggregate in ADDITIVE_AGGREGATES else part


def _stack(*parts: ir.Table) -> ir.Table:
    """Stack parts with UNION ALL, each filled out with typed NULLs to the columns of all of them."""
    types: dict[str, dt.DataType] = {}
    for part in parts:
        for name, dtype in part.schema().items():
            types.setdefault(name, dtype)
    filled = [
        part.select(**{name: part[name] if name in part.columns else ibis.null(dtype) for name, dtype in types.items()})
        for part in parts
    ]
    return filled[0].union(*filled[1:]) if len(filled) > 1 else filled[0]


def _frame(table: ir.Table, **columns: ir.Value) -> ir.Table:
    """A KPI frame from ``period``, ``segment`` and the measured columns given; the others are typed NULLs."""
    return table.select(
        period=table["period"].cast("int64"),
        segment=table["segment"].cast("string"),
        **{
            name: (columns[name] if name in columns else ibis.null(dtype)).cast(dtype)
            for name, dtype in _MEASURED.items()
        },
    )
