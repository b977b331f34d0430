"""The one path through which an application changes status."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Membership
from portal.audit import AuditAction, audit_record
from portal.emails import send_templated_email_on_commit

from .. import permissions
from ..models import Application, ApplicationStatus
from ..workflow import allowed


class TransitionError(ValidationError):
    pass


def _actor_may(actor, role: str, application: Application) -> bool:
    if role == "system":
        return actor is None
    if role == "applicant":
        return permissions.is_applicant_member(actor, application)
    if role == "manager":
        return permissions.can_manage(actor)
    return False


def application_transition(
    *,
    actor,
    application: Application,
    to: str,
    changes: dict[str, Any] | None = None,
    before_save: Callable[[Application], None] | None = None,
    notify: bool = True,
) -> Application:
    """Lock the row, check the transition table and the actor, save, audit, notify on commit.

    Returns early (idempotent) when the application is already in the target status."""
    with transaction.atomic():
        app = Application.objects.select_for_update().get(pk=application.pk)
        if app.status == to:
            return app
        role = allowed(app.status, to)
        if role is None:
            raise TransitionError(
                _("An application that is %(current)s cannot become %(target)s.") % {
                    "current": app.get_status_display(), "target": ApplicationStatus(to).label})
        if not _actor_may(actor, role, app):
            raise PermissionDenied(_("You are not allowed to make this change."))
        old = app.status
        app.status = to
        fields = ["status", "updated_at"]
        if to in {ApplicationStatus.APPROVED, ApplicationStatus.REJECTED}:
            app.decided_at = timezone.now()
            fields.append("decided_at")
        if before_save is not None:
            before_save(app)
            fields = None  # the hook may set any field
        app.save(update_fields=fields)
        audit_record(actor=actor, action=AuditAction.APPLICATION_STATUS_CHANGED, target=app,
                     changes={"status": [old, to], **(changes or {})})
        if notify:
            _notify_status(app, old)
    return app


def _notify_status(app: Application, old: str) -> None:
    recipients = list(Membership.objects.filter(organisation_id=app.organisation_id)
                      .values_list("user__email", flat=True))
    send_templated_email_on_commit(
        to=recipients, template="allocations/email/status_changed",
        context={"reference": app.reference, "title": app.title, "status": app.get_status_display(),
                 "old_status": ApplicationStatus(old).label, "url": app.get_absolute_url()},
    )
