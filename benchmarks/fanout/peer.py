"""The peer: what people would otherwise run for SSE fan-out in Python.

FastAPI on uvicorn (with the ``bench`` extra installed: uvloop's event loop and the
httptools parser, uvicorn's fastest stack), one generator task, an
``asyncio.Queue`` per subscriber and one write per sample, fed the same ticks as
biomock, each event encoded once and shared: with ``--sim``, the product's
workload (biomock's simulator from the same ``BIOMOCK_*`` settings,
:mod:`benchmarks.fanout.sim_workload`), else the synthetic one (``PER_TICK``
samples per tick). A subscriber whose queue is full is dropped, as is usual with
this design.

Run: ``python -m benchmarks.fanout.peer --port 8001 --rate 1 [--sim]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import StreamingResponse

from benchmarks.fanout.sim_workload import SimTicks, next_second
from benchmarks.fanout.workload import SUBJECTS

QUEUE_SIZE = 1000
"""Events a subscriber may fall behind before it is dropped (125 ticks)."""


def _format_time(ms: int) -> str:
    seconds, millis = divmod(ms, 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{millis:03d}Z"


def create_app(rate: float, sim: bool = False) -> FastAPI:
    """The peer app: ``GET /api/stream`` fed by one generator at ``rate`` ticks/s
    (with ``sim``: the simulator's samples, on every whole wall-clock second)."""
    subscribers: set[asyncio.Queue[bytes]] = set()
    state = {"published": 0, "dropped": 0, "writes": 0}

    def fan_out(events: list[bytes]) -> None:
        state["published"] += len(events)
        for queue in list(subscribers):
            try:
                for event in events:
                    queue.put_nowait(event)
            except asyncio.QueueFull:
                subscribers.discard(queue)
                state["dropped"] += 1

    async def replay_sim() -> None:
        ticks = SimTicks()
        while True:
            due = next_second(time.time())
            await asyncio.sleep(max(0.0, due - time.time()))
            events = ticks.frames(int(due * 1000))
            if events:
                fan_out(events)

    async def generate() -> None:
        rng = random.Random(0)
        hr = dict.fromkeys(SUBJECTS, 70.0)
        next_id = int(time.time() * 1000) * 1000 + 1  # ids as large as biomock's
        period = 1.0 / rate
        start = time.monotonic()
        tick = 0
        while True:
            tick += 1
            await asyncio.sleep(max(0.0, start + tick * period - time.monotonic()))
            now = time.time()
            stamp = _format_time(int(now * 1000))
            events = []
            for subject in SUBJECTS:
                hr[subject] = min(190.0, max(40.0, hr[subject] + rng.gauss(0.0, 1.5)))
                body = {
                    "value": round(hr[subject]),
                    "timestamp": stamp,
                    "type": "heart_rate",
                    "id": next_id,
                    "unit": "count/min",
                    "subject": subject,
                    "scenario": "rest",
                    "tick": round(now, 6),
                }
                data = json.dumps(body, separators=(",", ":")).encode()
                events.append(b"id: %d\ndata: %s\n\n" % (next_id, data))
                next_id += 1
            fan_out(events)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        task = asyncio.create_task(replay_sim() if sim else generate())
        yield
        task.cancel()

    app = FastAPI(lifespan=lifespan)

    @app.get("/api/stream")
    async def stream(request: Request) -> StreamingResponse:
        queue: asyncio.Queue[bytes] = asyncio.Queue(maxsize=QUEUE_SIZE)
        subscribers.add(queue)

        async def events() -> AsyncIterator[bytes]:
            try:
                yield b"retry: 3000\n\n"
                while True:
                    event = await queue.get()
                    state["writes"] += 1  # one write per event: uvicorn sends each at once
                    yield event
            finally:
                subscribers.discard(queue)

        return StreamingResponse(
            events(),
            media_type="text/event-stream; charset=utf-8",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )

    @app.get("/api/stats")
    async def stats() -> dict[str, int]:
        return {"subscribers": len(subscribers), **state}

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--rate", type=float, default=1.0, help="ticks per second")
    parser.add_argument("--sim", action="store_true", help="replay the simulator's ticks")
    args = parser.parse_args()
    uvicorn.run(
        create_app(args.rate, args.sim),
        host="127.0.0.1",
        port=args.port,
        backlog=4096,
        log_level="warning",
        access_log=False,
    )


if __name__ == "__main__":
    main()
