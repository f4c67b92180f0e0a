"""Writes to the strategy model. Each service checks permission, validates, and runs in one transaction."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from fourfold.accounts.models import OrganisationMembership, User
from fourfold.accounts.permissions import Action, require
from fourfold.engine.periods import FiscalYearNaming, Frequency
from fourfold.engine.scoring import ScoringConfigError
from fourfold.engine.status import StatusScheme
from fourfold.strategy.models import (
    Objective,
    ObjectiveLink,
    Organisation,
    OrgUnit,
    Perspective,
    Scorecard,
    StatusLevel,
)
from fourfold.validation import apply_changes, clean_and_save

# What a new scorecard starts with; users rename, reorder, add or remove them afterwards.
DEFAULT_PERSPECTIVES: tuple[tuple[str, Perspective.Kind], ...] = (
    ("Financial", Perspective.Kind.FINANCIAL),
    ("Customer", Perspective.Kind.CUSTOMER),
    ("Internal process", Perspective.Kind.INTERNAL),
    ("Learning & growth", Perspective.Kind.LEARNING),
)


@transaction.atomic
def organisation_create(
    *,
    by: User,
    name: str,
    slug: str,
    fiscal_year_start_month: int | None = None,
    fiscal_year_naming: FiscalYearNaming = FiscalYearNaming.START,
    default_currency: str = "USD",
) -> Organisation:
    """Create an organisation with its top unit; only superusers found organisations."""
    if not by.is_superuser:
        raise PermissionDenied(_("Only a superuser can create an organisation."))
    organisation = clean_and_save(
        Organisation(
            name=name,
            slug=slug,
            fiscal_year_start_month=fiscal_year_start_month or settings.FISCAL_YEAR_START_MONTH,
            fiscal_year_naming=fiscal_year_naming,
            default_currency=default_currency,
        )
    )
    clean_and_save(OrgUnit(organisation=organisation, name=name, kind=OrgUnit.Kind.COMPANY))
    return organisation


@transaction.atomic
def organisation_update(*, by: User, organisation: Organisation, changes: Mapping[str, Any]) -> Organisation:
    """Change an organisation's name, currency or calendar.

    The fiscal calendar gives quarter and year keys their dates, so it cannot change once quarterly or
    yearly values or targets exist: their stored dates would silently mean something else.
    """
    require(by, Action.MANAGE_ORGANISATION, organisation)
    calendar_fields = {"fiscal_year_start_month", "fiscal_year_naming"}
    if calendar_fields & set(changes) and organisation_has_fiscal_data(organisation):
        changed = any(getattr(organisation, name) != changes[name] for name in calendar_fields & set(changes))
        if changed:
            raise ValidationError(
                {
                    "fiscal_year_start_month": _(
                        "The fiscal calendar cannot change once quarterly or yearly KPIs have values or targets."
                    )
                }
            )
    apply_changes(organisation, changes, {"name", "default_currency", "note_required_off_target", *calendar_fields})
    return clean_and_save(organisation)


def organisation_has_fiscal_data(organisation: Organisation) -> bool:
    """True when quarterly or yearly KPI data exists, whose dates depend on the fiscal calendar."""
    from fourfold.measures.models import Actual, KpiTarget

    fiscal = [Frequency.QUARTERLY, Frequency.YEARLY]
    scope = {"kpi__scorecard__organisation": organisation, "kpi__frequency__in": fiscal}
    return Actual.objects.filter(**scope).exists() or KpiTarget.objects.filter(**scope).exists()


@transaction.atomic
def organisation_member_set(
    *, by: User, organisation: Organisation, user: User, is_admin: bool
) -> OrganisationMembership:
    """Add a person to the organisation, or change whether they administer it."""
    require(by, Action.MANAGE_ORGANISATION, organisation)
    membership = OrganisationMembership.objects.filter(organisation=organisation, user=user).first()
    if membership is None:
        return clean_and_save(OrganisationMembership(organisation=organisation, user=user, is_admin=is_admin))
    if membership.is_admin != is_admin:
        membership.is_admin = is_admin
        clean_and_save(membership)
    return membership


@dataclass(frozen=True)
class StatusLevelInput:
    """One status as an organisation admin enters it; ``min_score`` is empty for the last one and "no data"."""

    key: str
    name: str
    colour: str
    min_score: Decimal | None = None
    is_no_data: bool = False


@transaction.atomic
def status_scheme_set(*, by: User, organisation: Organisation, levels: Sequence[StatusLevelInput]) -> StatusScheme:
    """Replace the organisation's status scheme after the engine has checked it as a whole.

    Up to seven statuses best first with descending minimum scores, unique keys, valid colours, plus at most
    one "no data" status; an empty list restores the default scheme.
    """
    require(by, Action.MANAGE_ORGANISATION, organisation)
    rows = [
        StatusLevel(
            organisation=organisation,
            position=position,
            key=level.key,
            name=level.name,
            colour=level.colour,
            min_score=level.min_score,
            is_no_data=level.is_no_data,
        )
        for position, level in enumerate(levels)
    ]
    if sum(row.is_no_data for row in rows) > 1:
        raise ValidationError({"levels": _("Only one status can stand for 'no data'.")})
    try:
        scheme = organisation.status_scheme(rows)
    except ScoringConfigError as error:
        raise ValidationError({"levels": str(error)}) from error
    organisation.status_levels.all().delete()
    for row in rows:
        clean_and_save(row)
    return scheme


@transaction.atomic
def org_unit_create(
    *, by: User, organisation: Organisation, name: str, kind: OrgUnit.Kind, parent: OrgUnit | None = None
) -> OrgUnit:
    """Add a unit under ``parent`` (or at the top) of the organisation tree."""
    require(by, Action.MANAGE_ORGANISATION, organisation)
    return clean_and_save(OrgUnit(organisation=organisation, name=name, kind=kind, parent=parent))


@transaction.atomic
def org_unit_update(*, by: User, unit: OrgUnit, changes: Mapping[str, Any]) -> OrgUnit:
    """Rename or move a unit; moving it below one of its own sub-units is refused."""
    require(by, Action.MANAGE_ORGANISATION, unit.organisation)
    apply_changes(unit, changes, {"name", "kind", "parent"})
    return clean_and_save(unit)


@transaction.atomic
def scorecard_create(
    *,
    by: User,
    org_unit: OrgUnit,
    name: str,
    owner: User | None = None,
    parent: Scorecard | None = None,
    description: str = "",
    status: Scorecard.Status = Scorecard.Status.DRAFT,
    reporting_frequency: Frequency = Frequency.MONTHLY,
    perspectives: Sequence[tuple[str, Perspective.Kind]] = DEFAULT_PERSPECTIVES,
) -> Scorecard:
    """Create a scorecard for a unit with the four classic perspectives (or the ones given)."""
    require(by, Action.MANAGE_ORGANISATION, org_unit.organisation)
    scorecard = clean_and_save(
        Scorecard(
            organisation=org_unit.organisation,
            org_unit=org_unit,
            name=name,
            owner=owner,
            parent=parent,
            description=description,
            status=status,
            reporting_frequency=reporting_frequency,
        )
    )
    for position, (perspective_name, kind) in enumerate(perspectives):
        clean_and_save(Perspective(scorecard=scorecard, name=perspective_name, kind=kind, position=position))
    return scorecard


SCORECARD_FIELDS = {
    "grace_days",
    "overdue_as_no_data",
    "rollup_method",
    "name",
    "description",
    "owner",
    "parent",
    "status",
    "reporting_frequency",
    "due_days_after_period_end",
    "org_unit",
}


@transaction.atomic
def scorecard_update(*, by: User, scorecard: Scorecard, changes: Mapping[str, Any]) -> Scorecard:
    """Change a scorecard's settings.

    Moving it (another parent or unit) reshapes the organisation's cascade, so it needs an organisation
    admin; a move that would form a loop, or strand objectives aligned to the old parent's, is refused.
    """
    require(by, Action.MANAGE_SCORECARD, scorecard)
    moving = {"parent", "org_unit"} & set(changes)
    if moving:
        require(by, Action.MANAGE_ORGANISATION, scorecard.organisation)
    new_parent = changes.get("parent", scorecard.parent)
    if "parent" in changes and getattr(new_parent, "pk", None) != scorecard.parent_id:
        aligned = Objective.objects.filter(perspective__scorecard=scorecard, parent__isnull=False).count()
        if aligned:
            raise ValidationError(
                {
                    "parent": _(
                        "%(count)s objectives are aligned to objectives of the current parent scorecard; "
                        "remove those alignments before moving the scorecard."
                    )
                    % {"count": aligned}
                }
            )
    apply_changes(scorecard, changes, SCORECARD_FIELDS)
    return clean_and_save(scorecard)


@transaction.atomic
def scorecard_delete(*, by: User, scorecard: Scorecard) -> None:
    """Delete a scorecard with everything on it; the audit trail keeps every deleted object."""
    require(by, Action.MANAGE_SCORECARD, scorecard)
    scorecard.delete()


@transaction.atomic
def perspective_create(
    *,
    by: User,
    scorecard: Scorecard,
    name: str,
    kind: Perspective.Kind = Perspective.Kind.CUSTOM,
    weight: Decimal = Decimal(1),
    description: str = "",
) -> Perspective:
    """Add a perspective at the bottom of the scorecard (a nonprofit may add "Mission")."""
    require(by, Action.EDIT_STRUCTURE, scorecard)
    position = scorecard.perspectives.count()
    return clean_and_save(
        Perspective(
            scorecard=scorecard,
            name=name,
            kind=kind,
            weight=weight,
            description=description,
            position=position,
        )
    )


@transaction.atomic
def perspective_update(*, by: User, perspective: Perspective, changes: Mapping[str, Any]) -> Perspective:
    """Rename, re-weight or re-describe a perspective."""
    require(by, Action.EDIT_STRUCTURE, perspective.scorecard)
    apply_changes(perspective, changes, {"name", "kind", "weight", "description", "rollup_method"})
    return clean_and_save(perspective)


@transaction.atomic
def perspective_delete(*, by: User, perspective: Perspective) -> None:
    """Remove a perspective with its objectives and their KPIs."""
    require(by, Action.EDIT_STRUCTURE, perspective.scorecard)
    perspective.delete()


@transaction.atomic
def perspectives_reorder(*, by: User, scorecard: Scorecard, ordered_ids: Sequence[int]) -> list[Perspective]:
    """Put the perspectives in the given order (e.g. Customer on top for a nonprofit)."""
    require(by, Action.EDIT_STRUCTURE, scorecard)
    perspectives = {perspective.pk: perspective for perspective in scorecard.perspectives.all()}
    if sorted(ordered_ids) != sorted(perspectives):
        raise ValidationError({"ordered_ids": _("List every perspective of the scorecard exactly once.")})
    for position, perspective_id in enumerate(ordered_ids):
        perspective = perspectives[perspective_id]
        if perspective.position != position:
            perspective.position = position
            clean_and_save(perspective)
    return [perspectives[perspective_id] for perspective_id in ordered_ids]


@transaction.atomic
def objective_create(
    *,
    by: User,
    perspective: Perspective,
    name: str,
    code: str = "",
    description: str = "",
    owner: User | None = None,
    weight: Decimal = Decimal(1),
    parent: Objective | None = None,
) -> Objective:
    """Add an objective to a perspective, optionally aligned to an objective of the parent scorecard."""
    require(by, Action.EDIT_STRUCTURE, perspective.scorecard)
    position = perspective.objectives.count()
    return clean_and_save(
        Objective(
            perspective=perspective,
            name=name,
            code=code,
            description=description,
            owner=owner,
            weight=weight,
            parent=parent,
            position=position,
        )
    )


@transaction.atomic
def objective_update(*, by: User, objective: Objective, changes: Mapping[str, Any]) -> Objective:
    """Change an objective; moving it to a perspective of another scorecard is refused."""
    require(by, Action.EDIT_STRUCTURE, objective.scorecard)
    new_perspective = changes.get("perspective")
    if new_perspective is not None and new_perspective.scorecard_id != objective.perspective.scorecard_id:
        raise ValidationError({"perspective": _("An objective can only move to a perspective of the same scorecard.")})
    apply_changes(
        objective,
        changes,
        {"name", "code", "description", "owner", "weight", "parent", "perspective", "position", "rollup_method"},
    )
    return clean_and_save(objective)


@transaction.atomic
def objectives_place_on_map(*, by: User, scorecard: Scorecard, positions: Mapping[int, tuple[float, float]]) -> None:
    """Save where objectives sit on the strategy map (as dragged there), each as fractions of the map.

    ``positions`` maps objective ids of the scorecard to ``(x, y)``: x from the left of the map, y from the
    top of the objective's perspective band, both from 0 to 1. Objectives not named keep their place.
    """
    require(by, Action.EDIT_STRUCTURE, scorecard)
    objectives = {
        objective.pk: objective
        for objective in Objective.objects.filter(perspective__scorecard=scorecard, pk__in=list(positions))
    }
    unknown = sorted(set(positions) - set(objectives))
    if unknown:
        raise ValidationError(_("Objectives %(ids)s are not on this scorecard.") % {"ids": unknown})
    for pk, (x, y) in positions.items():
        if not (0 <= x <= 1 and 0 <= y <= 1):
            raise ValidationError(
                _("A place on the map is between 0 and 1 on both axes, not (%(x)s, %(y)s).") % {"x": x, "y": y}
            )
        objective = objectives[pk]
        if (objective.map_x, objective.map_y) != (x, y):
            objective.map_x, objective.map_y = x, y
            clean_and_save(objective)


@transaction.atomic
def objectives_layout_reset(*, by: User, scorecard: Scorecard) -> None:
    """Forget the dragged places: the map lays the objectives out automatically again."""
    require(by, Action.EDIT_STRUCTURE, scorecard)
    for objective in Objective.objects.filter(perspective__scorecard=scorecard).exclude(map_x=None, map_y=None):
        objective.map_x = objective.map_y = None
        clean_and_save(objective)


@transaction.atomic
def objective_delete(*, by: User, objective: Objective) -> None:
    """Remove an objective with its KPIs and links."""
    require(by, Action.EDIT_STRUCTURE, objective.scorecard)
    objective.delete()


@transaction.atomic
def objective_link_create(
    *,
    by: User,
    cause: Objective,
    effect: Objective,
    sign: ObjectiveLink.Sign = ObjectiveLink.Sign.REINFORCES,
    strength: ObjectiveLink.Strength = ObjectiveLink.Strength.MEDIUM,
    rationale: str = "",
) -> ObjectiveLink:
    """Draw a cause-and-effect arrow on the strategy map."""
    require(by, Action.EDIT_STRUCTURE, cause.scorecard)
    return clean_and_save(ObjectiveLink(cause=cause, effect=effect, sign=sign, strength=strength, rationale=rationale))


@transaction.atomic
def objective_link_delete(*, by: User, link: ObjectiveLink) -> None:
    """Remove a cause-and-effect arrow."""
    require(by, Action.EDIT_STRUCTURE, link.cause.scorecard)
    link.delete()
