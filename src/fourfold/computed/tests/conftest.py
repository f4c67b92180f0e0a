"""The fixture of the tests of computed KPIs: a folder source and three KPIs computed from it."""

from __future__ import annotations

import pytest

from fourfold.computed.services import computed_kpi_set, data_source_create
from fourfold.computed.tests.rawdata import new_kpi, write_data


@pytest.fixture
def setup(world, tmp_path):
    source = data_source_create(
        by=world.org_admin, organisation=world.organisation, name="Warehouse", location=str(write_data(tmp_path / "d"))
    )
    kpis = {
        "revenue": new_kpi(world, "revenue", unit="currency", currency_code="USD", aggregation="sum"),
        "nps": new_kpi(world, "nps", unit="number", aggregation="ratio"),
        "cac_paid": new_kpi(world, "cac_paid", unit="currency", currency_code="USD", aggregation="ratio"),
    }
    computed_kpi_set(by=world.editor, kpi=kpis["revenue"], source=source, metric="revenue")
    computed_kpi_set(by=world.editor, kpi=kpis["nps"], source=source, metric="nps")
    computed_kpi_set(
        by=world.editor,
        kpi=kpis["cac_paid"],
        source=source,
        metric="cac_by_channel",
        segment_by="channel",
        segment="Paid search",
    )
    return world, source, kpis, tmp_path / "d"
