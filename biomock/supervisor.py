"""Running the generator where its death is seen: restarted, logged and counted.

The generator used to live in quart-trio's lifespan nursery, where Hypercorn logs
a crash and carries on: streams then carried only keepalives while ``/readyz``
said ready. Here it runs in the server's own nursery (``biomock.server.serve``):
a crash is logged with its traceback, counted (``biomock_generator_restarts_total``),
reported by ``/readyz`` and ``/healthz`` while it lasts, and the generator starts
again after a pause that doubles with each crash in a row (up to a minute).
"""

from __future__ import annotations

import logging
from typing import NoReturn

import trio

from biomock.clock import SimClock
from biomock.generator import GeneratorStatus, run_generator
from biomock.hub import Hub
from biomock.pacer import Pacer
from biomock.source import Source

logger = logging.getLogger(__name__)

FIRST_BACKOFF_S = 1.0
MAX_BACKOFF_S = 60.0
STABLE_S = 60.0
"""A generator that ran this long before crashing starts again after FIRST_BACKOFF_S."""


async def supervise_generator(
    hub: Hub,
    source: Source,
    clock: SimClock,
    status: GeneratorStatus,
    *,
    max_batch: int,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> NoReturn:
    """Run the generator for ever, starting it again whenever it crashes.

    The pacer (what the source has been advanced to, what waits to be published)
    outlives a crash, so a restart neither repeats nor skips samples.

    Cancellation: runs until cancelled; a finished replay leaves it idle.
    """
    pacer = Pacer(source, max_batch, source.start_ms)
    backoff = FIRST_BACKOFF_S
    task_status.started()
    while True:
        started = trio.current_time()
        try:
            await run_generator(hub, pacer, clock, status)
        except Exception:
            status.state = "stopped"
            status.restarts += 1
            if trio.current_time() - started >= STABLE_S:
                backoff = FIRST_BACKOFF_S
            logger.error(
                "the generator crashed (restart %d in %.0f s); streams pause until then",
                status.restarts,
                backoff,
                exc_info=True,
            )
            await trio.sleep(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF_S)
        else:
            await trio.sleep_forever()  # a replay that ended: history stays served
