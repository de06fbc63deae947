"""Log lines tuibill writes (the servers' own logs): NIRs masked, no local variables."""

from __future__ import annotations

import logging

from tuibill.domain.masking import mask_nir


class MaskingFilter(logging.Filter):
    """Masks NIRs in a record's message (its arguments merged first) and its exception text."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = mask_nir(record.getMessage())
        record.args = None
        if record.exc_info:
            record.exc_text = mask_nir(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


def masked_handler(handler: logging.Handler | None = None) -> logging.Handler:
    handler = handler or logging.StreamHandler()
    handler.addFilter(MaskingFilter())
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s : %(message)s"))
    return handler
