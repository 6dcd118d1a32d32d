"""Two servers sharing one Redis serve one stream: ids, resume, control and outages.

Both run in this test's trio loop on the real clock (Redis's lease and blocking reads
keep real time), at a clock speed that makes a tick every 0.1 s.
"""

from __future__ import annotations

import json
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import redis
import trio
from httpx_sse import ServerSentEvent, aconnect_sse
from pytest_redis.executor import RedisExecutor

from biomock.bus.log import COMMAND_S
from tests.bus.helpers import is_leader, newest_id, stats, wait_for
from tests.serving import CONFIGURED, Running, serving
from tests.test_ws import open_ws

FAST = {"speed": 10.0, "bus_lease_s": 1.0}

STEADY_LEASE_S = 3.0
"""For tests that assert who leads: a leader starved of CPU for a moment on a busy
machine keeps a 3 s lease, where a 1 s one would flip to the other server."""


@asynccontextmanager
async def two_replicas(url: str, **settings: Any) -> AsyncIterator[tuple[Running, Running]]:
    """A leader (started first, generating) and a follower, on one bus."""
    settings = {**FAST, "bus_lease_s": STEADY_LEASE_S, **settings}
    async with serving(bus=url, **settings) as leader:
        async with leader.client() as client:
            await wait_for(lambda: is_leader(client))
        async with serving(bus=url, **settings) as follower:
            async with follower.client() as client:
                await wait_for(lambda: _status(client, "/readyz", 200))
            yield leader, follower


async def read_events(
    client: httpx.AsyncClient,
    n: int,
    *,
    headers: dict[str, str] | None = None,
    params: dict[str, str] | None = None,
) -> list[ServerSentEvent]:
    """The first ``n`` samples' events of a stream (of a session, with ``params``)."""
    events: list[ServerSentEvent] = []
    async with aconnect_sse(
        client, "GET", "/api/stream", headers=headers or {}, params=params or {}
    ) as es:
        es.response.raise_for_status()
        async for event in es.aiter_sse():
            if event.data:
                events.append(event)
                if len(events) == n:
                    break
    return events


async def history(client: httpx.AsyncClient, session: str | None = None) -> list[dict[str, Any]]:
    """Everything in the server's buffer (of ``session``'s, when given)."""
    params: dict[str, str | int] = {"limit": 10000}
    if session is not None:
        params["session"] = session
    response = await client.get("/api/history", params=params)
    response.raise_for_status()
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def test_two_servers_serve_the_same_ids_and_samples(bus_url: str) -> None:
    with trio.fail_after(20):
        async with two_replicas(bus_url) as (leader, follower):
            async with leader.client() as a, follower.client() as b:
                assert not await is_leader(b)
                await wait_for(lambda: _at_least(b, 20))
                async with trio.open_nursery() as nursery:
                    streamed: dict[str, list[ServerSentEvent]] = {}

                    async def read(name: str, client: httpx.AsyncClient) -> None:
                        streamed[name] = await read_events(client, 10)

                    nursery.start_soon(read, "a", a)
                    nursery.start_soon(read, "b", b)
                seen_a, seen_b = await history(a), await history(b)
    by_id = {item["id"]: item for item in seen_a}
    common = [item for item in seen_b if item["id"] in by_id]
    assert len(common) >= 20
    assert common == [by_id[item["id"]] for item in common]
    ids = [item["id"] for item in seen_b]
    assert ids == list(range(ids[0], ids[0] + len(ids)))  # the follower has no gap
    live = {e.id: e.data for e in streamed["a"]}
    shared = [e for e in streamed["b"] if e.id in live]
    assert shared, "the two streams never overlapped"
    assert all(live[e.id] == e.data for e in shared)


async def _at_least(client: httpx.AsyncClient, n: int) -> bool:
    return len(await history(client)) >= n


async def test_a_stream_resumes_on_the_other_server_without_gap_or_duplicate(
    bus_url: str,
) -> None:
    with trio.fail_after(20):
        async with two_replicas(bus_url) as (leader, follower):
            async with leader.client() as a, follower.client() as b:
                first = await read_events(a, 5)
                last = int(first[-1].id)
                then = await read_events(b, 5, headers={"Last-Event-ID": str(last)})
    assert all(event.event == "message" for event in then)  # no reset
    assert [int(e.id) for e in then] == list(range(last + 1, last + 6))


async def test_control_on_either_server_takes_effect_on_both(bus_url: str) -> None:
    with trio.fail_after(20):
        async with two_replicas(bus_url, source=CONFIGURED, seed=7) as (leader, follower):
            async with leader.client() as a, follower.client() as b:
                switched = await b.post(
                    "/api/scenario", json={"subject": "default", "scenario": "workout"}
                )
                assert switched.status_code == 200, switched.text
                subjects = (await a.get("/api/subjects")).json()
                assert _scenario_of(subjects, "default") == "workout"
                # The leader generates the next tick in the new scenario, served by both.
                events = await read_events(b, 10)
                assert json.loads(events[-1].data)["scenario"] == "workout"

                paused = await a.post("/api/clock", json={"paused": True, "speed": 5})
                assert paused.status_code == 200
                clock = (await b.get("/api/clock")).json()
                assert clock["paused"] is True
                assert clock["speed"] == 5
                # A batch the leader appended just before it paused may still be on
                # its way to the follower: wait until the follower has it all.
                await wait_for(lambda: _settled(b, a), within_s=10)
                newest = await newest_id(b)
                await trio.sleep(0.5)  # five ticks at the old speed
                assert await newest_id(b) == newest


def _scenario_of(subjects: Any, name: str) -> str:
    items = subjects["items"] if isinstance(subjects, dict) else subjects
    return str(next(s["scenario"] for s in items if s["name"] == name))


async def test_stats_and_metrics_report_the_bus(bus_url: str) -> None:
    with trio.fail_after(20):
        async with two_replicas(bus_url) as (leader, follower):
            async with leader.client() as a, follower.client() as b:
                await wait_for(lambda: _at_least(b, 5))
                bus_a, bus_b = (await stats(a))["bus"], (await stats(b))["bus"]
                metrics = (await b.get("/metrics")).text
                ready = await b.get("/readyz")
    assert bus_a["leader"] is True and bus_b["leader"] is False
    assert bus_b["url"] == bus_url
    assert bus_b["lag_s"] < 1
    assert "biomock_bus_leader 0.0" in metrics
    assert "biomock_bus_lag_seconds" in metrics
    assert "biomock_bus_failovers_total 0.0" in metrics
    assert ready.status_code == 200  # a replica that does not generate is ready


async def test_redis_down_refuses_new_streams_and_open_ones_catch_up(
    bus_url: str, redis_server: RedisExecutor
) -> None:
    with trio.fail_after(45):
        async with serving(bus=bus_url, **FAST) as server, server.client() as client:
            await wait_for(lambda: is_leader(client))
            received: list[int] = []
            down_at: list[int] = []
            async with trio.open_nursery() as nursery:

                async def keep_reading() -> None:
                    async with aconnect_sse(client, "GET", "/api/stream") as es:
                        async for event in es.aiter_sse():
                            if event.data:  # not the opening retry: field
                                assert event.event == "message", event
                                received.append(int(event.id))

                nursery.start_soon(keep_reading)
                await wait_for(lambda: _true(len(received) >= 3))
                await trio.to_thread.run_sync(redis_server.stop)
                await wait_for(lambda: _status(client, "/readyz", 503))
                down_at.append(received[-1])
                refused = await client.get("/api/stream")
                assert refused.status_code == 503
                assert refused.json()["error"]["code"] == "unavailable"
                assert refused.headers["retry-after"]
                # Down for several of the reader's retries, not just one.
                await trio.sleep(2.5)
                await trio.to_thread.run_sync(redis_server.start)  # back, and empty
                await wait_for(lambda: _status(client, "/readyz", 200), within_s=10)
                await wait_for(lambda: is_leader(client), within_s=10)
                await wait_for(lambda: _true(received[-1] > down_at[0] + 3), within_s=10)
                nursery.cancel_scope.cancel()
    assert received == sorted(set(received)), "an id went backwards or came twice"


async def _settled(follower: httpx.AsyncClient, leader: httpx.AsyncClient) -> bool:
    """Whether the follower has the leader's newest id, and it did not move meanwhile."""
    before = await newest_id(leader)
    await trio.sleep(0.2)  # two ticks at the old speed
    return await newest_id(follower) == before == await newest_id(leader)


async def _true(value: bool) -> bool:
    return value


async def _status(client: httpx.AsyncClient, path: str, status: int) -> bool:
    return (await client.get(path)).status_code == status


async def test_the_bus_finds_redis_through_sentinel(sentinel_url: str) -> None:
    with trio.fail_after(20):
        async with two_replicas(sentinel_url) as (leader, follower):
            async with leader.client() as a, follower.client() as b:
                await wait_for(lambda: _at_least(b, 5))
                assert (await stats(b))["bus"]["url"] == sentinel_url
                assert [i["id"] for i in await history(b)][:5] == [
                    i["id"] for i in await history(a)
                ][:5]


async def test_a_resume_older_than_the_buffer_is_served_from_the_log(bus_url: str) -> None:
    with trio.fail_after(20):
        async with two_replicas(bus_url, buffer_size=20, max_batch=5) as (_, follower):
            async with follower.client() as b:
                body = await stats(b)
                first = body["buffer"]["newest_id"]
                # More than the buffer goes by; the log keeps about twice as much.
                await wait_for(lambda: _newest_above(b, first + 30))
                oldest = (await stats(b))["buffer"]["oldest_id"]
                assert oldest > first + 1
                events = await read_events(b, 5, headers={"Last-Event-ID": str(first)})
    assert all(event.event == "message" for event in events)  # no reset
    assert [int(e.id) for e in events] == list(range(first + 1, first + 6))


async def _newest_above(client: httpx.AsyncClient, n: int) -> bool:
    return await newest_id(client) > n


async def test_a_websocket_resumes_on_the_other_server_from_an_sse_id(bus_url: str) -> None:
    with trio.fail_after(20):
        async with two_replicas(bus_url) as (leader, follower):
            async with leader.client() as a:
                last = int((await read_events(a, 3))[-1].id)
            async with open_ws(follower, last_event_id=last) as ws:
                items: list[dict[str, Any]] = []
                while len(items) < 5:
                    message = json.loads(await ws.get_message())
                    assert message["type"] == "samples", message  # no reset
                    items += message["items"]
    assert [item["id"] for item in items[:5]] == list(range(last + 1, last + 6))


async def test_every_process_runs_the_first_ones_simulation_and_a_clean_stop_hands_over(
    bus_url: str,
) -> None:
    settings = {**FAST, "bus_lease_s": 6.0}  # a handover well inside the lease
    with trio.fail_after(30):
        async with serving(bus=bus_url, source=CONFIGURED, seed=7, **settings) as first:
            async with first.client() as a:
                await wait_for(lambda: is_leader(a))
                people = (await a.get("/api/subjects")).json()
            # Another seed in its settings: it follows the running simulation's.
            async with serving(bus=bus_url, source=CONFIGURED, seed=8, **settings) as second:
                async with second.client() as b:
                    await wait_for(lambda: _status(b, "/readyz", 200))
                    assert (await b.get("/api/subjects")).json() == people
                    before = await newest_id(b)
                    first.stop.set()  # SIGTERM: the leader gives its lease back
                    # Within the follower's next try (a third of the lease, 2 s) and
                    # slack, before the lease could expire: the last renewal was at
                    # most 2 s ago, so it expires 4 s from now at the earliest.
                    await wait_for(lambda: is_leader(b), within_s=3.9)
                    await wait_for(lambda: _newest_above(b, before + 10))
                    ids = [item["id"] for item in await history(b)]
    assert ids == list(range(ids[0], ids[0] + len(ids)))  # no gap, no duplicate at the handover


async def test_after_redis_comes_back_empty_ids_continue_above_every_process(
    bus_url: str,
) -> None:
    # Redis came back empty, and a process that had more than this one rejoined and
    # recorded its newest id: this one, leading now, must not hand those ids out again.
    seen_elsewhere = 2**52
    with redis.Redis.from_url(bus_url) as client:
        client.set("biomock:default:floor", seen_elsewhere)
    with trio.fail_after(20):
        async with serving(bus=bus_url, **FAST) as server, server.client() as client:
            await wait_for(lambda: is_leader(client))
            await wait_for(lambda: _newest_above(client, seen_elsewhere))
            items = await history(client)
    assert all(item["id"] > seen_elsewhere for item in items)


async def test_a_leader_whose_append_timed_out_gives_its_lease_back(
    bus_url: str, redis_server: RedisExecutor
) -> None:
    # Redis frozen for longer than a command may take: the leader's append times out,
    # and it must not keep the 15 s lease it renewed just before (nobody would generate).
    lease_s = 15.0
    with trio.fail_after(60):
        async with two_replicas(bus_url, bus_lease_s=lease_s) as (leader, follower):
            async with leader.client() as a, follower.client() as b:
                process = redis_server.process
                assert process is not None
                process.send_signal(signal.SIGSTOP)
                try:
                    await trio.sleep(COMMAND_S + 1.0)  # Redis's own clock goes on
                finally:
                    process.send_signal(signal.SIGCONT)
                resumed_at = trio.current_time()
                await wait_for(lambda: _status(b, "/readyz", 200), within_s=10)
                before = max(await newest_id(a), await newest_id(b))
                # Within the next try (a third of the lease) and slack; without the
                # release, not before the lease's remaining ~12 s.
                await wait_for(lambda: _newest_above(b, before + 3), within_s=lease_s / 3 + 5)
                assert trio.current_time() - resumed_at < lease_s - COMMAND_S - 1.0
