"""A client that stops reading is cut by the server and never delays the others.

The server's watchdog (``biomock.watchdog``) aborts the socket of a write blocked
longer than the slow-client timeout, on trio's clock: these tests drive that clock
with ``autojump_clock``, so the timings asserted are exact whatever the load on the
machine. Only the filling of the socket buffers is real.
"""

from __future__ import annotations

import socket

import trio

from tests.serving import TickSource, serving


async def open_stalled_client(port: int, query: str = "") -> trio.SocketStream:
    """Connect with a tiny receive window, send a stream request, then never read."""
    sock = trio.socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    await sock.connect(("127.0.0.1", port))
    stream = trio.SocketStream(sock)
    await stream.send_all(f"GET /api/stream{query} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
    return stream


def big_source() -> TickSource:
    # 40 subjects x 4 kB x 10 ticks/s: about 1.6 MB/s, enough to fill the
    # stalled connection's socket buffers within a few seconds.
    return TickSource(subjects=tuple(f"s{i}" for i in range(40)), pad=4000)


async def test_stalled_client_is_cut_and_others_stay_on_time(
    autojump_clock: trio.abc.Clock,
) -> None:
    with trio.fail_after(120):
        async with serving(source=big_source(), speed=10, slow_client_timeout_s=1.0) as server:
            hub = server.app.state.hub
            stalled = await open_stalled_client(server.port)
            gaps: list[float] = []
            ids: list[int] = []
            async with server.client() as client:
                async with client.stream("GET", "/api/stream") as response:
                    last = trio.current_time()
                    cut_at: float | None = None
                    buffer = b""
                    async for chunk in response.aiter_bytes():
                        now = trio.current_time()
                        gaps.append(now - last)
                        last = now
                        buffer += chunk
                        *events, buffer = buffer.split(b"\n\n")
                        ids.extend(int(e[4 : e.index(b"\n")]) for e in events if e[:4] == b"id: ")
                        if cut_at is None and hub.statistics().dropped.get("stalled"):
                            cut_at = now
                        # keep reading a little after the cut: the stream goes on
                        if cut_at is not None and now > cut_at + 0.5:
                            break
                    stats = hub.statistics()
            await stalled.aclose()
    assert stats.dropped == {"stalled": 1}
    assert stats.dropped_slow == 1
    assert stats.subscribers == 1  # the stalled one is gone, the reader stays
    # The reader got the ticks (one each 0.1 s) on time while the other was stalled:
    # waiting behind the stalled write would have cost it the whole 1 s timeout. (A
    # tick may be skipped when a publish takes CPU time, see biomock.generator.)
    assert max(gaps[1:]) < 0.5, max(gaps[1:])
    assert ids == list(range(ids[0], ids[0] + len(ids)))


async def test_a_stall_is_cut_after_the_timeout_on_every_platform(
    autojump_clock: trio.abc.Clock,
) -> None:
    """The server cuts it itself (not the kernel's TCP_USER_TIMEOUT), counted as stalled."""
    with trio.fail_after(600):
        async with serving(source=big_source(), speed=10, slow_client_timeout_s=30.0) as server:
            hub = server.app.state.hub
            opened = trio.current_time()
            stalled = await open_stalled_client(server.port)
            while not hub.statistics().dropped:  # noqa: ASYNC110 (polls the hub's counter)
                await trio.sleep(0.5)
            waited = trio.current_time() - opened
            await stalled.aclose()
    assert hub.statistics().dropped == {"stalled": 1}
    # Cut 30 s after its write blocked, which happened within seconds of connecting.
    assert 30 <= waited < 40, waited


async def test_shutdown_with_a_stalled_client_is_bounded(autojump_clock: trio.abc.Clock) -> None:
    graceful_s = 3.0
    with trio.fail_after(120):
        async with serving(
            source=big_source(), speed=10, slow_client_timeout_s=60, graceful_timeout_s=graceful_s
        ) as server:
            hub = server.app.state.hub
            stalled = await open_stalled_client(server.port)
            async with server.client() as client:
                async with client.stream(
                    "GET", "/api/stream", params={"subject": "s0"}
                ) as response:
                    body = b""
                    chunks = response.aiter_bytes()
                    await trio.sleep(5)  # the stalled client's buffers fill up
                    assert hub.statistics().subscribers == 2
                    server.stop.set()  # as SIGTERM does
                    stopping = trio.current_time()
                    async for chunk in chunks:  # to the end of the body: a clean end
                        body += chunk
                    ended = trio.current_time() - stopping
                    assert response.is_closed
            while hub.statistics().subscribers:  # noqa: ASYNC110 (polls the hub's counter)
                await trio.sleep(0.1)
            stalled_ended = trio.current_time() - stopping
            await stalled.aclose()
    assert body.count(b"id: ") > 10
    assert ended < 1.0  # readers end at once
    assert stalled_ended <= graceful_s  # the stalled one is aborted within the timeout
