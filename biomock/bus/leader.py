"""The one generator of the shared stream: a lease in Redis, renewed, fenced.

A process takes the lease when nobody holds it (``SET NX PX``), and runs the same
``run_generator`` as a single process, its batches going to the log instead of the hub.
It renews the lease every third of its length when no append did (an append renews it
too), and every append checks the lease in the same script (fencing): a process that
lost the lease, paused or partitioned, cannot append even before it notices. A process
taking over continues the ids above the log's last entry, and rebuilds the simulation
at the current simulated time from the seed, start and scenarios kept in Redis.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import trio

from biomock.bus.codec import encode_sample
from biomock.bus.control import Control
from biomock.bus.log import COMMAND_S, ERRORS, UNREACHABLE, LeaseLost, RedisLog
from biomock.bus.status import BusStatus
from biomock.generator import run_generator
from biomock.pacer import Pacer
from biomock.sample import Sample
from biomock.source import Source

if TYPE_CHECKING:
    from biomock.state import AppState

logger = logging.getLogger(__name__)

LOG_LENGTH_FACTOR = 2
"""The log keeps about twice the buffer: a reader briefly behind (a pause, a burst at high
clock speed) still finds what it has not read, and a resume older than the local buffer
is still served from the log."""

Rebuild = Callable[[int, int], Source]
"""Builds the simulation from its ``seed`` and ``start_ms`` (the simulator, in production)."""


class Leadership:
    """Whether this process generates, and the generator while it does.

    Args:
        state: the hub, clock, source and generator status it drives.
        status: where it reports ``leader`` and ``failovers``.
        control: applies the scenarios kept in Redis to a rebuilt simulator.
        lease_s: the lease's length.
        max_batch: the generator's batch limit.
        rebuild: builds the simulation from a seed and start; ``None`` for a source that
            cannot be rebuilt (a replay, a test's), which is jumped to the present instead.
        wall_ms: the wall clock in epoch ms.
    """

    def __init__(
        self,
        state: AppState,
        status: BusStatus,
        control: Control,
        *,
        lease_s: float,
        max_batch: int,
        rebuild: Rebuild | None,
        wall_ms: Callable[[], int],
    ) -> None:
        self._state = state
        self._status = status
        self._control = control
        self._lease_ms = max(1, int(lease_s * 1000))
        self._max_batch = max_batch
        self._rebuild = rebuild
        self._wall_ms = wall_ms
        self._next_id = 0
        self._renewed_at = 0.0
        self._token: str | None = None
        self._scope = trio.CancelScope()
        self._resigned = False

    async def run(self, log: RedisLog, wait_ready: Callable[[], Awaitable[bool]]) -> None:
        """Try for the lease every third of its length; generate while it is held.

        ``wait_ready`` returns once this process follows the log, ``False`` if it never
        can again (it fell behind the log's trimming).
        """
        while not self._resigned:
            if not await wait_ready():
                return
            token = secrets.token_hex(16)
            try:
                with trio.fail_after(COMMAND_S):
                    taken = await log.try_lease(token, self._lease_ms)
                    self._status.failovers = max(0, await log.leaderships() - 1)
            except UNREACHABLE:
                taken = False
            if taken:
                self._token = token
                try:
                    with self._scope:
                        await self._lead(log, token)
                except* LeaseLost:
                    logger.warning("bus: lost the generator's lease; following again")
                except* UNREACHABLE:
                    logger.warning("bus: Redis unreachable while generating; following again")
                except* Exception:
                    logger.error("bus: the generator crashed; following again", exc_info=True)
                finally:
                    self._status.leader = False
                    self._token = None
                    if self._state.generator.state == "running":
                        self._state.generator.state = "starting"
                self._scope = trio.CancelScope()
            await trio.sleep(self._lease_ms / 3000)

    async def resign(self, log: RedisLog | None) -> None:
        """Stop generating and give the lease back now (shutdown), so that another
        process takes over at once instead of when the lease expires."""
        self._resigned = True
        self._scope.cancel()
        token = self._token
        if log is not None and token is not None:
            with trio.move_on_after(1), contextlib.suppress(*ERRORS):
                await log.release(token)

    async def _lead(self, log: RedisLog, token: str) -> None:
        state = self._state
        with trio.fail_after(COMMAND_S):
            newest = await log.newest_id()
            simulation = await log.hash(log.sim_key)
            scenarios = await log.hash(log.scenarios_key)
        hub, clock = state.hub, state.clock
        continuing = newest is not None or hub.buffer.newest_id is not None
        # Consecutive ids (the ring buffer of every process needs them): above the log's
        # last entry, or, when the log is empty (a Redis that came back empty), above the
        # newest id this process has (its boot's ``ms x 1000`` if none).
        self._next_id = max(newest or 0, hub.next_id - 1) + 1
        self._status.leader = True
        clock.start()
        source = state.source
        if continuing:
            if self._rebuild is not None and "seed" in simulation:
                source = self._rebuild(int(simulation["seed"]), int(simulation["start_ms"]))
            source.jump(clock.now_ms())
            state.replace_source(source)
            for subject, scenario in scenarios.items():
                self._control.apply_scenario(subject, scenario)
        position = clock.now_ms() if continuing else source.start_ms
        logger.info(
            "bus: generating from id %d (%s)",
            self._next_id,
            "taking over" if continuing else "first generator",
        )
        pacer = Pacer(source, self._max_batch, position)
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self._renew_forever, log, token)
            await run_generator(
                hub,
                pacer,
                clock,
                state.generator,
                sink=lambda batch: self._append(log, token, batch),
            )
            await trio.sleep_forever()  # a finished replay: keep the lease, nothing to add

    async def _renew_forever(self, log: RedisLog, token: str) -> None:
        """Renew the lease a third of its length after it was last renewed: by this task,
        or by an append (which renews it too, so a ticking leader sends no extra command)."""
        period = self._lease_ms / 3000
        self._renewed_at = trio.current_time()
        while True:
            await trio.sleep_until(self._renewed_at + period)
            if trio.current_time() < self._renewed_at + period:
                continue  # an append renewed it meanwhile
            with trio.fail_after(COMMAND_S):
                if not await log.renew(token, self._lease_ms):
                    raise LeaseLost("the lease expired before it was renewed")
            self._renewed_at = trio.current_time()

    async def _append(self, log: RedisLog, token: str, samples: list[Sample]) -> None:
        data = [encoded for sample in samples if (encoded := encode_sample(sample)) is not None]
        renewed_at = trio.current_time()  # the script renews the lease before it appends
        with trio.fail_after(COMMAND_S):
            await log.append(
                token,
                self._lease_ms,
                LOG_LENGTH_FACTOR * self._state.hub.buffer.capacity,
                self._next_id,
                data,
                self._wall_ms(),
            )
        self._next_id += len(data)
        if data:
            self._renewed_at = renewed_at
