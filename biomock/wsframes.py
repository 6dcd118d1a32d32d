"""The WebSocket stream's messages (API.md "GET /api/ws"): pure functions to JSON text.

Samples are already encoded once per format by the hub (``Record.json``); a
``samples`` message only wraps those bytes, it never re-encodes a sample.
"""

from __future__ import annotations

import json
from typing import Any

SAMPLES_HEAD = b'{"type":"samples","items":['
SAMPLES_TAIL = b"]}"


def samples(items: list[bytes]) -> bytes:
    """One ``samples`` message from the samples' JSON, ids increasing."""
    return SAMPLES_HEAD + b",".join(items) + SAMPLES_TAIL


def _dumps(body: dict[str, Any]) -> bytes:
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


def reset(detail: dict[str, Any]) -> bytes:
    """A ``reset`` message: ``detail`` holds ``reason``, ``oldest_id`` and ``newest_id``."""
    return _dumps({"type": "reset", **detail})


def heartbeat(time: str) -> bytes:
    """A ``heartbeat`` message, sent after a silence; ``time`` is the server's wall clock."""
    return _dumps({"type": "heartbeat", "time": time})


def error(body: dict[str, Any]) -> bytes:
    """An ``error`` message around API.md's error body (``{"error": {...}}``)."""
    return _dumps({"type": "error", **body})
