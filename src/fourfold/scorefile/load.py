"""Loading a scorecard file: check it completely, then turn it into the engine's model and value store.

A file is checked in two rounds. The first is its shape: valid YAML, then the schema (types, required
fields, choices; :mod:`fourfold.scorefile.schema`). Only a document of the right shape can be read for its
meaning, so if the first round finds problems they are reported on their own. The second round checks
what the schema cannot see: period keys of the KPI's frequency, unique keys, thresholds on the bad side of
the target, yes/no answers, scoring methods and their parameters (built once with the engine's
``method_from_config``, so a goal without a red flag is refused here rather than when a page is drawn),
formulas (syntax, unknown KPIs, cycles, units), alignments and roll-up sources that point at something
real, and ratio values with their numerator and denominator. Every problem of a round is collected and
reported together in one :class:`~fourfold.scorefile.problems.ScorecardFileError`.

The checks follow the rules of the stored models (``Kpi.clean``, ``KpiTarget.clean``, ``Actual.clean``), so
that a file that loads here can later be applied to the database without new surprises; this package does
not import Django, so those rules are restated for plain data, where the engine does not already hold them.
"""

from __future__ import annotations

import pathlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from pydantic import ValidationError

from fourfold.engine.aggregation import Aggregation, PeriodValue
from fourfold.engine.explain import format_number
from fourfold.engine.formulas import (
    Formula,
    FormulaCycleError,
    FormulaError,
    Unit,
    UnitKind,
    check_formulas,
    infer_unit,
    parse_formula,
)
from fourfold.engine.model import (
    Direction,
    KpiModel,
    ObjectiveModel,
    PerspectiveModel,
    ScorecardModel,
    TargetSetting,
    ValueStore,
    WeightChange,
)
from fourfold.engine.periods import FiscalCalendar, Frequency, Period, PeriodKeyError
from fourfold.engine.rollup import RollupMethod, ValueRollupMethod
from fourfold.engine.scoring import METHODS, ScoringConfigError, method_from_config
from fourfold.engine.status import Status, StatusScheme
from fourfold.scorefile.problems import (
    Path,
    Problem,
    ScorecardFileError,
    describe,
    line_of,
    schema_problems,
    shown,
)
from fourfold.scorefile.schema import (
    KpiSpec,
    ObjectiveSpec,
    ScorecardFile,
    ScorecardSpec,
    TargetSpec,
    ValueEntry,
    WeightFrom,
)
from fourfold.scorefile.yamldoc import YamlDocument, read_yaml

TEXT_SOURCE = "the scorecard file"
"""How messages name a file given as text rather than as a path."""


@dataclass(frozen=True)
class LoadedScorecard:
    """A checked scorecard file, ready for :func:`fourfold.engine.evaluate.evaluate_scorecard`.

    ``default_period`` is the latest period with a value, of the finest frequency among KPIs that have values
    (``None`` for a file without values): what ``fourfold score`` shows unless told otherwise. ``units`` holds
    each KPI's unit with its currency or duration unit, by KPI id, for showing values. ``document`` is the
    validated file itself, for commands that need more than the engine does (descriptions, links).
    """

    model: ScorecardModel
    values: ValueStore
    default_period: Period | None
    units: Mapping[str, Unit]
    document: ScorecardFile


def load_scorecard_file(source: pathlib.Path | str) -> LoadedScorecard:
    """Read, check and convert a scorecard file given as a path, or as YAML text (a ``str``).

    Raises :class:`~fourfold.scorefile.problems.ScorecardFileError` listing every problem found.
    """
    if isinstance(source, pathlib.Path):
        name = str(source)
        try:
            text = source.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            reason = error.strerror if isinstance(error, OSError) else "it is not UTF-8 text"
            raise ScorecardFileError(name, [Problem(None, None, "", f"cannot be read: {reason}")]) from None
    else:
        name, text = TEXT_SOURCE, source
    parsed = read_yaml(text, name)
    if parsed.data is None:
        raise ScorecardFileError(name, [Problem(None, None, "", "the file is empty; start with 'version: 1'")])
    try:
        document = ScorecardFile.model_validate(parsed.data)
    except ValidationError as error:
        problems = schema_problems(error, parsed.data, parsed.positions)
        raise ScorecardFileError(name, [*parsed.repeated_keys, *problems]) from None
    converter = _Converter(document, parsed)
    model = converter.scorecard(document, (), parent=None, inherited=_ReportingRules.engine_defaults())
    if converter.problems:
        raise ScorecardFileError(name, converter.problems)
    return LoadedScorecard(model, converter.values, converter.default_period(), converter.units, document)


@dataclass(frozen=True)
class _ReportingRules:
    """The settings a child scorecard inherits from its parent unless it sets its own."""

    statuses: StatusScheme
    due_days: int
    grace_days: int
    overdue_as_no_data: bool

    @classmethod
    def engine_defaults(cls) -> _ReportingRules:
        """What the top scorecard inherits: the engine's own defaults, so the two cannot differ."""
        blank = ScorecardModel(id="", name="")
        return cls(blank.statuses, blank.due_days, blank.grace_days, blank.overdue_as_no_data)


@dataclass(frozen=True)
class _LocatedKpi:
    spec: KpiSpec
    path: Path


def _located_kpis(card: ScorecardSpec, path: Path) -> Iterator[_LocatedKpi]:
    """Every KPI of a scorecard (not of its children) with its path in the document, in file order."""
    for perspective_index, perspective in enumerate(card.perspectives):
        for objective_index, objective in enumerate(perspective.objectives):
            for kpi_index, kpi in enumerate(objective.kpis):
                kpi_path = (*path, "perspectives", perspective_index, "objectives", objective_index, "kpis", kpi_index)
                yield _LocatedKpi(kpi, kpi_path)


def _answer(value: float | bool | None) -> float | None:
    """A number or yes/no answer as the engine's number: true is 1, false is 0."""
    return None if value is None else float(value)


def _is_answer(value: float | bool) -> bool:
    """Whether a value can stand for yes or no, as the stored models accept: true, false, 1 or 0."""
    return isinstance(value, bool) or value in {0, 1}


_BETTER = {Direction.HIGHER: "higher is better", Direction.LOWER: "lower is better"}


class _Converter:
    """Walks a schema-valid document once, building the engine's model and collecting every problem."""

    def __init__(self, document: ScorecardFile, parsed: YamlDocument) -> None:
        self.raw = parsed.data
        self.positions = parsed.positions
        self.problems: list[Problem] = list(parsed.repeated_keys)
        organisation = document.organisation
        self.calendar = FiscalCalendar(organisation.fiscal_year_start_month, organisation.fiscal_year_naming)
        self.values: dict[str, dict[str, PeriodValue]] = {}
        self.units: dict[str, Unit] = {}
        self.kpis: dict[str, dict[str, KpiSpec]] = {}
        """KPIs by scorecard key and KPI key, filled as scorecards are converted (children first)."""
        self.card_keys: set[str] = set()

    def problem(self, path: Path, message: str, *, where: Path | None = None) -> None:
        """Record a problem at ``path``; ``where`` names the item when it differs from the one ``path`` is in."""
        place, _ = describe(path if where is None else where, self.raw)
        self.problems.append(Problem(line_of(self.positions, path), None, place, message))

    def period(
        self, key: str, frequency: Frequency | None, path: Path, field: str, where: Path | None = None
    ) -> Period | None:
        """The period a key stands for, of ``frequency`` when given; a problem and ``None`` otherwise."""
        try:
            return self.calendar.parse(key, expected=frequency)
        except PeriodKeyError as error:
            self.problem(path, f"{field}: {error}", where=where)
            return None

    # Scorecards ---------------------------------------------------------------------------------------

    def scorecard(
        self, card: ScorecardSpec, path: Path, *, parent: ScorecardSpec | None, inherited: _ReportingRules
    ) -> ScorecardModel:
        """Convert a scorecard after its children, whose KPIs and objectives its own may refer to."""
        if card.key in self.card_keys:
            self.problem((*path, "key"), f"key '{card.key}' is used by another scorecard of the file too")
        self.card_keys.add(card.key)
        rules = _ReportingRules(
            statuses=self.status_scheme(card, path) or inherited.statuses,
            due_days=inherited.due_days if card.due_days is None else card.due_days,
            grace_days=inherited.grace_days if card.grace_days is None else card.grace_days,
            overdue_as_no_data=(
                inherited.overdue_as_no_data if card.overdue_as_no_data is None else card.overdue_as_no_data
            ),
        )
        children = tuple(
            self.scorecard(child, (*path, "children", index), parent=card, inherited=rules)
            for index, child in enumerate(card.children)
        )
        located = list(_located_kpis(card, path))
        self.kpis[card.key] = {}
        for kpi in located:
            if kpi.spec.key in self.kpis[card.key]:
                self.problem((*kpi.path, "key"), f"key '{kpi.spec.key}' is used by another KPI of this scorecard too")
            self.kpis[card.key].setdefault(kpi.spec.key, kpi.spec)
        formulas: dict[str, Formula] = {}
        models = {kpi.path: self.kpi(kpi, card, formulas) for kpi in located}
        self.check_formulas(card, located, formulas)
        perspectives = []
        names: set[str] = set()
        codes: set[str] = set()
        for index, perspective in enumerate(card.perspectives):
            perspective_path = (*path, "perspectives", index)
            if perspective.name in names:
                self.problem(
                    (*perspective_path, "name"), f"name '{perspective.name}' is used by another perspective too"
                )
            names.add(perspective.name)
            for position, objective in enumerate(perspective.objectives):
                if objective.code in codes:
                    self.problem(
                        (*perspective_path, "objectives", position, "code"),
                        f"code '{objective.code}' is used by another objective of this scorecard too",
                    )
                codes.add(objective.code)
            weight, changes = self.weight(perspective.weight, (*perspective_path, "weight"))
            objectives = tuple(
                self.objective(objective, (*perspective_path, "objectives", position), card, parent, models)
                for position, objective in enumerate(perspective.objectives)
            )
            perspectives.append(
                PerspectiveModel(
                    id=f"{card.key}/{perspective.name}",
                    name=perspective.name,
                    objectives=objectives,
                    rollup=perspective.rollup,
                    weight=weight,
                    weight_changes=changes,
                )
            )
        self.check_links(card, path)
        return ScorecardModel(
            id=card.key,
            name=card.name,
            perspectives=tuple(perspectives),
            children=children,
            calendar=self.calendar,
            statuses=rules.statuses,
            rollup=card.rollup,
            due_days=rules.due_days,
            grace_days=rules.grace_days,
            overdue_as_no_data=rules.overdue_as_no_data,
        )

    def status_scheme(self, card: ScorecardSpec, path: Path) -> StatusScheme | None:
        """The scorecard's own status scheme, checked by the engine; ``None`` to inherit (or when refused)."""
        if card.statuses is None:
            return None
        levels = []
        for index, status in enumerate(card.statuses):
            try:
                levels.append(Status(status.key, status.name, status.colour, status.min_score))
            except ScoringConfigError as error:
                self.problem((*path, "statuses", index), str(error))
        try:
            return StatusScheme(levels=tuple(levels))
        except ScoringConfigError as error:
            self.problem((*path, "statuses"), f"statuses: {error}")
            return None

    def check_links(self, card: ScorecardSpec, path: Path) -> None:
        """Cause-and-effect links join two different objectives of the same scorecard, once per direction."""
        codes = {objective.code for perspective in card.perspectives for objective in perspective.objectives}
        pairs: set[tuple[str, str]] = set()
        for index, link in enumerate(card.links):
            link_path = (*path, "links", index)
            for field, code in (("from", link.cause), ("to", link.effect)):
                if code not in codes:
                    self.problem((*link_path, field), f"{field}: no objective of this scorecard has the code '{code}'")
            if link.cause == link.effect:
                self.problem(link_path, "an objective cannot cause itself; link two different objectives")
            elif (link.cause, link.effect) in pairs:
                self.problem(link_path, f"{link.cause} → {link.effect} is linked twice; keep one link")
            pairs.add((link.cause, link.effect))

    # Objectives ---------------------------------------------------------------------------------------

    def objective(
        self,
        objective: ObjectiveSpec,
        path: Path,
        card: ScorecardSpec,
        parent: ScorecardSpec | None,
        models: Mapping[Path, KpiModel],
    ) -> ObjectiveModel:
        """Convert an objective; the child objectives aligned to it join its roll-up."""
        if objective.aligned_to is not None:
            self.check_alignment(objective, path, card, parent)
        own_keys = [kpi.key for kpi in objective.kpis]
        if objective.own_kpi is not None and objective.own_kpi not in own_keys:
            self.problem(
                (*path, "own_kpi"),
                f"own_kpi '{objective.own_kpi}' is not one of this objective's KPIs ({', '.join(own_keys) or 'none'})",
            )
        if objective.rollup is RollupMethod.SELF_STANDING and objective.own_kpi is None:
            self.problem(
                (*path, "rollup"),
                "rollup self_standing needs own_kpi: the key of the KPI whose score is the objective's",
            )
        weight, changes = self.weight(objective.weight, (*path, "weight"))
        aligned = tuple(
            f"{child.key}/{child_objective.code}"
            for child in card.children
            for perspective in child.perspectives
            for child_objective in perspective.objectives
            if child_objective.aligned_to == objective.code
        )
        return ObjectiveModel(
            id=f"{card.key}/{objective.code}",
            name=objective.name,
            code=objective.code,
            kpis=tuple(models[(*path, "kpis", index)] for index in range(len(objective.kpis))),
            aligned_children=aligned,
            rollup=objective.rollup,
            own_kpi=None if objective.own_kpi is None else f"{card.key}/{objective.own_kpi}",
            weight=weight,
            weight_changes=changes,
        )

    def check_alignment(
        self, objective: ObjectiveSpec, path: Path, card: ScorecardSpec, parent: ScorecardSpec | None
    ) -> None:
        """``aligned_to`` must name an objective of the parent scorecard: alignment goes one level up."""
        if parent is None:
            self.problem(
                (*path, "aligned_to"),
                f"aligned_to '{objective.aligned_to}': scorecard '{card.key}' is the top scorecard, so there is "
                f"no parent objective to align to",
            )
            return
        parent_codes = [other.code for perspective in parent.perspectives for other in perspective.objectives]
        if objective.aligned_to not in parent_codes:
            self.problem(
                (*path, "aligned_to"),
                f"aligned_to '{objective.aligned_to}' is not an objective of the parent scorecard "
                f"'{parent.key}' (its objectives: {', '.join(parent_codes) or 'none'})",
            )

    # KPIs ---------------------------------------------------------------------------------------------

    def kpi(self, located: _LocatedKpi, card: ScorecardSpec, formulas: dict[str, Formula]) -> KpiModel:
        """Convert one KPI with its targets and values; a parsed formula is added to ``formulas``."""
        kpi, path = located.spec, located.path
        kpi_id = f"{card.key}/{kpi.key}"
        unit = self.unit(kpi, path)
        if unit is not None:
            self.units[kpi_id] = unit
        self.check_source(kpi, path)
        if kpi.formula is not None:
            try:
                formulas[kpi.key] = parse_formula(kpi.formula)
            except FormulaError as error:
                self.problem((*path, "formula"), f"formula: {error}")
        for index, source in enumerate(kpi.rollup_from):
            self.check_rollup_source(kpi, source, (*path, "rollup_from", index), card)
        weight, changes = self.weight(kpi.weight, (*path, "weight"))
        model = KpiModel(
            id=kpi_id,
            key=kpi.key,
            name=kpi.name,
            unit=kpi.unit,
            direction=kpi.direction,
            frequency=kpi.frequency,
            aggregation=kpi.aggregation,
            baseline=self.baseline(kpi, path),
            targets=self.targets(kpi, path),
            formula=formulas.get(kpi.key),
            missing_policy=kpi.missing_policy or "no_data",
            rollup_sources=tuple(kpi.rollup_from),
            value_rollup=kpi.value_rollup or ValueRollupMethod.SUM,
            decimals=kpi.decimals,
            weight=weight,
            weight_changes=changes,
        )
        # Values of a computed KPI are already refused by check_source; they would only add noise here.
        computed = kpi.formula is not None or bool(kpi.rollup_from)
        self.values[kpi_id] = {} if computed else self.reported_values(kpi, model, path)
        return model

    def unit(self, kpi: KpiSpec, path: Path) -> Unit | None:
        """The KPI's unit with its detail; the engine's :class:`Unit` decides what a valid detail is."""
        for field, kind, value in (
            ("currency_code", UnitKind.CURRENCY, kpi.currency_code),
            ("duration_unit", UnitKind.DURATION, kpi.duration_unit),
        ):
            if value and kpi.unit is not kind:
                self.problem((*path, field), f"{field} '{value}' is only for {kind} KPIs, and {kpi.key} is {kpi.unit}")
        detail_field = {UnitKind.CURRENCY: "currency_code", UnitKind.DURATION: "duration_unit"}.get(kpi.unit)
        if detail_field is None:
            return Unit(kpi.unit)
        try:
            return Unit(kpi.unit, getattr(kpi, detail_field))
        except ScoringConfigError as error:
            self.problem((*path, detail_field), f"{detail_field}: {error}")
            return None

    def check_source(self, kpi: KpiSpec, path: Path) -> None:
        """A KPI's values come from one place: reported, a formula, or child KPIs; its settings must agree."""
        computed_by = "its formula" if kpi.formula is not None else "rollup_from" if kpi.rollup_from else None
        if kpi.formula is not None and kpi.rollup_from:
            self.problem((*path, "rollup_from"), "a KPI takes its values from a formula or from rollup_from, not both")
        if computed_by and kpi.values:
            self.problem((*path, "values"), f"values are not reported for {kpi.key}: they come from {computed_by}")
        if kpi.formula is not None and kpi.source_kind not in {None, "formula"}:
            self.problem(
                (*path, "source_kind"),
                f"source_kind must be 'formula' for a KPI with a formula, got '{kpi.source_kind}'",
            )
        if kpi.source_kind == "formula" and kpi.formula is None:
            self.problem(
                (*path, "source_kind"), "source_kind 'formula' needs a formula, e.g. revenue / active_learners"
            )
        if kpi.missing_policy is not None and kpi.formula is None:
            self.problem((*path, "missing_policy"), "missing_policy is only for KPIs with a formula")
        if kpi.value_rollup is not None and not kpi.rollup_from:
            self.problem((*path, "value_rollup"), "value_rollup is only for KPIs with rollup_from")
        if kpi.unit is UnitKind.YES_NO and kpi.direction is Direction.RANGE:
            self.problem((*path, "direction"), "a yes/no KPI is better either as yes or as no, not within a range")

    def check_rollup_source(self, kpi: KpiSpec, source: str, path: Path, card: ScorecardSpec) -> None:
        """``child/kpi`` must be a KPI of a direct child that can be combined by the KPI's value roll-up."""
        child_key, source_key = source.split("/")
        children = [child.key for child in card.children]
        if child_key not in children:
            choices = ", ".join(children) if children else "it has none"
            self.problem(
                path, f"rollup_from '{source}': '{child_key}' is not a child of scorecard '{card.key}' ({choices})"
            )
            return
        found = self.kpis.get(child_key, {}).get(source_key)
        if found is None:
            self.problem(path, f"rollup_from '{source}': scorecard '{child_key}' has no KPI '{source_key}'")
            return
        if kpi.value_rollup is ValueRollupMethod.RATIO and found.aggregation is not Aggregation.RATIO:
            self.problem(
                path,
                f"rollup_from '{source}': value_rollup ratio needs numerators and denominators, but "
                f"{source} has aggregation {found.aggregation}",
            )
        source_unit, own_unit = self.units.get(f"{child_key}/{source_key}"), self.units.get(f"{card.key}/{kpi.key}")
        if source_unit is not None and own_unit is not None and source_unit != own_unit:
            self.problem(path, f"rollup_from '{source}' is in {source_unit}, but {kpi.key} is in {own_unit}")

    def check_formulas(self, card: ScorecardSpec, located: list[_LocatedKpi], formulas: Mapping[str, Formula]) -> None:
        """Each formula on its own (unknown KPIs, units), then all together (cycles), with the engine's checks."""
        paths = {kpi.spec.key: kpi.path for kpi in located}
        keys = self.kpis[card.key].keys()
        units = {key: unit for key in keys if (unit := self.units.get(f"{card.key}/{key}")) is not None}
        usable: dict[str, Formula] = {}
        for key, formula in sorted(formulas.items()):
            try:
                check_formulas({key: formula}, keys)
            except FormulaError as error:
                self.problem((*paths[key], "formula"), f"formula: {error}")
                continue
            usable[key] = formula
            if key in units and formula.dependencies <= units.keys():
                try:
                    infer_unit(formula, units, declared=units[key])
                except FormulaError as error:
                    self.problem((*paths[key], "formula"), f"formula: {error}")
        try:
            check_formulas(usable, keys)
        except FormulaCycleError as error:  # its message starts "formula cycle:", which names the field already
            self.problem((*paths[error.cycle[0]], "formula"), str(error))

    def baseline(self, kpi: KpiSpec, path: Path) -> float | None:
        """The baseline as a number; yes/no KPIs start from yes or no, other KPIs from a number."""
        if kpi.baseline_period is not None:
            self.period(kpi.baseline_period, kpi.frequency, (*path, "baseline_period"), "baseline_period")
        if kpi.baseline is None:
            return None
        if kpi.unit is UnitKind.YES_NO and not _is_answer(kpi.baseline):
            self.problem(
                (*path, "baseline"), f"baseline {shown(kpi.baseline)} is not a yes/no answer: use true or false"
            )
        elif kpi.unit is not UnitKind.YES_NO and isinstance(kpi.baseline, bool):
            self.problem((*path, "baseline"), self._answer_for_number(kpi, "baseline", kpi.baseline))
        return _answer(kpi.baseline)

    @staticmethod
    def _answer_for_number(kpi: KpiSpec, field: str, answer: bool) -> str:
        return f"{field} {shown(answer)} is a yes/no answer, but {kpi.key} is a {kpi.unit} KPI: give a number"

    def weight(self, weight: float | list[WeightFrom], path: Path) -> tuple[float, tuple[WeightChange, ...]]:
        """A fixed weight, or changes in period order (the first weight also applies before its period)."""
        if not isinstance(weight, list):
            return weight, ()
        changes: list[WeightChange] = []
        previous: Period | None = None
        for index, change in enumerate(weight):
            period = self.period(change.starts, None, (*path, index, "from"), "from")
            if period is None:
                continue
            if previous is not None and period.start <= previous.start:
                self.problem(
                    (*path, index, "from"),
                    f"weight changes must be in period order: {period.key} does not come after {previous.key}",
                )
            changes.append(WeightChange(period.start, change.weight))
            previous = period
        return (changes[0].weight if changes else 1.0), tuple(changes)

    # Targets ------------------------------------------------------------------------------------------

    def targets(self, kpi: KpiSpec, path: Path) -> tuple[TargetSetting, ...]:
        """The KPI's target settings in period order, each checked against the KPI's unit and direction."""
        settings: dict[str, TargetSetting] = {}
        for index, target in enumerate(kpi.targets):
            target_path = (*path, "targets", index)
            self.check_target(kpi, target, target_path)
            period = self.period(target.starts, kpi.frequency, (*target_path, "from"), "from")
            if period is None:
                continue
            if period.key in settings:
                self.problem((*target_path, "from"), f"from {period.key}: another setting starts in that period too")
                continue
            reach_by = (
                self.period(target.reach_by, kpi.frequency, (*target_path, "reach_by"), "reach_by")
                if target.reach_by is not None
                else None
            )
            settings[period.key] = TargetSetting(
                reach_by=reach_by,
                progress_curve=tuple(target.progress_curve) if target.progress_curve else None,
                starts=period.start,
                target=_answer(target.target),
                red_flag=target.red_flag,
                range_low=target.range_low,
                range_high=target.range_high,
                method=target.method,
                parameters=target.parameters or {},
            )
        return tuple(sorted(settings.values(), key=lambda setting: setting.starts))

    def check_target(self, kpi: KpiSpec, target: TargetSpec, path: Path) -> None:
        """Thresholds by unit and direction, then the scoring method built as the engine will build it."""
        if kpi.unit is UnitKind.YES_NO:
            self.check_yes_no_target(kpi, target, path)
        elif isinstance(target.target, bool):
            self.problem((*path, "target"), self._answer_for_number(kpi, "target", target.target))
        elif kpi.direction is Direction.RANGE:
            self.check_range_target(target, path)
        else:
            self.check_threshold_side(kpi, target, path)
        if target.method is None:
            if target.parameters is not None:
                self.problem((*path, "parameters"), "parameters need a method that they are for")
            return
        try:
            method_from_config(target.method, target.parameters or {})
        except ScoringConfigError as error:
            field = "parameters" if target.method in METHODS else "method"
            self.problem((*path, field), f"{field}: {error}")

    def check_yes_no_target(self, kpi: KpiSpec, target: TargetSpec, path: Path) -> None:
        """A yes/no KPI's target is the better answer; thresholds mean nothing for it."""
        for field in ("red_flag", "range_low", "range_high"):
            if getattr(target, field) is not None:
                self.problem(
                    (*path, field), f"{field}: a yes/no KPI has no thresholds; its target is the better answer"
                )
        if target.target is None and target.method is None:
            self.problem((*path, "target"), "target is required: the better answer, true (yes) or false (no)")
        elif target.target is not None and not _is_answer(target.target):
            self.problem(
                (*path, "target"),
                f"target {shown(target.target)} is not a yes/no answer: use true or 1 for yes, false or 0 for no",
            )

    def check_range_target(self, target: TargetSpec, path: Path) -> None:
        """A within-a-range KPI needs its good range, low ≤ high, and a target inside it when one is given."""
        low, high = target.range_low, target.range_high
        if target.red_flag is not None:
            self.problem(
                (*path, "red_flag"),
                "red_flag: a within-a-range KPI has none; range_low and range_high say what is good",
            )
        if (low is None or high is None) and target.method is None:
            self.problem(
                path, "a within-a-range KPI needs range_low and range_high, the lowest and highest good values"
            )
            return
        if low is not None and high is not None and low > high:
            self.problem(
                (*path, "range_high"), f"range_high {format_number(high)} is below range_low {format_number(low)}"
            )
        elif low is not None and high is not None and target.target is not None and not low <= target.target <= high:
            self.problem(
                (*path, "target"),
                f"target {format_number(target.target)} lies outside the good range "
                f"{format_number(low)} to {format_number(high)}",
            )

    def check_threshold_side(self, kpi: KpiSpec, target: TargetSpec, path: Path) -> None:
        """The red flag lies on the bad side of the target: below it when higher is better, above it otherwise."""
        for field in ("range_low", "range_high"):
            if getattr(target, field) is not None:
                self.problem(
                    (*path, field),
                    f"{field} is only for within-a-range KPIs, and for {kpi.key} {_BETTER[kpi.direction]}",
                )
        if target.target is None:
            if target.method is None:
                self.problem((*path, "target"), "target is required (or a scoring method that needs none)")
            return
        if target.red_flag is None or isinstance(target.target, bool):
            return
        higher = kpi.direction is Direction.HIGHER
        if (target.red_flag > target.target) if higher else (target.red_flag < target.target):
            side = "above" if higher else "below"
            self.problem(
                (*path, "red_flag"),
                f"red_flag {format_number(target.red_flag)} is {side} the target {format_number(target.target)}, "
                f"but for {kpi.key} {_BETTER[kpi.direction]}: the red flag must lie on the bad side of the target",
            )

    # Values -------------------------------------------------------------------------------------------

    def reported_values(self, kpi: KpiSpec, model: KpiModel, path: Path) -> dict[str, PeriodValue]:
        """The KPI's values by canonical period key; ratio values carry their numerator and denominator."""
        stored: dict[str, PeriodValue] = {}
        written_as: dict[str, str] = {}
        for written, reported in kpi.values.items():
            value_path = (*path, "values", written)
            period = self.period(written, kpi.frequency, value_path, "values", where=path)
            if period is None:
                continue
            if period.key in stored:
                self.problem(
                    value_path,
                    f"values: '{written}' and '{written_as[period.key]}' are the same period; give one value per period",
                    where=path,
                )
                continue
            written_as[period.key] = written
            entry = reported if isinstance(reported, ValueEntry) else ValueEntry(value=reported)
            checked = self.reported_value(kpi, model, entry, value_path)
            if checked is not None:
                stored[period.key] = PeriodValue(period, *checked)
        return stored

    def reported_value(
        self, kpi: KpiSpec, model: KpiModel, entry: ValueEntry, path: Path
    ) -> tuple[float, float | None, float | None] | None:
        """Value, numerator and denominator of one period, or ``None`` (and problems) when they cannot be used."""
        numerator, denominator = entry.numerator, entry.denominator
        usable = True
        if (numerator is None) != (denominator is None):
            missing = "denominator" if denominator is None else "numerator"
            self.problem((*path, missing), f"{missing} is missing: give both numerator and denominator, or neither")
            usable = False
        if denominator == 0:
            self.problem((*path, "denominator"), "denominator must not be 0")
            usable = False
        value = entry.value
        if kpi.unit is UnitKind.YES_NO and value is not None and not _is_answer(value):
            self.problem(path, f"{shown(value)} is not a yes/no answer: use true or 1 for yes, false or 0 for no")
            usable = False
        elif kpi.unit is not UnitKind.YES_NO and isinstance(value, bool):
            self.problem(path, self._answer_for_number(kpi, "value", value))
            usable = False
        if kpi.aggregation is Aggregation.RATIO:
            if numerator is None and denominator is None:
                self.problem(
                    path,
                    f"numerator and denominator are required: {kpi.key} combines periods from them "
                    f"(aggregation ratio), e.g. {{numerator: 45, denominator: 60}}",
                )
                return None
            if not usable or numerator is None or denominator is None:
                return None
            computed = model.ratio_scale * numerator / denominator
            if value is not None and abs(value - computed) > 0.5 * 10**-kpi.decimals:
                scale = f"{format_number(model.ratio_scale)} × " if model.ratio_scale != 1 else ""
                self.problem(
                    (*path, "value"),
                    f"value {format_number(value)} does not match {scale}{format_number(numerator)} / "
                    f"{format_number(denominator)} = {format_number(computed)}; leave the value out to have it computed",
                )
                return None
            return computed if value is None else float(value), numerator, denominator
        if value is None:
            self.problem((*path, "value"), "value is required (numerator and denominator alone are for ratio KPIs)")
            return None
        return (float(value), numerator, denominator) if usable else None

    # The view -----------------------------------------------------------------------------------------

    def default_period(self) -> Period | None:
        """The latest period with a value, of the finest frequency among KPIs with values."""
        periods = [reading.period for readings in self.values.values() for reading in readings.values()]
        if not periods:
            return None
        finest = min((period.frequency for period in periods), key=lambda frequency: frequency.rank)
        return max(period for period in periods if period.frequency is finest)
