"""The generator task: drives a Source with the simulated clock and publishes to the hub."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import trio

from biomock.clock import SimClock
from biomock.hub import Hub
from biomock.source import Source

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class GeneratorStatus:
    """What the generator reports about itself (for ``/readyz`` and metrics)."""

    started: bool = False
    running: bool = False
    ticks: int = 0
    last_tick_lag_s: float = 0.0


async def run_generator(
    hub: Hub,
    source: Source,
    clock: SimClock,
    status: GeneratorStatus,
    *,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Tick without drift, advance ``source`` to the simulated now and publish the batch.

    Each tick publishes every sample that became due as one batch, so subscribers
    are woken once per tick. A change of the clock (speed, pause, jump) restarts
    the tick grid at once.

    Cancellation: runs until cancelled (or until a finished source is drained);
    the hub is left as it is, so history stays queryable.
    """
    clock.start()
    status.started = status.running = True
    task_status.started()
    try:
        tick = 1
        while not source.finished:
            deadline = clock.next_tick_at(tick)
            with trio.move_on_at(deadline) as scope:
                await clock.wait_changed()
            if scope.cancelled_caught:
                status.last_tick_lag_s = max(0.0, trio.current_time() - deadline)
                tick += 1
            else:
                tick = 1  # the clock changed: a new grid from now
            samples = source.advance(clock.now_ms())
            status.ticks += 1
            if samples:
                cpu_started = time.thread_time()
                hub.publish(samples)
                # Under overload the fan-out in publish could take the whole tick. Leave
                # the rest of the server (accepting, requests) at least as much CPU time
                # as it took: ticks falling in that time are skipped, and their samples
                # go out with the next one, in bigger writes. CPU time, not wall time, so
                # that other processes on the machine do not make it skip.
                resume_at = trio.current_time() + (time.thread_time() - cpu_started)
                while clock.next_tick_at(tick) < resume_at:
                    tick += 1
        logger.info(
            "source finished after %d samples; still serving history", hub.counters.published
        )
    finally:
        status.running = False
