"""Log output: one line per event, as text or JSON, with credentials redacted.

Only ``biomock.cli`` calls :func:`configure_logging`; every other module just logs with
``logging.getLogger(__name__)`` and passes the event's fields as ``extra``.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from typing import Any, Literal

from biomock.sample import format_time

LogFormat = Literal["text", "json"]

REDACTED = "***"

# Query parameters and headers that carry credentials, whatever the client calls them.
_SECRET_NAMES = (
    r"(?:access_token|id_token|refresh_token|token|api_key|apikey|key|secret|password|passwd"
    r"|auth|authorization|sig|signature|code)"
)
_SECRET_QUERY = re.compile(rf"(?i)([?&;]{_SECRET_NAMES}=)[^&;#\s\"']*")
_SCHEME_CREDENTIALS = re.compile(r"(?i)\b(bearer|basic|token)(\s+)[A-Za-z0-9._~+/=-]+")
_URL_PASSWORD = re.compile(r"(?i)(\b[a-z][a-z0-9+.-]*://[^/\s:@\"']+:)[^@\s\"']+(@)")

# Attributes every LogRecord has; anything else on a record came from ``extra``.
_RECORD_FIELDS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "taskName",
}


def redact(text: str) -> str:
    """Replace credentials in ``text`` (query secrets, Authorization values, URL passwords)."""
    text = _SECRET_QUERY.sub(rf"\g<1>{REDACTED}", text)
    text = _SCHEME_CREDENTIALS.sub(rf"\g<1>\g<2>{REDACTED}", text)
    return _URL_PASSWORD.sub(rf"\g<1>{REDACTED}\g<2>", text)


def _extra_fields(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in vars(record).items() if k not in _RECORD_FIELDS}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, then the record's extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": format_time(int(record.created * 1000)),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(_extra_fields(record))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return redact(json.dumps(entry, default=str, ensure_ascii=False))


class TextFormatter(logging.Formatter):
    """``time level logger: message key=value ...`` for reading in a terminal.

    Only the fields the message does not already show are appended.
    """

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        message = record.getMessage()
        fields = " ".join(
            f"{k}={v}" for k, v in _extra_fields(record).items() if str(v) not in message
        )
        if fields:
            head, newline, rest = line.partition("\n")
            line = f"{head} {fields}{newline}{rest}"
        return redact(line)


access_logger = logging.getLogger("biomock.access")


def log_request(method: str, target: str, status: int, duration_s: float, client: str) -> None:
    """The one line for a finished request (a stream logs its own connect and disconnect)."""
    access_logger.info(
        "%s %s %d %.1fms",
        method,
        target,
        status,
        duration_s * 1000,
        extra={
            "method": method,
            "path": target,
            "status": status,
            "duration_ms": round(duration_s * 1000, 1),
            "client": client,
        },
    )


def configure_logging(log_format: LogFormat = "text", level: int | str = logging.INFO) -> None:
    """Send every log record, biomock's and the servers', to stderr in ``log_format``.

    Replaces handlers installed before, so that calling it again (as ``--reload`` does)
    never prints a line twice.
    """
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # Hypercorn's loggers keep their own handlers unless told otherwise; route them here.
    for name in ("hypercorn.error", "hypercorn.access", "quart.app", "quart.serving"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
