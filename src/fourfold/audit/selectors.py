"""Reads of the audit trail."""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db.models import Model, QuerySet

from fourfold.audit.models import AuditEntry


def history_for_object(instance: Model) -> QuerySet[AuditEntry]:
    """Every change to one object, newest first (still there after the object is deleted)."""
    return history_for_object_id(type(instance), instance.pk)


def history_for_object_id(model: type[Model], object_id: object) -> QuerySet[AuditEntry]:
    """Every change to the object of ``model`` with that id, including a deleted one."""
    content_type = ContentType.objects.get_for_model(model, for_concrete_model=False)
    return AuditEntry.objects.filter(content_type=content_type, object_id=str(object_id)).select_related("content_type")


def history_for_scorecard(scorecard_id: int) -> QuerySet[AuditEntry]:
    """Every change on a scorecard and the objects on it, including deleted ones, newest first."""
    return AuditEntry.objects.filter(scorecard_id=scorecard_id).select_related("content_type")
