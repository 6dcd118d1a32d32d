"""Sessions shared by every process on the bus (``BIOMOCK_BUS``): create, stream, steer and
delete a session on any replica or worker.

Redis holds the registry; each session is a simulation on the bus of its own, run by the
same :class:`~biomock.bus.node.BusNode` as the default one, under its own keys:

- ``biomock:sessions``: a hash, session id -> its spec as JSON (owner, seed, subjects,
  scenario, start, speed, paused, TTL, creation time).
- ``biomock:sessions:expiry``: a sorted set, session id -> when it expires (wall ms).
- ``biomock:sessions:events``: a stream announcing each session's end (``ended``, with
  why), read by every process, so that its streams end everywhere at once.
- ``biomock:{<id>}:...``: the session's log, lease, hashes, control stream and ``alive``
  key (``biomock.bus.log``), and ``streams``: a sorted set, process -> until when (wall
  ms) it holds the session for the streams it has open on it. The braces put one
  session's keys in one Redis Cluster slot.

A process *mirrors* a session (builds its simulation and runs its node: a reader, and a
candidate for its lease) from the first request for it that it serves: the creating
process at once, another one when a request names an id it does not know yet (it looks
the id up in Redis before answering 404). A session's leader generates while the
session exists and its clock runs, watched or not (docs/architecture.md "Sessions and
the bus" weighs this against the local sessions' laziness); a paused one publishes
nothing until its clock is stepped, and a step publishes the time it jumps over.

Expiry: any request for a session moves its expiry to ``ttl_s`` from now, in Redis;
every process with a stream open on it does so every ``SWEEP_S``, and holds it
(``streams``) until its next sweep is surely done, so that a TTL shorter than the time
between two sweeps does not expire a session being streamed; the hold is given back at
the first sweep after its last stream closed. Every process sweeps the expired ones that
nobody holds (one script ends each: registry, keys and the ``ended`` event at once).
Every key of a session has a Redis TTL a little beyond its expiry (``KEY_MARGIN_MS``),
refreshed with it, so nothing leaks even if every process died.
"""

from __future__ import annotations

import contextlib
import json
import logging
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any, NoReturn

import coredis
import trio

from biomock.auth import Principal
from biomock.bus.control import read_clock
from biomock.bus.log import (
    COMMAND_S,
    KEY_NAMES,
    UNREACHABLE,
    key_prefix,
    open_redis_client,
)
from biomock.bus.node import BusNode
from biomock.bus.status import unavailable
from biomock.clock import SimClock
from biomock.config import Config
from biomock.errors import ApiError
from biomock.models import SessionCreate
from biomock.sessions import (
    Session,
    SessionCounts,
    SessionSpec,
    SessionStatistics,
    check_creator,
    describe,
    describe_spec,
    end_streams,
    is_session_id,
    may_see,
    new_session_id,
    new_spec,
    session_hub,
    session_source,
    too_many_sessions,
    unknown_session,
)
from biomock.simulation import Simulation
from biomock.source import Source

logger = logging.getLogger(__name__)

REGISTRY_KEY = "biomock:sessions"
EXPIRY_KEY = "biomock:sessions:expiry"
EVENTS_KEY = "biomock:sessions:events"
EVENTS_MAXLEN = 1000
"""Events kept: a reader only needs those since its last read (the sweep covers the rest)."""

KEY_MARGIN_MS = 60_000
"""A session's keys outlive its expiry by this in Redis: the sweep ends it first."""

SWEEP_S = 1.0
"""How often each process expires sessions, refreshes those it streams and finds the
ones that ended while it did not hear (a Redis that came back empty)."""

IDLE_SWEEP_S = 5.0
"""How often a process sweeps while no session exists on the bus."""

MIRROR_IDLE_S = 60.0
"""A process lets go of a session that it neither generates nor served for this long (no
request, no stream): it costs a reader and a lease try per second while mirrored. If
its leader then dies with no other process mirroring it, the next request for it, on
any process, takes over (its samples of the time in between skipped, as at a failover)."""

STREAM_HOLD_S = SWEEP_S + 4 * COMMAND_S
"""How long a process's hold on a session it streams lasts unrenewed: past its next
sweep even if this one and that one each take their longest (``2 * COMMAND_S``)."""

_GONE = frozenset({"deleted", "expired", "ended", "abandoned"})
"""Why a mirror ends when its session has ended (not only here)."""

READ_BLOCK_MS = 5000
"""How long one read of the ended sessions waits: it returns as soon as one ends, so
this only sets how often an idle process asks again."""
RETRY_S = 0.5

_SURVEY = """
local due = redis.call('ZRANGE', KEYS[1], 0, ARGV[1], 'BYSCORE', 'LIMIT', 0, 100)
local present = {}
for i = 2, #ARGV do present[i - 1] = redis.call('HEXISTS', KEYS[2], ARGV[i]) end
return {due, redis.call('HLEN', KEYS[2]), present}
"""
"""A sweep's questions in one round trip: the sessions due to expire (up to 100), how
many exist, and which of ``ARGV[2:]`` (the sessions this process serves) still do."""

_CREATE = """
if redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[4]) then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
redis.call('SET', KEYS[3], '1')
redis.call('PEXPIREAT', KEYS[3], ARGV[5])
return 1
"""
"""Register a session if the bus holds fewer than the limit (one step: two processes
creating at once cannot both take the last place), with its ``alive`` key."""

_TOUCH = """
local current = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not current then return false end
local expires = tonumber(current)
if ARGV[2] ~= '' and tonumber(ARGV[2]) > expires then
  expires = tonumber(ARGV[2])
  redis.call('ZADD', KEYS[1], string.format('%d', expires), ARGV[1])
end
if ARGV[4] ~= '' then
  if ARGV[5] == '' then
    redis.call('ZREM', KEYS[2], ARGV[4])
  else
    redis.call('ZADD', KEYS[2], ARGV[5], ARGV[4])
  end
end
local keep = string.format('%d', expires + tonumber(ARGV[3]))
for i = 2, #KEYS do redis.call('PEXPIREAT', KEYS[i], keep) end
return string.format('%d', expires)
"""
"""Move a session's expiry to ``ARGV[2]`` (unless later already; ``''``: keep it) and
its keys' TTL after it; its expiry, or nil when it ended. With a holder ``ARGV[4]``:
hold the session until ``ARGV[5]`` (in ``KEYS[2]``, its ``streams``), or give the
hold back (``''``)."""

_END = """
if ARGV[4] ~= '' then
  local expires = redis.call('ZSCORE', KEYS[2], ARGV[1])
  if not expires or tonumber(expires) > tonumber(ARGV[4]) then return 0 end
  if redis.call('ZCOUNT', KEYS[4], '(' .. ARGV[4], '+inf') > 0 then return 0 end
end
if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('ZREM', KEYS[2], ARGV[1])
for i = 4, #KEYS do redis.call('DEL', KEYS[i]) end
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[3], '*', 'id', ARGV[1], 'why', ARGV[2])
return 1
"""
"""End a session (if it is expired by ``ARGV[4]``, when given, and no process holds it
then: ``KEYS[4]``, its ``streams``): out of the registry, its keys deleted, its end
announced; 0 if it had ended already."""


def session_name(session_id: str) -> str:
    """The session's simulation name on the bus: ``{id}``, one Redis Cluster slot."""
    return "{" + session_id + "}"


def session_keys(session_id: str, *, lease: bool = True) -> list[str]:
    """Every key of the session (``alive`` first, ``streams`` second)."""
    prefix = key_prefix(session_name(session_id))
    names = [
        "alive",
        "streams",
        *(n for n in KEY_NAMES if n != "alive" and (lease or n != "lease")),
    ]
    return [prefix + name for name in names]


@dataclass(frozen=True, slots=True)
class Record:
    """A session as the registry in Redis keeps it."""

    owner: str | None
    spec: SessionSpec
    speed: float
    paused: bool
    created_ms: int

    def dumps(self) -> str:
        spec = self.spec
        return json.dumps(
            {
                "owner": self.owner,
                "seed": spec.seed,
                "subjects": list(spec.subjects),
                "scenario": spec.scenario,
                "start_ms": spec.start_ms,
                "ttl_s": spec.ttl_s,
                "speed": self.speed,
                "paused": self.paused,
                "created_ms": self.created_ms,
            }
        )

    @classmethod
    def loads(cls, raw: bytes | str) -> Record:
        """Raises: ValueError: not a record of this format."""
        try:
            body = json.loads(raw)
            spec = SessionSpec(
                int(body["seed"]),
                tuple(str(s) for s in body["subjects"]),
                str(body["scenario"]),
                int(body["start_ms"]),
                int(body["ttl_s"]),
            )
            return cls(
                body["owner"],
                spec,
                float(body["speed"]),
                bool(body["paused"]),
                int(body["created_ms"]),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise ValueError(f"not a session record: {error}") from None


@dataclass(frozen=True, slots=True)
class Listed:
    """A session as a listing reads it from Redis."""

    id: str
    record: Record
    expires_ms: int
    clock: dict[str, str]
    """Its ``clock`` hash; empty before any process served it."""


@dataclass(frozen=True, slots=True)
class Survey:
    """A sweep's view of the registry (:meth:`SessionStore.survey`)."""

    due: list[str]
    """Sessions whose expiry has come (up to 100 a sweep)."""
    count: int
    """How many sessions exist on the bus."""
    existing: set[str]
    """Which of the sessions asked about still exist."""


class SessionStore:
    """The registry's commands against Redis."""

    def __init__(self, client: coredis.Redis[bytes]) -> None:
        self._client = client
        self._create = client.register_script(_CREATE)
        self._touch = client.register_script(_TOUCH)
        self._end = client.register_script(_END)
        self._survey = client.register_script(_SURVEY)

    async def create(self, session_id: str, record: Record, expires_ms: int, limit: int) -> bool:
        """Register the session unless ``limit`` sessions exist; whether it was."""
        alive = session_keys(session_id)[0]
        args: list[str | int] = [
            session_id,
            record.dumps(),
            expires_ms,
            limit,
            expires_ms + KEY_MARGIN_MS,
        ]
        keys = [REGISTRY_KEY, EXPIRY_KEY, alive]
        return bool(await self._create(keys=keys, args=args))

    async def record(self, session_id: str) -> Record | None:
        raw = await self._client.hget(REGISTRY_KEY, session_id)
        if raw is None:
            return None
        try:
            return Record.loads(raw)
        except ValueError as error:
            logger.warning("bus: ignoring session %s: %s", session_id, error)
            return None

    async def records(self) -> dict[str, Record]:
        found: dict[str, Record] = {}
        for key, raw in (await self._client.hgetall(REGISTRY_KEY)).items():
            session_id = key.decode() if isinstance(key, bytes) else key
            try:
                found[session_id] = Record.loads(raw)
            except ValueError as error:
                logger.warning("bus: ignoring session %s: %s", session_id, error)
        return found

    async def listing(self) -> list[Listed]:
        """Every session as Redis holds it: its record, expiry and clock, in two round
        trips whatever their number (read, not served: nothing is mirrored for it)."""
        records = await self.records()
        if not records:
            return []
        ids = list(records)
        async with self._client.pipeline(transaction=False) as pipe:
            expiries = pipe.zmscore(EXPIRY_KEY, ids)
            clocks = [pipe.hgetall(key_prefix(session_name(i)) + "clock") for i in ids]
        listed = []
        for session_id, expires, clock in zip(ids, await expiries, clocks, strict=True):
            if expires is None:
                continue  # it ended between the two reads
            fields = {_text(k): _text(v) for k, v in (await clock).items()}
            listed.append(Listed(session_id, records[session_id], int(expires), fields))
        return listed

    async def survey(self, now_ms: int, session_ids: Iterable[str]) -> Survey:
        """What a sweep needs to know, in one command (a sweep runs every second in
        every process, sessions or not)."""
        ids = list(session_ids)
        args: list[str | int] = [now_ms, *ids]
        reply: Any = await self._survey(keys=[EXPIRY_KEY, REGISTRY_KEY], args=args)
        due, count, present = reply
        return Survey(
            due=[_text(i) for i in due],
            count=int(count),
            existing={i for i, flag in zip(ids, present, strict=True) if int(flag)},
        )

    async def touch(
        self,
        session_id: str,
        expires_ms: int | None,
        *,
        holder: str = "",
        hold_until_ms: int | None = None,
    ) -> int | None:
        """Move the expiry to ``expires_ms`` (``None``: keep it) and the keys' TTL after
        it; with ``holder``, hold the session until ``hold_until_ms`` (``None``: give the
        hold back). The expiry, ``None`` when the session has ended."""
        alive, streams, *others = session_keys(session_id, lease=False)
        keys = [EXPIRY_KEY, streams, alive, *others]
        args: list[str | int] = [
            session_id,
            "" if expires_ms is None else expires_ms,
            KEY_MARGIN_MS,
            holder,
            "" if hold_until_ms is None else hold_until_ms,
        ]
        reply: Any = await self._touch(keys=keys, args=args)
        return None if reply is None else int(reply)

    async def end(self, session_id: str, why: str, *, expired_by: int | None = None) -> bool:
        """End the session everywhere; whether this call ended it."""
        alive, streams, *others = session_keys(session_id)
        keys = [REGISTRY_KEY, EXPIRY_KEY, EVENTS_KEY, streams, alive, *others]
        args: list[str | int] = [
            session_id,
            why,
            EVENTS_MAXLEN,
            "" if expired_by is None else expired_by,
        ]
        return bool(await self._end(keys=keys, args=args))

    async def events_cursor(self) -> bytes:
        entries = await self._client.xrevrange(EVENTS_KEY, count=1)
        if not entries:
            return b"0-0"
        identifier = entries[0].identifier
        return identifier if isinstance(identifier, bytes) else identifier.encode()

    async def events(self, cursor: bytes, block_ms: int) -> tuple[bytes, list[tuple[str, str]]]:
        """Ended sessions announced after ``cursor``: the new cursor and (id, why) pairs."""
        reply = await self._client.xread({EVENTS_KEY: cursor}, count=1000, block=block_ms)
        ended: list[tuple[str, str]] = []
        for items in (reply or {}).values():
            for item in items:
                identifier = item.identifier
                cursor = identifier if isinstance(identifier, bytes) else identifier.encode()
                fields = item.field_values
                ended.append((_text(fields.get(b"id", b"")), _text(fields.get(b"why", b""))))
        return cursor, ended


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


@dataclass(eq=False, slots=True)
class _Mirror:
    """A session as this process serves it: its simulation and its node."""

    session: Session
    node: BusNode
    record: Record
    expires_ms: int
    holding: bool = False
    """Whether this process holds the session in Redis for its streams here."""
    ended: trio.Event = field(default_factory=trio.Event)
    why: str = ""
    """Why it ended here, once ``ended`` is set."""


class BusSessions:
    """Sessions in Redis, served by every process (``biomock.sessions.SessionRegistry``).

    Args:
        config: the server's settings (the bus, the limit, the buffer, the simulator's).
        wall_clock: the wall clock in epoch ms (expiry is kept in Redis in wall time).
        default_streams: how many streams the default simulation has open (the
            subscriber limit counts them with the sessions').

    Cancellation: :meth:`run` owns every mirrored session's node; cancelling it ends them.
    """

    def __init__(
        self,
        config: Config,
        *,
        wall_clock: Callable[[], int],
        default_streams: Callable[[], int] = lambda: 0,
    ) -> None:
        assert config.bus is not None
        self._url = config.bus.get_secret_value()
        self._config = config
        self._wall_clock = wall_clock
        self._default_streams = default_streams
        self._mirrors: dict[str, _Mirror] = {}
        self._store: SessionStore | None = None
        self._nursery: trio.Nursery | None = None
        self._closed = False
        self._holder = secrets.token_hex(8)
        """This process, as it holds sessions it streams."""
        self._active = 0
        self._counts = SessionCounts()

    @property
    def limit(self) -> int:
        return self._config.max_sessions

    def subscriber_count(self) -> int:
        """Streams open on every session, in this process."""
        return sum(m.session.simulation.hub.subscriber_count for m in self._mirrors.values())

    def statistics(self) -> SessionStatistics:
        return self._counts.statistics(
            active=max(self._active, len(self._mirrors)),
            limit=self.limit,
            subscribers=self.subscriber_count(),
        )

    async def run(
        self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
    ) -> NoReturn:
        """Hear of sessions ending, sweep expiries, and run every mirrored session's node."""
        async with open_redis_client(self._url) as client, trio.open_nursery() as nursery:
            self._store = SessionStore(client)
            self._nursery = nursery
            nursery.start_soon(self._hear_ends)
            nursery.start_soon(self._sweep_forever)
            task_status.started()
            await trio.sleep_forever()
        raise AssertionError("unreachable")  # pragma: no cover

    # The registry's interface.

    async def create(self, body: SessionCreate, principal: Principal | None) -> Session:
        store = self._serving()
        check_creator(principal)
        now_ms = self._wall_clock()
        spec = new_spec(body, now_ms)
        record = Record(
            None if principal is None else principal.identity,
            spec,
            body.speed,
            body.paused,
            now_ms,
        )
        session_id = new_session_id()
        expires_ms = now_ms + spec.ttl_s * 1000
        try:
            with trio.fail_after(COMMAND_S):
                created = await store.create(session_id, record, expires_ms, self.limit)
        except BaseException as error:
            # Redis may have run the script though its reply never came (too slow, the
            # connection lost, the request cancelled): the client is told it failed, so
            # the session must not hold a place until it expires.
            await self._abandon(store, session_id)
            if isinstance(error, UNREACHABLE):
                raise unavailable() from None
            raise
        if not created:
            raise too_many_sessions(self.limit)
        try:
            mirror = await self._mirror(session_id, record, expires_ms)
        except BaseException as error:
            await self._abandon(store, session_id)  # not served (Redis went away, ...)
            if isinstance(error, ApiError) and error.status == 404:
                # Deleted (by a listing's reader) before its creation answered.
                raise unavailable("the session ended while it was being created") from None
            raise
        self._counts.created += 1
        logger.info("session created on the bus", extra={"session": session_id})
        return mirror.session

    async def _abandon(self, store: SessionStore, session_id: str) -> None:
        """End a session whose creation failed, here and in Redis (best effort, bounded,
        even in a cancelled request)."""
        with trio.move_on_after(COMMAND_S) as scope, contextlib.suppress(*UNREACHABLE):
            scope.shield = True
            await store.end(session_id, "abandoned")
        self._end_here(session_id, "abandoned")

    async def get(self, session_id: str, principal: Principal | None) -> Session:
        """The session, mirrored here; a request for it, which moves its expiry.

        Raises:
            ApiError: 404 ``not_found``; 503 ``unavailable`` when Redis cannot be reached.
        """
        if not is_session_id(session_id):
            raise unknown_session(session_id)
        store = self._serving()
        known = self._mirrors.get(session_id)
        record = None if known is None else known.record
        try:
            with trio.fail_after(COMMAND_S):
                if record is None:
                    record = await store.record(session_id)
                if record is None or not may_see(principal, record.owner):
                    raise unknown_session(session_id)
                extend = self._wall_clock() + record.spec.ttl_s * 1000
                expires_ms = await store.touch(session_id, extend)
        except UNREACHABLE:
            raise unavailable() from None
        if expires_ms is None:  # it ended meanwhile
            self._end_here(session_id, "ended")
            raise unknown_session(session_id)
        # Asked again: this process may have let go of it meanwhile (idle), or mirrored it.
        mirror = self._mirrors.get(session_id)
        if mirror is None:
            return (await self._mirror(session_id, record, expires_ms)).session
        mirror.expires_ms = expires_ms
        mirror.session.last_active = trio.current_time()
        await self._wait_ready(mirror)
        return mirror.session

    async def listing(self, principal: Principal | None) -> list[dict[str, Any]]:
        store = self._serving()
        try:
            with trio.fail_after(COMMAND_S):
                listed = await store.listing()
        except UNREACHABLE:
            raise unavailable() from None
        now_ms = self._wall_clock()
        items = []
        for found in sorted(listed, key=lambda f: f.record.created_ms):
            record = found.record
            if not may_see(principal, record.owner):
                continue
            mirror = self._mirrors.get(found.id)
            if mirror is not None:  # served here: its clock as this process follows it
                state = mirror.session.simulation.clock.state()
                reading = (state.now_ms, state.speed, state.paused)
            else:
                reading = read_clock(found.clock, now_ms) or (
                    record.spec.start_ms,  # nobody served it yet: its clock not started
                    record.speed,
                    record.paused,
                )
            now, speed, paused = reading
            items.append(
                describe_spec(
                    found.id,
                    record.spec,
                    created_ms=record.created_ms,
                    expires_ms=found.expires_ms,
                    now_ms=now,
                    speed=speed,
                    paused=paused,
                )
            )
        return items

    async def delete(self, session_id: str, principal: Principal | None) -> None:
        if not is_session_id(session_id):
            raise unknown_session(session_id)
        store = self._serving()
        mirror = self._mirrors.get(session_id)
        try:
            with trio.fail_after(COMMAND_S):
                owner: str | None
                if mirror is not None:
                    owner = mirror.session.owner
                else:
                    record = await store.record(session_id)
                    if record is None:
                        raise unknown_session(session_id)
                    owner = record.owner
                if not may_see(principal, owner):
                    raise unknown_session(session_id)
                ended = await store.end(session_id, "deleted")
        except UNREACHABLE:
            raise unavailable() from None
        self._end_here(session_id, "deleted")
        if not ended:
            raise unknown_session(session_id)
        self._counts.deleted += 1

    async def resign(self) -> None:
        """Give back the lease of every session this process generates, at once."""
        async with trio.open_nursery() as nursery:
            for mirror in self._mirrors.values():
                nursery.start_soon(mirror.node.resign)

    def close(self, deadline: float) -> None:
        self._closed = True
        for mirror in self._mirrors.values():
            mirror.session.simulation.hub.close(deadline=deadline)

    def describe(self, session: Session) -> dict[str, Any]:
        mirror = self._mirrors.get(session.id)
        expires_ms = self._wall_clock() if mirror is None else mirror.expires_ms
        return describe(session, expires_ms)

    # Mirrors.

    def _serving(self) -> SessionStore:
        if self._store is None or self._closed:
            raise unavailable("the server is not serving sessions now")
        return self._store

    async def _mirror(self, session_id: str, record: Record, expires_ms: int) -> _Mirror:
        """This process's mirror of the session, started if new, following its log.

        Raises:
            ApiError: 503 ``unavailable`` when it does not follow within ``COMMAND_S``.
        """
        mirror = self._mirrors.get(session_id)
        if mirror is None:
            mirror = self._build(session_id, record, expires_ms)
            self._mirrors[session_id] = mirror
            assert self._nursery is not None
            self._nursery.start_soon(self._run_mirror, mirror)
        await self._wait_ready(mirror)
        return mirror

    async def _wait_ready(self, mirror: _Mirror) -> None:
        """Return once the mirror follows its session's log.

        Raises:
            ApiError: 404 if the session ended meanwhile (deleted or expired by any
                process); 503 ``unavailable`` when it does not follow within
                ``COMMAND_S`` or its node failed.
        """
        ready = False
        async with trio.open_nursery() as nursery:

            async def follow() -> None:
                nonlocal ready
                ready = await mirror.node.wait_ready(COMMAND_S)
                nursery.cancel_scope.cancel()

            nursery.start_soon(follow)
            await mirror.ended.wait()
            nursery.cancel_scope.cancel()
        if mirror.ended.is_set():
            if mirror.why in _GONE:
                raise unknown_session(mirror.session.id)
            raise unavailable()
        if not ready:
            raise unavailable()

    def _build(self, session_id: str, record: Record, expires_ms: int) -> _Mirror:
        config, spec = self._config, record.spec
        hub = session_hub(config, peers=lambda: self._streams_elsewhere(session_id))
        simulation = Simulation(
            hub=hub,
            source=session_source(config, spec),
            clock=SimClock(spec.start_ms, speed=record.speed, paused=record.paused),
        )
        node = BusNode(
            self._url,
            simulation,
            lease_s=config.bus_lease_s,
            max_batch=config.max_batch,
            rebuild=partial(self._rebuild, spec),
            wall_ms=self._wall_clock,
            name=session_name(session_id),
            session=True,
        )
        simulation.bus = node
        session = Session(
            id=session_id,
            owner=record.owner,
            spec=spec,
            simulation=simulation,
            created_ms=record.created_ms,
            last_active=trio.current_time(),
            cancel_scope=trio.CancelScope(),
        )
        return _Mirror(session, node, record, expires_ms)

    def _rebuild(self, spec: SessionSpec, seed: int, start_ms: int) -> Source:
        return session_source(self._config, replace(spec, seed=seed, start_ms=start_ms))

    async def _run_mirror(self, mirror: _Mirror) -> None:
        with mirror.session.cancel_scope:
            try:
                await mirror.node.run()
            except Exception:
                # One session's node failing ends that session here (logged), never the
                # others or the server; a later request mirrors it afresh.
                logger.error("session node crashed", exc_info=True)
        self._end_here(mirror.session.id, "crashed", only=mirror)

    def _end_here(self, session_id: str, why: str, *, only: _Mirror | None = None) -> None:
        """Stop serving the session in this process: its streams end cleanly.

        ``only``: if that is still its mirror (not a newer one made since)."""
        mirror = self._mirrors.get(session_id)
        if mirror is None or (only is not None and mirror is not only):
            return
        del self._mirrors[session_id]
        self._end_mirror(mirror, why)

    def _end_mirror(self, mirror: _Mirror, why: str) -> None:
        mirror.why = why
        mirror.ended.set()
        end_streams(mirror.session)
        logger.info("session %s here", why, extra={"session": mirror.session.id})

    def _streams_elsewhere(self, session_id: str) -> int:
        mirror = self._mirrors.get(session_id)
        own = 0 if mirror is None else mirror.session.simulation.hub.subscriber_count
        return self._default_streams() + self.subscriber_count() - own

    # The tasks.

    async def _hear_ends(self) -> None:
        """End here every session that another process ended (a delete, an expiry)."""
        store = self._store
        assert store is not None
        cursor: bytes | None = None
        while True:
            try:
                with trio.fail_after(READ_BLOCK_MS / 1000 + COMMAND_S):
                    if cursor is None:
                        cursor = await store.events_cursor()
                    cursor, ended = await store.events(cursor, READ_BLOCK_MS)
            except UNREACHABLE:
                await trio.sleep(RETRY_S)
                continue
            for session_id, why in ended:
                self._end_here(session_id, why)

    async def _sweep_forever(self) -> None:
        while True:
            # With no session on the bus there is nothing to expire or hold; one created
            # meanwhile is served, hence swept every second, by the process creating it.
            busy = self._mirrors or self._active
            await trio.sleep(SWEEP_S if busy else IDLE_SWEEP_S)
            try:
                with trio.fail_after(COMMAND_S * 2):
                    await self._sweep()
            except UNREACHABLE:
                pass  # the next sweep tries again; requests answer 503 meanwhile

    async def _sweep(self) -> None:
        """Expire what is due, keep alive what this process streams, let go of sessions
        that ended unheard (a Redis that came back empty) and of idle mirrors."""
        store = self._store
        assert store is not None
        now_ms = self._wall_clock()
        mirrors = dict(self._mirrors)
        survey = await store.survey(now_ms, mirrors)
        active = survey.count
        for session_id in survey.due:
            if await store.end(session_id, "expired", expired_by=now_ms):
                active -= 1
                self._counts.expired += 1
                self._end_here(session_id, "expired")
        existing = survey.existing
        for session_id, mirror in mirrors.items():
            if self._mirrors.get(session_id) is not mirror:
                continue  # ended, or ended and mirrored anew, while this sweep awaited
            if session_id not in existing:
                self._end_here(session_id, "ended")
                continue
            session = mirror.session
            if session.simulation.hub.subscriber_count > 0:
                session.last_active = trio.current_time()
                # (The keys a leader writes meanwhile take the ``alive`` key's TTL.)
                extend = now_ms + session.spec.ttl_s * 1000
                hold_until_ms = now_ms + round(STREAM_HOLD_S * 1000)
                mirror.holding = True
                expires_ms = await store.touch(
                    session_id, extend, holder=self._holder, hold_until_ms=hold_until_ms
                )
                if expires_ms is None:
                    self._end_here(session_id, "ended")
                else:
                    mirror.expires_ms = expires_ms
            elif mirror.holding:
                # Its last stream here closed: it expires ``ttl_s`` after the last
                # sweep that saw one, unless used again.
                if await store.touch(session_id, None, holder=self._holder) is None:
                    self._end_here(session_id, "ended")
                mirror.holding = False
            elif (
                not mirror.node.status.leader
                and trio.current_time() - session.last_active > MIRROR_IDLE_S
            ):
                # Nobody here uses it, and another process generates it: stop reading
                # and trying its lease (given back, had it just been taken). Out of the
                # mirrors first, before any await: a request meanwhile mirrors it anew
                # rather than open a stream on this one, which is ending.
                del self._mirrors[session_id]
                try:
                    await mirror.node.resign()
                finally:  # (even if the sweep runs out of time: it is let go of)
                    self._end_mirror(mirror, "idle")
        self._active = active
