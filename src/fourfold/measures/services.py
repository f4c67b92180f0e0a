"""Writes to KPIs, targets and values. Each service checks permission, validates, and runs in one transaction."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from fourfold.accounts.models import User
from fourfold.accounts.permissions import Action, require
from fourfold.engine.aggregation import PeriodValue
from fourfold.engine.formulas import (
    FormulaCycleError,
    FormulaError,
    Unit,
    UnitKind,
    check_formulas,
    infer_unit,
    parse_formula,
)
from fourfold.engine.periods import Period
from fourfold.measures.models import (
    STORED_VALUE_STEP,
    Actual,
    ActualRevision,
    Kpi,
    KpiComment,
    KpiTarget,
    WeightChange,
    resolve_period_key,
)
from fourfold.measures.selectors import candidate_scores
from fourfold.strategy.models import Objective, Perspective
from fourfold.strategy.selectors import tree_of
from fourfold.validation import apply_changes, clean_and_save

KPI_FIELDS = {
    "key",
    "name",
    "description",
    "definition",
    "unit",
    "currency_code",
    "duration_unit",
    "direction",
    "frequency",
    "aggregation",
    "decimals",
    "owner",
    "source_kind",
    "formula",
    "weight",
    "baseline",
    "baseline_period",
    "objective",
    "position",
    "missing_policy",
    "value_rollup",
}


def check_scorecard_formulas(kpi: Kpi, *, removing: bool = False) -> None:
    """Check every formula of the KPI's scorecard as it would be after this change.

    Catches syntax errors, references to unknown KPIs, cycles (named in order) and unit mismatches, and
    also a rename or deletion that would break another KPI's formula. The error goes on ``formula`` for
    the KPI being saved, or on ``key`` when it is another KPI's formula that breaks.
    """
    others = list(Kpi.objects.filter(scorecard_id=kpi.scorecard_id).exclude(pk=kpi.pk))
    kpis = others if removing else [*others, kpi]
    if not any(candidate.source_kind == Kpi.SourceKind.FORMULA for candidate in kpis):
        return
    units = {
        candidate.key: Unit(UnitKind(candidate.unit), candidate.currency_code or candidate.duration_unit)
        for candidate in kpis
    }
    formula_kpis = [
        candidate for candidate in kpis if candidate.source_kind == Kpi.SourceKind.FORMULA and candidate.formula
    ]
    saving_a_formula = not removing and kpi in formula_kpis
    try:
        formulas = {candidate.key: parse_formula(candidate.formula) for candidate in formula_kpis}
        if saving_a_formula:
            # The KPI being saved first, so its own mistakes are reported on its formula field.
            check_formulas({kpi.key: formulas[kpi.key]}, units.keys())
            infer_unit(formulas[kpi.key], units, declared=units[kpi.key])
    except FormulaError as error:
        raise ValidationError({"formula": str(error)}) from error
    try:
        check_formulas(formulas, units.keys())
        for key, formula in formulas.items():
            infer_unit(formula, units, declared=units[key])
    except FormulaCycleError as error:
        raise ValidationError(
            {"formula" if saving_a_formula and kpi.key in error.cycle else "key": str(error)}
        ) from error
    except FormulaError as error:  # another KPI's formula would break: a rename or a deletion
        raise ValidationError({"key": str(error)}) from error


@transaction.atomic
def kpi_create(*, by: User, objective: Objective, key: str, name: str, **fields: Any) -> Kpi:
    """Add a KPI to an objective; ``fields`` are any of the KPI's settings (unit, direction, frequency…)."""
    scorecard = objective.perspective.scorecard
    require(by, Action.EDIT_STRUCTURE, scorecard)
    kpi = Kpi(scorecard=scorecard, objective=objective, key=key, name=name, position=objective.kpis.count())
    apply_changes(kpi, fields, KPI_FIELDS - {"objective"})
    _check_baseline_period(kpi)
    kpi.full_clean()
    check_scorecard_formulas(kpi)
    kpi.save()
    return kpi


@transaction.atomic
def kpi_update(*, by: User, kpi: Kpi, changes: Mapping[str, Any]) -> Kpi:
    """Change a KPI's definition. Changing its frequency is refused once it has values or targets."""
    require(by, Action.EDIT_STRUCTURE, kpi.scorecard)
    if (
        "frequency" in changes
        and changes["frequency"] != kpi.frequency
        and (kpi.actuals.exists() or kpi.targets.exists())
    ):
        raise ValidationError({"frequency": _("The frequency cannot change once the KPI has values or targets.")})
    objective = changes.get("objective")
    if objective is not None and objective.perspective.scorecard_id != kpi.scorecard_id:
        raise ValidationError({"objective": _("A KPI can only move to an objective of the same scorecard.")})
    apply_changes(kpi, changes, KPI_FIELDS)
    _check_baseline_period(kpi)
    kpi.full_clean()
    check_scorecard_formulas(kpi)
    kpi.save()
    return kpi


def _check_baseline_period(kpi: Kpi) -> None:
    if kpi.baseline_period:
        kpi.baseline_period = resolve_period_key(kpi, kpi.baseline_period, "baseline_period").key


@transaction.atomic
def kpi_delete(*, by: User, kpi: Kpi) -> None:
    """Remove a KPI with its targets and values (all kept in the audit trail)."""
    require(by, Action.EDIT_STRUCTURE, kpi.scorecard)
    check_scorecard_formulas(kpi, removing=True)
    kpi.delete()


@transaction.atomic
def kpi_updaters_set(*, by: User, kpi: Kpi, users: Iterable[User] = (), groups: Iterable[Group] = ()) -> Kpi:
    """Say who enters this KPI's values: named people and/or groups."""
    require(by, Action.EDIT_STRUCTURE, kpi.scorecard)
    kpi.updaters.set(list(users))
    kpi.updater_groups.set(list(groups))
    return kpi


@transaction.atomic
def kpi_rollup_sources_set(*, by: User, kpi: Kpi, sources: Iterable[Kpi]) -> Kpi:
    """Make a KPI's value the roll-up of KPIs on scorecards cascading from its own (revenue of departments).

    Sources must sit below the KPI's scorecard, so a value can never feed itself, and share its unit.
    """
    require(by, Action.EDIT_STRUCTURE, kpi.scorecard)
    chosen = list(sources)
    below = {card.pk for card in tree_of(kpi.scorecard)} - {kpi.scorecard_id}
    wrong = [source for source in chosen if source.scorecard_id not in below]
    if wrong:
        raise ValidationError(
            {
                "rollup_sources": _("%(kpi)s is not on a scorecard cascading from %(scorecard)s.")
                % {"kpi": wrong[0], "scorecard": kpi.scorecard}
            }
        )
    measure = (kpi.unit, kpi.currency_code, kpi.duration_unit)
    mismatched = [source for source in chosen if (source.unit, source.currency_code, source.duration_unit) != measure]
    if mismatched:
        raise ValidationError(
            {
                "rollup_sources": _("%(kpi)s is measured in another unit than %(target)s.")
                % {"kpi": mismatched[0], "target": kpi}
            }
        )
    kpi.rollup_sources.set(chosen)
    return kpi


@transaction.atomic
def weight_change_set(
    *, by: User, weighted: Kpi | Objective | Perspective, period_key: str, weight: Decimal
) -> WeightChange:
    """Give a KPI, objective or perspective a new weight from a period on (replacing one set for that period)."""
    change = WeightChange(
        kpi=weighted if isinstance(weighted, Kpi) else None,
        objective=weighted if isinstance(weighted, Objective) else None,
        perspective=weighted if isinstance(weighted, Perspective) else None,
        period_key=period_key,
        weight=weight,
    )
    require(by, Action.EDIT_STRUCTURE, change.scorecard)
    change.clean()
    existing = WeightChange.objects.filter(
        kpi=change.kpi, objective=change.objective, perspective=change.perspective, period_key=change.period_key
    ).first()
    if existing is not None:
        existing.weight = weight
        return clean_and_save(existing)
    return clean_and_save(change)


@transaction.atomic
def kpi_target_set(
    *,
    by: User,
    kpi: Kpi,
    period_key: str,
    target: Decimal | None = None,
    red_flag: Decimal | None = None,
    range_low: Decimal | None = None,
    range_high: Decimal | None = None,
    note: str = "",
    scoring_method: str | None = None,
    scoring_parameters: Mapping[str, Any] | None = None,
    reach_by: str = "",
    progress_curve: Sequence[float] | None = None,
) -> KpiTarget:
    """Set the target and thresholds from ``period_key`` on; they hold until a later setting replaces them.

    ``scoring_method`` (with its parameters) overrides the default way of scoring for these periods; left
    out (``None``), a method already set for the period is kept, so a form without it loses nothing.
    ``reach_by`` makes it a target reached over a span, judged each period by the progress expected so far
    (straight from the baseline, or along ``progress_curve``).
    """
    require(by, Action.SET_TARGETS, kpi)
    setting = kpi_target_prepare(
        kpi=kpi,
        period_key=period_key,
        target=target,
        red_flag=red_flag,
        range_low=range_low,
        range_high=range_high,
        note=note,
        scoring_method=scoring_method,
        scoring_parameters=scoring_parameters,
        reach_by=reach_by,
        progress_curve=progress_curve,
    )
    setting.save()
    return setting


def kpi_target_prepare(
    *,
    kpi: Kpi,
    period_key: str,
    target: Decimal | None = None,
    red_flag: Decimal | None = None,
    range_low: Decimal | None = None,
    range_high: Decimal | None = None,
    note: str = "",
    scoring_method: str | None = None,
    scoring_parameters: Mapping[str, Any] | None = None,
    reach_by: str = "",
    progress_curve: Sequence[float] | None = None,
) -> KpiTarget:
    """The setting :func:`kpi_target_set` would save, completely checked but not saved.

    What the KPI page's rescoring preview scores history with before anyone commits to a change; the
    setting already stored for the period, if any, is changed in memory only.
    """
    canonical_key = _canonical_key(kpi, period_key)
    setting = KpiTarget.objects.filter(kpi=kpi, period_key=canonical_key).first() or KpiTarget(
        kpi=kpi, period_key=canonical_key
    )
    setting.target, setting.red_flag = target, red_flag
    setting.reach_by, setting.progress_curve = reach_by, list(progress_curve) if progress_curve else None
    if scoring_method is not None:
        setting.scoring_method, setting.scoring_parameters = scoring_method, dict(scoring_parameters or {})
    setting.range_low, setting.range_high, setting.note = range_low, range_high, note
    setting.full_clean()
    return setting


@transaction.atomic
def kpi_target_delete(*, by: User, setting: KpiTarget) -> None:
    """Remove a target setting; the previous one then holds for its periods again."""
    require(by, Action.SET_TARGETS, setting.kpi)
    setting.delete()


def _canonical_key(kpi: Kpi, period_key: str) -> str:
    return resolve_period_key(kpi, period_key, "period_key").key


def _keep_in_history(actual: Actual, *, replaced_by: User | None, replaced_at: datetime) -> None:
    """Copy the current value into the append-only value history before it is replaced or withdrawn."""
    ActualRevision.objects.create(
        kpi=actual.kpi,
        period_key=actual.period_key,
        value=actual.value,
        numerator=actual.numerator,
        denominator=actual.denominator,
        sample_size=actual.sample_size,
        margin_of_error=actual.margin_of_error,
        small_sample=actual.small_sample,
        note=actual.note,
        entered_by=actual.entered_by,
        entered_at=actual.entered_at,
        source=actual.source,
        replaced_by=replaced_by,
        replaced_at=replaced_at,
    )


def value_from_ratio(kpi: Kpi, numerator: Decimal, denominator: Decimal) -> Decimal:
    """The KPI value a numerator and denominator stand for: a percentage for percent KPIs, else the ratio.

    Rounded to the stored precision (2/3 has no exact decimal); numerator and denominator stay exact, and
    periods are combined from them, so the rounding never accumulates.
    """
    ratio = numerator / denominator
    value = ratio * 100 if kpi.unit == Kpi.Unit.PERCENT else ratio
    return value.quantize(STORED_VALUE_STEP)


@transaction.atomic
def actual_record(
    *,
    by: User,
    kpi: Kpi,
    period_key: str,
    value: Decimal | None = None,
    numerator: Decimal | None = None,
    denominator: Decimal | None = None,
    note: str = "",
    source: Actual.Source = Actual.Source.MANUAL,
    entered_at: datetime | None = None,
) -> Actual:
    """Record a KPI value for one period; an earlier value is replaced and kept in the value history.

    With a numerator and denominator the value is computed from them (so that periods can later be
    combined by recomputing the ratio); a value given as well must agree with them to the KPI's decimals.
    ``entered_at`` keeps the time a value was entered at its source (an import of old reports); it
    defaults to now. A value typed in (``source`` manual) by someone of an organisation that asks for notes
    on off-target values needs one when it would land in the worst status, as in the data-entry grid; values
    imported from old reports or sent by other systems are taken as they come.
    """
    require(by, Action.RECORD_VALUE, kpi)
    if source == Actual.Source.MANUAL:
        period = resolve_period_key(kpi, period_key, "period_key")
        if _needing_notes([Entry(kpi, period.key, value, numerator, denominator, note)], {0: period}):
            raise ValidationError({"note": note_required_message()})
    return _actual_record_checked(
        kpi=kpi,
        period_key=period_key,
        value=value,
        numerator=numerator,
        denominator=denominator,
        by=by,
        note=note,
        source=source,
        entered_at=entered_at,
    )


def _actual_record_checked(
    *,
    by: User,
    kpi: Kpi,
    period_key: str,
    value: Decimal | None,
    numerator: Decimal | None,
    denominator: Decimal | None,
    note: str,
    source: Actual.Source,
    entered_at: datetime | None,
) -> Actual:
    """:func:`actual_record` once permission and the note rule are checked: the batch checks notes itself,
    with every value of the batch in place, and then records each value here."""
    if numerator is not None and denominator is not None and denominator != 0:
        implied = value_from_ratio(kpi, numerator, denominator)
        tolerance = Decimal(1).scaleb(-kpi.decimals) / 2
        if value is not None and abs(value - implied) > tolerance:
            raise ValidationError(
                {
                    "value": _("%(value)s does not match numerator / denominator = %(implied)s.")
                    % {"value": value, "implied": round(implied, kpi.decimals)}
                }
            )
        value = implied
    actual = Actual.objects.select_for_update().filter(kpi=kpi, period_key=_canonical_key(kpi, period_key)).first()
    return actual_store(
        kpi=kpi,
        period_key=period_key,
        reading=Reading(value, numerator, denominator),
        by=by,
        source=source,
        note=note,
        entered_at=entered_at,
        current=actual,
    )


@dataclass(frozen=True)
class Reading:
    """A value with what it is made of and the evidence behind it, as a KPI value stores it."""

    value: Decimal | None
    numerator: Decimal | None = None
    denominator: Decimal | None = None
    sample_size: int | None = None
    margin_of_error: Decimal | None = None
    small_sample: bool = False


def actual_store(
    *,
    kpi: Kpi,
    period_key: str,
    reading: Reading,
    by: User | None,
    source: Actual.Source,
    note: str = "",
    entered_at: datetime | None = None,
    current: Actual | None = None,
) -> Actual:
    """Store one period's value as given, keeping the one it replaces (``current``) in the value history.

    The write shared by every way values come in. It checks no permission: :func:`actual_record` does that
    for people, and a computation run is authorised by whoever started it (``by`` is ``None`` for the
    command line and scheduled runs). The caller holds the transaction and, for ``current``, the row lock.
    """
    entered_at = entered_at or timezone.now()
    if current is None:
        actual = Actual(kpi=kpi, period_key=_canonical_key(kpi, period_key))
    else:
        actual = current
        _keep_in_history(actual, replaced_by=by, replaced_at=entered_at)
    actual.value, actual.numerator, actual.denominator = reading.value, reading.numerator, reading.denominator
    actual.sample_size, actual.margin_of_error = reading.sample_size, reading.margin_of_error
    actual.small_sample, actual.note = reading.small_sample, note
    actual.entered_by, actual.entered_at, actual.source = by, entered_at, source
    return clean_and_save(actual)


@transaction.atomic
def actual_delete(*, by: User, actual: Actual) -> None:
    """Withdraw a reported value; it stays in the value history and the audit trail."""
    require(by, Action.RECORD_VALUE, actual.kpi)
    actual_withdraw(actual=actual, by=by)


def actual_withdraw(*, actual: Actual, by: User | None) -> None:
    """Remove a value, keeping it in the value history; like :func:`actual_store`, it checks no permission."""
    _keep_in_history(actual, replaced_by=by, replaced_at=timezone.now())
    actual.delete()


@transaction.atomic
def kpi_comment_add(*, by: User, kpi: Kpi, body: str, period_key: str = "") -> KpiComment:
    """Add to a KPI's commentary; everyone who can see the scorecard may comment (viewers included)."""
    require(by, Action.VIEW, kpi.scorecard)
    if not body.strip():
        raise ValidationError({"body": _("Write the comment first.")})
    comment = KpiComment(kpi=kpi, author=by, body=body.strip())
    if period_key:
        comment.period_key = _canonical_key(kpi, period_key)
    return clean_and_save(comment)


@transaction.atomic
def kpi_comment_delete(*, by: User, comment: KpiComment) -> None:
    """Remove a comment: its author may, and so may the scorecard's editors (moderation); it stays audited."""
    if comment.author_id != by.pk:
        require(by, Action.EDIT_STRUCTURE, comment.kpi.scorecard)
    comment.delete()


@dataclass(frozen=True)
class Entry:
    """One value of a batch, as :func:`actual_record` takes it."""

    kpi: Kpi
    period_key: str
    value: Decimal | None = None
    numerator: Decimal | None = None
    denominator: Decimal | None = None
    note: str = ""


class BatchError(ValidationError):
    """Some values of a batch were refused, so none was saved; ``errors`` holds each one's messages by field,
    keyed by its position in the batch."""

    def __init__(self, errors: Mapping[int, Mapping[str, list[str]]]) -> None:
        self.errors = {index: dict(messages) for index, messages in errors.items()}
        super().__init__(
            ngettext(
                "Nothing was saved: %(count)d value needs attention.",
                "Nothing was saved: %(count)d values need attention.",
                len(self.errors),
            )
            % {"count": len(self.errors)}
        )


def note_required_message() -> str:
    """What a value that needs a note is told, on the page while typing and by the service when saving."""
    return _("Off target: a note is required. Say what happened, so the review can act on it.")


@transaction.atomic
def actuals_record_batch(*, by: User, entries: Sequence[Entry]) -> list[Actual]:
    """Record several values at once, all or nothing (the data-entry grid's one save).

    Each entry is permission-checked (a refusal stops the whole batch with ``PermissionDenied``) and
    validated as :func:`actual_record` does; an organisation that requires notes for off-target values gets
    them: a value whose score for its period would land in the worst status needs a note. Every problem is
    collected, so a :class:`BatchError` lists all of them at once, and then no value is written.
    """
    for entry in entries:
        require(by, Action.RECORD_VALUE, entry.kpi)
    errors: dict[int, dict[str, list[str]]] = defaultdict(dict)
    periods: dict[int, Period] = {}
    seen: set[tuple[int, str]] = set()
    for index, entry in enumerate(entries):
        try:
            period = resolve_period_key(entry.kpi, entry.period_key, "period_key")
        except ValidationError as error:
            errors[index] |= error.message_dict
            continue
        if (entry.kpi.pk, period.key) in seen:
            errors[index]["period_key"] = [_("This period appears twice in the batch.")]
            continue
        seen.add((entry.kpi.pk, period.key))
        periods[index] = period
    for index in _needing_notes(entries, periods):
        errors[index].setdefault("note", []).append(note_required_message())
    saved = []
    for index, entry in enumerate(entries):
        if index not in periods:
            continue
        try:
            saved.append(
                _actual_record_checked(
                    by=by,
                    kpi=entry.kpi,
                    period_key=periods[index].key,
                    value=entry.value,
                    numerator=entry.numerator,
                    denominator=entry.denominator,
                    note=entry.note.strip(),
                    source=Actual.Source.MANUAL,
                    entered_at=None,
                )
            )
        except ValidationError as error:
            for field, messages in error.message_dict.items():
                errors[index].setdefault(field, []).extend(messages)
    if errors:
        raise BatchError(errors)
    return saved


def entry_reading(entry: Entry, period: Period) -> PeriodValue | None:
    """The value an entry would store, in the engine's terms; ``None`` when it has none to score."""
    value = entry.value
    if entry.numerator is not None and entry.denominator:
        value = value_from_ratio(entry.kpi, entry.numerator, entry.denominator)
    if value is None:
        return None
    return PeriodValue(period, float(value), _float(entry.numerator), _float(entry.denominator))


def _needing_notes(entries: Sequence[Entry], periods: Mapping[int, Period]) -> list[int]:
    """The positions of entries without a note whose value would put the KPI off target, where required.

    Every readable entry is scored with the others of the batch in place, as they would be once saved.
    """
    readings = [(index, entry_reading(entries[index], period)) for index, period in periods.items()]
    candidates = [(index, reading) for index, reading in readings if reading is not None]
    if not any(entries[index].kpi.scorecard.organisation.note_required_off_target for index, _ in candidates):
        return []
    scores = candidate_scores(
        [(entries[index].kpi, reading.period, reading) for index, reading in candidates], today=timezone.localdate()
    )
    return [
        index
        for (index, _reading), score in zip(candidates, scores, strict=True)
        if score.off_target
        and not entries[index].note.strip()
        and entries[index].kpi.scorecard.organisation.note_required_off_target
    ]


def _float(number: Decimal | None) -> float | None:
    return None if number is None else float(number)
