"""Every library KPI against numbers worked out by hand from a tiny data set, and the generated docs page.

The data below is small enough to check on paper: each expected value comes with the arithmetic that gives
it, written from the rows, never from the compiled expression. Periods run from January to April 2024.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Sequence
from pathlib import Path

import ibis
import pyarrow as pa
import pytest

from fourfold.metrics.compile import compute
from fourfold.metrics.library import LIBRARY_FILES, library_page, load_library

D = datetime.date
T = datetime.datetime
PAGE = Path(__file__).resolve().parents[4] / "docs" / "kpi-library.md"


def tiny_tables() -> dict[str, pa.Table]:
    """Four customers, eight orders, some surveys, tickets and four employees, as Arrow tables."""
    date, stamp, text, number, flag = pa.date32(), pa.timestamp("us"), pa.string(), pa.float64(), pa.bool_()

    def table(columns: dict[str, tuple[pa.DataType, Sequence[object]]]) -> pa.Table:
        return pa.table({name: pa.array(values, kind) for name, (kind, values) in columns.items()})

    return {
        "customers": table(
            {
                "id": (text, ["c1", "c2", "c3", "c4"]),
                "signup_date": (date, [D(2024, 1, 5), D(2024, 1, 20), D(2024, 2, 3), D(2024, 2, 25)]),
                "segment": (text, ["smb", "ent", "smb", "ent"]),
                "channel": (text, ["ads", "seo", "ads", "referral"]),
                "region": (text, ["north", "south", "north", "south"]),
                "plan": (text, ["basic", "pro", "pro", "basic"]),
                "loyalty_member": (flag, [True, False, True, False]),
            }
        ),
        "orders": table(
            {
                "id": (text, [f"o{i}" for i in range(1, 9)]),
                "customer_id": (text, ["c1", "c2", "c1", "c3", "c1", "c4", "c3", "c3"]),
                "order_date": (
                    date,
                    [
                        D(2024, 1, 6),
                        D(2024, 1, 25),
                        D(2024, 1, 28),
                        D(2024, 2, 10),
                        D(2024, 2, 14),
                        D(2024, 3, 2),
                        D(2024, 3, 9),
                        D(2024, 3, 30),
                    ],
                ),
                "amount": (number, [100.0, 50.0, 30.0, 80.0, 40.0, 60.0, 20.0, 10.0]),
                "gross_margin": (number, [40.0, 20.0, 10.0, 30.0, 25.0, 25.0, 5.0, None]),
                "product_id": (text, ["p1", "p1", "p2", "p2", "p1", "p2", "p1", "p1"]),
            }
        ),
        "subscriptions": table(
            {
                "customer_id": (text, ["c1", "c1", "c2", "c3", "c3", "c4"]),
                "start_date": (
                    date,
                    [D(2024, 1, 5), D(2024, 4, 16), D(2024, 1, 20), D(2024, 2, 3), D(2024, 4, 1), D(2024, 2, 25)],
                ),
                "end_date": (date, [D(2024, 4, 15), None, D(2024, 2, 14), D(2024, 3, 31), None, D(2024, 3, 10)]),
                "recurring_amount": (number, [10.0, 6.0, 20.0, 30.0, 25.0, 15.0]),
            }
        ),
        "marketing_spend": table(
            {
                "spend_date": (date, [D(2024, 1, 10), D(2024, 1, 15), D(2024, 2, 1), D(2024, 3, 5)]),
                "channel": (text, ["ads", "seo", "ads", "seo"]),
                "amount": (number, [300.0, 100.0, 250.0, 90.0]),
            }
        ),
        "leads": table(
            {
                "id": (text, [f"l{i}" for i in range(1, 8)]),
                "created_date": (
                    date,
                    [
                        D(2024, 1, 2),
                        D(2024, 1, 10),
                        D(2024, 1, 15),
                        D(2024, 2, 1),
                        D(2024, 2, 10),
                        D(2024, 2, 20),
                        D(2024, 2, 25),
                    ],
                ),
                "channel": (text, ["ads", "seo", "ads", "ads", "seo", "ads", "seo"]),
                "converted_date": (
                    date,
                    [D(2024, 1, 5), D(2024, 1, 20), None, D(2024, 2, 3), None, D(2024, 3, 1), None],
                ),
                "customer_id": (text, ["c1", "c2", None, "c3", None, None, None]),
            }
        ),
        "market_totals": table(
            {
                "period_start": (date, [D(2024, 1, 1), D(2024, 2, 1), D(2024, 1, 1), D(2024, 1, 1), D(2024, 2, 1)]),
                "segment": (text, [None, None, "smb", "ent", "smb"]),
                "market_revenue": (number, [1000.0, 1200.0, 400.0, 600.0, 500.0]),
            }
        ),
        "survey_responses": _surveys(),
        "support_tickets": table(
            {
                "id": (text, [f"t{i}" for i in range(1, 9)]),
                "customer_id": (text, ["c1", "c2", "c1", "c3", "c3", "c4", "c2", "c1"]),
                "kind": (
                    text,
                    [
                        "complaint",
                        "complaint",
                        "question",
                        "complaint",
                        "feedback",
                        "complaint",
                        "feedback",
                        "complaint",
                    ],
                ),
                "opened_at": (
                    stamp,
                    [
                        T(2024, 1, 2, 8),
                        T(2024, 1, 10, 9),
                        T(2024, 1, 15, 10),
                        T(2024, 1, 28, 12),
                        T(2024, 2, 5, 9),
                        T(2024, 2, 27),
                        T(2024, 2, 10, 10),
                        T(2024, 2, 3),
                    ],
                ),
                "first_response_at": (
                    stamp,
                    [
                        T(2024, 1, 2, 10),
                        T(2024, 1, 10, 12),
                        T(2024, 1, 15, 11, 30),
                        None,
                        T(2024, 2, 6, 9),
                        T(2024, 2, 27, 6),
                        None,
                        T(2024, 2, 3, 1),
                    ],
                ),
                "resolved_at": (
                    stamp,
                    [
                        T(2024, 1, 3, 8),
                        T(2024, 1, 12, 9),
                        T(2024, 1, 15, 14),
                        T(2024, 2, 2, 12),
                        None,
                        T(2024, 2, 28),
                        None,
                        T(2024, 2, 4),
                    ],
                ),
                "contacts_to_resolve": (pa.int64(), [1, 2, 1, 3, None, 1, None, None]),
                "channel": (text, ["email", "phone", "chat", "email", "email", "phone", "chat", "email"]),
            }
        ),
        "employees": table(
            {
                "id": (text, ["e1", "e2", "e3", "e4"]),
                "hire_date": (date, [D(2023, 6, 1), D(2023, 9, 1), D(2024, 1, 15), D(2024, 2, 1)]),
                "leave_date": (date, [None, D(2024, 1, 31), None, D(2024, 2, 20)]),
                "department": (text, ["sales", "ops", "ops", "sales"]),
                "fte": (number, [1.0, 0.5, 1.0, 1.0]),
            }
        ),
        "training_enrollments": table(
            {
                "employee_id": (text, ["e1", "e2", "e3", "e1", "e4"]),
                "course_id": (text, ["k1", "k1", "k2", "k3", "k2"]),
                "enrolled_date": (date, [D(2024, 1, 5), D(2024, 1, 5), D(2024, 1, 20), D(2024, 2, 1), D(2024, 2, 2)]),
                "completed_date": (date, [D(2024, 1, 20), None, D(2024, 2, 10), D(2024, 2, 15), None]),
                "hours": (number, [8.0, 8.0, 4.0, 2.0, 4.0]),
                "cost": (number, [400.0, 400.0, 200.0, 100.0, 200.0]),
                "objectives_met": (flag, [True, None, False, True, None]),
                "pre_score": (number, [50.0, None, 40.0, 60.0, None]),
                "post_score": (number, [80.0, None, 45.0, 70.0, None]),
                "attributed_benefit": (number, [1000.0, None, None, 50.0, None]),
            }
        ),
        "projects": table(
            {
                "id": (text, ["pr1", "pr2", "pr3", "pr4", "pr5"]),
                "end_date": (date, [D(2024, 1, 31), D(2024, 1, 15), D(2024, 2, 10), None, D(2024, 2, 28)]),
                "successful": (flag, [True, False, None, None, True]),
            }
        ),
        "products": table(
            {
                "id": (text, ["p1", "p2", "p3"]),
                "launch_date": (date, [D(2024, 1, 10), D(2024, 3, 1), D(2024, 3, 15)]),
                "kind": (text, ["core", "addon", "core"]),
            }
        ),
        "social_engagement": table(
            {
                "activity_date": (date, [D(2024, 1, 3), D(2024, 1, 20), D(2024, 2, 2)]),
                "platform": (text, ["insta", "tiktok", "insta"]),
                "impressions": (pa.int64(), [1000, 3000, 2000]),
                "engagements": (pa.int64(), [50, 240, 60]),
            }
        ),
        "reviews": table(
            {
                "review_date": (date, [D(2024, 1, 4), D(2024, 1, 9), D(2024, 1, 30), D(2024, 2, 14)]),
                "platform": (text, ["google", "google", "trustpilot", "google"]),
                "rating": (number, [5.0, 4.0, 2.0, 3.0]),
            }
        ),
    }


SURVEY_ANSWERS = [
    # kind, score, scale_max, day submitted, segment
    *(("nps", score, 10, D(2024, 1, 10), segment) for score, segment in [(10, "smb"), (9, "smb"), (8, "ent")]),
    *(("nps", score, 10, D(2024, 1, 20), segment) for score, segment in [(6, "ent"), (3, "smb")]),
    *(("nps", score, 10, D(2024, 2, 11), "smb") for score in [10, 10, 9, 7]),
    *(("csat", score, 5, D(2024, 1, 11), "smb") for score in [5, 4, 3, 2]),
    *(("csat", score, 5, D(2024, 2, 12), "smb") for score in [5, 5, 4]),
    ("csat", 9, 10, D(2024, 2, 13), "ent"),
    *(("ces", score, 7, D(2024, 1, 12), "smb") for score in [5, 7, 6]),
    ("ces", 4, 7, D(2024, 2, 12), "smb"),
    *(("employee", score, 10, D(2024, 1, 25), department) for score, department in [(9, "sales"), (7, "ops")]),
    *(("employee", score, 10, D(2024, 1, 26), department) for score, department in [(5, "ops"), (10, "sales")]),
]


def _surveys() -> pa.Table:
    rows = [
        {
            "id": f"s{number}",
            "respondent_id": f"r{number}",
            "survey_kind": kind,
            "score": score,
            "scale_max": scale_max,
            "submitted_at": T(day.year, day.month, day.day, 23, 59),
            "segment": segment,
            "comment": None,
        }
        for number, (kind, score, scale_max, day, segment) in enumerate(SURVEY_ANSWERS)
    ]
    schema = pa.schema(
        [
            ("id", pa.string()),
            ("respondent_id", pa.string()),
            ("survey_kind", pa.string()),
            ("score", pa.int64()),
            ("scale_max", pa.int64()),
            ("submitted_at", pa.timestamp("us")),
            ("segment", pa.string()),
            ("comment", pa.string()),
        ]
    )
    return pa.Table.from_pylist(rows, schema)


JAN, FEB, MAR, APR = D(2024, 1, 1), D(2024, 2, 1), D(2024, 3, 1), D(2024, 4, 1)

EXPECTED: dict[str, dict[datetime.date, float | None]] = {
    # Orders: January 100 + 50 + 30, February 80 + 40, March 60 + 20 + 10.
    "revenue": {JAN: 180, FEB: 120, MAR: 90},
    "revenue_growth": {JAN: None, FEB: 100 * (120 - 180) / 180, MAR: 100 * (90 - 120) / 120},
    "revenue_growth_yoy": {JAN: None, FEB: None, MAR: None},
    "revenue_ytd": {JAN: 180, FEB: 300, MAR: 390},
    # Customers with orders: January c1 and c2, February c1 and c3, March c3 and c4.
    "revenue_per_active_customer": {JAN: 180 / 2, FEB: 120 / 2, MAR: 90 / 2},
    "gross_margin_per_customer": {JAN: (40 + 20 + 10) / 2, FEB: (30 + 25) / 2, MAR: (25 + 5) / 2},
    # Spend 400, 250, 90 over sign-ups 2, 2 and none in March.
    "cac": {JAN: 400 / 2, FEB: 250 / 2, MAR: None},
    "cost_per_acquisition": {JAN: 400 / 2, FEB: 250 / 1, MAR: 90 / 1},
    # The January cohort (c1, c2) bought 170 + 50 to date, the February one (c3, c4) 110 + 60.
    "clv_historical": {JAN: 220 / 2, FEB: 170 / 2},
    # Margin per customer / churn rate; churn is 50 % in February and a third in March, 0 in April.
    "clv": {JAN: None, FEB: 27.5 / 50 * 100, MAR: 15 / (100 / 3) * 100, APR: None},
    "ltv_cac_ratio": {JAN: None, FEB: (27.5 / 50 * 100) / 125, MAR: None, APR: None},
    "new_customers": {JAN: 2, FEB: 2},
    # Leads created: January 3 with 2 converted, February 4 with 2 converted (one of them in March).
    "conversion_rate": {JAN: 100 * 2 / 3, FEB: 100 * 2 / 4},
    # NPS January: 10, 9 promoters, 8 passive, 6, 3 detractors; February: 10, 10, 9 promoters, 7 passive.
    "nps": {JAN: 0, FEB: 75},
    # CSAT January: 5 and 4 of 4 answers in the top two boxes; February 5, 5, 4 of 5 and 9 of 10.
    "csat": {JAN: 50, FEB: 100},
    "ces": {JAN: 6, FEB: 4},
    # Subscribed on the 1st: February c1, c2 (c2 ends on the 14th); March c1, c3, c4 (c4 ends on the 10th,
    # c3's subscription on the 31st, its last day); April c1 (downgrades 10 → 6 on the 16th) and c3.
    "customer_retention_rate": {FEB: 50, MAR: 100 * 2 / 3, APR: 100},
    "customer_churn_rate": {FEB: 50, MAR: 100 / 3, APR: 0},
    "revenue_churn_rate": {FEB: 100 * 20 / 30, MAR: 100 * 15 / 55, APR: 100 * 4 / 35},
    # Customers with two orders in the period: January c1 of 2, February none of 2, March c3 of 2.
    "repeat_purchase_rate": {JAN: 50, FEB: 0, MAR: 50},
    # Members c1 (from January) and c3 (from February); buying members 1, 2, 1 and none in April.
    "loyalty_engagement": {JAN: 100, FEB: 100, MAR: 50, APR: 0},
    "market_share": {JAN: 100 * 180 / 1000, FEB: 100 * 120 / 1200, MAR: None},
    "market_share_growth": {JAN: None, FEB: 100 * (10 - 18) / 18, MAR: None},
    "social_engagement_rate": {JAN: 100 * 290 / 4000, FEB: 100 * 60 / 2000},
    "average_review_rating": {JAN: (5 + 4 + 2) / 3, FEB: 3},
    # Hours to first answer, by month opened: January 2, 3, 1.5 (one unanswered); February 24, 6, 1.
    "first_response_time": {JAN: (2 + 3 + 1.5) / 3, FEB: (24 + 6 + 1) / 3},
    # Complaints by month resolved: January 24 and 48 hours; February 120, 24 and 24.
    "complaint_resolution_time": {JAN: (24 + 48) / 2, FEB: (120 + 24 + 24) / 3},
    "complaint_resolution_time_median": {JAN: 36, FEB: 24},
    # Linear interpolation at position 0.9 × (n − 1) of the sorted hours.
    "complaint_resolution_time_p90": {JAN: 24 + 0.9 * (48 - 24), FEB: 24 + 0.8 * (120 - 24)},
    # Resolved with a contact count: January 1, 2, 1; February 3, 1 (one without a count).
    "first_contact_resolution": {JAN: 100 * 2 / 3, FEB: 100 * 1 / 2},
    "feedback_response_time": {FEB: 24},
    "new_products_launched": {JAN: 1, MAR: 2},
    "successful_projects_share": {JAN: 50, FEB: 100},
    # Employed on the last day: January e1, e2 (last day the 31st), e3; later e1 and e3.
    "headcount": {JAN: 3, FEB: 2, MAR: 2, APR: 2},
    # Leavers e2 (January) and e4 (February) over those employed on the 1st: 2, then e1, e3, e4.
    "employee_turnover": {JAN: 50, FEB: 100 / 3, MAR: 0, APR: 0},
    "enps": {JAN: 25},
    # Hours completed 8 and 4 + 2, over FTE on the last day 1 + 0.5 + 1, then 2.
    "training_hours_per_fte": {JAN: 8 / 2.5, FEB: 6 / 2, MAR: 0, APR: 0},
    "training_completion_rate": {JAN: 100 * 2 / 3, FEB: 100 * 1 / 2},
    "learning_objectives_share": {JAN: 100, FEB: 50},
    "training_cost_per_employee": {JAN: (400 + 400 + 200) / 3, FEB: (100 + 200) / 2, MAR: 0, APR: 0},
    "revenue_per_trained_employee": {JAN: 180 / 1, FEB: 120 / 2, MAR: None},
    # Completed with a benefit: January 1000 for 400; February 50 for 100.
    "training_roi": {JAN: 100 * (1000 - 400) / 400, FEB: 100 * (50 - 100) / 100},
}

EXPECTED_BY_SEGMENT: dict[str, dict[tuple[datetime.date, str], float | None]] = {
    # Spend per channel over that channel's sign-ups; referral has a customer and no spend.
    "cac_by_channel": {
        (JAN, "ads"): 300,
        (JAN, "seo"): 100,
        (FEB, "ads"): 250,
        (FEB, "referral"): 0,
        (MAR, "seo"): None,
    },
    # smb customers c1 and c3, ent c2 and c4, against each segment's market.
    "market_share_by_segment": {
        (JAN, "smb"): 100 * 130 / 400,
        (JAN, "ent"): 100 * 50 / 600,
        (FEB, "smb"): 100 * 120 / 500,
        (MAR, "smb"): None,
        (MAR, "ent"): None,
    },
}


@pytest.fixture(scope="module")
def results():
    connection = ibis.duckdb.connect()
    tables = {name: connection.create_table(name, data) for name, data in tiny_tables().items()}
    return compute(load_library(), tables, "month", start=JAN, end=D(2024, 4, 30)).to_pylist()


def values_of(rows, key):
    return {(row["period_start"], row["segment"]): row["value"] for row in rows if row["kpi"] == key}


def assert_values(found, expected):
    assert found.keys() == expected.keys()
    for where, value in expected.items():
        if value is None:
            assert found[where] is None, where
        else:
            assert found[where] == pytest.approx(value, rel=1e-12, abs=1e-12), where


def test_the_library_has_at_least_thirty_kpis_each_with_its_choices():
    library = load_library()
    assert len(library) >= 30
    assert [key for key, kpi in library.items() if not kpi.choice_points] == []


def test_every_library_kpi_has_an_expected_value():
    assert set(load_library()) == EXPECTED.keys() | EXPECTED_BY_SEGMENT.keys()


@pytest.mark.parametrize("key", sorted(EXPECTED))
def test_library_kpi_matches_the_hand_computed_value(results, key):
    assert_values(values_of(results, key), {(period, None): value for period, value in EXPECTED[key].items()})


@pytest.mark.parametrize("key", sorted(EXPECTED_BY_SEGMENT))
def test_library_kpi_split_by_its_own_dimension(results, key):
    assert_values(values_of(results, key), EXPECTED_BY_SEGMENT[key])


def test_survey_kpis_carry_their_margin_of_error_and_flag(results):
    rows = {(row["kpi"], row["period_start"]): row for row in results}
    # January NPS: promoters 2/5, detractors 2/5, so the variance is 0.4 + 0.4 − 0² = 0.8.
    assert rows["nps", JAN]["margin_of_error"] == pytest.approx(100 * 1.96 * math.sqrt(0.8 / 5))
    assert (rows["nps", JAN]["numerator"], rows["nps", JAN]["denominator"], rows["nps", JAN]["n"]) == (0, 5, 5)
    # February NPS: 3/4 promoters, none detractors: 0.75 + 0 − 0.75².
    assert rows["nps", FEB]["margin_of_error"] == pytest.approx(100 * 1.96 * math.sqrt((0.75 - 0.75**2) / 4))
    assert rows["csat", JAN]["margin_of_error"] == pytest.approx(100 * 1.96 * math.sqrt(0.5 * 0.5 / 4))
    assert rows["csat", FEB]["margin_of_error"] == 0
    # CES January 5, 7, 6: sample standard deviation 1.
    assert rows["ces", JAN]["margin_of_error"] == pytest.approx(1.96 * 1 / math.sqrt(3))
    assert rows["ces", FEB]["margin_of_error"] is None
    assert rows["enps", JAN]["margin_of_error"] == pytest.approx(100 * 1.96 * math.sqrt((0.5 + 0.25 - 0.25**2) / 4))
    survey_keys = {"nps", "csat", "ces", "enps"}
    assert {row["too_few_responses"] for row in results if row["kpi"] in survey_keys} == {True}
    assert {row["too_few_responses"] for row in results if row["kpi"] not in survey_keys} == {None}
    assert {row["margin_of_error"] for row in results if row["kpi"] not in survey_keys} == {None}


def test_ratio_parts_and_counts_are_reported(results):
    rows = {(row["kpi"], row["period_start"]): row for row in results}
    cac = rows["cac", MAR]
    assert (cac["value"], cac["numerator"], cac["denominator"], cac["n"]) == (None, 90, 0, 0)
    churn = rows["revenue_churn_rate", APR]
    assert (churn["numerator"], churn["denominator"], churn["n"]) == (4, 35, 2)
    growth = rows["revenue_growth", FEB]
    assert (growth["numerator"], growth["denominator"], growth["n"]) == (-60, 180, 2)
    # LTV:CAC is a division, so its parts are the CLV and the CAC.
    ratio = rows["ltv_cac_ratio", FEB]
    assert (ratio["numerator"], ratio["denominator"]) == (pytest.approx(55), 125)


def test_library_kpis_split_by_segment():
    connection = ibis.duckdb.connect()
    tables = {name: connection.create_table(name, data) for name, data in tiny_tables().items()}
    keys = ["revenue", "nps", "customer_churn_rate", "first_response_time", "headcount"]
    by_segment = compute(load_library(), tables, "month", by="segment", end=D(2024, 4, 30), keys=keys[:4]).to_pylist()
    # smb: c1 100 + 30 in January, c3 80 and c1 40 in February, c3 20 + 10 in March; ent: c2 50, c4 60.
    assert values_of(by_segment, "revenue") == {
        (JAN, "smb"): 130,
        (JAN, "ent"): 50,
        (FEB, "smb"): 120,
        (MAR, "smb"): 30,
        (MAR, "ent"): 60,
    }
    # January smb answers 10, 9, 3: 2 promoters and 1 detractor of 3; ent 8, 6: one detractor of 2.
    assert values_of(by_segment, "nps") == {
        (JAN, "smb"): pytest.approx(100 / 3),
        (JAN, "ent"): -50,
        (FEB, "smb"): 75,
    }
    # smb: c1 in February (retained), c1 and c3 in March and April; ent: c2 in February, c4 in March.
    assert values_of(by_segment, "customer_churn_rate") == {
        (FEB, "smb"): 0,
        (FEB, "ent"): 100,
        (MAR, "smb"): 0,
        (MAR, "ent"): 100,
        (APR, "smb"): 0,
    }
    # Tickets go to their customer's segment: January c1 2 and 1.5 hours, c2 3; February c3 24, c4 6, c1 1.
    assert values_of(by_segment, "first_response_time") == {
        (JAN, "smb"): 3.5 / 2,
        (JAN, "ent"): 3,
        (FEB, "smb"): 25 / 2,
        (FEB, "ent"): 6,
    }
    by_department = compute(load_library(), tables, "month", by="department", start=JAN, end=MAR, keys=["headcount"])
    assert values_of(by_department.to_pylist(), "headcount") == {
        (JAN, "sales"): 1,
        (JAN, "ops"): 2,
        (FEB, "sales"): 1,
        (FEB, "ops"): 1,
        (MAR, "sales"): 1,
        (MAR, "ops"): 1,
    }


def test_library_kpis_by_quarter():
    connection = ibis.duckdb.connect()
    tables = {name: connection.create_table(name, data) for name, data in tiny_tables().items()}
    keys = ["revenue", "conversion_rate", "customer_retention_rate", "complaint_resolution_time_median"]
    rows = compute(load_library(), tables, "quarter", end=D(2024, 6, 30), keys=keys).to_pylist()
    q1, q2 = D(2024, 1, 1), D(2024, 4, 1)
    assert values_of(rows, "revenue") == {(q1, None): 390}
    # Seven leads created in the quarter, four of them converted.
    assert values_of(rows, "conversion_rate") == {(q1, None): pytest.approx(400 / 7)}
    # Nobody was subscribed on 1 January; on 1 April c1 and c3, both still subscribed on 30 June.
    assert values_of(rows, "customer_retention_rate") == {(q2, None): 100}
    # The quarter's five complaint resolution times 24, 48, 120, 24, 24 have the median 24.
    assert values_of(rows, "complaint_resolution_time_median") == {(q1, None): 24}


def test_the_documentation_page_is_current():
    assert PAGE.read_text(encoding="utf-8") == library_page(), (
        "docs/kpi-library.md is out of date; regenerate it with: uv run python -c "
        "\"from fourfold.metrics.library import library_page; print(library_page(), end='')\" > docs/kpi-library.md"
    )


def test_the_library_files_are_the_files_of_the_folder():
    folder = LIBRARY_FILES[0].parent
    assert sorted(LIBRARY_FILES) == sorted(folder.glob("*.yaml"))
