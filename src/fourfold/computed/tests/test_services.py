"""Computation runs against the database: values with lineage, idempotent reruns, all-or-nothing failures,
only what changed, no data with its reason, fiscal quarters, segments, bindings and who may set them.

The raw data is a handful of rows written out below; every expected number is worked out from them by hand.
"""

from __future__ import annotations

import math
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from fourfold.audit.models import AuditEntry
from fourfold.computed.models import ComputationRun, ComputedKpi, DataSource, ValueLineage
from fourfold.computed.services import (
    computation_run,
    computed_kpi_remove,
    computed_kpi_set,
    data_source_create,
    data_source_delete,
    data_source_update,
)
from fourfold.computed.tests.rawdata import ORDERS, OWN_DEFINITION, TODAY, new_kpi, run, values, write_data
from fourfold.measures.models import Actual, ActualRevision, Kpi
from fourfold.measures.scoring import kpi_history
from fourfold.metrics.definitions import fingerprint
from fourfold.metrics.library import load_library
from fourfold.strategy.services import organisation_update


def test_a_run_stores_every_period_that_has_ended_with_its_lineage(setup):
    world, source, kpis, _ = setup
    result = run(world)
    assert result.status == ComputationRun.Status.SUCCEEDED, result.message
    revenue = values(kpis["revenue"])
    # May has begun but not ended on 10 May: its 999 is not recorded yet.
    assert {key: actual.value for key, actual in revenue.items()} == {
        "2026-01": Decimal(100),
        "2026-02": Decimal(50),
        "2026-03": Decimal(30),
        "2026-04": Decimal(80),
    }
    january = revenue["2026-01"]
    assert january.source == Actual.Source.COMPUTED
    assert january.sample_size == 2  # two orders behind the number
    lineage = january.lineage
    assert (lineage.run, lineage.metric, lineage.rows) == (result, "revenue", 2)
    assert lineage.definition_fingerprint == fingerprint("revenue", load_library())
    assert result.rows_read == {"orders": 6, "customers": 3, "survey_responses": 14, "marketing_spend": 3}
    # Four months of revenue, two of NPS, and two of CAC (see the test of a division by zero).
    assert (result.values_created, result.values_changed, result.values_unchanged) == (8, 0, 0)
    assert kpis["revenue"].computation.source == source


def test_survey_values_carry_their_responses_margin_of_error_and_small_sample_flag(setup):
    world, _, kpis, _ = setup
    run(world)
    nps = values(kpis["nps"])
    january = nps["2026-01"]
    assert january.value == Decimal(30)
    # 1.96 × √((0.5 + 0.2 − 0.3²) / 10) × 100 points
    assert float(january.margin_of_error) == pytest.approx(100 * 1.96 * math.sqrt((0.5 + 0.2 - 0.09) / 10), abs=1e-8)
    assert (january.sample_size, january.small_sample) == (10, True)
    # NPS is 100 × net promoters / answers in points: stored as 300 over 10, so periods recombine to points.
    assert (january.numerator, january.denominator) == (Decimal(300), Decimal(10))
    results = kpi_history(kpis["nps"], [world.organisation.calendar.parse("2026-01")], today=TODAY)
    assert "rests on only 10 responses" in results["2026-01"].explanation()


def test_a_quarter_recombines_monthly_nps_from_the_stored_parts(setup):
    world = setup[0]
    run(world)
    from fourfold.engine.model import View
    from fourfold.measures.scoring import scorecard_evaluation

    evaluation = scorecard_evaluation(world.scorecard, View(world.organisation.calendar.parse("2026-Q1")), today=TODAY)
    (nps,) = [result for result in evaluation.result.iter_kpis() if result.kpi.key == "nps"]
    # (5 − 2 + 2 − 2) net promoters of 14 answers: 100 × 3 / 14 points.
    assert nps.actual.value == pytest.approx(100 * 3 / 14)


def test_a_division_by_zero_is_no_data_with_its_reason(setup):
    world, _, kpis, _ = setup
    result = run(world)
    cac = values(kpis["cac_paid"])
    # December: c1 signed up through paid search, which spent nothing then (CAC 0); January: spend but no
    # sign-up, no value; February: 100 spent for c3.
    assert {key: actual.value for key, actual in cac.items()} == {"2025-12": Decimal(0), "2026-02": Decimal(100)}
    assert {"kpi": "cac_paid", "period": "2026-01", "reason": "divides by zero: 200 over a denominator of 0"} in (
        result.notes
    )


def test_a_rerun_on_the_same_data_changes_nothing(setup):
    world, _, _, _ = setup
    run(world)
    entries, revisions = AuditEntry.objects.count(), ActualRevision.objects.count()
    again = run(world)
    assert (again.values_created, again.values_changed, again.values_withdrawn, again.values_unchanged) == (0, 0, 0, 8)
    assert AuditEntry.objects.count() == entries
    assert ActualRevision.objects.count() == revisions


def test_changed_data_replaces_values_keeps_the_old_ones_and_links_the_new_run(setup):
    world, _, kpis, folder = setup
    first = run(world)
    write_data(folder, orders=ORDERS.replace("o4,c3,2026-03-15,30", "o4,c3,2026-03-15,35"))
    second = run(world)
    march = values(kpis["revenue"])["2026-03"]
    assert march.value == Decimal(35)
    assert march.lineage.run == second != first
    (revision,) = ActualRevision.objects.filter(kpi=kpis["revenue"])
    assert (revision.period_key, revision.value) == ("2026-03", Decimal(30))
    assert (second.values_changed, second.values_unchanged) == (1, 7)


def test_changed_only_computes_from_the_first_month_whose_rows_changed(setup):
    world, _, kpis, folder = setup
    run(world, changed_only=True)  # no earlier run: everything
    write_data(folder, orders=ORDERS.replace("o5,c2,2026-04-02,80", "o5,c2,2026-04-02,90"))
    second = run(world, changed_only=True)
    # April's orders changed: revenue is computed from April on (one value), NPS and CAC not at all, as
    # their inputs (surveys, spend, customers) did not change.
    assert (second.values_created, second.values_changed, second.values_unchanged) == (0, 1, 0)
    assert values(kpis["revenue"])["2026-04"].value == Decimal(90)
    third = run(world, changed_only=True)
    assert (third.values_changed, third.values_unchanged, third.status) == (0, 0, ComputationRun.Status.SUCCEEDED)


def test_bad_rows_stop_the_run_before_anything_is_written(setup):
    world, _, kpis, folder = setup
    run(world)
    before = {key: actual.value for key, actual in values(kpis["revenue"]).items()}
    write_data(folder, orders=ORDERS.replace("o3,c1,2026-02-03,50", "o3,c1,2026-02-03,-50") + "o1,c1,2026-04-09,5\n")
    failed = run(world)
    assert failed.status == ComputationRun.Status.FAILED
    assert "orders.amount (orders.csv): negative in 1 row (row 3); expected 0 or more" in failed.message
    assert "orders.id (orders.csv): duplicate id in 1 row (row 7)" in failed.message
    assert {key: actual.value for key, actual in values(kpis["revenue"]).items()} == before


def test_skipping_invalid_rows_reports_them_and_computes_the_rest(setup):
    world, source, kpis, folder = setup
    data_source_update(by=world.org_admin, source=source, changes={"skip_invalid_rows": True})
    write_data(folder, orders=ORDERS.replace("o3,c1,2026-02-03,50", "o3,c1,2026-02-03,-50"))
    result = run(world)
    assert result.status == ComputationRun.Status.SUCCEEDED
    assert result.rows_skipped == {"orders": 1}
    assert "2026-02" not in values(kpis["revenue"])  # its only order was left out


def test_a_crash_while_writing_leaves_no_value_behind(setup, monkeypatch):
    world, _, _, _ = setup
    from fourfold.computed import services
    from fourfold.measures.services import actual_store as original

    written: list[str] = []

    def store_then_crash(**arguments):
        if len(written) == 3:
            raise OSError("disk full")
        written.append(arguments["period_key"])
        return original(**arguments)

    monkeypatch.setattr(services, "actual_store", store_then_crash)
    with pytest.raises(OSError, match="disk full"):
        run(world)
    assert Actual.objects.count() == 0
    assert ValueLineage.objects.count() == 0
    (crashed,) = ComputationRun.objects.all()
    assert (crashed.status, crashed.message) == (ComputationRun.Status.FAILED, "OSError: disk full")


def test_values_with_no_data_any_more_are_withdrawn_and_kept_in_history(setup):
    world, _, kpis, folder = setup
    run(world)
    write_data(folder, orders="\n".join(line for line in ORDERS.splitlines() if "2026-03" not in line) + "\n")
    result = run(world)
    assert "2026-03" not in values(kpis["revenue"])
    assert result.values_withdrawn == 1
    assert ActualRevision.objects.filter(kpi=kpis["revenue"], period_key="2026-03", value=30).exists()
    assert {"kpi": "revenue", "period": "2026-03", "reason": "no rows in the data for this period"} in result.notes


def test_quarterly_kpis_use_the_fiscal_quarters_and_wait_for_the_quarter_to_end(world, tmp_path):
    organisation_update(by=world.org_admin, organisation=world.organisation, changes={"fiscal_year_start_month": 4})
    source = data_source_create(
        by=world.org_admin, organisation=world.organisation, name="Warehouse", location=str(write_data(tmp_path))
    )
    kpi = new_kpi(
        world, "quarterly_revenue", unit="currency", currency_code="USD", aggregation="sum", frequency="quarterly"
    )
    computed_kpi_set(by=world.editor, kpi=kpi, source=source, metric="revenue")
    run(world)
    # The fiscal year starts in April: January to March 2026 is the last quarter of the year named 2025.
    # The quarter from April has not ended on 10 May.
    assert {key: actual.value for key, actual in values(kpi).items()} == {"2025-Q4": Decimal(180)}


def test_a_kpi_can_be_one_segment_of_a_metric(setup):
    world, source, _, _ = setup
    kpi = new_kpi(world, "nps_enterprise", unit="number", aggregation="ratio")
    computed_kpi_set(by=world.editor, kpi=kpi, source=source, metric="nps", segment_by="segment", segment="Enterprise")
    run(world)
    # Enterprise answered 10, 10, 9, 9, 9, 8, 7, 8 in January (5 promoters of 8) and 10 in February.
    assert {key: actual.value for key, actual in values(kpi).items()} == {
        "2026-01": Decimal("62.5"),
        "2026-02": Decimal(100),
    }
    assert values(kpi)["2026-01"].lineage.segment == "Enterprise"


def test_period_bounds_choose_what_is_computed(setup):
    world, _, kpis, _ = setup
    run(world, period_from="2026-02", period_to="2026-05")
    assert sorted(values(kpis["revenue"])) == ["2026-02", "2026-03", "2026-04", "2026-05"]
    with pytest.raises(ValidationError) as error:
        run(world, period_from="2026-13")
    assert "period_from" in error.value.message_dict


@pytest.mark.parametrize(
    ("kpi_fields", "binding", "field", "message"),
    [
        ({"unit": "number"}, {"metric": "revenu"}, "metric", "No definition is called “revenu”"),
        ({"unit": "percent", "aggregation": "sum"}, {"metric": "revenue"}, "metric", "measured as currency"),
        (
            {"unit": "currency", "currency_code": "USD", "aggregation": "average"},
            {"metric": "revenue"},
            "metric",
            "combines periods by “Sum”",
        ),
        (
            {"unit": "currency", "currency_code": "USD", "aggregation": "sum", "frequency": "weekly"},
            {"metric": "revenue"},
            "metric",
            "Weekly KPIs cannot be computed",
        ),
        (
            {"unit": "currency", "currency_code": "USD", "aggregation": "ratio"},
            {"metric": "cac_by_channel"},
            "segment_by",
            "always split by channel",
        ),
        (
            {"unit": "currency", "currency_code": "USD", "aggregation": "sum"},
            {"metric": "revenue", "segment_by": "segment"},
            "segment",
            "Name the segment",
        ),
        (
            {"unit": "currency", "currency_code": "USD", "aggregation": "ratio"},
            {"metric": "cac", "segment_by": "region", "segment": "North"},
            "segment_by",
            "cannot be split by region",
        ),
        (
            {"unit": "duration", "duration_unit": "minutes", "aggregation": "ratio"},
            {"metric": "first_response_time"},
            "metric",
            "is in hours",
        ),
    ],
)
def test_a_kpi_that_does_not_fit_the_metric_is_refused_on_the_field(setup, kpi_fields, binding, field, message):
    world, source, _, _ = setup
    kpi = new_kpi(world, "candidate", **kpi_fields)
    with pytest.raises(ValidationError) as error:
        computed_kpi_set(by=world.editor, kpi=kpi, source=source, **binding)
    assert message in " ".join(error.value.message_dict[field])
    assert not ComputedKpi.objects.filter(kpi=kpi).exists()


@pytest.mark.parametrize(
    ("role", "allowed"), [("editor", True), ("admin", True), ("updater", False), ("viewer", False)]
)
def test_only_editors_choose_how_a_kpi_is_computed(setup, role, allowed):
    world, source, _, _ = setup
    kpi = new_kpi(world, "new_customers", unit="count", aggregation="sum")
    if allowed:
        computed_kpi_set(by=world.user(role), kpi=kpi, source=source, metric="new_customers")
        assert Kpi.objects.get(pk=kpi.pk).source_kind == Kpi.SourceKind.COMPUTED
        computed_kpi_remove(by=world.user(role), kpi=kpi)
        assert Kpi.objects.get(pk=kpi.pk).source_kind == Kpi.SourceKind.MANUAL
    else:
        with pytest.raises(PermissionDenied):
            computed_kpi_set(by=world.user(role), kpi=kpi, source=source, metric="new_customers")


@pytest.mark.parametrize(
    ("role", "allowed"), [("org_admin", True), ("superuser", True), ("admin", False), ("editor", False)]
)
def test_only_organisation_admins_manage_sources_and_start_runs(world, tmp_path, role, allowed):
    user = world.user(role)
    if allowed:
        source = data_source_create(by=user, organisation=world.organisation, name="Files", location=str(tmp_path))
        assert computation_run(organisation=world.organisation, by=user, trigger=ComputationRun.Trigger.WEB) == []
        data_source_delete(by=user, source=source)
    else:
        with pytest.raises(PermissionDenied):
            data_source_create(by=user, organisation=world.organisation, name="Files", location=str(tmp_path))
        with pytest.raises(PermissionDenied):
            computation_run(organisation=world.organisation, by=user, trigger=ComputationRun.Trigger.WEB)


def test_a_source_mapping_and_its_definitions_are_checked_when_saved(world, tmp_path):
    with pytest.raises(ValidationError) as error:
        data_source_create(
            by=world.org_admin,
            organisation=world.organisation,
            name="Bad",
            location=str(tmp_path),
            kind=DataSource.Kind.MAPPING,
            mapping="tables:\n  order:\n    kind: csv\n    path: o.csv\n",
        )
    assert "'order' is not a canonical table (did you mean 'orders'?)" in error.value.message_dict["mapping"][0]
    with pytest.raises(ValidationError) as error:
        data_source_create(
            by=world.org_admin,
            organisation=world.organisation,
            name="Bad",
            location=str(tmp_path),
            definitions=OWN_DEFINITION.replace("big_order_revenue", "revenue"),
        )
    assert "KPI 'revenue', field 'key': the key is already used in" in error.value.message_dict["definitions"][0]


def test_a_source_with_computed_kpis_cannot_be_deleted(setup):
    world, source, _, _ = setup
    with pytest.raises(ValidationError, match="3 KPIs are computed from this source"):
        data_source_delete(by=world.org_admin, source=source)


def test_own_definitions_extend_the_library(setup):
    world, source, _, _ = setup
    data_source_update(by=world.org_admin, source=source, changes={"definitions": OWN_DEFINITION})
    kpi = new_kpi(world, "big_orders", unit="currency", currency_code="USD", aggregation="sum")
    computed_kpi_set(by=world.editor, kpi=kpi, source=source, metric="big_order_revenue")
    run(world)
    assert {key: actual.value for key, actual in values(kpi).items()} == {
        "2026-01": Decimal(60),
        "2026-02": Decimal(50),
        "2026-04": Decimal(80),
    }
    with pytest.raises(ValidationError, match="big_order_revenue, which would no longer be defined"):
        data_source_update(by=world.org_admin, source=source, changes={"definitions": ""})
