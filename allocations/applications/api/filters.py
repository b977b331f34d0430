from __future__ import annotations

import django_filters
from django.db.models import Q

from allocations.applications.models import Application, ApplicationStatus, RequestedResource


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
