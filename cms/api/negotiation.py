"""Content negotiation for the API's file downloads (CSV exports, PDFs)."""

from rest_framework.negotiation import BaseContentNegotiation


class IgnoreClientContentNegotiation(BaseContentNegotiation):
    """A CSV or PDF download is not a DRF renderer: the view answers the file itself, and its
    errors are JSON whatever the ``Accept`` header says (no 406 for ``Accept: text/csv``)."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type
