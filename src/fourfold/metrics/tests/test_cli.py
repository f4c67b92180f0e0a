"""`fourfold metrics …` and `fourfold demo-data` as an analyst uses them, without the application database."""

from __future__ import annotations

import csv

from typer.testing import CliRunner

from fourfold.cli import app

runner = CliRunner()


def test_run_computes_from_generated_files_into_csv(tmp_path):
    data, out = tmp_path / "data", tmp_path / "kpis.csv"
    made = runner.invoke(
        app, ["demo-data", "--customers", "300", "--orders", "3000", "--end", "2026-10", "--out", str(data)]
    )
    assert made.exit_code == 0, made.output
    result = runner.invoke(
        app, ["metrics", "run", "--data", str(data), "--out", str(out), "--kpi", "nps", "--kpi", "revenue"]
    )
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(out.open()))
    assert {row["kpi"] for row in rows} == {"nps", "revenue"}
    assert list(rows[0]) == [
        "kpi",
        "period_start",
        "segment",
        "value",
        "numerator",
        "denominator",
        "n",
        "margin_of_error",
        "too_few_responses",
    ]
    nps = [row for row in rows if row["kpi"] == "nps"]
    assert all(-100 <= float(row["value"]) <= 100 for row in nps)
    assert all(row["margin_of_error"] for row in nps)


def test_run_stops_on_bad_rows_and_names_them(tmp_path):
    data = tmp_path / "data"
    made = runner.invoke(
        app,
        ["demo-data", "--customers", "300", "--orders", "3000", "--end", "2026-10", "--out", str(data), "--bad-rows"],
    )
    assert made.exit_code == 0, made.output
    result = runner.invoke(app, ["metrics", "run", "--data", str(data), "--out", str(tmp_path / "x.csv")])
    assert result.exit_code == 2
    assert "row" in result.output
    assert not (tmp_path / "x.csv").exists()
    skipped = runner.invoke(
        app,
        [
            "metrics",
            "run",
            "--data",
            str(data),
            "--out",
            str(tmp_path / "y.csv"),
            "--skip-invalid-rows",
            "--kpi",
            "nps",
        ],
    )
    assert skipped.exit_code == 0, skipped.output
    assert "left out" in skipped.output


def test_validate_and_explain(tmp_path):
    assert runner.invoke(app, ["metrics", "validate", "--help"]).exit_code == 0
    bad = tmp_path / "mine.yaml"
    bad.write_text("kpis:\n  - key: revenue_twice\n    type: growth\n    of: revenu\n")
    result = runner.invoke(app, ["metrics", "validate", str(bad)])
    assert result.exit_code == 2
    assert "mine.yaml" in result.output
    explained = runner.invoke(app, ["metrics", "explain", "nps"])
    assert explained.exit_code == 0, explained.output
    assert "SELECT" in explained.output
    assert runner.invoke(app, ["metrics", "explain", "nope"]).exit_code == 2


def test_run_uses_the_fiscal_year_given(tmp_path):
    data, out = tmp_path / "data", tmp_path / "kpis.csv"
    made = runner.invoke(
        app, ["demo-data", "--customers", "200", "--orders", "800", "--end", "2026-10", "--out", str(data)]
    )
    assert made.exit_code == 0, made.output
    arguments = ["metrics", "run", "--data", str(data), "--out", str(out), "--kpi", "revenue", "--grain", "year"]
    result = runner.invoke(app, [*arguments, "--fiscal-year-start-month", "9"])
    assert result.exit_code == 0, result.output
    # Fiscal years from September: every year starts on 1 September.
    assert {row["period_start"][5:] for row in csv.DictReader(out.open())} == {"09-01"}
