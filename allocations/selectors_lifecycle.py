"""Reads for the applicant's side of reviews and allocations, scoped to the user's organisations.

An object of another organisation does not exist for the user (404), whatever staff role they hold."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from django.http import Http404

from accounts.models import Membership
from compliance.models import EthicsCondition

from .models import (
    Allocation,
    AllocationQuota,
    Application,
    ApplicationStatus,
    AssignmentStatus,
    ChangeRequest,
    Review,
    TeamMember,
    UsageSnapshot,
)

# While the reviews are still being written the applicant sees none of them.
REVIEWS_HIDDEN = {ApplicationStatus.SUBMITTED, ApplicationStatus.IN_REVIEW}


def _org_ids(user):
    return Membership.objects.filter(user=user).values("organisation_id")


def application_of_member(user, reference: str) -> Application:
    app = (Application.objects.filter(organisation_id__in=_org_ids(user), reference=reference)
           .select_related("organisation", "access_mode").first())
    if app is None:
        raise Http404
    return app


def feedback_for_applicant(application: Application) -> list[dict]:
    """The reviewers' comments for the applicant, without names: "Technical review 1", ..."""
    if application.status in REVIEWS_HIDDEN:
        return []
    reviews = (Review.objects.filter(assignment__application=application,
                                     assignment__status=AssignmentStatus.SUBMITTED)
               .select_related("assignment").order_by("assignment__kind", "submitted_at"))
    rows, counters = [], {}
    for review in reviews:
        kind = review.assignment.get_kind_display()
        counters[kind] = counters.get(kind, 0) + 1
        rows.append({"label": f"{kind} {counters[kind]}", "comments": review.comments_for_applicant})
    return rows


def allocations_of_member(user) -> QuerySet[Allocation]:
    return (Allocation.objects.filter(organisation_id__in=_org_ids(user))
            .select_related("organisation", "application")
            .prefetch_related(Prefetch("quotas", queryset=AllocationQuota.objects.select_related("site")))
            .order_by("-start_date", "-pk"))


def allocation_of_member(user, reference: str) -> Allocation:
    alloc = (Allocation.objects.filter(organisation_id__in=_org_ids(user), reference=reference)
             .select_related("organisation", "application__access_mode")
             .prefetch_related(Prefetch("quotas", queryset=AllocationQuota.objects.select_related("site")),
                               Prefetch("change_requests", queryset=ChangeRequest.objects.order_by("-requested_at")))
             .first())
    if alloc is None:
        raise Http404
    return alloc


def allocation_team(allocation: Allocation) -> list[TeamMember]:
    return list(TeamMember.objects.filter(application_id=allocation.application_id).order_by("full_name"))


def allocation_conditions(allocation: Allocation) -> list[EthicsCondition]:
    return list(EthicsCondition.objects.filter(review__application_id=allocation.application_id)
                .select_related("acknowledged_by").order_by("pk"))


def condition_of_allocation(allocation: Allocation, pk: int) -> EthicsCondition:
    cond = (EthicsCondition.objects.filter(review__application_id=allocation.application_id, pk=pk)
            .select_related("review__application").first())
    if cond is None:
        raise Http404
    return cond


def latest_usage(allocation: Allocation) -> dict[int, UsageSnapshot]:
    """The newest usage snapshot per site, if provisioning has reported any."""
    latest: dict[int, UsageSnapshot] = {}
    for snap in UsageSnapshot.objects.filter(allocation=allocation).order_by("site_id", "-taken_at"):
        latest.setdefault(snap.site_id, snap)
    return latest
