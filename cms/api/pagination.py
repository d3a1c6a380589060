from rest_framework import pagination


class CursorPagination(pagination.CursorPagination):
    """Default pagination: cursor based (stable under inserts), ``page_size`` up to 1000."""

    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000
    ordering = ("id",)
