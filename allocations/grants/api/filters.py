from __future__ import annotations

import django_filters
from django.db.models import Q

from allocations.grants.models import Allocation, AllocationStatus, ChangeKind, ChangeRequest, ChangeStatus, SyncState


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
