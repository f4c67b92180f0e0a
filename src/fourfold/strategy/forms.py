"""Forms of the strategy pages: what the strategy map sends when an editor saves a dragged layout, and the
view, comparison and filters a scorecard page reads from its address."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from fourfold.accounts.models import User
from fourfold.accounts.selectors import organisation_people
from fourfold.engine.evaluate import PERIODS_PER_YEAR, PerspectiveResult
from fourfold.engine.model import Span, View
from fourfold.engine.periods import FiscalCalendar, Frequency, Period, PeriodKeyError
from fourfold.engine.status import StatusScheme
from fourfold.measures.scoring import default_period
from fourfold.strategy.models import Objective, ObjectiveLink, Organisation, OrgUnit, Perspective, Scorecard
from fourfold.strategy.selectors import OVERDUE, TreeFilter
from fourfold.ui.editing import FieldsetForm

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


# Editing forms. Each one only shapes what is typed; the services say whether it may be saved, and their
# refusals are put back next to these fields (fourfold.ui.editing.submit), which share the models' names.


def weight_initial(value: Decimal) -> Decimal:
    """A stored weight without the zeros its column pads it with (3.0000 → 3), as a number input shows it.

    A Decimal rather than text in the language's notation (measures.forms.plain_number): a number input
    only takes digits with a full stop.

    >>> weight_initial(Decimal("3.0000")), weight_initial(Decimal("10.0000")), weight_initial(Decimal("0.2500"))
    (Decimal('3'), Decimal('10'), Decimal('0.25'))
    """
    return value.quantize(Decimal(1)) if value == value.to_integral_value() else value.normalize()


def weight_input() -> forms.DecimalField:
    """A weight as roll-ups read it: 0 or more, 1 when every sibling counts the same."""
    return forms.DecimalField(
        label=_("Weight"),
        initial=1,
        help_text=_("0 or more; siblings with equal weights count the same."),
        max_digits=9,
        decimal_places=4,
        min_value=0,
    )


def owner_input(organisation: Organisation) -> forms.ModelChoiceField:  # type: ignore[type-arg]
    """An optional owner among the organisation's people, the only ones who can be given roles there."""
    return forms.ModelChoiceField(
        label=_("Owner"), queryset=organisation_people(organisation), required=False, empty_label=_("Nobody yet")
    )


class ObjectiveChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    """Objectives named with their perspective, since the same name may sit in two perspectives."""

    def label_from_instance(self, obj: Objective) -> str:
        return f"{obj} · {obj.perspective.name}"


def objectives_of(scorecard_id: int) -> QuerySet[Objective]:
    """The objectives of a scorecard in map order, with what their labels read, in one query."""
    return Objective.objects.filter(perspective__scorecard_id=scorecard_id).select_related("perspective")


class ScorecardForm(FieldsetForm):
    """A scorecard's name, place in the organisation (unit, parent) and reporting rhythm.

    The place can only be changed by an organisation admin (``can_move``); others see it but cannot change it.
    """

    name = forms.CharField(label=_("Name"), max_length=200)
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    status = forms.ChoiceField(label=_("Status"), choices=Scorecard.Status.choices, initial=Scorecard.Status.DRAFT)
    org_unit = forms.ModelChoiceField(label=_("Organisation unit"), queryset=OrgUnit.objects.none())
    parent = forms.ModelChoiceField(
        label=_("Cascades from"),
        queryset=Scorecard.objects.none(),
        required=False,
        empty_label=_("None: a top scorecard"),
        help_text=_("The scorecard whose objectives this one supports."),
    )
    reporting_frequency = forms.ChoiceField(
        label=_("Reporting frequency"),
        choices=[(frequency.value, frequency.value.capitalize()) for frequency in Frequency],
        initial=Frequency.MONTHLY,
        help_text=_("How often this scorecard is reviewed."),
    )
    due_days_after_period_end = forms.IntegerField(
        label=_("Values due after"),
        min_value=0,
        max_value=365,
        initial=10,
        help_text=_("Days after a period ends by which its values are due."),
    )

    fieldsets = (
        (_("Scorecard"), ("name", "description", "owner", "status")),
        (_("Place in the organisation"), ("org_unit", "parent")),
        (_("Reporting"), ("reporting_frequency", "due_days_after_period_end")),
    )

    def __init__(
        self,
        data: Mapping[str, Any] | None = None,
        *,
        organisation: Organisation,
        scorecard: Scorecard | None = None,
        can_move: bool = True,
        initial: Mapping[str, Any] | None = None,
    ) -> None:
        if scorecard is not None:
            initial = {
                "name": scorecard.name,
                "description": scorecard.description,
                "owner": scorecard.owner_id,
                "status": scorecard.status,
                "org_unit": scorecard.org_unit_id,
                "parent": scorecard.parent_id,
                "reporting_frequency": scorecard.reporting_frequency,
                "due_days_after_period_end": scorecard.due_days_after_period_end,
            }
        super().__init__(data, initial=dict(initial or {}))
        self.fields["owner"] = owner_input(organisation)
        self.order_fields(["name", "description", "owner", "status"])
        unit_field, parent_field = self.fields["org_unit"], self.fields["parent"]
        assert isinstance(unit_field, forms.ModelChoiceField)
        assert isinstance(parent_field, forms.ModelChoiceField)
        unit_field.queryset = OrgUnit.objects.filter(organisation=organisation)
        parents = Scorecard.objects.filter(organisation=organisation)
        parent_field.queryset = parents if scorecard is None else parents.exclude(pk=scorecard.pk)
        if scorecard is None:  # a new scorecard starts with the usual deadline; its admins change it later
            del self.fields["due_days_after_period_end"]
        if not can_move:
            for name in ("org_unit", "parent"):
                self.fields[name].disabled = True
                self.fields[name].help_text = _("Only an organisation admin can move a scorecard.")


class PerspectiveForm(FieldsetForm):
    """A perspective's name, kind, weight in the scorecard's score and description."""

    name = forms.CharField(label=_("Name"), max_length=120)
    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=Perspective.Kind.choices,
        initial=Perspective.Kind.CUSTOM,
        help_text=_("Which of the classic four it is, or Custom (a nonprofit's Mission)."),
    )
    weight = weight_input()
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    @classmethod
    def for_perspective(cls, perspective: Perspective, data: Mapping[str, Any] | None = None) -> PerspectiveForm:
        """The form filled with a perspective's settings (``data`` when it was sent)."""
        fields = ("name", "kind", "weight", "description")
        initial = {name: getattr(perspective, name) for name in fields}
        return cls(data, initial={**initial, "weight": weight_initial(perspective.weight)})


class ObjectiveForm(FieldsetForm):
    """An objective: its perspective, code, name, owner, weight, description, and the parent objective it
    supports (only when the scorecard cascades from another)."""

    perspective = forms.ModelChoiceField(label=_("Perspective"), queryset=Perspective.objects.none(), empty_label=None)
    code = forms.CharField(
        label=_("Code"), max_length=12, required=False, help_text=_("Short label for maps, e.g. F1.")
    )
    name = forms.CharField(label=_("Name"), max_length=200)
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    weight = weight_input()
    parent = ObjectiveChoiceField(
        label=_("Supports, on the parent scorecard"),
        queryset=Objective.objects.none(),
        required=False,
        empty_label=_("Not aligned"),
        help_text=_("The objective above that this one helps to reach (its score cascades up)."),
    )

    fieldsets = (
        (_("Objective"), ("perspective", "code", "name", "owner", "weight", "description")),
        (_("Alignment"), ("parent",)),
    )

    def __init__(
        self,
        data: Mapping[str, Any] | None = None,
        *,
        scorecard: Scorecard,
        objective: Objective | None = None,
        initial: Mapping[str, Any] | None = None,
    ) -> None:
        if objective is not None:
            fields = ("perspective", "code", "name", "description", "owner", "weight", "parent")
            initial = {
                name: getattr(objective, f"{name}_id" if name in {"perspective", "owner", "parent"} else name)
                for name in fields
            } | {"weight": weight_initial(objective.weight)}
        super().__init__(data, initial=dict(initial or {}))
        self.fields["owner"] = owner_input(scorecard.organisation)
        self.order_fields(["perspective", "code", "name", "owner", "weight", "description"])
        perspective_field, parent_field = self.fields["perspective"], self.fields["parent"]
        assert isinstance(perspective_field, forms.ModelChoiceField)
        assert isinstance(parent_field, forms.ModelChoiceField)
        perspective_field.queryset = scorecard.perspectives.all()
        if scorecard.parent_id is None:
            del self.fields["parent"]
        else:
            parent_field.queryset = objectives_of(scorecard.parent_id)


class ObjectiveLinkForm(FieldsetForm):
    """A cause-and-effect arrow between two objectives of a scorecard, how it acts and how strongly."""

    cause = ObjectiveChoiceField(label=_("Cause"), queryset=Objective.objects.none(), empty_label=None)
    effect = ObjectiveChoiceField(label=_("Effect"), queryset=Objective.objects.none(), empty_label=None)
    sign = forms.ChoiceField(label=_("Sign"), choices=ObjectiveLink.Sign.choices, initial=ObjectiveLink.Sign.REINFORCES)
    strength = forms.ChoiceField(
        label=_("Strength"), choices=ObjectiveLink.Strength.choices, initial=ObjectiveLink.Strength.MEDIUM
    )
    rationale = forms.CharField(
        label=_("Rationale"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Why we believe the cause drives the effect."),
    )

    def __init__(
        self, data: Mapping[str, Any] | None = None, *, scorecard: Scorecard, initial: Mapping[str, Any] | None = None
    ) -> None:
        super().__init__(data, initial=dict(initial or {}))
        objectives = objectives_of(scorecard.pk)
        for name in ("cause", "effect"):
            field = self.fields[name]
            assert isinstance(field, forms.ModelChoiceField)
            field.queryset = objectives
