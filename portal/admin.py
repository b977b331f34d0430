from django.contrib import admin

from .models import AuditEvent, OutgoingEmail


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records only services write (workflow rows, reports, the audit trail): viewable, never added,
    changed or deleted by hand, so that each change keeps its checks and its audit event."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(OutgoingEmail)
class OutgoingEmailAdmin(admin.ModelAdmin):
    """Read-only: operators see what was sent, what waits, and the last error of each message."""

    list_display = ["subject", "recipients", "created_at", "sent_at", "attempts", "last_error"]
    list_filter = [("sent_at", admin.EmptyFieldListFilter)]
    search_fields = ["subject", "recipients"]
    date_hierarchy = "created_at"
    ordering = ["-created_at"]
    readonly_fields = ["subject", "body", "recipients", "created_at", "sent_at", "attempts", "claimed_until",
                       "last_error"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    """Read-only: the audit trail is append-only, even for administrators."""

    list_display = ["seq", "created_at", "action", "object_type", "object_id", "actor_id"]
    list_filter = ["action", "object_type"]
    search_fields = ["object_id", "action", "hash"]
    ordering = ["-seq"]
    show_full_result_count = False
