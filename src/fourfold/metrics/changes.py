"""What changed in the raw data since an earlier run, so that a rerun computes only the periods affected.

Each table's rows are summarised per month of their first date column by a *digest*: how many rows, and two
order-independent combinations of a hash of every row. A later run compares digests month by month; the
first month whose digest differs, in any table, is where recomputing starts. Every KPI of the library
depends only on rows dated up to the end of its period (a cohort, a running total or a growth rate looks
back, never ahead), so a change in March leaves every value before March as it was.

Rows without a date, and tables without a date column, form one bucket of their own: a change there may
touch any period, and the whole range is recomputed.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping

import ibis
import ibis.expr.types as ir
from ibis.backends.duckdb import Backend as DuckDBBackend

from fourfold.metrics.tables import TABLES, ColumnType

UNDATED = "undated"
"""The bucket of rows (or tables) without a date."""

Digests = dict[str, dict[str, str]]
"""Table → month (``2026-03``, or :data:`UNDATED`) → digest."""


def date_column(table: str) -> str | None:
    """The column a table's rows are dated by for change detection: its first date or time column."""
    for column in TABLES[table].columns:
        if column.type in {ColumnType.DATE, ColumnType.TIMESTAMP}:
            return column.name
    return None


def input_digests(tables: Mapping[str, ir.Table]) -> Digests:
    """The digest of every month of every table; the tables must be on DuckDB (as validation leaves them)."""
    digests: Digests = {}
    for name, table in tables.items():
        backend = table.get_backend()
        if not isinstance(backend, DuckDBBackend):
            raise ValueError(f"change detection reads the tables on DuckDB; {name} is on {backend.name}")
        text = [table[column].cast("string").fill_null("\u2400") for column in table.columns]
        row_hash = ibis.literal("\u241f").join(text).hash()
        dated_by = date_column(name)
        month = (
            ibis.literal(UNDATED)
            if dated_by is None
            else ibis.coalesce(table[dated_by].strftime("%Y-%m"), ibis.literal(UNDATED))
        )
        hashed = table.select(month=month, row_hash=row_hash)
        summary = hashed.group_by("month").aggregate(
            rows=hashed.count(), mixed=hashed["row_hash"].bit_xor(), spread=(hashed["row_hash"] % 1_000_003).sum()
        )
        digests[name] = {
            row["month"]: f"{row['rows']}:{row['mixed']}:{row['spread']}"
            for row in backend.to_pyarrow(summary).to_pylist()
        }
    return digests


def first_changed_month(before: Digests, now: Digests) -> datetime.date | None:
    """The first day of the earliest month whose rows differ, or ``None`` if nothing changed.

    It is ``datetime.date.min`` when a change may touch any period: a table came or went, or undated rows
    changed.

    >>> first_changed_month({"orders": {"2026-02": "3:1:1", "2026-03": "2:5:5"}},
    ...                     {"orders": {"2026-02": "3:1:1", "2026-03": "3:7:9"}})
    datetime.date(2026, 3, 1)
    >>> first_changed_month({"orders": {"2026-02": "3:1:1"}}, {"orders": {"2026-02": "3:1:1"}}) is None
    True
    """
    if before.keys() != now.keys():
        return datetime.date.min
    changed: list[str] = []
    for table, months in now.items():
        earlier = before[table]
        changed += [month for month in months.keys() | earlier.keys() if months.get(month) != earlier.get(month)]
    if not changed:
        return None
    if UNDATED in changed:
        return datetime.date.min
    first = min(changed)
    return datetime.date(int(first[:4]), int(first[5:7]), 1)
