from django.contrib import admin

from portal.admin import ReadOnlyAdmin

from .models import Report


@admin.register(Report)
class ReportAdmin(ReadOnlyAdmin):
    """Read-only: reports are requested and generated through the services, which audit every step."""

    list_display = ["pk", "kind", "audience", "application", "status", "progress", "requested_by", "created_at",
                    "sha256"]
    list_filter = ["kind", "audience", "status", "language"]
    search_fields = ["sha256", "application__reference"]
    list_select_related = ["application", "requested_by"]
