"""Waiting on servers that share a bus: on the real clock (Redis keeps real time), bounded."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import trio

POLL_S = 0.05


async def wait_for(check: Callable[[], Awaitable[bool]], *, within_s: float = 5.0) -> None:
    """Poll ``check`` until it holds.

    Raises:
        trio.TooSlowError: it did not hold within ``within_s``.
    """
    with trio.fail_after(within_s):
        while True:  # another process's state: nothing here to wait on but a poll
            if await check():
                return
            await trio.sleep(POLL_S)


async def stats(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/api/stats")
    response.raise_for_status()
    body: dict[str, Any] = response.json()
    return body


async def is_leader(client: httpx.AsyncClient) -> bool:
    return bool((await stats(client))["bus"]["leader"])


async def newest_id(client: httpx.AsyncClient) -> int:
    return int((await stats(client))["buffer"]["newest_id"] or 0)
