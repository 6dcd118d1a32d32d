"""What the routes share: built once by ``create_app``, read by every route through the app."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import trio
from prometheus_client import CollectorRegistry
from quart import current_app, request

from biomock.auth import principal_of
from biomock.clock import SimClock
from biomock.config import Config
from biomock.faults import FaultCounts
from biomock.generator import GeneratorStatus
from biomock.hub import Hub
from biomock.metrics import make_registry
from biomock.replay.record import Recorder
from biomock.sessions import SessionCollector, SessionRegistry, session_id_of
from biomock.simulation import Simulation
from biomock.source import Source

if TYPE_CHECKING:
    from biomock.bus.node import BusNode

EXTENSION = "biomock"
"""The key of the app's ``extensions`` under which its :class:`AppState` is kept."""


@dataclass(slots=True)
class AppState:
    """Everything the routes share; built once by ``biomock.app.create_app``."""

    config: Config
    hub: Hub
    source: Source
    clock: SimClock
    sessions: SessionRegistry
    static_dir: Path | None = None
    recorder: Recorder | None = None
    generator: GeneratorStatus = field(default_factory=GeneratorStatus)
    started_at: float | None = None
    bus: BusNode | None = None
    """This process's part in the shared stream, when ``BIOMOCK_BUS`` is set."""
    faults_injected: FaultCounts = field(default_factory=FaultCounts)
    """Faults that clients asked for on their streams (``biomock.faults``)."""
    registry: CollectorRegistry = field(init=False)
    default: Simulation = field(init=False)
    """The server's own simulation: what a request without a session addresses."""

    def __post_init__(self) -> None:
        self.registry = make_registry(self.hub, self.generator, self.uptime_s, self.faults_injected)
        self.registry.register(SessionCollector(self.sessions))
        self.default = Simulation(self.hub, self.source, self.clock, self.generator)

    async def simulation_for(self, scope: Mapping[str, Any]) -> Simulation:
        """The simulation a request addresses (``?session=`` or ``X-Biomock-Session``),
        caught up to its clock; the default simulation without either.

        Raises:
            ApiError: 404 ``not_found`` with ``parameter: "session"`` for a session that
                does not exist (any more) or is not the caller's.
        """
        session_id = session_id_of(scope)
        if session_id is None:
            return self.default
        simulation = (await self.sessions.get(session_id, principal_of(scope))).simulation
        await simulation.catch_up()
        return simulation

    def replace_source(self, source: Source) -> None:
        """The shared bus rebuilt the default simulation (``biomock.bus``): from now on
        every route and the generator see ``source``."""
        self.source = source
        self.default.source = source

    def uptime_s(self) -> float:
        """Seconds since the server started serving."""
        return 0.0 if self.started_at is None else trio.current_time() - self.started_at


def current_state() -> AppState:
    """The state of the app handling the current request."""
    return cast(AppState, current_app.extensions[EXTENSION])


async def current_simulation() -> Simulation:
    """The simulation the current request addresses (see :meth:`AppState.simulation_for`)."""
    return await current_state().simulation_for(request.scope)
