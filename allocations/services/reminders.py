"""Deadline reminders: the access committee about decisions, reviewers about their late reviews."""

from __future__ import annotations

import datetime
from collections import defaultdict

from django.utils import timezone

from accounts.models import User
from accounts.roles import ROLE_GROUPS, Role
from portal.emails import send_templated_email_on_commit


def deadline_reminders_send(*, today: datetime.date | None = None) -> dict[str, int]:
    """Mail the allocation managers one digest, and each late reviewer a list of their late reviews.

    Returns how many messages were queued per audience (for the task result and the logs)."""
    from ..staff.selectors import applications_due, assignments_overdue

    today = today or timezone.localdate()
    applications = applications_due(today=today, within_working_days=1)
    late_reviews = assignments_overdue(today=today)
    sent = {"managers": 0, "reviewers": 0}
    if applications or late_reviews:
        managers = list(User.objects.filter(is_active=True, groups__name=ROLE_GROUPS[Role.ALLOCATION_MANAGER])
                        .values_list("email", flat=True).distinct())
        if managers:
            send_templated_email_on_commit(
                to=managers, template="allocations/email/deadline_reminder_manager",
                context={"today": today, "applications": applications, "assignments": late_reviews})
            sent["managers"] = 1
    by_reviewer = defaultdict(list)
    for late in late_reviews:
        by_reviewer[late.obj.reviewer].append(late)
    for reviewer, items in by_reviewer.items():
        if reviewer.is_active:
            send_templated_email_on_commit(
                to=[reviewer.email], template="allocations/email/deadline_reminder_reviewer",
                context={"today": today, "assignments": items})
            sent["reviewers"] += 1
    return sent
