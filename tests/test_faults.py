"""?faults= on /api/stream and /api/ws: each fault exactly as API.md says, on a real server.

Every test runs a plain SSE reader beside the faulted connection and checks that it
saw every sample, in order, as valid JSON: faults never reach another subscriber.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Literal

import httpx
import pytest
import trio
from httpx_sse import aconnect_sse
from trio_websocket import ConnectionClosed, ConnectionRejected, open_websocket_url

from biomock import wsframes
from biomock.faults import FaultCounts, Injector, cut
from biomock.limits import STALL_MAX_S
from biomock.models import parse_faults
from biomock.records import Record
from biomock.sample import Sample
from biomock.subscription import SSE_FRAMING
from tests.deploy.test_metrics import scrape
from tests.serving import ID_BASE, Running, serving
from tests.test_ws import MAX_MESSAGE, ws_url

Transport = Literal["sse", "ws"]
TRANSPORTS: list[Transport] = ["sse", "ws"]
BUFFERED = 40  # samples published before a test's faulted client resumes from the start


@dataclass
class Received:
    """One sample event as the faulted client got it."""

    at: float  # trio time
    id: int | None  # the SSE id, or the item's; None for a broken WebSocket message
    raw: str  # the SSE data, the item's JSON, or the broken message's text
    sample: dict[str, Any] | None  # None when raw is not JSON


@dataclass
class Outcome:
    events: list[Received]
    ended: bool = False  # the server ended the stream
    close_code: int | None = None  # WebSocket only

    @property
    def ids(self) -> list[int]:
        return [e.id for e in self.events if e.sample is not None and e.id is not None]


async def read_sse(
    client: httpx.AsyncClient, params: dict[str, Any], until_id: float, out: Outcome
) -> None:
    async with aconnect_sse(client, "GET", "/api/stream", params=params) as source:
        assert source.response.status_code == 200
        async for event in source.aiter_sse():
            if not event.data or event.event != "message":
                continue
            try:
                sample = json.loads(event.data)
            except ValueError:
                sample = None
            out.events.append(Received(trio.current_time(), int(event.id), event.data, sample))
            if int(event.id) >= until_id:
                return
    out.ended = True


async def read_ws(server: Running, params: dict[str, Any], until_id: float, out: Outcome) -> None:
    async with open_websocket_url(ws_url(server, **params), max_message_size=MAX_MESSAGE) as ws:
        try:
            while True:
                text = await ws.get_message()
                assert isinstance(text, str)
                try:
                    message = json.loads(text)
                except ValueError:
                    out.events.append(Received(trio.current_time(), None, text, None))
                    continue
                if message["type"] != "samples":
                    continue
                for item in message["items"]:
                    raw = json.dumps(item)
                    out.events.append(Received(trio.current_time(), item["id"], raw, item))
                    if item["id"] >= until_id:
                        return
        except ConnectionClosed as closed:
            out.ended = True
            out.close_code = closed.reason.code


async def read(
    transport: Transport, server: Running, params: dict[str, Any], until_id: float = math.inf
) -> Outcome:
    """What a client of ``transport`` gets until a sample with an id >= ``until_id``, or
    until the server ends the stream."""
    out = Outcome([])
    if transport == "sse":
        async with server.client() as client:
            await read_sse(client, params, until_id, out)
    else:
        await read_ws(server, params, until_id, out)
    return out


@asynccontextmanager
async def plain_reader(server: Running) -> AsyncIterator[list[int]]:
    """A plain SSE reader (fast path) for the duration of the block; checks on exit that
    it saw every sample, in order, each valid JSON with its id."""
    seen: list[int] = []

    async def run(task_status: trio.TaskStatus[None]) -> None:
        async with server.client() as client, aconnect_sse(client, "GET", "/api/stream") as es:
            task_status.started()
            async for event in es.aiter_sse():
                if event.data:
                    assert json.loads(event.data)["id"] == int(event.id)
                    seen.append(int(event.id))

    async with trio.open_nursery() as nursery:
        await nursery.start(run)
        yield seen
        await trio.sleep(1.5)  # one more tick for the plain reader
        nursery.cancel_scope.cancel()
    assert seen, "the plain reader got nothing"
    assert seen == list(range(seen[0], seen[0] + len(seen))), "the plain reader saw a gap"


async def injected(client: httpx.AsyncClient) -> dict[str, float]:
    metrics = await scrape(client)
    prefix = "biomock_faults_injected_total"
    return {
        name[len(prefix) + len('{kind="') : -2]: value
        for name, value in metrics.items()
        if name.startswith(prefix + "{")
    }


def resume_from_start(**params: Any) -> dict[str, Any]:
    return {"last_event_id": ID_BASE, **params}


ALL = list(range(ID_BASE + 1, ID_BASE + BUFFERED + 1))


# --- drop, duplicate, malformed: per sample, chosen by the seed --------------------------------


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_drop_leaves_gaps_chosen_by_the_seed(
    transport: Transport, autojump_clock: trio.abc.Clock
) -> None:
    with trio.fail_after(60):
        async with serving() as server, server.client() as client:
            await trio.sleep(BUFFERED + 0.5)
            async with plain_reader(server):
                params = resume_from_start(faults="drop=0.3", fault_seed=7)
                first = await read(transport, server, params, until_id=ALL[-1])
                again = await read(transport, server, params, until_id=ALL[-1])
                other = await read(transport, server, {**params, "fault_seed": 8}, ALL[-1])
            counted = await injected(client)
    got = [i for i in first.ids if i <= ALL[-1]]
    assert all(e.sample is not None for e in first.events)  # dropped, never broken
    assert got == sorted(set(got)) and set(got) < set(ALL)
    assert 0.5 * len(ALL) < len(got) < len(ALL)  # about 30 % gone
    assert [i for i in again.ids if i <= ALL[-1]] == got  # the same seed, the same gaps
    assert [i for i in other.ids if i <= ALL[-1]] != got
    dropped = 2 * (len(ALL) - len(got)) + len(ALL) - len([i for i in other.ids if i <= ALL[-1]])
    assert counted["drop"] >= dropped  # (live samples after the last one read may add some)
    assert counted["duplicate"] == counted["malformed"] == 0


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_duplicate_sends_some_samples_twice(
    transport: Transport, autojump_clock: trio.abc.Clock
) -> None:
    with trio.fail_after(60):
        async with serving() as server, server.client() as client:
            await trio.sleep(BUFFERED + 0.5)
            async with plain_reader(server):
                params = resume_from_start(faults="duplicate=0.25", fault_seed=3)
                first = await read(transport, server, params, until_id=ALL[-1])
                again = await read(transport, server, params, until_id=ALL[-1])
            counted = await injected(client)
    ids = first.ids
    twice = [a for a, b in itertools.pairwise(ids) if a == b]
    assert list(dict.fromkeys(ids)) == ALL  # nothing lost, the order kept
    assert 0 < len(twice) < len(ALL) / 2
    assert len(ids) == len(ALL) + len(twice)  # each repeat right after the original
    repeats = {e.id: e.raw for e in first.events if e.id in twice}
    assert all(e.raw == repeats[e.id] for e in first.events if e.id in twice)  # byte for byte
    assert again.ids == ids
    assert counted["duplicate"] == 2 * len(twice)


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_malformed_breaks_some_samples_keeping_their_ids(
    transport: Transport, autojump_clock: trio.abc.Clock
) -> None:
    with trio.fail_after(60):
        async with serving() as server, server.client() as client:
            await trio.sleep(BUFFERED + 0.5)
            async with plain_reader(server):
                params = resume_from_start(faults="malformed=0.25", fault_seed=5)
                first = await read(transport, server, params, until_id=ALL[-1])
                again = await read(transport, server, params, until_id=ALL[-1])
            counted = await injected(client)
    broken = [e for e in first.events if e.sample is None]
    assert 0 < len(broken) < len(ALL) / 2
    assert [e.raw for e in again.events] == [e.raw for e in first.events]  # the same seed
    good = first.ids
    assert counted["malformed"] == 2 * len(broken)  # two connections
    if transport == "sse":
        # Each broken event keeps its id: the client's position moves past it.
        assert sorted(good + [e.id for e in broken if e.id is not None]) == ALL
        assert all(e.raw.startswith('{"value":') for e in broken)
    else:
        # A broken sample is a message of its own whose text is not JSON.
        assert len(good) + len(broken) == len(ALL) and set(good) < set(ALL)
        assert all(e.raw.startswith('{"type":"samples","items":[{"value":') for e in broken)


async def test_faults_compose_and_the_seed_still_chooses_the_same(
    autojump_clock: trio.abc.Clock,
) -> None:
    faults = "drop=0.2,duplicate=0.2,malformed=0.2"
    with trio.fail_after(60):
        async with serving() as server:
            await trio.sleep(BUFFERED + 0.5)
            sse = await read(
                "sse", server, resume_from_start(faults=faults, fault_seed=11), ALL[-1]
            )
            ws = await read("ws", server, resume_from_start(faults=faults, fault_seed=11), ALL[-1])
            drop_only = await read(
                "sse", server, resume_from_start(faults="drop=0.2", fault_seed=11), ALL[-1]
            )

    def upto_last(ids: list[int]) -> list[int]:
        return [i for i in ids if i <= ALL[-1]]

    # The same samples are dropped, duplicated and broken on both transports...
    assert upto_last(sse.ids) == upto_last(ws.ids)
    sse_broken = [e for e in sse.events if e.sample is None and e.id is not None]
    ws_broken = [e for e in ws.events if e.sample is None]
    assert sse_broken and len(upto_last([e.id for e in sse_broken])) == len(
        ws_broken[: len(sse_broken)]
    )
    # ... and the drops do not depend on which other faults were asked for.
    sse_sent = {e.id for e in sse.events if e.id is not None and e.id <= ALL[-1]}
    assert sse_sent == set(upto_last(drop_only.ids))


# --- disconnect_after, stall_after ------------------------------------------------------------


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_disconnect_after_ends_the_stream_and_resume_has_no_gap(
    transport: Transport, autojump_clock: trio.abc.Clock
) -> None:
    with trio.fail_after(60):
        async with serving() as server, server.client() as client:
            async with plain_reader(server):
                first = await read(transport, server, {"faults": "disconnect_after=3"})
                resumed = await read(
                    transport,
                    server,
                    {"faults": "disconnect_after=3", "last_event_id": first.ids[-1]},
                )
            counted = await injected(client)
    for outcome in (first, resumed):
        assert outcome.ended and len(outcome.events) == 3
        assert outcome.close_code == (1001 if transport == "ws" else None)
    ids = first.ids + resumed.ids
    assert ids == list(range(ids[0], ids[0] + 6))
    assert counted["disconnect"] == 2


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_disconnect_after_zero_ends_at_once(
    transport: Transport, autojump_clock: trio.abc.Clock
) -> None:
    with trio.fail_after(30):
        async with serving() as server:
            await trio.sleep(3.5)
            start = trio.current_time()
            outcome = await read(transport, server, resume_from_start(faults="disconnect_after=0"))
    assert outcome.ended and outcome.events == []
    assert trio.current_time() - start < 0.1


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_stall_after_goes_silent_and_shutdown_still_ends_it(
    transport: Transport, autojump_clock: trio.abc.Clock
) -> None:
    received: list[float] = []
    stall = Outcome([])
    with trio.fail_after(300):
        async with serving(heartbeat_s=15) as server:
            async with server.client() as client, trio.open_nursery() as nursery:
                async with plain_reader(server) as plain:

                    async def faulted() -> None:
                        if transport == "sse":
                            async with server.client() as faulted_client:
                                await read_sse(
                                    faulted_client, {"faults": "stall_after=2"}, math.inf, stall
                                )
                        else:
                            await read_ws(server, {"faults": "stall_after=2"}, math.inf, stall)
                        received.append(trio.current_time())

                    nursery.start_soon(faulted)
                    await trio.sleep(100)  # far past the 15 s heartbeat
                    assert len(stall.events) == 2 and not stall.ended
                    assert len(plain) >= 98
                counted = await injected(client)
                stats = (await client.get("/api/stats")).json()
                assert stats["subscribers"] == 1  # the stalled one: still open
                stopped = trio.current_time()
                server.stop.set()  # the server shuts down as on SIGTERM
    assert counted["stall"] == 1
    assert stall.ended and len(stall.events) == 2
    assert stall.close_code == (1001 if transport == "ws" else None)
    assert received[0] - stopped < 1


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_stalled_stream_ends_when_its_client_leaves(
    transport: Transport, autojump_clock: trio.abc.Clock
) -> None:
    with trio.fail_after(60):
        async with serving() as server, server.client() as client:
            stalled = await read(transport, server, {"faults": "stall_after=2"}, ID_BASE + 2)
            assert [e.id for e in stalled.events] == [ID_BASE + 1, ID_BASE + 2]
            await trio.sleep(0.5)  # the client has closed its end; the server notices
            stats = (await client.get("/api/stats")).json()
    assert stats["subscribers"] == 0


# --- delay_ms, jitter_ms ----------------------------------------------------------------------


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_delay_holds_each_write(transport: Transport, autojump_clock: trio.abc.Clock) -> None:
    arrivals: dict[int, float] = {}
    with trio.fail_after(60):
        async with serving() as server, server.client() as client:
            async with trio.open_nursery() as nursery:

                async def plain() -> None:
                    async with server.client() as c, aconnect_sse(c, "GET", "/api/stream") as es:
                        async for event in es.aiter_sse():
                            if event.data:
                                arrivals[int(event.id)] = trio.current_time()

                nursery.start_soon(plain)
                await trio.sleep(0.5)
                held = await read(transport, server, {"faults": "delay_ms=400"}, ID_BASE + 6)
                jittered = await read(
                    transport,
                    server,
                    {"faults": "delay_ms=400,jitter_ms=200", "fault_seed": 1},
                    ID_BASE + 14,
                )
                nursery.cancel_scope.cancel()
            counted = await injected(client)
    # The plain reader beside them got every sample at its tick, a second apart.
    plain_ids = sorted(arrivals)
    assert plain_ids == list(range(plain_ids[0], plain_ids[0] + len(plain_ids)))
    ticks = [arrivals[i] for i in plain_ids]
    assert all(b - a == pytest.approx(1.0, abs=0.01) for a, b in itertools.pairwise(ticks))
    for event in held.events:
        assert event.id is not None
        assert event.at - arrivals[event.id] == pytest.approx(0.4, abs=0.01)
    lateness = [e.at - arrivals[e.id] for e in jittered.events if e.id is not None]
    assert all(0.2 - 0.01 <= late <= 0.6 + 0.01 for late in lateness), lateness
    assert len({round(late, 2) for late in lateness}) > 1  # not all held alike
    assert counted["delay"] >= len(held.events) + len(jittered.events)


# --- status -----------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
async def test_status_answers_instead_of_streaming(
    status: int, autojump_clock: trio.abc.Clock
) -> None:
    with trio.fail_after(30):
        async with serving() as server, server.client() as client:
            async with plain_reader(server):
                response = await client.get("/api/stream", params={"faults": f"status={status}"})
                with pytest.raises(ConnectionRejected) as rejected:
                    await read("ws", server, {"faults": f"status={status},drop=1"})
            counted = await injected(client)
            stats = (await client.get("/api/stats")).json()
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    error = response.json()["error"]
    assert set(error) == {"code", "message"} and "status=" in error["message"]
    retry_after = {429: "1", 503: "1"}.get(status)
    assert response.headers.get("retry-after") == retry_after
    ws_refusal = rejected.value
    assert ws_refusal.status_code == status
    assert ws_refusal.body is not None and json.loads(ws_refusal.body)["error"] == error
    ws_headers = {k.decode().lower(): v.decode() for k, v in ws_refusal.headers or []}
    assert ws_headers.get("retry-after") == retry_after
    assert counted["status"] == 2
    assert stats["subscribers"] == 0  # refused before subscribing


# --- bad specs --------------------------------------------------------------------------------

BAD = [
    ({"faults": "drop=1.5"}, "faults", "drop must be a probability"),
    ({"faults": "explode=1"}, "faults", "unknown fault 'explode'"),
    ({"faults": "drop"}, "faults", "not name=value"),
    ({"faults": "drop=0.1,drop=0.2"}, "faults", "given twice"),
    ({"faults": "status=404"}, "faults", "status must be one of 429, 500, 502, 503, 504"),
    ({"faults": "delay_ms=-5"}, "faults", "delay_ms must be a whole number"),
    ({"faults": "delay_ms=60001"}, "faults", "delay_ms must be at most 60000"),
    ({"faults": "disconnect_after=1e3"}, "faults", "disconnect_after must be a whole number"),
    ({"faults": "drop=0.1", "fault_seed": "-1"}, "fault_seed", "fault_seed"),
    ({"faults": "drop=0.1", "fault_seed": "seven"}, "fault_seed", "fault_seed"),
    ({"faults": "drop=0.1", "fault_seed": str(2**53)}, "fault_seed", "fault_seed"),
]


@pytest.mark.parametrize(("params", "parameter", "message"), BAD)
async def test_a_bad_spec_is_a_400_naming_it(
    params: dict[str, str], parameter: str, message: str, autojump_clock: trio.abc.Clock
) -> None:
    with trio.fail_after(30):
        async with serving() as server, server.client() as client:
            response = await client.get("/api/stream", params=params)
            with pytest.raises(ConnectionRejected) as rejected:
                await read("ws", server, params)
            await trio.sleep(1.5)
            stats = (await client.get("/api/stats")).json()
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_parameter"
    assert error["parameter"] == parameter
    assert message in error["message"]
    assert rejected.value.status_code == 400
    assert rejected.value.body is not None and json.loads(rejected.value.body)["error"] == error
    assert stats["published"] > 0  # the server carries on


async def test_empty_faults_ask_for_nothing(autojump_clock: trio.abc.Clock) -> None:
    with trio.fail_after(60):
        async with serving() as server:
            await trio.sleep(BUFFERED + 0.5)
            outcome = await read("sse", server, resume_from_start(faults=""), ALL[-1])
    assert outcome.ids == ALL


async def test_a_websocket_subscribe_keeps_the_connections_faults(
    autojump_clock: trio.abc.Clock,
) -> None:
    ids: list[int] = []
    with trio.fail_after(30):
        async with serving() as server:
            url = ws_url(server, faults="disconnect_after=5")
            async with open_websocket_url(url, max_message_size=MAX_MESSAGE) as ws:
                try:
                    while True:
                        message = json.loads(await ws.get_message())
                        ids += [item["id"] for item in message.get("items", [])]
                        if len(ids) == 2:
                            await ws.send_message(json.dumps({"type": "subscribe"}))
                except ConnectionClosed as closed:
                    code = closed.reason.code
    assert code == 1001
    assert ids == list(range(ids[0], ids[0] + 5))  # five in all, across the subscribe


# --- the injector on its own ------------------------------------------------------------------


def records(n: int, subject: str = "default") -> list[Record]:
    return [
        Record(i, Sample("heart_rate", 60 + i, 1000 * i, "count/min", subject))
        for i in range(1, n + 1)
    ]


def chosen(spec: str, seed: int, groups: list[list[Record]]) -> list[bytes]:
    injector = Injector(parse_faults(spec), seed, FaultCounts())
    frames = b"".join(
        piece for group in groups for piece, _ in injector.pieces(group, SSE_FRAMING, "native")
    )
    return frames.split(b"\n\n")


def test_the_seed_chooses_the_same_samples_however_they_are_grouped() -> None:
    spec = "drop=0.2,duplicate=0.2,malformed=0.2"
    all_at_once = chosen(spec, 42, [records(300)])
    one_by_one = chosen(spec, 42, [[r] for r in records(300)])
    in_tens = chosen(spec, 42, [records(300)[i : i + 10] for i in range(0, 300, 10)])
    assert all_at_once == one_by_one == in_tens
    assert chosen(spec, 43, [records(300)]) != all_at_once


def test_a_broken_sample_is_never_json_and_always_text() -> None:
    for subject in ("default", "zoë", "李雷", "a" * 200):
        for record in records(5, subject):
            data = record.json("native")
            assert data is not None
            broken = cut(data)
            broken.decode()  # still UTF-8: a WebSocket text message must be
            with pytest.raises(ValueError):
                json.loads(broken)
            with pytest.raises(ValueError):
                json.loads(wsframes.broken_samples(broken, record.id))


def test_disconnect_after_counts_events_on_the_wire() -> None:
    counts = FaultCounts()
    spec = parse_faults("disconnect_after=10,duplicate=0.5,malformed=0.2")
    injector = Injector(spec, 1, counts)
    pieces = injector.pieces(records(50), SSE_FRAMING, "native")
    assert sum(events for _, events in pieces) == 10
    assert b"".join(piece for piece, _ in pieces).count(b"id: ") == 10
    assert injector.ending == "disconnect"
    assert injector.pieces(records(5), SSE_FRAMING, "native") == []  # nothing after the end


async def test_a_stalled_websocket_still_reads_its_clients_messages(
    autojump_clock: trio.abc.Clock,
) -> None:
    # Unread, they would fill the connection's inbox and hide the client's close.
    with trio.fail_after(60):
        async with serving() as server, server.client() as client:
            url = ws_url(server, faults="stall_after=1")
            async with open_websocket_url(url, max_message_size=MAX_MESSAGE) as ws:
                await ws.get_message()
                for _ in range(20):
                    await ws.send_message(json.dumps({"type": "subscribe"}))
                with trio.move_on_after(30):
                    await ws.get_message()
                    raise AssertionError("a stalled connection answered")
            await trio.sleep(0.5)
            stats = (await client.get("/api/stats")).json()
    assert stats["subscribers"] == 0


# --- with sessions ----------------------------------------------------------------------------


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_sessions_stalled_stream_ends_with_its_session(
    transport: Transport, autojump_clock: trio.abc.Clock
) -> None:
    stalled = Outcome([])
    with trio.fail_after(120):
        async with serving() as server, server.client() as client:
            created = await client.post("/api/sessions", json={"subjects": ["alice"], "seed": 3})
            session = created.json()["id"]
            params = {"session": session, "faults": "stall_after=2,duplicate=1", "fault_seed": 1}
            async with plain_reader(server), trio.open_nursery() as nursery:

                async def faulted() -> None:
                    if transport == "sse":
                        async with server.client() as faulted_client:
                            await read_sse(faulted_client, params, math.inf, stalled)
                    else:
                        await read_ws(server, params, math.inf, stalled)
                    ended_at.append(trio.current_time())

                ended_at: list[float] = []
                nursery.start_soon(faulted)
                await trio.sleep(40)
                assert not stalled.ended
                deleted_at = trio.current_time()
                assert (await client.delete(f"/api/sessions/{session}")).status_code == 204
            ended_after = ended_at[0] - deleted_at
    # One sample, sent twice (duplicate=1), is the two events stall_after allows.
    assert [e.sample["subject"] for e in stalled.events if e.sample] == ["alice", "alice"]
    assert len({e.id for e in stalled.events}) == 1
    assert stalled.ended and ended_after < 1
    assert stalled.close_code == (1000 if transport == "ws" else None)


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_stall_ends_after_its_maximum(
    transport: Transport, autojump_clock: trio.abc.Clock
) -> None:
    stall = Outcome([])
    with trio.fail_after(STALL_MAX_S * 2):
        async with serving() as server:
            start = trio.current_time()
            if transport == "sse":
                async with server.client() as client:
                    await read_sse(client, {"faults": "stall_after=2"}, math.inf, stall)
            else:
                await read_ws(server, {"faults": "stall_after=2"}, math.inf, stall)
            lasted = trio.current_time() - start
    assert stall.ended and len(stall.events) == 2
    assert STALL_MAX_S <= lasted < STALL_MAX_S + 5
    assert stall.close_code == (1001 if transport == "ws" else None)
