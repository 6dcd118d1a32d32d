"""A client that stops reading is cut by the kernel and never delays the others.

This runs on the real clock: the cut comes from TCP_USER_TIMEOUT in the kernel,
which no virtual clock can drive. It is bounded to a few seconds.
"""

from __future__ import annotations

import socket

import trio

from tests.serving import TickSource, serving


async def open_stalled_client(port: int) -> trio.SocketStream:
    """Connect with a tiny receive window, send a stream request, then never read."""
    sock = trio.socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    await sock.connect(("127.0.0.1", port))
    stream = trio.SocketStream(sock)
    await stream.send_all(b"GET /api/stream HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    return stream


async def test_stalled_client_is_cut_and_others_stay_on_time() -> None:
    # 40 subjects x 4 kB x 10 ticks/s: about 1.6 MB/s, enough to fill the
    # stalled connection's socket buffers within a few seconds.
    source = TickSource(subjects=tuple(f"s{i}" for i in range(40)), pad=4000)
    with trio.fail_after(40):
        async with serving(source=source, speed=10, slow_client_timeout_s=1.0) as server:
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
                        if cut_at is None and hub.counters.dropped["stalled"]:
                            cut_at = now
                        # keep reading a little after the cut: the stream goes on
                        if cut_at is not None and now > cut_at + 0.5:
                            break
                    stats = hub.statistics()
            await stalled.aclose()
    assert stats.dropped == {"stalled": 1}
    assert stats.dropped_slow == 1
    assert stats.subscribers == 1  # the stalled one is gone, the reader stays
    # The reader kept receiving every tick while the other was stalled.
    # (ticks come every 0.1 s; waiting on the stalled write would stall for a second or more)
    assert max(gaps[1:]) < 0.8, max(gaps[1:])
    assert ids == list(range(ids[0], ids[0] + len(ids)))
