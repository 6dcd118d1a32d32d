"""Clock and scenario changes shared by every process: announced through Redis, applied
by each process's reader, so a change made on any replica takes effect everywhere.

The change is written into a hash (for processes that join later, or a leader that
rebuilds the simulation) and announced on the control stream in one script; the
process that was asked waits until its own reader applied it, so its answer shows it.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

import trio

from biomock.bus.log import COMMAND_S, UNREACHABLE, RedisLog
from biomock.bus.status import unavailable
from biomock.sim import Simulator, UnknownScenario, UnknownSubject

if TYPE_CHECKING:
    from biomock.simulation import Simulation

RunThrough = Callable[[int], Awaitable[bool]]
"""Publishes every sample up to a simulated time, if this process generates (``True``)."""

logger = logging.getLogger(__name__)


def stream_order(entry_id: bytes) -> tuple[int, int]:
    """A stream id ``ms-seq`` as a sortable pair."""
    ms, _, seq = entry_id.decode().partition("-")
    return int(ms), int(seq or 0)


class Control:
    """This process's side of the shared clock and scenarios.

    Args:
        simulation: whose clock and simulator the changes apply to.
        wall_ms: the wall clock in epoch ms.
        leading: whether this process generates now (only the generating process
            jumps its simulator; the others mirror the clock).
        run_through: for a session, publishes the time a paused clock jumps over
            (API.md "Additions") where the generator runs, instead of skipping it.
    """

    def __init__(
        self,
        simulation: Simulation,
        *,
        wall_ms: Callable[[], int],
        leading: Callable[[], bool],
        run_through: RunThrough | None = None,
    ) -> None:
        self._simulation = simulation
        self._wall_ms = wall_ms
        self._leading = leading
        self._run_through = run_through
        self.cursor = b"0-0"
        """The id of the last change applied here (the reader's, with its ``XREAD``)."""
        self._moved = trio.Event()

    # Asked by a route.

    async def change_clock(
        self, log: RedisLog, *, speed: float | None, paused: bool | None, now_ms: int | None
    ) -> None:
        """Change the shared clock; returns once this process applied it.

        Raises:
            ApiError: 503 ``unavailable`` when Redis cannot be reached.
        """
        clock = self._simulation.clock
        body: dict[str, Any] = {
            "kind": "clock",
            "speed": clock.speed if speed is None else speed,
            "paused": clock.paused if paused is None else paused,
            "jump_ms": now_ms,
            "sim_ms": clock.now_ms() if now_ms is None else now_ms,
            "wall_ms": self._wall_ms(),
        }
        fields = {k: str(body[k]) for k in ("speed", "paused", "sim_ms", "wall_ms")}
        await self._announce(log, log.clock_key, fields, body)

    async def switch_scenario(self, log: RedisLog, subject: str, scenario: str) -> None:
        """Switch ``subject``'s scenario in every process; returns once applied here.

        Raises:
            ApiError: 503 ``unavailable`` when Redis cannot be reached.
        """
        body = {"kind": "scenario", "subject": subject, "scenario": scenario}
        await self._announce(log, log.scenarios_key, {subject: scenario}, body)

    async def _announce(
        self, log: RedisLog, key: str, fields: dict[str, str], body: dict[str, Any]
    ) -> None:
        try:
            with trio.fail_after(COMMAND_S):
                target = stream_order(await log.announce(key, fields, body))
                while stream_order(self.cursor) < target:
                    await self._moved.wait()
        except UNREACHABLE:
            raise unavailable() from None

    # Seen by the reader.

    def move_cursor(self, entry_id: bytes) -> None:
        """The reader got this far in the control stream (never backwards)."""
        if stream_order(entry_id) > stream_order(self.cursor):
            self.cursor = entry_id
        self._moved.set()
        self._moved = trio.Event()

    async def apply(self, body: dict[str, Any]) -> None:
        """Apply one announced change; a malformed one is logged and skipped."""
        try:
            if body.get("kind") == "clock":
                await self._apply_clock(body)
            elif body.get("kind") == "scenario":
                self.apply_scenario(str(body["subject"]), str(body["scenario"]))
        except (KeyError, TypeError, ValueError) as error:
            logger.warning("bus: ignoring a malformed control change %r: %s", body, error)

    async def _apply_clock(self, body: dict[str, Any]) -> None:
        simulation = self._simulation
        clock = simulation.clock
        jump_ms = body.get("jump_ms")
        speed, paused = float(body["speed"]), bool(body["paused"])
        if jump_ms is not None and int(jump_ms) > clock.now_ms():
            if not self._leading():
                clock.set(speed=speed, paused=paused, now_ms=int(jump_ms))
            elif paused and self._run_through is not None and await self._run_through(int(jump_ms)):
                # Published up to there already: the generator must not skip it again.
                clock.set(speed=speed, paused=paused, now_ms=int(jump_ms))
                clock.take_jump()
            else:
                simulation.source.jump(int(jump_ms))
                clock.set(speed=speed, paused=paused, now_ms=int(jump_ms))
        else:
            clock.set(speed=speed, paused=paused)

    def apply_scenario(self, subject: str, scenario: str) -> None:
        source = self._simulation.source
        if not isinstance(source, Simulator):
            return
        try:
            source.set_scenario(subject, scenario)
        except (UnknownSubject, UnknownScenario) as error:
            logger.warning("bus: ignoring a scenario change: %s", error)

    # Joining.

    def clock_fields(self) -> dict[str, str]:
        """This process's clock as the ``clock`` hash keeps it."""
        clock = self._simulation.clock
        return {
            "speed": str(clock.speed),
            "paused": str(clock.paused),
            "sim_ms": str(clock.now_ms()),
            "wall_ms": str(self._wall_ms()),
        }

    def adopt_clock(self, fields: dict[str, str]) -> None:
        """Follow the clock the ``clock`` hash describes (not in the generating process)."""
        reading = read_clock(fields, self._wall_ms())
        if reading is None:
            logger.warning("bus: ignoring a malformed clock in Redis: %r", fields)
            return
        now, speed, paused = reading
        if not self._leading():
            self._simulation.clock.adopt(now, speed=speed, paused=paused)


def read_clock(fields: Mapping[str, str], wall_ms: int) -> tuple[int, float, bool] | None:
    """The clock a ``clock`` hash describes, at ``wall_ms``: simulated now, speed and
    whether paused; ``None`` if ``fields`` is not such a hash."""
    try:
        speed, paused = float(fields["speed"]), fields["paused"] == "True"
        sim_ms, written_ms = int(fields["sim_ms"]), int(fields["wall_ms"])
    except (KeyError, ValueError):
        return None
    now = sim_ms if paused else sim_ms + int(max(0, wall_ms - written_ms) * speed)
    return now, speed, paused
