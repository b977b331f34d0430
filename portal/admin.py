"""The Django admin's two kinds of model admin: read-only, or audited.

Every model registered in the admin is one or the other (tests/portal/test_admin_audit.py walks
`admin.site._registry`): records that services write (workflow rows, decisions, reviews, allocations,
provisioning, the audit trail, the outbox) are only looked at here, so that each change keeps its checks
and its audit event; reference data and people are edited here and every change writes the same kind of
audit event a service writes, with the before and after of each changed field."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import models, transaction

from .audit import AuditAction, audit_record
from .models import AuditEvent, OutgoingEmail

# Stands for a value the audit trail must not hold (an address, a name, a secret): the chain is never
# erased, so it records that the field changed, not what it held.
REDACTED = "(not recorded)"


class ReadOnlyAdminMixin:
    """Viewable, never added, changed or deleted by hand."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_actions(self, request):
        # An action is a change too (allauth's "mark as verified", say).
        return {}


class ReadOnlyAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Records only services write (workflow rows, reports, the audit trail): viewable, never added,
    changed or deleted by hand, so that each change keeps its checks and its audit event."""


class ReadOnlyInline(ReadOnlyAdminMixin, admin.TabularInline):
    extra = 0
    can_delete = False

    def get_readonly_fields(self, request, obj=None):
        return self.fields or []


def _value(obj: models.Model, field) -> Any:
    if field.many_to_many:
        return sorted(getattr(obj, field.name).values_list("pk", flat=True)) if obj.pk else []
    return field.value_from_object(obj)


class AuditedAdmin(admin.ModelAdmin):
    """An admin whose every addition, change and deletion writes an audit event in the same transaction:
    `admin.added`, `admin.changed` or `admin.deleted`, with {field: [before, after]} of each field that
    changed (many-to-many fields as sorted ids). Values of e-mail and IP address fields, passwords and
    the fields named in `audit_redacted_fields` are recorded as REDACTED."""

    audit_redacted_fields: tuple[str, ...] = ()

    def _audited_fields(self) -> list:
        meta = self.model._meta
        return [f for f in [*meta.concrete_fields, *meta.many_to_many] if not f.primary_key]

    def _redacted(self, field) -> bool:
        return (field.name in self.audit_redacted_fields or field.name == "password"
                or isinstance(field, models.EmailField | models.GenericIPAddressField))

    def audit_snapshot(self, obj: models.Model) -> dict[str, Any]:
        return {f.name: _value(obj, f) for f in self._audited_fields()}

    def _diff(self, before: dict[str, Any], after: dict[str, Any]) -> dict[str, list]:
        diff = {}
        for field in self._audited_fields():
            old, new = before.get(field.name), after.get(field.name)
            if old != new:
                diff[field.name] = [REDACTED, REDACTED] if self._redacted(field) else [old, new]
        return diff

    def _record(self, request, action: AuditAction, obj: models.Model, before: dict, after: dict) -> None:
        changes = self._diff(before, after)
        if changes or action != AuditAction.ADMIN_CHANGED:
            audit_record(actor=request.user, action=AuditAction(action), target=obj, changes=changes)

    def save_model(self, request, obj, form, change):
        # The row as stored, before the form's values are saved (the admin runs in one transaction).
        stored = self.model._default_manager.filter(pk=obj.pk).first() if change else None
        obj._audit_before = self.audit_snapshot(stored) if stored is not None else {}
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        # Many-to-many fields are saved here, after save_model: the event is written once both are done.
        super().save_related(request, form, formsets, change)
        obj = form.instance
        self._record(request, AuditAction.ADMIN_CHANGED if change else AuditAction.ADMIN_ADDED, obj,
                     getattr(obj, "_audit_before", {}), self.audit_snapshot(obj))

    def delete_model(self, request, obj):
        with transaction.atomic():
            self._record(request, AuditAction.ADMIN_DELETED, obj, self.audit_snapshot(obj), {})
            super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for obj in queryset:
                self._record(request, AuditAction.ADMIN_DELETED, obj, self.audit_snapshot(obj), {})
            super().delete_queryset(request, queryset)


@admin.register(OutgoingEmail)
class OutgoingEmailAdmin(ReadOnlyAdmin):
    """Read-only: operators see what was sent, what waits, and the last error of each message."""

    list_display = ["subject", "recipients", "created_at", "sent_at", "attempts", "last_error"]
    list_filter = [("sent_at", admin.EmptyFieldListFilter)]
    search_fields = ["subject", "recipients"]
    date_hierarchy = "created_at"
    ordering = ["-created_at"]


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    """Read-only: the audit trail is append-only, even for administrators."""

    list_display = ["seq", "created_at", "action", "object_type", "object_id", "actor_id"]
    list_filter = ["action", "object_type"]
    search_fields = ["object_id", "action", "hash"]
    ordering = ["-seq"]
    show_full_result_count = False
