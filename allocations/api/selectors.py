"""Reads the API adds on top of the shared, permission-scoping selectors (allocations.selectors,
selectors_lifecycle, staff.selectors): the prefetches its lists need so that a page costs the same
number of queries whatever its length."""

from __future__ import annotations

from django.db.models import F, Prefetch, QuerySet, Window
from django.db.models.functions import RowNumber

from allocations.models import (
    Allocation,
    AssignmentStatus,
    ChangeRequest,
    ReviewAssignment,
    SyncAttempt,
    UsageSnapshot,
)


def _latest_usage_per_site() -> QuerySet[UsageSnapshot]:
    ranked = UsageSnapshot.objects.annotate(rank=Window(
        RowNumber(), partition_by=[F("allocation_id"), F("site_id")], order_by=[F("taken_at").desc(), F("pk").desc()]))
    return ranked.filter(rank=1).select_related("site").order_by("site__name")


def _last_attempt() -> QuerySet[SyncAttempt]:
    ranked = SyncAttempt.objects.annotate(rank=Window(
        RowNumber(), partition_by=[F("allocation_id")], order_by=[F("started_at").desc(), F("pk").desc()]))
    return ranked.filter(rank=1).select_related("site")


def with_provisioning(qs: QuerySet[Allocation]) -> QuerySet[Allocation]:
    """The last sync attempt and the newest usage per site: two queries for any page. The scoping
    selectors this wraps (allocations_of_member, allocation_overview) already prefetch the quotas."""
    return qs.prefetch_related(
        Prefetch("sync_attempts", queryset=_last_attempt(), to_attr="last_attempts"),
        Prefetch("usage_snapshots", queryset=_latest_usage_per_site(), to_attr="latest_usage"),
    ).select_related("organisation", "application")


def change_requests_of(allocation: Allocation) -> QuerySet[ChangeRequest]:
    return ChangeRequest.objects.filter(allocation=allocation).select_related("allocation")


def change_requests_for_manager() -> QuerySet[ChangeRequest]:
    return ChangeRequest.objects.select_related("allocation")


def assignments_for_manager(application) -> list[ReviewAssignment]:
    return list(application.assignments.exclude(status=AssignmentStatus.CANCELLED)
                .select_related("review").order_by("kind", "assigned_at"))
