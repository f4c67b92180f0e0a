"""The demo data set: the same for a seed, of the sizes asked, valid, and spoilt exactly where it says."""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from fourfold.cli import app
from fourfold.metrics.compile import compute
from fourfold.metrics.generate import (
    CHANNELS,
    DEFAULT_PROFILE,
    SEGMENTS,
    DatasetProfile,
    Drift,
    SegmentProfile,
    SupportProfile,
    generate_dataset,
)
from fourfold.metrics.library import load_library
from fourfold.metrics.sources import load_directory
from fourfold.metrics.tables import TABLES

CUSTOMERS, ORDERS, MONTHS, END = 400, 4_000, 12, dt.date(2026, 10, 1)
FIRST_DAY, LAST_DAY = dt.date(2025, 11, 1), dt.date(2026, 10, 31)
DAYS = (LAST_DAY - FIRST_DAY).days + 1


def generate(folder, seed=3, bad_rows=False):
    return generate_dataset(
        folder, end=END, customers=CUSTOMERS, orders=ORDERS, months=MONTHS, seed=seed, bad_rows=bad_rows
    )


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    return generate(tmp_path_factory.mktemp("demo"))


def read(dataset, name):
    return pq.read_table(dataset.directory / f"{name}.parquet")


def test_the_same_seed_writes_the_same_data_and_another_seed_other_data(dataset, tmp_path):
    again = generate(tmp_path / "again")
    for name in TABLES:
        assert read(again, name).equals(read(dataset, name)), name
    other = generate(tmp_path / "other", seed=4)
    assert not read(other, "orders").equals(read(dataset, "orders"))


def test_every_table_is_written_with_the_canonical_schema_and_the_sizes_asked(dataset):
    assert [table.name for table in dataset.tables] == list(TABLES)
    for table in dataset.tables:
        assert pq.read_schema(table.path) == TABLES[table.name].schema.to_pyarrow(), table.name
        assert table.rows == pq.read_metadata(table.path).num_rows > 0, table.name
    rows = {table.name: table.rows for table in dataset.tables}
    assert (rows["customers"], rows["subscriptions"], rows["orders"]) == (CUSTOMERS, CUSTOMERS, ORDERS)
    assert rows["marketing_spend"] == DAYS * len(CHANNELS)
    assert rows["market_totals"] == MONTHS * (len(SEGMENTS) + 1)  # the whole market and each segment


def test_everything_dated_lies_in_the_months_asked_except_earlier_signups(dataset):
    for name, column in [("orders", "order_date"), ("marketing_spend", "spend_date"), ("reviews", "review_date")]:
        dates = read(dataset, name).column(column)
        assert (pc.min(dates).as_py(), pc.max(dates).as_py()) >= (FIRST_DAY, FIRST_DAY), name
        assert pc.max(dates).as_py() <= LAST_DAY, name
    signups = read(dataset, "customers").column("signup_date")
    assert pc.min(signups).as_py() < FIRST_DAY <= pc.max(signups).as_py()


def test_the_data_behaves_like_a_business(dataset):
    subscriptions = read(dataset, "subscriptions")
    assert 0 < subscriptions.column("end_date").null_count < len(subscriptions)  # some churn, most stay
    surveys = read(dataset, "survey_responses").to_pylist()
    nps = [row["score"] for row in surveys if row["survey_kind"] == "nps"]
    assert min(nps) <= 6  # detractors
    assert max(nps) >= 9  # and promoters
    assert {row["survey_kind"] for row in surveys} == {"nps", "csat", "ces", "employee"}
    tickets = read(dataset, "support_tickets").to_pylist()

    def median_wait(channel):
        waits = sorted(
            row["first_response_at"] - row["opened_at"]
            for row in tickets
            if row["channel"] == channel and row["first_response_at"]
        )
        return waits[len(waits) // 2]

    assert median_wait("chat") < median_wait("email")
    spend = read(dataset, "marketing_spend")
    assert set(spend.column("channel").to_pylist()) == set(CHANNELS)


def test_market_share_has_a_value_every_month_from_the_whole_market_rows(dataset):
    totals = read(dataset, "market_totals").to_pylist()
    for month in {row["period_start"] for row in totals}:
        rows = [row for row in totals if row["period_start"] == month]
        (whole,) = [row["market_revenue"] for row in rows if row["segment"] is None]
        assert whole == pytest.approx(sum(row["market_revenue"] for row in rows if row["segment"] is not None))
    result = compute(load_library(), load_directory(dataset.directory), keys=["market_share", "market_share_growth"])
    values = {(row["kpi"], row["period_start"]): row["value"] for row in result.to_pylist()}
    shares = [value for (kpi, _), value in values.items() if kpi == "market_share"]
    assert len(shares) == MONTHS
    assert all(0 < share < 100 for share in shares)
    assert sum(value is not None for (kpi, _), value in values.items() if kpi == "market_share_growth") == MONTHS - 1


def test_a_profile_sets_the_names_and_moves_the_numbers(tmp_path):
    profile = DatasetProfile(
        segments=SegmentProfile(
            names=("Retail", "Wholesale"),
            share=(0.7, 0.3),
            order_value=(40.0, 900.0),
            order_frequency=(1.0, 2.0),
            monthly_fee=(10.0, 200.0),
            monthly_churn=(0.03, 0.01),
            market_share=(0.02, 0.05),
            loyalty=(0.3, 0.1),
            promoters=(0.3, 0.4),
            detractors=(0.3, 0.2),
            plan_share_by_segment=((0.6, 0.3, 0.1), (0.2, 0.5, 0.3)),
        ),
        support=SupportProfile(first_contact_resolution_shift=0.2, tickets_per_customer=3.0),
    )
    steady = generate_dataset(tmp_path / "steady", end=END, customers=CUSTOMERS, orders=ORDERS, months=MONTHS, seed=3)
    moving = generate_dataset(
        tmp_path / "moving", end=END, customers=CUSTOMERS, orders=ORDERS, months=MONTHS, seed=3, profile=profile
    )
    assert set(read(moving, "customers").column("segment").to_pylist()) == {"Retail", "Wholesale"}
    assert read(moving, "support_tickets").num_rows == 3 * CUSTOMERS
    assert all(report.ok for report in load_directory(moving.directory).reports.values())

    def first_contact(dataset, half):
        tickets = [row for row in read(dataset, "support_tickets").to_pylist() if row["contacts_to_resolve"]]
        cut = len(tickets) // 2
        chosen = tickets[:cut] if half == "first" else tickets[cut:]
        return sum(row["contacts_to_resolve"] == 1 for row in chosen) / len(chosen)

    assert first_contact(moving, "second") - first_contact(moving, "first") > 0.05
    assert abs(first_contact(steady, "second") - first_contact(steady, "first")) < 0.05


def test_a_profile_with_a_value_missing_is_refused():
    with pytest.raises(ValueError, match="segments: share, order_value must have one value for each of the 5 names"):
        SegmentProfile(share=(0.5, 0.5), order_value=(1.0,))
    assert DEFAULT_PROFILE.segments.names == SEGMENTS
    assert Drift(1.0, 2.0).at(np.asarray([0.0, 0.5, 1.0])).tolist() == [1.0, 1.5, 2.0]


def test_every_table_passes_validation(dataset):
    loaded = load_directory(dataset.directory)
    assert sorted(loaded) == sorted(TABLES)
    assert all(report.ok and report.rows_kept == report.rows_read for report in loaded.reports.values())


@pytest.mark.parametrize(("survey_responses", "tickets"), [(2_000, 900), (150, 30), (0, 0)])
def test_survey_responses_and_tickets_come_in_the_numbers_asked(tmp_path, survey_responses, tickets):
    dataset = generate_dataset(
        tmp_path,
        end=END,
        customers=CUSTOMERS,
        orders=ORDERS,
        months=MONTHS,
        seed=3,
        survey_responses=survey_responses,
        tickets=tickets,
    )
    rows = {table.name: table.rows for table in dataset.tables}
    assert (rows["survey_responses"], rows["support_tickets"]) == (survey_responses, tickets)
    assert (rows["customers"], rows["orders"]) == (CUSTOMERS, ORDERS)
    loaded = load_directory(dataset.directory)
    assert all(report.ok for report in loaded.reports.values())


def test_a_survey_total_keeps_the_ticket_and_staff_answers_and_makes_up_the_rest_with_nps(tmp_path):
    def kinds(folder, **sizes):
        dataset = generate_dataset(folder, end=END, customers=CUSTOMERS, orders=ORDERS, months=MONTHS, seed=3, **sizes)
        answers = read(dataset, "survey_responses").column("survey_kind").to_pylist()
        return {kind: answers.count(kind) for kind in ("nps", "csat", "ces", "employee")}

    usual = kinds(tmp_path / "usual", tickets=600)
    more = kinds(tmp_path / "more", tickets=600, survey_responses=3 * sum(usual.values()))
    fewer = kinds(tmp_path / "fewer", tickets=600, survey_responses=sum(usual.values()) // 4)
    assert usual["nps"] == round(CUSTOMERS * 0.3)
    assert more["nps"] == 3 * sum(usual.values()) - (more["csat"] + more["ces"] + more["employee"])
    assert more["csat"] + more["ces"] == pytest.approx(usual["csat"] + usual["ces"], rel=0.15)  # from the tickets
    assert more["employee"] == pytest.approx(usual["employee"], rel=0.25)  # from the staff
    assert fewer["nps"] / sum(fewer.values()) == pytest.approx(usual["nps"] / sum(usual.values()), abs=0.01)
    assert all(count > 0 for count in fewer.values())


def test_the_sizes_cannot_be_negative(tmp_path):
    with pytest.raises(ValueError, match="negative count of survey responses or tickets"):
        generate_dataset(tmp_path, end=END, customers=CUSTOMERS, tickets=-1)


def test_bad_rows_are_found_by_validation_exactly_where_they_were_put(tmp_path):
    spoilt = generate(tmp_path, bad_rows=True)
    loaded = load_directory(spoilt.directory, on_error="skip")
    found = {
        (problem.table, problem.column, problem.kind, problem.rows)
        for report in loaded.reports.values()
        for problem in report.problems
    }
    assert found == {(problem.table, problem.column, problem.kind, problem.rows) for problem in spoilt.injected}
    assert len({problem.table for problem in spoilt.injected}) >= 5


def test_the_command_says_what_it_wrote(tmp_path):
    result = CliRunner().invoke(
        app,
        [
            "demo-data",
            "--customers",
            "50",
            "--orders",
            "300",
            "--months",
            "3",
            "--end",
            "2026-10",
            "--out",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 0, result.output
    assert f"Wrote 14 tables to {tmp_path} in " in result.output
    assert "3 months to 2026-10, seed 42." in result.output
    assert re.search(r"│ orders +│ 300 +│", result.output)
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(f"{name}.parquet" for name in TABLES)


def test_the_command_writes_the_survey_responses_and_tickets_asked(tmp_path):
    options = ["--customers", "50", "--orders", "300", "--survey-responses", "120", "--tickets", "40"]
    result = CliRunner().invoke(
        app, ["demo-data", *options, "--months", "3", "--end", "2026-10", "--out", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    assert re.search(r"│ survey_responses +│ 120 +│", result.output)
    assert re.search(r"│ support_tickets +│ 40 +│", result.output)


def test_the_command_refuses_a_month_it_cannot_read(tmp_path):
    result = CliRunner().invoke(app, ["demo-data", "--end", "October", "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "--end must be a month like 2026-10, got 'October'" in result.output
