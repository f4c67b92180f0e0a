"""Validation of canonical tables: each kind of problem found in exactly its rows, and skipped exactly.

The tables are small and written by hand, so that the expected rows can be read off the test.
"""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys
from pathlib import Path

import ibis
import pyarrow as pa
import pytest

from fourfold.metrics.tables import (
    SHOWN_ROWS,
    TABLES,
    ColumnType,
    DataValidationError,
    Problem,
    ProblemKind,
    validate_table,
)

DOCS = Path(__file__).resolve().parents[4] / "docs" / "metrics-data.md"


def found(report_or_error):
    """The problems as (column, kind, rows, count), easy to compare with what a test expects."""
    return {(problem.column, problem.kind, problem.rows, problem.count) for problem in report_or_error.problems}


def problems_of(name, data, **options):
    with pytest.raises(DataValidationError) as raised:
        validate_table(name, data, **options)
    return found(raised.value)


def test_the_tables_are_the_agreed_contract():
    """KPI definitions are written against these names; changing one breaks them, so it must be deliberate."""
    assert {name: spec.column_names for name, spec in TABLES.items()} == {
        "customers": ("id", "signup_date", "segment", "channel", "region", "plan", "loyalty_member"),
        "orders": ("id", "customer_id", "order_date", "amount", "gross_margin", "product_id"),
        "subscriptions": ("customer_id", "start_date", "end_date", "recurring_amount"),
        "marketing_spend": ("spend_date", "channel", "amount"),
        "leads": ("id", "created_date", "channel", "converted_date", "customer_id"),
        "market_totals": ("period_start", "segment", "market_revenue"),
        "survey_responses": (
            "id",
            "respondent_id",
            "survey_kind",
            "score",
            "scale_max",
            "submitted_at",
            "segment",
            "comment",
        ),
        "support_tickets": (
            "id",
            "customer_id",
            "kind",
            "opened_at",
            "first_response_at",
            "resolved_at",
            "contacts_to_resolve",
            "channel",
        ),
        "employees": ("id", "hire_date", "leave_date", "department", "fte"),
        "training_enrollments": (
            "employee_id",
            "course_id",
            "enrolled_date",
            "completed_date",
            "hours",
            "cost",
            "objectives_met",
            "pre_score",
            "post_score",
            "attributed_benefit",
        ),
        "projects": ("id", "end_date", "successful"),
        "products": ("id", "launch_date", "kind"),
        "social_engagement": ("activity_date", "platform", "impressions", "engagements"),
        "reviews": ("review_date", "platform", "rating"),
    }


def test_the_data_side_imports_no_django():
    """The command line, notebooks and the web app share this code; only the last has Django set up."""
    code = (
        "import sys, fourfold.metrics.tables, fourfold.metrics.sources, fourfold.metrics.generate; "
        "print(sorted(name for name in sys.modules if name.split('.')[0] == 'django'))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_every_rule_refers_to_columns_of_its_table():
    for spec in TABLES.values():
        for column in spec.columns:
            for other in (column.maximum_column, column.not_before):
                assert other is None or other in spec.column_names, (spec.name, column.name, other)


def test_the_documentation_lists_every_column_with_its_type_and_whether_it_is_required():
    text = DOCS.read_text()
    for spec in TABLES.values():
        section = text.split(f"### {spec.name}\n", 1)[1].split("\n### ", 1)[0]
        rows = re.findall(r"^\| `(\w+)` \| (\w+) \| (yes|no) \|", section, flags=re.MULTILINE)
        documented = [(name, ColumnType(type), required == "yes") for name, type, required in rows]
        assert documented == [(column.name, column.type, column.required) for column in spec.columns], spec.name


def test_a_valid_table_comes_back_in_the_canonical_types_whatever_it_was_given_as():
    data = pa.table(
        {
            "id": [1, 2, 3],  # whole numbers become text ids
            "customer_id": ["c1", "c2", "c3"],
            "order_date": ["2026-03-31", "31.03.2026", "31 Mar 2026"],
            "amount": ["12.50", "3", "1e3"],
            "extra": ["ignored", "ignored", "ignored"],
        }
    )
    report = validate_table("orders", data)
    assert report.ok
    assert report.rows_read == report.rows_kept == 3
    assert report.table.schema() == TABLES["orders"].schema
    rows = report.table.to_pyarrow().to_pylist()
    assert [row["id"] for row in rows] == ["1", "2", "3"]
    assert {row["order_date"] for row in rows} == {dt.date(2026, 3, 31)}
    assert [row["amount"] for row in rows] == [12.5, 3.0, 1000.0]
    assert [row["gross_margin"] for row in rows] == [None, None, None]  # optional and absent: empty


def test_timestamps_with_an_offset_are_converted_to_utc_and_booleans_are_read_from_words():
    data = pa.table(
        {
            "id": ["t1", "t2"],
            "opened_at": ["2026-03-31T10:00:00+02:00", "2026-03-31 10:00"],
            "contacts_to_resolve": ["1", "2"],
        }
    )
    rows = validate_table("support_tickets", data).table.to_pyarrow().to_pylist()
    assert [row["opened_at"] for row in rows] == [dt.datetime(2026, 3, 31, 8), dt.datetime(2026, 3, 31, 10)]
    members = pa.table({"id": ["a", "b", "c"], "signup_date": ["2026-01-01"] * 3, "loyalty_member": ["yes", "no", "1"]})
    assert [row["loyalty_member"] for row in validate_table("customers", members).table.to_pyarrow().to_pylist()] == [
        True,
        False,
        True,
    ]


def test_a_date_format_is_the_only_one_tried_when_given():
    data = pa.table({"id": ["a", "b"], "signup_date": ["31/03/2026", "2026-03-31"]})
    assert problems_of("customers", data, date_format="%d/%m/%Y") == {("signup_date", ProblemKind.UNREADABLE, (2,), 1)}
    assert problems_of("customers", data) == {("signup_date", ProblemKind.UNREADABLE, (1,), 1)}


def test_unreadable_values_are_reported_once_not_also_as_missing_or_out_of_range():
    data = pa.table(
        {
            "id": ["o1", "o2", "o3", "o4", "o5"],
            "customer_id": ["c1", "c1", None, "c1", "c1"],
            "order_date": ["2026-02-30", "yesterday", "2026-03-01", None, "2026-03-02"],
            "amount": ["10", "ten", "-5", "7", "inf"],
        }
    )
    assert problems_of("orders", data) == {
        ("customer_id", ProblemKind.MISSING_VALUE, (3,), 1),
        ("order_date", ProblemKind.UNREADABLE, (1, 2), 2),
        ("order_date", ProblemKind.MISSING_VALUE, (4,), 1),
        ("amount", ProblemKind.UNREADABLE, (2, 5), 2),
        ("amount", ProblemKind.NEGATIVE, (3,), 1),
    }


def test_whole_numbers_must_be_whole():
    data = pa.table(
        {
            "activity_date": [dt.date(2026, 3, 1)] * 3,
            "impressions": [10.0, 2.5, 7.0],
            "engagements": ["1", "2.5", "x"],
        }
    )
    assert problems_of("social_engagement", data) == {
        ("impressions", ProblemKind.UNREADABLE, (2,), 1),
        ("engagements", ProblemKind.UNREADABLE, (2, 3), 2),
    }


def test_survey_scores_must_lie_within_their_scale_and_nps_must_use_zero_to_ten():
    data = pa.table(
        {
            "id": ["s1", "s2", "s3", "s4", "s5", "s6"],
            "survey_kind": ["nps", "nps", "csat", "csat", "nps", "poll"],
            "score": [10, 11, 5, -1, 4, 3],
            "scale_max": [10, 10, 5, 5, 5, 5],
            "submitted_at": [dt.datetime(2026, 3, 1, 9)] * 6,
        }
    )
    assert problems_of("survey_responses", data) == {
        ("survey_kind", ProblemKind.NOT_ALLOWED, (6,), 1),
        ("score", ProblemKind.OUT_OF_RANGE, (2, 4), 2),
        ("scale_max", ProblemKind.OUT_OF_RANGE, (5,), 1),
    }


def test_later_events_must_not_come_before_earlier_ones():
    opened = dt.datetime(2026, 3, 1, 9)
    hour = dt.timedelta(hours=1)
    tickets = pa.table(
        {
            "id": ["t1", "t2", "t3", "t4"],
            "opened_at": [opened] * 4,
            "first_response_at": [opened + hour, opened - hour, None, opened],
            "resolved_at": [opened + 2 * hour, opened + hour, opened - hour, None],
        }
    )
    assert problems_of("support_tickets", tickets) == {
        ("first_response_at", ProblemKind.OUT_OF_ORDER, (2,), 1),
        ("resolved_at", ProblemKind.OUT_OF_ORDER, (3,), 1),
    }
    day = dt.date(2026, 3, 10)
    courses = pa.table(
        {
            "employee_id": ["e1", "e2"],
            "course_id": ["c1", "c1"],
            "enrolled_date": [day, day],
            "completed_date": [day, day - dt.timedelta(days=1)],
        }
    )
    assert problems_of("training_enrollments", courses) == {("completed_date", ProblemKind.OUT_OF_ORDER, (2,), 1)}
    staff = pa.table({"id": ["e1", "e2"], "hire_date": [day, day], "leave_date": [None, day - dt.timedelta(days=1)]})
    assert problems_of("employees", staff) == {("leave_date", ProblemKind.OUT_OF_ORDER, (2,), 1)}


def test_a_repeated_id_is_reported_on_every_row_after_the_first():
    data = pa.table({"id": ["a", "b", "a", "c", "a", "b", None], "signup_date": [dt.date(2026, 1, 1)] * 7})
    assert problems_of("customers", data) == {
        ("id", ProblemKind.DUPLICATE_ID, (3, 5, 6), 3),
        ("id", ProblemKind.MISSING_VALUE, (7,), 1),
    }


def test_a_problem_lists_its_first_rows_and_counts_them_all():
    amounts = [-1.0] * 30 + [1.0]
    data = pa.table({"spend_date": [dt.date(2026, 1, 1)] * 31, "amount": amounts})
    with pytest.raises(DataValidationError) as raised:
        validate_table("marketing_spend", data, source="spend.csv")
    (problem,) = raised.value.problems
    assert problem.rows == tuple(range(1, SHOWN_ROWS + 1))
    assert problem.count == 30
    assert str(problem) == (
        "marketing_spend.amount (spend.csv): negative in 30 rows (first 20 rows: "
        + ", ".join(map(str, range(1, 21)))
        + "); expected 0 or more"
    )
    assert str(raised.value).startswith("The data has 1 problem; nothing was loaded.\n- marketing_spend.amount")


def test_skip_mode_removes_exactly_the_invalid_rows_and_says_which():
    data = pa.table(
        {
            "id": ["o1", "o2", "o3", "o2", "o5", "o6"],
            "customer_id": ["c1"] * 6,
            "order_date": ["2026-03-01", "2026-03-02", "not a date", "2026-03-04", "2026-03-05", "2026-03-06"],
            "amount": [10.0, 20.0, 30.0, 40.0, -50.0, 60.0],
        }
    )
    report = validate_table("orders", data, on_error="skip")
    assert found(report) == {
        ("id", ProblemKind.DUPLICATE_ID, (4,), 1),
        ("order_date", ProblemKind.UNREADABLE, (3,), 1),
        ("amount", ProblemKind.NEGATIVE, (5,), 1),
    }
    assert (report.rows_read, report.rows_kept, report.rows_skipped) == (6, 3, 3)
    assert report.table.to_pyarrow().column("id").to_pylist() == ["o1", "o2", "o6"]


def test_a_missing_or_unconvertible_column_stops_even_in_skip_mode():
    data = pa.table({"id": ["a"], "signup_date": [True]})
    assert problems_of("customers", data, on_error="skip") == {("signup_date", ProblemKind.WRONG_TYPE, (), 0)}
    with pytest.raises(DataValidationError) as raised:
        validate_table("customers", pa.table({"customer": ["a"]}), on_error="skip")
    assert [str(problem) for problem in raised.value.problems] == [
        "customers.id: missing column; expected a column id, or one mapped to it (the table has customer)",
        "customers.signup_date: missing column; expected a column signup_date, or one mapped to it "
        "(the table has customer)",
    ]


def test_tables_of_a_duckdb_connection_are_checked_where_they_are():
    connection = ibis.duckdb.connect()
    table = connection.create_table("raw_reviews", pa.table({"review_date": ["2026-01-05"], "rating": [6.0]}))
    assert problems_of("reviews", table) == {("rating", ProblemKind.OUT_OF_RANGE, (1,), 1)}


def test_an_unknown_table_name_lists_the_known_ones():
    with pytest.raises(KeyError, match="'order' is not a canonical table; the tables are customers, orders"):
        validate_table("order", pa.table({"id": ["a"]}))


def test_problems_read_well():
    assert (
        str(Problem("orders", "amount", ProblemKind.NEGATIVE, "0 or more", rows=(4,), count=1))
        == "orders.amount: negative in 1 row (row 4); expected 0 or more"
    )
