"""Pagination of staff lists: one page size, and the filters kept in the page links."""

from __future__ import annotations

from django.core.paginator import Page, Paginator

PAGE_SIZE = 25


def page_of(request, queryset) -> Page:
    """The requested page (the first when the number is missing or wrong, the last when it is too high).

    The first page is read before anything is counted: a list that fits on it (most searches) is counted
    from its rows, without a ``COUNT(*)`` over the whole match; a longer list is counted as usual."""
    number = request.GET.get("page")
    if number in (None, "", "1"):
        rows = list(queryset[:PAGE_SIZE + 1])
        if len(rows) <= PAGE_SIZE:
            return Paginator(rows, PAGE_SIZE).page(1)
        paginator = Paginator(queryset, PAGE_SIZE)
        return Page(rows[:PAGE_SIZE], 1, paginator)
    return Paginator(queryset, PAGE_SIZE).get_page(number)


def querystring_without_page(request) -> str:
    """The current filters without the page number, for the pagination links."""
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()
