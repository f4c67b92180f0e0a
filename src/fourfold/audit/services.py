"""Writing the audit trail: one entry per change, in the active audit context."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.contrib.contenttypes.models import ContentType

from fourfold.audit.context import current_audit_context
from fourfold.audit.models import AuditEntry, ChangeLoggedModel


def normalise_for_audit(value: Any) -> Any:
    """Bring a field value to the form stored in JSON, so that 1.5 and 1.500000 compare equal."""
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value.is_finite() else str(value)
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [normalise_for_audit(item) for item in value]
    return value


def normalised_snapshot(instance: ChangeLoggedModel) -> dict[str, Any]:
    """The instance's audit snapshot with every value normalised."""
    return {name: normalise_for_audit(value) for name, value in instance.audit_snapshot().items()}


def record_change(
    instance: ChangeLoggedModel,
    action: AuditEntry.Action,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    scope: tuple[int | None, int | None] | None = None,
) -> AuditEntry:
    """Write one audit entry in the active audit context (fails outside one).

    ``scope`` is passed for deletes, where it was taken while the object's parents still existed.
    """
    context = current_audit_context()
    organisation_id, scorecard_id = scope if scope is not None else instance.audit_scope()
    return AuditEntry.objects.create(
        action=action,
        source=context.source,
        actor=context.actor,
        actor_name=context.actor.get_username() if context.actor else "",
        correlation_id=context.correlation_id,
        reason=context.reason,
        content_type=ContentType.objects.get_for_model(type(instance), for_concrete_model=False),
        object_id=str(instance.pk),
        object_repr=str(instance)[:200],
        organisation_id=organisation_id,
        scorecard_id=scorecard_id,
        before=before,
        after=after,
    )
