"""Pagination of staff lists: one page size, and the filters kept in the page links."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.utils.functional import cached_property

from portal import audit

PAGE_SIZE = 25


def page_of(request, queryset, paginator_class=Paginator):
    return paginator_class(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


def querystring_without_page(request, params=None) -> str:
    """The current filters (``params``, else the request's) without the page number, for the pagination
    links."""
    params = (request.GET if params is None else params).copy()
    params.pop("page", None)
    return params.urlencode()


class AuditTrailPaginator(Paginator):
    """The unfiltered trail is counted from the ends of its `seq` index (a count of millions of rows
    would take seconds); a filtered list is counted."""

    @cached_property
    def count(self) -> int:
        if not self.object_list.query.where:
            return audit.event_count()
        return super().count
