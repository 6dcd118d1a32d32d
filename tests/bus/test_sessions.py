"""Sessions across replicas: two servers on one Redis serve every session alike.

A session created on one server is streamed, steered and deleted on the other: the same
ids and bytes, one generator among them. Real clock (Redis keeps real time), bounded.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
import redis
import trio
from httpx_sse import ServerSentEvent, aconnect_sse
from pytest_redis.executor import RedisExecutor
from trio_websocket import ConnectionClosed

from biomock.bus import node as bus_node
from biomock.bus import sessions as bus_sessions
from biomock.bus.node import BusNode
from biomock.hub import Hub
from biomock.sample import format_time, parse_time
from tests.auth.helpers import SECRET, bearer, mint
from tests.bus.helpers import wait_for
from tests.bus.test_replicas import FAST, history, read_events, two_replicas
from tests.serving import serving
from tests.test_sessions import FORMATS, assert_unknown_session, create, history_bytes, step
from tests.test_ws import open_ws

START = "2026-01-01T00:00:00.000Z"


async def session_events(
    client: httpx.AsyncClient, session: str, n: int, *, last_event_id: int | None = None
) -> list[ServerSentEvent]:
    headers = {} if last_event_id is None else {"Last-Event-ID": str(last_event_id)}
    return await read_events(client, n, headers=headers, params={"session": session})


async def test_a_session_created_on_one_server_streams_alike_on_both(bus_url: str) -> None:
    with trio.fail_after(30):
        async with two_replicas(bus_url) as (first, second):
            async with first.client() as a, second.client() as b:
                session = (await create(a, seed=3, subjects=["alice"], speed=10))["id"]
                # At once on the other server: it looks the id up in Redis.
                got = await b.get(f"/api/sessions/{session}")
                assert got.status_code == 200, got.text
                assert got.json()["seed"] == 3
                listed = (await b.get("/api/sessions")).json()["items"]
                assert [s["id"] for s in listed] == [session]
                streamed: dict[str, list[ServerSentEvent]] = {}

                async def read(name: str, client: httpx.AsyncClient) -> None:
                    streamed[name] = await session_events(client, session, 8)

                async with trio.open_nursery() as nursery:
                    nursery.start_soon(read, "a", a)
                    nursery.start_soon(read, "b", b)
                last = int(streamed["a"][-1].id)
                resumed = await session_events(b, session, 5, last_event_id=last)
                seen_a = await history(a, session)
                seen_b = await history(b, session)
    on_a = {e.id: e.data for e in streamed["a"]}
    assert all(on_a[e.id] == e.data for e in streamed["b"] if e.id in on_a)
    assert [int(e.id) for e in resumed] == list(range(last + 1, last + 6))
    assert all(e.event == "message" for e in resumed)  # no reset
    ids_a = [i["id"] for i in seen_a]
    assert ids_a[0] == 1 and ids_a == list(range(1, len(ids_a) + 1))  # from 1, no gap
    common = min(len(seen_a), len(seen_b))
    assert common >= 8 and seen_a[:common] == seen_b[:common]


async def test_control_on_one_server_steers_the_session_on_both(bus_url: str) -> None:
    with trio.fail_after(30):
        async with two_replicas(bus_url) as (first, second):
            async with first.client() as a, second.client() as b:
                session = (await create(a, subjects=["alice"], speed=10))["id"]
                switched = await b.post(
                    "/api/scenario",
                    params={"session": session},
                    json={"subject": "alice", "scenario": "workout"},
                )
                assert switched.status_code == 200, switched.text
                # Within a tick, the stream served by the first server is in the new one.
                events = await session_events(a, session, 3)
                assert json.loads(events[-1].data)["scenario"] == "workout"
                # A jump on the second server: the first one's stream goes on from there.
                now = (await b.get("/api/clock", params={"session": session})).json()["now"]
                later = format_time(parse_time(now) + 3_600_000)
                await step(b, session, later)
                last = int(events[-1].id)
                after = await session_events(a, session, 2, last_event_id=last)
                assert max(json.loads(e.data)["timestamp"] for e in after) >= later
                paused = await b.post(
                    "/api/clock", params={"session": session}, json={"paused": True}
                )
                assert paused.status_code == 200
                clock = (await a.get("/api/clock", params={"session": session})).json()
                assert clock["paused"] is True


async def test_a_paused_session_stepped_on_one_server_publishes_the_same_on_both(
    bus_url: str,
) -> None:
    with trio.fail_after(30):
        async with two_replicas(bus_url) as (first, second):
            async with first.client() as a, second.client() as b:
                body = {"seed": 5, "subjects": ["alice", "bob"], "paused": True, "start": START}
                session = (await create(a, **body))["id"]
                await trio.sleep(0.5)
                assert await history(b, session) == []  # paused: nothing yet
                await step(b, session, "2026-01-01T00:10:00.000Z")
                await step(a, session, "2026-01-01T00:12:00.000Z")

                async def alike() -> bool:
                    return await history_bytes(a, session, "fhir") == await history_bytes(
                        b, session, "fhir"
                    )

                await wait_for(alike)
                items = await history(a, session)
                on_the_bus = {fmt: await history_bytes(b, session, fmt) for fmt in FORMATS}
    # The same bytes as a server without a bus makes of the same session and steps.
    with trio.fail_after(10):
        async with serving() as alone, alone.client() as client:
            local = (await create(client, **body))["id"]
            await step(client, local, "2026-01-01T00:10:00.000Z")
            await step(client, local, "2026-01-01T00:12:00.000Z")
            for fmt in FORMATS:
                assert await history_bytes(client, local, fmt) == on_the_bus[fmt], fmt
    times = [i["timestamp"] for i in items]
    assert times and max(times) <= "2026-01-01T00:12:00.000Z"
    assert max(times) > "2026-01-01T00:10:00.000Z"
    assert [i["id"] for i in items] == list(range(1, len(items) + 1))


async def test_deleting_a_session_on_one_server_ends_its_streams_on_the_other(
    bus_url: str,
) -> None:
    with trio.fail_after(30):
        async with two_replicas(bus_url) as (first, second):
            async with first.client() as a, second.client() as b:
                session = (await create(a, subjects=["alice"], speed=10))["id"]
                ended = trio.Event()
                closed: list[tuple[int, str | None]] = []

                async def sse_until_end() -> None:
                    async with aconnect_sse(
                        a, "GET", "/api/stream", params={"session": session}
                    ) as es:
                        async for _ in es.aiter_sse():
                            pass
                    ended.set()  # the response ended cleanly (no error raised)

                async def ws_until_closed() -> None:
                    async with open_ws(first, session=session) as ws:
                        try:
                            while True:
                                await ws.get_message()
                        except ConnectionClosed as error:
                            assert error.reason is not None
                            closed.append((error.reason.code, error.reason.reason))

                async with trio.open_nursery() as nursery:
                    nursery.start_soon(sse_until_end)
                    nursery.start_soon(ws_until_closed)
                    await session_events(a, session, 2)  # both streams are open by now
                    deleted = await b.delete(f"/api/sessions/{session}")
                    assert deleted.status_code == 204
                assert ended.is_set()
                assert closed and closed[0][0] == 1000
                assert_unknown_session(await a.get(f"/api/sessions/{session}"))
                assert_unknown_session(await b.get("/api/history", params={"session": session}))
    with redis.Redis.from_url(bus_url) as client:
        assert client.keys(f"biomock:{{{session}}}:*") == []  # nothing left behind


async def test_with_auth_another_tokens_session_is_a_404_on_the_other_server(
    bus_url: str,
) -> None:
    alice = bearer(mint(scope="read control", sub="alice"))
    bob = bearer(mint(scope="read control", sub="bob"))
    admin = bearer(mint(scope="admin", sub="ops"))
    settings = {**FAST, "bus": bus_url, "jwt_secret": SECRET}
    with trio.fail_after(30):
        async with serving(**settings) as first, serving(**settings) as second:
            async with first.client(headers=alice) as a, second.client() as b:
                await wait_for(lambda: _ready(b))
                session = (await create(a, subjects=["alice"]))["id"]
                for method, path in (
                    ("GET", f"/api/sessions/{session}"),
                    ("GET", f"/api/clock?session={session}"),
                    ("DELETE", f"/api/sessions/{session}"),
                ):
                    assert_unknown_session(await b.request(method, path, headers=bob))
                assert (await b.get("/api/sessions", headers=bob)).json()["items"] == []
                mine = await b.get(f"/api/sessions/{session}", headers=alice)
                assert mine.status_code == 200, mine.text
                listed = (await b.get("/api/sessions", headers=admin)).json()["items"]
                assert [item["id"] for item in listed] == [session]  # admin sees all


async def _ready(client: httpx.AsyncClient) -> bool:
    return (await client.get("/readyz")).status_code == 200


async def test_the_session_limit_counts_across_servers(bus_url: str) -> None:
    with trio.fail_after(30):
        async with two_replicas(bus_url, max_sessions=1) as (first, second):
            async with first.client() as a, second.client() as b:
                await create(a, paused=True)
                refused = await b.post("/api/sessions", json={"paused": True})
    assert refused.status_code == 503
    assert refused.json()["error"]["code"] == "too_many_sessions"
    assert refused.headers["retry-after"]


async def test_a_session_expires_on_every_server_and_leaves_no_key_behind(
    bus_url: str,
) -> None:
    with trio.fail_after(30):
        async with two_replicas(bus_url) as (first, second):
            async with first.client() as a, second.client() as b:
                session = (await create(a, subjects=["alice"], speed=10, ttl_s=2))["id"]
                assert (await b.get(f"/api/sessions/{session}")).status_code == 200
                # A stream open on the other server keeps it alive beyond its TTL.
                with trio.move_on_after(3):
                    await session_events(b, session, 10_000)
                assert (await a.get(f"/api/sessions/{session}")).status_code == 200
                with redis.Redis.from_url(bus_url) as client:
                    keys = client.keys(f"biomock:{{{session}}}:*")
                    assert keys, "the session is on the bus"
                    # Every key dies with the session even if no process is left to end it.
                    assert all(0 < client.pttl(key) <= 2000 + 61_000 for key in keys)

                async def expired() -> bool:  # asked of Redis: a request would be use
                    with redis.Redis.from_url(bus_url) as client:
                        return not client.hexists("biomock:sessions", session)

                await wait_for(expired, within_s=6)
                for server in (a, b):
                    gone = await server.get("/api/history", params={"session": session})
                    assert_unknown_session(gone)
    with redis.Redis.from_url(bus_url) as client:
        assert client.keys(f"biomock:{{{session}}}:*") == []


async def test_session_requests_are_refused_while_redis_is_down(
    bus_url: str, redis_server: RedisExecutor
) -> None:
    with trio.fail_after(30):
        async with serving(bus=bus_url, **FAST) as server, server.client() as client:
            await wait_for(lambda: _ready(client))
            session = (await create(client, subjects=["alice"]))["id"]
            await trio.to_thread.run_sync(redis_server.stop)
            try:
                for response in (
                    await client.post("/api/sessions", json={}),
                    await client.get(f"/api/sessions/{session}"),
                    await client.get("/api/stream", params={"session": session}),
                    await client.post("/api/clock", params={"session": session}, json={}),
                    await client.get("/api/sessions"),
                    await client.delete(f"/api/sessions/{session}"),
                ):
                    assert response.status_code == 503, response.text
                    assert response.json()["error"]["code"] == "unavailable"
                    assert response.headers["retry-after"]
                # An id no session can have is not looked up: it is unknown, Redis or not.
                for bad in ("x}:log", "s_" + "a" * 5000, "s_abc def"):
                    assert_unknown_session(await client.get(f"/api/sessions/{bad}"))
                    assert_unknown_session(
                        await client.get("/api/history", params={"session": bad})
                    )
                    assert_unknown_session(await client.delete(f"/api/sessions/{bad}"))
            finally:
                await trio.to_thread.run_sync(redis_server.start)


async def test_a_server_lets_go_of_a_session_it_does_not_use_and_serves_it_again(
    bus_url: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(bus_sessions, "MIRROR_IDLE_S", 0.5)
    with trio.fail_after(30):
        async with two_replicas(bus_url) as (first, second):
            async with first.client() as a, second.client() as b:
                session = (await create(a, subjects=["alice"], speed=10))["id"]
                seen = await session_events(b, session, 3)

                async def let_go() -> bool:
                    return any("session idle here" in r.getMessage() for r in caplog.records)

                await wait_for(let_go)  # the creator generates; the other one is idle
                last = int(seen[-1].id)
                resumed = await session_events(b, session, 3, last_event_id=last)
                assert [int(e.id) for e in resumed] == [last + 1, last + 2, last + 3]
                on_a = await history(a, session)
                on_b = await history(b, session)
    common = min(len(on_a), len(on_b))
    assert common >= 6 and on_a[:common] == on_b[:common]


async def stream_ends_within(client: httpx.AsyncClient, session: str, seconds: float) -> bool:
    """Stream ``session`` for ``seconds``; whether the server ended the stream before."""
    with trio.move_on_after(seconds):
        async with aconnect_sse(client, "GET", "/api/stream", params={"session": session}) as es:
            es.response.raise_for_status()
            async for _ in es.aiter_sse():
                pass
        return True
    return False


def _clients(bus_url: str) -> int:
    with redis.Redis.from_url(bus_url) as client:
        return len(client.client_list())


async def test_listing_sessions_describes_them_from_redis_without_serving_them(
    bus_url: str,
) -> None:
    with trio.fail_after(30):
        async with two_replicas(bus_url) as (first, second):
            async with first.client() as a, second.client() as b:
                body = {"subjects": ["alice"], "paused": True, "start": START}
                made = [(await create(a, **body))["id"] for _ in range(5)]
                await step(a, made[2], "2026-01-01T01:00:00.000Z", speed=4)
                described = {s: (await a.get(f"/api/sessions/{s}")).json() for s in made}
                before = _clients(bus_url)
                listed = await b.get("/api/sessions")
                after = _clients(bus_url)
    assert listed.status_code == 200, listed.text
    items = listed.json()["items"]
    assert [s["id"] for s in items] == made  # oldest first
    for item in items:
        assert item == described[item["id"]]  # its clock as the server that runs it has it
    # Listing is not serving: no reader, lease or connection per session on the lister.
    assert after - before < len(made), (before, after)


async def test_a_stream_opened_while_a_server_lets_go_of_the_session_goes_on(
    bus_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bus_sessions, "MIRROR_IDLE_S", 0.5)
    letting_go = trio.Event()
    resign = BusNode.resign

    async def slow_resign(node: BusNode) -> None:
        if not letting_go.is_set():  # the first: the idle session's, on the follower
            letting_go.set()
            await trio.sleep(1)  # a slow Redis widens the moment
        await resign(node)

    monkeypatch.setattr(BusNode, "resign", slow_resign)
    with trio.fail_after(30):
        async with two_replicas(bus_url) as (first, second):
            async with first.client() as a, second.client() as b:
                session = (await create(a, subjects=["alice"], speed=10))["id"]
                assert (await b.get(f"/api/sessions/{session}")).status_code == 200
                await letting_go.wait()  # the follower is letting go of its idle mirror
                ended_early = await stream_ends_within(b, session, 2.5)
                assert (await b.get(f"/api/sessions/{session}")).status_code == 200
    assert not ended_early, "the stream of a session that exists ended"


async def test_a_create_whose_answer_from_redis_comes_too_late_leaves_no_session(
    bus_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bus_sessions, "COMMAND_S", 0.5)
    create_in_redis = bus_sessions.SessionStore.create

    async def late(store: bus_sessions.SessionStore, *args: object, **kwargs: object) -> bool:
        created = await create_in_redis(store, *args, **kwargs)  # type: ignore[arg-type]
        await trio.sleep(1)  # the reply is slow to come back
        return created

    monkeypatch.setattr(bus_sessions.SessionStore, "create", late)
    with trio.fail_after(30):
        async with serving(bus=bus_url, max_sessions=1, **FAST) as server:
            async with server.client() as client:
                await wait_for(lambda: _ready(client))
                refused = await client.post("/api/sessions", json={"paused": True})
                assert refused.status_code == 503, refused.text
                assert refused.json()["error"]["code"] == "unavailable"
                listed = (await client.get("/api/sessions")).json()["items"]
    assert listed == []  # the client was told it failed: nothing holds the only place
    with redis.Redis.from_url(bus_url) as redis_client:
        assert redis_client.hlen("biomock:sessions") == 0
        assert redis_client.keys("biomock:{*") == []


async def test_a_crashing_session_node_ends_that_session_here_not_the_server(
    bus_url: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    build_hub = bus_sessions.session_hub
    crashed_once: list[bool] = []

    def crashing_hub(*args: Any, **kwargs: Any) -> Hub:
        hub = build_hub(*args, **kwargs)
        publish = hub.publish_numbered

        def publish_or_crash(*a: Any, **k: Any) -> Any:
            if not crashed_once:  # the first session's first samples
                crashed_once.append(True)
                raise RuntimeError("a bug on the session's publish path")
            return publish(*a, **k)

        hub.publish_numbered = publish_or_crash  # type: ignore[method-assign]
        return hub

    monkeypatch.setattr(bus_sessions, "session_hub", crashing_hub)
    with trio.fail_after(30):
        async with serving(bus=bus_url, **FAST) as server, server.client() as client:
            await wait_for(lambda: _ready(client))
            session = (await create(client, subjects=["alice"], speed=10))["id"]

            async def crashed() -> bool:
                return any("session node crashed" in r.getMessage() for r in caplog.records)

            await wait_for(crashed)
            assert await _ready(client)
            # The session is served afresh by the next request, and so is the default.
            events = await session_events(client, session, 3)
            assert len(events) == 3
            assert len(await read_events(client, 2)) == 2


async def test_ended_sessions_give_their_redis_connections_back(bus_url: str) -> None:
    with trio.fail_after(30):
        async with serving(bus=bus_url, **FAST) as server, server.client() as client:
            await wait_for(lambda: _ready(client))
            warm = (await create(client, subjects=["alice"]))["id"]  # the registry's own
            assert (await client.delete(f"/api/sessions/{warm}")).status_code == 204
            await trio.sleep(0.5)
            before = _clients(bus_url)
            made = [(await create(client, subjects=["alice"]))["id"] for _ in range(5)]
            for session in made:
                assert len(await session_events(client, session, 1)) == 1
            assert _clients(bus_url) >= before + len(made)
            for session in made:
                assert (await client.delete(f"/api/sessions/{session}")).status_code == 204

            async def given_back() -> bool:
                return _clients(bus_url) <= before

            await wait_for(given_back, within_s=5)


async def test_an_open_stream_keeps_a_session_of_the_shortest_ttl_alive(bus_url: str) -> None:
    with trio.fail_after(30):
        async with two_replicas(bus_url) as (first, second):
            async with first.client() as a, second.client() as b:
                session = (await create(a, subjects=["alice"], speed=10, ttl_s=1))["id"]
                ended_early = await stream_ends_within(b, session, 2.5)

                async def expired() -> bool:  # asked of Redis: a request would be use
                    with redis.Redis.from_url(bus_url) as client:
                        return not client.hexists("biomock:sessions", session)

                await wait_for(expired, within_s=6)  # once nothing streams it any more
    assert not ended_early, "a session with a stream open expired"


async def test_a_session_deleted_while_another_server_starts_serving_it_is_a_404_there(
    bus_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    open_log = bus_node.open_redis_log
    slow: list[bool] = []

    @asynccontextmanager
    async def slow_open(url: str, **kwargs: Any) -> AsyncIterator[Any]:
        if slow and kwargs.get("session"):
            await trio.sleep(1)  # a slow Redis: the server is still joining the session
        async with open_log(url, **kwargs) as log:
            yield log

    monkeypatch.setattr(bus_node, "open_redis_log", slow_open)
    got: list[httpx.Response] = []
    with trio.fail_after(30):
        async with two_replicas(bus_url) as (first, second):
            async with first.client() as a, second.client() as b:
                session = (await create(a, subjects=["alice"]))["id"]
                slow.append(True)

                async def read() -> None:
                    got.append(await b.get(f"/api/sessions/{session}"))

                async with trio.open_nursery() as nursery:
                    nursery.start_soon(read)
                    await trio.sleep(0.3)
                    assert (await a.delete(f"/api/sessions/{session}")).status_code == 204
    assert_unknown_session(got[0])
