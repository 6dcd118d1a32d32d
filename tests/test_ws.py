"""/api/ws over a real Hypercorn on port 0, read with trio-websocket."""

from __future__ import annotations

import itertools
import json
import math
import random
import signal
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
import trio
from httpx_sse import aconnect_sse
from trio_websocket import (
    ConnectionClosed,
    ConnectionRejected,
    WebSocketConnection,
    open_websocket_url,
    wrap_client_stream,
)

from biomock.sample import Sample
from tests.auth.helpers import auth_serving, mint
from tests.serving import ID_BASE, WALL_MS, Running, TickSource, serving
from tests.test_shutdown import start_server

MAX_MESSAGE = 64 * 2**20  # a resume's replay can be large


def ws_url(server: Running, path: str = "/api/ws", **params: Any) -> str:
    query = "?" + urlencode(params) if params else ""
    return "ws" + server.url.removeprefix("http") + path + query


@asynccontextmanager
async def open_ws(server: Running, **params: Any) -> AsyncIterator[WebSocketConnection]:
    async with open_websocket_url(ws_url(server, **params), max_message_size=MAX_MESSAGE) as ws:
        yield ws


async def receive(ws: WebSocketConnection) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(await ws.get_message())
    return message


async def read_samples(ws: WebSocketConnection, n: int) -> list[dict[str, Any]]:
    """At least ``n`` samples (whole messages), checking each message's shape."""
    items: list[dict[str, Any]] = []
    while len(items) < n:
        message = await receive(ws)
        if message["type"] == "heartbeat":
            continue
        assert message["type"] == "samples", message
        assert message["items"], "a samples message is never empty"
        items += message["items"]
    return items


async def history_ids(client: httpx.AsyncClient, **params: Any) -> list[int]:
    response = await client.get("/api/history", params={"limit": 10000, **params})
    return [item["id"] for item in response.json()["items"]]


async def test_ws_and_sse_with_the_same_filter_see_the_same_ids(
    autojump_clock: trio.abc.Clock,
) -> None:
    source = TickSource(subjects=("a", "b"), types=("heart_rate", "steps"))
    params = {"types": "steps", "subject": "b", "format": "fhir"}
    with trio.fail_after(60):
        async with serving(source=source) as server, server.client() as client:
            await trio.sleep(2.5)
            resume = {"last_event_id": ID_BASE}
            async with open_ws(server, **params, **resume) as ws:
                over_ws = await read_samples(ws, 8)
            over_sse: list[dict[str, Any]] = []
            async with aconnect_sse(
                client, "GET", "/api/stream", params={**params, **resume}
            ) as es:
                async for event in es.aiter_sse():
                    if not event.data:
                        continue  # the retry field
                    over_sse.append(json.loads(event.data))
                    if len(over_sse) == len(over_ws):
                        break
            expected = await history_ids(client, types="steps", subject="b")
    assert over_ws == over_sse  # the same samples, byte for byte in the chosen format
    assert over_ws[0]["resourceType"] == "Observation"
    assert [int(s["id"]) for s in over_ws] == expected[: len(over_ws)]


async def test_resume_after_100_forced_disconnects_has_no_gap_and_no_duplicate(
    autojump_clock: trio.abc.Clock,
) -> None:
    source = TickSource(subjects=("a", "b", "c"), types=("heart_rate", "steps"), period_ms=100)
    rng = random.Random(11)
    seen: list[int] = []
    with trio.fail_after(120):
        async with serving(source=source) as server, server.client() as client:
            async with trio.open_nursery() as nursery:
                for _ in range(100):
                    stream = await trio.open_tcp_stream("127.0.0.1", server.port)
                    query = urlencode({"types": "heart_rate", "last_event_id": ID_BASE})
                    if seen:
                        query = urlencode({"types": "heart_rate", "last_event_id": seen[-1]})
                    ws = await wrap_client_stream(
                        nursery, stream, "127.0.0.1", "/api/ws?" + query,
                        max_message_size=MAX_MESSAGE,
                    )  # fmt: skip
                    items = await read_samples(ws, rng.randint(1, 12))
                    seen += [item["id"] for item in items]
                    assert {item["type"] for item in items} == {"heart_rate"}
                    await stream.aclose()  # no closing handshake: the connection is just gone
                    await trio.sleep(rng.choice([0, 0.05, 0.3, 1.0]))
            expected = await history_ids(client, types="heart_rate")
            stats = (await client.get("/api/stats")).json()
    assert seen == expected[: len(seen)]
    assert stats["subscribers"] == 0


async def test_reset_when_the_resume_point_is_expired_or_unknown(
    autojump_clock: trio.abc.Clock,
) -> None:
    with trio.fail_after(30):
        async with serving(buffer_size=5) as server:
            await trio.sleep(10.5)  # ten samples published, five kept
            async with open_ws(server, last_event_id=ID_BASE + 2) as ws:
                expired = await receive(ws)
                replay = await read_samples(ws, 5)
            async with open_ws(server, last_event_id=ID_BASE + 99) as ws:
                unknown = await receive(ws)
                live = await read_samples(ws, 1)
    assert expired == {
        "type": "reset",
        "reason": "expired",
        "oldest_id": ID_BASE + 6,
        "newest_id": ID_BASE + 10,
    }
    assert [s["id"] for s in replay] == list(range(ID_BASE + 6, ID_BASE + 11))
    assert unknown["type"] == "reset" and unknown["reason"] == "unknown"
    assert live[0]["id"] == ID_BASE + 11


async def test_history_sends_the_newest_matching_first_then_live(
    autojump_clock: trio.abc.Clock,
) -> None:
    source = TickSource(subjects=("a", "b"))
    with trio.fail_after(30):
        async with serving(source=source) as server, server.client() as client:
            await trio.sleep(5.5)
            async with open_ws(server, subject="b", history=3) as ws:
                first = await receive(ws)
                live = await read_samples(ws, 1)
            b_ids = await history_ids(client, subject="b")
    assert [s["id"] for s in first["items"]] == b_ids[2:5]  # the newest three at connect
    assert live[0]["id"] == b_ids[5]


async def test_subscribe_retargets_in_place_without_gap_or_duplicate(
    autojump_clock: trio.abc.Clock,
) -> None:
    source = TickSource(subjects=("a", "b"), types=("heart_rate", "steps"), period_ms=250)
    with trio.fail_after(60):
        async with serving(source=source) as server, server.client() as client:
            async with open_ws(server, types="heart_rate", subject="a") as ws:
                before = await read_samples(ws, 6)
                await trio.sleep(2)  # unread samples pile up while the message is in flight
                await ws.send_message(json.dumps({"type": "subscribe", "types": ["steps"]}))
                after = await read_samples(ws, 30)
                # an explicit last_event_id replays from there, format and all
                await ws.send_message(
                    json.dumps({"type": "subscribe", "format": "fhir", "last_event_id": ID_BASE})
                )
                while "resourceType" not in (message := await receive(ws))["items"][0]:
                    pass  # samples of the old subscription still in flight
            all_steps = await history_ids(client, types="steps")
            all_a_hr = await history_ids(client, types="heart_rate", subject="a")
    old = [s for s in before + after if s["type"] == "heart_rate"]
    new = [s for s in after if s["type"] == "steps"]
    assert {s["subject"] for s in old} == {"a"}
    assert [s["id"] for s in old] == all_a_hr[: len(old)]
    # steps of both subjects, from the last id sent on: nothing skipped, nothing twice
    start = old[-1]["id"]
    assert [s["id"] for s in new] == [i for i in all_steps if i > start][: len(new)]
    assert {s["subject"] for s in new} == {"a", "b"}
    assert message["items"][0]["id"] == str(ID_BASE + 1)


async def test_invalid_parameters_are_refused_before_the_upgrade(
    autojump_clock: trio.abc.Clock,
) -> None:
    cases = [
        ("/api/ws", {"types": "hart_rate"}, 400, "invalid_parameter", "types"),
        ("/api/ws", {"subject": "nobody"}, 400, "invalid_parameter", "subject"),
        ("/api/ws", {"format": "xml"}, 400, "invalid_parameter", "format"),
        ("/api/ws", {"last_event_id": "-1"}, 400, "invalid_parameter", "last_event_id"),
        ("/api/ws", {"history": "x"}, 400, "invalid_parameter", "history"),
        ("/api/stream", {}, 404, "not_found", None),
        ("/elsewhere", {}, 404, "not_found", None),
    ]
    with trio.fail_after(30):
        async with serving() as server:
            for path, params, status, code, parameter in cases:
                with pytest.raises(ConnectionRejected) as refused:
                    async with open_websocket_url(ws_url(server, path, **params)):
                        pass
                assert refused.value.status_code == status, (path, params)
                headers = dict(refused.value.headers)
                assert headers[b"content-type"] == b"application/json"
                body = json.loads(refused.value.body or b"")
                assert body["error"]["code"] == code
                assert body["error"].get("parameter") == parameter
            async with server.client() as client:
                plain = await client.get("/api/ws")  # no upgrade
                assert (await client.get("/healthz")).status_code == 200
    assert plain.status_code == 426 and plain.headers["upgrade"] == "websocket"
    assert plain.json()["error"]["code"] == "upgrade_required"


async def test_the_subscriber_limit_is_a_503_before_the_upgrade(
    autojump_clock: trio.abc.Clock,
) -> None:
    with trio.fail_after(30):
        async with serving(max_subscribers=1) as server:
            async with open_ws(server) as ws:
                await read_samples(ws, 1)
                with pytest.raises(ConnectionRejected) as refused:
                    async with open_ws(server):
                        pass
                await read_samples(ws, 1)  # the first one is unaffected
    assert refused.value.status_code == 503
    assert dict(refused.value.headers)[b"retry-after"] == b"5"
    assert json.loads(refused.value.body or b"")["error"]["code"] == "too_many_subscribers"


async def test_bad_client_messages_get_error_frames_and_the_stream_goes_on(
    autojump_clock: trio.abc.Clock,
) -> None:
    bad: list[tuple[str | bytes, str, str | None]] = [
        ("not json", "invalid_json", None),
        ("[1, 2]", "invalid_json", None),
        ("[" * 3000, "invalid_json", None),
        (b"\x00binary", "invalid_json", None),
        (json.dumps({"type": "unsubscribe"}), "invalid_parameter", "type"),
        (json.dumps({"types": ["steps"]}), "invalid_parameter", "type"),
        (json.dumps({"type": "subscribe", "types": ["hart_rate"]}), "invalid_parameter", "types"),
        (json.dumps({"type": "subscribe", "types": []}), "invalid_parameter", "types"),
        (json.dumps({"type": "subscribe", "format": "xml"}), "invalid_parameter", "format"),
        (json.dumps({"type": "subscribe", "last_event_id": -5}), "invalid_parameter", None),
        (json.dumps({"type": "subscribe", "last_event_id": "7"}), "invalid_parameter", None),
        (json.dumps({"type": "subscribe", "extra": 1}), "invalid_parameter", "extra"),
    ]
    with trio.fail_after(30):
        async with serving() as server:
            async with open_ws(server) as ws:
                first = await read_samples(ws, 1)
                errors = []
                for message, _, _ in bad:
                    await ws.send_message(message)
                    while (reply := await receive(ws))["type"] != "error":
                        pass
                    errors.append(reply["error"])
                later = await read_samples(ws, 2)
    for (message, code, parameter), error in zip(bad, errors, strict=True):
        assert error["code"] == code, (message, error)
        assert error["message"]
        if parameter is not None:
            assert error["parameter"] == parameter, (message, error)
    assert later[0]["id"] > first[-1]["id"]


async def test_heartbeat_after_silence_and_pings_answered(autojump_clock: trio.abc.Clock) -> None:
    with trio.fail_after(30):
        async with serving(source=TickSource(period_ms=3_600_000), heartbeat_s=2) as server:
            async with open_ws(server) as ws:
                started = trio.current_time()
                beat = await receive(ws)
                waited = trio.current_time() - started
                await ws.ping(b"are you there")
                second = await receive(ws)
    assert beat["type"] == "heartbeat" and beat["time"].endswith("Z")
    assert 2 <= waited < 2.5
    assert second["type"] == "heartbeat"


class FiniteSource(TickSource):
    """A source that is drained after ``limit`` samples, as a replay without loop."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit

    @property
    def finished(self) -> bool:
        return self.count >= self.limit


async def test_a_finished_replay_closes_with_1000_after_the_last_sample(
    autojump_clock: trio.abc.Clock,
) -> None:
    with trio.fail_after(60):
        async with serving(source=FiniteSource(5), heartbeat_s=2) as server:
            async with open_ws(server) as ws:
                items = await read_samples(ws, 5)
                with pytest.raises(ConnectionClosed) as closed:
                    await ws.get_message()
                closed_at = trio.current_time()
    assert [s["id"] for s in items] == list(range(ID_BASE + 1, ID_BASE + 6))
    assert closed.value.reason is not None and closed.value.reason.code == 1000
    assert 7 <= closed_at < 8  # the last sample at 5 s, then one heartbeat interval


async def test_a_lagging_client_is_closed_with_1008(autojump_clock: trio.abc.Clock) -> None:
    # A burst larger than the buffer, published at once: the samples the client wants are
    # gone before its pump can take them.
    burst = [Sample("heart_rate", 60, WALL_MS + i, "count/min") for i in range(8)]
    with trio.fail_after(30):
        async with serving(buffer_size=4) as server:
            hub = server.app.state.hub
            async with open_ws(server) as ws:
                await read_samples(ws, 1)
                hub.publish(burst)
                with pytest.raises(ConnectionClosed) as closed:
                    while True:
                        await ws.get_message()
            stats = hub.statistics()
    assert closed.value.reason is not None and closed.value.reason.code == 1008
    assert stats.dropped == {"lagged": 1}


async def open_stalled_ws(port: int, query: str) -> trio.SocketStream:
    """Upgrade with a tiny receive window, then never read."""
    sock = trio.socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    await sock.connect(("127.0.0.1", port))
    stream = trio.SocketStream(sock)
    await stream.send_all(
        b"GET /api/ws?%s HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
        b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        b"Sec-WebSocket-Version: 13\r\n\r\n" % query.encode()
    )
    return stream


async def stalled_among(readers: int) -> None:
    """One client stops reading among ``readers``: it is cut, nobody else waits for it."""
    # 100 subjects x 2 kB a second: the stalled client asks for 5,000 of them (10 MB)
    # at once, far more than the socket buffers hold; the readers want one subject.
    source = TickSource(subjects=tuple(f"s{i}" for i in range(100)), pad=2000)
    ticks = 15
    arrivals: list[list[float]] = [[] for _ in range(readers)]
    received: list[list[int]] = [[] for _ in range(readers)]
    connected = 0
    all_connected = trio.Event()
    # The kernel's cut is pushed far out: 5 virtual seconds can take longer than 5 real ones.
    async with serving(source=source, slow_client_timeout_s=5, user_timeout_s=600) as server:
        hub = server.app.state.hub
        await trio.sleep(50.5)

        async def read(i: int) -> None:
            nonlocal connected
            async with open_ws(server, subject="s0") as ws:
                while len(arrivals[i]) < ticks:
                    message = await receive(ws)
                    arrivals[i].append(trio.current_time())
                    received[i] += [item["id"] for item in message["items"]]
                    if len(arrivals[i]) == 1:
                        connected += 1
                        if connected == readers:
                            all_connected.set()

        async with trio.open_nursery() as nursery:
            for i in range(readers):
                nursery.start_soon(read, i)
            await all_connected.wait()
            stalled = await open_stalled_ws(server.port, "history=5000")
            stalled_at = trio.current_time()
            for _ in range(200):
                if hub.counters.dropped["stalled"]:
                    break
                await trio.sleep(0.05)
            cut_after = trio.current_time() - stalled_at
            subscribers = hub.statistics().subscribers
        await stalled.aclose()
        async with server.client() as client:
            expected = await history_ids(client, subject="s0")
    assert hub.counters.dropped == {"stalled": 1}
    assert 5 <= cut_after < 6.5, cut_after
    assert subscribers == readers  # the stalled one is gone, every reader stays
    for times, ids in zip(arrivals, received, strict=True):
        # one message a second (the tick), never held up by the stalled write
        assert max(b - a for a, b in itertools.pairwise(times)) < 1.5
        assert ids == [i for i in expected if i >= ids[0]][: len(ids)]


async def test_a_stalled_client_among_readers_is_cut_and_delays_nobody(
    autojump_clock: trio.abc.Clock,
) -> None:
    with trio.fail_after(120):
        await stalled_among(20)


@pytest.mark.slow
async def test_a_stalled_client_among_2000_is_cut_and_delays_nobody(
    autojump_clock: trio.abc.Clock,
) -> None:
    with trio.fail_after(600):
        await stalled_among(2000)


async def test_sigterm_closes_with_1001_within_the_graceful_timeout() -> None:
    # A real process on the real clock: signals and process exit cannot run on a virtual
    # one. One WebSocket client stops reading among 20 readers.
    graceful_s = 3.0
    settings = {
        "BIOMOCK_SUBJECTS": "10",
        "BIOMOCK_SPEED": "1000",  # about 2 MB/s for the stalled client: its buffers fill
        "BIOMOCK_GRACEFUL_TIMEOUT_S": str(graceful_s),
        "BIOMOCK_SLOW_CLIENT_TIMEOUT_S": "60",
    }
    readers = 20
    closes: list[tuple[int | None, float]] = []
    connected = trio.Event()
    with trio.fail_after(60):
        async with trio.open_nursery() as nursery:
            process, url = await start_server(nursery, settings)
            port = int(url.rsplit(":", 1)[1])
            stalled = await open_stalled_ws(port, "")
            signalled = math.inf

            async def read() -> None:
                ws_url = "ws" + url.removeprefix("http") + "/api/ws?types=blood_glucose"
                async with open_websocket_url(ws_url, max_message_size=MAX_MESSAGE) as ws:
                    with pytest.raises(ConnectionClosed) as closed:
                        first = True
                        while True:
                            await ws.get_message()
                            if first:
                                first = False
                                ready.append(None)
                                if len(ready) == readers:
                                    connected.set()
                    reason = closed.value.reason
                    closes.append(
                        (None if reason is None else reason.code, trio.current_time() - signalled)
                    )

            ready: list[None] = []
            async with trio.open_nursery() as clients:
                for _ in range(readers):
                    clients.start_soon(read)
                await connected.wait()
                await trio.sleep(3)  # the stalled client's buffers fill up
                process.send_signal(signal.SIGTERM)
                signalled = trio.current_time()
                with trio.fail_after(graceful_s + 2):
                    await process.wait()
                exited_after = trio.current_time() - signalled
            await stalled.aclose()
            nursery.cancel_scope.cancel()
    assert process.returncode == 0
    assert exited_after < graceful_s + 2
    assert len(closes) == readers
    assert {code for code, _ in closes} == {1001}
    assert max(after for _, after in closes) < graceful_s


async def test_compression_is_declined(autojump_clock: trio.abc.Clock) -> None:
    # Browsers, Python's websockets and Dart all offer permessage-deflate; accepting it
    # would cost every connection its own zlib state and a deflate per message.
    with trio.fail_after(30):
        async with serving() as server:
            stream = await trio.open_tcp_stream("127.0.0.1", server.port)
            async with stream:
                await stream.send_all(
                    b"GET /api/ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                    b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                    b"Sec-WebSocket-Version: 13\r\n"
                    b"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n"
                )
                head = b""
                while b"\r\n\r\n" not in head:
                    head += await stream.receive_some()
    status, *headers = head.split(b"\r\n\r\n")[0].lower().split(b"\r\n")
    assert status.startswith(b"http/1.1 101")
    assert not [h for h in headers if h.startswith(b"sec-websocket-extensions")]


async def test_a_websocket_closes_with_4401_when_its_jwt_expires(
    tmp_path: Path, autojump_clock: trio.abc.Clock
) -> None:
    short = mint(scope="read", ttl_s=5)
    with trio.fail_after(120):
        async with auth_serving(tmp_path, source=TickSource()) as server:
            async with open_ws(server, access_token=short) as ws:
                ids: list[int] = []
                with pytest.raises(ConnectionClosed) as closed:
                    while True:
                        message = await receive(ws)
                        ids += [item["id"] for item in message.get("items", [])]
            fresh = mint(scope="read", ttl_s=3600)
            async with open_ws(server, access_token=fresh, last_event_id=ids[-1]) as ws:
                again = await read_samples(ws, 3)
    assert closed.value.reason is not None and closed.value.reason.code == 4401
    assert ids == list(range(ids[0], ids[0] + len(ids)))
    assert [s["id"] for s in again][:3] == [ids[-1] + 1, ids[-1] + 2, ids[-1] + 3]
