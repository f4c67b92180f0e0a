"""The KPI page's forms, and the data-entry grid's cells: numbers read in the user's language."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.utils import formats
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from fourfold.accounts.models import User
from fourfold.accounts.selectors import organisation_people
from fourfold.engine.periods import Frequency, Period
from fourfold.measures.models import VALUE_DIGITS, Actual, Kpi
from fourfold.measures.selectors import EntryCell, EntryGrid, candidate_scores
from fourfold.measures.services import BatchError, Entry, entry_reading, note_required_message
from fourfold.strategy.forms import ObjectiveChoiceField, objectives_of, owner_input, weight_initial, weight_input
from fourfold.strategy.models import Objective, Scorecard
from fourfold.ui.editing import FieldsetForm


def value_input(label: StrOrPromise, *, required: bool = False, help_text: StrOrPromise = "") -> forms.DecimalField:
    """A number input sized like the KPI value columns."""
    return forms.DecimalField(label=label, required=required, help_text=help_text, **VALUE_DIGITS)  # type: ignore[arg-type]


class ActualForm(forms.Form):
    """Enter or correct one period's value; numerator and denominator for ratio KPIs."""

    period_key = forms.CharField(label=_("Period"), max_length=10, help_text=_("e.g. 2026-03, 2026-Q1, 2026, 2026-W07"))
    value = value_input(_("Value"), help_text=_("Leave empty when you give numerator and denominator."))
    numerator = value_input(_("Numerator"))
    denominator = value_input(_("Denominator"))
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class TargetForm(forms.Form):
    """Set the target and thresholds from a period on."""

    period_key = forms.CharField(label=_("From period"), max_length=10)
    target = value_input(_("Target"))
    red_flag = value_input(_("Red flag"), help_text=_("Where the KPI turns off target."))
    reach_by = forms.CharField(
        label=_("Reached by"),
        max_length=10,
        required=False,
        help_text=_("For a target reached over a span, e.g. 12 000 by 2026-12."),
    )
    range_low = value_input(_("Range low"))
    range_high = value_input(_("Range high"))
    note = forms.CharField(label=_("Note"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # The KPI page shows this form beside the value form, which has fields of the same names: its own
        # ids keep every label pointing at its own input.
        kwargs.setdefault("auto_id", "target_%s")
        super().__init__(*args, **kwargs)


class KpiCommentForm(forms.Form):
    """A comment on the KPI page's thread, about the KPI in general or one of its periods."""

    body = forms.CharField(label=_("Comment"), widget=forms.Textarea(attrs={"rows": 3}), max_length=5000)
    period_key = forms.ChoiceField(label=_("About"), required=False)

    def __init__(self, *args: Any, periods: Sequence[Period] = (), **kwargs: Any) -> None:
        # Its own ids, like the target form's: the value form beside it has a period_key field too.
        kwargs.setdefault("auto_id", "comment_%s")
        super().__init__(*args, **kwargs)
        period_field = self.fields["period_key"]
        assert isinstance(period_field, forms.ChoiceField)
        period_field.choices = [("", gettext("The KPI in general")), *((p.key, p.label) for p in periods)]


GROUPING_SPACES = (" ", "\u00a0", "\u202f")
"""Spaces that group digits ("1 234,5"): what many languages and spreadsheet exports write."""

MINUS_SIGNS = str.maketrans({"\u2212": "-", "\u2013": "-"})


def number_example() -> str:
    """A number written the way the active language writes it ("1,234.5", "1.234,5", "1 234,5")."""
    return formats.number_format(Decimal("1234.5"), 1, use_l10n=True, force_grouping=True)


def parse_number(text: str) -> Decimal:
    """Read a number typed or pasted in the active language's notation; ``ValueError`` with a message if not.

    The decimal separator is the language's; digits may be grouped by its thousands separator or by spaces,
    but only in groups of three, so that "12.5" is never read as 125 where "." groups thousands.
    """
    decimal = formats.get_format("DECIMAL_SEPARATOR")
    cleaned = text.strip().translate(MINUS_SIGNS)
    groupings = {formats.get_format("THOUSAND_SEPARATOR"), *GROUPING_SPACES} - {decimal, ""}
    grouped = "|".join(re.escape(separator) for separator in sorted(groupings))
    pattern = (
        rf"[+-]?(?:\d+|\d{{1,3}}(?:(?P<group>{grouped})\d{{3}})(?:(?P=group)\d{{3}})*)?(?:{re.escape(decimal)}\d+)?"
    )
    if not re.fullmatch(pattern, cleaned) or not any(character.isdigit() for character in cleaned):
        raise ValueError(
            gettext("“%(text)s” is not a number. Write numbers like %(example)s.")
            % {"text": text.strip(), "example": number_example()}
        )
    digits = "".join(character for character in cleaned if character not in groupings)
    try:
        return Decimal(digits.replace(decimal, "."))
    except InvalidOperation as error:  # pragma: no cover - the pattern admits only what Decimal reads
        raise ValueError(text) from error


@dataclass(frozen=True)
class CellReading:
    """What a grid cell says: a value, or a numerator and denominator (the value then follows from them)."""

    value: Decimal | None
    numerator: Decimal | None = None
    denominator: Decimal | None = None


def _without_unit(kpi: Kpi, text: str) -> str:
    """Drop the unit a pasted number may carry: "78 %" for a percent KPI, "GBP 1,250" for a currency one."""
    cleaned = text.strip()
    if kpi.unit == Kpi.Unit.PERCENT:
        cleaned = cleaned.removesuffix("%")
    if kpi.unit == Kpi.Unit.CURRENCY and kpi.currency_code:
        cleaned = cleaned.removeprefix(kpi.currency_code).removesuffix(kpi.currency_code)
    return cleaned.strip()


def parse_cell(kpi: Kpi, text: str) -> CellReading:
    """Read a cell of the grid for ``kpi``: a number, "45/60" (numerator/denominator), or yes/no.

    Ratio KPIs need numerator and denominator, because periods combine from them. ``ValueError`` with a
    message for the cell otherwise.
    """
    if kpi.is_yes_no:
        answer = text.strip().lower()
        if answer in {"1", "yes", gettext("Yes").lower()}:
            return CellReading(Decimal(1))
        if answer in {"0", "no", gettext("No").lower()}:
            return CellReading(Decimal(0))
        raise ValueError(gettext("Answer yes or no (or 1 or 0)."))
    if "/" in text:
        numerator, _slash, denominator = text.partition("/")
        if "/" in denominator:
            raise ValueError(ratio_hint())
        return CellReading(
            None, parse_number(_without_unit(kpi, numerator)), parse_number(_without_unit(kpi, denominator))
        )
    if kpi.aggregation == Kpi.Aggregation.RATIO:
        raise ValueError(ratio_hint())
    return CellReading(parse_number(_without_unit(kpi, text)))


def ratio_hint() -> str:
    """How a ratio KPI's cell is written (periods combine from both parts), in the active language."""
    return gettext("Write it as numerator/denominator, e.g. %(example)s.") % {
        "example": f"45/{formats.number_format(60)}"
    }


def plain_number(number: Decimal, decimals: int | None = None) -> str:
    """A number for an input: the language's decimal separator, no grouping, no trailing zeros unless
    ``decimals`` asks for them."""
    if decimals is None:
        normalized = number.normalize()
        decimals = max(0, -int(normalized.as_tuple().exponent))
    return formats.number_format(number, decimals, use_l10n=True, force_grouping=False)


def cell_text(kpi: Kpi, actual: Actual | None) -> str:
    """What a cell shows for a stored value, in the notation :func:`parse_cell` reads back."""
    if actual is None:
        return ""
    if kpi.is_yes_no:
        return gettext("Yes") if actual.value == 1 else gettext("No")
    if actual.numerator is not None and actual.denominator is not None:
        return f"{plain_number(actual.numerator)}/{plain_number(actual.denominator)}"
    if actual.value is None:
        return ""
    return plain_number(actual.value, 0 if kpi.unit == Kpi.Unit.COUNT else kpi.decimals)


class EntryGridForm:
    """The data-entry grid as a form: each cell's text and note, which were changed, and what they say.

    A cell whose field is missing from the submitted data is unchanged, so a script may send only the cells
    it changed, and an unchanged cell is never written again. Fills the grid's cells in place for display.
    """

    def __init__(self, grid: EntryGrid, data: Mapping[str, str] | None = None) -> None:
        self.grid = grid
        self.entries: list[tuple[EntryCell, Entry]] = []
        for cell in grid.cells.values():
            cell.original_text = cell_text(cell.kpi, cell.actual)
            cell.original_note = cell.actual.note if cell.actual is not None else ""
            cell.text, cell.note = cell.original_text, cell.original_note
            if data is not None:
                self._bind(cell, data)

    def _bind(self, cell: EntryCell, data: Mapping[str, str]) -> None:
        text, note = data.get(f"v_{cell.id}"), data.get(f"n_{cell.id}")
        cell.text = cell.text if text is None else text.strip()
        cell.note = cell.note if note is None else note
        cell.changed = cell.text != cell.original_text or cell.note.strip() != cell.original_note.strip()
        if not cell.changed:
            return
        if not cell.text:
            cell.error = (
                gettext("Empty: a value is withdrawn on the KPI page. Press Esc to keep it.")
                if cell.actual is not None
                else gettext("Enter a value for this note.")
            )
            return
        try:
            reading = parse_cell(cell.kpi, cell.text)
        except ValueError as error:
            cell.error = str(error)
            return
        entry = Entry(
            cell.kpi, cell.period.key, reading.value, reading.numerator, reading.denominator, cell.note.strip()
        )
        self.entries.append((cell, entry))

    @property
    def changed(self) -> list[EntryCell]:
        return [cell for cell in self.grid.cells.values() if cell.changed]

    @property
    def has_errors(self) -> bool:
        return any(cell.error for cell in self.grid.cells.values())

    def preview(self, today: date) -> None:
        """Score every readable changed cell as it would be once saved, and flag missing required notes."""
        readings = [(cell, entry, entry_reading(entry, cell.period)) for cell, entry in self.entries]
        readable = [(cell, entry, reading) for cell, entry, reading in readings if reading is not None]
        candidates = [(cell.kpi, cell.period, reading) for cell, _entry, reading in readable]
        scores = candidate_scores(candidates, today=today)
        for (cell, entry, _reading), score in zip(readable, scores, strict=True):
            cell.preview = score
            cell.note_missing = (
                score.off_target and not entry.note and cell.kpi.scorecard.organisation.note_required_off_target
            )

    def show_batch_error(self, error: BatchError) -> None:
        """Put each refused value's messages next to its cell."""
        for index, messages in error.errors.items():
            cell = self.entries[index][0]
            cell.error = " ".join(message for field in messages.values() for message in field)
            cell.note_missing = note_required_message() in messages.get("note", [])


KPI_DEFINITION_FIELDS = (
    "objective",
    "key",
    "name",
    "description",
    "unit",
    "currency_code",
    "duration_unit",
    "direction",
    "frequency",
    "aggregation",
    "decimals",
    "weight",
    "owner",
)
"""What the KPI form hands to kpi_create / kpi_update; the same names as the model's, so errors land back."""

INITIAL_TARGET_FIELDS = ("period_key", "target", "red_flag", "range_low", "range_high")
"""What the KPI form hands to kpi_target_set when a KPI is created, so that it is scored from the start."""


class KpiForm(FieldsetForm):
    """A KPI's definition, who reports it, and (when it is created) its first target and thresholds.

    Later targets are set on the KPI's own page; the first one is asked for here because a KPI without a
    target has no score, which would leave its objective's score resting on the others without saying so.
    """

    objective = ObjectiveChoiceField(label=_("Objective"), queryset=Objective.objects.none(), empty_label=None)
    key = forms.CharField(
        label=_("Key"),
        max_length=60,
        help_text=_("Lower-case letters, digits and _, unique on the scorecard; used in formulas (e.g. nps)."),
    )
    name = forms.CharField(label=_("Name"), max_length=200)
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    unit = forms.ChoiceField(label=_("Unit"), choices=Kpi.Unit.choices, initial=Kpi.Unit.NUMBER)
    currency_code = forms.CharField(
        label=_("Currency"), max_length=3, required=False, help_text=_("For currency KPIs: ISO 4217 code, e.g. EUR.")
    )
    duration_unit = forms.ChoiceField(
        label=_("Duration in"),
        choices=[("", _("—")), *Kpi.DurationUnit.choices],
        required=False,
        help_text=_("For duration KPIs."),
    )
    direction = forms.ChoiceField(label=_("Direction"), choices=Kpi.Direction.choices, initial=Kpi.Direction.HIGHER)
    frequency = forms.ChoiceField(
        label=_("Frequency"),
        choices=[(frequency.value, frequency.value.capitalize()) for frequency in Frequency],
        initial=Frequency.MONTHLY,
        help_text=_("How often a value is entered; it cannot change once the KPI has values or targets."),
    )
    aggregation = forms.ChoiceField(
        label=_("Periods combine by"),
        choices=Kpi.Aggregation.choices,
        initial=Kpi.Aggregation.AVERAGE,
        help_text=_("How months make a quarter or a year: sum new customers, average a satisfaction score."),
    )
    decimals = forms.IntegerField(label=_("Decimals shown"), min_value=0, max_value=6, initial=1)
    weight = weight_input()
    updaters = forms.ModelMultipleChoiceField(
        label=_("Updaters"),
        queryset=User.objects.none(),
        required=False,
        help_text=_("Who else enters its values, besides the owner. Hold Ctrl (⌘ on a Mac) to pick several."),
    )
    period_key = forms.CharField(
        label=_("From period"),
        max_length=10,
        help_text=_("The first period the target holds for: 2026-01 monthly, 2026-Q1 quarterly, 2026 yearly."),
    )
    target = value_input(_("Target"), help_text=_("The goal; for yes/no KPIs 1 (yes) or 0 (no)."))
    red_flag = value_input(
        _("Red flag"), help_text=_("Where it turns off target; between it and the target it is on watch.")
    )
    range_low = value_input(_("Lowest good value"), help_text=_("For within-a-range KPIs."))
    range_high = value_input(_("Highest good value"), help_text=_("For within-a-range KPIs."))

    fieldsets = (
        (_("What it measures"), ("objective", "key", "name", "description")),
        (
            _("How it is measured"),
            ("unit", "currency_code", "duration_unit", "direction", "frequency", "aggregation", "decimals", "weight"),
        ),
        (_("Who reports it"), ("owner", "updaters")),
        (_("First target and thresholds"), INITIAL_TARGET_FIELDS),
    )

    def __init__(
        self,
        data: Mapping[str, Any] | None = None,
        *,
        scorecard: Scorecard,
        kpi: Kpi | None = None,
        initial: Mapping[str, Any] | None = None,
        today: date | None = None,
    ) -> None:
        if kpi is not None:
            initial = {
                **{name: getattr(kpi, name) for name in KPI_DEFINITION_FIELDS if name not in {"objective", "owner"}},
                "objective": kpi.objective_id,
                "owner": kpi.owner_id,
                "updaters": [user.pk for user in kpi.updaters.all()],
                "weight": weight_initial(kpi.weight),
            }
        elif today is not None:
            month = scorecard.organisation.calendar.period_containing(today, Frequency.MONTHLY)
            initial = {"period_key": month.key, **(initial or {})}
        super().__init__(data, initial=dict(initial or {}))
        self.fields["owner"] = owner_input(scorecard.organisation)
        people = self.fields["updaters"]
        objective = self.fields["objective"]
        assert isinstance(people, forms.ModelMultipleChoiceField)
        assert isinstance(objective, forms.ModelChoiceField)
        people.queryset = organisation_people(scorecard.organisation)
        objective.queryset = objectives_of(scorecard.pk)
        if kpi is not None:  # later targets are set on the KPI's page, with their history
            for name in INITIAL_TARGET_FIELDS:
                del self.fields[name]

    def definition(self) -> dict[str, Any]:
        """The KPI's settings as typed, for kpi_create."""
        return {name: self.cleaned_data[name] for name in KPI_DEFINITION_FIELDS}

    def initial_target(self) -> dict[str, Any]:
        """The first target and thresholds as typed, for kpi_target_set."""
        return {name: self.cleaned_data[name] for name in INITIAL_TARGET_FIELDS}
