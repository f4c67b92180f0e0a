from django.contrib import admin
from django.http import HttpRequest

from fourfold.audit.models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin[AuditEntry]):
    """Read-only: history is evidence, so nobody edits or deletes it from the admin."""

    list_display = ("timestamp", "action", "content_type", "object_repr", "actor_name", "source", "reason")
    list_filter = ("action", "source", "content_type")
    search_fields = ("object_repr", "actor_name", "reason", "correlation_id", "object_id")
    date_hierarchy = "timestamp"
    readonly_fields = [field.name for field in AuditEntry._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: AuditEntry | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: AuditEntry | None = None) -> bool:
        return False
