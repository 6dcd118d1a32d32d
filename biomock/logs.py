"""Log output: one line per event, as text or JSON, with credentials redacted.

Only ``biomock.cli`` calls :func:`configure_logging`; every other module just logs with
``logging.getLogger(__name__)`` and passes the event's fields as ``extra``.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from typing import Any, Literal
from urllib.parse import unquote_plus

from biomock.sample import format_time

LogFormat = Literal["text", "json"]

REDACTED = "***"

# A name that carries a credential, wherever it appears (query key, JSON field, header,
# ``key=value`` field of a text line): any name containing one of these words.
_SECRET_WORDS = ("token", "secret", "password", "passwd", "key", "jwt", "auth", "credential")
_SECRET_EXACT = frozenset({"sig", "signature", "code", "cookie", "set-cookie"})
_QUERY_PAIR = re.compile(r"([?&;])([^=&;#\s\"']*)=([^&;#\s\"']*)")
_JSON_PAIR = re.compile(r'("([^"\\]{1,100})"\s*:\s*)("(?:[^"\\]|\\.)*"|[^,}\s]+)')
_NAMED_VALUE = re.compile(
    r"(?i)(?<![\w%.-])([\w.-]{1,100})(=|:[ \t]*)"
    r"(?!(?:bearer|basic|token)\s)(?!\*\*\*)([^\s&;,\"']+)"
)
_SCHEME_CREDENTIALS = re.compile(r"(?i)\b(bearer|basic|token)(\s+)[A-Za-z0-9._~+/=-]+")
_URL_PASSWORD = re.compile(r"(?i)(\b[a-z][a-z0-9+.-]*://[^/\s:@\"']+:)[^@\s\"']+(@)")
# Control characters (C0, DEL, C1) and the Unicode line separators: a request must never
# be able to start a log line of its own.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def is_secret_name(name: str) -> bool:
    """Whether a parameter, field or header called ``name`` carries a credential.

    ``name`` may be percent-encoded (``%74oken``) or use ``-``/``_`` either way.
    """
    key = unquote_plus(name).lower()
    return key in _SECRET_EXACT or any(word in key for word in _SECRET_WORDS)


def escape_controls(text: str) -> str:
    """``text`` with every control character written as an escape (``\n`` -> ``\\n``)."""

    def escaped(match: re.Match[str]) -> str:
        char = match.group()
        return {"\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(char, f"\\x{ord(char):02x}")

    return _CONTROL.sub(escaped, text)


# Whatever any pattern above could redact contains one of these (a secret name, once
# unquoted, holds a secret word unless it is percent-encoded): a line without any is
# left as it is after a few substring tests instead of five substitutions. (Substring
# tests on the lowered line, not one regular expression of alternatives: a stream's
# connect line is tested in 1 µs instead of 12.)
_MAY_HOLD_SECRETS = (*_SECRET_WORDS, *_SECRET_EXACT, "bearer", "basic", "%", "@")


def may_hold_secrets(text: str) -> bool:
    """Whether :func:`redact` could change ``text`` at all."""
    lowered = text.lower()
    return any(word in lowered for word in _MAY_HOLD_SECRETS)


def redact(text: str) -> str:
    """Replace credentials in ``text``: secret-named query parameters, JSON fields and
    ``name=value`` / ``Name: value`` pairs, Authorization values and URL passwords."""
    if not may_hold_secrets(text):
        return text

    def query(match: re.Match[str]) -> str:
        sep, name, _value = match.groups()
        return f"{sep}{name}={REDACTED}" if is_secret_name(name) else match.group()

    def json_pair(match: re.Match[str]) -> str:
        head, name, _value = match.groups()
        return f'{head}"{REDACTED}"' if is_secret_name(name) else match.group()

    def named(match: re.Match[str]) -> str:
        name, sep, _value = match.groups()
        return f"{name}{sep}{REDACTED}" if is_secret_name(name) else match.group()

    text = _QUERY_PAIR.sub(query, text)
    text = _JSON_PAIR.sub(json_pair, text)
    text = _SCHEME_CREDENTIALS.sub(rf"\g<1>\g<2>{REDACTED}", text)
    text = _NAMED_VALUE.sub(named, text)
    return _URL_PASSWORD.sub(rf"\g<1>{REDACTED}\g<2>", text)


# Attributes every LogRecord has; anything else on a record came from ``extra``.
_RECORD_FIELDS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "taskName",
}


def _extra_fields(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in vars(record).items() if k not in _RECORD_FIELDS}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, then the record's extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": format_time(int(record.created * 1000)),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": escape_controls(record.getMessage()),
        }
        for name, value in _extra_fields(record).items():
            entry[name] = escape_controls(value) if isinstance(value, str) else value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return redact(json.dumps(entry, default=str, ensure_ascii=False))


class TextFormatter(logging.Formatter):
    """``time level logger: message key=value ...`` for reading in a terminal.

    Only the fields the message does not already show are appended.
    """

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")
        self._second = -1
        self._stamp = ""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        """As :class:`logging.Formatter` does, the date and time formatted once a second."""
        if datefmt is not None:
            return super().formatTime(record, datefmt)
        second = int(record.created)
        if second != self._second:
            self._stamp = time.strftime(self.default_time_format, self.converter(record.created))
            self._second = second
        return f"{self._stamp},{int(record.msecs):03d}"

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        saved = record.msg, record.args
        record.msg, record.args = escape_controls(message), None  # the traceback keeps its lines
        try:
            line = super().format(record)
        finally:
            record.msg, record.args = saved
        fields = " ".join(
            f"{k}={escape_controls(str(v))}"
            for k, v in _extra_fields(record).items()
            if str(v) not in message
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
    # Neither format shows the thread or the process: not looking them up for every
    # record saves a tenth of a line's cost (a stream logs one as it connects).
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    # Hypercorn's loggers keep their own handlers unless told otherwise; route them here.
    for name in ("hypercorn.error", "hypercorn.access", "quart.app", "quart.serving"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    # coredis (the bus) logs each reload of a Lua script after a Redis restart as a retry
    # at INFO; the bus logs what matters about Redis itself.
    numeric = (
        level
        if isinstance(level, int)
        else logging.getLevelNamesMapping().get(level.upper(), logging.INFO)
    )
    logging.getLogger("coredis").setLevel(max(numeric, logging.WARNING))
