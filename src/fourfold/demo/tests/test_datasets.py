"""Each demo organisation's generated data tells its story: the library KPIs computed over the 24 months of the
demo window start and end near the organisation's own figures, and move the way its story says.

Every organisation's data set is generated, loaded and computed once; each expected KPI is then a test of its
own, comparing the average of the window's first three months (or its first quarter, for quarterly KPIs) and
of its last three with the ranges the story asks for. The tolerances allow for the noise of monthly survey and
churn figures around the calibrated trend, not for another trend.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from fourfold.demo.care import MERIDIAN
from fourfold.demo.datasets import (
    ALDERBROOK_DATASET,
    ALDERBROOK_DEFINITIONS,
    BRIGHTPATH_DATASET,
    MERIDIAN_DATASET,
    WINDOW_MONTHS,
    DemoDataset,
)
from fourfold.demo.learning import BRIGHTPATH
from fourfold.demo.spec import OrganisationSpec
from fourfold.demo.training import ALDERBROOK
from fourfold.metrics.compile import Grain, compute
from fourfold.metrics.definitions import Definitions, load_definitions
from fourfold.metrics.library import LIBRARY_FILES, load_library
from fourfold.metrics.sources import load_directory


@dataclass(frozen=True)
class Expected:
    """A KPI's story: where its first and last quarter lie, and whether it rises (or falls) in between."""

    kpi: str
    first: tuple[float, float]
    last: tuple[float, float]
    grain: Grain = "month"
    rises: bool | None = True
    """``None`` when the story only asks for plausible values."""
    channel: str | None = None
    """The support channel the KPI is split by and read for; ``None`` for the whole organisation."""


def around(value: float, tolerance: float) -> tuple[float, float]:
    return value - tolerance, value + tolerance


@dataclass(frozen=True)
class Organisation:
    spec: OrganisationSpec
    dataset: DemoDataset
    end: date
    """The last month of the window: that of a fiscal year, so that quarterly KPIs have whole quarters in it."""
    expected: tuple[Expected, ...]

    def definitions(self) -> Definitions:
        """The library, with the organisation's own definitions when it has some."""
        if not self.dataset.definitions:
            return load_library()
        return load_definitions(*LIBRARY_FILES, self.dataset.definitions)


ORGANISATIONS = {
    "brightpath": Organisation(
        BRIGHTPATH,
        BRIGHTPATH_DATASET,
        date(2026, 3, 31),
        (
            Expected("revenue_per_active_customer", (11.0, 13.0), (11.0, 13.0)),
            Expected("cac", around(38, 2.5), around(47, 2.5)),
            Expected("nps", around(31, 4), around(42, 4), grain="quarter"),
            Expected("customer_retention_rate", around(91.8, 0.5), around(93.6, 0.5)),
            Expected("first_contact_resolution", around(64, 2), around(72, 2)),
            Expected("csat", around(86, 2), around(91, 2)),
            # At £11–13 a month and a monthly retention of 91.8 %, a quarter's margin per customer (at most three
            # months of it, less for the many who join or leave in the quarter) over its churn of about 19 % cannot
            # reach £150 at the start: the library's quarterly CLV starts near £115 and reaches the range by the end.
            Expected("clv", (105, 220), (150, 220), grain="quarter"),
        ),
    ),
    "meridian": Organisation(
        MERIDIAN,
        MERIDIAN_DATASET,
        date(2025, 12, 31),
        (
            Expected("csat", around(78, 2), around(84, 2)),
            Expected("nps", around(12, 4), around(24, 4), grain="quarter"),
            Expected("customer_retention_rate", around(98.4, 0.2), around(98.9, 0.2)),
            Expected("first_contact_resolution", around(68, 2), around(74, 2)),
            Expected("first_contact_resolution", around(69, 2.5), around(75, 2.5), channel="phone"),
            Expected("revenue_growth_yoy", around(4, 2.5), around(7, 2.5)),
            Expected("feedback_response_time", around(52, 8), around(30, 6), rises=False),
            # Quarterly churn rests on some 200 leavers a quarter, so CLV moves by several per cent from quarter
            # to quarter around its trend.
            Expected("clv", (1_650, 2_250), (1_800, 2_400), grain="quarter"),
        ),
    ),
    "alderbrook": Organisation(
        ALDERBROOK,
        ALDERBROOK_DATASET,
        date(2026, 8, 31),
        (
            Expected("learning_objectives_share", around(74, 3), around(83, 3)),
            Expected("training_roi", around(95, 12), around(140, 12), grain="quarter"),
            # The last months' enrolments are partly still running, so the cohort rate drops at the window's end.
            Expected("training_completion_rate", (70, 90), (70, 90), rises=None),
            Expected("training_hours_delivered", around(3_400, 350), around(4_300, 430)),
            Expected("enrolments_completed", around(120, 12), around(175, 17)),
            # 5 % to 20 % of the staff leaving in a year, as in manufacturing.
            Expected("employee_turnover", (5 / 12, 20 / 12), (5 / 12, 20 / 12), rises=None),
        ),
    ),
}

CASES = [
    pytest.param(name, expected, id=f"{name}-{expected.kpi}{'-' + expected.channel if expected.channel else ''}")
    for name, organisation in ORGANISATIONS.items()
    for expected in organisation.expected
]


def window_start(end: date) -> date:
    """The first day of the demo window ending with the month of ``end``."""
    month = end.year * 12 + end.month - WINDOW_MONTHS
    return date(month // 12, month % 12 + 1, 1)


@pytest.fixture(scope="module")
def quarters(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str, Expected], tuple[float, float]]:
    """The first and last quarter of an expected KPI, from its organisation's data generated and computed once."""
    computed: dict[str, dict[tuple[str, Grain, str | None], list[float]]] = {}

    def compute_organisation(name: str) -> dict[tuple[str, Grain, str | None], list[float]]:
        organisation = ORGANISATIONS[name]
        folder: Path = tmp_path_factory.mktemp(name)
        organisation.dataset.generate(folder, end=organisation.end)
        tables = load_directory(folder)
        definitions = organisation.definitions()
        values: dict[tuple[str, Grain, str | None], list[float]] = {}
        splits = {(expected.grain, expected.channel) for expected in organisation.expected}
        for grain, channel in sorted(splits, key=str):
            keys = sorted({e.kpi for e in organisation.expected if (e.grain, e.channel) == (grain, channel)})
            result = compute(
                definitions,
                tables,
                grain,
                by=None if channel is None else "channel",
                start=window_start(organisation.end),
                end=organisation.end,
                keys=keys,
                fiscal_year_start_month=organisation.spec.fiscal_year_start_month,
            )
            for row in result.to_pylist():
                if row["segment"] == channel and row["value"] is not None:
                    values.setdefault((row["kpi"], grain, channel), []).append(row["value"])
        return values

    def first_and_last(name: str, expected: Expected) -> tuple[float, float]:
        if name not in computed:
            computed[name] = compute_organisation(name)
        series = computed[name][expected.kpi, expected.grain, expected.channel]
        periods = 3 if expected.grain == "month" else 1
        assert len(series) == WINDOW_MONTHS // (1 if expected.grain == "month" else 3), series
        return statistics.mean(series[:periods]), statistics.mean(series[-periods:])

    return first_and_last


@pytest.mark.parametrize(("name", "expected"), CASES)
def test_the_kpi_starts_and_ends_where_the_story_says(
    quarters: Callable[[str, Expected], tuple[float, float]], name: str, expected: Expected
) -> None:
    first, last = quarters(name, expected)
    assert expected.first[0] <= first <= expected.first[1], f"first quarter {first:.2f}, expected {expected.first}"
    assert expected.last[0] <= last <= expected.last[1], f"last quarter {last:.2f}, expected {expected.last}"
    if expected.rises is not None:
        assert (last > first) == expected.rises, f"from {first:.2f} to {last:.2f}"


def test_alderbrook_adds_its_two_kpis_to_the_library() -> None:
    definitions = load_definitions(*LIBRARY_FILES, ALDERBROOK_DEFINITIONS)
    assert ALDERBROOK_DATASET.definitions == ALDERBROOK_DEFINITIONS
    assert {"training_hours_delivered", "enrolments_completed"} <= set(definitions)
    assert definitions["training_hours_delivered"].duration_unit == "hours"
