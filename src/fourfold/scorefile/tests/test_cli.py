"""``fourfold score`` as a person and a script meet it: a readable tree, valid JSON, and every problem at once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fourfold.cli import app

EXAMPLES = Path(__file__).resolve().parents[4] / "examples"
ONLINE_LEARNING = str(EXAMPLES / "online-learning.yaml")
runner = CliRunner()


def score(*arguments: str):
    return runner.invoke(app, ["score", *arguments, "--today", "2026-11-15"])


def test_the_table_shows_each_scorecard_with_numbers_and_explanations():
    result = score(ONLINE_LEARNING)
    assert result.exit_code == 0, result.output
    output = result.stdout
    assert output.startswith("Scores for Oct 2026 (2026-10), the period alone")
    assert "Brightpath Learning (brightpath) · score 7.03 · On target" in output
    assert "Content studio (content) · score 6.79 · On target" in output
    assert "F1 Grow recurring revenue · score 6.18 · Watch" in output
    # Rich wraps long lines at 80 columns; the words, not the line breaks, are what is checked.
    words = " ".join(line.strip("│├└─ ") for line in output.splitlines())
    assert "revenue Subscription revenue: EUR 447,800, target EUR 460,000 · score 5.99 · Watch" in words
    assert "completion_rate Course completion rate: 63.9 %, target 65.0 % · score 6.13" in words
    assert "Scored 5.99 because 447800 lies 79.7 % of the way from the red flag 400000 to the goal 460000." in words
    assert "review_backlog Courses waiting for review: 6, target 5 · no score · Watch" in words


def test_json_is_the_engine_result_with_the_period_spelled_out():
    result = score(ONLINE_LEARNING, "--format", "json", "--period", "2026-Q1", "--span", "ytd")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["period"] == {
        "key": "2026-Q1",
        "label": "Q1 FY2026",
        "frequency": "quarterly",
        "start": "2026-09-01",
        "end": "2026-11-30",
    }
    assert (report["span"], report["today"]) == ("ytd", "2026-11-15")
    scorecard = report["scorecard"]
    assert (scorecard["id"], scorecard["period"], scorecard["span"]) == ("brightpath", "2026-Q1", "ytd")
    revenue = scorecard["perspectives"][0]["objectives"][0]["kpis"][0]
    # Fiscal year to date: September and October 2026 reported, November not yet.
    assert (revenue["key"], revenue["actual"]) == ("revenue", 452300 + 447800)
    assert scorecard["children"][0]["id"] == "content"


def test_an_invalid_file_exits_2_listing_every_problem():
    result = score(str(EXAMPLES / "invalid.yaml"))
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0] == f"error: {EXAMPLES / 'invalid.yaml'} has 13 problems:"
    assert len(lines) == 14
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("period", "expected"),
    [
        ("March", "error: --period: 'March' is not a period key (expected YYYY-MM, YYYY-Qn, YYYY or YYYY-Wnn)"),
        ("2026-13", "error: --period: '2026-13' is not a period key: the month must be 01-12"),
    ],
)
def test_an_unknown_period_format_is_refused_clearly(period, expected):
    result = score(ONLINE_LEARNING, "--period", period)
    assert result.exit_code == 2
    assert result.stderr.startswith(expected)


def test_a_bad_today_is_refused_clearly():
    result = runner.invoke(app, ["score", ONLINE_LEARNING, "--today", "15/11/2026"])
    assert result.exit_code == 2
    assert result.stderr == "error: --today must be a date like 2026-03-31, got '15/11/2026'\n"


def test_a_missing_file_is_a_problem_not_a_traceback(tmp_path):
    result = score(str(tmp_path / "nowhere.yaml"))
    assert result.exit_code == 2
    assert "cannot be read: No such file or directory" in result.stderr


def test_a_file_without_values_needs_a_period(tmp_path):
    empty = tmp_path / "empty.yaml"
    empty.write_text("version: 1\nkey: co\nname: Company\n")
    assert "has no values to choose a period by; give one with --period" in score(str(empty)).stderr
    assert score(str(empty), "--period", "2026-03").exit_code == 0


def test_scoring_a_file_starts_no_django():
    """The command must work where no database is configured: it never calls django.setup()."""
    code = (
        "import sys; from typer.testing import CliRunner; from fourfold.cli import app; "
        f"result = CliRunner().invoke(app, ['score', {ONLINE_LEARNING!r}]); "
        "assert result.exit_code == 0, result.output; "
        "from django.apps import apps; print(apps.ready)"
    )
    environment = {key: value for key, value in os.environ.items() if key not in {"DJANGO_SETTINGS_MODULE"}}
    finished = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, env=environment
    )
    assert finished.returncode == 0, finished.stderr
    assert finished.stdout.strip() == "False"


def test_the_scorefile_package_imports_no_django():
    code = (
        "import sys, fourfold.scorefile.load, fourfold.scorefile.report; "
        "print(sorted(name for name in sys.modules if name.split('.')[0] == 'django'))"
    )
    finished = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert finished.stdout.strip() == "[]"


def test_the_command_explains_itself():
    result = runner.invoke(app, ["score", "--help"])
    assert result.exit_code == 0
    assert "Score a scorecard file, without a database" in result.stdout
    assert "--span" in result.stdout
