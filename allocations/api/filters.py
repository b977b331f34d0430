from __future__ import annotations

import django_filters
from django.db.models import Q

from allocations.models import (
    Allocation,
    AllocationStatus,
    Application,
    ApplicationStatus,
    AssignmentStatus,
    ChangeKind,
    ChangeRequest,
    ChangeStatus,
    RequestedResource,
    ReviewAssignment,
    ReviewKind,
    SyncState,
)


class ApplicationFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=ApplicationStatus.choices)
    organisation = django_filters.NumberFilter(field_name="organisation_id", min_value=1, max_value=10**12)
    access_mode = django_filters.CharFilter(field_name="access_mode__code", max_length=30)
    site = django_filters.CharFilter(method="filter_site", max_length=30, label="Requests resources on this site")
    q = django_filters.CharFilter(method="filter_q", max_length=100, label="Reference or title contains")

    class Meta:
        model = Application
        fields = ["status", "organisation", "access_mode"]

    def filter_q(self, qs, name, value):
        return qs.filter(Q(reference__icontains=value) | Q(title__icontains=value))

    def filter_site(self, qs, name, value):
        return qs.filter(pk__in=RequestedResource.objects.filter(site__code=value).values("application_id"))


class AllocationFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=AllocationStatus.choices)
    sync_state = django_filters.ChoiceFilter(choices=SyncState.choices)
    q = django_filters.CharFilter(method="filter_q", max_length=100, label="Reference or organisation contains")

    class Meta:
        model = Allocation
        fields = ["status", "sync_state"]

    def filter_q(self, qs, name, value):
        return qs.filter(Q(reference__icontains=value) | Q(organisation__legal_name__icontains=value))


class ChangeRequestFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=ChangeStatus.choices)
    kind = django_filters.ChoiceFilter(choices=ChangeKind.choices)
    allocation = django_filters.CharFilter(field_name="allocation__reference", max_length=20)

    class Meta:
        model = ChangeRequest
        fields = ["status", "kind", "allocation"]


class AssignmentFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=AssignmentStatus.choices)
    kind = django_filters.ChoiceFilter(choices=ReviewKind.choices)

    class Meta:
        model = ReviewAssignment
        fields = ["status", "kind"]
