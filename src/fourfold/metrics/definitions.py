"""KPI definitions: what a KPI computed from raw data means, written in YAML and checked before anything runs.

A definition says which rows count, how they are aggregated, which date puts a row in a period and how the
result may be split into segments. It also records the *choice points* in words: "which customers are in the
denominator", "which date decides the period". Two teams computing "churn" differently is the most common
reason KPI numbers are not trusted, so every choice is written next to the number it changes.

One YAML document holds a list of KPIs::

    kpis:
      - key: revenue
        name: Revenue
        description: Order amounts booked in the period.
        perspective: financial
        unit: currency
        direction: higher
        aggregation: sum
        choice_points: [Orders count in the period of their order date, not of payment or delivery.]
        type: simple
        measure: {table: orders, time: order_date, aggregate: sum, value: amount}
        segments: [segment, channel, region, plan]

The KPI types, told apart by ``type``:

``simple``
    One :class:`Measure`: an aggregate (sum, count, count_distinct, avg, median, p90, min, max) of a value over
    the rows of one table, optionally filtered.
``ratio``
    A numerator and a denominator measure, kept separately so that periods and segments combine correctly,
    optionally scaled by 100.
``derived``
    Arithmetic over other KPIs of the same period and segment, such as ``clv / cac``.
``cumulative``
    A running total of an additive measure: since the first period, year to date, or over the last N periods.
``growth``
    Another KPI's change against the previous period or the same period a year before, in percent.
``cohort``
    Retention or churn: of the entities (customers) active when a period starts, how many, or how much of
    their recurring amount, are still there when it ends.
``survey``
    NPS, top-box share (CSAT) or mean score (CES) of survey responses, with a 95 % margin of error and a flag
    when there are too few responses (:mod:`fourfold.metrics.stats`).

Formulas (a measure's ``value`` and a derived KPI's ``formula``) use the scorecard formula language of
:mod:`fourfold.engine.formulas`, parsed by the same safe parser, restricted to numbers, names, ``+ - * /`` and
brackets: those mean the same on every database, while functions and comparisons would not (``round`` rounds
halves differently, and comparisons in scorecard formulas tolerate float noise). Filters are structured
conditions (:class:`Condition`), never code. Nothing in a definition is evaluated as Python.

Validation is strict and refuses unknown fields, since a typo such as ``segmnts`` would otherwise be ignored
and the KPI silently computed without its segments. :func:`load_definitions` collects every problem of every
file and raises one :class:`DefinitionError` naming the file, the line, the KPI and the field of each.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, Strict, ValidationError, model_validator
from pydantic_core import ErrorDetails

from fourfold.engine.aggregation import Aggregation
from fourfold.engine.formulas import (
    Binary,
    Call,
    Formula,
    FormulaCycleError,
    Number,
    Reference,
    Unary,
    UnitKind,
    check_formulas,
    format_expression,
    parse_formula,
)
from fourfold.engine.model import Direction
from fourfold.metrics.stats import MIN_RESPONSES
from fourfold.scorefile.problems import ScorecardFileError, line_of
from fourfold.scorefile.schema import KPI_KEY_PATTERN
from fourfold.scorefile.yamldoc import read_yaml

NAME_PATTERN = r"^[a-z][a-z0-9_]*$"
"""Tables, columns and segment dimensions: the lower-case names of the canonical tables."""

COLUMN_PATTERN = r"^([a-z][a-z0-9_]*\.)?[a-z][a-z0-9_]*$"
"""A column of the measure's table (``amount``) or of a table it refers to (``customer.region`` follows
``customer_id`` to the ``customers`` table)."""

TEXT_SOURCE = "<text>"
"""How problems name a definition given as text rather than as a file."""

KPI_TYPES = ("simple", "ratio", "derived", "cumulative", "growth", "cohort", "survey")
PORTABLE_OPERATORS = frozenset({"+", "-", "*", "/"})

Key = Annotated[str, Field(pattern=KPI_KEY_PATTERN, description="A KPI key: lower-case letters, digits and _.")]
Name = Annotated[str, Field(pattern=NAME_PATTERN, description="A table, column or dimension name.")]
ColumnPath = Annotated[
    str,
    Field(pattern=COLUMN_PATTERN, description="A column, or relation.column such as customer.region."),
]
Scalar = str | bool | int | float
Perspective = Literal["financial", "customer", "internal", "learning"]
Aggregate = Literal["sum", "count", "count_distinct", "avg", "median", "p90", "min", "max"]
ADDITIVE_AGGREGATES: frozenset[str] = frozenset({"sum", "count", "count_distinct"})
"""Aggregates whose value over no rows is 0 rather than unknown: no complaints in a month is 0 complaints."""

# Strict validation takes only enum members, which YAML cannot hold, so the engine's enums are validated
# leniently: the value must still be one of the members' values, as in scorecard files.
UnitChoice = Annotated[UnitKind, Strict(False), Field(description="What the value counts, as KPIs store it.")]
DirectionChoice = Annotated[Direction, Strict(False), Field(description="Which way is good.")]
AggregationChoice = Annotated[
    Aggregation,
    Strict(False),
    Field(
        description="How the KPI's values of several periods combine when a scorecard views a longer span "
        "(year to date, rolling year); ratio recomputes from summed numerators and denominators."
    ),
]


class DefinitionModel(BaseModel):
    """Settings shared by every part of a definition: strict types, no unknown fields, no NaN or infinity."""

    model_config = ConfigDict(strict=True, extra="forbid", allow_inf_nan=False, frozen=True)


def portable_formula(text: str) -> Formula:
    """Parse a formula and keep it to what every database computes alike: numbers, names, ``+ - * /``.

    >>> format_expression(portable_formula("(first_response_at - opened_at) / 3600").expression)
    '(first_response_at - opened_at) / 3600'
    >>> portable_formula("round(clv / cac, 1)")
    Traceback (most recent call last):
    ...
    ValueError: 'round(clv / cac, 1)' may only use numbers, names, + - * / and brackets, not round(...)
    """
    formula = parse_formula(text)
    pending = [formula.expression]
    while pending:
        node = pending.pop()
        match node:
            case Number() | Reference():
                continue
            case Unary("-", operand):
                pending.append(operand)
                continue
            case Binary(operator, left, right) if operator in PORTABLE_OPERATORS:
                pending += [left, right]
                continue
        refused = f"{node.function}(...)" if isinstance(node, Call) else f"'{node.operator}'"
        raise ValueError(f"'{text}' may only use numbers, names, + - * / and brackets, not {refused}")
    return formula


def _formula_over_kpis(text: str) -> str:
    """A derived KPI's formula: portable, and using at least one KPI, whose periods and segments it takes."""
    if not portable_formula(text).dependencies:
        raise ValueError(f"'{text}' uses no KPI; a derived KPI is computed from other KPIs")
    return text


class Condition(DefinitionModel):
    """One filter on rows, with exactly one operator: ``{column: kind, equals: complaint}``.

    Conditions follow SQL: a row whose column is empty matches no ``equals``, ``not_equals``, ``one_of``,
    ``at_least`` or ``at_most``; ask for empty values with ``present: false``.
    """

    column: ColumnPath = Field(description="The column tested, possibly of a referred table (customer.plan).")
    equals: Scalar | None = Field(default=None, description="Keep rows whose column equals this value.")
    not_equals: Scalar | None = Field(default=None, description="Keep rows whose column differs from this value.")
    one_of: list[Scalar] | None = Field(default=None, min_length=1, description="Keep rows with one of these.")
    present: bool | None = Field(default=None, description="true: keep rows with a value; false: without one.")
    at_least: float | None = Field(default=None, description="Keep rows whose number is at least this.")
    at_most: float | None = Field(default=None, description="Keep rows whose number is at most this.")

    @model_validator(mode="after")
    def _one_operator(self) -> Self:
        given = [name for name in OPERATORS if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError(
                f"a condition needs exactly one of {', '.join(OPERATORS)}; got {', '.join(given) or 'none'}"
            )
        return self

    @property
    def operator(self) -> str:
        """The one operator this condition uses."""
        return next(name for name in OPERATORS if getattr(self, name) is not None)

    @property
    def operand(self) -> Scalar | list[Scalar]:
        """The value the column is tested against."""
        value: Scalar | list[Scalar] = getattr(self, self.operator)
        return value


OPERATORS = ("equals", "not_equals", "one_of", "present", "at_least", "at_most")


class Active(DefinitionModel):
    """When a row counts as a *stock*: every period in which it is active at the period's start or end.

    A row is active on day d when ``from <= d`` and (``until`` is empty or ``d <= until``): ``until`` is the
    last day it counts, as the canonical tables record a subscription's end and an employee's last working
    day. Headcount and subscribers are stocks; orders are flows, and use ``time`` instead.
    """

    starts: ColumnPath = Field(alias="from", description="The first day the row counts (a DATE column).")
    until: ColumnPath | None = Field(default=None, description="The last day it counts (a DATE); empty: still.")
    at: Literal["period_start", "period_end"] = Field(
        description="Count rows active on the first day of the period, or on its last day."
    )


class Rows(DefinitionModel):
    """Which rows of which table count, and how a row is placed in periods."""

    table: Name = Field(description="A canonical table, such as orders or survey_responses.")
    time: ColumnPath | None = Field(
        default=None, description="A flow: the date or time column whose period the row belongs to."
    )
    active: Active | None = Field(default=None, description="A stock: count the row in every period it is active.")
    where: list[Condition] = Field(default_factory=list, description="Conditions every counted row meets.")

    @model_validator(mode="after")
    def _one_timing(self) -> Self:
        if (self.time is None) == (self.active is None):
            raise ValueError(
                "give either 'time' (rows counted in the period of a date) or 'active' (rows counted in every "
                "period they are active), exactly one"
            )
        return self


class Measure(Rows):
    """An aggregate of a value over rows: ``sum`` of ``amount`` over ``orders`` in the period of ``order_date``."""

    aggregate: Aggregate = Field(description="How the rows' values combine; median and p90 interpolate linearly.")
    value: str | None = Field(
        default=None,
        description="A column or arithmetic over columns (+ - * /). A DATE counts as days and a TIMESTAMP as "
        "whole seconds since 1970-01-01 UTC, so (resolved_at - opened_at) / 3600 is hours; true counts as 1. "
        "Optional for count, which then counts rows.",
    )
    at_least: int | None = Field(
        default=None,
        ge=2,
        description="count_distinct only: count the values that appear in at least this many rows of the period.",
    )

    @model_validator(mode="after")
    def _value_fits_aggregate(self) -> Self:
        if self.value is None and self.aggregate != "count":
            raise ValueError(f"'{self.aggregate}' needs a value to aggregate")
        if self.value is not None:
            portable_formula(self.value)
        if self.at_least is not None and self.aggregate != "count_distinct":
            raise ValueError("'at_least' only applies to count_distinct")
        return self


class Population(DefinitionModel):
    """The entities of a cohort and when each is active, for retention and churn."""

    table: Name = Field(description="The table of activity spans, such as subscriptions.")
    entity: Name = Field(description="The column identifying who is retained, such as customer_id.")
    starts: ColumnPath = Field(alias="from", description="The first active day of a span (a DATE column).")
    until: ColumnPath | None = Field(default=None, description="The last active day (a DATE); empty: still.")
    amount: Name | None = Field(default=None, description="The recurring amount of a span, for basis: amount.")
    where: list[Condition] = Field(default_factory=list, description="Conditions every counted span meets.")


class KpiBase(DefinitionModel):
    """What every KPI states, whatever its type: identity, meaning, unit, direction and choice points."""

    key: Key = Field(description="The KPI's identifier, used in formulas, imports and by the scorecard.")
    name: str = Field(min_length=1, max_length=200, description="The KPI's name as people say it.")
    description: str = Field(min_length=1, description="What the number tells, in a sentence or two.")
    perspective: Perspective = Field(description="The Balanced Scorecard perspective the KPI usually sits in.")
    unit: UnitChoice
    duration_unit: Literal["minutes", "hours", "days"] | None = Field(
        default=None, description="For unit: duration, the unit the value is in."
    )
    direction: DirectionChoice
    aggregation: AggregationChoice
    choice_points: list[str] = Field(
        default_factory=list,
        description="Each decision that changes the number (which denominator, which date, which window), "
        "with the choice made.",
    )


class Segmentable(KpiBase):
    """A KPI read from tables, which may be split by a dimension of its rows."""

    segments: list[Name] = Field(
        default_factory=list,
        description="Dimensions the KPI may be split by on request (segment, channel, region, department): a "
        "column of each measure's table, or of a table it refers to through a <name>_id column.",
    )
    by: Name | None = Field(
        default=None, description="A dimension the KPI is always split by, such as channel for CAC by channel."
    )


class SimpleKpi(Segmentable):
    """One aggregate over rows, such as revenue or the number of products launched."""

    type: Literal["simple"]
    measure: Measure


class RatioKpi(Segmentable):
    """Numerator over denominator, each its own measure; both are reported so periods combine correctly."""

    type: Literal["ratio"]
    numerator: Measure
    denominator: Measure
    scale: Literal[1, 100] = Field(default=1, description="100 to report a percentage.")


class DerivedKpi(KpiBase):
    """Arithmetic over other KPIs of the same period and segment, such as ``clv / cac``."""

    type: Literal["derived"]
    formula: Annotated[str, AfterValidator(_formula_over_kpis)] = Field(
        description="Numbers, KPI keys, + - * / and brackets; a division by zero has no value."
    )


class CumulativeKpi(Segmentable):
    """A running or windowed total of an additive measure, such as revenue year to date."""

    type: Literal["cumulative"]
    measure: Measure
    window: Annotated[int, Field(ge=1)] | Literal["year_to_date", "running"] = Field(
        description="The last N periods (of the grain computed), the calendar year to date, or every period so far."
    )


class GrowthKpi(KpiBase):
    """Another KPI's change in percent of its earlier value."""

    type: Literal["growth"]
    of: Key = Field(description="The KPI whose growth this is.")
    compare_to: Literal["previous_period", "same_period_last_year"]


class CohortKpi(Segmentable):
    """Retention or churn of the entities active at the start of each period."""

    type: Literal["cohort"]
    population: Population
    basis: Literal["count", "amount"] = Field(
        description="count: entities; amount: their recurring amount, compared entity by entity."
    )
    outcome: Literal["retained", "churned"]


class SurveyKpi(Segmentable):
    """A survey statistic with its margin of error: NPS, top-box share or mean score."""

    type: Literal["survey"]
    statistic: Literal["nps", "top_box", "mean"] = Field(
        description="nps: % promoters (9-10) − % detractors (0-6); top_box: % of answers in the top boxes; "
        "mean: the average score."
    )
    responses: Rows
    score: Name = Field(description="The column holding each answer's score.")
    scale_max: Name | None = Field(default=None, description="For top_box: the column with each answer's top score.")
    top_box: int | None = Field(default=None, ge=1, description="For top_box: how many top answers count (2).")
    min_responses: int = Field(
        default=MIN_RESPONSES, ge=1, description="Below this many responses the value is flagged as too few responses."
    )


KpiDefinition = Annotated[
    SimpleKpi | RatioKpi | DerivedKpi | CumulativeKpi | GrowthKpi | CohortKpi | SurveyKpi,
    Field(discriminator="type"),
]
TableKpi = SimpleKpi | RatioKpi | CumulativeKpi | CohortKpi | SurveyKpi
"""The KPI types that read tables, as opposed to those computed from other KPIs."""


class DefinitionFile(DefinitionModel):
    """A YAML document of KPI definitions."""

    kpis: list[KpiDefinition] = Field(min_length=1, description="The KPIs, each with a key unique across files.")


@dataclass(frozen=True)
class DefinitionProblem:
    """One thing wrong with a definition, located well enough to fix it without searching."""

    source: str
    line: int | None
    kpi: str | None
    field: str | None
    message: str

    def __str__(self) -> str:
        parts = [self.source + (f", line {self.line}" if self.line is not None else "")]
        if self.kpi:
            parts.append(f"KPI '{self.kpi}'")
        if self.field:
            parts.append(f"field '{self.field}'")
        return f"{', '.join(parts)}: {self.message}"


class DefinitionError(ValueError):
    """Definitions that cannot be used, with every problem found (``problems``)."""

    def __init__(self, problems: Sequence[DefinitionProblem]) -> None:
        self.problems = tuple(problems)
        count = len(self.problems)
        heading = f"{count} problem{'' if count == 1 else 's'} in KPI definitions:"
        super().__init__("\n".join([heading, *(f"  {problem}" for problem in self.problems)]))


class Definitions(Mapping[str, KpiDefinition]):
    """Loaded KPI definitions by key, in file order, remembering the file each came from."""

    def __init__(self, kpis: Mapping[str, KpiDefinition], sources: Mapping[str, str]) -> None:
        self._kpis = dict(kpis)
        self._sources = dict(sources)

    def __getitem__(self, key: str) -> KpiDefinition:
        return self._kpis[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._kpis)

    def __len__(self) -> int:
        return len(self._kpis)

    def source_of(self, key: str) -> str:
        """The file (or ``<text>``) the KPI was defined in, for messages that must point at it."""
        return self._sources[key]

    def problem(self, key: str, field: str, message: str) -> DefinitionError:
        """An error about one KPI's field, found after loading (by the compiler, which sees the tables)."""
        return DefinitionError([DefinitionProblem(self._sources[key], None, key, field, message)])


def dependencies(kpi: KpiDefinition) -> frozenset[str]:
    """The keys of the other KPIs a KPI is computed from.

    >>> sorted(dependencies(GrowthKpi.model_validate(
    ...     {"key": "g", "name": "G", "description": "d", "perspective": "financial", "unit": "percent",
    ...      "direction": "higher", "aggregation": "ratio", "type": "growth", "of": "revenue",
    ...      "compare_to": "previous_period"})))
    ['revenue']
    """
    formula = _formula_of(kpi)
    return formula.dependencies if formula else frozenset()


def _formula_of(kpi: KpiDefinition) -> Formula | None:
    """A KPI computed from others as a formula over them; growth is a function of one KPI, written as its key."""
    if isinstance(kpi, DerivedKpi):
        return parse_formula(kpi.formula)
    if isinstance(kpi, GrowthKpi):
        return parse_formula(kpi.of)
    return None


def load_definitions(*sources: Path | str) -> Definitions:
    """Load KPI definitions from YAML files (a ``Path``) or YAML text (a ``str``), checked as one set.

    Keys must be unique across all sources, and derived and growth KPIs may use KPIs of any of them, so load
    your own definitions together with the library's to build on it. Raises :class:`DefinitionError` with
    every problem found.
    """
    problems: list[DefinitionProblem] = []
    kpis: dict[str, KpiDefinition] = {}
    origins: dict[str, str] = {}
    lines: dict[str, int | None] = {}
    for source in sources:
        name = str(source) if isinstance(source, Path) else TEXT_SOURCE
        text = source.read_text(encoding="utf-8") if isinstance(source, Path) else source
        for kpi, line in _read_file(text, name, problems):
            if kpi.key in kpis:
                problems.append(
                    DefinitionProblem(
                        name,
                        line,
                        kpi.key,
                        "key",
                        f"the key is already used in {origins[kpi.key]}, line {lines[kpi.key]}",
                    )
                )
                continue
            kpis[kpi.key], origins[kpi.key], lines[kpi.key] = kpi, name, line
    problems += _set_problems(kpis, origins, lines)
    if problems:
        raise DefinitionError(problems)
    return Definitions(kpis, origins)


def _read_file(text: str, source: str, problems: list[DefinitionProblem]) -> list[tuple[KpiDefinition, int | None]]:
    """The valid KPIs of one document with their lines; the problems of the others go to ``problems``."""
    try:
        document = read_yaml(text, source)
    except ScorecardFileError as error:
        problems += [DefinitionProblem(source, found.line, None, None, found.message) for found in error.problems]
        return []
    problems += [
        DefinitionProblem(source, found.line, None, None, f"{found.where}: {found.message}")
        for found in document.repeated_keys
    ]
    try:
        parsed = DefinitionFile.model_validate(document.data)
    except ValidationError as error:
        problems += _schema_problems(error, document.data, document.positions, source)
        return []
    found: list[tuple[KpiDefinition, int | None]] = []
    for index, kpi in enumerate(parsed.kpis):
        for field, message in _kpi_problems(kpi):
            line = line_of(document.positions, ("kpis", index, *field.split(".")))
            problems.append(DefinitionProblem(source, line, kpi.key, field, message))
        found.append((kpi, line_of(document.positions, ("kpis", index, "key"))))
    return found


def _schema_problems(
    error: ValidationError, data: object, positions: Mapping[tuple[str, ...], int], source: str
) -> list[DefinitionProblem]:
    """Pydantic's errors, one per field (a union's alternatives merged), naming the KPI by its key."""
    merged: dict[tuple[str | int, ...], list[ErrorDetails]] = {}
    for details in error.errors(include_url=False):
        merged.setdefault(_field_path(details["loc"]), []).append(details)
    problems = []
    for path, errors in merged.items():
        kpi = None
        if len(path) >= 2 and path[0] == "kpis" and isinstance(path[1], int):
            item = data["kpis"][path[1]] if isinstance(data, dict) and isinstance(data.get("kpis"), list) else None
            kpi = item.get("key") if isinstance(item, dict) and isinstance(item.get("key"), str) else f"#{path[1] + 1}"
        inner = path[2:] if kpi else path
        field = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in inner).lstrip(".")
        message = " or ".join(dict.fromkeys(_message(details) for details in errors))
        problems.append(DefinitionProblem(source, line_of(positions, path), kpi, field or None, message))
    return problems


_TYPE_TAGS = frozenset({"str", "bool", "int", "float"})
"""Pydantic's names for the branches of a union; no field of the format is called so."""
_FIELD_NAME = re.compile(r"[a-z_][a-z0-9_]*")
"""Fields look like this; Pydantic's other branch names (``constrained-int``, ``literal[...]``) do not."""


def _field_path(location: tuple[str | int, ...]) -> tuple[str | int, ...]:
    """The location as written in the file: without the KPI type and union branches Pydantic inserts."""
    path: list[str | int] = []
    for position, part in enumerate(location):
        is_kpi_tag = position == 2 and location[0] == "kpis" and part in KPI_TYPES
        is_union_branch = isinstance(part, str) and (part in _TYPE_TAGS or not _FIELD_NAME.fullmatch(part))
        if not (is_kpi_tag or is_union_branch):
            path.append(part)
    return tuple(path)


def _message(details: ErrorDetails) -> str:
    """One Pydantic error in the words of someone editing YAML."""
    kind, given = details["type"], details["input"]
    if kind == "extra_forbidden":
        name = str(details["loc"][-1])
        suggestion = difflib.get_close_matches(name, sorted(_field_names()), n=1)
        return f"unknown field '{name}'" + (f"; did you mean '{suggestion[0]}'?" if suggestion else "")
    if kind == "missing":
        return "is required"
    text = details["msg"]
    text = text.removeprefix("Value error, ")
    text = text[0].lower() + text[1:]
    if kind.endswith("_type") or kind in {"literal_error", "enum", "string_pattern_mismatch"}:
        text += f", got {json.dumps(given, default=str)}"
    return text


def _field_names() -> set[str]:
    """Every field name the format has, as written in files, to suggest one for a typo."""
    names: set[str] = set()
    pending: list[type[BaseModel]] = [DefinitionModel]
    while pending:
        model = pending.pop()
        names.update(field.alias or name for name, field in model.model_fields.items())
        pending.extend(model.__subclasses__())
    return names


def _kpi_problems(kpi: KpiDefinition) -> Iterator[tuple[str, str]]:
    """Checks of one KPI that involve several fields, as (field, message)."""
    if (kpi.unit == UnitKind.DURATION) != (kpi.duration_unit is not None):
        yield "duration_unit", "give a duration_unit (minutes, hours or days) for unit: duration, and only then"
    if isinstance(kpi, SimpleKpi | CumulativeKpi) and kpi.aggregation == Aggregation.RATIO:
        yield "aggregation", f"a {kpi.type} KPI has no numerator and denominator to recompute a ratio from"
    if isinstance(kpi, Segmentable) and kpi.by is not None and kpi.segments:
        yield "by", "a KPI always split by one dimension cannot be split by others; remove 'segments'"
    if isinstance(kpi, CumulativeKpi):
        if kpi.measure.time is None:
            yield "measure.time", "a cumulative KPI adds up a flow: give 'time', not 'active'"
        if kpi.measure.aggregate not in {"sum", "count"}:
            yield "measure.aggregate", "a cumulative KPI adds up periods, so it needs sum or count"
    if isinstance(kpi, SurveyKpi):
        if kpi.responses.time is None:
            yield "responses.time", "responses count in the period they were given: give 'time', not 'active'"
        if (kpi.statistic == "top_box") != (kpi.scale_max is not None and kpi.top_box is not None):
            yield "statistic", "top_box needs 'scale_max' and 'top_box', and other statistics take neither"
    if isinstance(kpi, CohortKpi) and (kpi.basis == "amount") != (kpi.population.amount is not None):
        yield "population.amount", "basis: amount needs the amount column, and basis: count takes none"


def _set_problems(
    kpis: Mapping[str, KpiDefinition], origins: Mapping[str, str], lines: Mapping[str, int | None]
) -> list[DefinitionProblem]:
    """Checks across KPIs: references to unknown KPIs, cycles, and inputs split by different dimensions."""
    problems = []
    for key, kpi in kpis.items():
        field = "formula" if isinstance(kpi, DerivedKpi) else "of"
        for reference in sorted(dependencies(kpi) - kpis.keys()):
            close = difflib.get_close_matches(reference, sorted(kpis), n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            problems.append(DefinitionProblem(origins[key], lines[key], key, field, f"unknown KPI '{reference}'{hint}"))
    if problems:
        return problems
    formulas = {key: formula for key, kpi in kpis.items() if (formula := _formula_of(kpi)) is not None}
    try:
        check_formulas(formulas, kpis.keys())
    except FormulaCycleError as error:  # the only error left, since every reference is known
        first = error.cycle[0]
        field = "formula" if isinstance(kpis[first], DerivedKpi) else "of"
        return [DefinitionProblem(origins[first], lines[first], first, field, f"KPIs depend on each other: {error}")]
    for key, kpi in kpis.items():
        splits = {fixed_split(reference, kpis) for reference in dependencies(kpi)}
        if len(splits) > 1:
            shown = ", ".join(sorted(split or "nothing" for split in splits))
            problems.append(
                DefinitionProblem(
                    origins[key], lines[key], key, "formula", f"its inputs are split by different dimensions: {shown}"
                )
            )
    return problems


def fixed_split(key: str, kpis: Mapping[str, KpiDefinition]) -> str | None:
    """The dimension a KPI is always split by: its own ``by``, or that of the KPIs it is computed from."""
    kpi = kpis[key]
    if isinstance(kpi, DerivedKpi | GrowthKpi):
        return next((fixed_split(reference, kpis) for reference in sorted(dependencies(kpi))), None)
    return kpi.by


def optional_segments(key: str, kpis: Mapping[str, KpiDefinition]) -> frozenset[str]:
    """The dimensions a KPI may be split by on request; for a derived KPI, those all its inputs allow."""
    kpi = kpis[key]
    if isinstance(kpi, DerivedKpi | GrowthKpi):
        allowed = [optional_segments(reference, kpis) for reference in dependencies(kpi)]
        return frozenset.intersection(*allowed)
    return frozenset(kpi.segments)


def fingerprint(key: str, kpis: Mapping[str, KpiDefinition]) -> str:
    """A short hash of everything that decides a KPI's numbers, including the KPIs it is computed from.

    Stored next to computed values, it tells whether a value was computed by the definition in force now:
    renaming a KPI or rewording its choice points leaves it unchanged, a different filter does not.
    """
    documentation = {"name", "description", "perspective", "choice_points", "direction"}
    kpi = kpis[key]
    content = {
        "kpi": kpi.model_dump(mode="json", by_alias=True, exclude=documentation),
        "inputs": {reference: fingerprint(reference, kpis) for reference in sorted(dependencies(kpi))},
    }
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()[:16]


def describe_formula(kpi: KpiDefinition) -> str:
    """How the value is computed, in one line of Markdown: the text a reader checks a number against.

    >>> describe_formula(load_definitions('''
    ... kpis:
    ...   - {key: aov, name: Order value, description: d, perspective: financial, unit: currency,
    ...      direction: higher, aggregation: average, type: simple,
    ...      measure: {table: orders, time: order_date, aggregate: avg, value: amount}}
    ... ''')["aov"])
    'avg(`amount`) over `orders`, in the period of `order_date`'
    """
    match kpi:
        case SimpleKpi(measure=measure):
            return _describe_measure(measure)
        case RatioKpi(numerator=numerator, denominator=denominator, scale=scale):
            scaled = "100 × " if scale == 100 else ""
            return f"{scaled}[{_describe_measure(numerator)}] / [{_describe_measure(denominator)}]"
        case DerivedKpi(formula=formula):
            return f"`{format_expression(parse_formula(formula).expression)}` for the same period and segment"
        case CumulativeKpi(measure=measure, window=window):
            span = {"running": "every period so far", "year_to_date": "the calendar year to date"}.get(
                str(window), f"the last {window} periods"
            )
            return f"total over {span} of {_describe_measure(measure)}"
        case GrowthKpi(of=of, compare_to=compare_to):
            earlier = "the previous period" if compare_to == "previous_period" else "the same period a year before"
            return f"100 × (`{of}` − `{of}` of {earlier}) / `{of}` of {earlier}"
        case CohortKpi():
            return _describe_cohort(kpi)
        case SurveyKpi():
            return _describe_survey(kpi)


def _describe_measure(measure: Measure) -> str:
    what = f"{measure.aggregate}(`{measure.value}`)" if measure.value else "count(rows)"
    if measure.at_least:
        what += f" of values with at least {measure.at_least} rows"
    return f"{what} over {_describe_rows(measure)}"


def _describe_rows(rows: Rows) -> str:
    text = f"`{rows.table}`"
    if rows.time is not None:
        text += f", in the period of `{rows.time}`"
    if rows.active is not None:
        until = f" until `{rows.active.until}`" if rows.active.until else ""
        day = "first" if rows.active.at == "period_start" else "last"
        text += f", active on the period's {day} day (from `{rows.active.starts}`{until})"
    if rows.where:
        text += ", where " + " and ".join(_describe_condition(condition) for condition in rows.where)
    return text


def _describe_condition(condition: Condition) -> str:
    signs = {"equals": "=", "not_equals": "≠", "at_least": "≥", "at_most": "≤"}
    operand = condition.operand
    if condition.operator == "present":
        return f"`{condition.column}` is {'present' if operand else 'empty'}"
    if isinstance(operand, list):
        return f"`{condition.column}` in ({', '.join(_shown(value) for value in operand)})"
    return f"`{condition.column}` {signs[condition.operator]} {_shown(operand)}"


def _shown(value: Scalar) -> str:
    return json.dumps(value) if isinstance(value, bool) else str(value)


def _describe_cohort(kpi: CohortKpi) -> str:
    population = kpi.population
    who = f"`{population.entity}` of `{population.table}`"
    until = f" until `{population.until}`" if population.until else ""
    active = f"active from `{population.starts}`{until}"
    if kpi.basis == "count":
        share = "still active on its last day" if kpi.outcome == "retained" else "no longer active on its last day"
        return f"100 × {who} {active} on the period's first day and {share} / those active on its first day"
    part = "min(start, end)" if kpi.outcome == "retained" else "max(0, start − end)"
    return (
        f"100 × Σ {part} / Σ start over each {who} {active} on the period's first day, where start and end are "
        f"its total `{population.amount}` on the first and last day"
    )


def _describe_survey(kpi: SurveyKpi) -> str:
    rows = _describe_rows(kpi.responses)
    if kpi.statistic == "nps":
        return (
            f"% of `{kpi.score}` ≥ 9 − % of `{kpi.score}` ≤ 6 over {rows}; margin of error "
            "1.96 × √((p₉₋₁₀ + p₀₋₆ − (p₉₋₁₀ − p₀₋₆)²) / n)"
        )
    if kpi.statistic == "top_box":
        return (
            f"100 × share of `{kpi.score}` > `{kpi.scale_max}` − {kpi.top_box} over {rows}; margin of error "
            "1.96 × √(p(1 − p) / n)"
        )
    return f"mean of `{kpi.score}` over {rows}; margin of error 1.96 × s / √n"


def definitions_markdown(definitions: Definitions, *, title: str, introduction: str) -> str:
    """A Markdown page documenting every KPI, grouped by perspective: generated, so it cannot go stale."""
    perspectives = {
        "financial": "Financial",
        "customer": "Customer",
        "internal": "Internal process",
        "learning": "Learning and growth",
    }
    lines = [f"# {title}", "", introduction.strip(), ""]
    for perspective, heading in perspectives.items():
        keys = [key for key, kpi in definitions.items() if kpi.perspective == perspective]
        if keys:
            lines += [f"## {heading}", ""]
        for key in keys:
            lines += _kpi_markdown(key, definitions)
    return "\n".join(lines).rstrip() + "\n"


def _kpi_markdown(key: str, definitions: Definitions) -> list[str]:
    kpi = definitions[key]
    unit = kpi.unit.value + (f" ({kpi.duration_unit})" if kpi.duration_unit else "")
    split = fixed_split(key, definitions)
    segments = sorted(optional_segments(key, definitions))
    facts = [
        ("Key", f"`{key}`"),
        ("Type", kpi.type),
        ("Unit", unit),
        ("Direction", f"{kpi.direction.value} is better"),
        ("Across periods", kpi.aggregation.value),
        ("Split by", f"always by {split}" if split else ", ".join(segments) or "—"),
    ]
    lines = [f"### {kpi.name}", "", kpi.description.strip(), "", "| | |", "|---|---|"]
    lines += [f"| {label} | {value} |" for label, value in facts]
    lines += ["", f"**Formula:** {describe_formula(kpi)}", ""]
    if kpi.choice_points:
        lines += ["**Choice points:**", "", *(f"- {choice}" for choice in kpi.choice_points), ""]
    return lines
