"""Logging filter that stamps every record with the current request id."""

import logging

from backend.common.request_id import current_request_id


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to each record (`-` outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id.get()
        return True
