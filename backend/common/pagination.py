"""Pagination shared by every list endpoint, with a page-size cap."""

from django.conf import settings
from rest_framework import pagination


class PageNumberPagination(pagination.PageNumberPagination):
    """`?page=N&page_size=M`, M capped by the MAX_PAGE_SIZE setting."""

    page_size_query_param = "page_size"

    # DRF declares an attribute; a property keeps it following the setting (overrides in tests).
    @property
    def max_page_size(self) -> int:  # type: ignore[override]
        return int(settings.MAX_PAGE_SIZE)


class CursorPagination(pagination.CursorPagination):
    """Stable pagination for append-heavy tables (newest first)."""

    ordering = "-created_at"
    page_size_query_param = "page_size"

    @property
    def max_page_size(self) -> int:  # type: ignore[override]  # as above
        return int(settings.MAX_PAGE_SIZE)
