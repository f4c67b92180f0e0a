"""Forms of the strategy pages: what the strategy map sends when an editor saves a dragged layout, and the
view, comparison and filters a scorecard page reads from its address."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from fourfold.accounts.models import User
from fourfold.engine.evaluate import PERIODS_PER_YEAR, PerspectiveResult
from fourfold.engine.model import Span, View
from fourfold.engine.periods import FiscalCalendar, Frequency, Period, PeriodKeyError
from fourfold.engine.status import StatusScheme
from fourfold.measures.scoring import default_period
from fourfold.strategy.models import Scorecard
from fourfold.strategy.selectors import OVERDUE, TreeFilter

POSITIONS_SHAPE = _('Send places as JSON: {"objective id": [x, y], …}, with numbers from 0 to 1.')


class MapLayoutForm(forms.Form):
    """The places of the objectives moved on the map, as JSON written by assets/js/strategy-map.js.

    Only the shape is checked here (ids and two finite numbers each); whether the ids are the scorecard's
    objectives and the numbers lie between 0 and 1 is the service's to say, so a script calling the service
    gets the same answers.
    """

    positions = forms.CharField(widget=forms.HiddenInput, error_messages={"required": POSITIONS_SHAPE})

    def clean_positions(self) -> dict[int, tuple[float, float]]:
        try:
            raw: Any = json.loads(self.cleaned_data["positions"])
        except ValueError:
            raise forms.ValidationError(POSITIONS_SHAPE) from None
        if not isinstance(raw, dict) or not raw:
            raise forms.ValidationError(POSITIONS_SHAPE)
        positions = {}
        for key, place in raw.items():
            if not (
                isinstance(key, str)
                and key.isdigit()
                and isinstance(place, list)
                and len(place) == 2
                and all(isinstance(value, int | float) and not isinstance(value, bool) for value in place)
                and all(math.isfinite(value) for value in place)
            ):
                raise forms.ValidationError(POSITIONS_SHAPE)
            positions[int(key)] = (float(place[0]), float(place[1]))
        return positions


@dataclass(frozen=True)
class ViewKind:
    """One choice of the period view: a kind of period shown alone, or a span ending with the period."""

    label: StrOrPromise
    frequency: Frequency | None
    """The kind of period it shows; ``None`` for the spans, which keep the period they are given."""
    span: Span


VIEW_KINDS = {
    "week": ViewKind(_("Week"), Frequency.WEEKLY, Span.PERIOD),
    "month": ViewKind(_("Month"), Frequency.MONTHLY, Span.PERIOD),
    "quarter": ViewKind(_("Quarter"), Frequency.QUARTERLY, Span.PERIOD),
    "ytd": ViewKind(_("Year to date"), None, Span.YEAR_TO_DATE),
    "year": ViewKind(_("Year"), Frequency.YEARLY, Span.PERIOD),
    "rolling": ViewKind(_("Rolling year"), None, Span.ROLLING_YEAR),
}
"""The period views, in the order the View field offers them."""

COMPARISONS = [("", _("No comparison")), ("previous", _("Previous period")), ("year", _("Same period a year before"))]
"""What a view can be compared with, as the Compare with field offers it."""


def view_kind(view: View) -> str:
    """The period view a view is shown as: its span, or for a period alone the period's kind."""
    for key, kind in VIEW_KINDS.items():
        if kind.span is view.span and kind.frequency in {None, view.period.frequency}:
            return key
    raise ValueError(f"no period view for {view}")  # unreachable: every frequency has a kind


def period_of_kind(calendar: FiscalCalendar, period: Period, frequency: Frequency, today: date) -> Period:
    """``period`` as a period of ``frequency``: the one containing it when coarser, otherwise its last
    sub-period that has ended by ``today`` (its first when none has), as the scorecard opens on."""
    if frequency is period.frequency:
        return period
    if frequency.rank > period.frequency.rank:
        return calendar.parent(period, frequency)
    within = calendar.subperiods(period, frequency)
    ended = [candidate for candidate in within if candidate.end < today]
    return ended[-1] if ended else within[0]


class PeriodViewForm(forms.Form):
    """The view a page about a scorecard shows, read from its address, and what it is compared with.

    ``period`` is any period key (``2026-03``, ``2026-Q1``, ``2026``, ``2026-W07``); without one the
    scorecard's default period. ``view`` turns it into the period view chosen: a quarter view of 2026-03
    is the quarter holding March, a month view of a quarter its last month that has ended; year to date and
    rolling year keep the period and read the span ending with it. The key a person types wins over the
    view of the period shown before (``shown``), so typing 2026-Q1 under "Month" shows that quarter. Links
    carry the result as ``period`` and ``span``, the form older addresses have. Each field that cannot be
    read falls back to its default, and its message goes next to it.
    """

    period = forms.CharField(label=_("Period"), required=False, max_length=32)
    view = forms.ChoiceField(
        label=_("View"), required=False, choices=[(key, kind.label) for key, kind in VIEW_KINDS.items()]
    )
    span = forms.ChoiceField(label=_("Span"), required=False, choices=[(span.value, span.value) for span in Span])
    shown = forms.CharField(required=False, max_length=32, widget=forms.HiddenInput)
    compare = forms.ChoiceField(label=_("Compare with"), required=False, choices=COMPARISONS)

    def __init__(self, data: Mapping[str, Any], *, scorecard: Scorecard, today: date) -> None:
        super().__init__(data)
        self.scorecard = scorecard
        self.calendar = scorecard.organisation.calendar
        self.today = today

    def clean_period(self) -> Period | None:
        key = self.cleaned_data["period"].strip()
        if not key:
            return None
        try:
            return self.calendar.parse(key)
        except PeriodKeyError as error:
            raise forms.ValidationError(str(error)) from None

    def chosen_view(self) -> View:
        """The view asked for; call after :meth:`is_valid`."""
        data = self.cleaned_data
        period = data.get("period") or default_period(self.scorecard, self.today)
        kind = VIEW_KINDS.get(data.get("view") or "")
        if kind is None:
            return View(period, Span(data.get("span") or Span.PERIOD))
        if kind.frequency is not None:
            typed = data.get("shown") and period.key != data["shown"].strip().upper()
            return View(period if typed else self._of_kind(period, kind.frequency), kind.span)
        if period.frequency is Frequency.YEARLY:  # the year to date of a year is the year: use its own periods
            period = self._of_kind(period, Frequency(self.scorecard.reporting_frequency))
        return View(period, kind.span)

    def compared_view(self, view: View) -> View | None:
        """The view ``view`` is compared with: the previous period, or the same period a year before."""
        compare = self.cleaned_data.get("compare")
        if compare == "previous":
            return View(self.calendar.previous(view.period), view.span)
        if compare == "year":
            return View(self.calendar.shift(view.period, -PERIODS_PER_YEAR[view.period.frequency]), view.span)
        return None

    def _of_kind(self, period: Period, frequency: Frequency) -> Period:
        return period_of_kind(self.calendar, period, frequency, self.today)


class TreeFilterForm(forms.Form):
    """The scorecard page's filters: by status (or overdue), owner and perspective, from the address.

    The choices are what the evaluated scorecard has, so a status, person or perspective it does not have is
    refused next to its field (and the filter left out) rather than showing an empty page.
    """

    status = forms.ChoiceField(label=_("Status"), required=False)
    owner = forms.TypedChoiceField(label=_("Owner"), required=False, coerce=int, empty_value=None)
    perspective = forms.TypedChoiceField(label=_("Perspective"), required=False, coerce=int, empty_value=None)

    def __init__(
        self,
        data: Mapping[str, Any],
        *,
        statuses: StatusScheme,
        owners: Sequence[User],
        perspectives: Sequence[PerspectiveResult],
    ) -> None:
        super().__init__(data)
        status_field = self.fields["status"]
        assert isinstance(status_field, forms.ChoiceField)
        status_field.choices = [
            ("", _("All statuses")),
            *((status.key, status.name) for status in (*statuses.levels, statuses.no_data)),
            (OVERDUE, _("Overdue")),
        ]
        owner_field = self.fields["owner"]
        assert isinstance(owner_field, forms.ChoiceField)
        owner_field.choices = [("", _("Everyone")), *((str(user.pk), str(user)) for user in owners)]
        perspective_field = self.fields["perspective"]
        assert isinstance(perspective_field, forms.ChoiceField)
        perspective_field.choices = [
            ("", _("All perspectives")),
            *((perspective.id, perspective.name) for perspective in perspectives),
        ]
        for field in self.fields.values():  # the fields sit by the tree but belong to the period form
            field.widget.attrs["form"] = "period-form"

    def filters(self) -> TreeFilter:
        """The filters that could be read; call after :meth:`is_valid`."""
        data = self.cleaned_data
        return TreeFilter(
            status=data.get("status") or None, owner=data.get("owner"), perspective=data.get("perspective")
        )
