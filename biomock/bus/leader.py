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
from dataclasses import dataclass
from typing import TYPE_CHECKING

import trio

from biomock.bus.codec import encode_sample
from biomock.bus.log import COMMAND_S, ERRORS, UNREACHABLE, LeaseLost, RedisLog
from biomock.bus.status import BusStatus
from biomock.generator import run_generator
from biomock.limits import RUN_THROUGH_SUBJECT_MS
from biomock.pacer import Pacer
from biomock.sample import Sample
from biomock.source import Source

if TYPE_CHECKING:
    from biomock.simulation import Simulation

logger = logging.getLogger(__name__)

LOG_LENGTH_FACTOR = 2
"""The log keeps about twice the buffer: a reader briefly behind (a pause, a burst at high
clock speed) still finds what it has not read, and a resume older than the local buffer
is still served from the log."""

Rebuild = Callable[[int, int], Source]
"""Builds the simulation from its ``seed`` and ``start_ms`` (the simulator, in production)."""


_LEADING_ENDS: tuple[type[Exception], ...] = (LeaseLost, *UNREACHABLE)


@dataclass(frozen=True, slots=True)
class _Leading:
    """A leadership in progress: where it appends, and the pacer its ticks take turns on."""

    log: RedisLog
    token: str
    pacer: Pacer
    turn: trio.Lock


class Leadership:
    """Whether this process generates, and the generator while it does.

    Args:
        simulation: the hub, clock, source and generator status it drives.
        replace_source: installs a rebuilt simulator as the simulation's source.
        status: where it reports ``leader`` and ``failovers``.
        apply_scenario: applies a scenario kept in Redis to a rebuilt simulator.
        lease_s: the lease's length.
        max_batch: the generator's batch limit.
        rebuild: builds the simulation from a seed and start; ``None`` for a source that
            cannot be rebuilt (a replay, a test's), which is jumped to the present instead.
        wall_ms: the wall clock in epoch ms.
    """

    def __init__(
        self,
        simulation: Simulation,
        replace_source: Callable[[Source], None],
        status: BusStatus,
        *,
        apply_scenario: Callable[[str, str], None],
        lease_s: float,
        max_batch: int,
        rebuild: Rebuild | None,
        wall_ms: Callable[[], int],
    ) -> None:
        self._simulation = simulation
        self._replace_source = replace_source
        self._status = status
        self._apply_scenario = apply_scenario
        self._lead_state: _Leading | None = None
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
                    if self._simulation.generator.state == "running":
                        self._simulation.generator.state = "starting"
                if not self._resigned:  # (resign releases it itself)
                    await self._release(log, token)
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

    async def _release(self, log: RedisLog, token: str) -> None:
        """Give the lease back if it is still this leadership's, best effort and bounded:
        a leader whose append or renewal timed out (a slow or briefly unreachable Redis)
        would otherwise keep it, and nobody generate, until it expired."""
        with trio.move_on_after(COMMAND_S), contextlib.suppress(*ERRORS):
            await log.release(token)

    async def _lead(self, log: RedisLog, token: str) -> None:
        state = self._simulation
        with trio.fail_after(COMMAND_S):
            newest = await log.newest_id()
            floor = await log.floor()
            simulation = await log.hash(log.sim_key)
            scenarios = await log.hash(log.scenarios_key)
        hub, clock = state.hub, state.clock
        continuing = newest is not None or hub.buffer.newest_id is not None
        # Consecutive ids (the ring buffer of every process needs them): above the log's
        # last entry, or, when the log is empty (a Redis that came back empty), above the
        # newest id any process had when it rejoined (the floor) and this process's own
        # (its boot's ``ms x 1000`` if none). A process rejoining after this one started
        # raises the floor, and this one's next append is refused (it leads again above).
        self._next_id = max(newest or 0, floor or 0, hub.next_id - 1) + 1
        self._status.leader = True
        clock.start()
        source = state.source
        if continuing:
            if self._rebuild is not None and "seed" in simulation:
                source = self._rebuild(int(simulation["seed"]), int(simulation["start_ms"]))
            source.jump(clock.now_ms())
            self._replace_source(source)
            for subject, scenario in scenarios.items():
                self._apply_scenario(subject, scenario)
        position = clock.now_ms() if continuing else source.start_ms
        logger.info(
            "bus: generating from id %d (%s)",
            self._next_id,
            "taking over" if continuing else "first generator",
        )
        pacer = Pacer(source, self._max_batch, position)
        leading = _Leading(log, token, pacer, trio.Lock())
        try:
            async with trio.open_nursery() as nursery:
                self._lead_state = leading
                nursery.start_soon(self._renew_forever, log, token)
                await run_generator(
                    hub,
                    pacer,
                    clock,
                    state.generator,
                    turn=leading.turn,
                    sink=lambda batch: self._append(log, token, batch),
                )
                await trio.sleep_forever()  # a finished replay: keep the lease, nothing to add
        finally:
            self._lead_state = None

    async def run_through(self, until_ms: int) -> bool:
        """Publish every sample due by ``until_ms`` now, if this process generates (a
        paused session's clock jumps: API.md "Additions"); ``False`` if it does not.

        As a local session does (``Simulation.set_clock``): at most
        ``RUN_THROUGH_SUBJECT_MS`` per subject is run through, the time before is
        skipped. Takes turns with the generator's ticks. A lost lease or an unreachable
        Redis ends this leadership (as a failing tick does); never raises.
        """
        leading = self._lead_state
        if leading is None:
            return False
        source, pacer = self._simulation.source, leading.pacer
        try:
            async with leading.turn:
                span_ms = RUN_THROUGH_SUBJECT_MS // max(1, len(source.subjects))
                if pacer.position_ms < until_ms - span_ms:
                    source.jump(until_ms - span_ms)
                    pacer.jump(until_ms - span_ms)
                while pacer.position_ms < until_ms or pacer.backlog:
                    batch = pacer.next_batch(until_ms)
                    if batch:
                        await self._append(leading.log, leading.token, batch)
                    await trio.lowlevel.checkpoint()
        except _LEADING_ENDS as error:
            logger.warning("bus: a run-through failed (%s); following again", error)
            self._scope.cancel()
        return True

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
                LOG_LENGTH_FACTOR * self._simulation.hub.buffer.capacity,
                self._next_id,
                data,
                self._wall_ms(),
            )
        self._next_id += len(data)
        if data:
            self._renewed_at = renewed_at
