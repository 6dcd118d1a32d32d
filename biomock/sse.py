"""Server-Sent Events framing: pure functions from values to the bytes on the wire.

See the WHATWG HTML standard, "Server-sent events": fields are ``name: value``
lines, an event ends with a blank line, lines starting with ``:`` are comments.
"""

from __future__ import annotations


def retry(milliseconds: int) -> bytes:
    """The ``retry:`` field that sets the client's reconnection delay."""
    return b"retry: %d\n\n" % milliseconds


def event(data: bytes, *, event_id: int | None = None, name: str | None = None) -> bytes:
    """One event. ``data`` must hold no newline (compact JSON never does)."""
    parts = []
    if name is not None:
        parts.append(b"event: " + name.encode())
    if event_id is not None:
        parts.append(b"id: %d" % event_id)
    parts.append(b"data: " + data)
    return b"\n".join(parts) + b"\n\n"


def comment(text: str) -> bytes:
    """A comment line, ignored by clients; used as the keepalive."""
    return b": " + text.encode() + b"\n\n"


KEEPALIVE = comment("keepalive")
