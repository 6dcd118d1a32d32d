"""The WebSocket stream's messages (API.md "GET /api/ws"), both ways; pure functions.

Samples are already encoded once per format by the hub (``Record.json``); a
``samples`` message only wraps those bytes, it never re-encodes a sample. A
client's message is validated by :class:`SubscribeMessage` and becomes a
:class:`~biomock.subscriber.Retarget`, or the error to answer it with.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Literal

import pydantic

from biomock.errors import ApiError, invalid_parameter
from biomock.models import SampleQuery
from biomock.params import StreamRequest, sample_filter, validate_query
from biomock.subscriber import Retarget

SAMPLES_HEAD = b'{"type":"samples","items":['
SAMPLES_TAIL = b"]}"

MAX_CLIENT_MESSAGE = 4096
"""Client messages larger than this are refused unread."""


def samples(items: list[bytes]) -> bytes:
    """One ``samples`` message from the samples' JSON, ids increasing."""
    return SAMPLES_HEAD + b",".join(items) + SAMPLES_TAIL


def broken_samples(data: bytes, event_id: int) -> bytes:
    """A ``samples`` message around one sample's JSON cut short: its text is not JSON.

    What fault injection's ``malformed`` sends on a WebSocket (``biomock.faults``): the
    message that would have carried the sample, broken off inside it.
    """
    return SAMPLES_HEAD + data


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


class SubscribeMessage(pydantic.BaseModel):
    """A client's ``subscribe`` message: re-target the subscription in place."""

    model_config = pydantic.ConfigDict(extra="forbid", strict=True)

    type: Literal["subscribe"]
    types: list[str] | None = None
    subject: str | None = None
    format: str | None = None
    last_event_id: int | None = pydantic.Field(None, ge=0)


def parse_client_message(text: str | None, subjects: Sequence[str]) -> Retarget | ApiError:
    """A client's message as a :class:`Retarget`, or the error to answer it with."""
    if text is None:
        return ApiError(400, "invalid_json", "messages must be text: a JSON object")
    if len(text) > MAX_CLIENT_MESSAGE:
        return ApiError(400, "invalid_json", f"messages are at most {MAX_CLIENT_MESSAGE} bytes")
    try:
        body = json.loads(text)
    except (ValueError, RecursionError):
        return ApiError(400, "invalid_json", "the message is not valid JSON")
    if not isinstance(body, dict):
        return ApiError(400, "invalid_json", "the message must be a JSON object")
    try:
        message = SubscribeMessage.model_validate(body)
    except pydantic.ValidationError as error:
        first = error.errors()[0]
        name = str(first["loc"][0]) if first["loc"] else "type"
        if name == "type":
            return invalid_parameter("type", 'the only message a client sends is "subscribe"')
        return invalid_parameter(name, f"{name}: {first['msg']}")
    args: dict[str, str] = {}
    if message.types is not None:
        if not message.types or any("," in name for name in message.types):
            return invalid_parameter("types", "types must be a non-empty list of type names")
        args["types"] = ",".join(message.types)
    if message.subject is not None:
        args["subject"] = message.subject
    if message.format is not None:
        args["format"] = message.format
    try:
        filter = sample_filter(validate_query(SampleQuery, args), subjects)
    except ApiError as error:
        return error
    return Retarget(StreamRequest(filter, message.last_event_id, 0))
