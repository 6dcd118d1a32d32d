"""Sessions: private simulations, created, found, expired and deleted (API.md "Sessions").

A session is a :class:`biomock.simulation.Simulation` of its own (simulator, clock,
hub with ids from 1) whose generator is a task in one nursery, owned by
:meth:`LocalSessions.run` (started in ``biomock.server.serve``'s nursery beside the
default generator). Deleting or expiring a session cancels that task and closes its
hub: its streams end cleanly (SSE: the response ends; WebSocket: close 1000).

What the routes need of a registry is :class:`SessionRegistry`; :class:`LocalSessions`
keeps everything in this process (no bus); ``biomock.bus.sessions.BusSessions`` keeps
the sessions in Redis, served by every process on the bus.
"""

from __future__ import annotations

import logging
import math
import re
import secrets
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, NoReturn, Protocol
from urllib.parse import parse_qsl

import trio
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from biomock.auth import Principal
from biomock.clock import SimClock
from biomock.config import Config
from biomock.errors import ApiError
from biomock.hub import Hub
from biomock.models import SESSION_HEADER, SessionCreate
from biomock.pacer import Pacer
from biomock.sample import format_time, parse_time
from biomock.sim import DEFAULT_SCENARIO, Simulator, parse_cadences
from biomock.simulation import Simulation, run_lazy

logger = logging.getLogger(__name__)

ID_PREFIX = "s_"
ID_BYTES = 16
"""128 random bits from ``secrets``: an id cannot be guessed."""

_ID_SHAPE = re.compile(re.escape(ID_PREFIX) + f"[A-Za-z0-9_-]{{{math.ceil(ID_BYTES * 4 / 3)}}}")
"""A session id: the prefix, then ``ID_BYTES`` in URL-safe base64 without padding."""

CLOSE_SHARE_S = 5.0
"""A deleted session's streams end within this; a write still blocked then is aborted."""

_HEADER = SESSION_HEADER.lower().encode("latin-1")


def session_id_of(scope: Mapping[str, Any]) -> str | None:
    """The session a request addresses: ``?session=`` or the ``X-Biomock-Session`` header
    (the query wins); ``None`` (the default simulation) when neither is given.

    Present but empty, it is ``""``: a session that does not exist (404), so that a
    client whose session id went missing is told rather than served the default.
    """
    query = scope.get("query_string", b"").decode("latin-1")
    if "session" in query:
        for key, value in parse_qsl(query, keep_blank_values=True):
            if key == "session":
                return str(value.strip())
    for key, value in scope.get("headers", ()):
        if key.lower() == _HEADER:
            return str(value.decode("latin-1").strip())
    return None


def unknown_session(session_id: str) -> ApiError:
    """API.md's answer for a session that does not exist, expired or is not the caller's."""
    shown = session_id if len(session_id) <= 64 else session_id[:64] + "..."
    return ApiError(
        404,
        "not_found",
        f"no session {shown!r}: it never existed, expired or was deleted (create one with "
        "POST /api/sessions)",
        parameter="session",
    )


@dataclass(frozen=True, slots=True)
class SessionSpec:
    """What a session was created with (its seed chosen if none was given)."""

    seed: int
    subjects: tuple[str, ...]
    scenario: str
    start_ms: int
    ttl_s: int


@dataclass(eq=False, slots=True)
class Session:
    """One session: who owns it, what it was created with, and its simulation.

    ``owner`` is the creating principal's :attr:`~biomock.auth.Principal.identity`
    (``token:<name>`` or ``jwt:<sub>``), ``None`` with authentication off.

    ``last_active`` (trio time) belongs to the registry: it is moved by requests and by
    streams opening and closing.
    """

    id: str
    owner: str | None
    spec: SessionSpec
    simulation: Simulation
    created_ms: int
    last_active: float
    cancel_scope: trio.CancelScope


@dataclass(frozen=True, slots=True)
class SessionStatistics:
    """Counts of a registry (``/metrics``)."""

    active: int
    limit: int
    subscribers: int
    """Streams open on every session."""
    created: int
    expired: int
    deleted: int


@dataclass(slots=True)
class SessionCounts:
    """How many sessions this process created, and ended by expiry or on request."""

    created: int = 0
    expired: int = 0
    deleted: int = 0

    def statistics(self, *, active: int, limit: int, subscribers: int) -> SessionStatistics:
        return SessionStatistics(
            active=active,
            limit=limit,
            subscribers=subscribers,
            created=self.created,
            expired=self.expired,
            deleted=self.deleted,
        )


class SessionRegistry(Protocol):
    """What the server and its routes need of a session registry."""

    async def run(self, *, task_status: trio.TaskStatus[None] = ...) -> NoReturn:
        """Own every session's generator and expire sessions; runs in ``serve``'s nursery."""
        ...

    def close(self, deadline: float) -> None:
        """The server shuts down: end every session's streams by ``deadline``."""
        ...

    def statistics(self) -> SessionStatistics:
        """Counts for ``/metrics``."""
        ...

    async def create(self, body: SessionCreate, principal: Principal | None) -> Session:
        """A new session, its generator started.

        Raises:
            ApiError: 503 ``too_many_sessions`` at the limit; 503 ``unavailable`` while
                the server starts or stops, or a shared registry is unreachable; 403
                ``forbidden`` for a JWT without ``sub`` (it names nobody, so nobody
                could own the session).
        """
        ...

    async def get(self, session_id: str, principal: Principal | None) -> Session:
        """The session ``session_id`` if ``principal`` may see it, marked as used.

        Raises:
            ApiError: 404 ``not_found`` with ``parameter: "session"``; 503
                ``unavailable`` when a shared registry cannot be reached.
        """
        ...

    async def listing(self, principal: Principal | None) -> list[dict[str, Any]]:
        """The sessions ``principal`` may see, oldest first, as API.md's session objects.

        Listing is not using: it moves no expiry (and a shared registry serves none of
        them for it).

        Raises:
            ApiError: 503 ``unavailable`` when a shared registry cannot be reached.
        """
        ...

    async def delete(self, session_id: str, principal: Principal | None) -> None:
        """End the session: its generator stops and its streams end cleanly, in every
        process that serves it.

        Raises:
            ApiError: 404 ``not_found`` with ``parameter: "session"``.
        """
        ...

    async def resign(self) -> None:
        """The server shuts down: hand over whatever this process generates for other
        processes (a shared registry; nothing for a local one)."""
        ...

    def describe(self, session: Session) -> dict[str, Any]:
        """The session as API.md's session object."""
        ...


class LocalSessions:
    """Sessions of this process.

    Args:
        config: the server's settings (the limit, the buffer, the simulator's cadence).
        wall_clock: the wall clock in epoch ms (injected by tests), for ``start`` and
            ``expires_at``; expiry itself runs on trio's clock.
        default_streams: how many streams the default simulation has open: they and
            the sessions' share ``BIOMOCK_MAX_SUBSCRIBERS`` (the default hub counts the
            sessions' through :meth:`subscriber_count`).

    Cancellation: :meth:`run` owns every session's task; cancelling it ends them all.
    """

    def __init__(
        self,
        config: Config,
        *,
        wall_clock: Callable[[], int],
        default_streams: Callable[[], int] = lambda: 0,
    ) -> None:
        self._config = config
        self._default_streams = default_streams
        self._wall_clock = wall_clock
        self._sessions: dict[str, Session] = {}
        self._nursery: trio.Nursery | None = None
        self._changed = trio.Event()
        self._closed = False
        self._counts = SessionCounts()

    @property
    def limit(self) -> int:
        return self._config.max_sessions

    def subscriber_count(self) -> int:
        """Streams open on every session."""
        return sum(s.simulation.hub.subscriber_count for s in self._sessions.values())

    def statistics(self) -> SessionStatistics:
        return self._counts.statistics(
            active=len(self._sessions), limit=self.limit, subscribers=self.subscriber_count()
        )

    async def run(
        self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
    ) -> NoReturn:
        """Own every session's generator task and expire sessions when their time comes.

        Asleep between expiries: it wakes at the earliest expiry or when a session is
        created, never on a timer of its own.
        """
        async with trio.open_nursery() as nursery:
            self._nursery = nursery
            task_status.started()
            while True:
                now = trio.current_time()
                wake_at = math.inf
                for session in list(self._sessions.values()):
                    if session.simulation.hub.subscriber_count:
                        session.last_active = now  # an open stream keeps it alive
                    expires = session.last_active + session.spec.ttl_s
                    if expires <= now:
                        self._end(session, "expired")
                    else:
                        wake_at = min(wake_at, expires)
                with trio.move_on_at(wake_at):
                    await self._changed.wait()
                self._changed = trio.Event()
        raise AssertionError("unreachable")  # pragma: no cover

    async def create(self, body: SessionCreate, principal: Principal | None) -> Session:
        nursery = self._nursery
        if nursery is None or self._closed:
            raise ApiError(
                503,
                "unavailable",
                "the server is not serving sessions now",
                headers={"Retry-After": "5"},
            )
        if len(self._sessions) >= self.limit:
            raise too_many_sessions(self.limit)
        check_creator(principal)
        now_ms = self._wall_clock()
        spec = new_spec(body, now_ms)
        session_id = new_session_id()
        session = Session(
            id=session_id,
            owner=None if principal is None else principal.identity,
            spec=spec,
            simulation=self._simulation(session_id, spec, speed=body.speed, paused=body.paused),
            created_ms=now_ms,
            last_active=trio.current_time(),
            cancel_scope=trio.CancelScope(),
        )
        # Registered before it starts (the limit counts it while this awaits); taken
        # out again if starting fails or the request is cancelled meanwhile.
        self._sessions[session.id] = session
        try:
            await nursery.start(self._run_session, session)
        except BaseException:
            self._end(session, "abandoned")
            raise
        self._counts.created += 1
        self._changed.set()
        logger.info("session created (%d open)", len(self._sessions), extra={"session": session.id})
        return session

    async def get(self, session_id: str, principal: Principal | None) -> Session:
        return self.get_now(session_id, principal)

    def get_now(self, session_id: str, principal: Principal | None) -> Session:
        """:meth:`get`, without a checkpoint (everything is in this process)."""
        session = self._sessions.get(session_id)
        if session is None or not _may_see(principal, session):
            raise unknown_session(session_id)
        session.last_active = trio.current_time()
        return session

    async def listing(self, principal: Principal | None) -> list[dict[str, Any]]:
        return [self.describe(s) for s in self._sessions.values() if _may_see(principal, s)]

    async def delete(self, session_id: str, principal: Principal | None) -> None:
        self._end(self.get_now(session_id, principal), "deleted")

    async def resign(self) -> None:
        """Nothing to hand over: every session lives in this process only."""

    def close(self, deadline: float) -> None:
        """The server shuts down: end every session's streams by ``deadline``."""
        self._closed = True
        for session in self._sessions.values():
            session.simulation.hub.close(deadline=deadline)

    def describe(self, session: Session) -> dict[str, Any]:
        idle = (
            0.0
            if session.simulation.hub.subscriber_count
            else (trio.current_time() - session.last_active)
        )
        return describe(session, self._wall_clock() + round((session.spec.ttl_s - idle) * 1000))

    def _simulation(
        self, session_id: str, spec: SessionSpec, *, speed: float, paused: bool
    ) -> Simulation:
        config = self._config
        source = session_source(config, spec)
        hub = session_hub(
            config,
            peers=lambda: self._streams_elsewhere(session_id),
            on_subscribers_changed=lambda: self._stream_changed(session_id),
        )
        return Simulation(
            hub=hub,
            source=source,
            clock=SimClock(spec.start_ms, speed=speed, paused=paused),
            pacer=Pacer(source, config.max_batch, spec.start_ms),
        )

    async def _run_session(self, session: Session, *, task_status: trio.TaskStatus[None]) -> None:
        with session.cancel_scope:
            try:
                await run_lazy(session.simulation, task_status=task_status)
            except Exception:
                # A session's generator is a test fixture: its crash ends that session
                # (logged), never the others or the server.
                logger.error("session generator crashed", exc_info=True)
                self._end(session, "crashed")

    def _streams_elsewhere(self, session_id: str) -> int:
        session = self._sessions.get(session_id)
        own = 0 if session is None else session.simulation.hub.subscriber_count
        return self._default_streams() + self.subscriber_count() - own

    def _stream_changed(self, session_id: str) -> None:
        # Called in the subscriber's own task as a stream opens or closes: stream
        # activity counts as use, and a first subscriber wakes the generator.
        session = self._sessions.get(session_id)
        if session is not None:  # else it has ended: its streams are closing
            session.last_active = trio.current_time()
            session.simulation.nudge()

    def _end(self, session: Session, why: str) -> None:
        if self._sessions.pop(session.id, None) is None:
            return
        if why == "expired":
            self._counts.expired += 1
        elif why == "deleted":
            self._counts.deleted += 1
        end_streams(session)
        self._changed.set()
        logger.info("session %s (%d open)", why, len(self._sessions), extra={"session": session.id})


def session_hub(
    config: Config,
    *,
    peers: Callable[[], int],
    on_subscribers_changed: Callable[[], None] | None = None,
) -> Hub:
    """A session's hub: its ids from 1; ``peers`` counts the process's other streams
    (they share ``BIOMOCK_MAX_SUBSCRIBERS``)."""
    return Hub(
        capacity=config.buffer_size,
        id_base=0,  # a session's ids start at 1
        max_subscribers=config.max_subscribers,
        retry_ms=config.retry_ms,
        peers=peers,
        on_subscribers_changed=on_subscribers_changed,
    )


def end_streams(session: Session) -> None:
    """The session ended here: its generator stops, its streams end cleanly (SSE: the
    response ends; WebSocket: close 1000) within ``CLOSE_SHARE_S``."""
    session.cancel_scope.cancel()
    session.simulation.stop()
    deadline = trio.current_time() + CLOSE_SHARE_S
    session.simulation.hub.close(deadline=deadline, reason="ended")


def is_session_id(text: str) -> bool:
    """Whether ``text`` has the shape of the ids :func:`new_session_id` makes (anything
    else names no session, and is not looked up, nor made part of a Redis key)."""
    return _ID_SHAPE.fullmatch(text) is not None


def new_session_id() -> str:
    """A new session's id: unguessable."""
    return ID_PREFIX + secrets.token_urlsafe(ID_BYTES)


def new_spec(body: SessionCreate, now_ms: int) -> SessionSpec:
    """What a session is created with: ``body``, its seed chosen if none was given."""
    start_ms = now_ms if body.start is None else parse_time(body.start)
    start_ms -= start_ms % 1000  # whole seconds, so timestamps read as their cadences
    seed = body.seed if body.seed is not None else secrets.randbelow(2**31)
    return SessionSpec(seed, tuple(body.subjects), body.scenario, start_ms, body.ttl_s)


def too_many_sessions(limit: int) -> ApiError:
    """API.md's answer at ``BIOMOCK_MAX_SESSIONS``."""
    return ApiError(
        503,
        "too_many_sessions",
        f"the session limit ({limit}) is reached; delete one or retry later",
        headers={"Retry-After": "5"},
    )


def check_creator(principal: Principal | None) -> None:
    """Refuse a creator who could not own the session.

    Raises:
        ApiError: 403 ``forbidden`` for a JWT without ``sub``.
    """
    if principal is not None and principal.identity is None:
        raise ApiError(
            403,
            "forbidden",
            "this JWT has no 'sub' claim: a session belongs to the token that created "
            "it, so creating one needs a JWT with 'sub' or a static token",
        )


def session_source(config: Config, spec: SessionSpec) -> Simulator:
    """A session's simulator, at its start, in its scenario."""
    source = Simulator(
        spec.start_ms,
        seed=spec.seed,
        subjects=list(spec.subjects),
        cadences=parse_cadences(config.cadences),
        cadence=config.cadence,
        imperfections=config.imperfections,
    )
    if spec.scenario != DEFAULT_SCENARIO:
        for subject in spec.subjects:
            source.set_scenario(subject, spec.scenario)
    return source


def describe(session: Session, expires_ms: int) -> dict[str, Any]:
    """``session`` as API.md's session object."""
    state = session.simulation.clock.state()
    return describe_spec(
        session.id,
        session.spec,
        created_ms=session.created_ms,
        expires_ms=expires_ms,
        now_ms=state.now_ms,
        speed=state.speed,
        paused=state.paused,
    )


def describe_spec(
    session_id: str,
    spec: SessionSpec,
    *,
    created_ms: int,
    expires_ms: int,
    now_ms: int,
    speed: float,
    paused: bool,
) -> dict[str, Any]:
    """API.md's session object, from what it is made of (a session not served here)."""
    return {
        "id": session_id,
        "expires_at": format_time(expires_ms),
        "created_at": format_time(created_ms),
        "seed": spec.seed,
        "subjects": list(spec.subjects),
        "scenario": spec.scenario,
        "start": format_time(spec.start_ms),
        "speed": speed,
        "paused": paused,
        "now": format_time(now_ms),
        "ttl_s": spec.ttl_s,
    }


def _may_see(principal: Principal | None, session: Session) -> bool:
    return may_see(principal, session.owner)


def may_see(principal: Principal | None, owner: str | None) -> bool:
    """Whether ``principal`` may see a session of ``owner`` (API.md: its own, or all for
    ``admin``; everyone's with authentication off)."""
    if principal is None:
        return True  # authentication is off: sessions are as open as everything else
    identity = principal.identity
    return principal.allows("admin") or (identity is not None and identity == owner)


class SessionCollector(Collector):
    """``biomock_sessions_active``, ``biomock_sessions_limit``,
    ``biomock_session_subscribers``, and the counters
    ``biomock_sessions_created_total``, ``_expired_total`` and ``_deleted_total``."""

    def __init__(self, sessions: SessionRegistry) -> None:
        self._sessions = sessions

    def collect(self) -> Iterator[Metric]:
        stats = self._sessions.statistics()
        yield GaugeMetricFamily("biomock_sessions_active", "Sessions open now.", value=stats.active)
        yield GaugeMetricFamily(
            "biomock_sessions_limit", "BIOMOCK_MAX_SESSIONS.", value=stats.limit
        )
        yield GaugeMetricFamily(
            "biomock_session_subscribers",
            "Streams open on sessions now (biomock_subscribers counts the default "
            "simulation's; BIOMOCK_MAX_SUBSCRIBERS limits the two together).",
            value=stats.subscribers,
        )
        yield CounterMetricFamily(
            "biomock_sessions_created", "Sessions created.", value=stats.created
        )
        yield CounterMetricFamily(
            "biomock_sessions_expired",
            "Sessions ended by their TTL of inactivity.",
            value=stats.expired,
        )
        yield CounterMetricFamily(
            "biomock_sessions_deleted", "Sessions deleted by a client.", value=stats.deleted
        )
