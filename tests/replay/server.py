"""Running a real biomock server (Hypercorn on 127.0.0.1, port 0) in a test's nursery."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import partial
from typing import Any

import httpx
import trio
from httpx_sse import aconnect_sse

from biomock.app import BiomockApp, create_app
from biomock.config import Config
from biomock.server import open_listen_socket, serve

WALL_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z


@dataclass
class Running:
    url: str
    app: BiomockApp

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.url, timeout=None)


@asynccontextmanager
async def serving(**settings: Any) -> AsyncIterator[Running]:
    """Serve an app built from ``settings`` until the block ends, then shut it down."""
    config = Config(host="127.0.0.1", port=0, **settings)
    app = create_app(config, wall_ms=WALL_MS)
    sock = open_listen_socket("127.0.0.1", 0, user_timeout_s=config.slow_client_timeout_s)
    stop = trio.Event()
    async with trio.open_nursery() as nursery:
        binds = await nursery.start(partial(serve, app, config, sock, shutdown_trigger=stop.wait))
        try:
            yield Running(binds[0], app)
        finally:
            stop.set()


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
