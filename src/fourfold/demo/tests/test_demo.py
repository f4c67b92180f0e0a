"""The demo loads three complete organisations with two years of history to explore, and loading it again
changes nothing.

Loading takes several seconds, so the module loads it once (inside a transaction rolled back at the end)
and every test reads that one load.
"""

from __future__ import annotations

import contextvars
from collections import Counter
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.apps import apps
from django.contrib.auth.hashers import check_password
from django.contrib.auth.password_validation import validate_password
from django.db import transaction
from django.utils import timezone

from fourfold.accounts.models import Role, User
from fourfold.accounts.permissions import Action, can, effective_role
from fourfold.audit.context import AuditContextMissing, ChangeSource, audit_context
from fourfold.audit.models import AuditEntry
from fourfold.demo.loader import DEMO_URL, ORGANISATIONS, SUPERUSER_USERNAME, DemoResult, load_demo
from fourfold.demo.values import window_before
from fourfold.engine.periods import Frequency
from fourfold.initiatives.models import Initiative, Milestone
from fourfold.measures.models import Actual, ActualRevision, Kpi, KpiTarget
from fourfold.strategy.models import Objective, ObjectiveLink, Organisation, Perspective, Scorecard

TODAY = date(2026, 1, 15)
MONTH_KEYS = [f"2024-{month:02d}" for month in range(1, 13)] + [f"2025-{month:02d}" for month in range(1, 13)]

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def demo_data(tmp_path_factory):
    """Where the demo's generated raw data goes, apart from the developer's own data folder."""
    return tmp_path_factory.mktemp("demo-data")


@pytest.fixture(scope="module")
def loaded(django_db_setup, django_db_blocker, demo_data):
    """One demo load for the whole module, rolled back afterwards."""
    with django_db_blocker.unblock(), transaction.atomic():
        with audit_context(actor=None, source=ChangeSource.CLI, reason="demo test"):
            result = load_demo(TODAY, demo_data)
        yield result
        transaction.set_rollback(True)


def organisations() -> list[Organisation]:
    return list(Organisation.objects.filter(slug__in=[spec.slug for spec in ORGANISATIONS]).order_by("pk"))


def company_card(organisation: Organisation) -> Scorecard:
    return Scorecard.objects.get(organisation=organisation, parent=None)


def expected_periods(kpi: Kpi) -> list[str]:
    window = window_before(TODAY, kpi.scorecard.organisation.calendar)
    return [period.key for period in window.periods(Frequency(kpi.frequency))]


def test_three_organisations_are_created(loaded: DemoResult):
    assert [outcome.created for outcome in loaded.organisations] == [True, True, True]
    assert len(organisations()) == 3
    assert {organisation.fiscal_year_start_month for organisation in organisations()} >= {1, 4, 9}
    for outcome in loaded.organisations:
        assert outcome.scorecards >= 3
        assert outcome.kpis >= 15
        assert outcome.values > 300


def test_each_organisation_cascades_at_least_two_levels(loaded: DemoResult):
    for organisation in organisations():
        company = company_card(organisation)
        departments = list(company.children.all())
        assert len(departments) >= 2
        assert any(department.children.exists() for department in departments)
        units = organisation.units.all()
        assert {unit.kind for unit in units} >= {"company", "team"}
        assert all(card.org_unit.organisation_id == organisation.pk for card in organisation.scorecards.all())


def test_every_perspective_of_each_company_scorecard_has_objectives_and_kpis(loaded: DemoResult):
    for organisation in organisations():
        perspectives = list(company_card(organisation).perspectives.all())
        assert {perspective.kind for perspective in perspectives} == {"financial", "customer", "internal", "learning"}
        for perspective in perspectives:
            objectives = list(perspective.objectives.all())
            assert objectives, perspective
            assert all(objective.code and objective.owner_id for objective in objectives)
            assert Kpi.objects.filter(objective__perspective=perspective).exists(), perspective
        weights = Objective.objects.filter(perspective__scorecard=company_card(organisation)).values_list(
            "weight", flat=True
        )
        assert len(set(weights)) > 1


def test_child_objectives_align_to_the_parent_scorecard(loaded: DemoResult):
    for card in Scorecard.objects.exclude(parent=None):
        objectives = Objective.objects.filter(perspective__scorecard=card)
        aligned = [objective for objective in objectives if objective.parent_id is not None]
        assert aligned, card
        assert all(objective.parent.perspective.scorecard_id == card.parent_id for objective in aligned)


def test_strategy_maps_have_varied_cause_and_effect_links(loaded: DemoResult):
    links = ObjectiveLink.objects.select_related("cause__perspective", "effect__perspective")
    assert links.filter(sign=ObjectiveLink.Sign.TRADES_OFF).exists()
    assert {link.strength for link in links} == {"weak", "medium", "strong"}
    assert all(link.rationale for link in links)
    order = [
        Perspective.Kind.LEARNING,
        Perspective.Kind.INTERNAL,
        Perspective.Kind.CUSTOMER,
        Perspective.Kind.FINANCIAL,
    ]
    for link in links:  # causes sit at or below their effects: learning → internal → customer → financial
        assert order.index(link.cause.perspective.kind) <= order.index(link.effect.perspective.kind), link


def test_kpis_use_varied_units_directions_frequencies_and_sensible_aggregation(loaded: DemoResult):
    kpis = list(Kpi.objects.all())
    assert {kpi.unit for kpi in kpis} == set(Kpi.Unit.values)
    assert {kpi.direction for kpi in kpis} == set(Kpi.Direction.values)
    assert {kpi.frequency for kpi in kpis} == {"weekly", "monthly", "quarterly"}
    assert Counter(kpi.frequency for kpi in kpis).most_common(1)[0][0] == "monthly"
    assert all(kpi.aggregation in {"sum", "last"} for kpi in kpis if kpi.unit == Kpi.Unit.COUNT)
    assert all(kpi.currency_code for kpi in kpis if kpi.unit == Kpi.Unit.CURRENCY)
    assert {kpi.duration_unit for kpi in kpis if kpi.unit == Kpi.Unit.DURATION} >= {"hours", "days"}
    assert all(kpi.definition and kpi.baseline is not None and kpi.baseline_period for kpi in kpis)
    assert any(kpi.updater_groups.exists() for kpi in kpis)


def test_ratio_kpis_record_numerator_and_denominator(loaded: DemoResult):
    ratio_values = Actual.objects.filter(kpi__aggregation=Kpi.Aggregation.RATIO).select_related("kpi")
    assert ratio_values.filter(kpi__unit=Kpi.Unit.PERCENT).exists()
    assert ratio_values.filter(kpi__unit=Kpi.Unit.CURRENCY).exists()
    for actual in ratio_values:
        assert actual.numerator is not None, actual
        assert actual.denominator, actual
        scale = 100 if actual.kpi.unit == Kpi.Unit.PERCENT else 1
        assert actual.value == (actual.numerator / actual.denominator * scale).quantize(Decimal("1e-8"))


def test_twenty_four_months_of_values_with_a_few_gaps(loaded: DemoResult):
    for organisation in organisations():
        kpis = list(Kpi.objects.filter(scorecard__organisation=organisation).select_related("scorecard__organisation"))
        monthly = [kpi for kpi in kpis if kpi.frequency == Frequency.MONTHLY]
        assert all(expected_periods(kpi) == MONTH_KEYS for kpi in monthly)
        complete = [kpi for kpi in monthly if list(kpi.actuals.values_list("period_key", flat=True)) == MONTH_KEYS]
        assert len(complete) >= len(monthly) - 3
        # Computed KPIs have a value wherever the data has one; the gaps are in what people type in.
        typed = [kpi for kpi in kpis if kpi.source_kind != Kpi.SourceKind.COMPUTED]
        gaps = sum(
            len(set(expected_periods(kpi)) - set(kpi.actuals.values_list("period_key", flat=True))) for kpi in typed
        )
        assert 2 <= gaps <= 3, organisation
        assert (
            not Actual.objects.filter(kpi__scorecard__organisation=organisation, period_key__gt="2025-12")
            .exclude(kpi__frequency__in=["quarterly", "weekly"])
            .exists()
        )
    weekly = Kpi.objects.get(frequency=Frequency.WEEKLY)  # one weekly KPI: two years of weeks, no more
    assert 100 <= weekly.actuals.count() <= 105


def test_values_follow_trends_with_red_items(loaded: DemoResult):
    cac = Kpi.objects.get(scorecard__organisation__slug="brightpath-learning", key="cac")
    values = [float(value) for value in cac.actuals.order_by("period_start").values_list("value", flat=True)]
    assert sum(values[-6:]) / 6 > sum(values[:6]) / 6  # acquisition cost worsens
    latest_red = KpiTarget.objects.filter(kpi=cac).order_by("-period_start").first()
    assert latest_red is not None
    assert latest_red.red_flag is not None
    assert values[-3] > latest_red.red_flag  # the event month is off target
    assert Actual.objects.exclude(note="").count() >= 10


def test_some_values_are_entered_late_and_none_in_the_future(loaded: DemoResult):
    start_of_today = timezone.make_aware(datetime.combine(TODAY, time.min))
    for organisation in organisations():
        actuals = (
            Actual.objects.filter(kpi__scorecard__organisation=organisation)
            .exclude(source=Actual.Source.COMPUTED)
            .select_related("kpi__scorecard")
        )
        late = [
            actual
            for actual in actuals
            if actual.entered_at.date()
            > actual.period_end + timedelta(days=actual.kpi.scorecard.due_days_after_period_end)
        ]
        assert 2 <= len(late) <= len(actuals) // 20, organisation
        assert all(
            actual.entered_at > timezone.make_aware(datetime.combine(actual.period_end, time.min)) for actual in actuals
        )
        assert all(actual.entered_at <= start_of_today for actual in actuals)


def test_some_values_were_replaced_and_kept_in_the_value_history(loaded: DemoResult):
    for organisation in organisations():
        revisions = ActualRevision.objects.filter(kpi__scorecard__organisation=organisation)
        assert revisions.exists(), organisation
        for revision in revisions:
            current = Actual.objects.get(kpi=revision.kpi, period_key=revision.period_key)
            assert current.value != revision.value
            assert current.entered_at > revision.entered_at
            assert "Corrected" in current.note


def test_targets_and_thresholds_change_at_a_fiscal_year_start(loaded: DemoResult):
    for organisation in organisations():
        window = window_before(TODAY, organisation.calendar)
        changed = KpiTarget.objects.filter(kpi__scorecard__organisation=organisation, kpi__frequency="monthly").exclude(
            period_key=MONTH_KEYS[0]
        )
        assert changed.exists()
        assert {setting.period_start for setting in changed} == {window.target_change}
        assert window.target_change.month == organisation.fiscal_year_start_month
        assert changed.exclude(red_flag=None).exists()
    assert KpiTarget.objects.exclude(range_low=None).exists()


def test_initiatives_have_budgets_statuses_and_late_milestones(loaded: DemoResult):
    initiatives = Initiative.objects.all()
    assert {initiative.status for initiative in initiatives} >= {"completed", "in_progress", "on_hold"}
    assert any(initiative.budget_spent > (initiative.budget_planned or 0) for initiative in initiatives)  # overspent
    assert all(initiative.budget_planned and initiative.budget_spent for initiative in initiatives)
    milestones = Milestone.objects.all()
    assert milestones.exclude(completed_on=None).filter(completed_on__lte=TODAY).exists()
    assert milestones.filter(completed_on=None, due_date__lt=TODAY).exists()  # late
    assert milestones.filter(completed_on=None, due_date__gt=TODAY).exists()  # still ahead
    assert not milestones.filter(completed_on__gte=TODAY).exists()


def test_every_role_has_a_demo_user_with_that_effective_role(loaded: DemoResult):
    logins = loaded.logins
    for organisation in organisations():
        company = company_card(organisation)
        for role in Role:
            usernames = [login.username for login in logins if login.role == role.value and login.scope == company.name]
            assert usernames, (organisation, role)
            for username in usernames:
                assert effective_role(User.objects.get(username=username), company) == role
        org_admins = [
            login.username
            for login in logins
            if login.role == "organisation admin" and login.scope == organisation.name
        ]
        assert len(org_admins) == 1
        admin = User.objects.get(username=org_admins[0])
        assert all(effective_role(admin, card) == Role.ADMIN for card in organisation.scorecards.all())
        departments = tuple(card.name for card in organisation.scorecards.exclude(pk=company.pk))
        assert any(login.scope.startswith(departments) for login in logins)


def test_the_company_updater_may_record_the_kpis_they_update(loaded: DemoResult):
    for organisation in organisations():
        company = company_card(organisation)
        updater = User.objects.get(
            username=next(
                login.username for login in loaded.logins if login.role == "updater" and login.scope == company.name
            )
        )
        assigned = Kpi.objects.filter(scorecard=company, updaters=updater)
        assert assigned.exists()
        assert all(can(updater, Action.RECORD_VALUE, kpi) for kpi in assigned)
        assert not can(updater, Action.EDIT_STRUCTURE, company)


def test_demo_users_have_names_emails_and_valid_printed_passwords(loaded: DemoResult, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]  # as the load hashed them
    usernames = {login.username for login in loaded.logins}
    assert len(usernames) == User.objects.filter(username__in=usernames).count() >= 30
    for login in {login.username: login for login in loaded.logins}.values():
        user = User.objects.get(username=login.username)
        assert user.first_name
        assert user.last_name
        assert user.email.endswith("@example.org")
        assert check_password(login.password, user.password), login.username  # without re-hashing it
        validate_password(login.password, user)
    assert User.objects.get(username=SUPERUSER_USERNAME).is_superuser


def test_writes_are_audited_as_the_demo_superuser_from_the_cli(loaded: DemoResult):
    entries = AuditEntry.objects.all()
    assert entries.count() > 1000
    assert set(entries.values_list("actor__username", flat=True)) == {SUPERUSER_USERNAME}
    assert set(entries.values_list("source", flat=True)) == {ChangeSource.CLI}
    # Computed values name their run, so that the history says where they came from.
    reasons = set(entries.values_list("reason", flat=True)) - {"demo test"}
    assert reasons
    assert all(reason.startswith("Computed from Data warehouse (run ") for reason in reasons)


def test_summary_lists_organisations_counts_logins_and_the_address(loaded: DemoResult):
    summary = loaded.summary()
    assert DEMO_URL in summary
    for outcome in loaded.organisations:
        assert f"{outcome.name} ({outcome.slug}): created" in summary
        assert f"{outcome.kpis} KPIs, {outcome.values} values" in summary
    for login in loaded.logins:
        assert login.username in summary
        assert login.password in summary


def test_a_second_load_changes_nothing(loaded: DemoResult, demo_data):
    def row_counts() -> dict[str, int]:
        return {model._meta.label: model._default_manager.count() for model in apps.get_models()}

    before = row_counts()
    with audit_context(actor=None, source=ChangeSource.CLI):
        again = load_demo(TODAY, demo_data)
    assert row_counts() == before
    assert [outcome.created for outcome in again.organisations] == [False, False, False]
    assert [outcome.values for outcome in again.organisations] == [outcome.values for outcome in loaded.organisations]
    assert again.logins == loaded.logins
    assert "already there" in again.summary()


def test_loading_outside_an_audit_context_is_refused():
    with pytest.raises(AuditContextMissing):
        contextvars.Context().run(load_demo, TODAY)  # a fresh context: no audit context, whatever fixtures opened


def test_the_customer_and_training_kpis_are_computed_from_generated_data_with_their_lineage(loaded, demo_data):
    from fourfold.computed.models import ComputationRun, ComputedKpi

    for spec in ORGANISATIONS:
        organisation = Organisation.objects.get(slug=spec.slug)
        (run,) = ComputationRun.objects.filter(organisation=organisation)
        assert run.status == ComputationRun.Status.SUCCEEDED, run.message
        assert (demo_data / spec.slug / "orders.parquet").exists()
        window = window_before(TODAY, organisation.calendar)
        bindings = ComputedKpi.objects.filter(kpi__scorecard__organisation=organisation).select_related("kpi")
        computed = {
            kpi.key
            for card in spec.scorecards
            for objective in card.objectives
            for kpi in objective.kpis
            if kpi.computed
        }
        assert {binding.kpi.key for binding in bindings} == computed
        for binding in bindings:
            kpi = binding.kpi
            values = Actual.objects.filter(kpi=kpi).select_related("lineage")
            expected = {period.key for period in window.periods(Frequency(kpi.frequency))}
            assert {actual.period_key for actual in values} == expected, kpi.key
            assert all(actual.source == Actual.Source.COMPUTED and actual.lineage.run == run for actual in values)


def test_survey_kpis_of_the_demo_carry_their_responses_and_margin_of_error(loaded):
    nps = Actual.objects.filter(kpi__key="nps", kpi__scorecard__organisation__slug="meridian-care")
    assert nps.exists()
    assert all(actual.sample_size and actual.margin_of_error is not None for actual in nps)
