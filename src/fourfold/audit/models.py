"""The audit trail and the base class that puts every scorecard object on it."""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils.translation import gettext_lazy as _

from fourfold.audit.context import ChangeSource


class ChangeLoggedModel(models.Model):
    """Base for every object of the strategy model: its creates, updates and deletes are audited.

    The signal handlers in :mod:`fourfold.audit.signals` write one :class:`AuditEntry` per change, with the
    whole before and after state, so history survives the object's deletion. Subclasses say which scorecard
    and organisation they belong to (:meth:`audit_scope`) so that history can be listed and permission-checked
    per scorecard even after the object is gone.
    """

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # Fields whose changes are noise in a history (timestamps the entry itself already records).
    audit_excluded_fields: ClassVar[frozenset[str]] = frozenset({"created_at", "updated_at"})

    class Meta:
        abstract = True

    def audit_scope(self) -> tuple[int | None, int | None]:
        """Return ``(organisation_id, scorecard_id)`` this object belongs to, for history listings."""
        raise NotImplementedError(f"{type(self).__name__} must say which scorecard it belongs to")

    def audit_snapshot(self) -> dict[str, Any]:
        """Serialise the concrete fields (foreign keys by id) as they are now, for before/after records."""
        return {
            field.attname: field.value_from_object(self)
            for field in self._meta.concrete_fields
            if field.name not in self.audit_excluded_fields
        }


class AuditEntry(models.Model):
    """One recorded change: who, when, from where, why, and the object's state before and after.

    Deliberately not linked to the changed object by a foreign key: the entry outlives the object. The
    scorecard and organisation ids are stored as plain numbers for the same reason.
    """

    class Action(models.TextChoices):
        CREATE = "create", _("Created")
        UPDATE = "update", _("Updated")
        DELETE = "delete", _("Deleted")

    timestamp = models.DateTimeField(auto_now_add=True, db_index=True)
    action = models.CharField(max_length=10, choices=Action.choices)
    source = models.CharField(max_length=10, choices=ChangeSource.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(max_length=150, blank=True, help_text=_("Kept when the user is deleted."))
    correlation_id = models.CharField(max_length=64, db_index=True)
    reason = models.TextField(blank=True)
    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    object_id = models.CharField(max_length=64)
    object_repr = models.CharField(max_length=200)
    organisation_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    scorecard_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    before = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)
    after = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)

    class Meta:
        ordering = ("-timestamp", "-id")
        verbose_name_plural = "audit entries"
        indexes = [
            models.Index(fields=["content_type", "object_id"], name="audit_object_idx"),
            # The newest change of a scorecard, or of an organisation's own settings, decides cached scores.
            models.Index(fields=["scorecard_id", "id"], name="audit_scorecard_newest_idx"),
            models.Index(fields=["organisation_id", "scorecard_id", "id"], name="audit_organisation_newest_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.object_repr} by {self.actor_name or 'system'}"

    def changed_fields(self) -> list[tuple[str, Any, Any]]:
        """List ``(field, before, after)`` for the fields that differ, in a stable order."""
        before = self.before or {}
        after = self.after or {}
        names = sorted(set(before) | set(after))
        return [(name, before.get(name), after.get(name)) for name in names if before.get(name) != after.get(name)]
