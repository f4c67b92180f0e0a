"""Writes to initiatives and milestones."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from fourfold.accounts.models import User
from fourfold.accounts.permissions import Action, require
from fourfold.initiatives.models import Initiative, Milestone
from fourfold.measures.models import Kpi
from fourfold.strategy.models import Objective, Scorecard
from fourfold.validation import apply_changes, clean_and_save

INITIATIVE_FIELDS = (
    "name",
    "description",
    "owner",
    "start_date",
    "end_date",
    "budget_planned",
    "budget_spent",
    "currency_code",
    "status",
    "percent_complete",
)
"""What initiative_create and initiative_update set, in the order the initiative's form shows them."""
PROGRESS_FIELDS = {"status", "percent_complete", "budget_spent"}


def _check_same_scorecard(scorecard: Scorecard, objectives: Iterable[Objective], kpis: Iterable[Kpi]) -> None:
    if any(objective.perspective.scorecard_id != scorecard.pk for objective in objectives):
        raise ValidationError({"objectives": _("An initiative supports objectives of its own scorecard only.")})
    if any(kpi.scorecard_id != scorecard.pk for kpi in kpis):
        raise ValidationError({"kpis": _("An initiative supports KPIs of its own scorecard only.")})


@transaction.atomic
def initiative_create(
    *,
    by: User,
    scorecard: Scorecard,
    name: str,
    start_date: date,
    end_date: date,
    objectives: Iterable[Objective] = (),
    kpis: Iterable[Kpi] = (),
    **fields: Any,
) -> Initiative:
    """Start tracking a project that moves objectives; ``fields`` are owner, budget, status and so on."""
    require(by, Action.EDIT_STRUCTURE, scorecard)
    objectives, kpis = list(objectives), list(kpis)
    _check_same_scorecard(scorecard, objectives, kpis)
    initiative = Initiative(scorecard=scorecard, name=name, start_date=start_date, end_date=end_date)
    if "currency_code" not in fields:
        initiative.currency_code = scorecard.organisation.default_currency
    apply_changes(initiative, fields, INITIATIVE_FIELDS)
    clean_and_save(initiative)
    initiative.objectives.set(objectives)
    initiative.kpis.set(kpis)
    return initiative


@transaction.atomic
def initiative_update(
    *,
    by: User,
    initiative: Initiative,
    changes: Mapping[str, Any],
    objectives: Iterable[Objective] | None = None,
    kpis: Iterable[Kpi] | None = None,
) -> Initiative:
    """Change an initiative's plan. Owners who are updaters may change only its progress."""
    if set(changes) <= PROGRESS_FIELDS and objectives is None and kpis is None:
        require(by, Action.UPDATE_INITIATIVE_PROGRESS, initiative)
    else:
        require(by, Action.EDIT_STRUCTURE, initiative.scorecard)
    apply_changes(initiative, changes, INITIATIVE_FIELDS)
    clean_and_save(initiative)
    if objectives is not None or kpis is not None:
        new_objectives = list(objectives) if objectives is not None else list(initiative.objectives.all())
        new_kpis = list(kpis) if kpis is not None else list(initiative.kpis.all())
        _check_same_scorecard(initiative.scorecard, new_objectives, new_kpis)
        initiative.objectives.set(new_objectives)
        initiative.kpis.set(new_kpis)
    return initiative


@transaction.atomic
def initiative_delete(*, by: User, initiative: Initiative) -> None:
    """Remove an initiative and its milestones."""
    require(by, Action.EDIT_STRUCTURE, initiative.scorecard)
    initiative.delete()


@transaction.atomic
def milestone_create(*, by: User, initiative: Initiative, name: str, due_date: date) -> Milestone:
    """Add a dated step to an initiative."""
    require(by, Action.EDIT_STRUCTURE, initiative.scorecard)
    return clean_and_save(Milestone(initiative=initiative, name=name, due_date=due_date))


@transaction.atomic
def milestone_complete(*, by: User, milestone: Milestone, completed_on: date | None) -> Milestone:
    """Mark a milestone done on a date (or reopen it with ``None``); owners report this as progress."""
    require(by, Action.UPDATE_INITIATIVE_PROGRESS, milestone.initiative)
    milestone.completed_on = completed_on
    return clean_and_save(milestone)
