"""Writes of computed KPIs: data sources, which KPI is which metric, and computation runs.

A run reads a source's raw tables, validates them, computes every bound KPI at its frequency on the
source's backend, and writes the numbers as KPI values with their lineage. It is **all or nothing**: the
values are written in one transaction, after everything was read and computed, so a bad row, a crash or a
failing database leaves the values as they were (the run itself is recorded apart, as failed, with why).
It is **idempotent**: a value equal to the stored one is not written again, so a rerun on the same data
changes nothing, not even the history. With ``changed_only`` it computes only from the first month whose
raw rows changed since the source's last successful run (:mod:`fourfold.metrics.changes`).
"""

from __future__ import annotations

import datetime
import logging
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fourfold.accounts.models import User
from fourfold.accounts.permissions import Action, require
from fourfold.audit.context import audit_context, current_audit_context
from fourfold.computed.models import Backend, ComputationRun, ComputedKpi, DataSource, ValueLineage
from fourfold.engine.periods import FiscalCalendar, Frequency, Period, PeriodKeyError
from fourfold.measures.models import STORED_VALUE_STEP, Actual, Kpi
from fourfold.measures.services import Reading, actual_store, actual_withdraw
from fourfold.metrics.backends import BackendUnavailable, connect
from fourfold.metrics.changes import first_changed_month, input_digests
from fourfold.metrics.compile import Grain, compute, kpis_splittable_by
from fourfold.metrics.definitions import DefinitionError, Definitions, fingerprint, fixed_split, load_definitions
from fourfold.metrics.library import LIBRARY_FILES
from fourfold.metrics.sources import LoadedTables, SourceError, load_directory, load_sources, parse_mapping
from fourfold.metrics.tables import DataValidationError, OnError
from fourfold.strategy.models import Organisation
from fourfold.validation import apply_changes, clean_and_save

logger = logging.getLogger(__name__)

GRAINS: Mapping[Frequency, Grain] = {
    Frequency.MONTHLY: "month",
    Frequency.QUARTERLY: "quarter",
    Frequency.YEARLY: "year",
}
"""The grain a KPI of each frequency is computed at; weekly KPIs cannot be computed (periods are months)."""

SOURCE_FIELDS = {"name", "kind", "location", "mapping", "definitions", "backend", "skip_invalid_rows"}

UNIT_MATCHES: Mapping[str, frozenset[str]] = {
    "currency": frozenset({Kpi.Unit.CURRENCY}),
    "percent": frozenset({Kpi.Unit.PERCENT}),
    "number": frozenset({Kpi.Unit.NUMBER}),
    "count": frozenset({Kpi.Unit.COUNT, Kpi.Unit.NUMBER}),
    "duration": frozenset({Kpi.Unit.DURATION}),
}
"""The KPI units each metric unit may be stored in."""


class Progress(Protocol):
    """Where a run reports how far it is: the command line shows a progress bar, a task logs."""

    def stage(self, description: str, total: int) -> None:
        """A new stage of ``total`` steps begins."""

    def advance(self) -> None:
        """One step of the current stage is done."""


class _Silent:
    def stage(self, description: str, total: int) -> None:
        logger.debug("%s (%d steps)", description, total)

    def advance(self) -> None:
        return None


# -- Sources and bindings -------------------------------------------------------------------------------------


def source_definitions(source: DataSource) -> Definitions:
    """The library with the source's own definitions; raises :class:`ValidationError` on ``definitions``."""
    extra = [source.definitions] if source.definitions.strip() else []
    try:
        return load_definitions(*LIBRARY_FILES, *extra)
    except DefinitionError as error:
        raise ValidationError({"definitions": str(error)}) from error


def _check_source(source: DataSource) -> None:
    """A source must name a folder, a mapping that parses, and definitions that load with the library."""
    errors: dict[str, str] = {}
    if source.kind == DataSource.Kind.MAPPING:
        if not source.mapping.strip():
            errors["mapping"] = _("A source mapping needs its YAML: which file or database each table comes from.")
        else:
            try:
                parse_mapping(source.mapping, base_dir=Path(source.location), name=_("The mapping"))
            except SourceError as error:
                errors["mapping"] = str(error)
    elif source.mapping.strip():
        errors["mapping"] = _("Only a source of the kind “source mapping” has a mapping.")
    if errors:
        raise ValidationError(errors)
    source_definitions(source)


@transaction.atomic
def data_source_create(*, by: User, organisation: Organisation, name: str, location: str, **fields: Any) -> DataSource:
    """Add a data source to an organisation; ``fields`` are any of kind, mapping, definitions, backend,
    skip_invalid_rows. Only organisation admins manage where an organisation's data comes from."""
    require(by, Action.MANAGE_ORGANISATION, organisation)
    source = DataSource(organisation=organisation, name=name, location=location)
    apply_changes(source, fields, SOURCE_FIELDS - {"name", "location"})
    source.full_clean()
    _check_source(source)
    source.save()
    return source


@transaction.atomic
def data_source_update(*, by: User, source: DataSource, changes: Mapping[str, Any]) -> DataSource:
    """Change a data source; every KPI bound to it must still be one of its definitions afterwards."""
    require(by, Action.MANAGE_ORGANISATION, source.organisation)
    apply_changes(source, changes, SOURCE_FIELDS)
    source.full_clean()
    _check_source(source)
    definitions = source_definitions(source)
    lost = sorted(binding.metric for binding in source.computed_kpis.all() if binding.metric not in definitions)
    if lost:
        raise ValidationError(
            {
                "definitions": _("KPIs are still computed as %(metrics)s, which would no longer be defined.")
                % {"metrics": ", ".join(lost)}
            }
        )
    source.save()
    return source


@transaction.atomic
def data_source_delete(*, by: User, source: DataSource) -> None:
    """Remove a data source that no KPI is computed from any more (the values computed stay)."""
    require(by, Action.MANAGE_ORGANISATION, source.organisation)
    bound = list(source.computed_kpis.select_related("kpi"))
    if bound:
        raise ValidationError(
            _("%(count)d KPIs are computed from this source (%(first)s…); stop computing them first.")
            % {"count": len(bound), "first": bound[0].kpi}
        )
    source.delete()


def check_binding(binding: ComputedKpi, definitions: Definitions) -> None:
    """A KPI can be a metric only if the metric exists, fits its unit, frequency and way of combining
    periods, and names a segment the metric can be split by. Errors go on the field to change."""
    kpi = binding.kpi
    if binding.source.organisation_id != kpi.scorecard.organisation_id:
        raise ValidationError({"source": _("The data source belongs to another organisation.")})
    if binding.metric not in definitions:
        known = ", ".join(sorted(definitions))
        raise ValidationError(
            {
                "metric": _("No definition is called “%(metric)s”; known: %(known)s.")
                % {"metric": binding.metric, "known": known}
            }
        )
    metric = definitions[binding.metric]
    errors: dict[str, str] = {}
    if kpi.unit not in UNIT_MATCHES[metric.unit]:
        errors["metric"] = _("%(metric)s is measured as %(unit)s; the KPI's unit is %(kpi_unit)s.") % {
            "metric": binding.metric,
            "unit": metric.unit,
            "kpi_unit": kpi.get_unit_display(),
        }
    elif metric.unit == "duration" and kpi.duration_unit != metric.duration_unit:
        errors["metric"] = _("%(metric)s is in %(unit)s; set the KPI's duration unit to %(unit)s.") % {
            "metric": binding.metric,
            "unit": metric.duration_unit,
        }
    elif kpi.aggregation != metric.aggregation:
        errors["metric"] = _(
            "%(metric)s combines periods by “%(way)s”; set the KPI's “Periods combine by” to it, so that a "
            "quarter or a year to date is computed correctly."
        ) % {"metric": binding.metric, "way": Kpi.Aggregation(metric.aggregation).label}
    if Frequency(kpi.frequency) not in GRAINS:
        errors["metric"] = _("Weekly KPIs cannot be computed; computed KPIs are monthly, quarterly or yearly.")
    fixed = fixed_split(binding.metric, definitions)
    if binding.segment and not binding.segment_by:
        errors["segment_by"] = _("Say which dimension the segment belongs to, e.g. segment or channel.")
    elif binding.segment_by and not binding.segment:
        errors["segment"] = _("Name the segment of %(dimension)s this KPI is, e.g. Enterprise.") % {
            "dimension": binding.segment_by
        }
    elif fixed is not None and binding.segment_by != fixed:
        errors["segment_by"] = _("%(metric)s is always split by %(dimension)s; name one %(dimension)s.") % {
            "metric": binding.metric,
            "dimension": fixed,
        }
    elif binding.segment_by and binding.metric not in kpis_splittable_by(definitions, binding.segment_by):
        errors["segment_by"] = _("%(metric)s cannot be split by %(dimension)s.") % {
            "metric": binding.metric,
            "dimension": binding.segment_by,
        }
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def computed_kpi_set(
    *, by: User, kpi: Kpi, source: DataSource, metric: str, segment_by: str = "", segment: str = ""
) -> ComputedKpi:
    """Compute ``kpi`` as ``metric`` (of one segment) from ``source``; its data source becomes "computed"."""
    require(by, Action.EDIT_STRUCTURE, kpi.scorecard)
    binding = ComputedKpi.objects.filter(kpi=kpi).first() or ComputedKpi(kpi=kpi)
    binding.source, binding.metric, binding.segment_by, binding.segment = source, metric, segment_by, segment
    binding.full_clean()
    check_binding(binding, source_definitions(source))
    if kpi.source_kind != Kpi.SourceKind.COMPUTED:
        kpi.source_kind = Kpi.SourceKind.COMPUTED
        clean_and_save(kpi)
    return clean_and_save(binding)


@transaction.atomic
def computed_kpi_remove(*, by: User, kpi: Kpi) -> None:
    """Stop computing a KPI; its values stay, and new ones are entered by hand."""
    require(by, Action.EDIT_STRUCTURE, kpi.scorecard)
    ComputedKpi.objects.filter(kpi=kpi).delete()
    kpi.source_kind = Kpi.SourceKind.MANUAL
    clean_and_save(kpi)


# -- Runs -----------------------------------------------------------------------------------------------------


class ComputationFailed(Exception):
    """A run stopped before writing anything; the message says what to fix (a bad row, a missing file)."""


@dataclass(frozen=True)
class _Job:
    """One compute call: the bound KPIs of one grain and split, from one first period to one last day."""

    grain: Grain
    by: str | None
    start: datetime.date | None
    end: datetime.date
    bindings: tuple[ComputedKpi, ...]


@dataclass
class _Outcome:
    created: int = 0
    changed: int = 0
    unchanged: int = 0
    withdrawn: int = 0
    notes: list[dict[str, str]] = field(default_factory=list)


def computation_run(
    *,
    organisation: Organisation,
    by: User | None,
    trigger: ComputationRun.Trigger,
    sources: Iterable[DataSource] | None = None,
    kpi_keys: Collection[str] = (),
    period_from: str = "",
    period_to: str = "",
    backend: str = "",
    changed_only: bool = False,
    today: datetime.date | None = None,
    progress: Progress | None = None,
) -> list[ComputationRun]:
    """Compute the organisation's computed KPIs (those of ``sources``, and of ``kpi_keys`` if given).

    One run per source, each all or nothing. ``period_from`` and ``period_to`` are period keys of the
    organisation's calendar; by default every period of the data up to the last one that has ended by
    ``today``, so a month is not recorded half-way through. ``backend`` overrides the sources' own.
    ``by`` is the person who asked from the web (an organisation admin); the command line and scheduled
    tasks run as the system, ``None``. Must run inside an audit context.
    """
    if by is not None:
        require(by, Action.MANAGE_ORGANISATION, organisation)
    chosen = list(sources) if sources is not None else list(organisation.data_sources.all())
    calendar = organisation.calendar
    start = _period_bound(calendar, period_from, "period_from").start if period_from else None
    end = _period_bound(calendar, period_to, "period_to").end if period_to else None
    runs = []
    for source in chosen:
        bindings = list(
            ComputedKpi.objects.filter(source=source, kpi__scorecard__organisation=organisation)
            .select_related("kpi__scorecard")
            .order_by("kpi__scorecard_id", "kpi__key")
        )
        if kpi_keys:
            bindings = [binding for binding in bindings if binding.kpi.key in kpi_keys]
        if not bindings:
            continue
        runs.append(
            _run_source(
                source,
                bindings,
                by=by,
                trigger=trigger,
                start=start,
                end=end,
                backend=backend or source.backend,
                changed_only=changed_only,
                today=today or timezone.localdate(),
                progress=progress or _Silent(),
                period_keys=(period_from, period_to),
            )
        )
    return runs


def _period_bound(calendar: FiscalCalendar, key: str, field_name: str) -> Period:
    try:
        return calendar.parse(key)
    except PeriodKeyError as error:
        raise ValidationError({field_name: str(error)}) from error


def _run_source(
    source: DataSource,
    bindings: list[ComputedKpi],
    *,
    by: User | None,
    trigger: ComputationRun.Trigger,
    start: datetime.date | None,
    end: datetime.date | None,
    backend: str,
    changed_only: bool,
    today: datetime.date,
    progress: Progress,
    period_keys: tuple[str, str],
) -> ComputationRun:
    """One source's run: recorded first, computed, then written in one transaction, or failed with why."""
    with transaction.atomic():
        run = ComputationRun.objects.create(
            organisation=source.organisation,
            source=source,
            source_name=source.name,
            backend=backend,
            trigger=trigger,
            requested_by=by,
            started_at=timezone.now(),
            period_from=period_keys[0],
            period_to=period_keys[1],
            changed_only=changed_only,
            kpis=len(bindings),
        )
    try:
        definitions = source_definitions(source)
        for binding in bindings:
            check_binding(binding, definitions)
        tables = _load(source, backend, progress)
        run.rows_read = {name: report.rows_read for name, report in tables.reports.items()}
        run.rows_skipped = {name: report.rows_skipped for name, report in tables.reports.items() if report.rows_skipped}
        run.definitions = {binding.metric: fingerprint(binding.metric, definitions) for binding in bindings}
        if backend == Backend.DUCKDB:
            run.input_digests = input_digests(tables)
        elif changed_only:
            raise ComputationFailed(_("Computing only what changed needs the DuckDB backend."))
        jobs = _jobs(run, bindings, start=start, end=end, today=today, changed_only=changed_only)
        results = _compute(jobs, definitions, tables, source.organisation, progress)
        with (
            transaction.atomic(),
            audit_context(
                actor=by or current_audit_context().actor,
                source=current_audit_context().source,
                reason=f"Computed from {source.name} (run {run.id})",
                correlation_id=str(run.id),
            ),
        ):
            outcome = _write(run, jobs, results, progress)
    except (ComputationFailed, DataValidationError, SourceError, DefinitionError, BackendUnavailable) as error:
        return _finish(run, ComputationRun.Status.FAILED, str(error))
    except ValidationError as error:
        return _finish(run, ComputationRun.Status.FAILED, " ".join(error.messages))
    except Exception as error:
        logger.exception("Computation run %s failed", run.id)
        _finish(run, ComputationRun.Status.FAILED, f"{type(error).__name__}: {error}")
        raise
    run.values_created, run.values_changed = outcome.created, outcome.changed
    run.values_unchanged, run.values_withdrawn, run.notes = outcome.unchanged, outcome.withdrawn, outcome.notes
    summary = _("%(created)d values created, %(changed)d changed, %(unchanged)d unchanged, %(withdrawn)d withdrawn.")
    return _finish(run, ComputationRun.Status.SUCCEEDED, summary % vars(outcome))


def _finish(run: ComputationRun, status: ComputationRun.Status, message: str) -> ComputationRun:
    run.status, run.message, run.finished_at = status, message, timezone.now()
    run.save()
    return run


def _load(source: DataSource, backend: str, progress: Progress) -> LoadedTables:
    """The source's tables, validated, on the backend (validation itself always runs on DuckDB)."""
    progress.stage(_("Reading and checking %(source)s") % {"source": source.name}, 1)
    on_error: OnError = "skip" if source.skip_invalid_rows else "stop"
    target = connect(backend)
    location = Path(source.location)
    if source.kind == DataSource.Kind.FOLDER:
        tables = load_directory(location, target, on_error=on_error)
    else:
        tables = load_sources(parse_mapping(source.mapping, base_dir=location), target, on_error=on_error)
    progress.advance()
    return tables


def _jobs(
    run: ComputationRun,
    bindings: list[ComputedKpi],
    *,
    start: datetime.date | None,
    end: datetime.date | None,
    today: datetime.date,
    changed_only: bool,
) -> list[_Job]:
    """Group the bindings into compute calls; with ``changed_only``, each starts where its inputs changed.

    Without an ``end``, each KPI is computed up to the last period of its own frequency that has ended, so
    that a quarter is not recorded half-way through.
    """
    previous = None
    if changed_only:
        previous = (
            ComputationRun.objects.filter(source=run.source, status=ComputationRun.Status.SUCCEEDED)
            .exclude(input_digests={})
            .order_by("-started_at")
            .first()
        )
    changed = None if previous is None else first_changed_month(previous.input_digests, run.input_digests)
    grouped: dict[tuple[Grain, str | None, datetime.date | None, datetime.date], list[ComputedKpi]] = defaultdict(list)
    for binding in bindings:
        frequency = Frequency(binding.kpi.frequency)
        calendar = binding.kpi.scorecard.organisation.calendar
        last = end or calendar.previous(calendar.period_containing(today, frequency)).end
        first = start
        if previous is not None and previous.definitions.get(binding.metric) == run.definitions[binding.metric]:
            if changed is None:
                continue  # nothing it depends on changed since the last run
            if changed > datetime.date.min:
                from_change = calendar.period_containing(changed, frequency).start
                first = from_change if first is None else max(first, from_change)
        grouped[GRAINS[frequency], binding.segment_by or None, first, last].append(binding)
    return [_Job(grain, by, first, last, tuple(members)) for (grain, by, first, last), members in grouped.items()]


def _compute(
    jobs: list[_Job],
    definitions: Definitions,
    tables: LoadedTables,
    organisation: Organisation,
    progress: Progress,
) -> dict[int, list[dict[str, Any]]]:
    """Each job's rows (kpi, period_start, segment, value, …), computed before anything is written."""
    progress.stage(_("Computing"), len(jobs))
    results: dict[int, list[dict[str, Any]]] = {}
    for index, job in enumerate(jobs):
        metrics = sorted({binding.metric for binding in job.bindings})
        split = None if all(fixed_split(metric, definitions) for metric in metrics) else job.by
        results[index] = compute(
            definitions,
            tables,
            job.grain,
            by=split,
            start=job.start,
            end=job.end,
            keys=metrics,
            fiscal_year_start_month=organisation.fiscal_year_start_month,
        ).to_pylist()
        progress.advance()
    return results


def _write(
    run: ComputationRun,
    jobs: list[_Job],
    results: Mapping[int, list[dict[str, Any]]],
    progress: Progress,
) -> _Outcome:
    """Store every computed value, withdraw computed values that have no data any more, record lineage."""
    outcome = _Outcome()
    progress.stage(_("Writing values"), sum(len(job.bindings) for job in jobs))
    for index, job in enumerate(jobs):
        by_metric: dict[tuple[str, str | None], list[dict[str, Any]]] = defaultdict(list)
        for row in results[index]:
            by_metric[row["kpi"], row["segment"]].append(row)
        for binding in job.bindings:
            rows = by_metric.get((binding.metric, binding.segment or None), [])
            _write_kpi(run, binding, rows, job.start, job.end, outcome)
            progress.advance()
    return outcome


def _write_kpi(
    run: ComputationRun,
    binding: ComputedKpi,
    rows: list[dict[str, Any]],
    start: datetime.date | None,
    end: datetime.date,
    outcome: _Outcome,
) -> None:
    kpi = binding.kpi
    calendar = kpi.scorecard.organisation.calendar
    frequency = Frequency(kpi.frequency)
    stored = {
        actual.period_key: actual
        for actual in Actual.objects.select_for_update(of=("self",))
        .filter(kpi=kpi, period_start__lte=end, **({} if start is None else {"period_start__gte": start}))
        .select_related("lineage")
    }
    fingerprint_now = run.definitions[binding.metric]
    seen: set[str] = set()
    for row in rows:
        period = calendar.period_containing(row["period_start"], frequency)
        seen.add(period.key)
        current = stored.get(period.key)
        if row["value"] is None:
            outcome.notes.append({"kpi": kpi.key, "period": period.key, "reason": _no_value_reason(row)})
            if current is not None and current.source == Actual.Source.COMPUTED:
                actual_withdraw(actual=current, by=run.requested_by)
                outcome.withdrawn += 1
            continue
        reading = _reading(kpi, row)
        lineage = getattr(current, "lineage", None) if current is not None else None
        if current is not None and current.source == Actual.Source.COMPUTED and _same(current, reading):
            outcome.unchanged += 1
            if lineage is not None and lineage.definition_fingerprint != fingerprint_now:
                lineage.run, lineage.definition_fingerprint = run, fingerprint_now
                clean_and_save(lineage)
            continue
        if current is None:
            outcome.created += 1
        else:
            outcome.changed += 1
        actual = actual_store(
            kpi=kpi,
            period_key=period.key,
            reading=reading,
            by=run.requested_by,
            source=Actual.Source.COMPUTED,
            note=current.note if current is not None and current.source == Actual.Source.COMPUTED else "",
            current=current,
        )
        lineage = lineage or ValueLineage(actual=actual)
        lineage.actual, lineage.run, lineage.metric = actual, run, binding.metric
        lineage.definition_fingerprint, lineage.rows = fingerprint_now, row["n"] or 0
        lineage.segment_by, lineage.segment = binding.segment_by, binding.segment
        clean_and_save(lineage)
    for key, current in stored.items():
        if key not in seen and current.source == Actual.Source.COMPUTED:
            outcome.notes.append({"kpi": kpi.key, "period": key, "reason": _("no rows in the data for this period")})
            actual_withdraw(actual=current, by=run.requested_by)
            outcome.withdrawn += 1


def _no_value_reason(row: Mapping[str, Any]) -> str:
    """Why a computed period has no value, in words for the run's report."""
    if row["denominator"] == 0:
        return _("divides by zero: %(numerator)s over a denominator of 0") % {"numerator": _shown(row["numerator"])}
    if row["numerator"] is None and row["denominator"] is None:
        return _("an input it is computed from has no value for this period")
    return _("no value could be computed from the rows of this period")


def _shown(number: float | None) -> str:
    return "—" if number is None else f"{number:g}"


def _decimal(number: float | None) -> Decimal | None:
    """A computed double as a stored decimal, rounded to the stored precision."""
    return None if number is None else Decimal(repr(number)).quantize(STORED_VALUE_STEP)


def _reading(kpi: Kpi, row: Mapping[str, Any]) -> Reading:
    """A computed row as the KPI stores it: the numerator scaled so that periods combine to the same value.

    The scorecard recombines a ratio as numerator / denominator, times 100 for a percentage. A metric whose
    value is a multiple of its ratio in another way (NPS is 100 × net promoters / answers, in points) has its
    numerator scaled by that multiple, so that a quarter recombined from months is the quarter's NPS.
    """
    value, numerator, denominator = row["value"], row["numerator"], row["denominator"]
    if numerator is not None and denominator and numerator != 0:
        metric_scale = 100.0 if abs(value * denominator / numerator - 100.0) < 1.0 else 1.0
        numerator = numerator * metric_scale / (100.0 if kpi.unit == Kpi.Unit.PERCENT else 1.0)
    elif not denominator:
        numerator = denominator = None
    return Reading(
        value=_decimal(value),
        numerator=_decimal(numerator) if denominator is not None else None,
        denominator=_decimal(denominator),
        sample_size=row["n"],
        margin_of_error=_decimal(row["margin_of_error"]),
        small_sample=bool(row["too_few_responses"]),
    )


def _same(actual: Actual, reading: Reading) -> bool:
    """Whether a stored value already is this reading, to the stored precision."""
    return (
        actual.value == reading.value
        and actual.numerator == reading.numerator
        and actual.denominator == reading.denominator
        and actual.sample_size == reading.sample_size
        and actual.margin_of_error == reading.margin_of_error
        and actual.small_sample == reading.small_sample
    )


def schedule_computation(*, organisation: Organisation, changed_only: bool = True, **options: Any) -> str:
    """Queue a computation for the worker (``fourfold worker``); returns the task's id."""
    from fourfold.computed.tasks import compute_organisation

    result = compute_organisation.enqueue(organisation_id=organisation.pk, changed_only=changed_only, **options)
    return str(result.id)
