"""Compiling definitions to Ibis: periods, aggregates, filters, windows, stocks, segments, errors, and the same
numbers on DuckDB, PostgreSQL and Spark.

Expected values are worked out from the rows in each test (or with numpy, for percentiles), never with the
compiled expression.
"""

from __future__ import annotations

import datetime
import doctest
import logging
import os
import uuid
from collections.abc import Sequence
from typing import Any

import ibis
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from fourfold.metrics import compile as compile_module
from fourfold.metrics.compile import compile_kpis, compute, forget_compiled_queries, kpis_splittable_by
from fourfold.metrics.definitions import DefinitionError, Definitions, load_definitions
from fourfold.metrics.generate import generate_dataset
from fourfold.metrics.library import load_library

D = datetime.date
T = datetime.datetime
POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/postgres"


def kpi(key, kind, **fields):
    """A KPI definition with placeholder documentation, as a mapping for YAML."""
    return {
        "key": key,
        "name": key.title(),
        "description": "A test KPI.",
        "perspective": "financial",
        "unit": "number",
        "direction": "higher",
        "aggregation": "average" if kind in {"simple", "cumulative", "derived", "growth"} else "ratio",
        "type": kind,
        **fields,
    }


def definitions(*kpis) -> Definitions:
    return load_definitions(yaml.safe_dump({"kpis": list(kpis)}, sort_keys=False))


def sum_of(table, value, time, **more):
    return {"table": table, "time": time, "aggregate": "sum", "value": value, **more}


def count_of(table, time, **more):
    return {"table": table, "time": time, "aggregate": "count", **more}


def on_duckdb(**tables: dict[str, Sequence[object]]):
    connection = ibis.duckdb.connect()
    return {name: connection.create_table(name, pa.table(columns)) for name, columns in tables.items()}


def values(result, key=None):
    rows = result.to_pylist()
    return {(row["period_start"], row["segment"]): row["value"] for row in rows if key is None or row["kpi"] == key}


SALES = {
    "id": ["s1", "s2", "s3", "s4", "s5"],
    "day": [D(2023, 12, 31), D(2024, 1, 1), D(2024, 3, 31), D(2024, 4, 1), D(2024, 4, 2)],
    "amount": [1.0, 2.0, 4.0, 10.0, 20.0],
}


@pytest.mark.parametrize(
    ("grain", "expected"),
    [
        ("month", {D(2023, 12, 1): 1, D(2024, 1, 1): 2, D(2024, 3, 1): 4, D(2024, 4, 1): 30}),
        ("quarter", {D(2023, 10, 1): 1, D(2024, 1, 1): 6, D(2024, 4, 1): 30}),
        ("year", {D(2023, 1, 1): 1, D(2024, 1, 1): 36}),
    ],
)
def test_rows_fall_in_the_calendar_period_of_their_date(grain, expected):
    result = compute(
        definitions(kpi("total", "simple", measure=sum_of("sales", "amount", "day"))), on_duckdb(sales=SALES), grain
    )
    assert values(result) == {(period, None): value for period, value in expected.items()}


@pytest.mark.parametrize(
    ("grain", "expected"),
    [
        # A fiscal year from April: Q4 of FY 2023 is January to March 2024, Q1 of FY 2024 starts in April.
        ("quarter", {D(2023, 10, 1): 1, D(2024, 1, 1): 6, D(2024, 4, 1): 30}),
        ("year", {D(2023, 4, 1): 7, D(2024, 4, 1): 30}),
        ("month", {D(2023, 12, 1): 1, D(2024, 1, 1): 2, D(2024, 3, 1): 4, D(2024, 4, 1): 30}),
    ],
)
def test_quarters_and_years_follow_the_fiscal_year(grain, expected):
    result = compute(
        definitions(kpi("total", "simple", measure=sum_of("sales", "amount", "day"))),
        on_duckdb(sales=SALES),
        grain,
        fiscal_year_start_month=4,
    )
    assert values(result) == {(period, None): value for period, value in expected.items()}


def test_a_fiscal_year_to_date_starts_with_the_fiscal_year():
    days = [D(2024, 2, 5), D(2024, 3, 5), D(2024, 4, 5), D(2024, 5, 5)]
    tables = on_duckdb(sales={"day": days, "amount": [1.0, 2.0, 4.0, 8.0]})
    result = compute(
        definitions(kpi("ytd", "cumulative", measure=sum_of("sales", "amount", "day"), window="year_to_date")),
        tables,
        fiscal_year_start_month=4,
    )
    # February and March close the fiscal year that began in April 2023; April 2024 starts a new one.
    assert values(result) == {
        (D(2024, 2, 1), None): 1,
        (D(2024, 3, 1), None): 3,
        (D(2024, 4, 1), None): 4,
        (D(2024, 5, 1), None): 12,
    }


def test_timestamps_fall_in_the_period_of_their_date():
    tables = on_duckdb(events={"at": [T(2024, 1, 31, 23, 59, 59), T(2024, 2, 1, 0, 0, 0)]})
    result = compute(definitions(kpi("events", "simple", measure=count_of("events", "at"))), tables)
    assert values(result) == {(D(2024, 1, 1), None): 1, (D(2024, 2, 1), None): 1}


def test_rows_without_their_date_belong_to_no_period():
    tables = on_duckdb(sales={"day": [D(2024, 1, 5), None], "amount": [1.0, 2.0]})
    result = compute(definitions(kpi("total", "simple", measure=sum_of("sales", "amount", "day"))), tables)
    assert values(result) == {(D(2024, 1, 1), None): 1}


@pytest.mark.parametrize(
    ("aggregate", "expected"),
    [
        ("sum", 1 + 2 + 4 + 10 + 2),
        ("count", 5),
        ("count_distinct", 4),
        ("avg", (1 + 2 + 4 + 10 + 2) / 5),
        ("min", 1),
        ("max", 10),
        ("median", float(np.percentile([1, 2, 2, 4, 10], 50))),
        ("p90", float(np.percentile([1, 2, 2, 4, 10], 90))),
    ],
)
def test_aggregates(aggregate, expected):
    tables = on_duckdb(
        sales={"day": [D(2024, 5, day) for day in range(1, 7)], "amount": [1.0, 2.0, 4.0, 10.0, 2.0, None]}
    )
    measure = {"table": "sales", "time": "day", "aggregate": aggregate, "value": "amount"}
    result = compute(definitions(kpi("measured", "simple", measure=measure)), tables).to_pylist()
    assert result[0]["value"] == pytest.approx(expected)
    # n counts the values behind the number: the empty amount is not one of them.
    assert result[0]["n"] == 5


def test_count_without_a_value_counts_rows_and_at_least_counts_frequent_values():
    tables = on_duckdb(orders={"day": [D(2024, 5, 1)] * 6, "customer": ["a", "a", "b", "c", "c", "c"]})
    frequent = {"table": "orders", "time": "day", "aggregate": "count_distinct", "value": "customer", "at_least": 2}
    result = compute(
        definitions(
            kpi("rows", "simple", measure=count_of("orders", "day")), kpi("repeat", "simple", measure=frequent)
        ),
        tables,
    )
    assert values(result, "rows") == {(D(2024, 5, 1), None): 6}
    # a and c ordered at least twice, in 2 + 3 rows.
    assert values(result, "repeat") == {(D(2024, 5, 1), None): 2}
    assert [row["n"] for row in result.to_pylist() if row["kpi"] == "repeat"] == [5]


def test_values_count_dates_in_days_timestamps_in_whole_seconds_and_true_as_one():
    tables = on_duckdb(
        stays={
            "arrived": [D(2024, 2, 27), D(2024, 2, 28)],
            "left": [D(2024, 3, 2), D(2024, 3, 1)],
            "called": [T(2024, 2, 27, 8, 0, 0), T(2024, 2, 28, 9, 0, 0)],
            "answered": [T(2024, 2, 27, 8, 30, 0, 900000), T(2024, 2, 28, 9, 0, 30)],
            "happy": [True, False],
        }
    )
    result = compute(
        definitions(
            kpi("nights", "simple", measure=sum_of("stays", "left - arrived", "arrived")),
            kpi("wait", "simple", measure=sum_of("stays", "(answered - called) / 60", "arrived")),
            kpi("happy", "simple", measure=sum_of("stays", "happy", "arrived")),
        ),
        tables,
    )
    february = D(2024, 2, 1)
    # 2024 is a leap year: 27 February to 2 March is 4 nights, 28 February to 1 March 2.
    assert values(result, "nights") == {(february, None): 6}
    # 30 minutes (the 0.9 seconds dropped) and half a minute.
    assert values(result, "wait") == {(february, None): 30.5}
    assert values(result, "happy") == {(february, None): 1}


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ({"column": "kind", "equals": "a"}, 1 + 4),
        ({"column": "kind", "not_equals": "a"}, 2),
        ({"column": "kind", "one_of": ["a", "b"]}, 1 + 2 + 4),
        ({"column": "kind", "present": False}, 8),
        ({"column": "size", "at_least": 2}, 2 + 4),
        ({"column": "size", "at_most": 2}, 1 + 2),
        ({"column": "rush", "equals": True}, 1 + 8),
    ],
)
def test_conditions(condition, expected):
    tables = on_duckdb(
        items={
            "day": [D(2024, 1, 1)] * 4,
            "amount": [1.0, 2.0, 4.0, 8.0],
            "kind": ["a", "b", "a", None],
            "size": [1, 2, 3, None],
            "rush": [True, False, None, True],
        }
    )
    result = compute(
        definitions(kpi("total", "simple", measure=sum_of("items", "amount", "day", where=[condition]))), tables
    )
    assert values(result) == {(D(2024, 1, 1), None): expected}


def test_a_division_by_zero_has_no_value():
    tables = on_duckdb(
        money={"day": [D(2024, 1, 1), D(2024, 2, 1)], "spent": [10.0, 10.0], "won": [0.0, 5.0]},
    )
    result = compute(
        definitions(
            kpi(
                "per_win", "ratio", numerator=sum_of("money", "spent", "day"), denominator=sum_of("money", "won", "day")
            ),
            kpi("spent", "simple", measure=sum_of("money", "spent", "day")),
            kpi("won", "simple", measure=sum_of("money", "won", "day")),
            kpi("derived", "derived", formula="spent / won"),
            kpi("per_row", "simple", measure=sum_of("money", "spent / won", "day")),
        ),
        tables,
    ).to_pylist()
    january = [row for row in result if row["period_start"] == D(2024, 1, 1) and row["kpi"] != "won"]
    assert {row["kpi"]: row["value"] for row in january} == {
        "per_win": None,
        "spent": 10,
        "derived": None,
        # The only row's value has no value, and a sum of no values is unknown.
        "per_row": None,
    }
    assert [(row["numerator"], row["denominator"]) for row in january if row["kpi"] == "per_win"] == [(10, 0)]
    assert {row["kpi"]: row["value"] for row in result if row["period_start"] == D(2024, 2, 1)} == {
        "per_win": 2,
        "spent": 10,
        "won": 5,
        "derived": 2,
        "per_row": 2,
    }


def test_a_missing_additive_part_is_zero_but_a_missing_average_stays_unknown():
    tables = on_duckdb(
        leads={"day": [D(2024, 1, 1), D(2024, 2, 1)], "won": [None, D(2024, 2, 3)], "size": [None, 3.0]},
    )
    won = count_of("leads", "day", where=[{"column": "won", "present": True}])
    average = {"table": "leads", "time": "day", "aggregate": "avg", "value": "size"}
    result = compute(
        definitions(
            kpi("rate", "ratio", numerator=won, denominator=count_of("leads", "day"), scale=100),
            kpi("size_per_lead", "ratio", numerator=average, denominator=count_of("leads", "day")),
        ),
        tables,
    )
    assert values(result, "rate") == {(D(2024, 1, 1), None): 0, (D(2024, 2, 1), None): 100}
    assert values(result, "size_per_lead") == {(D(2024, 1, 1), None): None, (D(2024, 2, 1), None): 3}


def test_cumulative_windows():
    days = [D(2023, 11, 5), D(2023, 12, 5), D(2024, 1, 5), D(2024, 3, 5)]
    tables = on_duckdb(sales={"day": days, "amount": [1.0, 2.0, 4.0, 8.0]})
    measure = sum_of("sales", "amount", "day")
    result = compute(
        definitions(
            kpi("two_months", "cumulative", measure=measure, window=2),
            kpi("running", "cumulative", measure=measure, window="running"),
            kpi("ytd", "cumulative", measure=measure, window="year_to_date"),
        ),
        tables,
    )
    november, december, january, february, march = (
        D(2023, 11, 1),
        D(2023, 12, 1),
        D(2024, 1, 1),
        D(2024, 2, 1),
        D(2024, 3, 1),
    )
    # February has no sales of its own but lies inside the windows.
    assert values(result, "two_months") == {
        (november, None): 1,
        (december, None): 3,
        (january, None): 6,
        (february, None): 4,
        (march, None): 8,
    }
    assert values(result, "running") == {
        (november, None): 1,
        (december, None): 3,
        (january, None): 7,
        (february, None): 7,
        (march, None): 15,
    }
    assert values(result, "ytd") == {
        (november, None): 1,
        (december, None): 3,
        (january, None): 4,
        (february, None): 4,
        (march, None): 12,
    }


def test_growth_against_the_same_quarter_a_year_before():
    days = [D(2023, 2, 1), D(2023, 5, 1), D(2024, 2, 1), D(2024, 8, 1)]
    tables = on_duckdb(sales={"day": days, "amount": [100.0, 50.0, 150.0, 70.0]})
    result = compute(
        definitions(
            kpi("sales", "simple", measure=sum_of("sales", "amount", "day")),
            kpi("yoy", "growth", of="sales", compare_to="same_period_last_year"),
            kpi("qoq", "growth", of="sales", compare_to="previous_period"),
        ),
        tables,
        "quarter",
        start=D(2024, 1, 1),
    )
    q1, q3 = D(2024, 1, 1), D(2024, 7, 1)
    # Q1 2024 against Q1 2023 (150 against 100); Q3 2023 had no sales.
    assert values(result, "yoy") == {(q1, None): 50, (q3, None): None}
    # Q1 2024 against Q4 2023, which had none; Q3 2024 against Q2 2024, which had none either.
    assert values(result, "qoq") == {(q1, None): None, (q3, None): None}


def test_stocks_count_rows_active_on_the_first_or_last_day_until_the_end_asked_for():
    tables = on_duckdb(
        staff={
            "hired": [D(2024, 1, 1), D(2024, 1, 10), D(2024, 2, 29)],
            "left": [D(2024, 1, 31), None, None],
            "fte": [1.0, 0.5, 0.8],
        }
    )
    active = {"from": "hired", "until": "left"}
    result = compute(
        definitions(
            kpi(
                "at_start",
                "simple",
                measure={"table": "staff", "active": {**active, "at": "period_start"}, "aggregate": "count"},
            ),
            kpi(
                "fte",
                "simple",
                measure={
                    "table": "staff",
                    "active": {**active, "at": "period_end"},
                    "aggregate": "sum",
                    "value": "fte",
                },
            ),
        ),
        tables,
        end=D(2024, 4, 15),
    )
    january, february, march, april = D(2024, 1, 1), D(2024, 2, 1), D(2024, 3, 1), D(2024, 4, 1)
    # On 1 January only the first; on 1 February the second (the first's last day was 31 January); the third
    # from 1 March.
    assert values(result, "at_start") == {(january, None): 1, (february, None): 1, (march, None): 2, (april, None): 2}
    # On the last day: 31 January counts the first; 29 February the second and third.
    assert values(result, "fte") == {
        (january, None): 1.5,
        (february, None): pytest.approx(1.3),
        (march, None): pytest.approx(1.3),
        (april, None): pytest.approx(1.3),
    }


def cohort_by_hand(spans, periods, basis, outcome):
    """Retention or churn worked out the slow way: every entity, every period, both days compared.

    ``spans`` are (entity, segment, first day, last day or None, amount); ``periods`` (first day, last day).
    """
    expected = {}
    for first, last in periods:
        entities: dict[tuple[str, str], dict[str, Any]] = {}
        for entity, segment, starts, until, amount in spans:
            at_start = starts <= first and (until is None or until >= first)
            at_end = starts <= last and (until is None or until >= last)
            entry = entities.setdefault((segment, entity), {"was": False, "still": False, "start": 0.0, "end": 0.0})
            entry["was"] |= at_start
            entry["still"] |= at_end
            entry["start"] += amount if at_start else 0.0
            entry["end"] += amount if at_end else 0.0
        totals: dict[str, tuple[float, float]] = {}
        for (segment, _), entry in entities.items():
            if not entry["was"]:
                continue
            if basis == "count":
                kept, whole = float(entry["still"]), 1.0
            else:
                kept, whole = min(entry["start"], entry["end"]), entry["start"]
            part, all_of_it = totals.get(segment, (0.0, 0.0))
            totals[segment] = (part + (kept if outcome == "retained" else whole - kept), all_of_it + whole)
        for segment, (part, whole) in totals.items():
            expected[(first, segment)] = None if whole == 0 else 100 * part / whole
    return expected


def month_ends(first_month, count):
    months = []
    for index in range(count):
        year, month = divmod(first_month.year * 12 + first_month.month - 1 + index, 12)
        start = D(year, month + 1, 1)
        following = D(year + (month + 1) // 12, (month + 1) % 12 + 1, 1)
        months.append((start, following - datetime.timedelta(days=1)))
    return months


@pytest.mark.parametrize(("basis", "outcome"), [("count", "retained"), ("count", "churned"), ("amount", "churned")])
def test_cohorts_match_an_entity_by_entity_count(basis, outcome):
    """Spans on the first and last days, renewals, gaps within a month, open ends, ends before starts and
    amounts of 0: the bounds of single spans and the entity-by-entity comparison agree with a slow count."""
    import random

    generator = random.Random(11)
    spans = []
    first_day = D(2024, 1, 1)
    for number in range(60):
        entity = f"e{number}"
        segment = generator.choice(["a", "b"])
        for _ in range(generator.choice([1, 1, 1, 2, 3])):
            starts = first_day + datetime.timedelta(days=generator.choice([0, 0, 14, 30, 31, 59, 60, 90, 120]))
            if generator.random() < 0.3:
                until = None
            else:
                until = starts + datetime.timedelta(days=generator.choice([-3, 0, 15, 29, 30, 45, 61, 100]))
            spans.append((entity, segment, starts, until, float(generator.choice([0, 5, 10, 25]))))
    table = {
        "customer_id": [span[0] for span in spans],
        "plan": [span[1] for span in spans],
        "start_date": [span[2] for span in spans],
        "end_date": [span[3] for span in spans],
        "recurring_amount": [span[4] for span in spans],
    }
    population = {"table": "subscriptions", "entity": "customer_id", "from": "start_date", "until": "end_date"}
    definition = kpi(
        "cohort",
        "cohort",
        population={**population, "amount": "recurring_amount"} if basis == "amount" else population,
        basis=basis,
        outcome=outcome,
        segments=["plan"],
    )
    end = D(2024, 9, 30)
    result = compute(definitions(definition), on_duckdb(subscriptions=table), by="plan", end=end)
    found = values(result)
    expected = cohort_by_hand(spans, month_ends(first_day, 9), basis, outcome)
    assert found.keys() == expected.keys()
    for period_and_segment, value in expected.items():
        assert found[period_and_segment] == pytest.approx(value, rel=1e-12), period_and_segment
        if value == 0:  # nothing lost is exactly nothing, not rounding dust of amounts added and taken away
            assert found[period_and_segment] == 0, period_and_segment


@pytest.mark.parametrize("by", [None, "segment"])
def test_kpis_computed_together_equal_each_computed_alone(by):
    """Measures of the same rows share one aggregation, in one or two steps; sharing must never mix up which
    aggregate is whose. (Summed in another order, doubles may differ in their last digits.)"""
    library = load_library()
    connection = ibis.duckdb.connect()
    tables = {
        name: connection.create_table(name, data)
        for name, data in generate_tables(customers=200, orders=1500, months=6).items()
    }
    keys = list(library) if by is None else kpis_splittable_by(library, by)
    together = compute(library, tables, by=by, end=D(2024, 6, 30), keys=keys).to_pylist()
    for key in keys:
        alone = compute(library, tables, by=by, end=D(2024, 6, 30), keys=[key]).to_pylist()
        expected = [row for row in together if row["kpi"] == key]
        assert [(row["period_start"], row["segment"], row["n"]) for row in alone] == [
            (row["period_start"], row["segment"], row["n"]) for row in expected
        ], key
        for found, wanted in zip(alone, expected, strict=True):
            for column in ("value", "numerator", "denominator", "margin_of_error"):
                if wanted[column] is None:
                    assert found[column] is None, (key, column)
                else:
                    assert found[column] == pytest.approx(wanted[column], rel=1e-12, abs=1e-12), (key, column)


@pytest.mark.parametrize(
    ("grain", "start", "by"), [("month", D(2024, 6, 1), None), ("quarter", D(2024, 7, 1), "segment")]
)
def test_a_late_start_reads_less_but_gives_the_numbers_of_a_full_computation(grain, start, by):
    """From a late start only the rows the periods asked for depend on are read (a growth rate's earlier
    period, a year to date's first months, spans still running): the numbers must be those of the full run."""
    library = load_library()
    connection = ibis.duckdb.connect()
    tables = {
        name: connection.create_table(name, data)
        for name, data in generate_tables(customers=300, orders=2500, months=24).items()
    }
    keys = list(library) if by is None else kpis_splittable_by(library, by)
    late = compute(library, tables, grain, by=by, start=start, keys=keys).to_pylist()
    full = [
        row for row in compute(library, tables, grain, by=by, keys=keys).to_pylist() if row["period_start"] >= start
    ]
    assert {row["kpi"] for row in late} == {row["kpi"] for row in full}
    assert [(row["kpi"], row["period_start"], row["segment"], row["n"]) for row in late] == [
        (row["kpi"], row["period_start"], row["segment"], row["n"]) for row in full
    ]
    for found, wanted in zip(late, full, strict=True):
        for column in ("value", "numerator", "denominator", "margin_of_error"):
            if wanted[column] is None:
                assert found[column] is None, (wanted["kpi"], column)
            else:
                assert found[column] == pytest.approx(wanted[column], rel=1e-12, abs=1e-12), (wanted["kpi"], column)


def generate_tables(*, customers, orders, months):
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as folder:
        dataset = generate_dataset(
            Path(folder), end=D(2024, 6, 30), customers=customers, orders=orders, months=months, seed=5
        )
        return {table.name: pq.read_table(table.path) for table in dataset.tables}


def test_start_and_end_pick_periods_by_their_first_day_and_windows_still_look_back():
    tables = on_duckdb(sales=SALES)
    measure = sum_of("sales", "amount", "day")
    result = compute(
        definitions(
            kpi("total", "simple", measure=measure),
            kpi("growth", "growth", of="total", compare_to="previous_period"),
            kpi("running", "cumulative", measure=measure, window="running"),
        ),
        tables,
        start=D(2023, 12, 15),
        end=D(2024, 3, 31),
    )
    # December starts before the 15th, so it is left out; April starts after 31 March.
    assert values(result, "total") == {(D(2024, 1, 1), None): 2, (D(2024, 3, 1), None): 4}
    assert values(result, "growth") == {(D(2024, 1, 1), None): 100, (D(2024, 3, 1), None): None}
    assert values(result, "running") == {(D(2024, 1, 1), None): 3, (D(2024, 2, 1), None): 3, (D(2024, 3, 1), None): 7}


TICKETS = {
    "customers": {"id": ["c1", "c2"], "channel": ["ads", "seo"], "region": ["north", None]},
    "tickets": {
        "customer_id": ["c1", "c1", "c2", None],
        "opened": [D(2024, 1, 1)] * 4,
        "channel": ["phone", "email", "phone", "phone"],
    },
}


def test_a_dimension_is_the_table_s_own_column_before_that_of_a_referred_table():
    ticket_count = kpi("tickets", "simple", measure=count_of("tickets", "opened"), segments=["channel", "region"])
    result = compute(definitions(ticket_count), on_duckdb(**TICKETS), by="channel")
    assert values(result) == {(D(2024, 1, 1), "phone"): 3, (D(2024, 1, 1), "email"): 1}
    # The region comes from the customer; c2 has none, and the last ticket has no customer.
    by_region = compute(definitions(ticket_count), on_duckdb(**TICKETS), by="region")
    assert values(by_region) == {(D(2024, 1, 1), "north"): 2, (D(2024, 1, 1), None): 2}


def test_a_column_of_a_referred_table_can_be_filtered_on_and_give_the_period():
    per_customer = count_of("tickets", "customer.signup", where=[{"column": "customer.channel", "equals": "ads"}])
    tables = {**TICKETS, "customers": {**TICKETS["customers"], "signup": [D(2023, 5, 1), D(2023, 6, 1)]}}
    result = compute(definitions(kpi("ads_tickets", "simple", measure=per_customer)), on_duckdb(**tables))
    assert values(result) == {(D(2023, 5, 1), None): 2}


COHORT_ORDERS = {
    "customers": {
        "id": ["c1", "c2", "c3", "c4"],
        "signup": [D(2024, 1, 5), D(2024, 1, 20), D(2024, 2, 1), None],
        "segment": ["a", "b", "a", "a"],
    },
    "orders": {
        # c4 has no signup date, c9 is no known customer and the last order has none: none is in a cohort.
        "customer_id": ["c1", "c1", "c2", "c3", "c3", "c4", "c9", None],
        "day": [D(2024, 1, 5), D(2024, 3, 1), D(2024, 2, 2), D(2024, 2, 1), D(2024, 6, 1)] + [D(2024, 1, 1)] * 3,
        "amount": [10.0, 30.0, 5.0, 1.0, 2.0, 100.0, 100.0, 100.0],
        "channel": ["web", "shop", "web", "web", "web", "web", "web", "web"],
    },
}


def cohort_of(aggregate, **more):
    """Orders in the period of their customer's signup, whatever their own date."""
    return {"table": "orders", "time": "customer.signup", "aggregate": aggregate, **more}


COHORT_KPIS = definitions(
    kpi("revenue", "simple", measure=cohort_of("sum", value="amount"), segments=["segment", "channel"]),
    kpi("orders", "simple", measure=cohort_of("count"), segments=["segment", "channel"]),
    kpi("average", "simple", measure=cohort_of("avg", value="amount")),
    kpi("largest", "simple", measure=cohort_of("max", value="amount")),
    kpi("buyers", "simple", measure=cohort_of("count_distinct", value="customer_id")),
    kpi(
        "web_revenue_of_a",
        "simple",
        measure=cohort_of(
            "sum",
            value="amount",
            where=[{"column": "channel", "equals": "web"}, {"column": "customer.segment", "equals": "a"}],
        ),
    ),
)


def test_a_period_from_the_customer_puts_every_order_in_the_customer_s_cohort():
    """The compiler aggregates such orders per customer before it looks the customer up; every order must
    still count once, in the cohort's period, with the conditions and splits of its own and its customer's."""
    tables = on_duckdb(**COHORT_ORDERS)
    result = compute(COHORT_KPIS, tables)
    jan, feb = D(2024, 1, 1), D(2024, 2, 1)
    assert {key: values(result, key) for key in COHORT_KPIS} == {
        "revenue": {(jan, None): 45.0, (feb, None): 3.0},
        "orders": {(jan, None): 3.0, (feb, None): 2.0},
        "average": {(jan, None): 15.0, (feb, None): 1.5},
        "largest": {(jan, None): 30.0, (feb, None): 2.0},
        "buyers": {(jan, None): 2.0, (feb, None): 1.0},
        "web_revenue_of_a": {(jan, None): 10.0, (feb, None): 3.0},
    }
    assert {(row["kpi"], row["period_start"]): row["n"] for row in result.to_pylist() if row["kpi"] == "revenue"} == {
        ("revenue", jan): 3,
        ("revenue", feb): 2,
    }
    by_segment = compute(COHORT_KPIS, tables, by="segment", keys=["revenue", "orders"])
    assert values(by_segment, "revenue") == {(jan, "a"): 40.0, (jan, "b"): 5.0, (feb, "a"): 3.0}
    assert values(by_segment, "orders") == {(jan, "a"): 2.0, (jan, "b"): 1.0, (feb, "a"): 2.0}
    by_channel = compute(COHORT_KPIS, tables, by="channel", keys=["revenue"])
    assert values(by_channel) == {(jan, "web"): 15.0, (jan, "shop"): 30.0, (feb, "web"): 3.0}
    assert values(compute(COHORT_KPIS, tables, start=feb, keys=["revenue"])) == {(feb, None): 3.0}


def test_a_period_from_a_column_the_customer_lacks_names_the_time_field():
    spec = definitions(kpi("revenue", "simple", measure=cohort_of("sum", value="amount", time="customer.signed")))
    with pytest.raises(DefinitionError, match=r"field 'measure.time': customers has no column 'signed'; did you"):
        compute(spec, on_duckdb(**COHORT_ORDERS))


def test_derived_kpis_split_like_their_inputs():
    tables = on_duckdb(
        customers={"id": ["c1", "c2"], "segment": ["a", "b"]},
        orders={"customer_id": ["c1", "c1", "c2"], "day": [D(2024, 1, 1)] * 3, "amount": [10.0, 20.0, 5.0]},
    )
    spec = definitions(
        kpi("revenue", "simple", measure=sum_of("orders", "amount", "day"), segments=["segment"]),
        kpi("orders", "simple", measure=count_of("orders", "day"), segments=["segment"]),
        kpi("order_value", "derived", formula="revenue / orders"),
    )
    result = compute(spec, tables, by="segment", keys=["order_value"])
    assert values(result) == {(D(2024, 1, 1), "a"): 15, (D(2024, 1, 1), "b"): 5}
    assert kpis_splittable_by(spec, "segment") == ["revenue", "orders", "order_value"]
    assert kpis_splittable_by(spec, "region") == []


def test_a_split_the_kpi_cannot_make_is_refused():
    spec = definitions(kpi("total", "simple", measure=sum_of("sales", "amount", "day")))
    with pytest.raises(DefinitionError, match=r"KPI 'total', field 'segments': cannot be split by region; it cannot"):
        compute(spec, on_duckdb(sales=SALES), by="region")


@pytest.mark.parametrize(
    ("measure", "message"),
    [
        (sum_of("sale", "amount", "day"), r"field 'measure.table': no table 'sale' was given \(the tables given are"),
        (
            sum_of("sales", "amont", "day"),
            r"field 'measure.value': sales has no column 'amont'; did you mean 'amount'\?",
        ),
        (sum_of("sales", "amount", "when"), r"field 'measure.time': sales has no column 'when'"),
        (sum_of("sales", "id", "day"), r"field 'measure.value': sales has no column 'id'"),
        (
            sum_of("sales", "amount", "day", where=[{"column": "amount", "equals": "ten"}]),
            r"field 'measure.where\[0\]': cannot compare amount \(float64\) with 'ten'",
        ),
        (
            sum_of("sales", "amount", "day", where=[{"column": "customer.region", "equals": "x"}]),
            r"field 'measure.where\[0\]': 'customer.region' needs a column customer_id in sales",
        ),
    ],
)
def test_definitions_that_do_not_fit_the_tables_name_the_kpi_and_field(measure, message):
    tables = on_duckdb(sales={"day": [D(2024, 1, 1)], "amount": [1.0], "label": ["x"]})
    with pytest.raises(DefinitionError, match=r"<text>, KPI 'total', " + message):
        compute(definitions(kpi("total", "simple", measure=measure)), tables)


@pytest.mark.parametrize(
    ("measure", "message"),
    [
        (sum_of("sales", "amount", "label"), "field 'measure.time': the column must hold a date or time, not string"),
        (
            {"table": "sales", "active": {"from": "day", "until": "amount", "at": "period_end"}, "aggregate": "count"},
            "field 'measure.active.until': the column must hold a date, not float64",
        ),
    ],
)
def test_periods_come_from_dates(measure, message):
    tables = on_duckdb(sales={"day": [D(2024, 1, 1)], "amount": [1.0], "label": ["x"]})
    with pytest.raises(DefinitionError, match=message):
        compute(definitions(kpi("total", "simple", measure=measure)), tables)


def test_text_is_not_a_number():
    tables = on_duckdb(sales={"day": [D(2024, 1, 1)], "label": ["x"]})
    spec = definitions(kpi("total", "simple", measure=sum_of("sales", "label * 2", "day")))
    with pytest.raises(DefinitionError, match=r"field 'measure.value': label holds string, which is not a number"):
        compute(spec, tables)


def test_a_dimension_found_in_two_referred_tables_is_refused():
    tables = on_duckdb(
        customers={"id": ["c1"], "region": ["north"]},
        employees={"id": ["e1"], "region": ["south"]},
        visits={"customer_id": ["c1"], "employee_id": ["e1"], "day": [D(2024, 1, 1)]},
    )
    spec = definitions(kpi("visits", "simple", measure=count_of("visits", "day"), by="region"))
    with pytest.raises(DefinitionError, match="field 'by': 'region' is in more than one table it refers to in visits"):
        compute(spec, tables)


def test_unknown_kpis_cannot_be_computed():
    spec = definitions(kpi("total", "simple", measure=sum_of("sales", "amount", "day")))
    with pytest.raises(ValueError, match="unknown KPI totl"):
        compile_kpis(spec, on_duckdb(sales=SALES), keys=["totl"])


@pytest.fixture
def compilations(monkeypatch):
    """How many times :func:`compute` compiled definitions: the real compiler, counted."""
    calls: list[int] = []
    real = compile_module.compile_kpis

    def counted(*arguments, **options):
        calls.append(1)
        return real(*arguments, **options)

    forget_compiled_queries()
    monkeypatch.setattr(compile_module, "compile_kpis", counted)
    yield calls
    forget_compiled_queries()


def spending(key="spent", column="spent"):
    return definitions(kpi(key, "simple", measure=sum_of("money", column, "day")))


def test_computing_again_on_other_rows_runs_the_kept_query_with_their_numbers(compilations):
    first = compute(spending(), on_duckdb(money={"day": [D(2024, 1, 9)], "spent": [10.0], "won": [1.0]}))
    other_rows = on_duckdb(money={"day": [D(2024, 1, 9), D(2024, 2, 3)], "spent": [10.0, 4.0], "won": [1.0, 2.0]})
    again = compute(spending(), other_rows)
    assert values(first) == {(D(2024, 1, 1), None): 10}
    assert values(again) == {(D(2024, 1, 1), None): 10, (D(2024, 2, 1), None): 4}
    assert len(compilations) == 1


@pytest.mark.parametrize(
    "change",
    ["definition", "column type", "arguments", "not a DuckDB table"],
)
def test_anything_the_query_depends_on_compiles_it_anew(compilations, change):
    money: dict[str, Sequence[object]] = {"day": [D(2024, 1, 9), D(2024, 4, 2)], "spent": [10.0, 4.0], "won": [1, 2]}
    assert values(compute(spending(), on_duckdb(money=money))) == {(D(2024, 1, 1), None): 10, (D(2024, 4, 1), None): 4}
    tables, kpis, grain = on_duckdb(money=money), spending(), "month"
    expected = {(D(2024, 1, 1), None): 10, (D(2024, 4, 1), None): 4}
    if change == "definition":
        kpis, expected = spending(column="won"), {(D(2024, 1, 1), None): 1, (D(2024, 4, 1), None): 2}
    elif change == "column type":
        tables = on_duckdb(money={**money, "spent": [10, 4]})
    elif change == "arguments":
        grain, expected = "year", {(D(2024, 1, 1), None): 14}
    else:
        tables = {"money": ibis.memtable(pa.table(money))}
    assert values(compute(kpis, tables, grain=grain)) == expected
    assert len(compilations) == 2


def test_the_module_examples_hold():
    assert doctest.testmod(compile_module).failed == 0


# -- The same numbers on every backend -----------------------------------------------------------------------

END = D(2024, 12, 31)


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    dataset = generate_dataset(
        tmp_path_factory.mktemp("generated"), end=END, customers=300, orders=2000, months=12, seed=3
    )
    return {table.name: pq.read_table(table.path) for table in dataset.tables}


@pytest.fixture(scope="module")
def spark():
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[1]")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        # Tuned for a few thousand rows: one task per shuffle instead of 200, no code generation or adaptive
        # re-planning, and the JVM's quick compiler only. Together they take the run from a minute to 20 s.
        .config("spark.sql.shuffle.partitions", "1")
        .config("spark.sql.codegen.wholeStage", "false")
        .config("spark.sql.adaptive.enabled", "false")
        .config("spark.driver.extraJavaOptions", "-XX:TieredStopAtLevel=1")
        .getOrCreate()
    )
    yield session
    session.stop()
    # py4j logs its goodbye when Python exits, after pytest has closed the stream the log would go to.
    logging.getLogger("py4j").setLevel(logging.WARNING)


@pytest.fixture(scope="module")
def postgres():
    if os.environ.get("FOURFOLD_TEST_POSTGRES") == "0":
        pytest.skip("PostgreSQL tests are switched off (FOURFOLD_TEST_POSTGRES=0)")
    connection = ibis.connect(POSTGRES_URL)
    schema = f"fourfold_metrics_{uuid.uuid4().hex[:12]}"
    connection.raw_sql(f"CREATE SCHEMA {schema}").close()
    yield connection, schema
    connection.raw_sql(f"DROP SCHEMA {schema} CASCADE").close()
    connection.disconnect()


@pytest.mark.backends
def test_every_library_kpi_is_the_same_on_duckdb_postgresql_and_spark(generated, postgres, spark):
    duckdb = ibis.duckdb.connect()
    postgres_connection, schema = postgres
    for name, data in generated.items():
        spark.createDataFrame(data).createOrReplaceTempView(name)
    pyspark = ibis.pyspark.connect(spark)
    backends = {
        "duckdb": {name: duckdb.create_table(name, data) for name, data in generated.items()},
        "postgres": {
            name: postgres_connection.create_table(name, data, database=schema) for name, data in generated.items()
        },
        "spark": {name: pyspark.table(name) for name in generated},
    }
    library = load_library()
    by_segment = kpis_splittable_by(library, "segment")

    def every_kpi(tables):
        """The library by calendar month, and by fiscal quarter (from April) split by segment."""
        monthly = compute(library, tables, "month", end=END).to_pylist()
        fiscal = compute(
            library, tables, "quarter", by="segment", end=END, keys=by_segment, fiscal_year_start_month=4
        ).to_pylist()
        return monthly + fiscal

    results = {backend: every_kpi(tables) for backend, tables in backends.items()}
    expected = results.pop("duckdb")
    assert {row["kpi"] for row in expected} == set(library)
    for backend, rows in results.items():
        assert [(row["kpi"], row["period_start"], row["segment"]) for row in rows] == [
            (row["kpi"], row["period_start"], row["segment"]) for row in expected
        ], backend
        for found, wanted in zip(rows, expected, strict=True):
            for column, value in wanted.items():
                if isinstance(value, float):
                    assert found[column] == pytest.approx(value, rel=1e-9, abs=1e-9), (backend, wanted["kpi"], column)
                else:
                    assert found[column] == value, (backend, wanted["kpi"], column)
