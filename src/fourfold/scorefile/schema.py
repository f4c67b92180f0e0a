"""The scorecard file format, version 1: one YAML document describing a scorecard tree with its numbers.

These Pydantic models are the one definition of the format. The loader validates with them, and the JSON
Schema that editors use to complete and check files is generated from them (:func:`scorecard_json_schema`),
so the published schema and the loader cannot drift apart. The models check the *shape* of a document:
types, required fields, allowed choices. What needs more than one field to decide (a red flag on the wrong
side of its target, a formula naming an unknown KPI, a period key of the wrong frequency) is checked by
:mod:`fourfold.scorefile.load`, which turns a valid document into the engine's model.

Field names and choices are those of the stored models (``Kpi``, ``KpiTarget``, ``Objective``,
``ObjectiveLink``), so that ``fourfold apply`` and ``fourfold export`` can move a scorecard between a file
and the database without renaming anything.

Validation is strict (no text is taken for a number, no number for text) and unknown fields are refused,
because a typo such as ``red_flg`` would otherwise be ignored silently and the KPI scored without its red
flag. Regenerate the committed schema after changing a model with::

    uv run python -m fourfold.scorefile.schema > docs/schema/scorecard.schema.json
"""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    JsonValue,
    Strict,
    Tag,
    WithJsonSchema,
)

from fourfold.engine.aggregation import Aggregation
from fourfold.engine.formulas import MissingPolicy, UnitKind
from fourfold.engine.model import Direction
from fourfold.engine.periods import FiscalYearNaming, Frequency
from fourfold.engine.rollup import RollupMethod, ValueRollupMethod
from fourfold.engine.scoring import METHODS
from fourfold.engine.status import MAX_STATUSES

FORMAT_VERSION = 1

KPI_KEY_PATTERN = r"^[a-z][a-z0-9_]*$"
SCORECARD_KEY_PATTERN = r"^[a-z0-9][a-z0-9_-]*$"
OBJECTIVE_CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
COLOUR_PATTERN = r"^#[0-9a-fA-F]{6}$"
ROLLUP_SOURCE_PATTERN = r"^[a-z0-9][a-z0-9_-]*/[a-z][a-z0-9_]*$"
PERIOD_KEY_PATTERN = r"^\s*[0-9]{4}(-([0-9]{1,2}|[Qq][0-9]|[Ww][0-9]{1,2}))?\s*$"

PATTERN_WORDS = {
    KPI_KEY_PATTERN: "lower-case letters, digits and _, starting with a letter (such as csat)",
    SCORECARD_KEY_PATTERN: "lower-case letters, digits, - and _ (such as support-team)",
    OBJECTIVE_CODE_PATTERN: "letters, digits, ., - and _ without spaces (such as F1)",
    COLOUR_PATTERN: "a colour like #1a7f37",
    ROLLUP_SOURCE_PATTERN: "child_scorecard_key/kpi_key (such as support/csat)",
}
"""How the loader words each pattern when a value does not match it: the regular expression helps nobody."""


def _year_as_text(value: object) -> object:
    """YAML reads an unquoted ``2026`` as a number; as a period key it can only mean the year 2026."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


def _choice_of_numbers_and_answers(value: object) -> str:
    """Route true/false (YAML also reads yes/no that way) to the yes/no branch, anything else to the number."""
    return "yes_no" if isinstance(value, bool) else "number"


def _choice_of_reported_values(value: object) -> str:
    """A mapping is a full value entry; anything else is the bare value, a number or a yes/no answer."""
    return "entry" if isinstance(value, dict) else _choice_of_numbers_and_answers(value)


def _choice_of_weights(value: object) -> str:
    return "changes" if isinstance(value, list) else "number"


UNION_TAGS = frozenset({"number", "yes_no", "entry", "changes"})
"""Names of the branches of the file's unions, which Pydantic puts in error locations; the loader drops them."""

PeriodKey = Annotated[
    str,
    BeforeValidator(_year_as_text),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": PERIOD_KEY_PATTERN},
                {"type": "integer", "minimum": 1900, "maximum": 9999},
            ],
            "description": "A period key: YYYY-MM (month), YYYY-Qn (fiscal quarter), YYYY (fiscal year) or "
            "YYYY-Wnn (ISO week).",
        }
    ),
]
"""A period key as written; its frequency is checked against the KPI by the loader, which knows the calendar."""

Number = Annotated[float, Field(description="A number (finite).")]
NumberOrAnswer = Annotated[
    Annotated[float, Tag("number")] | Annotated[bool, Tag("yes_no")],
    Discriminator(_choice_of_numbers_and_answers),
]
"""A number, or true/false for a yes/no KPI (1 and 0 work too)."""

Weight = Annotated[float, Field(ge=0, description="0 or more; 0 keeps the item out of its parent's roll-up.")]
Name = Annotated[str, Field(min_length=1, max_length=200)]
Text = Annotated[str, Field(description="Free text.")]
Score = Annotated[float, Field(ge=0, le=10)]


def _choices(enum: type[StrEnum], description: str) -> WithJsonSchema:
    """The JSON Schema of an engine enum: its stored values, described for the person writing the file."""
    return WithJsonSchema({"type": "string", "enum": [member.value for member in enum], "description": description})


# Strict validation takes only enum members, which a YAML file cannot hold, so the engine's enums are
# validated leniently: the value must still be one of the members' values.
UnitChoice = Annotated[
    UnitKind, Strict(False), _choices(UnitKind, "What the KPI counts; currency and duration need their detail.")
]
DirectionChoice = Annotated[
    Direction, Strict(False), _choices(Direction, "Which way is good; range: inside range_low..range_high.")
]
FrequencyChoice = Annotated[
    Frequency, Strict(False), _choices(Frequency, "How often values are reported; their period keys follow it.")
]
AggregationChoice = Annotated[
    Aggregation,
    Strict(False),
    _choices(Aggregation, "How values of several periods combine; ratio recomputes numerator / denominator."),
]
RollupChoice = Annotated[
    RollupMethod, Strict(False), _choices(RollupMethod, "How the children's scores make this item's score.")
]
ValueRollupChoice = Annotated[
    ValueRollupMethod, Strict(False), _choices(ValueRollupMethod, "How the rollup_from values combine.")
]
NamingChoice = Annotated[
    FiscalYearNaming,
    Strict(False),
    _choices(FiscalYearNaming, "Name a fiscal year after the calendar year it starts or ends in."),
]


class FileModel(BaseModel):
    """Settings shared by every part of the file: strict types, no unknown fields, no NaN or infinity."""

    model_config = ConfigDict(strict=True, extra="forbid", allow_inf_nan=False, frozen=True)


class WeightFrom(FileModel):
    """A weight that applies from a period on: priorities shift during a strategy's life."""

    starts: PeriodKey = Field(alias="from", description="The first period the weight applies to.")
    weight: Weight


WeightSpec = Annotated[
    Annotated[Weight, Tag("number")] | Annotated[list[WeightFrom], Tag("changes"), Field(min_length=1)],
    Discriminator(_choice_of_weights),
    Field(
        description="Weight in the parent's roll-up: a number, or a list of {from, weight} changes in period "
        "order (the first weight also applies before its period)."
    ),
]


class ValueEntry(FileModel):
    """A reported value with its parts and a note; ratio KPIs give numerator and denominator."""

    value: NumberOrAnswer | None = Field(
        default=None, description="The value; for a ratio KPI it may be left out and is then computed."
    )
    numerator: Number | None = Field(default=None, description="Required (with denominator) for ratio KPIs.")
    denominator: Number | None = Field(default=None, description="Required (with numerator) for ratio KPIs; not 0.")
    note: Text = ""


ReportedValue = Annotated[
    Annotated[float, Tag("number")] | Annotated[bool, Tag("yes_no")] | Annotated[ValueEntry, Tag("entry")],
    Discriminator(_choice_of_reported_values),
]


class TargetSpec(FileModel):
    """Target and thresholds from a period on, until the next setting; ``KpiTarget`` in the database."""

    starts: PeriodKey = Field(
        alias="from", description="The first period this setting applies to, of the KPI's frequency."
    )
    target: NumberOrAnswer | None = Field(
        default=None, description="The goal; for a yes/no KPI the better answer (true/1 or false/0)."
    )
    red_flag: Number | None = Field(
        default=None, description="The value at which the KPI turns off target; on the bad side of the target."
    )
    range_low: Number | None = Field(default=None, description="For within-a-range KPIs: the lowest good value.")
    range_high: Number | None = Field(default=None, description="For within-a-range KPIs: the highest good value.")
    method: str | None = Field(
        default=None,
        description="Scoring method; without it the default method for what is set applies. One of: "
        + ", ".join(sorted(METHODS))
        + ".",
    )
    parameters: dict[str, JsonValue] | None = Field(default=None, description="Parameters of the scoring method.")
    reach_by: PeriodKey | None = Field(
        default=None,
        description="For a target reached over a span (12 000 by 2026-12): the period it must be reached by; "
        "each period is then judged against the value expected by its end.",
    )
    progress_curve: list[Number] | None = Field(
        default=None,
        description="Cumulative share of the target expected after each period of the span, ending at 1 "
        "(default: a straight line from the baseline).",
    )
    note: Text = ""


class KpiSpec(FileModel):
    """A KPI: how it is measured, combined over periods and scored, with its targets and reported values."""

    key: str = Field(
        pattern=KPI_KEY_PATTERN, max_length=60, description="Identifier used in formulas, unique in the scorecard."
    )
    name: Name
    description: Text = ""
    definition: Text = Field(default="", description="How the number is made: sources, inclusions, exclusions.")
    unit: UnitChoice = UnitKind.NUMBER
    currency_code: str = Field(default="", description="ISO 4217 code (such as EUR) for currency KPIs.")
    duration_unit: str = Field(default="", description="minutes, hours or days, for duration KPIs.")
    direction: DirectionChoice = Direction.HIGHER
    frequency: FrequencyChoice = Frequency.MONTHLY
    aggregation: AggregationChoice = Field(
        default=Aggregation.AVERAGE, description="How the values of several periods combine."
    )
    decimals: int = Field(default=1, ge=0, le=6, description="Decimals shown.")
    weight: WeightSpec = 1.0
    baseline: NumberOrAnswer | None = Field(default=None, description="The starting point progress is measured from.")
    baseline_period: PeriodKey | None = Field(default=None, description="The period the baseline was measured in.")
    source_kind: Literal["manual", "imported", "computed", "formula", "survey"] | None = Field(
        default=None, description="Where the values come from; 'formula' when a formula is given (the default then)."
    )
    formula: str | None = Field(default=None, description="An expression over other KPI keys of the scorecard.")
    missing_policy: MissingPolicy | None = Field(
        default=None, description="For formula KPIs: what a missing input counts as (default no_data)."
    )
    rollup_from: list[Annotated[str, Field(pattern=ROLLUP_SOURCE_PATTERN)]] = Field(
        default_factory=list, description="KPIs of child scorecards whose values make this one's."
    )
    value_rollup: ValueRollupChoice | None = Field(
        default=None, description="How the rollup_from values combine (default sum)."
    )
    targets: list[TargetSpec] = Field(default_factory=list)
    values: dict[PeriodKey, ReportedValue] = Field(
        default_factory=dict, description="Reported values by period key: a number, true/false, or an entry."
    )


class ObjectiveSpec(FileModel):
    """A strategic objective, measured by its KPIs and by the child objectives aligned to it."""

    code: str = Field(
        pattern=OBJECTIVE_CODE_PATTERN,
        max_length=12,
        description="Short label such as F1, unique in the scorecard; links and aligned_to refer to it.",
    )
    name: Name
    description: Text = ""
    weight: WeightSpec = 1.0
    rollup: RollupChoice = RollupMethod.WEIGHTED_AVERAGE
    aligned_to: str | None = Field(default=None, description="Code of the objective on the parent scorecard.")
    own_kpi: str | None = Field(
        default=None, description="For the self_standing roll-up: the key of the KPI whose score is the objective's."
    )
    kpis: list[KpiSpec] = Field(default_factory=list)


class PerspectiveSpec(FileModel):
    """One of the scorecard's lenses, with its objectives."""

    name: Name
    kind: Literal["financial", "customer", "internal", "learning", "custom"] = "custom"
    description: Text = ""
    weight: WeightSpec = 1.0
    rollup: RollupChoice = RollupMethod.WEIGHTED_AVERAGE
    objectives: list[ObjectiveSpec] = Field(default_factory=list)


class StatusSpec(FileModel):
    """One level of the status scheme; the last one catches every lower score."""

    key: str = Field(pattern=KPI_KEY_PATTERN, max_length=40)
    name: Name
    colour: str = Field(pattern=COLOUR_PATTERN)
    min_score: Score | None = Field(default=None, description="Lowest score earning the status; empty for the last.")


class LinkSpec(FileModel):
    """A cause-and-effect hypothesis between two objectives of the same scorecard."""

    cause: str = Field(alias="from", description="Code of the cause objective.")
    effect: str = Field(alias="to", description="Code of the effect objective.")
    sign: Literal["reinforces", "trades_off"] = "reinforces"
    strength: Literal["weak", "medium", "strong"] = "medium"
    rationale: Text = Field(default="", description="Why we believe the cause drives the effect.")


class ScorecardSpec(FileModel):
    """A scorecard and its cascaded children.

    ``statuses``, ``due_days``, ``grace_days`` and ``overdue_as_no_data`` are inherited by children that do
    not set them: they are the organisation's reporting rules more often than a team's.
    """

    key: str = Field(
        pattern=SCORECARD_KEY_PATTERN,
        max_length=60,
        description="Identifier, unique in the file (rollup_from uses it).",
    )
    name: Name
    description: Text = ""
    statuses: list[StatusSpec] | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_STATUSES,
        description="The status scheme, best first (default: on target from 6.67, watch from 3.33, off target).",
    )
    due_days: int | None = Field(default=None, ge=0, le=365, description="Days after a period's end values are due.")
    grace_days: int | None = Field(default=None, ge=0, le=365, description="Days after the due date before overdue.")
    overdue_as_no_data: bool | None = Field(
        default=None, description="Leave overdue KPIs out of roll-ups, so a stale value cannot keep a parent green."
    )
    rollup: RollupChoice = RollupMethod.WEIGHTED_AVERAGE
    perspectives: list[PerspectiveSpec] = Field(default_factory=list)
    links: list[LinkSpec] = Field(default_factory=list)
    children: list[ScorecardSpec] = Field(default_factory=list, description="Scorecards cascaded from this one.")


class OrganisationSpec(FileModel):
    """The organisation's fiscal calendar, which gives quarter and year keys their dates."""

    name: str = ""
    fiscal_year_start_month: int = Field(default=1, ge=1, le=12, description="1 = January, 9 = September.")
    fiscal_year_naming: NamingChoice = Field(
        default=FiscalYearNaming.START, description="Name a fiscal year after the year it starts or ends in."
    )


class ScorecardFile(ScorecardSpec):
    """A scorecard file: the format version, the organisation's calendar and the top scorecard."""

    version: Literal[1] = Field(description="The format version; this Fourfold reads version 1.")
    organisation: OrganisationSpec = Field(default_factory=OrganisationSpec)


def scorecard_json_schema() -> dict[str, Any]:
    """The JSON Schema of a scorecard file, for editors (YAML language servers read JSON Schema)."""
    schema = ScorecardFile.model_json_schema(by_alias=True)
    # Inherited fields come first in Pydantic's order; a file starts with its version, so the schema does too.
    own = ("version", "organisation")
    properties = schema["properties"]
    schema["properties"] = {**{name: properties[name] for name in own}, **properties}
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}


def scorecard_json_schema_text() -> str:
    """The schema as committed in ``docs/schema/scorecard.schema.json``: stable order, final newline."""
    return json.dumps(scorecard_json_schema(), indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    print(scorecard_json_schema_text(), end="")
