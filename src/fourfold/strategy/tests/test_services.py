"""Strategy services: default perspectives, ordering, and the structural rules (no cycles, no self-links)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from fourfold.audit.models import AuditEntry
from fourfold.strategy.models import ObjectiveLink, OrgUnit, Perspective, Scorecard
from fourfold.strategy.services import (
    objective_create,
    objective_link_create,
    objective_update,
    org_unit_create,
    org_unit_update,
    organisation_create,
    organisation_update,
    perspective_create,
    perspectives_reorder,
    scorecard_create,
    scorecard_update,
)


def test_new_scorecard_gets_the_four_classic_perspectives_in_order(world):
    names = list(world.scorecard.perspectives.values_list("name", flat=True))
    assert names == ["Financial", "Customer", "Internal process", "Learning & growth"]


def test_a_nonprofit_renames_reorders_and_adds_perspectives(world):
    mission = perspective_create(
        by=world.editor, scorecard=world.scorecard, name="Mission", kind=Perspective.Kind.CUSTOM
    )
    by_name = {perspective.name: perspective.pk for perspective in world.scorecard.perspectives.all()}
    order = [by_name[name] for name in ("Mission", "Customer", "Internal process", "Learning & growth", "Financial")]
    perspectives_reorder(by=world.editor, scorecard=world.scorecard, ordered_ids=order)
    assert list(world.scorecard.perspectives.order_by("position").values_list("pk", flat=True)) == order
    assert mission.position == 4  # appended at the bottom before the reorder


def test_reorder_must_list_every_perspective_once(world):
    ids = list(world.scorecard.perspectives.values_list("pk", flat=True))
    with pytest.raises(ValidationError, match="exactly once"):
        perspectives_reorder(by=world.editor, scorecard=world.scorecard, ordered_ids=ids[:-1])


def test_org_units_cannot_form_a_cycle(world):
    company = world.organisation.units.get(parent=None)
    sales = company.children.get()
    team = org_unit_create(
        by=world.org_admin, organisation=world.organisation, name="Inside sales", kind=OrgUnit.Kind.TEAM, parent=sales
    )
    with pytest.raises(ValidationError) as error:
        org_unit_update(by=world.org_admin, unit=company, changes={"parent": team})
    assert error.value.message_dict == {"parent": ["A unit cannot sit below itself or one of its sub-units."]}
    company.refresh_from_db()
    assert company.parent is None


def test_scorecards_cannot_cascade_in_a_loop(world):
    with pytest.raises(ValidationError) as error:
        scorecard_update(by=world.org_admin, scorecard=world.scorecard, changes={"parent": world.child_scorecard})
    assert "descendants" in error.value.message_dict["parent"][0]


def test_scorecard_cannot_cascade_from_another_organisation(world):
    other = organisation_create(by=world.superuser, name="Other", slug="other")
    foreign = scorecard_create(by=world.superuser, org_unit=other.units.get(), name="Foreign")
    with pytest.raises(ValidationError, match="same organisation"):
        scorecard_update(by=world.superuser, scorecard=world.scorecard, changes={"parent": foreign})


def test_objectives_align_only_to_the_parent_scorecard(world):
    sales_customer = world.child_scorecard.perspectives.get(kind="customer")
    aligned = objective_create(
        by=world.org_admin, perspective=sales_customer, name="Win schools", parent=world.objective
    )
    assert aligned.parent == world.objective
    with pytest.raises(ValidationError, match="parent scorecard"):
        objective_create(
            by=world.org_admin, perspective=world.scorecard.perspectives.first(), name="Self", parent=world.objective
        )


def test_no_self_links_and_no_duplicates(world):
    other = objective_create(
        by=world.editor, perspective=world.scorecard.perspectives.get(kind="financial"), name="Grow revenue"
    )
    with pytest.raises(ValidationError) as error:
        objective_link_create(by=world.editor, cause=world.objective, effect=world.objective)
    assert "cannot cause itself" in str(error.value)
    link = objective_link_create(
        by=world.editor,
        cause=world.objective,
        effect=other,
        sign=ObjectiveLink.Sign.TRADES_OFF,
        strength=ObjectiveLink.Strength.STRONG,
    )
    assert (link.sign, link.strength) == ("trades_off", "strong")
    with pytest.raises(ValidationError, match="already linked"):
        objective_link_create(by=world.editor, cause=world.objective, effect=other)


def test_links_stay_within_one_scorecard(world):
    child_objective = objective_create(
        by=world.org_admin, perspective=world.child_scorecard.perspectives.first(), name="Sales growth"
    )
    with pytest.raises(ValidationError, match="same scorecard"):
        objective_link_create(by=world.org_admin, cause=world.objective, effect=child_objective)


def test_weights_must_not_be_negative(world):
    with pytest.raises(ValidationError) as error:
        objective_update(by=world.editor, objective=world.objective, changes={"weight": Decimal("-1")})
    assert "weight" in error.value.message_dict


def test_a_failing_service_leaves_nothing_behind(world):
    counts = (Scorecard.objects.count(), Perspective.objects.count(), AuditEntry.objects.count())
    duplicate = [("Financial", Perspective.Kind.FINANCIAL), ("Financial", Perspective.Kind.FINANCIAL)]
    with pytest.raises(ValidationError, match="perspective with that name"):
        scorecard_create(by=world.org_admin, org_unit=world.scorecard.org_unit, name="Half", perspectives=duplicate)
    assert (Scorecard.objects.count(), Perspective.objects.count(), AuditEntry.objects.count()) == counts


def test_fiscal_calendar_is_frozen_once_fiscal_data_exists(world):
    from fourfold.measures.services import kpi_create, kpi_target_set

    organisation_update(by=world.org_admin, organisation=world.organisation, changes={"fiscal_year_start_month": 4})
    quarterly = kpi_create(
        by=world.editor, objective=world.objective, key="quarterly_nps", name="NPS", frequency="quarterly"
    )
    kpi_target_set(by=world.editor, kpi=quarterly, period_key="2026-Q1", target=Decimal(40))
    with pytest.raises(ValidationError, match="fiscal calendar cannot change"):
        organisation_update(by=world.org_admin, organisation=world.organisation, changes={"fiscal_year_start_month": 1})


def test_moving_a_scorecard_needs_an_organisation_admin(world):
    other_unit = org_unit_create(
        by=world.org_admin, organisation=world.organisation, name="Ops", kind=OrgUnit.Kind.DEPARTMENT
    )
    with pytest.raises(PermissionDenied, match="organisation admin"):
        scorecard_update(by=world.admin, scorecard=world.scorecard, changes={"org_unit": other_unit})
    scorecard_update(by=world.admin, scorecard=world.scorecard, changes={"description": "Our 2026 plan"})
    scorecard_update(by=world.org_admin, scorecard=world.scorecard, changes={"org_unit": other_unit})


def test_moving_a_scorecard_would_not_strand_aligned_objectives(world):
    sales_customer = world.child_scorecard.perspectives.get(kind="customer")
    objective_create(by=world.org_admin, perspective=sales_customer, name="Win schools", parent=world.objective)
    with pytest.raises(ValidationError, match="1 objectives are aligned"):
        scorecard_update(by=world.org_admin, scorecard=world.child_scorecard, changes={"parent": None})


def test_top_level_units_have_unique_names(world):
    with pytest.raises(ValidationError, match="top-level unit with that name"):
        org_unit_create(
            by=world.org_admin, organisation=world.organisation, name="Acme Learning", kind=OrgUnit.Kind.COMPANY
        )


def test_an_organisation_sets_its_own_status_scheme(world):
    from fourfold.strategy.services import StatusLevelInput, status_scheme_set

    levels = [
        StatusLevelInput("exceeds", "Exceeds", "#0a5c2f", Decimal("8.5")),
        StatusLevelInput("meets", "Meets", "#1a7f37", Decimal("6.67")),
        StatusLevelInput("below", "Below", "#cf222e"),
        StatusLevelInput("missing", "Not reported", "#8c959f", is_no_data=True),
    ]
    scheme = status_scheme_set(by=world.org_admin, organisation=world.organisation, levels=levels)
    assert [status.key for status in scheme.levels] == ["exceeds", "meets", "below"]
    assert scheme.status_for(9.0).name == "Exceeds"
    assert scheme.status_for(None).name == "Not reported"
    world.organisation.refresh_from_db()
    assert world.organisation.status_scheme().status_for(7.0).key == "meets"


def test_a_status_scheme_out_of_order_is_refused_and_nothing_changes(world):
    from fourfold.strategy.services import StatusLevelInput, status_scheme_set

    levels = [
        StatusLevelInput("meets", "Meets", "#1a7f37", Decimal(5)),
        StatusLevelInput("exceeds", "Exceeds", "#0a5c2f", Decimal(8)),
        StatusLevelInput("below", "Below", "#cf222e"),
    ]
    with pytest.raises(ValidationError, match="min_score must descend"):
        status_scheme_set(by=world.org_admin, organisation=world.organisation, levels=levels)
    assert not world.organisation.status_levels.exists()
    with pytest.raises(PermissionDenied):
        status_scheme_set(by=world.admin, organisation=world.organisation, levels=[])


def test_objectives_keep_the_places_they_were_dragged_to_until_the_layout_is_reset(world):
    from fourfold.strategy.models import Objective
    from fourfold.strategy.services import objectives_layout_reset, objectives_place_on_map

    objectives_place_on_map(by=world.editor, scorecard=world.scorecard, positions={world.objective.pk: (0.25, 0.5)})
    assert Objective.objects.values_list("map_x", "map_y").get(pk=world.objective.pk) == (0.25, 0.5)
    objectives_layout_reset(by=world.editor, scorecard=world.scorecard)
    assert Objective.objects.values_list("map_x", "map_y").get(pk=world.objective.pk) == (None, None)


@pytest.mark.parametrize(
    ("positions", "message"),
    [({0: (0.1, 0.1)}, "are not on this scorecard"), (None, "between 0 and 1 on both axes")],
)
def test_places_off_the_map_or_of_other_scorecards_are_refused(world, positions, message):
    from fourfold.strategy.services import objectives_place_on_map

    positions = positions or {world.objective.pk: (1.5, 0.2)}
    with pytest.raises(ValidationError, match=message):
        objectives_place_on_map(by=world.editor, scorecard=world.scorecard, positions=positions)


def test_only_editors_move_objectives_on_the_map(world):
    from fourfold.strategy.services import objectives_place_on_map

    with pytest.raises(PermissionDenied):
        objectives_place_on_map(by=world.viewer, scorecard=world.scorecard, positions={world.objective.pk: (0, 0)})


def test_organisation_admins_ask_for_notes_on_off_target_values(world):
    from fourfold.strategy.services import organisation_update

    organisation_update(by=world.org_admin, organisation=world.organisation, changes={"note_required_off_target": True})
    world.organisation.refresh_from_db()
    assert world.organisation.note_required_off_target is True
