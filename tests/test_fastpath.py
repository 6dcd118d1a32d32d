"""The fan-out fast path, over a real Hypercorn on 127.0.0.1 port 0.

These run on the real clock: what is tested is the kernel's socket buffers and
Hypercorn's connection state, which no virtual clock drives. Each is bounded
to seconds.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from importlib import metadata
from typing import Any

import pytest
import trio
from h11._writers import ChunkedWriter

from biomock import fastpath
from biomock.app import BiomockApp
from biomock.hub import Hub
from biomock.sample import Sample
from tests.serving import WALL_MS, TickSource, serving


@asynccontextmanager
async def quiet_server(**settings: Any) -> AsyncIterator[tuple[BiomockApp, int]]:
    """A server whose source stays quiet: the tests publish to the hub themselves."""
    async with serving(source=TickSource(period_ms=3_600_000), **settings) as server:
        yield server.app, server.port


async def wait_until(predicate: Callable[[], bool]) -> None:
    while True:
        if predicate():
            return
        await trio.sleep(0.01)


async def wait_idle(hub: Hub, subscribers: int) -> None:
    """Until ``subscribers`` streams are open and each task waits, fast path attached."""
    await wait_until(
        lambda: (
            len(hub.subscriptions()) == subscribers
            and all(sub.direct is not None for sub in hub.subscriptions())
        )
    )


def batch(n: int, *, pad: int = 0, start: int = 0) -> list[Sample]:
    extra = {"pad": "x" * pad} if pad else {}
    return [
        Sample("heart_rate", start + i, WALL_MS + start + i, "count/min", extra=extra)
        for i in range(n)
    ]


class RawStream:
    """A raw HTTP/1.x stream client that checks every byte of the chunked framing."""

    def __init__(self, stream: trio.SocketStream) -> None:
        self.stream = stream
        self.buffer = b""
        self.chunked = False
        self.head = b""

    @classmethod
    async def open(
        cls,
        port: int,
        *,
        version: str = "1.1",
        headers: str = "",
        rcvbuf: int | None = None,
        target: str = "/api/stream",
    ) -> RawStream:
        sock = trio.socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        await sock.connect(("127.0.0.1", port))
        client = cls(trio.SocketStream(sock))
        request = f"GET {target} HTTP/{version}\r\nHost: 127.0.0.1\r\n{headers}\r\n"
        await client.stream.send_all(request.encode())
        return client

    async def _fill(self) -> None:
        data = await self.stream.receive_some(65536)
        if not data:
            raise EOFError
        self.buffer += data

    async def read_head(self) -> bytes:
        while b"\r\n\r\n" not in self.buffer:
            await self._fill()
        self.head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        assert self.head.startswith(b"HTTP/1.1 200 "), self.head
        self.chunked = b"transfer-encoding: chunked" in self.head.lower()
        return self.head

    async def read_chunk(self) -> bytes:
        """The next chunk's payload; fails on anything but ``hex CRLF data CRLF``."""
        if not self.chunked:
            if not self.buffer:
                await self._fill()
            data, self.buffer = self.buffer, b""
            return data
        while b"\r\n" not in self.buffer:
            await self._fill()
        line, rest = self.buffer.split(b"\r\n", 1)
        assert line and all(c in b"0123456789abcdef" for c in line), line
        size = int(line, 16)
        self.buffer = rest
        while len(self.buffer) < size + 2:
            await self._fill()
        payload, trailer = self.buffer[:size], self.buffer[size : size + 2]
        assert trailer == b"\r\n", trailer
        self.buffer = self.buffer[size + 2 :]
        return payload

    async def read_ids(self, count: int) -> list[int]:
        """Ids of the next ``count`` events, each event parsed as SSE."""
        ids: list[int] = []
        text = b""
        while len(ids) < count:
            text += await self.read_chunk()
            *events, text = text.split(b"\n\n")
            for event in events:
                if event.startswith(b"id: "):
                    lines = event.split(b"\n")
                    assert len(lines) == 2 and lines[1].startswith(b"data: {"), event
                    ids.append(int(lines[0][4:]))
        assert text == b""
        return ids


class Counting:
    """Counts calls of the fast path's entry points: direct writes made by a publish
    (``direct``: one by one, or by a cohort to each of its members), the stream task's
    own direct writes (``own``: its first bytes and keepalives) and flushed remainders."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.writes = 0
        self.own = 0
        self.flushed = 0
        write_nowait = fastpath.DirectDelivery.write_nowait
        write_chunk = fastpath.DirectDelivery.write_chunk
        flush = fastpath.DirectDelivery.flush
        deliver = fastpath.Cohort.deliver

        def counting_deliver(cohort: fastpath.Cohort) -> None:
            members, before = len(cohort.members), cohort.last_write
            deliver(cohort)
            if cohort.last_write != before:
                self.writes += members

        monkeypatch.setattr(fastpath.Cohort, "deliver", counting_deliver)

        def counting_write(delivery: fastpath.DirectDelivery, data: bytes) -> int | None:
            self.writes += 1
            return write_nowait(delivery, data)

        async def counting_chunk(
            delivery: fastpath.DirectDelivery, chunk: bytes, send: Any
        ) -> None:
            self.own += 1  # and one write_nowait
            await write_chunk(delivery, chunk, send)

        async def counting_flush(delivery: fastpath.DirectDelivery, send: Any) -> None:
            self.flushed += 1
            await flush(delivery, send)

        monkeypatch.setattr(fastpath.DirectDelivery, "write_nowait", counting_write)
        monkeypatch.setattr(fastpath.DirectDelivery, "write_chunk", counting_chunk)
        monkeypatch.setattr(fastpath.DirectDelivery, "flush", counting_flush)

    @property
    def direct(self) -> int:
        return self.writes - self.own


@pytest.fixture
def counting(monkeypatch: pytest.MonkeyPatch) -> Iterator[Counting]:
    yield Counting(monkeypatch)


def test_the_internals_the_fast_path_relies_on_are_unchanged() -> None:
    """If this fails, Hypercorn or h11 was upgraded: re-read biomock/fastpath.py against
    the new internals before updating ``fastpath.SUPPORTED`` and the pins."""
    installed = {name: metadata.version(name) for name in fastpath.SUPPORTED}
    assert installed == fastpath.SUPPORTED
    assert fastpath.AVAILABLE
    written: list[bytes] = []
    ChunkedWriter().send_data(b"id: 1\ndata: {}\n\n", written.append)
    assert b"".join(written) == fastpath.frame_chunk(b"id: 1\ndata: {}\n\n")


async def test_direct_writes_are_valid_chunked_sse(counting: Counting) -> None:
    with trio.fail_after(10):
        async with quiet_server() as (app, port):
            hub: Hub = app.state.hub
            client = await RawStream.open(port)
            await client.read_head()
            assert await client.read_chunk() == b"retry: 3000\n\n"
            for round_ in range(3):
                await wait_idle(hub, 1)
                first = hub.next_id
                hub.publish(batch(5, start=round_ * 5))
                # one chunk per publish, holding every event in order
                payload = await client.read_chunk()
                events = payload.split(b"\n\n")
                assert events[-1] == b""
                assert [int(e.split(b"\n")[0][4:]) for e in events[:-1]] == list(
                    range(first, first + 5)
                )
            await client.stream.aclose()
    assert counting.direct == 3
    assert counting.own == 1  # the first bytes (retry:) went straight to the socket too
    assert counting.flushed == 0


async def test_an_http10_client_falls_back_to_the_public_path(counting: Counting) -> None:
    with trio.fail_after(10):
        async with quiet_server() as (app, port):
            hub: Hub = app.state.hub
            client = await RawStream.open(port, version="1.0")
            head = await client.read_head()
            assert not client.chunked, head
            await wait_until(lambda: hub.statistics().subscribers == 1)
            first = hub.next_id
            hub.publish(batch(3))
            assert await client.read_ids(3) == [first, first + 1, first + 2]
            await client.stream.aclose()
    assert counting.direct == 0


async def test_slow_reader_gets_every_byte_in_order(counting: Counting) -> None:
    """Writes the socket cannot take go to the subscriber's task; the framing holds."""
    with trio.fail_after(30):
        async with quiet_server(buffer_size=20000) as (app, port):
            hub: Hub = app.state.hub
            client = await RawStream.open(port, rcvbuf=8192)
            await client.read_head()
            await client.read_chunk()
            await wait_idle(hub, 1)
            first = hub.next_id
            # About 8 MB while the client does not read: more than the socket buffers hold.
            # Publishes in twos, so one also arrives while a remainder waits for the task.
            for i in range(80):
                hub.publish(batch(100, pad=1000, start=i * 100))
                if i % 2:
                    await trio.lowlevel.checkpoint()
            assert await client.read_ids(8000) == list(range(first, first + 8000))
            await client.stream.aclose()
    assert counting.flushed > 0  # the remainder path was taken


@pytest.mark.parametrize("fast_path", [True, False])
async def test_a_stalled_client_never_delays_the_others(fast_path: bool) -> None:
    with trio.fail_after(30):
        async with quiet_server(fast_path=fast_path, slow_client_timeout_s=5.0) as (app, port):
            hub: Hub = app.state.hub
            stalled = await RawStream.open(port, rcvbuf=4096)
            reader = await RawStream.open(port)
            await reader.read_head()
            await reader.read_chunk()
            await wait_until(lambda: hub.statistics().subscribers == 2)
            delays = []
            # 100 kB per publish: the stalled connection's buffers fill within the run.
            for i in range(60):
                first = hub.next_id
                published = trio.current_time()
                hub.publish(batch(20, pad=5000, start=i * 20))
                assert await reader.read_ids(20) == list(range(first, first + 20))
                delays.append(trio.current_time() - published)
                await trio.sleep(0.05)
            # ... and it is cut after the slow-client timeout while the reader goes on.
            while hub.statistics().dropped_slow < 1:
                first = hub.next_id
                hub.publish(batch(1))
                assert await reader.read_ids(1) == [first]
                await trio.sleep(0.1)
            assert hub.statistics().subscribers == 1
            await reader.stream.aclose()
            await stalled.stream.aclose()
    # Waiting behind the stalled write would take the whole 5 s timeout; half of it
    # leaves room for a loaded machine (usually a few milliseconds).
    assert max(delays) < 2.5, max(delays)


async def test_resume_after_a_disconnect_has_no_gap(counting: Counting) -> None:
    with trio.fail_after(10):
        async with quiet_server() as (app, port):
            hub: Hub = app.state.hub
            client = await RawStream.open(port)
            await client.read_head()
            await client.read_chunk()
            await wait_idle(hub, 1)
            hub.publish(batch(4))
            seen = await client.read_ids(4)
            await client.stream.aclose()
            await wait_until(lambda: hub.statistics().subscribers == 0)
            hub.publish(batch(3, start=4))  # missed while away
            client = await RawStream.open(port, headers=f"Last-Event-ID: {seen[-1]}\r\n")
            await client.read_head()
            await wait_idle(hub, 1)
            hub.publish(batch(2, start=7))  # live again, through the fast path
            seen += await client.read_ids(5)
            await client.stream.aclose()
    assert seen == list(range(seen[0], seen[0] + 9))
    assert counting.direct >= 2


async def read_to_the_end(client: RawStream) -> list[int]:
    """Ids of every event up to the final empty chunk; fails on any broken framing."""
    ids: list[int] = []
    text = b""
    while payload := await client.read_chunk():
        text += payload
        *events, text = text.split(b"\n\n")
        ids.extend(int(e.split(b"\n")[0][4:]) for e in events if e.startswith(b"id: "))
    assert text == b"", text  # the response ended between events, not inside one
    return ids


async def test_shutdown_completes_a_half_written_chunk_first(counting: Counting) -> None:
    """Shutdown while a direct write left the rest of a chunk for the task."""
    with trio.fail_after(30):
        async with quiet_server() as (app, port):
            hub: Hub = app.state.hub
            client = await RawStream.open(port, rcvbuf=4096)
            await client.read_head()
            await client.read_chunk()
            await wait_idle(hub, 1)
            first = hub.next_id
            hub.close()  # the pump learns of it only after this publish was written
            hub.publish(batch(100, pad=4000))  # 400 kB: more than the socket takes at once
            assert await read_to_the_end(client) == list(range(first, first + 100))
            await client.stream.aclose()
    assert counting.flushed == 1


async def test_lag_completes_a_half_written_chunk_first(counting: Counting) -> None:
    with trio.fail_after(30):
        async with quiet_server(buffer_size=300) as (app, port):
            hub: Hub = app.state.hub
            client = await RawStream.open(port, rcvbuf=4096)
            await client.read_head()
            await client.read_chunk()
            await wait_idle(hub, 1)
            first = hub.next_id
            hub.publish(batch(100, pad=4000))  # half written: the rest waits for the task
            hub.publish(batch(400, start=100))  # evicts what the task has not taken
            assert await read_to_the_end(client) == list(range(first, first + 100))
            await client.stream.aclose()
            await wait_until(lambda: hub.statistics().subscribers == 0)
    assert hub.statistics().dropped == {"lagged": 1}


class _Closed:
    """A socket as the pre-write check sees it once Hypercorn has closed it."""

    def fileno(self) -> int:
        return -1


async def test_a_failed_pre_write_check_sends_through_h11(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """When the connection is not in a state to write directly, h11 frames the chunk."""
    monkeypatch.setattr(fastpath.DirectDelivery, "write_nowait", lambda self, data: None)
    monkeypatch.setattr(fastpath.DirectDelivery, "socket", property(lambda self: _Closed()))
    with trio.fail_after(10):
        async with quiet_server() as (app, port):
            hub: Hub = app.state.hub
            client = await RawStream.open(port)
            await client.read_head()
            await client.read_chunk()
            await wait_idle(hub, 1)
            first = hub.next_id
            hub.publish(batch(3))
            assert await client.read_ids(3) == [first, first + 1, first + 2]
            hub.close()
            assert await read_to_the_end(client) == []
            await client.stream.aclose()


async def test_direct_writes_are_counted_once_per_publish(counting: Counting) -> None:
    """Writes, samples, bytes and the latency histogram count every direct write,
    though they are added up once per publish rather than per write."""
    with trio.fail_after(10):
        async with quiet_server() as (app, port):
            hub: Hub = app.state.hub
            clients = [await RawStream.open(port) for _ in range(3)]
            for client in clients:
                await client.read_head()
                await client.read_chunk()
            await wait_idle(hub, 3)
            before = hub.statistics()
            hub.publish(batch(2))
            chunks = [await client.read_chunk() for client in clients]
            after = hub.statistics()
            for client in clients:
                await client.stream.aclose()
    assert counting.direct == 3
    assert after.writes - before.writes == 3
    assert after.delivered - before.delivered == 6
    assert after.bytes_sent - before.bytes_sent == sum(len(chunk) for chunk in chunks)
    assert sum(after.fanout_counts) - sum(before.fanout_counts) == 3
    assert after.fanout_sum_s > before.fanout_sum_s


def mixed(n: int, *, start: int = 0) -> list[Sample]:
    """``n`` heart-rate and ``n`` step samples, interleaved."""
    samples = []
    for i in range(start, start + n):
        samples.append(Sample("heart_rate", i, WALL_MS + i, "count/min"))
        samples.append(Sample("steps", i, WALL_MS + i, "count"))
    return samples


def cohorts(hub: Hub) -> list[fastpath.Cohort]:
    """The hub's cohorts: one per filter of its idle fast-path subscribers."""
    found: dict[int, fastpath.Cohort] = {}
    for sub in hub.subscriptions():
        batch = hub.batch((fastpath.Cohort, sub.token))
        if isinstance(batch, fastpath.Cohort):
            found[id(batch)] = batch
    return list(found.values())


async def open_idle(hub: Hub, port: int, n: int, **options: Any) -> list[RawStream]:
    """``n`` streams past their first bytes, each task waiting with the fast path on."""
    clients = [await RawStream.open(port, **options) for _ in range(n)]
    for client in clients:
        await client.read_head()
        await client.read_chunk()
    await wait_idle(hub, len(hub.subscriptions()))
    return clients


async def test_idle_subscribers_are_written_as_one_cohort_per_filter(counting: Counting) -> None:
    """Idle subscribers at the newest id with the same filter share one take and one
    loop of writes; each gets exactly its samples, and after its task wakes (here for
    keepalives) it goes on from where the cohort left it: no gap, no duplicate."""
    with trio.fail_after(20):
        async with quiet_server(heartbeat_s=0.3) as (app, port):
            hub: Hub = app.state.hub
            everything = await open_idle(hub, port, 3)
            steps = await open_idle(hub, port, 1, target="/api/stream?types=steps")
            groups = cohorts(hub)
            assert sorted(len(group.members) for group in groups) == [1, 3]
            first = hub.next_id
            hub.publish(mixed(3))
            for client in everything:
                assert await client.read_ids(6) == list(range(first, first + 6))
            assert await steps[0].read_ids(3) == [first + 1, first + 3, first + 5]
            # Long enough for each task to wake for a keepalive, leave and join again.
            await trio.sleep(1.0)
            await wait_idle(hub, 4)
            second = hub.next_id
            hub.publish(mixed(2, start=3))
            for client in everything:
                assert await client.read_ids(4) == list(range(second, second + 4))
            assert await steps[0].read_ids(2) == [second + 1, second + 3]
            hub.close()
            for client in everything + steps:
                assert await read_to_the_end(client) == []
                await client.stream.aclose()
    assert counting.direct == 8  # 4 subscribers, 2 publishes: all written by publish
    assert counting.flushed == 0


async def test_a_full_socket_leaves_the_cohort_and_the_others_go_on(counting: Counting) -> None:
    """A member whose socket does not take a write whole leaves the cohort with the
    rest of the chunk; the others keep being written by publish; it gets everything,
    complete and in order, when it reads."""
    with trio.fail_after(30):
        async with quiet_server(buffer_size=20000) as (app, port):
            hub: Hub = app.state.hub
            [slow] = await open_idle(hub, port, 1, rcvbuf=4096)
            [fast] = await open_idle(hub, port, 1)
            assert [len(group.members) for group in cohorts(hub)] == [2]
            first = hub.next_id
            for i in range(20):
                hub.publish(batch(10, pad=1000, start=i * 10))  # ~10 kB a publish
                assert await fast.read_ids(10) == list(range(first + i * 10, first + i * 10 + 10))
            assert await slow.read_ids(200) == list(range(first, first + 200))
            for client in (slow, fast):
                await client.stream.aclose()
    assert counting.flushed > 0  # the slow one's rest went through its task


async def test_a_cohort_behind_the_buffer_ends_every_member_as_lagged() -> None:
    with trio.fail_after(10):
        async with quiet_server(buffer_size=10) as (app, port):
            hub: Hub = app.state.hub
            clients = await open_idle(hub, port, 2)
            assert [len(group.members) for group in cohorts(hub)] == [2]
            hub.publish(batch(15))  # five of them leave the buffer before anyone took them
            for client in clients:
                assert await read_to_the_end(client) == []
                await client.stream.aclose()
            await wait_until(lambda: hub.statistics().subscribers == 0)
    assert hub.statistics().dropped == {"lagged": 2}


async def test_a_cohort_that_writes_keeps_its_members_tasks_asleep(
    counting: Counting, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While the cohort writes at least every heartbeat, no member's task wakes for a
    keepalive: the cohort moves every member's keepalive on, as a delivery does its own."""
    waits = []
    keep_quiet = fastpath.DirectDelivery.keep_quiet

    def counting_waits(delivery: fastpath.DirectDelivery, *args: Any) -> None:
        waits.append(delivery)
        keep_quiet(delivery, *args)

    monkeypatch.setattr(fastpath.DirectDelivery, "keep_quiet", counting_waits)
    with trio.fail_after(20):
        async with quiet_server(heartbeat_s=0.5) as (app, port):
            hub: Hub = app.state.hub
            clients = await open_idle(hub, port, 3)
            first = hub.next_id
            for i in range(20):  # 2 s: four heartbeats
                hub.publish(batch(1, start=i))
                await trio.sleep(0.1)
            for client in clients:
                assert await client.read_ids(20) == list(range(first, first + 20))
                assert b"keepalive" not in client.buffer
                await client.stream.aclose()
    assert counting.own == 3  # only each stream's first bytes: no keepalive was written
    assert counting.direct == 60
    assert len(waits) == 3  # each task began to wait once, and was never woken
