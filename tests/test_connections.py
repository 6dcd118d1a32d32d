"""Connection handling: idle keep-alive and Connection: close connections are closed."""

from __future__ import annotations

import socket

import trio

from biomock.server import open_listen_socket
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


def test_accepted_connections_have_tcp_keepalive_from_the_slow_client_timeout() -> None:
    # A client that vanishes while its stream writes nothing (a stall) is still reset.
    listener = open_listen_socket("127.0.0.1", 0, user_timeout_s=30)
    listener.listen()
    listener.settimeout(10)
    with listener, socket.create_connection(listener.getsockname(), timeout=10):
        accepted, _ = listener.accept()
        with accepted:
            assert accepted.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1
            if hasattr(socket, "TCP_KEEPIDLE"):
                assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE) == 30
                assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL) == 10
                assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT) == 3
