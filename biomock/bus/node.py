"""One process's part in the shared stream: a reader always, the generator while it leads.

Every process runs one reader task: a single ``XREAD BLOCK`` on the sample log and the
control stream, from its last ids. Samples go into the local hub already numbered
(``Hub.publish_numbered``), so local fan-out, the fast path and the slow-client policy are
exactly those of a single process; control changes are applied to the local clock and
simulator. The leader's own hub is fed the same way: every process, the leader included,
serves what is in Redis, so they serve the same ids and bytes.

At most one process generates: the one holding the lease. It renews the lease every
third of its length and appends each batch with a Lua script that checks the lease
first (fencing), so a process that lost the lease (paused, partitioned) cannot append
even before it notices. A process taking over continues ids above the log's last entry
(or, when the log is empty because Redis came back empty, above the newest id it has
seen, so ids still increase) and rebuilds the simulation at the current
simulated time from the seed, start, scenarios and clock kept in Redis.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import trio

from biomock.bus.codec import decode_sample, encode_sample
from biomock.bus.log import ERRORS, Entry, LeaseLost, RedisLog, open_redis_log, redact
from biomock.errors import ApiError
from biomock.generator import run_generator
from biomock.pacer import Pacer
from biomock.sample import Sample
from biomock.sim import Simulator, UnknownScenario, UnknownSubject
from biomock.source import Source

if TYPE_CHECKING:
    from biomock.state import AppState

logger = logging.getLogger(__name__)

BLOCK_MS = 1000
"""How long one ``XREAD`` waits for news; a Redis silent for longer than this plus
:data:`COMMAND_S` counts as down."""

COMMAND_S = 2.0
"""The most any other command may take before Redis counts as unreachable."""

RETRY_S = 0.5
"""Pause between attempts to reach Redis again."""

RETRY_AFTER_S = 2
"""``Retry-After`` of a request refused while Redis is unreachable."""

READ_COUNT = 5000
"""Entries taken per ``XREAD`` at most; a reader behind takes the rest at once after."""

LOG_LENGTH_FACTOR = 2
"""The log keeps about twice the buffer: a reader briefly behind (a pause, a burst at high
clock speed) still finds what it has not read, and a resume older than the local buffer
is still served from the log's tail when a process starts."""

UNREACHABLE: tuple[type[Exception], ...] = (*ERRORS, trio.TooSlowError)

Rebuild = Callable[[int, int], Source]
"""Builds the simulation from its ``seed`` and ``start_ms`` (the simulator, in production)."""


@dataclass(slots=True)
class BusStatus:
    """What ``/api/stats``, ``/readyz`` and ``/metrics`` say about the bus."""

    url: str
    connected: bool = False
    leader: bool = False
    lag_s: float = 0.0
    failovers: int = 0
    broken: bool = False
    """The reader fell behind the log's trimming: this process cannot follow any more."""


def unavailable(message: str = "the shared bus (Redis) is unreachable; retry shortly") -> ApiError:
    return ApiError(503, "unavailable", message, headers={"Retry-After": str(RETRY_AFTER_S)})


def stream_order(entry_id: bytes) -> tuple[int, int]:
    """A stream id ``ms-seq`` as a sortable pair."""
    ms, _, seq = entry_id.decode().partition("-")
    return int(ms), int(seq or 0)


class BusNode:
    """This process's reader and, while it holds the lease, its generator.

    Args:
        url: the Redis URL (``BIOMOCK_BUS``).
        state: the app's shared state; the node feeds its hub, follows its clock and,
            when the simulation is rebuilt, replaces its source.
        lease_s: the lease's length (``BIOMOCK_BUS_LEASE_S``).
        max_batch: the generator's batch limit.
        rebuild: builds the simulation from a seed and start; ``None`` for a source that
            cannot be rebuilt (a replay, or a test's), which is then jumped to the present.
        wall_ms: the wall clock in epoch ms.
    """

    def __init__(
        self,
        url: str,
        state: AppState,
        *,
        lease_s: float,
        max_batch: int,
        rebuild: Rebuild | None,
        wall_ms: Callable[[], int],
    ) -> None:
        self.status = BusStatus(redact(url))
        self._url = url
        self._state = state
        self._lease_ms = max(1, int(lease_s * 1000))
        self._max_batch = max_batch
        self._rebuild = rebuild
        self._wall_ms = wall_ms
        self._log: RedisLog | None = None
        self._synced = trio.Event()
        self._cursor: int | None = None
        self._control_cursor = b"0-0"
        self._control_moved = trio.Event()
        self._next_id = 0
        self._renewed_at = 0.0
        self._token: str | None = None
        self._lead_scope = trio.CancelScope()
        self._resigned = False

    # For routes.

    def admit(self) -> None:
        """Raise 503 ``unavailable`` while Redis is unreachable (before a stream starts).

        Raises:
            ApiError: Redis is unreachable, or not reached yet.
        """
        if not self.ready:
            raise unavailable()

    @property
    def ready(self) -> bool:
        status = self.status
        return status.connected and self._synced.is_set() and not status.broken

    async def older(self, last_event_id: int) -> list[tuple[int, Sample]]:
        """What a resume from ``last_event_id`` needs from before the local buffer, read
        from the log (which keeps about twice the buffer); empty if nothing or unreachable."""
        log, oldest = self._log, self._state.hub.buffer.oldest_id
        if log is None or oldest is None or last_event_id >= oldest - 1 or not self.ready:
            return []
        try:
            with trio.fail_after(COMMAND_S):
                entries = await log.between(last_event_id, oldest - 1)
            return [(entry.id, decode_sample(entry.data)) for entry in entries]
        except UNREACHABLE:
            return []  # the resume falls back to the buffer (a reset if it is too old)
        except ValueError:  # an entry this version cannot read: the same fallback
            return []

    async def change_clock(
        self, *, speed: float | None, paused: bool | None, now_ms: int | None
    ) -> None:
        """Change the shared clock; returns once this process applied it.

        Raises:
            ApiError: 503 ``unavailable`` when Redis cannot be reached.
        """
        clock = self._state.clock
        body: dict[str, Any] = {
            "kind": "clock",
            "speed": clock.speed if speed is None else speed,
            "paused": clock.paused if paused is None else paused,
            "jump_ms": now_ms,
            "sim_ms": clock.now_ms() if now_ms is None else now_ms,
            "wall_ms": self._wall_ms(),
        }
        fields = {k: str(body[k]) for k in ("speed", "paused", "sim_ms", "wall_ms")}
        await self._announce("clock", fields, body)

    async def switch_scenario(self, subject: str, scenario: str) -> None:
        """Switch ``subject``'s scenario in every process; returns once applied here.

        Raises:
            ApiError: 503 ``unavailable`` when Redis cannot be reached.
        """
        body = {"kind": "scenario", "subject": subject, "scenario": scenario}
        await self._announce("scenarios", {subject: scenario}, body)

    async def _announce(self, which: str, fields: dict[str, str], body: dict[str, Any]) -> None:
        log = self._log
        if log is None or not self.ready:
            raise unavailable()
        key = log.clock_key if which == "clock" else log.scenarios_key
        try:
            with trio.fail_after(COMMAND_S):
                entry_id = await log.announce(key, fields, body)
                target = stream_order(entry_id)
                while stream_order(self._control_cursor) < target:
                    await self._control_moved.wait()
        except UNREACHABLE:
            raise unavailable() from None

    # The tasks.

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Read for ever, and generate while this process holds the lease.

        Cancellation: runs until cancelled; a leader gives its lease back on the way
        out (within a second), so another process takes over at once.
        """
        async with open_redis_log(self._url) as log, trio.open_nursery() as nursery:
            self._log = log
            nursery.start_soon(self._read_forever, log)
            nursery.start_soon(self._lead_forever, log)
            task_status.started()

    async def _read_forever(self, log: RedisLog) -> None:
        while True:
            try:
                with trio.fail_after(BLOCK_MS / 1000 + COMMAND_S):
                    if not self._synced.is_set():
                        await self._sync(log)
                    cursor = self._cursor if self._cursor is not None else 0
                    entries, changes = await log.read(
                        cursor, self._control_cursor, count=READ_COUNT, block_ms=BLOCK_MS
                    )
            except UNREACHABLE as error:
                if self.status.connected:
                    logger.warning("bus: Redis at %s unreachable (%s)", self.status.url, error)
                self.status.connected = False
                self._synced = trio.Event()
                await trio.sleep(RETRY_S)
                continue
            self.status.connected = True
            self._take(entries)
            for change in changes:
                self._apply(change.body)
            if changes:
                self._move_control_cursor(changes[-1].id)

    async def _sync(self, log: RedisLog) -> None:
        """(Re)join: the simulation, clock and scenarios from Redis (or restore them into
        a Redis that lost them), then the log's tail the first time."""
        control = await log.control_cursor()
        state = self._state
        state.clock.start()  # followers too: GET /api/clock reads it
        source = state.source
        if isinstance(source, Simulator):
            seed, start_ms = await log.claim_simulation(source.seed, source.start_ms)
            moved = (seed, start_ms) != (source.seed, source.start_ms)
            if moved and not self.status.leader and self._rebuild is not None:
                state.source = self._rebuild(seed, start_ms)
        clock_fields = await log.hash(log.clock_key)
        if clock_fields:
            self._adopt_clock(clock_fields)
        else:
            await log.restore(log.clock_key, self._clock_fields())
        scenarios = await log.hash(log.scenarios_key)
        if isinstance(state.source, Simulator):
            current = {name: state.source.scenario_of(name) for name in state.source.subjects}
            await log.restore(log.scenarios_key, {**current, **scenarios})
            for subject, scenario in scenarios.items():
                self._apply_scenario(subject, scenario)
        if self._cursor is None:
            tail = await log.tail(state.hub.buffer.capacity)  # what the ring can hold
            self._take(tail)
            if self._cursor is None:
                newest = state.hub.buffer.newest_id
                self._cursor = 0 if newest is None else newest
        self._move_control_cursor(control)
        self.status.connected = True
        self._synced.set()
        logger.info("bus: following %s from id %d", self.status.url, self._cursor)

    def _clock_fields(self) -> dict[str, str]:
        clock = self._state.clock
        return {
            "speed": str(clock.speed),
            "paused": str(clock.paused),
            "sim_ms": str(clock.now_ms()),
            "wall_ms": str(self._wall_ms()),
        }

    def _adopt_clock(self, fields: dict[str, str]) -> None:
        try:
            speed, paused = float(fields["speed"]), fields["paused"] == "True"
            sim_ms, wall_ms = int(fields["sim_ms"]), int(fields["wall_ms"])
        except (KeyError, ValueError):
            logger.warning("bus: ignoring a malformed clock in Redis: %r", fields)
            return
        now = sim_ms if paused else sim_ms + int(max(0, self._wall_ms() - wall_ms) * speed)
        if not self.status.leader:
            self._state.clock.adopt(now, speed=speed, paused=paused)

    def _move_control_cursor(self, entry_id: bytes) -> None:
        if stream_order(entry_id) > stream_order(self._control_cursor):
            self._control_cursor = entry_id
        self._control_moved.set()
        self._control_moved = trio.Event()

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
        hub = self._state.hub
        for first, samples in runs:
            newest = hub.buffer.newest_id
            if newest is not None and first > newest + 1:
                # Entries this reader never got were trimmed: the local ring cannot hold
                # a gap. Stop serving (503 on /readyz and new streams) so that the
                # orchestrator restarts this process; its clients resume elsewhere.
                logger.error(
                    "bus: ids %d to %d were trimmed before this process read them; "
                    "it stops serving new streams and needs a restart",
                    newest + 1,
                    first - 1,
                )
                self.status.broken = True
                return
            hub.publish_numbered(first, samples)
        self.status.lag_s = max(0.0, (self._wall_ms() - entries[-1].wall_ms) / 1000)

    def _apply(self, body: dict[str, Any]) -> None:
        """Apply one announced change to this process's clock or simulator."""
        try:
            if body.get("kind") == "clock":
                self._apply_clock(body)
            elif body.get("kind") == "scenario":
                self._apply_scenario(str(body["subject"]), str(body["scenario"]))
        except (KeyError, TypeError, ValueError) as error:
            logger.warning("bus: ignoring a malformed control change %r: %s", body, error)

    def _apply_clock(self, body: dict[str, Any]) -> None:
        state = self._state
        clock = state.clock
        jump_ms = body.get("jump_ms")
        speed, paused = float(body["speed"]), bool(body["paused"])
        if jump_ms is not None and int(jump_ms) > clock.now_ms():
            if self.status.leader:
                state.source.jump(int(jump_ms))
            clock.set(speed=speed, paused=paused, now_ms=int(jump_ms))
        else:
            clock.set(speed=speed, paused=paused)

    def _apply_scenario(self, subject: str, scenario: str) -> None:
        source = self._state.source
        if not isinstance(source, Simulator):
            return
        try:
            source.set_scenario(subject, scenario)
        except (UnknownSubject, UnknownScenario) as error:
            logger.warning("bus: ignoring a scenario change: %s", error)

    # Leadership.

    async def resign(self) -> None:
        """Stop generating and give the lease back now (shutdown), so that another
        process takes over at once instead of when the lease expires."""
        self._resigned = True
        self._lead_scope.cancel()
        log, token = self._log, self._token
        if log is not None and token is not None:
            with trio.move_on_after(1), contextlib.suppress(*ERRORS):
                await log.release(token)

    async def _lead_forever(self, log: RedisLog) -> None:
        while not self._resigned:
            await self._synced.wait()
            if self.status.broken:
                await trio.sleep_forever()
            token = secrets.token_hex(16)
            try:
                with trio.fail_after(COMMAND_S):
                    taken = await log.try_lease(token, self._lease_ms)
                    self.status.failovers = max(0, await log.leaderships() - 1)
            except UNREACHABLE:
                taken = False
            if taken:
                self._token = token
                try:
                    with self._lead_scope:
                        await self._lead(log, token)
                except* LeaseLost:
                    logger.warning("bus: lost the generator's lease; following again")
                except* UNREACHABLE:
                    logger.warning("bus: Redis unreachable while generating; following again")
                except* Exception:
                    logger.error("bus: the generator crashed; following again", exc_info=True)
                finally:
                    self.status.leader = False
                    self._token = None
                    if self._state.generator.state == "running":
                        self._state.generator.state = "starting"
                self._lead_scope = trio.CancelScope()
            await trio.sleep(self._lease_ms / 3000)

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
        self.status.leader = True
        clock.start()
        source = state.source
        if continuing:
            if self._rebuild is not None and "seed" in simulation:
                source = self._rebuild(int(simulation["seed"]), int(simulation["start_ms"]))
            source.jump(clock.now_ms())
            state.source = source
            for subject, scenario in scenarios.items():
                self._apply_scenario(subject, scenario)
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
