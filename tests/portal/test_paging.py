"""portal.paging.page_of: a first page that holds the whole list is counted from its rows (no COUNT query);
a longer list is counted; other pages as Django's paginator gives them."""

import pytest
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from accounts.models import Organisation
from portal.paging import PAGE_SIZE, page_of
from tests import factories as fr

pytestmark = pytest.mark.django_db


def _page(qs, page=None):
    request = RequestFactory().get("/", {"page": page} if page else {})
    with CaptureQueriesContext(connection) as ctx:
        got = page_of(request, qs)
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
