"""create_app(config): the routes, and the one place where the app's nursery is touched."""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import trio
from hypercorn.typing import ASGIReceiveCallable, ASGISendCallable, Scope
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from quart import Response, g, request, send_from_directory
from quart_schema import document_querystring, document_request, document_response
from quart_trio import QuartTrio
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound

from biomock.asgi import CorsPolicy, cors_send, preflight, shield_final_send
from biomock.catalogue import TYPES
from biomock.clock import SimClock
from biomock.config import Config
from biomock.errors import ApiError, invalid_parameter, not_found
from biomock.generator import GeneratorStatus
from biomock.hub import Hub
from biomock.ids import choose_id_base, write_state
from biomock.logs import log_request
from biomock.metrics import make_registry
from biomock.openapi import (
    ClockState,
    ClockUpdate,
    HistoryPage,
    HistoryQuery,
    Stats,
    Status,
    TypeList,
    install_openapi,
    media_type,
)
from biomock.params import parse_filter, parse_int, parse_time_param
from biomock.recording import start_recording
from biomock.replay import open_replay
from biomock.sample import check_time_range, format_time, parse_time
from biomock.sim import Simulator, parse_cadences, subject_names
from biomock.source import Source
from biomock.stream import StreamRoute, send_error
from biomock.subjects_api import add_subject_routes
from biomock.ws import WsContext, serve_ws
from biomock.ws_doc import add_ws_declaration

logger = logging.getLogger(__name__)

REPO_DIST = Path(__file__).resolve().parent.parent / "streaming-frontend" / "dist"


@dataclass(slots=True)
class AppState:
    """Everything the routes share; built once by :func:`create_app`."""

    config: Config
    hub: Hub
    source: Source
    clock: SimClock
    generator: GeneratorStatus = field(default_factory=GeneratorStatus)
    started_at: float | None = None


class BiomockApp(QuartTrio):
    """The Quart-Trio app, with the stream route and CORS at the ASGI layer."""

    state: AppState
    stream_route: StreamRoute
    ws_context: WsContext
    cors: CorsPolicy

    async def asgi_app(
        self, scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable
    ) -> None:
        if scope["type"] == "websocket":
            await serve_ws(self.ws_context, scope, receive, send)
            return
        if scope["type"] != "http":
            await super().asgi_app(scope, receive, send)
            return
        server_send, send = send, cors_send(self.cors, scope, send)
        if await preflight(scope, send):
            return
        if scope["path"] == "/api/ws":
            await send_error(send, _upgrade_required(scope["method"]))
            return
        if scope["path"] == "/api/stream":
            if scope["method"] not in ("GET", "HEAD"):
                await send_error(send, _method_not_allowed(scope["method"], "/api/stream"))
            else:
                await self.stream_route(scope, receive, send, server_send=server_send)
            return
        await super().asgi_app(scope, receive, shield_final_send(send))


def default_static_dir() -> Path | None:
    """The dashboard's build output, when it has been built."""
    for candidate in (Path.cwd() / "streaming-frontend" / "dist", REPO_DIST):
        if (candidate / "index.html").is_file():
            return candidate
    return None


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
        source: what to stream; by default a seeded source starting now.
        wall_ms: the wall-clock time of boot in epoch ms (injected by tests); ids of
            this run start above ``wall_ms * 1000`` (or the newest id of the last run,
            see ``biomock.ids``), so they keep increasing across restarts and stay
            below 2**53 for centuries.
        wall_clock: the wall clock in epoch ms (injected by tests). The simulator's
            time follows it at speed 1; by default the machine's clock, unless
            ``wall_ms`` is given (then simulated time starts at ``start()``).
    """
    # Simulated time follows the wall clock when it starts now: the simulator, a replay
    # shifted to now, or any source when a test injects the wall clock.
    follows_wall = wall_clock is not None or (
        wall_ms is None and source is None and (config.replay is None or config.replay_shift_to_now)
    )
    if wall_clock is None and wall_ms is None:
        wall_clock = _wall_clock_ms
    if wall_ms is None:
        assert wall_clock is not None
        wall_ms = wall_clock()
    if source is None and config.replay is not None:
        source = open_replay(
            config.replay,
            loop=config.replay_loop,
            shift_to_now=config.replay_shift_to_now,
            now_ms=wall_ms,
        )
    if source is None:
        seed = config.seed if config.seed is not None else random.SystemRandom().randrange(2**31)
        logger.info("seed %d (set BIOMOCK_SEED to reproduce)", seed)
        # whole seconds, so that timestamps read as the cadences they are
        start_ms = wall_ms - wall_ms % 1000
        source = Simulator(
            start_ms,
            seed=seed,
            subjects=subject_names(config.subjects),
            cadences=parse_cadences(config.cadences),
        )
    hub = Hub(
        capacity=config.buffer_size,
        id_base=choose_id_base(wall_ms, record=config.record, state=config.state_file),
        max_subscribers=config.max_subscribers,
        retry_ms=config.retry_ms,
    )
    clock = SimClock(
        source.start_ms, speed=config.speed, wall_ms=wall_clock if follows_wall else None
    )
    state = AppState(config=config, hub=hub, source=source, clock=clock)
    recorder = None if config.record is None else start_recording(hub, config)

    app = BiomockApp(__name__, static_folder=None)  # the dashboard is served by static_file
    app.state = state
    app.cors = CorsPolicy(config.cors_origins)
    app.stream_route = StreamRoute(
        hub,
        source.subjects,
        heartbeat_s=config.heartbeat_s,
        slow_client_timeout_s=config.slow_client_timeout_s,
        fast_path=config.fast_path,
    )
    app.ws_context = WsContext(
        hub,
        source.subjects,
        config.heartbeat_s,
        config.slow_client_timeout_s,
        source_finished=lambda: source.finished,
    )
    static_dir = config.static_dir if config.static_dir is not None else default_static_dir()
    install_openapi(app)
    add_ws_declaration(app)

    def uptime_s() -> float:
        return 0.0 if state.started_at is None else trio.current_time() - state.started_at

    registry = make_registry(hub, state.generator, uptime_s)

    @app.before_request
    async def start_timer() -> None:
        g.request_started = trio.current_time()

    @app.after_request
    async def log_finished(response: Response) -> Response:
        query = request.query_string.decode("latin-1")
        log_request(
            request.method,
            request.path + ("?" + query if query else ""),
            response.status_code,
            trio.current_time() - g.get("request_started", trio.current_time()),
            request.remote_addr or "-",
        )
        return response

    @app.before_serving
    async def mark_started() -> None:
        # The generator itself runs in biomock.server.serve, where its crashes are seen.
        state.started_at = trio.current_time()

    @app.after_serving
    async def stop_recording() -> None:
        if recorder is not None and not recorder.closed:
            try:
                recorder.close()
            except OSError as error:
                logger.error("recording to %s: last lines lost: %s", config.record, error)
        if config.state_file is not None:
            try:
                write_state(config.state_file, hub.next_id - 1)
            except OSError as error:
                logger.error("state file %s not written: %s", config.state_file, error)

    @app.errorhandler(ApiError)
    async def api_error(error: ApiError) -> Response:
        return _json(error.body(), error.status, error.headers)

    @app.errorhandler(HTTPException)
    async def http_error(error: HTTPException) -> Response:
        if isinstance(error, NotFound):
            return await api_error(not_found(f"no route {request.method} {request.path}"))
        if isinstance(error, MethodNotAllowed):
            return await api_error(_method_not_allowed(request.method, request.path))
        code = "invalid_json" if error.code == 400 else "internal"
        status = error.code or 500
        return _json({"error": {"code": code, "message": error.description}}, status)

    @app.errorhandler(Exception)
    async def unexpected(error: Exception) -> Response:
        logger.error("unexpected error on %s %s", request.method, request.path, exc_info=error)
        return _json({"error": {"code": "internal", "message": "internal server error"}}, 500)

    @app.get("/healthz")
    @document_response(Status)
    async def healthz() -> Response:
        """Liveness: 200 while the process serves; 503 ``degraded`` while the generator is down."""
        if state.generator.state == "stopped":
            return _json({"status": "degraded", "generator": "stopped"}, 503)
        return _json({"status": "ok"})

    @app.get("/readyz")
    @document_response(Status)
    async def readyz() -> Response:
        """Readiness: 200 while the generator runs (or a replay has ended), else 503."""
        if state.generator.state not in ("running", "finished"):
            raise ApiError(503, "unavailable", f"the generator is {state.generator.state}")
        return _json({"status": "ready"})

    @app.get("/api/history")
    @document_querystring(HistoryQuery)
    @document_response(HistoryPage)
    async def history() -> Response:
        """Buffered samples as JSON pages, oldest first."""
        args = request.args
        filter = parse_filter(args, source.subjects)
        after_id = parse_int(args, "after_id", default=None)
        limit = parse_int(args, "limit", default=1000, minimum=1, maximum=10000)
        since_ms = parse_time_param(args, "since")
        until_ms = parse_time_param(args, "until")
        records, next_after_id = hub.history(
            filter, after_id=after_id, since_ms=since_ms, until_ms=until_ms, limit=limit or 1000
        )
        items = b",".join(record.json(filter.format) or b"" for record in records)
        tail = b"null" if next_after_id is None else str(next_after_id).encode()
        body = b'{"items":[' + items + b'],"next_after_id":' + tail + b"}"
        return Response(body, content_type="application/json")

    @app.get("/api/stats")
    @document_response(Stats)
    async def stats() -> Response:
        """The hub's counters: subscribers, samples, drops and the buffer."""
        snapshot = hub.statistics()
        uptime = uptime_s()
        return _json(
            {
                "subscribers": snapshot.subscribers,
                "published": snapshot.published,
                "delivered": snapshot.delivered,
                "dropped_slow": snapshot.dropped_slow,
                "buffer": {
                    "size": snapshot.buffer_size,
                    "capacity": snapshot.buffer_capacity,
                    "oldest_id": snapshot.oldest_id,
                    "newest_id": snapshot.newest_id,
                },
                "uptime_s": round(uptime, 3),
            }
        )

    @app.get("/api/types")
    @document_response(TypeList)
    async def types() -> Response:
        """The catalogue: every type with its unit, kind and codes."""
        return _json(
            [
                {
                    "name": t.name,
                    "unit": t.unit,
                    "kind": t.kind,
                    "interval": t.has_start,
                    "healthkit": t.healthkit,
                    "loinc": t.loinc,
                    "omh_schema": t.omh_schema,
                    "normal_range": None
                    if t.normal_range is None
                    else {"low": t.normal_range[0], "high": t.normal_range[1]},
                    "cadence_s": t.cadence_s,
                }
                for t in TYPES.values()
            ]
        )

    @app.get("/api/clock")
    @document_response(ClockState)
    async def get_clock() -> Response:
        """The simulated clock."""
        return _json(_clock_body(clock))

    @app.post("/api/clock")
    @document_request(ClockUpdate)
    @document_response(ClockState)
    async def post_clock() -> Response:
        """Change the simulated clock's speed, pause it, or jump forward; omitted fields stay."""
        body = await json_object()
        unknown = sorted(set(body) - {"speed", "paused", "now"})
        if unknown:
            raise invalid_parameter(unknown[0], f"unknown field {unknown[0]!r}")
        speed = body.get("speed")
        if speed is not None and (
            isinstance(speed, bool) or not isinstance(speed, int | float) or not 0 < speed <= 100000
        ):
            raise invalid_parameter("speed", "speed must be a number > 0 and <= 100000")
        paused = body.get("paused")
        if paused is not None and not isinstance(paused, bool):
            raise invalid_parameter("paused", "paused must be true or false")
        now_ms = None
        if body.get("now") is not None:
            try:
                now_ms = check_time_range(parse_time(str(body["now"])), "now")
            except ValueError:
                raise invalid_parameter(
                    "now", "now must be an ISO 8601 time in the years 1970 to 2999"
                ) from None
            if now_ms < clock.now_ms():
                raise invalid_parameter(
                    "now", f"the clock only jumps forward; it is {format_time(clock.now_ms())}"
                )
            source.jump(now_ms)
        clock.set(speed=None if speed is None else float(speed), paused=paused, now_ms=now_ms)
        return _json(_clock_body(clock))

    add_subject_routes(app, source, json_object)

    @app.get("/metrics")
    @media_type(CONTENT_TYPE_LATEST, "Prometheus text format; every name starts with biomock_.")
    async def metrics() -> Response:
        """Counters and gauges for Prometheus."""
        return Response(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)

    @app.get("/")
    @media_type("text/html", "The dashboard, or a page linking the API when it is not built.")
    async def index() -> Response:
        """The dashboard."""
        if static_dir is not None and (static_dir / "index.html").is_file():
            return await send_from_directory(static_dir, "index.html")
        return Response(_NO_DASHBOARD, content_type="text/html; charset=utf-8")

    @app.get("/<path:path>")
    @media_type("application/octet-stream", "A file of the dashboard's build.")
    async def static_file(path: str) -> Response:
        """The dashboard's files."""
        if static_dir is None or not (static_dir / path).is_file():
            raise not_found(f"no route GET /{path}")
        return await send_from_directory(static_dir, path)

    return app


async def json_object() -> dict[str, Any]:
    """The request body as a JSON object.

    Raises:
        ApiError: 400 ``invalid_json`` when the body is not a JSON object.
    """
    raw = await request.get_data(as_text=False)
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "invalid_json", "the request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_json", "the request body must be a JSON object")
    return body


def _wall_clock_ms() -> int:
    return int(time.time() * 1000)


def _clock_body(clock: SimClock) -> dict[str, Any]:
    state = clock.state()
    return {
        "now": format_time(state.now_ms),
        "speed": state.speed,
        "paused": state.paused,
        "lag_s": state.lag_ms / 1000,
    }


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        json.dumps(body), status=status, headers=headers, content_type="application/json"
    )


def _upgrade_required(method: str) -> ApiError:
    return ApiError(
        426,
        "upgrade_required",
        f"{method} /api/ws without an upgrade: /api/ws is a WebSocket (Upgrade: websocket)",
        headers={"Upgrade": "websocket"},
    )


def _method_not_allowed(method: str, path: str) -> ApiError:
    return ApiError(405, "method_not_allowed", f"{method} is not allowed on {path}")


_NO_DASHBOARD = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>biomock</title></head>
<body><h1>biomock</h1>
<p>The dashboard has not been built (run <code>npm run build</code> in
<code>streaming-frontend/</code>, or <code>make run</code>).</p>
<ul>
<li><a href="/api/stream">/api/stream</a>: the Server-Sent Events stream</li>
<li><a href="/api/history">/api/history</a>: buffered samples</li>
<li><a href="/api/types">/api/types</a>: the catalogue</li>
<li><a href="/api/subjects">/api/subjects</a> and <a href="/api/scenarios">/api/scenarios</a>:
the simulated people and what they can be switched to</li>
<li><a href="/api/stats">/api/stats</a>: statistics</li>
<li><a href="/healthz">/healthz</a></li>
</ul></body></html>
"""
