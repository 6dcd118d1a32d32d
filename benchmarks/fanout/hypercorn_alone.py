"""Hypercorn alone: what its trio worker costs a stream's connection before any app work.

A reference for the connection storm (``sim1-n10000``), not a server of samples: an ASGI
app that answers every GET with the head biomock's stream sends (status, the same
headers, the ``retry:`` field as the first chunk) and then only waits for the client to
leave; ``GET /api/stats`` answers its counters as JSON. It is served exactly as
``biomock serve`` serves biomock: the same listening socket and its options
(:func:`biomock.server.open_listen_socket`), the same Hypercorn settings
(:func:`biomock.server.hypercorn_config`), the same garbage-collector tuning. What
biomock costs a connection beyond this is biomock's: its route, the subscription, the
log line, the stream's tasks.

Run: ``python -m benchmarks.fanout.hypercorn_alone --port 8004``.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

import trio
from hypercorn.trio import serve

from biomock.config import load_config
from biomock.server import hypercorn_config, open_listen_socket, tune_gc
from biomock.stream import STREAM_HEADERS

FIRST = b"retry: 3000\n\n"


class App:
    """Counts streams; each one is a head, one chunk and a wait for ``http.disconnect``."""

    def __init__(self) -> None:
        self.subscribers = 0
        self.connected = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        if scope["type"] != "http":
            return
        if scope["path"] == "/api/stats":
            body = json.dumps(
                {"subscribers": self.subscribers, "connected": self.connected, "writes": 0}
            ).encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [(b"content-type", b"application/json")],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return
        await send({"type": "http.response.start", "status": 200, "headers": STREAM_HEADERS})
        await send({"type": "http.response.body", "body": FIRST, "more_body": True})
        self.subscribers += 1
        self.connected += 1
        try:
            while (await receive())["type"] != "http.disconnect":
                pass
        finally:
            self.subscribers -= 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    config = load_config().model_copy(update={"host": "127.0.0.1", "port": args.port})
    sock = open_listen_socket(config.host, config.port, user_timeout_s=config.slow_client_timeout_s)
    hc = hypercorn_config(config, sock)
    tune_gc()
    trio.run(serve, App(), hc)


if __name__ == "__main__":
    main()
