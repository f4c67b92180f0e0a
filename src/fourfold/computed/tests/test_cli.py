"""`fourfold sources …`, `fourfold compute` and `fourfold worker` as an operator uses them."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from fourfold.cli import app
from fourfold.computed.models import ComputationRun, ComputedKpi
from fourfold.computed.tests.rawdata import ORDERS, new_kpi, write_data
from fourfold.measures.models import Actual

runner = CliRunner()


@pytest.fixture
def bound(world, tmp_path):
    """A folder source added and a revenue KPI bound to it, through the command line."""
    folder = write_data(tmp_path / "data")
    kpi = new_kpi(world, "revenue", unit="currency", currency_code="USD", aggregation="sum")
    added = runner.invoke(
        app, ["sources", "add", "--org", "acme", "--name", "Files", "--folder", str(folder), "--as", "org_admin"]
    )
    assert added.exit_code == 0, added.output
    arguments = ["--org", "acme", "--scorecard", world.scorecard.name, "--source", "Files", "--as", "editor"]
    result = runner.invoke(app, ["sources", "bind", "--kpi", "revenue", "--metric", "revenue", *arguments])
    assert result.exit_code == 0, result.output
    assert "Revenue is now computed as revenue" in result.output.replace("revenue is", "Revenue is")
    return kpi, folder


def test_compute_writes_the_values_and_says_what_it_did(bound):
    kpi, _ = bound
    first = runner.invoke(app, ["compute", "--org", "acme", "--to", "2026-04"])
    assert first.exit_code == 0, first.output
    assert "Acme Learning / Files: 4 values created, 0 changed, 0 unchanged, 0 withdrawn" in first.output
    assert sorted(Actual.objects.filter(kpi=kpi).values_list("period_key", flat=True)) == [
        "2026-01",
        "2026-02",
        "2026-03",
        "2026-04",
    ]
    again = runner.invoke(app, ["compute", "--org", "acme", "--to", "2026-04"])
    assert "0 values created, 0 changed, 4 unchanged, 0 withdrawn" in again.output


def test_bad_rows_fail_the_run_with_the_rows_named_and_exit_code_2(bound):
    _, folder = bound
    write_data(folder, orders=ORDERS.replace("2026-02-03,50", "2026-02-31,50"))
    result = runner.invoke(app, ["compute", "--org", "acme", "--to", "2026-04"])
    assert result.exit_code == 2
    assert "Acme Learning / Files: failed" in result.output
    assert "orders.order_date (orders.csv): unreadable value in 1 row (row 3); expected a date" in result.output
    assert not Actual.objects.exists()


def test_a_binding_that_does_not_fit_is_refused_with_the_field(bound, world):
    new_kpi(world, "share", unit="percent", aggregation="ratio")
    arguments = ["--org", "acme", "--scorecard", world.scorecard.name, "--source", "Files", "--as", "editor"]
    result = runner.invoke(app, ["sources", "bind", "--kpi", "share", "--metric", "revenue", *arguments])
    assert result.exit_code == 2
    assert "metric: revenue is measured as currency; the KPI's unit is Percent." in result.output
    assert not ComputedKpi.objects.filter(kpi__key="share").exists()


def test_a_viewer_cannot_bind(bound, world):
    arguments = ["--org", "acme", "--scorecard", world.scorecard.name, "--source", "Files", "--as", "viewer"]
    result = runner.invoke(app, ["sources", "bind", "--kpi", "csat", "--metric", "csat", *arguments])
    assert result.exit_code == 2
    assert "You cannot change this scorecard's structure: it needs the Editor role" in result.output


def test_unknown_organisations_are_named(bound):
    result = runner.invoke(app, ["compute", "--org", "acme", "--org", "nowhere"])
    assert result.exit_code == 2
    assert "no organisation nowhere" in result.output


@pytest.mark.django_db(transaction=True)
def test_a_queued_computation_is_run_by_the_worker(bound):
    queued = runner.invoke(app, ["compute", "--org", "acme", "--enqueue", "--to", "2026-04"])
    assert queued.exit_code == 0, queued.output
    assert "Queued the computation of Acme Learning" in queued.output
    assert not ComputationRun.objects.exists()
    worked = runner.invoke(app, ["worker", "--once"])
    assert worked.exit_code == 0, worked.output
    (run,) = ComputationRun.objects.all()
    assert (run.trigger, run.status, run.values_created) == (ComputationRun.Trigger.TASK, "succeeded", 4)
