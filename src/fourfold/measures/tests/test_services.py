"""KPI services: definitions, targets with inheritance, values with history — and the bad input they refuse."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from fourfold.measures.models import Actual, ActualRevision, Kpi
from fourfold.measures.selectors import latest_actuals_by_kpi, target_in_effect, target_settings_by_kpi
from fourfold.measures.services import actual_delete, actual_record, kpi_create, kpi_target_set, kpi_update


@pytest.fixture
def ratio_kpi(world):
    """A percent KPI whose periods combine by recomputing numerator / denominator."""
    return kpi_create(
        by=world.editor,
        objective=world.objective,
        key="retention",
        name="Retention",
        unit="percent",
        aggregation="ratio",
    )


def test_kpi_key_is_unique_within_a_scorecard_but_not_across(world):
    with pytest.raises(ValidationError) as error:
        kpi_create(by=world.editor, objective=world.objective, key="csat", name="Duplicate")
    assert error.value.messages == ["Another KPI on this scorecard already uses this key."]


def test_same_key_is_allowed_on_another_scorecard(world):
    from fourfold.strategy.services import objective_create

    objective = objective_create(
        by=world.org_admin, perspective=world.child_scorecard.perspectives.first(), name="Sales"
    )
    kpi = kpi_create(by=world.org_admin, objective=objective, key="csat", name="Sales CSAT")
    assert kpi.scorecard == world.child_scorecard


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"key": "NPS score"}, "key", "lower-case"),
        ({"unit": "currency"}, "currency_code", "ISO 4217"),
        ({"unit": "duration"}, "duration_unit", "minutes, hours or days"),
        ({"unit": "yes_no", "direction": "range"}, "direction", "yes/no"),
        ({"source_kind": "formula"}, "formula", "needs a formula"),
        ({"weight": Decimal("-0.5")}, "weight", "greater than or equal to 0"),
        ({"baseline_period": "2026-Q1"}, "baseline_period", "quarterly period but a monthly period"),
    ],
)
def test_bad_kpi_definitions_are_refused_on_the_field(world, fields, field, message):
    params = {"key": "new_kpi", **fields}
    with pytest.raises(ValidationError) as error:
        kpi_create(by=world.editor, objective=world.objective, name="New", **params)
    assert field in error.value.message_dict
    assert message in " ".join(error.value.message_dict[field])


def test_period_key_must_match_the_kpi_frequency(world):
    with pytest.raises(ValidationError) as error:
        actual_record(by=world.updater, kpi=world.kpi, period_key="2026-Q1", value=Decimal(70))
    (message,) = error.value.message_dict["period_key"]
    assert "2026-Q1" in message
    assert "monthly" in message
    assert not Actual.objects.exists()


def test_period_keys_are_canonicalised(world):
    actual = actual_record(by=world.updater, kpi=world.kpi, period_key=" 2026-3 ", value=Decimal(70))
    assert (actual.period_key, actual.period_start, actual.period_end) == (
        "2026-03",
        dt.date(2026, 3, 1),
        dt.date(2026, 3, 31),
    )


def test_replacing_a_value_keeps_the_old_one_in_the_history(world):
    actual_record(by=world.updater, kpi=world.kpi, period_key="2026-01", value=Decimal("70"), note="first count")
    actual_record(
        by=world.editor, kpi=world.kpi, period_key="2026-01", value=Decimal("72.5"), note="late surveys added"
    )
    current = Actual.objects.get(kpi=world.kpi, period_key="2026-01")
    assert (current.value, current.entered_by, current.note) == (Decimal("72.5"), world.editor, "late surveys added")
    (revision,) = ActualRevision.objects.filter(kpi=world.kpi)
    assert (revision.value, revision.entered_by, revision.replaced_by, revision.note) == (
        Decimal("70"),
        world.updater,
        world.editor,
        "first count",
    )


def test_withdrawing_a_value_keeps_it_in_the_history(world):
    actual = actual_record(by=world.updater, kpi=world.kpi, period_key="2026-01", value=Decimal("70"))
    actual_delete(by=world.updater, actual=actual)
    assert not Actual.objects.exists()
    assert ActualRevision.objects.get().value == Decimal("70")


def test_value_is_recomputed_from_numerator_and_denominator(world, ratio_kpi):
    actual = actual_record(
        by=world.editor, kpi=ratio_kpi, period_key="2026-01", numerator=Decimal(2), denominator=Decimal(4)
    )
    assert actual.value == Decimal(50)  # a percent KPI: 2 / 4 = 50 %


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"numerator": Decimal(2), "denominator": Decimal(0)}, "denominator", "must not be zero"),
        ({"numerator": Decimal(2)}, "denominator", "both numerator and denominator"),
        ({"value": Decimal(60), "numerator": Decimal(2), "denominator": Decimal(4)}, "value", "does not match"),
        ({}, "numerator", "enter both"),
    ],
)
def test_bad_values_are_refused_on_the_field(world, ratio_kpi, values, field, message):
    with pytest.raises(ValidationError) as error:
        actual_record(by=world.editor, kpi=ratio_kpi, period_key="2026-01", **values)
    assert message in " ".join(error.value.message_dict[field])


def test_a_value_is_required(world):
    with pytest.raises(ValidationError) as error:
        actual_record(by=world.updater, kpi=world.kpi, period_key="2026-01")
    assert error.value.message_dict["value"] == ["Enter a value."]


def test_yes_no_kpis_take_yes_or_no_only(world):
    launched = kpi_create(
        by=world.editor, objective=world.objective, key="launched", name="Launched", unit=Kpi.Unit.YES_NO
    )
    with pytest.raises(ValidationError, match="yes \\(1\\) or no \\(0\\)"):
        kpi_target_set(by=world.editor, kpi=launched, period_key="2026-01", target=Decimal(2))
    with pytest.raises(ValidationError, match="no thresholds"):
        kpi_target_set(by=world.editor, kpi=launched, period_key="2026-01", target=Decimal(1), red_flag=Decimal(0))
    with pytest.raises(ValidationError, match="yes \\(1\\) or no \\(0\\)"):
        actual_record(by=world.editor, kpi=launched, period_key="2026-01", value=Decimal("0.5"))
    assert kpi_target_set(by=world.editor, kpi=launched, period_key="2026-01", target=Decimal(1)).target == 1


@pytest.mark.parametrize(
    ("direction", "thresholds", "field", "message"),
    [
        ("higher", {"target": 80, "red_flag": 85}, "red_flag", "must not be above the target (80)"),
        ("lower", {"target": 5, "red_flag": 3}, "red_flag", "must not be below the target (5)"),
        ("range", {"range_low": 10, "range_high": 5}, "range_high", "must not be below the lowest"),
        ("range", {"target": 12}, "range_low", "lowest and highest good values"),
        ("higher", {}, "target", "Enter a target"),
    ],
)
def test_thresholds_out_of_order_are_refused(world, direction, thresholds, field, message):
    kpi_update(by=world.editor, kpi=world.kpi, changes={"direction": direction})
    values = {name: Decimal(value) for name, value in thresholds.items()}
    with pytest.raises(ValidationError) as error:
        kpi_target_set(by=world.editor, kpi=world.kpi, period_key="2026-01", **values)
    assert message in " ".join(error.value.message_dict[field])


def test_targets_hold_until_changed(world):
    kpi_target_set(by=world.editor, kpi=world.kpi, period_key="2026-01", target=Decimal(80), red_flag=Decimal(60))
    kpi_target_set(by=world.editor, kpi=world.kpi, period_key="2026-07", target=Decimal(85))
    settings = target_settings_by_kpi([world.kpi.pk])[world.kpi.pk]
    assert target_in_effect(settings, dt.date(2025, 12, 1)) is None
    assert target_in_effect(settings, dt.date(2026, 6, 1)).target == 80
    assert target_in_effect(settings, dt.date(2026, 7, 1)).target == 85
    assert target_in_effect(settings, dt.date(2027, 3, 1)).target == 85


def test_frequency_is_frozen_once_data_exists(world):
    actual_record(by=world.updater, kpi=world.kpi, period_key="2026-01", value=Decimal(70))
    with pytest.raises(ValidationError, match="frequency cannot change"):
        kpi_update(by=world.editor, kpi=world.kpi, changes={"frequency": "quarterly"})


def test_latest_actual_per_kpi_in_one_query(world, django_assert_num_queries):
    for period, value in (("2026-01", 70), ("2026-03", 74), ("2026-02", 71)):
        actual_record(by=world.updater, kpi=world.kpi, period_key=period, value=Decimal(value))
    with django_assert_num_queries(1):
        latest = latest_actuals_by_kpi([world.kpi.pk])
    assert latest[world.kpi.pk].period_key == "2026-03"


def test_changing_an_unknown_field_is_a_programming_error(world):
    with pytest.raises(TypeError, match="cannot change scorecard"):
        kpi_update(by=world.editor, kpi=world.kpi, changes={"scorecard": world.child_scorecard})


def test_a_ratio_without_an_exact_decimal_is_stored_rounded_with_exact_parts(world, ratio_kpi):
    actual = actual_record(
        by=world.editor, kpi=ratio_kpi, period_key="2026-01", numerator=Decimal(2), denominator=Decimal(3)
    )
    actual.refresh_from_db()
    assert actual.value == Decimal("66.66666667")
    assert (actual.numerator, actual.denominator) == (Decimal(2), Decimal(3))


def test_a_back_dated_correction_is_dated_when_it_was_made(world):
    import datetime as dt_module

    from django.utils import timezone

    first = timezone.make_aware(dt_module.datetime(2026, 2, 3, 9, 0))
    correction = timezone.make_aware(dt_module.datetime(2026, 2, 20, 14, 30))
    actual_record(by=world.updater, kpi=world.kpi, period_key="2026-01", value=Decimal(70), entered_at=first)
    actual_record(by=world.updater, kpi=world.kpi, period_key="2026-01", value=Decimal(72), entered_at=correction)
    assert ActualRevision.objects.get().replaced_at == correction


def test_ratio_kpis_need_numerator_and_denominator(world, ratio_kpi):
    with pytest.raises(ValidationError) as error:
        actual_record(by=world.editor, kpi=ratio_kpi, period_key="2026-01", value=Decimal(70))
    assert "enter both" in error.value.message_dict["numerator"][0]


def test_target_period_keys_are_canonicalised(world):
    setting = kpi_target_set(by=world.editor, kpi=world.kpi, period_key="2026-1", target=Decimal(80))
    assert setting.period_key == "2026-01"


def test_formula_mistakes_are_reported_on_the_right_field(world):
    revenue = kpi_create(by=world.editor, objective=world.objective, key="revenue", name="Revenue")
    with pytest.raises(ValidationError) as unknown:
        kpi_create(
            by=world.editor,
            objective=world.objective,
            key="arpu",
            name="ARPU",
            source_kind="formula",
            formula="revenue / learnrs",
        )
    assert "learnrs" in unknown.value.message_dict["formula"][0]
    kpi_create(
        by=world.editor,
        objective=world.objective,
        key="arpu",
        name="ARPU",
        source_kind="formula",
        formula="revenue * 2",
    )
    with pytest.raises(ValidationError) as renamed:
        kpi_update(by=world.editor, kpi=revenue, changes={"key": "sales"})
    assert "revenue" in renamed.value.message_dict["key"][0]  # arpu's formula would lose its input


def test_a_company_kpi_rolls_up_from_kpis_of_scorecards_below_only(world):
    from fourfold.measures.services import kpi_rollup_sources_set
    from fourfold.strategy.services import objective_create

    revenue = kpi_create(by=world.org_admin, objective=world.objective, key="revenue", name="Revenue")
    sales_objective = objective_create(
        by=world.org_admin, perspective=world.child_scorecard.perspectives.first(), name="Sell"
    )
    sales_revenue = kpi_create(by=world.org_admin, objective=sales_objective, key="revenue", name="Sales revenue")
    hours = kpi_create(
        by=world.org_admin, objective=sales_objective, key="hours", name="Hours", unit="duration", duration_unit="hours"
    )
    kpi_rollup_sources_set(by=world.org_admin, kpi=revenue, sources=[sales_revenue])
    assert list(revenue.rollup_sources.all()) == [sales_revenue]
    with pytest.raises(ValidationError, match="not on a scorecard cascading from"):
        kpi_rollup_sources_set(by=world.org_admin, kpi=sales_revenue, sources=[revenue])  # upwards: refused
    with pytest.raises(ValidationError, match="another unit"):
        kpi_rollup_sources_set(by=world.org_admin, kpi=revenue, sources=[hours])
    with pytest.raises(PermissionDenied):
        kpi_rollup_sources_set(by=world.viewer, kpi=revenue, sources=[])


def test_deleting_structure_needs_an_editor_and_keeps_history(world):
    from fourfold.audit.selectors import history_for_object_id
    from fourfold.strategy.models import Objective, ObjectiveLink, Perspective
    from fourfold.strategy.services import (
        objective_create,
        objective_delete,
        objective_link_create,
        objective_link_delete,
        perspective_delete,
    )

    other = objective_create(by=world.editor, perspective=world.objective.perspective, name="Retain")
    link = objective_link_create(by=world.editor, cause=world.objective, effect=other)
    with pytest.raises(PermissionDenied):
        objective_link_delete(by=world.viewer, link=link)
    link_id = link.pk
    objective_link_delete(by=world.editor, link=link)
    assert history_for_object_id(ObjectiveLink, link_id).filter(action="delete").exists()
    objective_delete(by=world.editor, objective=other)
    assert not Objective.objects.filter(name="Retain").exists()
    learning = world.scorecard.perspectives.get(kind="learning")
    perspective_delete(by=world.editor, perspective=learning)
    assert not Perspective.objects.filter(pk=learning.pk).exists()


def test_a_target_setting_can_be_withdrawn(world):
    from fourfold.measures.services import kpi_target_delete

    setting = kpi_target_set(by=world.editor, kpi=world.kpi, period_key="2026-01", target=Decimal(80))
    with pytest.raises(PermissionDenied):
        kpi_target_delete(by=world.updater, setting=setting)
    kpi_target_delete(by=world.editor, setting=setting)
    assert not world.kpi.targets.exists()


def test_anyone_who_sees_the_kpi_comments_and_authors_or_editors_remove_comments(world):
    from fourfold.measures.models import KpiComment
    from fourfold.measures.services import kpi_comment_add, kpi_comment_delete

    comment = kpi_comment_add(
        by=world.viewer, kpi=world.kpi, body="  March dipped with the migration.  ", period_key="2026-3"
    )
    assert (comment.body, comment.period_key, comment.author) == (
        "March dipped with the migration.",
        "2026-03",
        world.viewer,
    )
    with pytest.raises(PermissionDenied):
        kpi_comment_delete(by=world.updater, comment=comment)
    kpi_comment_delete(by=world.editor, comment=comment)
    assert not KpiComment.objects.exists()
    with pytest.raises(PermissionDenied):
        kpi_comment_add(by=world.outsider, kpi=world.kpi, body="Hello")
    with pytest.raises(ValidationError) as error:
        kpi_comment_add(by=world.viewer, kpi=world.kpi, body="   ")
    assert error.value.message_dict == {"body": ["Write the comment first."]}
