"""Benchmark of the scorecard page against its requirement: a scorecard of 200 KPIs with 36 monthly periods of
values answers in at most 200 ms of server time, with at most 15 SQL queries whatever its number of KPIs.

Run it with ``SECRET_KEY=x uv run python benchmarks/pages.py``. It builds, from a fixed seed, in a temporary
SQLite database: one organisation, a company scorecard of 4 perspectives, 40 objectives and 200 KPIs (every
unit, aggregation rule and direction, ten formula KPIs, targets with red flags that change once), eight
owners, a viewer, and 36 months of values for every KPI that is not a formula (about 5 % not reported). The
structure and the targets go through the services, as the web pages would write them; the 6 800 values are
written in bulk (``Actual.objects.bulk_create``), since ``actual_record`` for each, with its audit entry and
its checks, would take minutes to say nothing more about the page.

Then, as the viewer, through Django's test client (the server's whole work for a request: middleware,
session, permission checks, evaluation, template), it measures three requests for the last month:

* the page for the month;
* the page for the quarter, compared with the previous quarter and filtered by status;
* the tree alone, as htmx asks for it when a filter changes;

each with a cold evaluation cache (a fresh server, or data just changed: the first request, then the median of
20, the cache emptied before each) and with a warm one (the same view asked again: the median of 20), with the
number of queries of each, against the targets.
"""

from __future__ import annotations

import os
import platform
import random
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

SEED = 2026
OBJECTIVES_PER_PERSPECTIVE = 10
KPIS_PER_OBJECTIVE = 5
"""4 perspectives × 10 objectives × 5 KPIs: 200 KPIs."""
FORMULA_EVERY = 20
"""One KPI in 20 is a formula over the KPI before it: 10 formula KPIs."""
YEARS = (2024, 2025, 2026)
"""36 months of values."""
PERIOD = "2026-12"
RUNS = 20
TIME_TARGET = 0.200
QUERY_TARGET = 15

KINDS: list[dict[str, Any]] = [
    {"unit": "percent", "aggregation": "ratio", "decimals": 1},
    {"unit": "count", "aggregation": "sum"},
    {"unit": "currency", "aggregation": "sum", "currency_code": "EUR", "decimals": 2},
    {"unit": "number", "aggregation": "average", "decimals": 2},
    {"unit": "duration", "aggregation": "average", "duration_unit": "hours", "direction": "lower", "decimals": 1},
    {"unit": "percent", "aggregation": "last", "decimals": 1},
    {"unit": "number", "aggregation": "max", "direction": "lower", "decimals": 1},
    {"unit": "yes_no", "aggregation": "last"},
]
"""The KPIs' definitions, in turn."""


def configure(folder: str) -> None:
    """Django on a fresh SQLite database in ``folder``, answering the test client's host."""
    # whitenoise looks for collected static files, which the test client does not need.
    warnings.filterwarnings("ignore", message="No directory at", category=UserWarning)
    os.environ.update(
        DJANGO_SETTINGS_MODULE="fourfold.settings",
        FOURFOLD_DATA_DIR=folder,
        DATABASE_URL=f"sqlite:///{folder}/pages.sqlite3",
        ALLOWED_HOSTS="testserver",
        LOG_LEVEL="WARNING",
    )
    os.environ.pop("DEBUG", None)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def build(rng: random.Random) -> tuple[Any, Any]:
    """The scorecard and its viewer (see the module docstring)."""
    from fourfold.accounts.models import Role, User
    from fourfold.accounts.services import scorecard_member_set
    from fourfold.engine.periods import Frequency
    from fourfold.measures.models import Actual
    from fourfold.measures.services import kpi_create, kpi_target_set
    from fourfold.strategy.services import (
        objective_create,
        organisation_create,
        organisation_member_set,
        scorecard_create,
    )

    root = User.objects.create_superuser(username="bench-admin", password="bench-only-9f3k")
    organisation = organisation_create(by=root, name="Benchmark Learning", slug="benchmark")
    owners = [User.objects.create_user(username=f"owner{number}", first_name=f"Owner {number}") for number in range(8)]
    viewer = User.objects.create_user(username="viewer")
    for person in (*owners, viewer):
        organisation_member_set(by=root, organisation=organisation, user=person, is_admin=False)
    scorecard = scorecard_create(by=root, org_unit=organisation.units.get(), name="Company scorecard", owner=owners[0])
    scorecard_member_set(by=root, scorecard=scorecard, user=viewer, role=Role.VIEWER)
    calendar = organisation.calendar
    months = [month for year in YEARS for month in calendar.subperiods(calendar.parse(str(year)), Frequency.MONTHLY)]
    number, values = 0, []
    for perspective in scorecard.perspectives.all():
        for position in range(OBJECTIVES_PER_PERSPECTIVE):
            objective = objective_create(
                by=root,
                perspective=perspective,
                name=f"{perspective.name} objective {position + 1}",
                code=f"{perspective.name[0]}{position + 1}",
                owner=rng.choice(owners),
            )
            for _ in range(KPIS_PER_OBJECTIVE):
                kind = KINDS[number % len(KINDS)]
                formula = number % FORMULA_EVERY == FORMULA_EVERY - 1
                fields = (
                    {"unit": "number", "source_kind": "formula", "formula": f"k{number_kpi_before(number)} * 2"}
                    if formula
                    else dict(kind)
                )
                kpi = kpi_create(
                    by=root,
                    objective=objective,
                    key=f"k{number}",
                    name=f"KPI {number}",
                    owner=rng.choice(owners),
                    **fields,
                )
                level = rng.uniform(40, 120)
                if kpi.unit == "yes_no":
                    kpi_target_set(by=root, kpi=kpi, period_key="2024-01", target=Decimal(1))
                else:
                    higher = kpi.direction != "lower"
                    for start, target in (("2024-01", level), ("2026-01", level * (1.05 if higher else 0.95))):
                        red_flag = target * (0.85 if higher else 1.15)
                        kpi_target_set(
                            by=root,
                            kpi=kpi,
                            period_key=start,
                            target=Decimal(f"{target:.2f}"),
                            red_flag=Decimal(f"{red_flag:.2f}"),
                        )
                if not formula:
                    values += monthly_values(rng, kpi, months, level, viewer)
                number += 1
    Actual.objects.bulk_create(values, batch_size=1000)
    return scorecard, viewer


def number_kpi_before(number: int) -> int:
    """The latest KPI before KPI ``number`` that is a plain number and not a formula: what a formula may double."""
    before = number - 1
    while KINDS[before % len(KINDS)]["unit"] != "number" or before % FORMULA_EVERY == FORMULA_EVERY - 1:
        before -= 1
    return before


def monthly_values(rng: random.Random, kpi: Any, months: list[Any], level: float, by: Any) -> list[Any]:
    """A KPI's values around ``level``, drifting, with about one month in 20 not reported."""
    from fourfold.measures.models import Actual

    rows = []
    for month in months:
        if rng.random() < 0.05:
            continue
        level *= rng.uniform(0.96, 1.045)
        numerator = denominator = None
        if kpi.unit == "yes_no":
            value = Decimal(int(rng.random() < 0.8))
        elif kpi.aggregation == "ratio":
            denominator = Decimal(rng.randint(200, 2000))
            numerator = (denominator * Decimal(f"{min(level, 100) / 100:.4f}")).quantize(Decimal(1))
            value = (100 * numerator / denominator).quantize(Decimal("0.1"))
        else:
            value = Decimal(f"{level:.2f}")
        rows.append(
            Actual(
                kpi=kpi,
                period_key=month.key,
                period_start=month.start,
                period_end=month.end,
                value=value,
                numerator=numerator,
                denominator=denominator,
                entered_by=by,
                entered_at=datetime.combine(month.end, datetime.min.time(), tzinfo=UTC),
            )
        )
    return rows


@dataclass(frozen=True)
class Row:
    """One request's figures: the first one after emptying the cache, and medians of :data:`RUNS`."""

    name: str
    first: float
    cold: float
    cold_queries: int
    warm: float
    warm_queries: int
    timed_target: bool
    """Whether the time target applies: it is the page's; a comparison evaluates two views, and is shown beside."""


def timed(request: Callable[[], Any]) -> tuple[float, int, Any]:
    """Seconds and queries of one request, and its response."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        response = request()
        elapsed = time.perf_counter() - started
    if response.status_code != 200:
        raise SystemExit(f"the page answered {response.status_code}:\n{response.content.decode()[:2000]}")
    return elapsed, len(queries.captured_queries), response


def main() -> int:
    rng = random.Random(SEED)
    with tempfile.TemporaryDirectory() as folder:
        configure(folder)
        from django.test import Client, override_settings
        from django.urls import reverse

        from fourfold.audit.context import ChangeSource, audit_context
        from fourfold.measures.models import Actual, Kpi
        from fourfold.measures.scoring import forget_cached_evaluations

        started = time.perf_counter()
        with audit_context(actor=None, source=ChangeSource.CLI, reason="benchmark"):
            scorecard, viewer = build(rng)
        built = time.perf_counter() - started
        kpis = Kpi.objects.filter(scorecard=scorecard).count()
        print(f"Built in {built:.1f} s: 1 scorecard, {kpis} KPIs, {Actual.objects.count()} values over 36 months")
        print(f"Python {platform.python_version()}, {os.cpu_count()} cores, SQLite, the page for {PERIOD}")

        # Static files from the finders: the production manifest needs a collectstatic run first.
        plain = {"staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
        with override_settings(
            STORAGES={"default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}, **plain}
        ):
            client = Client()
            client.force_login(viewer)
            url = reverse("strategy:scorecard_detail", args=[scorecard.pk])
            client.get(url, {"period": PERIOD})  # the session and the content types, read once per process
            cases = [
                ("month", {"period": PERIOD}, {}, True),
                (
                    "quarter, compared and filtered",
                    {"period": PERIOD, "view": "quarter", "shown": PERIOD, "compare": "previous", "status": "watch"},
                    {},
                    False,
                ),
                (
                    "the tree alone (htmx)",
                    {"period": PERIOD, "status": "off_target"},
                    {"HTTP_HX_REQUEST": "true"},
                    True,
                ),
            ]
            rows, missed = [], False
            for name, query, headers, timed_target in cases:

                def request(query: dict[str, str] = query, headers: dict[str, str] = headers) -> Any:
                    return client.get(url, query, **headers)

                cold = []
                for _ in range(RUNS):
                    forget_cached_evaluations()
                    cold.append(timed(request))
                warm = [timed(request) for _ in range(RUNS)]
                row = Row(
                    name,
                    first=cold[0][0],
                    cold=statistics.median(seconds for seconds, _, _ in cold),
                    cold_queries=cold[0][1],
                    warm=statistics.median(seconds for seconds, _, _ in warm),
                    warm_queries=warm[0][1],
                    timed_target=timed_target,
                )
                slow = timed_target and max(row.cold, row.warm) > TIME_TARGET
                missed |= slow or max(row.cold_queries, row.warm_queries) > QUERY_TARGET
                rows.append(row)

        print()
        print(f"{'request':<32}{'first':>8}{'cold':>9}{'warm':>9}{'time target':>13}{'queries cold / warm':>22}")
        for row in rows:
            target = f"≤ {TIME_TARGET * 1000:.0f} ms" if row.timed_target else "—"
            print(
                f"{row.name:<32}{row.first * 1000:>5.0f} ms{row.cold * 1000:>6.0f} ms{row.warm * 1000:>6.0f} ms"
                f"{target:>13}{row.cold_queries:>15} / {row.warm_queries}"
            )
        print()
        print(f"targets: ≤ {TIME_TARGET * 1000:.0f} ms server time for the page, ≤ {QUERY_TARGET} queries: ", end="")
        print("missed" if missed else "met")
        return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
