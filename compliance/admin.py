from django.contrib import admin

from .models import Report


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
