"""The generator task: drives a Source with the simulated clock and publishes to the hub."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Literal

import trio

from biomock.clock import SimClock
from biomock.hub import Hub
from biomock.pacer import Pacer
from biomock.sample import Sample

logger = logging.getLogger(__name__)

GeneratorState = Literal["starting", "running", "stopped", "finished"]

Sink = Callable[[list[Sample]], Awaitable[None]]
"""Where a generator that does not publish to its own hub sends each batch (the shared bus)."""


@dataclass(slots=True)
class GeneratorStatus:
    """What the generator reports about itself (for ``/readyz``, ``/healthz`` and metrics).

    ``state``: ``starting`` before it first runs, ``running``, ``stopped`` after a
    crash until it is restarted, ``finished`` when a replay without loop has ended.
    """

    state: GeneratorState = "starting"
    ticks: int = 0
    last_tick_lag_s: float = 0.0
    restarts: int = 0

    @property
    def started(self) -> bool:
        return self.state != "starting"

    @property
    def running(self) -> bool:
        return self.state == "running"


async def run_generator(
    hub: Hub,
    pacer: Pacer,
    clock: SimClock,
    status: GeneratorStatus,
    *,
    active: Callable[[], bool] | None = None,
    turn: trio.Lock | None = None,
    sink: Sink | None = None,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Tick without drift, advance the source to the simulated now and publish the batch.

    Each tick publishes the samples that became due as one batch (at most the
    pacer's ``max_batch``), so subscribers are woken once per tick. A change of
    the clock (speed, pause, jump) restarts the tick grid at once. When the pacer
    cannot keep up, the clock falls behind rather than memory piling up.

    With ``active`` (a session's generator), it returns once ``active()`` is false
    after a tick: a session nobody watches does not tick (``biomock.simulation``), and
    each tick holds ``turn``, taking turns with requests that advance the same pacer.

    With a ``sink`` (the shared bus) each batch goes there instead of to ``hub``; the
    hub then gets it back, numbered, from the bus's reader like every other process's.

    Cancellation: runs until cancelled (or until a finished source is drained);
    the hub is left as it is, so history stays queryable.
    """
    clock.start()
    status.state = "running"
    task_status.started()
    source_done = pacer.source_finished
    # The first pass publishes at once what is already due (the simulator's samples at
    # its start, the moment a restart comes); then ticks follow the grid from the next
    # one to come, rather than running through every tick missed while it was down.
    tick = clock.next_tick() - 1
    while not (source_done() and pacer.backlog == 0):
        if active is not None and not active():
            return
        deadline = clock.next_tick_at(tick)
        with trio.move_on_at(deadline) as scope:
            await clock.wait_changed()
        if scope.cancelled_caught:
            status.last_tick_lag_s = max(0.0, trio.current_time() - deadline)
            tick += 1
        else:
            tick = 1  # the clock changed: a new grid from now
        async with nullcontext() if turn is None else turn:
            jumped_to = clock.take_jump()
            if jumped_to is not None:
                pacer.jump(jumped_to)
            until_ms = clock.now_ms()
            samples = pacer.next_batch(until_ms)
            clock.fall_behind(until_ms - pacer.position_ms)
            status.ticks += 1
            cpu_started = time.thread_time()
            if samples:
                if sink is None:
                    hub.publish(samples)
                else:
                    await sink(samples)
        if samples:
            # Under overload the fan-out in publish could take the whole tick. Leave
            # the rest of the server (accepting, requests) at least as much CPU time
            # as it took: ticks falling in that time are skipped, and their samples
            # go out with the next one, in bigger writes. CPU time, not wall time, so
            # that other processes on the machine do not make it skip.
            resume_at = trio.current_time() + (time.thread_time() - cpu_started)
            while clock.next_tick_at(tick) < resume_at:
                tick += 1
    status.state = "finished"
    logger.info("source finished after %d samples; still serving history", hub.counters.published)
