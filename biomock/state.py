"""What the routes share: built once by ``create_app``, read by every route through the app."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, cast

import trio
from prometheus_client import CollectorRegistry
from quart import current_app

from biomock.clock import SimClock
from biomock.config import Config
from biomock.generator import GeneratorStatus
from biomock.hub import Hub
from biomock.metrics import make_registry
from biomock.replay.record import Recorder
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
    static_dir: Path | None = None
    recorder: Recorder | None = None
    generator: GeneratorStatus = field(default_factory=GeneratorStatus)
    started_at: float | None = None
    bus: BusNode | None = None
    """This process's part in the shared stream, when ``BIOMOCK_BUS`` is set."""
    registry: CollectorRegistry = field(init=False)

    def __post_init__(self) -> None:
        self.registry = make_registry(self.hub, self.generator, self.uptime_s)

    def uptime_s(self) -> float:
        """Seconds since the server started serving."""
        return 0.0 if self.started_at is None else trio.current_time() - self.started_at


def current_state() -> AppState:
    """The state of the app handling the current request."""
    return cast(AppState, current_app.extensions[EXTENSION])
