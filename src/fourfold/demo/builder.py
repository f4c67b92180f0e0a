"""The one generic builder: writes any :class:`~fourfold.demo.spec.OrganisationSpec` through the services.

Every row goes through the service a person would use (``organisation_create``, ``kpi_target_set``,
``actual_record``…), acting as a superuser, so the demo is validated, permission-checked and audited like
real data, and a service that refuses something the demo needs shows up as a failing demo load.
"""

from __future__ import annotations

import unicodedata
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from random import Random

from django.contrib.auth.hashers import PBKDF2PasswordHasher, get_hasher, make_password
from django.contrib.auth.models import Group

from fourfold.accounts.models import User
from fourfold.accounts.services import scorecard_member_set
from fourfold.computed.models import ComputationRun, DataSource
from fourfold.computed.services import computation_run, computed_kpi_set, data_source_create
from fourfold.demo.spec import (
    InitiativeSpec,
    KpiSpec,
    ObjectiveSpec,
    OrganisationSpec,
    Person,
    ScorecardSpec,
)
from fourfold.demo.values import Window, baseline, plan_entries, window_before
from fourfold.engine.periods import FiscalCalendar
from fourfold.initiatives.services import initiative_create, milestone_complete, milestone_create
from fourfold.measures.models import Actual, Kpi
from fourfold.measures.services import actual_record, kpi_create, kpi_target_set, kpi_updaters_set
from fourfold.strategy.models import Objective, Organisation, OrgUnit, Perspective, Scorecard
from fourfold.strategy.services import (
    objective_create,
    objective_link_create,
    org_unit_create,
    organisation_create,
    organisation_member_set,
    perspective_update,
    scorecard_create,
    scorecard_update,
)

DEMO_PASSWORD_ITERATIONS = 10_000
"""PBKDF2 rounds for demo passwords: they are printed for everyone to read, so the full cost (about 0.3 s
per user) would only slow the load down; Django re-hashes with the full cost at the first sign-in."""

VALUE_SOURCES = {
    Kpi.SourceKind.MANUAL: Actual.Source.MANUAL,
    Kpi.SourceKind.IMPORTED: Actual.Source.IMPORT,
    Kpi.SourceKind.COMPUTED: Actual.Source.COMPUTED,
    Kpi.SourceKind.SURVEY: Actual.Source.SURVEY,
    Kpi.SourceKind.FORMULA: Actual.Source.FORMULA,
}


def demo_password(person: Person) -> str:
    """The printed password of a demo person: deterministic, and accepted by Django's default validators."""
    return f"demo-{person.password_word}"


def username_of(spec: OrganisationSpec, person: Person) -> str:
    return f"{spec.prefix}.{person.handle}"


def email_address(person: Person, domain: str) -> str:
    """``first.last@domain`` in plain ASCII (Chloé Dubois → chloe.dubois), which every mail validator accepts."""
    local = f"{person.first_name}.{person.last_name}".lower().replace(" ", "")
    return f"{unicodedata.normalize('NFKD', local).encode('ascii', 'ignore').decode()}@{domain}"


def _password_hash(password: str) -> str:
    hasher = get_hasher()
    if isinstance(hasher, PBKDF2PasswordHasher):
        return hasher.encode(password, hasher.salt(), iterations=DEMO_PASSWORD_ITERATIONS)
    return make_password(password)


def ensure_user(username: str, person: Person, email_domain: str) -> User:
    """The user with this username, created from ``person`` when missing (an existing one is not touched)."""
    existing = User.objects.filter(username=username).first()
    if existing is not None:
        return existing
    return User.objects.create(
        username=username,
        first_name=person.first_name,
        last_name=person.last_name,
        email=email_address(person, email_domain),
        password=_password_hash(demo_password(person)),
    )


def _decimal(number: float | None) -> Decimal | None:
    return None if number is None else Decimal(repr(number))


def _weight(number: float) -> Decimal:
    return Decimal(repr(number))


class OrganisationBuilder:
    """Creates one organisation from its description: people, units, scorecards, KPIs and their history.

    Objects are looked up by the keys the description uses (unit keys, scorecard keys, objective codes
    per scorecard), so the description never needs database ids. Scorecards are built in the order given,
    so a parent scorecard must come before the ones cascading from it.
    """

    def __init__(self, spec: OrganisationSpec, *, by: User, today: date, as_of: datetime, data_root: Path) -> None:
        self.spec = spec
        self.by = by
        self.today = today
        self.as_of = as_of
        self.data_root = data_root
        self.source: DataSource | None = None
        self.rng = Random(spec.seed)
        self.window: Window = window_before(
            today, FiscalCalendar(spec.fiscal_year_start_month, spec.fiscal_year_naming)
        )
        self.people: dict[str, User] = {}
        self.groups: dict[str, Group] = {}
        self.units: dict[str, OrgUnit] = {}
        self.scorecards: dict[str, Scorecard] = {}
        self.objectives: dict[tuple[str, str], Objective] = {}
        self.kpis: dict[tuple[str, str], Kpi] = {}

    def build(self) -> Organisation:
        """Write everything; the caller provides the transaction and the audit context."""
        spec = self.spec
        organisation = organisation_create(
            by=self.by,
            name=spec.name,
            slug=spec.slug,
            fiscal_year_start_month=spec.fiscal_year_start_month,
            fiscal_year_naming=spec.fiscal_year_naming,
            default_currency=spec.currency,
        )
        self._add_people(organisation)
        self.units[""] = organisation.units.get(parent=None)
        for unit in spec.units:
            self.units[unit.key] = org_unit_create(
                by=self.by, organisation=organisation, name=unit.name, kind=unit.kind, parent=self.units[unit.parent]
            )
        if spec.dataset is not None:
            self.source = self._add_data_source(organisation)
        for card in spec.scorecards:
            self._add_scorecard(card)
        if self.source is not None:
            # The generated data reaches back before the window (customers who signed up years ago); the
            # demo's values, computed or typed, cover the same 24 months.
            (run,) = computation_run(
                organisation=organisation,
                by=None,
                trigger=ComputationRun.Trigger.CLI,
                today=self.today,
                period_from=self.window.months[0].key,
            )
            if run.status != ComputationRun.Status.SUCCEEDED:
                raise RuntimeError(f"the demo data of {spec.name} could not be computed: {run.message}")
        return organisation

    def _add_data_source(self, organisation: Organisation) -> DataSource:
        """Generate the organisation's raw data (the 24 months of the window, and history before) and add it
        as the data source its computed KPIs are computed from."""
        dataset = self.spec.dataset
        assert dataset is not None  # only called for organisations with a dataset
        folder = self.data_root / self.spec.slug
        dataset.generate(folder, end=self.window.end)
        return data_source_create(
            by=self.by,
            organisation=organisation,
            name="Data warehouse",
            location=str(folder),
            definitions=dataset.definitions,
        )

    def _add_people(self, organisation: Organisation) -> None:
        spec = self.spec
        for person in spec.people:
            user = ensure_user(username_of(spec, person), person, spec.email_domain)
            self.people[person.handle] = user
            organisation_member_set(
                by=self.by, organisation=organisation, user=user, is_admin=person.handle in spec.admins
            )
        for group_spec in spec.groups:
            group, _created = Group.objects.get_or_create(name=group_spec.name)
            for handle in group_spec.members:
                self.people[handle].groups.add(group)
            self.groups[group_spec.key] = group

    def _add_scorecard(self, card: ScorecardSpec) -> None:
        scorecard = scorecard_create(
            by=self.by,
            org_unit=self.units[card.unit],
            name=card.name,
            owner=self.people[card.owner],
            parent=self.scorecards[card.parent] if card.parent else None,
            description=card.description,
            status=Scorecard.Status.ACTIVE,
            reporting_frequency=card.reporting_frequency,
            perspectives=[(perspective.name, perspective.kind) for perspective in card.perspectives],
        )
        if card.due_days is not None:
            scorecard = scorecard_update(
                by=self.by, scorecard=scorecard, changes={"due_days_after_period_end": card.due_days}
            )
        self.scorecards[card.key] = scorecard
        perspectives: dict[str, Perspective] = {
            perspective.kind: perspective for perspective in scorecard.perspectives.all()
        }
        for perspective_spec in card.perspectives:
            if perspective_spec.weight != 1 or perspective_spec.description:
                perspective_update(
                    by=self.by,
                    perspective=perspectives[perspective_spec.kind],
                    changes={"weight": _weight(perspective_spec.weight), "description": perspective_spec.description},
                )
        for objective_spec in card.objectives:
            self._add_objective(card, scorecard, perspectives[objective_spec.perspective], objective_spec)
        for link in card.links:
            objective_link_create(
                by=self.by,
                cause=self.objectives[card.key, link.cause],
                effect=self.objectives[card.key, link.effect],
                sign=link.sign,
                strength=link.strength,
                rationale=link.rationale,
            )
        for initiative_spec in card.initiatives:
            self._add_initiative(card, scorecard, initiative_spec)
        for grant in card.grants:
            scorecard_member_set(
                by=self.by,
                scorecard=scorecard,
                role=grant.role,
                user=self.people[grant.person] if grant.person else None,
                group=self.groups[grant.group] if grant.group else None,
            )

    def _add_objective(
        self, card: ScorecardSpec, scorecard: Scorecard, perspective: Perspective, spec: ObjectiveSpec
    ) -> None:
        objective = objective_create(
            by=self.by,
            perspective=perspective,
            name=spec.name,
            code=spec.code,
            description=spec.description,
            owner=self.people[spec.owner],
            weight=_weight(spec.weight),
            parent=self.objectives[card.parent, spec.aligns_to] if spec.aligns_to else None,
        )
        self.objectives[card.key, spec.code] = objective
        for kpi_spec in spec.kpis:
            self.kpis[card.key, kpi_spec.key] = self._add_kpi(scorecard, objective, kpi_spec)

    def _add_kpi(self, scorecard: Scorecard, objective: Objective, spec: KpiSpec) -> Kpi:
        """Create the KPI, name its updaters, set its targets and record its two years of values."""
        periods = self.window.periods(spec.frequency)
        calendar = self.window.calendar
        kpi = kpi_create(
            by=self.by,
            objective=objective,
            key=spec.key,
            name=spec.name,
            description=spec.description,
            definition=spec.definition,
            unit=spec.unit,
            currency_code=self.spec.currency if spec.unit == Kpi.Unit.CURRENCY else "",
            duration_unit=spec.duration_unit or "",
            direction=spec.direction,
            frequency=spec.frequency,
            aggregation=spec.aggregation,
            decimals=spec.decimals,
            owner=self.people[spec.owner] if spec.owner else None,
            source_kind=spec.source_kind,
            weight=_weight(spec.weight),
            baseline=baseline(spec),
            baseline_period=calendar.previous(periods[0]).key,
        )
        if spec.computed is not None:
            if self.source is None:
                raise ValueError(f"{spec.key} is computed, but {self.spec.name} has no demo dataset")
            computed_kpi_set(
                by=self.by,
                kpi=kpi,
                source=self.source,
                metric=spec.computed.metric,
                segment_by=spec.computed.segment_by,
                segment=spec.computed.segment,
            )
        if spec.updaters or spec.groups:
            kpi_updaters_set(
                by=self.by,
                kpi=kpi,
                users=[self.people[handle] for handle in spec.updaters],
                groups=[self.groups[key] for key in spec.groups],
            )
        if len(spec.targets) > 2:
            raise ValueError(f"{spec.key}: a demo KPI has a first target and at most one change")
        starts = [periods[0], calendar.period_containing(self.window.target_change, periods[0].frequency)]
        for target, start in zip(spec.targets, starts[: len(spec.targets)], strict=True):
            kpi_target_set(
                by=self.by,
                kpi=kpi,
                period_key=start.key,
                target=_decimal(target.target),
                red_flag=_decimal(target.red),
                range_low=_decimal(target.low),
                range_high=_decimal(target.high),
                note=target.note,
            )
        entries = (
            []
            if spec.computed is not None
            else plan_entries(
                spec, periods, due_days=scorecard.due_days_after_period_end, rng=self.rng, as_of=self.as_of
            )
        )
        for entry in entries:
            actual_record(
                by=self.by,
                kpi=kpi,
                period_key=entry.period.key,
                value=entry.value,
                numerator=entry.numerator,
                denominator=entry.denominator,
                note=entry.note,
                source=VALUE_SOURCES[spec.source_kind],
                entered_at=entry.entered_at,
            )
        return kpi

    def _add_initiative(self, card: ScorecardSpec, scorecard: Scorecard, spec: InitiativeSpec) -> None:
        initiative = initiative_create(
            by=self.by,
            scorecard=scorecard,
            name=spec.name,
            description=spec.description,
            owner=self.people[spec.owner],
            start_date=self.window.month_start(spec.start_month),
            end_date=self.window.month_end(spec.end_month),
            objectives=[self.objectives[card.key, code] for code in spec.objectives],
            kpis=[self.kpis[card.key, key] for key in spec.kpis],
            budget_planned=Decimal(spec.budget_planned),
            budget_spent=Decimal(spec.budget_spent),
            status=spec.status,
            percent_complete=spec.percent_complete,
        )
        for milestone_spec in spec.milestones:
            due = self.window.month_end(milestone_spec.due_month)
            milestone = milestone_create(by=self.by, initiative=initiative, name=milestone_spec.name, due_date=due)
            if milestone_spec.done_after is not None:
                done = min(due + timedelta(days=milestone_spec.done_after), self.today - timedelta(days=1))
                milestone_complete(by=self.by, milestone=milestone, completed_on=done)
