from __future__ import annotations

import django_filters

from allocations.review.models import AssignmentStatus, ReviewAssignment, ReviewKind


class AssignmentFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=AssignmentStatus.choices)
    kind = django_filters.ChoiceFilter(choices=ReviewKind.choices)

    class Meta:
        model = ReviewAssignment
        fields = ["status", "kind"]
