"""Log lines as an operator reads them: one JSON object per line, no credentials in them."""

from __future__ import annotations

import io
import json
import logging
import sys

import pytest
import trio

from biomock.logs import JsonFormatter, TextFormatter, configure_logging, redact
from tests.serving import serving


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
        ("/api/x?client_secret=s1&a=1", "/api/x?client_secret=***&a=1"),
        ("/api/x?auth_token=s1", "/api/x?auth_token=***"),
        ("/api/x?jwt=eyJ.a.b", "/api/x?jwt=***"),
        ("/api/x?api-key=s1", "/api/x?api-key=***"),
        ("/api/x?x_api_key=s1", "/api/x?x_api_key=***"),
        ("/api/x?%74oken=s1", "/api/x?%74oken=***"),
        ("/api/x?access_token=s1&types=steps", "/api/x?access_token=***&types=steps"),
        ("/api/x?my_password=hunter2", "/api/x?my_password=***"),
        ("Authorization: s3cr3t", "Authorization: ***"),
        ("x-api-key: s3cr3t", "x-api-key: ***"),
        ("Cookie: session=abc123", "Cookie: ***"),
        ('{"client_secret": "s1", "speed": 2}', '{"client_secret": "***", "speed": 2}'),
        ('{"refresh_token":"s1"}', '{"refresh_token":"***"}'),
        ("login failed password=hunter2 user=bob", "login failed password=*** user=bob"),
        ("keepalive sent; subject=default", "keepalive sent; subject=default"),
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


def test_a_path_cannot_forge_a_log_line() -> None:
    forged = "/foo\n2026-01-01 00:00:00,000 INFO biomock.access: GET /admin 200"
    rec = record("%s %s %d", "GET", forged, 404, path=forged, client="c\r\x1b[2J")
    text = TextFormatter().format(rec)
    assert "\n" not in text and "\r" not in text and "\x1b" not in text
    assert "/foo\\n2026" in text  # shown, escaped
    line = JsonFormatter().format(rec)
    assert "\n" not in line
    assert json.loads(line)["path"].startswith("/foo\\n")


def test_separators_and_c1_controls_are_escaped_too() -> None:
    text = TextFormatter().format(record("GET /a\u2028b\x85c\x7f 404"))
    assert "\u2028" not in text and "\x85" not in text and "\x7f" not in text
    assert text.splitlines() == [text]


def test_json_fields_named_like_secrets_are_redacted() -> None:
    rec = record("token refreshed", client_secret="s1", api_key="k1", subject="a")
    entry = json.loads(JsonFormatter().format(rec))
    assert entry["client_secret"] == "***" and entry["api_key"] == "***"
    assert entry["subject"] == "a"
    text = TextFormatter().format(rec)
    assert "s1" not in text and "k1" not in text and "subject=a" in text


async def test_the_access_log_keeps_a_request_on_one_line() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(TextFormatter())
    access = logging.getLogger("biomock.access")
    saved_level = access.level
    access.addHandler(handler)
    access.setLevel(logging.INFO)
    try:
        with trio.fail_after(30):
            async with serving() as server, server.client() as client:
                await client.get("/foo%0a2026-01-01%20INFO%20biomock.access:%20GET%20/admin%20200")
                await client.get("/api/history?%74oken=s3cret&limit=1")
                await client.post("/api/clock?x=%0d", content=b"{}", headers={"host": "evil"})
    finally:
        access.removeHandler(handler)
        access.setLevel(saved_level)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 3, lines
    assert lines[0].split(" biomock.access: ")[1].startswith("GET /foo%0a2026")
    assert "s3cret" not in lines[1] and "%74oken=***" in lines[1]
    assert "POST /api/clock?x=%0d 421" in lines[2]  # refused before any route, still logged
