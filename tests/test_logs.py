"""Log lines as an operator reads them: one JSON object per line, no credentials in them."""

from __future__ import annotations

import io
import json
import logging
import sys

import pytest

from biomock.logs import JsonFormatter, TextFormatter, configure_logging, redact


def record(msg: str, *args: object, **extra: object) -> logging.LogRecord:
    rec = logging.LogRecord("biomock.access", logging.INFO, __file__, 1, msg, args, None)
    rec.__dict__.update(extra)
    return rec


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("GET /api/stream?token=abc123&types=steps", "GET /api/stream?token=***&types=steps"),
        (
            "/api/history?types=steps&access_token=x.y.z",
            "/api/history?types=steps&access_token=***",
        ),
        ("/api/stream?API_KEY=k&subject=default", "/api/stream?API_KEY=***&subject=default"),
        ("authorization: Bearer eyJhbGciOi.abc.def", "authorization: Bearer ***"),
        ("Authorization: Basic dXNlcjpwYXNz", "Authorization: Basic ***"),
        (
            "connecting to https://user:hunter2@example.org/x",
            "connecting to https://user:***@example.org/x",
        ),
        (
            "/api/stream?types=steps,heart_rate&subject=default",
            "/api/stream?types=steps,heart_rate&subject=default",
        ),
    ],
)
def test_redact_hides_credentials_and_keeps_the_rest(line: str, expected: str) -> None:
    assert redact(line) == expected


def test_json_lines_carry_the_event_fields_and_no_secrets() -> None:
    rec = record(
        "%s %s %d",
        "GET",
        "/api/stream?token=s3cret",
        200,
        path="/api/stream?token=s3cret",
        status=200,
        duration_ms=1.5,
    )
    line = JsonFormatter().format(rec)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["level"] == "info"
    assert entry["logger"] == "biomock.access"
    assert entry["message"] == "GET /api/stream?token=*** 200"
    assert entry["path"] == "/api/stream?token=***"
    assert entry["status"] == 200 and entry["duration_ms"] == 1.5
    assert entry["time"].endswith("Z") and "s3cret" not in line


def test_json_keeps_a_traceback_on_its_one_line() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        rec = logging.LogRecord("biomock.app", logging.ERROR, __file__, 1, "failed", None, None)
        rec.exc_info = sys.exc_info()
    line = JsonFormatter().format(rec)
    assert line.count("\n") == 0
    assert "ValueError: boom" in json.loads(line)["exception"]


def test_text_lines_append_fields_and_redact() -> None:
    line = TextFormatter().format(record("subscriber connected", reason="x", url="/s?key=1"))
    assert line.endswith("biomock.access: subscriber connected reason=x url=/s?key=***")
    # Fields the message already shows are not repeated.
    line = TextFormatter().format(record("GET /x 200", method="GET", status=200, client="c"))
    assert line.endswith("biomock.access: GET /x 200 client=c")


def test_configure_logging_json_writes_one_object_per_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stream = io.StringIO()
    monkeypatch.setattr("sys.stderr", stream)
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    try:
        configure_logging("json")
        configure_logging("json")  # a second call (reload) must not double the lines
        logging.getLogger("biomock.test").info("hello %s", "world", extra={"subject": "a"})
        logging.getLogger("hypercorn.error").warning("from hypercorn")
    finally:
        root.handlers[:], _ = saved
        root.setLevel(saved[1])
    lines = stream.getvalue().splitlines()
    assert [json.loads(line)["message"] for line in lines] == ["hello world", "from hypercorn"]
    assert json.loads(lines[0])["subject"] == "a"
