from rest_framework.pagination import PageNumberPagination


class Pagination(PageNumberPagination):
    """?page=N&page_size=M (at most 100). An out-of-range page is a 404 in the error shape."""

    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 100
