"""The floor: the same ticks written with nothing but a non-blocking ``os.write``.

One thread, a ``selectors`` loop: it accepts subscribers, answers each GET with the
stream's response head (chunked ``text/event-stream``), and on every whole
wall-clock second frames the tick's samples (the product's workload,
:mod:`benchmarks.fanout.sim_workload`) as one HTTP/1.1 chunk and writes it to every
subscriber with one ``os.write`` each. No HTTP server, no event loop in Python, no
task per connection: what is left is the system call per subscriber that any server
must make, and the loop around it. A subscriber whose socket does not take the whole
chunk is dropped (the floor has no remainder path). ``GET /api/stats`` answers its
counters as JSON.

Run: ``BIOMOCK_SUBJECTS=1 python -m benchmarks.fanout.floor --port 8003``.
"""

from __future__ import annotations

import argparse
import json
import os
import selectors
import socket
import time

from benchmarks.fanout.sim_workload import SimTicks, next_second

HEAD = (
    b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream; charset=utf-8\r\n"
    b"cache-control: no-store\r\ntransfer-encoding: chunked\r\n\r\n"
)
RETRY = b"retry: 3000\n\n"


def serve(port: int) -> None:
    ticks = SimTicks()
    listener = socket.create_server(("127.0.0.1", port), backlog=4096)
    listener.setblocking(False)
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ, None)
    pending: dict[int, bytes] = {}  # fd -> request bytes so far
    socks: dict[int, socket.socket] = {}
    subscribers: list[int] = []
    counters = {"published": 0, "writes": 0, "delivered": 0, "dropped": 0}
    next_tick = next_second(time.time())
    while True:
        timeout = max(0.0, next_tick - time.time())
        for key, _ in selector.select(timeout):
            if key.data is None:
                while True:
                    try:
                        conn, _ = listener.accept()
                    except BlockingIOError:
                        break
                    conn.setblocking(False)
                    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    socks[conn.fileno()] = conn
                    pending[conn.fileno()] = b""
                    selector.register(conn, selectors.EVENT_READ, "request")
                continue
            conn = key.fileobj
            assert isinstance(conn, socket.socket)
            fd = conn.fileno()
            try:
                data = conn.recv(65536)
            except OSError:
                data = b""
            if not data:
                selector.unregister(conn)
                socks.pop(fd, None)
                pending.pop(fd, None)
                if fd in subscribers:
                    subscribers.remove(fd)
                conn.close()
                continue
            if fd not in pending:
                continue  # a subscriber sends nothing more
            request = pending[fd] + data
            if b"\r\n\r\n" not in request:
                pending[fd] = request
                continue
            del pending[fd]
            if request.startswith(b"GET /api/stats"):
                body = json.dumps({"subscribers": len(subscribers), **counters}).encode()
                conn.sendall(
                    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                    b"connection: close\r\ncontent-length: %d\r\n\r\n%b" % (len(body), body)
                )
                selector.unregister(conn)
                socks.pop(fd, None)
                conn.close()
                continue
            first = RETRY
            conn.sendall(HEAD + b"%x\r\n%b\r\n" % (len(first), first))
            subscribers.append(fd)
        now = time.time()
        if now < next_tick:
            continue
        frames = ticks.frames(int(next_tick * 1000))
        next_tick = next_second(now)
        if not frames:
            continue
        counters["published"] += len(frames)
        body = b"".join(frames)
        data = b"%x\r\n%b\r\n" % (len(body), body)
        size = len(data)
        write = os.write
        written = 0
        lost = []
        for fd in subscribers:
            try:
                if write(fd, data) == size:
                    written += 1
                    continue
            except OSError:
                pass
            lost.append(fd)
        counters["writes"] += written
        counters["delivered"] += written * len(frames)
        for fd in lost:
            subscribers.remove(fd)
            counters["dropped"] += 1
            conn = socks.pop(fd)
            selector.unregister(conn)
            conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    serve(args.port)


if __name__ == "__main__":
    main()
