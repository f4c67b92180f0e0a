"""Signal handlers that write the audit trail for every :class:`ChangeLoggedModel`.

Signals rather than explicit calls in services, because cascaded deletes (removing a scorecard removes its
KPIs and their values) never pass through a service or ``Model.delete()``; Django's collector sends the
delete signals for each of them, so the history is complete whichever way an object goes.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Model
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete, pre_save

from fourfold.audit.models import AuditEntry, ChangeLoggedModel
from fourfold.audit.services import normalised_snapshot, record_change

_BEFORE_ATTRIBUTE = "_audit_before"


def _remember_state_before_save(sender: type[Model], instance: Model, raw: bool, **kwargs: Any) -> None:
    if raw or not isinstance(instance, ChangeLoggedModel) or instance._state.adding:
        return
    stored = type(instance)._base_manager.filter(pk=instance.pk).first()
    setattr(instance, _BEFORE_ATTRIBUTE, normalised_snapshot(stored) if stored is not None else None)


def _record_save(sender: type[Model], instance: Model, created: bool, raw: bool, **kwargs: Any) -> None:
    if raw or not isinstance(instance, ChangeLoggedModel):
        return
    after = normalised_snapshot(instance)
    if created:
        record_change(instance, AuditEntry.Action.CREATE, None, after)
        return
    before = getattr(instance, _BEFORE_ATTRIBUTE, None)
    if before != after:
        record_change(instance, AuditEntry.Action.UPDATE, before, after)


def _remember_state_before_delete(sender: type[Model], instance: Model, **kwargs: Any) -> None:
    if isinstance(instance, ChangeLoggedModel):
        # Taken before the row goes, while related objects needed for the scope still exist.
        setattr(instance, _BEFORE_ATTRIBUTE, (normalised_snapshot(instance), instance.audit_scope()))


def _record_delete(sender: type[Model], instance: Model, **kwargs: Any) -> None:
    if not isinstance(instance, ChangeLoggedModel):
        return
    before, scope = getattr(instance, _BEFORE_ATTRIBUTE)
    record_change(instance, AuditEntry.Action.DELETE, before, None, scope)


def _record_many_to_many(
    sender: type[Model], instance: Model, action: str, reverse: bool, model: type[Model], **kwargs: Any
) -> None:
    """Record membership changes (a KPI's updaters, an initiative's objectives) on the owning object."""
    if reverse or not isinstance(instance, ChangeLoggedModel):
        return
    field_name = next(field.name for field in instance._meta.many_to_many if field.remote_field.through is sender)
    # Names with ids, so the history reads "Grace Mensah (#5)" and still tells two namesakes apart.
    current = [f"{member} (#{member.pk})" for member in getattr(instance, field_name).order_by("pk")]
    if action.startswith("pre_"):
        setattr(instance, f"{_BEFORE_ATTRIBUTE}_{field_name}", current)
        return
    if action.startswith("post_"):
        before = getattr(instance, f"{_BEFORE_ATTRIBUTE}_{field_name}", [])
        if before != current:
            record_change(instance, AuditEntry.Action.UPDATE, {field_name: before}, {field_name: current})


def connect() -> None:
    """Attach the handlers once, for all models (they ignore anything that is not change-logged)."""
    pre_save.connect(_remember_state_before_save, dispatch_uid="fourfold_audit_pre_save")
    post_save.connect(_record_save, dispatch_uid="fourfold_audit_post_save")
    pre_delete.connect(_remember_state_before_delete, dispatch_uid="fourfold_audit_pre_delete")
    post_delete.connect(_record_delete, dispatch_uid="fourfold_audit_post_delete")
    m2m_changed.connect(_record_many_to_many, dispatch_uid="fourfold_audit_m2m")
