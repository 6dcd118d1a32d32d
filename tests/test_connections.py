"""Connection handling: idle keep-alive and Connection: close connections are closed."""

from __future__ import annotations

import trio

from tests.serving import serving


async def _request(stream: trio.SocketStream, extra: bytes = b"") -> bytes:
    await stream.send_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n" + extra + b"\r\n")
    data = b""
    while b"\r\n\r\n" not in data or not data.endswith(b"}"):
        chunk = await stream.receive_some(65536)
        assert chunk, "closed before the response"
        data += chunk
    return data


async def _wait_closed(stream: trio.SocketStream) -> None:
    while await stream.receive_some(65536):
        pass


async def test_idle_keep_alive_connection_is_closed(autojump_clock: trio.abc.Clock) -> None:
    with trio.fail_after(60):
        async with serving() as server:
            stream = await trio.open_tcp_stream("127.0.0.1", server.port)
            response = await _request(stream)
            assert response.startswith(b"HTTP/1.1 200")
            start = trio.current_time()
            await _wait_closed(stream)  # the server ends the idle connection
            assert trio.current_time() - start <= 10
            await stream.aclose()


async def test_connection_close_is_honoured(autojump_clock: trio.abc.Clock) -> None:
    with trio.fail_after(60):
        async with serving() as server:
            stream = await trio.open_tcp_stream("127.0.0.1", server.port)
            response = await _request(stream, b"Connection: close\r\n")
            assert response.startswith(b"HTTP/1.1 200")
            start = trio.current_time()
            await _wait_closed(stream)
            assert trio.current_time() - start < 1
            await stream.aclose()
