"""Where the CPU of one stream write goes: each layer of the write path, timed alone.

One trio process writes a 1.3 KB chunk (one tick: 8 events) to a loopback TCP
connection whose other end a thread drains, through successively more of the
stack: ``os.write`` on the non-blocking socket, trio's ``SocketStream.send_all``,
Hypercorn's ``TCPServer.protocol_send`` (its lock and shielded cancel scope),
h11's chunk framing, and the round trip of waking a task through a memory
channel; then the same for a WebSocket text message: wsproto's framing of the
``str`` Hypercorn is handed (one tick's JSON message, about the same size), and
the rest of Hypercorn's WebSocket send (``WSStream.app_send``: the ASGI message,
wsproto's event, ``H11Protocol.stream_send``). Differences between rows are what
each layer adds.

Run: ``taskset -c 0 python -m benchmarks.fanout.write_path`` (the drain then runs on
the other cores, as the load client does); prints CPU microseconds per write.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

import h11
import trio
from hypercorn.events import RawData
from hypercorn.protocol.events import Data
from hypercorn.trio.tcp_server import TCPServer
from wsproto import ConnectionType
from wsproto.connection import Connection as WsConnection
from wsproto.events import TextMessage

CHUNK = b"id: 1795720486146001\ndata: " + b"x" * 140 + b"\n\n"
CHUNK = CHUNK * 8
MESSAGE = (
    '{"type":"samples","items":['
    + ",".join(['{"id":1795720486146001,"x":"' + "x" * 120 + '"}'] * 8)
    + "]}"
)
ROUNDS = 10000


CONNECTIONS = 256
DRAIN = """
import selectors, socket, sys
port, n = int(sys.argv[1]), int(sys.argv[2])
selector = selectors.DefaultSelector()
for _ in range(n):
    selector.register(socket.create_connection(("127.0.0.1", port)), selectors.EVENT_READ)
while True:
    for key, _ in selector.select():
        if not key.fileobj.recv(1 << 20):
            sys.exit(0)
"""


def _connections() -> tuple[list[socket.socket], subprocess.Popen[bytes]]:
    """Loopback connections whose other ends another process drains, on other cores.

    Each write goes to the next connection in turn, as a fan-out does, so every
    write is sent at once (an open window) and wakes the reader.
    """
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(CONNECTIONS)
    port = listener.getsockname()[1]
    cpus = sorted(os.sched_getaffinity(0))
    others = set(range(os.cpu_count() or 1)) - set(cpus[:1])
    pin = (lambda: os.sched_setaffinity(0, others)) if others else None
    drain = subprocess.Popen(
        [sys.executable, "-c", DRAIN, str(port), str(CONNECTIONS)], preexec_fn=pin
    )
    socks = []
    for _ in range(CONNECTIONS):
        sock, _ = listener.accept()
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.setblocking(False)
        socks.append(sock)
    listener.close()
    return socks, drain


async def _timed(write: Callable[[], Awaitable[None]]) -> float:
    """CPU microseconds per write: the best of 3 runs (the machine may be shared)."""
    for _ in range(500):
        await write()
    best = float("inf")
    for _ in range(3):
        started = time.process_time()
        for _ in range(ROUNDS):
            await write()
        best = min(best, (time.process_time() - started) / ROUNDS * 1e6)
    return best


async def main() -> None:
    results: dict[str, float] = {}
    socks, drain = _connections()
    turn = 0

    def next_index() -> int:
        nonlocal turn
        turn = (turn + 1) % CONNECTIONS
        return turn

    fds = [sock.fileno() for sock in socks]

    async def os_write() -> None:
        i = next_index()
        try:
            os.write(fds[i], CHUNK)
        except BlockingIOError:  # the drain fell behind: wait, as the real path would
            await trio.lowlevel.wait_writable(socks[i])

    results["os.write (non-blocking, what the fast path does)"] = await _timed(os_write)

    streams = [trio.SocketStream(trio.socket.from_stdlib_socket(sock)) for sock in socks]

    async def send_all() -> None:
        await streams[next_index()].send_all(CHUNK)

    results["trio SocketStream.send_all"] = await _timed(send_all)

    servers: list[Any] = []
    connections = []
    for stream in streams:
        server: Any = TCPServer.__new__(TCPServer)  # only the send path is used
        server.stream = stream
        server.send_lock = trio.Lock()
        servers.append(server)
        connection = h11.Connection(h11.SERVER)
        connection.receive_data(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        connection.next_event()
        connection.send(h11.Response(status_code=200, headers=[]))
        connections.append(connection)

    async def protocol_send() -> None:
        await servers[next_index()].protocol_send(RawData(data=CHUNK))

    results["Hypercorn protocol_send (lock + shielded scope + send_all)"] = await _timed(
        protocol_send
    )

    async def framed() -> None:
        i = next_index()
        data = connections[i].send(h11.Data(data=CHUNK))
        await servers[i].protocol_send(RawData(data=data))

    results["+ h11 chunk framing"] = await _timed(framed)

    send_wake, receive_wake = trio.open_memory_channel[int](1)
    done_send, done_receive = trio.open_memory_channel[None](1)

    async def woken() -> None:
        async for i in receive_wake:
            data = connections[i].send(h11.Data(data=CHUNK))
            await servers[i].protocol_send(RawData(data=data))
            done_send.send_nowait(None)

    async def wake_and_write() -> None:
        send_wake.send_nowait(next_index())
        await done_receive.receive()

    async with trio.open_nursery() as nursery:
        nursery.start_soon(woken)
        results["+ waking the writer task (channel round trip)"] = await _timed(wake_and_write)
        nursery.cancel_scope.cancel()

    websockets = [WsConnection(ConnectionType.SERVER) for _ in range(CONNECTIONS)]

    async def ws_framed() -> None:
        i = next_index()
        data = websockets[i].send(TextMessage(data=MESSAGE))
        await servers[i].protocol_send(RawData(data=data))

    results["WebSocket: protocol_send + wsproto framing of a text message"] = await _timed(
        ws_framed
    )

    async def stream_send(i: int, event: Data) -> None:  # H11Protocol.stream_send's Data branch
        await servers[i].protocol_send(RawData(data=event.data))

    async def app_send(i: int, message: dict[str, Any]) -> None:  # WSStream.app_send's path
        if message["type"] == "websocket.send" and message.get("bytes") is None:
            event = TextMessage(data=message["text"])
            data = websockets[i].send(event)
            await stream_send(i, Data(stream_id=1, data=data))

    async def ws_asgi() -> None:
        i = next_index()
        await app_send(i, {"type": "websocket.send", "bytes": None, "text": MESSAGE})

    results[
        "+ Hypercorn's WebSocket send chain (ASGI message, events, stream_send)"
    ] = await _timed(ws_asgi)

    async def ws_woken() -> None:
        async for i in receive_wake:
            await app_send(i, {"type": "websocket.send", "bytes": None, "text": MESSAGE})
            done_send.send_nowait(None)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(ws_woken)
        results["+ waking the writer task (WebSocket)"] = await _timed(wake_and_write)
        nursery.cancel_scope.cancel()
    for stream in streams:
        await stream.aclose()
    drain.wait()
    for name, micros in results.items():
        print(f"{micros:7.1f} us  {name}")


if __name__ == "__main__":
    trio.run(main)
