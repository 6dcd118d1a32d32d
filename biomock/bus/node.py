"""One process's part in the shared stream: a reader always, the generator while it leads.

Every process runs one reader task: a single ``XREAD BLOCK`` on the sample log and the
control stream, from its last ids. Samples go into the local hub already numbered
(``Hub.publish_numbered``), so local fan-out, the fast path and the slow-client policy are
exactly those of a single process; control changes are applied to the local clock and
simulator (``biomock.bus.control``). The leader's own hub is fed the same way: every
process, the leader included, serves what is in Redis, so they serve the same ids and
bytes. Which process generates is ``biomock.bus.leader``'s business.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from functools import partial
from typing import TYPE_CHECKING

import trio

from biomock.bus.codec import decode_sample
from biomock.bus.control import Control
from biomock.bus.leader import Leadership, Rebuild
from biomock.bus.log import COMMAND_S, UNREACHABLE, Entry, RedisLog, open_redis_log
from biomock.bus.status import BusStatus, unavailable
from biomock.bus.url import redact
from biomock.sample import Sample
from biomock.sim import Simulator

if TYPE_CHECKING:
    from biomock.simulation import Simulation
    from biomock.source import Source

logger = logging.getLogger(__name__)

BLOCK_MS = 1000
"""How long one ``XREAD`` waits for news; a Redis silent for longer than this plus
``COMMAND_S`` counts as down."""

SESSION_BLOCK_MS = 5000
"""The same for a session's reader: an idle session then costs one ``XREAD`` per 5 s per
process. A Redis that goes away closes the connection, which the reader sees at once;
only a frozen one is noticed later (this plus ``COMMAND_S``)."""

RETRY_S = 0.5
"""Pause between attempts to reach Redis again."""

CATCH_UP_S = 1.0
"""How long a resume waits for this process's reader to reach an id another process served."""

READ_COUNT = 5000
"""Entries taken per ``XREAD`` at most; a reader behind takes the rest at once after."""


class BusNode:
    """This process's reader and, while it holds the lease, its generator, of one
    simulation on the bus: the default one, or a session (``biomock.bus.sessions``).

    Args:
        url: the Redis URL (``BIOMOCK_BUS``).
        simulation: what the node feeds (its hub), follows (its clock) and, when the
            simulation is rebuilt, replaces the source of.
        lease_s: the lease's length (``BIOMOCK_BUS_LEASE_S``).
        max_batch: the generator's batch limit.
        rebuild: builds the simulation from a seed and start; ``None`` for a source that
            cannot be rebuilt (a replay, or a test's), which is then jumped to the present.
        wall_ms: the wall clock in epoch ms.
        replace_source: installs a rebuilt source (by default as ``simulation.source``).
        name: the simulation's name in Redis: its keys are ``biomock:<name>:...``.
        session: the simulation is a session: its keys live only while the session's
            ``alive`` key does (``biomock.bus.log``), and a paused clock that jumps
            publishes the time it jumps over (API.md "Additions").
    """

    def __init__(
        self,
        url: str,
        simulation: Simulation,
        *,
        lease_s: float,
        max_batch: int,
        rebuild: Rebuild | None,
        wall_ms: Callable[[], int],
        replace_source: Callable[[Source], None] | None = None,
        name: str = "default",
        session: bool = False,
    ) -> None:
        self.status = BusStatus(redact(url))
        self._url = url
        self._name = name
        self._session = session
        self._block_ms = SESSION_BLOCK_MS if session else BLOCK_MS
        self._simulation = simulation
        self._replace_source = replace_source or partial(setattr, simulation, "source")
        self._rebuild = rebuild
        self._wall_ms = wall_ms
        self._log: RedisLog | None = None
        self._synced = trio.Event()
        self._cursor: int | None = None
        self._advanced = trio.Event()
        self._broken = trio.Event()
        self._leadership = Leadership(
            simulation,
            self._replace_source,
            self.status,
            apply_scenario=lambda subject, scenario: self._control.apply_scenario(
                subject, scenario
            ),
            lease_s=lease_s,
            max_batch=max_batch,
            rebuild=rebuild,
            wall_ms=wall_ms,
        )
        self._control = Control(
            simulation,
            wall_ms=wall_ms,
            leading=lambda: self.status.leader,
            run_through=self._leadership.run_through if session else None,
        )

    # For routes.

    @property
    def ready(self) -> bool:
        """Whether this process follows the log now (``/readyz``)."""
        status = self.status
        return status.connected and self._synced.is_set() and not status.broken

    @property
    def broken(self) -> bool:
        """Whether this process fell behind the log's trimming and must be restarted."""
        return self.status.broken

    async def wait_broken(self) -> None:
        """Return once this process fell behind the log's trimming (``serve`` then shuts
        down and exits non-zero, so that the orchestrator restarts it)."""
        await self._broken.wait()

    async def wait_ready(self, within_s: float) -> bool:
        """Wait (up to ``within_s``) until this process follows the log; whether it does."""
        with trio.move_on_after(within_s):
            await self._synced.wait()
        return self.ready

    def admit(self) -> None:
        """Raise 503 ``unavailable`` while Redis is unreachable (before a stream starts).

        Raises:
            ApiError: Redis is unreachable, or not reached yet.
        """
        if not self.ready:
            raise unavailable()

    async def older(self, last_event_id: int) -> list[tuple[int, Sample]]:
        """Make ready a resume from ``last_event_id``; returns what it needs from before the
        local buffer, read from the log (which keeps about twice the buffer).

        A client that read ``last_event_id`` from another process, a moment ahead of this
        one's reader, waits (up to ``CATCH_UP_S``) until this process has it too, rather
        than get a ``reset`` and samples twice. Empty when nothing is needed, or Redis is
        unreachable: the resume then goes on from the buffer alone.
        """
        log, buffer = self._log, self._simulation.hub.buffer
        if log is None or not self.ready:
            return []
        try:
            with trio.fail_after(COMMAND_S):
                if buffer.newest_id is not None and last_event_id > buffer.newest_id:
                    await self._catch_up_to(log, last_event_id)
                    return []
                oldest = buffer.oldest_id
                if oldest is None or last_event_id >= oldest - 1:
                    return []
                entries = await log.between(last_event_id, oldest - 1)
            return [(entry.id, decode_sample(entry.data)) for entry in entries]
        except UNREACHABLE:
            return []  # the resume falls back to the buffer (a reset if it is too old)
        except ValueError:  # an entry this version cannot read: the same fallback
            return []

    async def _catch_up_to(self, log: RedisLog, entry_id: int) -> None:
        """Wait until the reader has taken ``entry_id``, if the log has it (bounded)."""
        newest_in_log = await log.newest_id()
        if newest_in_log is None or newest_in_log < entry_id:
            return  # an id nobody published: the resume's reset says "unknown"
        with trio.move_on_after(CATCH_UP_S):
            while (self._simulation.hub.buffer.newest_id or 0) < entry_id:
                await self._advanced.wait()

    async def change_clock(
        self, *, speed: float | None, paused: bool | None, now_ms: int | None
    ) -> None:
        """Change the shared clock; returns once this process applied it.

        Raises:
            ApiError: 503 ``unavailable`` when Redis cannot be reached.
        """
        await self._control.change_clock(
            self._ready_log(), speed=speed, paused=paused, now_ms=now_ms
        )

    async def switch_scenario(self, subject: str, scenario: str) -> None:
        """Switch ``subject``'s scenario in every process; returns once applied here.

        Raises:
            ApiError: 503 ``unavailable`` when Redis cannot be reached.
        """
        await self._control.switch_scenario(self._ready_log(), subject, scenario)

    def _ready_log(self) -> RedisLog:
        if self._log is None or not self.ready:
            raise unavailable()
        return self._log

    async def resign(self) -> None:
        """Stop generating and give the lease back (shutdown): another process takes
        over at once instead of when the lease expires."""
        await self._leadership.resign(self._log)

    # The tasks.

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Read for ever, and generate while this process holds the lease.

        Cancellation: runs until cancelled; :meth:`resign` first hands the lease over.
        """
        opened = open_redis_log(self._url, simulation=self._name, session=self._session)
        async with opened as log, trio.open_nursery() as nursery:
            self._log = log
            nursery.start_soon(self._read_forever, log)
            nursery.start_soon(self._leadership.run, log, self._wait_following)
            task_status.started()

    async def _wait_following(self) -> bool:
        await self._synced.wait()
        return not self.status.broken

    async def _read_forever(self, log: RedisLog) -> None:
        control = self._control
        while True:
            try:
                with trio.fail_after(self._block_ms / 1000 + COMMAND_S):
                    if not self._synced.is_set():
                        await self._sync(log)
                    cursor = self._cursor if self._cursor is not None else 0
                    entries, changes = await log.read(
                        cursor, control.cursor, count=READ_COUNT, block_ms=self._block_ms
                    )
            except UNREACHABLE as error:
                if self.status.connected:
                    logger.warning(
                        "bus: Redis at %s unreachable (%s: %s)",
                        self.status.url,
                        type(error).__name__,
                        error,
                    )
                self.status.connected = False
                if self._synced.is_set():
                    # A fresh event only when the old one was set: the leadership may
                    # be waiting on the current one, which the next resync sets.
                    self._synced = trio.Event()
                await trio.sleep(RETRY_S)
                continue
            self.status.connected = True
            for change in changes:
                await control.apply(change.body)
            if changes:
                control.move_cursor(changes[-1].id)
            cpu_started = time.thread_time()
            self._take(entries)
            # As the generator does without a bus: leave the rest of the server at least
            # as much CPU time as the fan-out took before reading again, so that under
            # overload accepting and requests go on; what arrives meanwhile comes with
            # the next read, in bigger writes.
            await trio.sleep(time.thread_time() - cpu_started)

    async def _sync(self, log: RedisLog) -> None:
        """(Re)join: the simulation, clock and scenarios from Redis (or restore them into
        a Redis that lost them), then the log's tail the first time."""
        control_cursor = await log.control_cursor()
        state, control = self._simulation, self._control
        state.clock.start()  # followers too: GET /api/clock reads it
        source = state.source
        if isinstance(source, Simulator):
            seed, start_ms = await log.claim_simulation(source.seed, source.start_ms)
            moved = (seed, start_ms) != (source.seed, source.start_ms)
            if moved and not self.status.leader and self._rebuild is not None:
                self._replace_source(self._rebuild(seed, start_ms))
        clock_fields = await log.hash(log.clock_key)
        if clock_fields:
            control.adopt_clock(clock_fields)
        else:
            kept = await log.restore(log.clock_key, control.clock_fields())
            if kept != control.clock_fields():
                control.adopt_clock(kept)  # another process restored it first
        scenarios = await log.hash(log.scenarios_key)
        if isinstance(state.source, Simulator):
            current = {name: state.source.scenario_of(name) for name in state.source.subjects}
            scenarios = await log.restore(log.scenarios_key, {**current, **scenarios})
            for subject, scenario in scenarios.items():
                if scenario != current.get(subject):
                    control.apply_scenario(subject, scenario)
        if self._cursor is None:
            self._take(await log.tail(state.hub.buffer.capacity))  # what the ring can hold
            if self._cursor is None:
                newest = state.hub.buffer.newest_id
                self._cursor = 0 if newest is None else newest
        newest = state.hub.buffer.newest_id
        if newest is not None:
            # A Redis that came back empty: whoever leads next continues above this.
            await log.raise_floor(newest)
        control.move_cursor(control_cursor)
        self.status.connected = True
        self._synced.set()
        logger.info("bus: following %s from id %d", self.status.url, self._cursor)

    def _take(self, entries: Sequence[Entry]) -> None:
        """Publish ``entries`` into the local hub, in runs of consecutive ids."""
        if not entries:
            return
        runs: list[tuple[int, list[Sample]]] = []
        for entry in entries:
            if self._cursor is not None and entry.id <= self._cursor:
                continue  # already taken (a resync's overlap)
            self._cursor = entry.id
            try:
                sample = decode_sample(entry.data)
            except ValueError as error:
                logger.warning("bus: skipping entry %d: %s", entry.id, error)
                continue
            if runs and runs[-1][0] + len(runs[-1][1]) == entry.id:
                runs[-1][1].append(sample)
            else:
                runs.append((entry.id, [sample]))
        hub = self._simulation.hub
        for first, samples in runs:
            newest = hub.buffer.newest_id
            if newest is not None and first > newest + 1:
                # Entries this reader never got were trimmed: the local ring cannot hold
                # a gap. Stop serving (503 on /readyz, /healthz and new streams) and shut
                # down, exiting non-zero, so that the orchestrator restarts this process;
                # its clients resume elsewhere.
                logger.error(
                    "bus: ids %d to %d were trimmed before this process read them; "
                    "it shuts down to be restarted",
                    newest + 1,
                    first - 1,
                )
                self.status.broken = True
                self._broken.set()
                return
            hub.publish_numbered(first, samples)
        self._advanced.set()
        self._advanced = trio.Event()
        self.status.lag_s = max(0.0, (self._wall_ms() - entries[-1].wall_ms) / 1000)
