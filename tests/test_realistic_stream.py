"""A watch's late batches over a real server: history and resume keep them in id order."""

from __future__ import annotations

import itertools
from typing import Any

import httpx
import trio

from biomock.sample import parse_time
from biomock.sim import Simulator
from tests.serving import WALL_MS, serving


async def _history(client: httpx.AsyncClient, **params: Any) -> list[dict[str, Any]]:
    response = await client.get("/api/history", params={"limit": 10000, **params})
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def test_late_batches_are_served_in_id_order(autojump_clock: trio.abc.Clock) -> None:
    source = Simulator(
        WALL_MS, seed=4, subjects=["default"], cadence="watch", imperfections="realistic"
    )
    with trio.fail_after(120):
        async with serving(source=source, speed=600) as server, server.client() as client:
            await trio.sleep(60)  # ten simulated hours
            items = await _history(client)
            middle = items[len(items) // 2]["id"]
            resumed = await _history(client, after_id=middle)
    ids = [item["id"] for item in items]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    times = [parse_time(item["timestamp"]) for item in items]
    late = [
        a
        for a, b in itertools.pairwise(items)
        if parse_time(a["timestamp"]) > parse_time(b["timestamp"]) + 60_000
    ]
    assert late, "a late batch comes after samples with later timestamps"
    assert times != sorted(times)
    assert [item["id"] for item in resumed] == [i for i in ids if i > middle]
    assert all(item["source"]["kind"] for item in items)
