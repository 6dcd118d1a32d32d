"""create_app(config): wiring the routes, and the one place where the app's nursery is touched."""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import trio
from hypercorn.typing import ASGIReceiveCallable, ASGISendCallable, Scope, WebsocketScope
from quart_trio import QuartTrio
from quart_trio.wrappers import TrioRequest

from biomock.asgi import (
    CorsPolicy,
    client_address,
    cors_send,
    preflight,
    refuse_websocket,
    request_target,
    send_error,
    shield_final_send,
)
from biomock.auth import AuthCollector, AuthGate, open_gate
from biomock.auth.whoami import add_whoami_route
from biomock.clock import SimClock
from biomock.config import Config
from biomock.errors import ApiError, invalid_json, method_not_allowed
from biomock.hub import Hub
from biomock.hygiene import RequestPolicy, body_before_answer, default_allowed_hosts
from biomock.ids import choose_id_base, write_state
from biomock.logs import log_request
from biomock.metrics import BusCollector
from biomock.openapi import install_openapi
from biomock.recording import start_recording
from biomock.replay import open_replay
from biomock.routes import BLUEPRINTS
from biomock.routes.stream import PATH as STREAM_PATH
from biomock.sessions import LocalSessions, session_id_of
from biomock.sim import (
    Simulator,
    parse_cadences,
    parse_devices,
    parse_time_zones,
    subject_names,
)
from biomock.source import Source
from biomock.state import EXTENSION, AppState, current_state
from biomock.stream import StreamRoute
from biomock.ws import PATH as WS_PATH
from biomock.ws import WsContext, reject, serve_ws

if TYPE_CHECKING:
    from biomock.bus.node import BusNode
    from biomock.bus.sessions import BusSessions

logger = logging.getLogger(__name__)

REPO_DIST = Path(__file__).resolve().parent.parent / "streaming-frontend" / "dist"


class BiomockRequest(TrioRequest):
    """Quart-Trio's request, with a JSON body parser that refuses instead of failing."""

    async def get_json(self, force: bool = False, silent: bool = False, cache: bool = True) -> Any:
        """The body as JSON, whatever its Content-Type (``biomock.hygiene`` checked that).

        Raises:
            ApiError: 400 ``invalid_json`` for an empty, undecodable or too deeply nested body.
        """
        raw = await self.get_data(cache=cache, as_text=False)
        if not raw.strip():
            raise invalid_json("the request body is empty; send a JSON object")
        try:
            return json.loads(raw)
        except (ValueError, RecursionError):  # RecursionError: nesting deeper than the stack
            raise invalid_json("the request body is not valid JSON") from None


class BiomockApp(QuartTrio):
    """The Quart-Trio app, with request hygiene, CORS and the stream route at the ASGI layer."""

    request_class = BiomockRequest
    state: AppState
    stream_route: StreamRoute
    ws_context: WsContext
    cors: CorsPolicy
    policy: RequestPolicy
    gate: AuthGate

    async def asgi_app(
        self, scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable
    ) -> None:
        if scope["type"] == "websocket":
            if (refused := self.policy.check_host(scope)) is not None:
                await refuse_websocket(send, refused)
                log_request(
                    "GET", request_target(scope), refused.status, 0.0, client_address(scope)
                )
                return
            handshake = await self.gate.admit(scope, send)  # 401/403 before the upgrade
            if handshake is not None:
                await self._serve_ws(handshake, receive, send)
            return
        if scope["type"] != "http":
            await super().asgi_app(scope, receive, send)
            return
        started = trio.current_time()
        server_send = send  # Hypercorn's own, for the stream route's fast path
        receive, send = body_before_answer(scope, receive, send)
        send = cors_send(self.cors, scope, send)
        refused = self.policy.check_host(scope)
        if refused is None:
            if await preflight(scope, send):
                return
            admitted = await self.gate.admit(scope, send)  # 401/403 here, for every route
            if admitted is None:
                return
            scope = admitted
            read = await self.policy.read_body(scope, receive)
            if read is None:
                return  # the client went away while sending its body
            receive, refused = read
        stream = scope["path"] == STREAM_PATH
        if refused is None and stream and scope["method"] not in ("GET", "HEAD"):
            refused = method_not_allowed(scope["method"], STREAM_PATH)
        if refused is None and scope["path"] == WS_PATH:
            refused = upgrade_required(scope["method"])
        simulation = None
        if refused is None and stream:
            try:
                simulation = await self.state.simulation_for(scope)
            except ApiError as error:
                refused = error  # an unknown session: 404 before the stream starts
        if refused is not None:
            await send_error(send, refused)
            duration_s = trio.current_time() - started
            log_request(
                scope["method"],
                request_target(scope),
                refused.status,
                duration_s,
                client_address(scope),
            )
        elif not stream:
            await super().asgi_app(scope, receive, shield_final_send(send))
        else:
            await self.stream_route(
                scope, receive, send, server_send=server_send, simulation=simulation
            )

    async def _serve_ws(
        self, scope: WebsocketScope, receive: ASGIReceiveCallable, send: ASGISendCallable
    ) -> None:
        """A WebSocket connection, on the simulation its query names."""
        context = self.ws_context
        if scope["path"] == WS_PATH and session_id_of(scope) is not None:
            try:
                simulation = await self.state.simulation_for(scope)
            except ApiError as error:
                if (await receive())["type"] == "websocket.connect":
                    await reject(send, error)
                log_request("GET", request_target(scope), error.status, 0.0, client_address(scope))
                return
            source = simulation.source
            context = replace(
                context,
                hub=simulation.hub,
                subjects=source.subjects,
                source_finished=lambda: source.finished,
                admit=_no_admission if simulation.bus is None else simulation.bus.admit,
                older=None if simulation.bus is None else simulation.bus.older,
            )
        await serve_ws(context, scope, receive, send)


def default_static_dir() -> Path | None:
    """The dashboard's build output, when it has been built."""
    for candidate in (Path.cwd() / "streaming-frontend" / "dist", REPO_DIST):
        if (candidate / "index.html").is_file():
            return candidate
    return None


def open_source(config: Config, wall_ms: int) -> Source:
    """The replay ``config`` names, else a simulator seeded from ``config`` starting now."""
    if config.replay is not None:
        return open_replay(
            config.replay,
            loop=config.replay_loop,
            shift_to_now=config.replay_shift_to_now,
            now_ms=wall_ms,
        )
    seed = config.seed if config.seed is not None else random.SystemRandom().randrange(2**31)
    logger.info("seed %d (set BIOMOCK_SEED to reproduce)", seed)
    start_ms = wall_ms - wall_ms % 1000  # whole seconds, so timestamps read as their cadences
    return build_simulator(config, seed, start_ms)


def build_simulator(config: Config, seed: int, start_ms: int) -> Simulator:
    """The simulator ``config`` describes, with ``seed``, starting at ``start_ms``."""
    return Simulator(
        start_ms,
        seed=seed,
        subjects=subject_names(config.subjects),
        cadences=parse_cadences(config.cadences),
        cadence=config.cadence,
        imperfections=config.imperfections,
        devices=parse_devices(config.devices),
        time_zones=parse_time_zones(config.time_zones),
    )


def create_app(
    config: Config,
    *,
    source: Source | None = None,
    wall_ms: int | None = None,
    wall_clock: Callable[[], int] | None = None,
) -> BiomockApp:
    """Build the app: hub, clock, source and routes. Nothing runs until it is served.

    Args:
        config: the validated settings.
        source: what to stream; by default :func:`open_source`.
        wall_ms: the wall-clock time of boot in epoch ms (injected by tests); ids of
            this run start above ``wall_ms * 1000`` (or the newest id of the last run,
            see ``biomock.ids``), so they keep increasing across restarts and stay
            below 2**53 for centuries.
        wall_clock: the wall clock in epoch ms (injected by tests). The simulator's
            time follows it at speed 1; by default the machine's clock, unless
            ``wall_ms`` is given (then simulated time starts at ``start()``).
    """
    gate = open_gate(config)  # first: bad credentials refuse to start before anything else
    rebuild = None if source is not None or config.replay is not None else config
    state = build_state(config, source=source, wall_ms=wall_ms, wall_clock=wall_clock)
    hub, source = state.hub, state.source
    if config.bus is not None:
        state.bus = open_bus(config, state, rebuild=rebuild, wall_clock=wall_clock)
        state.registry.register(BusCollector(state.bus.status))
    app = BiomockApp(__name__, static_folder=None)  # the dashboard has its own routes
    app.state = app.extensions[EXTENSION] = state
    app.config["MAX_CONTENT_LENGTH"] = config.max_body_bytes  # behind RequestPolicy's check
    app.cors = CorsPolicy(config.cors_origins)
    app.gate = gate
    state.registry.register(AuthCollector(gate))
    app.policy = RequestPolicy(
        allowed_hosts=config.allowed_hosts or default_allowed_hosts(config.host),
        max_body_bytes=config.max_body_bytes,
    )
    app.stream_route = StreamRoute(
        hub,
        source.subjects,
        heartbeat_s=config.heartbeat_s,
        slow_client_timeout_s=config.slow_client_timeout_s,
        fast_path=config.fast_path,
        admit=_no_admission if state.bus is None else state.bus.admit,
        older=None if state.bus is None else state.bus.older,
        fault_counts=state.faults_injected,
    )
    app.ws_context = WsContext(
        hub,
        source.subjects,
        config.heartbeat_s,
        config.slow_client_timeout_s,
        source_finished=lambda: source.finished,
        admit=_no_admission if state.bus is None else state.bus.admit,
        older=None if state.bus is None else state.bus.older,
        fault_counts=state.faults_injected,
    )
    install_openapi(app)
    add_whoami_route(app)
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    app.before_serving(mark_started)
    app.after_serving(stop_recording)
    return app


def open_bus(
    config: Config,
    state: AppState,
    *,
    rebuild: Config | None,
    wall_clock: Callable[[], int] | None,
) -> BusNode:
    """This process's part in the stream shared through ``config.bus``; it runs when served.

    Args:
        rebuild: the settings a simulation is rebuilt from when this process takes over
            (``None`` for a replay or an injected source: those are jumped to the present).
    """
    from biomock.bus.node import BusNode  # only with a bus: coredis stays off the plain path

    assert config.bus is not None
    node = BusNode(
        config.bus.get_secret_value(),
        state.default,
        replace_source=state.replace_source,
        lease_s=config.bus_lease_s,
        max_batch=config.max_batch,
        rebuild=None if rebuild is None else partial(build_simulator, rebuild),
        wall_ms=wall_clock or _wall_clock_ms,
    )
    state.default.bus = node
    return node


def _no_admission() -> None:
    """Without a bus every stream may start (the hub's own limits still apply)."""


def upgrade_required(method: str) -> ApiError:
    """A request for the WebSocket route without the upgrade."""
    return ApiError(
        426,
        "upgrade_required",
        f"{method} /api/ws without an upgrade: /api/ws is a WebSocket (Upgrade: websocket)",
        headers={"Upgrade": "websocket"},
    )


def build_state(
    config: Config,
    *,
    source: Source | None,
    wall_ms: int | None,
    wall_clock: Callable[[], int] | None,
) -> AppState:
    """The hub, the source and the simulated clock, as :func:`create_app` describes them."""
    follows_wall = _follows_wall(config, source, wall_ms, wall_clock)
    if wall_clock is None and wall_ms is None:
        wall_clock = _wall_clock_ms
    if wall_ms is None:
        assert wall_clock is not None
        wall_ms = wall_clock()
    source = open_source(config, wall_ms) if source is None else source
    # The default simulation's streams and the sessions' share one subscriber limit.
    sessions: LocalSessions | BusSessions
    if config.bus is None:
        sessions = LocalSessions(
            config,
            wall_clock=wall_clock or _wall_clock_ms,
            default_streams=lambda: hub.subscriber_count,
        )
    else:
        from biomock.bus.sessions import BusSessions  # coredis only with a bus

        sessions = BusSessions(
            config,
            wall_clock=wall_clock or _wall_clock_ms,
            default_streams=lambda: hub.subscriber_count,
        )
    hub = Hub(
        capacity=config.buffer_size,
        id_base=choose_id_base(wall_ms, record=config.record, state=config.state_file),
        max_subscribers=config.max_subscribers,
        retry_ms=config.retry_ms,
        peers=sessions.subscriber_count,
    )
    return AppState(
        config=config,
        hub=hub,
        source=source,
        sessions=sessions,
        clock=SimClock(
            source.start_ms, speed=config.speed, wall_ms=wall_clock if follows_wall else None
        ),
        static_dir=config.static_dir if config.static_dir is not None else default_static_dir(),
        recorder=None if config.record is None else start_recording(hub, config),
    )


def _follows_wall(
    config: Config,
    source: Source | None,
    wall_ms: int | None,
    wall_clock: Callable[[], int] | None,
) -> bool:
    """Whether simulated time follows the wall clock: when it starts now (the simulator, a
    replay shifted to now), or for any source when a test injects the wall clock."""
    if wall_clock is not None:
        return True
    return (
        wall_ms is None and source is None and (config.replay is None or config.replay_shift_to_now)
    )


def _wall_clock_ms() -> int:
    return int(time.time() * 1000)


async def mark_started() -> None:
    """Note when serving began; the generator itself runs in ``biomock.server.serve``,
    where its crashes are seen."""
    current_state().started_at = trio.current_time()


async def stop_recording() -> None:
    """Flush and close the recording, if there is one."""
    state = current_state()
    recorder = state.recorder
    if recorder is not None and not recorder.closed:
        try:
            recorder.close()
        except OSError as error:
            logger.error("recording to %s: last lines lost: %s", state.config.record, error)
    if state.config.state_file is not None:
        try:
            write_state(state.config.state_file, state.hub.next_id - 1)
        except OSError as error:
            logger.error("state file %s not written: %s", state.config.state_file, error)
