"""The KPI page's forms, and the data-entry grid's cells: numbers read in the user's language."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.utils import formats
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from fourfold.measures.models import VALUE_DIGITS, Actual, Kpi
from fourfold.measures.selectors import EntryCell, EntryGrid, candidate_scores
from fourfold.measures.services import BatchError, Entry, entry_reading, note_required_message


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
