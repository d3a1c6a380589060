from rest_framework import exceptions, pagination
from rest_framework.pagination import Cursor

from cms.converters import parse_id
from cms.links import absolute_url


class CursorPagination(pagination.CursorPagination):
    """Default pagination: cursor based (stable under inserts), ``page_size`` up to 1000.

    A cursor that does not decode, or whose position is not an id (DRF would hand any text to
    the query: a 500), answers 404 "Invalid cursor" as DRF does for undecodable ones."""

    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000
    ordering = ("id",)

    def paginate_queryset(self, queryset, request, view=None):
        page = super().paginate_queryset(queryset, request, view)
        self.base_url = absolute_url(request.get_full_path())  # the public address, not the Host header
        return page

    def decode_cursor(self, request):
        cursor = super().decode_cursor(request)
        if cursor is None or cursor.position is None or self.ordering not in (("id",), ("-id",)):
            return cursor
        position = parse_id(cursor.position)
        if position is None:
            raise exceptions.NotFound(self.invalid_cursor_message)
        return Cursor(offset=cursor.offset, reverse=cursor.reverse, position=str(position))
