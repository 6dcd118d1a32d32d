"""A WebSocket handshake meets the same gate: refused before the upgrade, in the JSON shape."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import trio

from tests.auth.helpers import STATIC, auth_serving


async def handshake(port: int, target: str, headers: dict[str, str] | None = None) -> bytes:
    """Send a WebSocket upgrade request; return everything the server answered until it closed."""
    key = base64.b64encode(os.urandom(16)).decode()
    lines = [
        f"GET {target} HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Key: {key}",
        "Sec-WebSocket-Version: 13",
        *(f"{k}: {v}" for k, v in (headers or {}).items()),
    ]
    stream = await trio.open_tcp_stream("127.0.0.1", port)
    async with stream:
        await stream.send_all(("\r\n".join(lines) + "\r\n\r\n").encode())
        answer = b""
        with trio.move_on_after(5):
            while data := await stream.receive_some(65536):
                answer += data
                if answer.startswith(b"HTTP/1.1 101"):
                    break
    return answer


async def test_a_websocket_handshake_without_a_token_is_refused_before_the_upgrade(
    tmp_path: Path,
) -> None:
    with trio.fail_after(30):
        async with auth_serving(tmp_path) as server:
            missing = await handshake(server.port, "/api/ws")
            bad = await handshake(server.port, "/api/ws?access_token=" + "x" * 40)
            scope = await handshake(
                server.port, "/api/ws", {"Authorization": f"Bearer {STATIC['metrics']}"}
            )
    head, _, body = missing.partition(b"\r\n\r\n")
    status, *fields = head.decode().split("\r\n")
    headers = {k.lower(): v for k, _, v in (f.partition(": ") for f in fields)}
    assert status.startswith("HTTP/1.1 401"), missing
    assert headers["www-authenticate"] == 'Bearer realm="biomock"'
    assert body.startswith(b'{"error": {"code": "unauthorized"')
    assert bad.startswith(b"HTTP/1.1 401") and b'error="invalid_token"' in bad
    assert scope.startswith(b"HTTP/1.1 403") and b'"code": "forbidden"' in scope
