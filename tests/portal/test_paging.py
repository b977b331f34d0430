"""portal.paging.page_of: a first page that holds the whole list is counted from its rows (no COUNT query);
a longer list is counted; other pages as Django's paginator gives them. A narrow list is read with its
count in one query."""

import pytest
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from accounts.models import Organisation
from portal.paging import PAGE_SIZE, page_of
from tests import factories as fr

pytestmark = pytest.mark.django_db


def _page(qs, page=None, narrow=False):
    request = RequestFactory().get("/", {"page": page} if page else {})
    with CaptureQueriesContext(connection) as ctx:
        got = page_of(request, qs, narrow=narrow)
        rows, count, pages = list(got), got.paginator.count, got.paginator.num_pages
    return got, rows, count, pages, [q["sql"] for q in ctx.captured_queries]


def test_a_list_that_fits_on_the_first_page_is_not_counted():
    for _ in range(3):
        fr.OrganisationFactory()
    page, rows, count, pages, sql = _page(Organisation.objects.order_by("pk"))
    assert (len(rows), count, pages, page.has_next()) == (3, 3, 1, False)
    assert len(sql) == 1 and "COUNT(*)" not in sql[0].upper()


def test_an_empty_list_is_one_empty_page():
    page, rows, count, pages, sql = _page(Organisation.objects.none())
    assert (rows, count, pages, page.number) == ([], 0, 1, 1)


def test_a_longer_list_is_counted_and_its_pages_follow():
    for _ in range(PAGE_SIZE + 3):
        fr.OrganisationFactory()
    qs = Organisation.objects.order_by("pk")
    page, rows, count, pages, sql = _page(qs)
    assert (len(rows), count, pages, page.has_next()) == (PAGE_SIZE, PAGE_SIZE + 3, 2, True)
    assert rows == list(qs[:PAGE_SIZE])
    assert len(sql) == 2 and "COUNT(*)" in sql[1].upper()
    page, rows, count, pages, _sql = _page(qs, "2")
    assert rows == list(qs[PAGE_SIZE:]) and page.number == 2
    for wrong in ("0", "x", "99"):  # as Django's get_page: the first or the last page
        page, rows, *_ = _page(qs, wrong)
        assert rows


def test_a_narrow_list_is_read_with_its_count_in_one_query():
    for _ in range(2 * PAGE_SIZE + 3):
        fr.OrganisationFactory()
    qs = Organisation.objects.order_by("pk")
    for number, expected in [(None, qs[:PAGE_SIZE]), ("2", qs[PAGE_SIZE:2 * PAGE_SIZE]), ("3", qs[2 * PAGE_SIZE:]),
                             ("x", qs[:PAGE_SIZE]), ("-1", qs[:PAGE_SIZE])]:
        page, rows, count, pages, sql = _page(qs, number, narrow=True)
        assert rows == list(expected), number
        assert (count, pages) == (2 * PAGE_SIZE + 3, 3), number
        assert len(sql) == 1 and "COUNT(*) OVER ()" in sql[0].upper(), sql
    assert page.has_next() and not page.has_previous()
    page, rows, count, pages, sql = _page(qs, "99", narrow=True)  # past the end: the last page, counted
    assert (page.number, rows, count) == (3, list(qs[2 * PAGE_SIZE:]), 2 * PAGE_SIZE + 3)
    page, rows, count, pages, sql = _page(Organisation.objects.none(), narrow=True)
    assert (rows, count, pages, page.number) == ([], 0, 1, 1)
    page, rows, count, pages, sql = _page(qs.filter(legal_name="nobody"), "2", narrow=True)
    assert (rows, count, page.number) == ([], 0, 1)
