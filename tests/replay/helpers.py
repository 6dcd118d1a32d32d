"""Shared helpers for the replay tests."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
from httpx_sse import aconnect_sse

from biomock.replay.errors import ReplayError
from biomock.replay.source import read_samples
from biomock.sample import Sample, parse_time

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "replay"


def ms(text: str) -> int:
    return parse_time(text)


def read_until_error(path: Path) -> tuple[list[Sample], ReplayError | None]:
    """Everything a reader yields from ``path`` before it fails, and its error."""
    got: list[Sample] = []
    try:
        for sample in read_samples(path, Counter()):
            got.append(sample)
    except ReplayError as error:
        return got, error
    return got, None


async def read_stream(
    client: httpx.AsyncClient, count: int, **request: Any
) -> list[tuple[str, dict[str, Any]]]:
    """Read ``count`` samples from ``/api/stream``: (event id, sample) pairs."""
    got = []
    async with aconnect_sse(client, "GET", "/api/stream", **request) as sse:
        async for event in sse.aiter_sse():
            assert event.event == "message", f"unexpected {event.event} event: {event.data}"
            if not event.data:
                continue  # the opening retry: field
            got.append((event.id, json.loads(event.data)))
            if len(got) == count:
                break
    return got
