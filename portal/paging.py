"""Pagination of staff lists: one page size, and the filters kept in the page links."""

from __future__ import annotations

from django.core.paginator import Paginator

PAGE_SIZE = 25


def page_of(request, queryset):
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


def querystring_without_page(request) -> str:
    """The current filters without the page number, for the pagination links."""
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()
