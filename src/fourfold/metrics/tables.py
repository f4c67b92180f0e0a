"""The canonical input tables, and the validation every table passes before a KPI is computed from it.

Every source, whatever its own column names and formats, becomes one of the tables in :data:`TABLES`, with
exactly these column names and types. KPI definitions are written against these tables only, which is why
one definition runs on every company's data and on every backend.

:func:`validate_table` converts a table to the canonical types and checks every row. It finds what would
otherwise silently bend a KPI: a date that cannot be read, a negative amount, the same id twice, an NPS
score of 11, a ticket resolved before it was opened. It either stops, listing every problem, or drops the
invalid rows and says which it dropped. The checks are Ibis expressions run by DuckDB, a handful of scans
whatever the size of the table, never a Python loop over rows.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from functools import reduce
from types import MappingProxyType
from typing import Literal

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir
import pyarrow as pa
from ibis.backends.duckdb import Backend as DuckDBBackend

OnError = Literal["stop", "skip"]
"""What to do with invalid rows: stop and load nothing, or skip them and load the rest."""

ROW_NUMBER = "__fourfold_row"
"""The column that numbers rows as read, from 1; an unusual name so that it never meets a real column."""

SHOWN_ROWS = 20
"""How many row numbers a problem lists; its count says how many rows there are in all."""


class ColumnType(StrEnum):
    """The six types a canonical column can have; every backend has each of them."""

    STRING = "string"
    INTEGER = "integer"
    FLOAT = "float"
    DATE = "date"
    TIMESTAMP = "timestamp"
    BOOLEAN = "boolean"

    @property
    def ibis_type(self) -> dt.DataType:
        """The Ibis type of a column of this type.

        Amounts are 64-bit floats rather than decimals: a decimal's scale after division differs between
        DuckDB, Spark and PostgreSQL, and the KPIs divide. Timestamps carry no time zone; a source's
        zoned timestamps are converted to UTC.
        """
        return _IBIS_TYPES[self]

    @property
    def described(self) -> str:
        """The type as a person would want a value of it written."""
        return _DESCRIPTIONS[self]


_IBIS_TYPES: Mapping[ColumnType, dt.DataType] = {
    ColumnType.STRING: dt.string,
    ColumnType.INTEGER: dt.int64,
    ColumnType.FLOAT: dt.float64,
    ColumnType.DATE: dt.date,
    ColumnType.TIMESTAMP: dt.timestamp,
    ColumnType.BOOLEAN: dt.boolean,
}
_DESCRIPTIONS: Mapping[ColumnType, str] = {
    ColumnType.STRING: "text",
    ColumnType.INTEGER: "a whole number",
    ColumnType.FLOAT: "a number",
    ColumnType.DATE: "a date such as 2026-03-31",
    ColumnType.TIMESTAMP: "a date and time such as 2026-03-31 14:05:00",
    ColumnType.BOOLEAN: "true or false (also yes/no, 1/0)",
}


class ProblemKind(StrEnum):
    """What is wrong; the first two concern a whole column, and no row can be skipped to mend them."""

    MISSING_COLUMN = "missing column"
    WRONG_TYPE = "wrong type"
    MISSING_VALUE = "missing value"
    UNREADABLE = "unreadable value"
    NEGATIVE = "negative"
    OUT_OF_RANGE = "out of range"
    NOT_ALLOWED = "value not allowed"
    DUPLICATE_ID = "duplicate id"
    OUT_OF_ORDER = "out of order"

    @property
    def concerns_column(self) -> bool:
        """True when the whole column is unusable, so that skipping rows cannot help."""
        return self in {ProblemKind.MISSING_COLUMN, ProblemKind.WRONG_TYPE}


@dataclass(frozen=True)
class RowRule:
    """A check of every row, true where the row breaks it.

    The attributes of a column become rules (:meth:`ColumnSpec.rules`); a table adds those no attribute
    expresses, such as the scale an NPS survey must use. ``invalid`` receives the table with its columns
    already in the canonical types; a null result counts as valid, so that a rule never has to guard
    against missing values (those are a check of their own).
    """

    column: str
    kind: ProblemKind
    expected: str
    invalid: Callable[[ir.Table], ir.BooleanValue]


@dataclass(frozen=True)
class ColumnSpec:
    """One canonical column: its type, whether it must be there, what it means and what values it allows.

    A required column must be present and have a value in every row. An optional column may be left out
    of a source altogether; it is then null everywhere, and the KPIs that need it cannot be computed.
    Values are bounded below by ``minimum`` and, if it is set, above by ``maximum`` or by another column
    of the same row (``maximum_column``, as a survey score by its scale); a value must be one of
    ``choices`` if there are any, ``unique`` ones must not repeat, and a date or time must not be earlier
    than the column named by ``not_before``.
    """

    name: str
    type: ColumnType
    meaning: str
    required: bool = False
    minimum: float | None = None
    maximum: float | None = None
    maximum_column: str | None = None
    choices: tuple[str, ...] = ()
    unique: bool = False
    not_before: str | None = None

    def rules(self) -> tuple[RowRule, ...]:
        """The row checks this column's attributes ask for, as rules over the typed table."""
        rules: list[RowRule] = []
        name = self.name
        if self.minimum is not None:
            rules.append(self._range_rule(self.minimum))
        if self.choices:
            rules.append(
                RowRule(
                    name,
                    ProblemKind.NOT_ALLOWED,
                    "one of " + ", ".join(self.choices),
                    lambda table: ~table[name].isin(self.choices),
                )
            )
        if self.unique:
            # Every row after the first with the same id is a duplicate; the first stays, as the one
            # read before the others. (A minimum over the id needs no sort within it, unlike a row number.)
            rules.append(
                RowRule(
                    name,
                    ProblemKind.DUPLICATE_ID,
                    "an id no earlier row has",
                    lambda table: (
                        table[name].notnull() & (table[ROW_NUMBER] > table[ROW_NUMBER].min().over(group_by=table[name]))
                    ),
                )
            )
        if self.not_before is not None:
            earlier = self.not_before
            rules.append(
                RowRule(
                    name,
                    ProblemKind.OUT_OF_ORDER,
                    f"{name} on or after {earlier}",
                    lambda table: table[name] < table[earlier],
                )
            )
        return tuple(rules)

    def _range_rule(self, minimum: float) -> RowRule:
        name, maximum, maximum_column = self.name, self.maximum, self.maximum_column
        upper = maximum_column if maximum_column is not None else maximum
        if upper is None:
            kind = ProblemKind.NEGATIVE if minimum == 0 else ProblemKind.OUT_OF_RANGE
            return RowRule(name, kind, f"{minimum:g} or more", lambda table: table[name] < minimum)
        bounds = f"{minimum:g} and {upper}" if isinstance(upper, str) else f"{minimum:g} and {upper:g}"

        def outside(table: ir.Table) -> ir.BooleanValue:
            value = table[name]
            return (value < minimum) | (value > (table[maximum_column] if maximum_column is not None else maximum))

        return RowRule(name, ProblemKind.OUT_OF_RANGE, f"between {bounds}", outside)


@dataclass(frozen=True)
class TableSpec:
    """One canonical table: its columns in order, and the rules between columns of a row."""

    name: str
    meaning: str
    columns: tuple[ColumnSpec, ...]
    extra_rules: tuple[RowRule, ...] = ()
    _by_name: Mapping[str, ColumnSpec] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_name", MappingProxyType({column.name: column for column in self.columns}))

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(self._by_name)

    def column(self, name: str) -> ColumnSpec:
        """The column called ``name``; a KeyError names the table and its columns."""
        try:
            return self._by_name[name]
        except KeyError:
            raise KeyError(f"{self.name} has no column {name!r}; its columns are {', '.join(self._by_name)}") from None

    @property
    def schema(self) -> ibis.Schema:
        """The Ibis schema of the validated table; all columns nullable, as optional ones may be empty."""
        return ibis.schema({column.name: column.type.ibis_type for column in self.columns})

    def rules(self) -> tuple[RowRule, ...]:
        """Every row check of the table: those of its columns, in column order, then the extra ones."""
        return tuple(rule for column in self.columns for rule in column.rules()) + self.extra_rules


def _table(name: str, meaning: str, *columns: ColumnSpec, extra_rules: tuple[RowRule, ...] = ()) -> TableSpec:
    """A table with its columns as arguments, so that the list below reads as a list."""
    return TableSpec(name, meaning, columns, extra_rules)


STRING, INTEGER, FLOAT = ColumnType.STRING, ColumnType.INTEGER, ColumnType.FLOAT
DATE, TIMESTAMP, BOOLEAN = ColumnType.DATE, ColumnType.TIMESTAMP, ColumnType.BOOLEAN

SURVEY_KINDS = ("nps", "csat", "ces", "employee")
TICKET_KINDS = ("complaint", "question", "feedback")
ZERO_TO_TEN_SURVEYS = ("nps", "employee")
"""Survey kinds whose score is defined on the 0–10 scale: NPS and eNPS mean nothing on another."""

_TABLE_LIST = (
    _table(
        "customers",
        "One row per customer, with what the KPIs break customers down by.",
        ColumnSpec("id", STRING, "The customer's id, unique.", required=True, unique=True),
        ColumnSpec("signup_date", DATE, "The day the customer signed up or first bought.", required=True),
        ColumnSpec("segment", STRING, "Customer segment, e.g. Enterprise or Consumer."),
        ColumnSpec("channel", STRING, "Acquisition channel; the same names as in marketing_spend and leads."),
        ColumnSpec("region", STRING, "Sales region."),
        ColumnSpec("plan", STRING, "Product plan or tier."),
        ColumnSpec("loyalty_member", BOOLEAN, "Whether the customer is in the loyalty programme."),
    ),
    _table(
        "orders",
        "One row per order; revenue, margin and purchase frequency come from here.",
        ColumnSpec("id", STRING, "The order's id, unique.", required=True, unique=True),
        ColumnSpec("customer_id", STRING, "The customer who ordered (customers.id).", required=True),
        ColumnSpec("order_date", DATE, "The day of the order.", required=True),
        ColumnSpec(
            "amount", FLOAT, "Revenue of the order, net of tax; refunds are not orders.", required=True, minimum=0
        ),
        ColumnSpec("gross_margin", FLOAT, "Revenue less the cost of goods sold; negative for an order sold at a loss."),
        ColumnSpec("product_id", STRING, "The product ordered (products.id)."),
    ),
    _table(
        "subscriptions",
        "One row per subscription; churn, retention and recurring revenue come from here.",
        ColumnSpec("customer_id", STRING, "The subscribing customer (customers.id).", required=True),
        ColumnSpec("start_date", DATE, "The first day of the subscription.", required=True),
        ColumnSpec("end_date", DATE, "The last day; empty while the subscription runs.", not_before="start_date"),
        ColumnSpec("recurring_amount", FLOAT, "Revenue per month.", required=True, minimum=0),
    ),
    _table(
        "marketing_spend",
        "Marketing and sales spend by day and channel, for acquisition cost.",
        ColumnSpec("spend_date", DATE, "The day the money was spent.", required=True),
        ColumnSpec("channel", STRING, "Acquisition channel; the same names as in customers and leads."),
        ColumnSpec("amount", FLOAT, "Amount spent.", required=True, minimum=0),
    ),
    _table(
        "leads",
        "One row per lead; conversion rates and sales cycle length come from here.",
        ColumnSpec("id", STRING, "The lead's id, unique.", required=True, unique=True),
        ColumnSpec("created_date", DATE, "The day the lead came in.", required=True),
        ColumnSpec("channel", STRING, "Acquisition channel of the lead."),
        ColumnSpec(
            "converted_date", DATE, "The day it became a customer; empty if not (yet).", not_before="created_date"
        ),
        ColumnSpec("customer_id", STRING, "The customer it became (customers.id); empty if none."),
    ),
    _table(
        "market_totals",
        "Revenue of the whole market per period, for market share.",
        ColumnSpec("period_start", DATE, "The first day of the period the figure covers (e.g. month).", required=True),
        ColumnSpec("segment", STRING, "Segment the figure covers; empty for the whole market."),
        ColumnSpec(
            "market_revenue", FLOAT, "Revenue of all competitors together in the period.", required=True, minimum=0
        ),
    ),
    _table(
        "survey_responses",
        "One row per answer to a customer or employee survey: NPS, CSAT, CES and employee NPS.",
        ColumnSpec("id", STRING, "The response's id, unique.", required=True, unique=True),
        ColumnSpec("respondent_id", STRING, "Who answered: a customers.id, or an employees.id for employee surveys."),
        ColumnSpec(
            "survey_kind", STRING, "Which survey: nps, csat, ces or employee.", required=True, choices=SURVEY_KINDS
        ),
        ColumnSpec(
            "score",
            INTEGER,
            "The score given, from 0 up to scale_max.",
            required=True,
            minimum=0,
            maximum_column="scale_max",
        ),
        ColumnSpec(
            "scale_max",
            INTEGER,
            "The top of the scale: 10 for NPS and employee NPS, e.g. 5 for CSAT.",
            required=True,
            minimum=1,
        ),
        ColumnSpec("submitted_at", TIMESTAMP, "When the answer was given.", required=True),
        ColumnSpec("segment", STRING, "The respondent's customer segment, or department for employee surveys."),
        ColumnSpec("comment", STRING, "Free-text comment."),
        extra_rules=(
            RowRule(
                "scale_max",
                ProblemKind.OUT_OF_RANGE,
                "10 for " + " and ".join(ZERO_TO_TEN_SURVEYS) + " surveys, which are on a 0–10 scale",
                lambda table: table.survey_kind.isin(ZERO_TO_TEN_SURVEYS) & (table.scale_max != 10),
            ),
        ),
    ),
    _table(
        "support_tickets",
        "One row per support ticket; response times, resolution and complaint rates come from here.",
        ColumnSpec("id", STRING, "The ticket's id, unique.", required=True, unique=True),
        ColumnSpec("customer_id", STRING, "The customer who opened it (customers.id)."),
        ColumnSpec("kind", STRING, "complaint, question or feedback.", choices=TICKET_KINDS),
        ColumnSpec("opened_at", TIMESTAMP, "When the ticket was opened.", required=True),
        ColumnSpec("first_response_at", TIMESTAMP, "When the customer first got an answer.", not_before="opened_at"),
        ColumnSpec("resolved_at", TIMESTAMP, "When it was resolved; empty while open.", not_before="opened_at"),
        ColumnSpec(
            "contacts_to_resolve", INTEGER, "Contacts it took to resolve it; 1 is first-contact resolution.", minimum=1
        ),
        ColumnSpec("channel", STRING, "Where it came in: email, phone, chat…"),
    ),
    _table(
        "employees",
        "One row per employment; headcount, turnover and retention come from here.",
        ColumnSpec("id", STRING, "The employee's id, unique.", required=True, unique=True),
        ColumnSpec("hire_date", DATE, "The first working day.", required=True),
        ColumnSpec("leave_date", DATE, "The last working day; empty while employed.", not_before="hire_date"),
        ColumnSpec("department", STRING, "Department."),
        ColumnSpec("fte", FLOAT, "Full-time equivalent, from 0 to 1.", minimum=0, maximum=1),
    ),
    _table(
        "training_enrollments",
        "One row per employee enrolled in a course; training hours, completion and ROI come from here.",
        ColumnSpec("employee_id", STRING, "The employee (employees.id).", required=True),
        ColumnSpec("course_id", STRING, "The course.", required=True),
        ColumnSpec("enrolled_date", DATE, "The day of enrolment.", required=True),
        ColumnSpec("completed_date", DATE, "The day it was completed; empty if not (yet).", not_before="enrolled_date"),
        ColumnSpec("hours", FLOAT, "Hours of training.", minimum=0),
        ColumnSpec("cost", FLOAT, "What the training cost.", minimum=0),
        ColumnSpec("objectives_met", BOOLEAN, "Whether the learning objectives were met."),
        ColumnSpec("pre_score", FLOAT, "Assessment score before the course.", minimum=0),
        ColumnSpec("post_score", FLOAT, "Assessment score after the course.", minimum=0),
        ColumnSpec("attributed_benefit", FLOAT, "Money benefit attributed to the training, for training ROI."),
    ),
    _table(
        "projects",
        "One row per project, for project success rates.",
        ColumnSpec("id", STRING, "The project's id, unique.", required=True, unique=True),
        ColumnSpec("end_date", DATE, "The day it ended; empty while it runs."),
        ColumnSpec("successful", BOOLEAN, "Whether it met its goals (on time, on budget, in scope)."),
    ),
    _table(
        "products",
        "One row per product, for the share of revenue from new products.",
        ColumnSpec("id", STRING, "The product's id, unique.", required=True, unique=True),
        ColumnSpec("launch_date", DATE, "The day it was launched.", required=True),
        ColumnSpec("kind", STRING, "Product line or category."),
    ),
    _table(
        "social_engagement",
        "Social media reach and engagement by day and platform.",
        ColumnSpec("activity_date", DATE, "The day.", required=True),
        ColumnSpec("platform", STRING, "The social platform."),
        ColumnSpec("impressions", INTEGER, "Times content was shown.", required=True, minimum=0),
        ColumnSpec("engagements", INTEGER, "Likes, comments, shares and clicks.", required=True, minimum=0),
    ),
    _table(
        "reviews",
        "One row per public review, for the average rating.",
        ColumnSpec("review_date", DATE, "The day of the review.", required=True),
        ColumnSpec("platform", STRING, "Where it was posted."),
        ColumnSpec(
            "rating",
            FLOAT,
            "Stars, on a 1–5 scale (convert other scales before loading).",
            required=True,
            minimum=1,
            maximum=5,
        ),
    ),
)

TABLES: Mapping[str, TableSpec] = MappingProxyType({spec.name: spec for spec in _TABLE_LIST})
"""Every canonical table by name, in the order the documentation lists them."""


def table_spec(name: str) -> TableSpec:
    """The canonical table called ``name``; an unknown name is a KeyError listing the known ones."""
    try:
        return TABLES[name]
    except KeyError:
        raise KeyError(f"{name!r} is not a canonical table; the tables are {', '.join(TABLES)}") from None


# -- Problems and reports -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a table: which column, which rows (the first few and how many), what was expected.

    Rows are numbered from 1 in the order they were read, header not counted: row 1 of a CSV file is its
    second line, and row 1 of a spreadsheet is on line 2. Problems that concern a whole column have no
    rows and a count of 0.
    """

    table: str
    column: str
    kind: ProblemKind
    expected: str
    rows: tuple[int, ...] = ()
    count: int = 0
    source: str = ""

    def __str__(self) -> str:
        where = f"{self.table}.{self.column}" + (f" ({self.source})" if self.source else "")
        if self.kind.concerns_column:
            return f"{where}: {self.kind}; expected {self.expected}"
        shown = ", ".join(str(row) for row in self.rows)
        noun = "row" if self.count == 1 else "rows"
        listed = f"{noun} {shown}" if self.count == len(self.rows) else f"first {len(self.rows)} rows: {shown}"
        return f"{where}: {self.kind} in {self.count} {noun} ({listed}); expected {self.expected}"


class DataValidationError(ValueError):
    """Raised when data is refused: it lists every problem found, in every table, and nothing was loaded."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        count = len(self.problems)
        lines = [f"The data has {count} problem{'s' if count != 1 else ''}; nothing was loaded."]
        lines += [f"- {problem}" for problem in self.problems]
        super().__init__("\n".join(lines))


@dataclass(frozen=True)
class ValidationReport:
    """What validation found in one table, and the table in canonical types without the rows it skipped.

    ``table`` is an Ibis expression with exactly the canonical columns, in order, with the canonical types;
    its rows are in the temporary table ``storage`` of the DuckDB connection that checked them, which a
    caller drops when it does not keep the table.
    """

    table_name: str
    table: ir.Table
    rows_read: int
    rows_kept: int
    problems: tuple[Problem, ...]
    storage: str = ""

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def rows_skipped(self) -> int:
        return self.rows_read - self.rows_kept


# -- Validation -----------------------------------------------------------------------------------------------

DATE_FORMATS = ("%Y/%m/%d", "%d.%m.%Y", "%d %b %Y", "%d %B %Y", "%b %d, %Y", "%B %d, %Y")
"""Formats tried after ISO 8601 when no date format is given; none of them can be read two ways.

Dates with slashes and the day first or the month first (03/04/2026) are deliberately not guessed: a
source that uses them names its format, ``date_format: "%d/%m/%Y"``.
"""
TIMESTAMP_FORMATS = ("%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M", *DATE_FORMATS)
"""Formats tried after ISO 8601 (with a ``T`` or a space, any fraction of a second, any UTC offset)."""


@ibis.udf.scalar.builtin(name="try_strptime")  # type: ignore[untyped-decorator]
def _try_strptime(text: str, format: str) -> datetime.datetime:  # type: ignore[empty-body]
    """DuckDB's strptime that gives null instead of failing; Ibis's own ``as_timestamp`` fails."""


@ibis.udf.agg.builtin(name="min")  # type: ignore[untyped-decorator]
def _smallest(value: int, count: int) -> list[int]:  # type: ignore[empty-body]
    """DuckDB's ``min(value, n)``, the n smallest values: the first rows of every check come in one scan."""


def validate_table(
    name: str,
    data: ir.Table | pa.Table,
    *,
    on_error: OnError = "stop",
    date_format: str | None = None,
    timestamp_format: str | None = None,
    source: str = "",
) -> ValidationReport:
    """Convert ``data`` to the canonical table ``name`` and check every row.

    With ``on_error="stop"`` any problem raises :class:`DataValidationError` listing them all. With
    ``"skip"``, the report's table leaves out every row with a problem and the report says which rows
    they were; a problem of a whole column (missing, or of a type that cannot become the canonical one)
    still raises, since no row could be kept. Columns that are not canonical are ignored.

    Strings become numbers, booleans, dates and timestamps where the canonical type asks for it. Dates
    are read as ISO 8601 or one of :data:`DATE_FORMATS`; a source in another format names it, and then
    only ``date_format`` (for dates) or ``timestamp_format`` (for timestamps) is tried. ``source`` says
    where the data came from, for the problems.

    The checks run on DuckDB: on the table's own connection if it is a DuckDB one, otherwise on a private
    in-memory one (the rows of a table of another backend are copied there first).
    """
    report = check_table(
        table_spec(name),
        data,
        on_error=on_error,
        date_format=date_format,
        timestamp_format=timestamp_format,
        source=source,
    )
    raise_for_problems(report.problems, on_error)
    return report


def raise_for_problems(problems: Sequence[Problem], on_error: OnError) -> None:
    """Raise :class:`DataValidationError` if the problems stop loading.

    Any problem stops it with ``"stop"``; with ``"skip"``, only a problem of a whole column does, as no
    row could be kept.
    """
    if problems and (on_error == "stop" or any(problem.kind.concerns_column for problem in problems)):
        raise DataValidationError(problems)


def check_table(
    spec: TableSpec,
    data: ir.Table | pa.Table,
    *,
    on_error: OnError,
    date_format: str | None = None,
    timestamp_format: str | None = None,
    source: str = "",
    connection: DuckDBBackend | None = None,
) -> ValidationReport:
    """:func:`validate_table` without raising: the report of every problem, whatever ``on_error`` says.

    :func:`fourfold.metrics.sources.load_sources` checks every table this way before it decides, so that
    one error lists the problems of all the tables. ``on_error`` only chooses what the report's table
    holds: every row for ``"stop"`` (nothing is skipped), the valid rows for ``"skip"``.

    The rows are converted once, into a temporary table on the DuckDB connection, and the report's table
    reads from it. Valid data, the usual case, is then checked in one scan of counts, without numbering
    rows: a repeated id shows as fewer distinct ids than ids. Only when something is wrong is a second
    scan made to find the first rows of each problem, numbered in the order they were read. ``connection``
    is the DuckDB connection to check on when ``data`` is a table there or in memory (default: see
    :func:`validate_table`).
    """
    if connection is None or isinstance(data, pa.Table):
        connection, table = _on_duckdb(data, connection)
    else:
        table = data
    text_formats = {ColumnType.DATE: date_format, ColumnType.TIMESTAMP: timestamp_format}
    checks: list[_Check] = []
    whole_column = [
        Problem(
            spec.name,
            column.name,
            ProblemKind.MISSING_COLUMN,
            f"a column {column.name}, or one mapped to it (the table has {', '.join(table.columns) or 'no columns'})",
            source=source,
        )
        for column in spec.columns
        if column.required and column.name not in table.columns
    ]
    staged: dict[str, ir.Value] = {}
    for column in spec.columns:
        target = column.type.ibis_type
        staged[column.name] = ibis.null(target)
        if column.name not in table.columns:
            continue
        text_format = text_formats.get(column.type)
        try:
            value, unreadable = _convert(table[column.name], column.type, text_format)
        except _WrongTypeError as error:
            whole_column.append(Problem(spec.name, column.name, ProblemKind.WRONG_TYPE, str(error), source=source))
            continue
        flag_name = None
        if unreadable is not None:
            # An unreadable value is set aside, so that it is neither missing nor checked again by a rule;
            # the flag is kept beside the converted values to say which rows it was.
            flag_name = f"__fourfold_unreadable_{column.name}"
            staged[flag_name] = unreadable.fill_null(False)
            value = ibis.ifelse(unreadable, ibis.null(target), value)
            expected = column.type.described + (f", written as {text_format}" if text_format else "")
            checks.append(
                _Check(Problem(spec.name, column.name, ProblemKind.UNREADABLE, expected, source=source), flag_name)
            )
        if column.required:
            checks.append(
                _Check(
                    Problem(
                        spec.name,
                        column.name,
                        ProblemKind.MISSING_VALUE,
                        "a value: the column is required",
                        source=source,
                    ),
                    _missing(column.name, flag_name),
                )
            )
        staged[column.name] = value if value.type() == target else value.cast(target)
    storage = f"__fourfold_{spec.name}_{uuid.uuid4().hex[:12]}"
    staging = connection.create_table(storage, table.select(**staged), temp=True)
    checks += [
        _Check(Problem(spec.name, rule.column, rule.kind, rule.expected, source=source), rule.invalid)
        for rule in spec.rules()
    ]
    counts = connection.to_pyarrow(
        staging.aggregate(
            __fourfold_rows=staging.count(), **{f"c{index}": check.count(staging) for index, check in enumerate(checks)}
        )
    ).to_pylist()[0]
    rows_read: int = counts["__fourfold_rows"]
    failing = {index: counts[f"c{index}"] for index in range(len(checks)) if counts[f"c{index}"]}
    kept = staging.select(*spec.column_names)
    rows_kept = rows_read
    row_problems: list[Problem] = []
    if failing:
        numbered = staging.mutate(**{ROW_NUMBER: staging.rowid() + 1})
        flagged = numbered.mutate(**{f"f{index}": checks[index].flag(numbered) for index in failing})
        first_rows = connection.to_pyarrow(
            flagged.aggregate(
                __fourfold_valid=(~_any(flagged, failing)).sum(),
                **{
                    f"r{index}": _smallest(flagged[ROW_NUMBER], SHOWN_ROWS, where=flagged[f"f{index}"])
                    for index in failing
                },
            )
        ).to_pylist()[0]
        row_problems = [
            replace(checks[index].problem, rows=tuple(sorted(first_rows[f"r{index}"])), count=count)
            for index, count in failing.items()
        ]
        row_problems.sort(key=lambda problem: spec.column_names.index(problem.column))
        if on_error == "skip":
            valid = flagged.filter(~_any(flagged, failing)).order_by(ROW_NUMBER).select(*spec.column_names)
            kept = connection.create_table(f"{storage}_valid", valid, temp=True)
            drop_storage(connection, storage)
            storage = f"{storage}_valid"
            rows_kept = first_rows["__fourfold_valid"] or 0
    return ValidationReport(
        table_name=spec.name,
        table=kept,
        rows_read=rows_read,
        rows_kept=rows_kept,
        problems=tuple(whole_column + row_problems),
        storage=storage,
    )


@dataclass(frozen=True)
class _Check:
    """A problem to look for in every row: a stored flag column, or a rule over the converted columns."""

    problem: Problem
    invalid: str | Callable[[ir.Table], ir.BooleanValue]

    def flag(self, table: ir.Table) -> ir.BooleanValue:
        """True for the rows with the problem; a null result counts as valid."""
        flag = table[self.invalid] if isinstance(self.invalid, str) else self.invalid(table)
        return flag.fill_null(False)

    def count(self, table: ir.Table) -> ir.IntegerValue:
        """How many rows have the problem, in an aggregate that needs no row numbers.

        A repeated id is every row after the first with that id, which the ids and the distinct ids count
        without numbering the rows (the rule itself compares row numbers).
        """
        if self.problem.kind is ProblemKind.DUPLICATE_ID:
            column = table[self.problem.column]
            return column.count() - column.nunique()
        return self.flag(table).cast("int64").sum().fill_null(0)


def _missing(column: str, unreadable: str | None) -> Callable[[ir.Table], ir.BooleanValue]:
    """A required column without a value, unless it had one that could not be read (a problem of its own)."""

    def absent(table: ir.Table) -> ir.BooleanValue:
        empty = table[column].isnull()
        return empty & ~table[unreadable] if unreadable is not None else empty

    return absent


def _any(flagged: ir.Table, failing: Mapping[int, int]) -> ir.BooleanValue:
    """Whether a row has any of the failing checks' problems."""
    return reduce(lambda left, right: left | right, [flagged[f"f{index}"] for index in failing])


def drop_storage(connection: DuckDBBackend, name: str) -> None:
    """Drop a temporary table that held checked rows (:attr:`ValidationReport.storage`)."""
    connection.raw_sql(f'DROP TABLE IF EXISTS temp.main."{name}"')


def connect_duckdb() -> DuckDBBackend:
    """A new in-memory DuckDB, without the progress bar DuckDB would print into the output of its caller."""
    connection = ibis.duckdb.connect()
    connection.raw_sql("SET enable_progress_bar = false")
    return connection


def _on_duckdb(data: ir.Table | pa.Table, connection: DuckDBBackend | None = None) -> tuple[DuckDBBackend, ir.Table]:
    """The DuckDB connection to check ``data`` on (``connection``, or a new one), and ``data`` as a table there."""
    if isinstance(data, pa.Table):
        return connection or connect_duckdb(), ibis.memtable(data)
    backend = data.get_backend()
    if isinstance(backend, DuckDBBackend):
        return backend, data
    # Other backends differ in how they fail to convert a value (PostgreSQL's casts raise, DuckDB's
    # TRY_CAST gives null), so their rows are checked on DuckDB, where every check means the same.
    return connection or connect_duckdb(), ibis.memtable(data.to_pyarrow())


class _WrongTypeError(Exception):
    """A column's type cannot become the canonical one at all, e.g. a date column of booleans."""


def _convert(value: ir.Value, target: ColumnType, text_format: str | None) -> tuple[ir.Value, ir.BooleanValue | None]:
    """``value`` in the canonical type, and which rows could not be converted (None if none can fail).

    Conversions that lose nothing are done silently: whole numbers to text (ids), any number to a
    float, dates to timestamps, timestamps to dates (the day, in UTC). Text is read by
    :func:`_from_text`. An empty string counts as no value; other text is kept as it is, as trimming
    every string would cost more than the rest of validation together (DuckDB's trim is slow).
    """
    source = value.type()
    if isinstance(value, ir.StringValue):
        text = value.nullif("")
        if target is ColumnType.STRING:
            return text, None
        converted = _from_text(text, target, text_format)
        return converted, text.notnull() & converted.isnull()
    if source.is_null():
        return value.cast(target.ibis_type), None
    if isinstance(value, ir.FloatingValue) and target in {ColumnType.INTEGER, ColumnType.FLOAT}:
        not_finite = value.isnan() | value.isinf()
        if target is ColumnType.FLOAT:
            return value, not_finite
        return value.try_cast(dt.int64), not_finite | (value != value.floor())
    if isinstance(value, ir.DecimalValue) and target is ColumnType.INTEGER:
        return value.try_cast(dt.int64), value != value.floor()
    if isinstance(value, ir.IntegerValue) and target is ColumnType.BOOLEAN:
        return value == 1, ~value.isin((0, 1))
    lossless = {
        ColumnType.STRING: source.is_integer(),
        ColumnType.INTEGER: source.is_integer(),
        ColumnType.FLOAT: source.is_numeric(),
        ColumnType.BOOLEAN: source.is_boolean(),
        ColumnType.DATE: source.is_date() or source.is_timestamp(),
        ColumnType.TIMESTAMP: source.is_date() or source.is_timestamp(),
    }
    if lossless[target]:
        return value.cast(target.ibis_type), None
    raise _WrongTypeError(f"{target.described}, not values of type {source}")


def _from_text(text: ir.StringValue, target: ColumnType, text_format: str | None) -> ir.Value:
    """Text read as ``target``; null where it cannot be read, so that the caller can tell which rows."""
    if target is ColumnType.INTEGER:
        # DuckDB rounds "3.5" to 4 when casting to an integer; a whole number reads the same both ways.
        whole = text.try_cast(dt.int64)
        return ibis.ifelse(text.try_cast(dt.float64) == whole.cast(dt.float64), whole, ibis.null(dt.int64))
    if target is ColumnType.FLOAT:
        number = text.try_cast(dt.float64)
        return ibis.ifelse(number.isnan() | number.isinf(), ibis.null(dt.float64), number)
    if target is ColumnType.BOOLEAN:
        return text.try_cast(dt.boolean)
    if text_format is not None:
        return _try_strptime(text, text_format)
    if target is ColumnType.DATE:
        return ibis.coalesce(
            text.try_cast(dt.date), *(_try_strptime(text, form).cast(dt.date) for form in DATE_FORMATS)
        )
    # A zoned cast reads any UTC offset and the T or space of ISO 8601; without an offset it means UTC.
    iso = text.try_cast(dt.Timestamp(timezone="UTC")).cast(dt.timestamp)
    return ibis.coalesce(iso, *(_try_strptime(text, form) for form in TIMESTAMP_FORMATS))
