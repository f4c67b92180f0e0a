"""Raw data for the tests of computed KPIs: a handful of rows written out, so every number can be worked
out by hand, and the helpers that bind KPIs to it and run computations."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from fourfold.computed.models import ComputationRun
from fourfold.computed.services import computation_run
from fourfold.measures.models import Actual
from fourfold.measures.services import kpi_create

TODAY = dt.date(2026, 5, 10)
"""April 2026 is the last month that has ended; for calendar quarters, Q1 2026."""

ORDERS = """id,customer_id,order_date,amount
o1,c1,2026-01-05,60
o2,c2,2026-01-20,40
o3,c1,2026-02-03,50
o4,c3,2026-03-15,30
o5,c2,2026-04-02,80
o6,c3,2026-05-03,999
"""
CUSTOMERS = """id,signup_date,segment,channel
c1,2025-12-01,Enterprise,Paid search
c2,2026-01-10,Consumer,Organic search
c3,2026-02-20,Enterprise,Paid search
"""
# January: 10 NPS answers, 5 promoters (9-10), 3 passives (7-8), 2 detractors (0-6): NPS 30 from too few answers.
# February: 4 answers, 2 promoters and 2 detractors: NPS 0.
SURVEYS = "id,survey_kind,score,scale_max,submitted_at,segment\n" + "".join(
    f"r{index},nps,{score},10,{day}T10:00:00,{segment}\n"
    for index, (score, day, segment) in enumerate(
        [(score, "2026-01-15", "Enterprise") for score in (10, 10, 9, 9, 9, 8, 7, 8)]
        + [(5, "2026-01-16", "Consumer"), (3, "2026-01-17", "Consumer")]
        + [(10, "2026-02-02", "Enterprise"), (6, "2026-02-03", "Consumer"), (9, "2026-02-04", "Consumer")]
        + [(2, "2026-02-05", "Consumer")]
    )
)
# Paid search: 200 spent in January, when nobody signed up through it (no value: a division by zero);
# 100 in February, when c3 did (CAC 100).
SPEND = """spend_date,channel,amount
2026-01-10,Paid search,200
2026-02-12,Paid search,100
2026-02-13,Organic search,0
"""


OWN_DEFINITION = """kpis:
  - key: big_order_revenue
    name: Revenue from big orders
    description: Orders of 50 or more.
    perspective: financial
    unit: currency
    direction: higher
    aggregation: sum
    type: simple
    measure: {table: orders, time: order_date, aggregate: sum, value: amount, where: [{column: amount, at_least: 50}]}
"""


def write_data(folder: Path, **overrides: str) -> Path:
    folder.mkdir(exist_ok=True)
    tables = {"orders": ORDERS, "customers": CUSTOMERS, "survey_responses": SURVEYS, "marketing_spend": SPEND}
    for name, text in {**tables, **overrides}.items():
        (folder / f"{name}.csv").write_text(text)
    return folder


def new_kpi(world, key, **fields):
    return kpi_create(by=world.editor, objective=world.objective, key=key, name=key.replace("_", " "), **fields)


def run(world, **options):
    (only,) = computation_run(
        organisation=world.organisation, by=None, trigger=ComputationRun.Trigger.CLI, today=TODAY, **options
    )
    return only


def values(kpi):
    return {actual.period_key: actual for actual in Actual.objects.filter(kpi=kpi).select_related("lineage__run")}
