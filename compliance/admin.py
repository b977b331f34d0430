from django.contrib import admin

from .models import AuditEvent, Report


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: the audit trail is append-only, even for administrators."""

    list_display = ["seq", "created_at", "action", "object_type", "object_id", "actor_id"]
    list_filter = ["action", "object_type"]
    search_fields = ["object_id", "action", "hash"]
    ordering = ["-seq"]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):
    """Read-only: reports are requested and generated through the services, which audit every step."""

    list_display = ["pk", "kind", "audience", "application", "status", "progress", "requested_by", "created_at",
                    "sha256"]
    list_filter = ["kind", "audience", "status", "language"]
    search_fields = ["sha256", "application__reference"]
    list_select_related = ["application", "requested_by"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
