"""The Redis side of the bus: keys, Lua scripts and the few commands biomock sends.

Keys, all under ``biomock:<simulation>:``:

- ``log``: a stream with one entry per sample, entry id ``N-0`` for biomock id ``N``
  (so ids are the same in every process), trimmed to about twice the buffer size;
  fields ``s`` (the sample, ``biomock.bus.codec``) and ``t`` (the leader's wall
  clock at the append, for the readers' lag).
- ``lease``: the generator's lease, ``SET NX PX`` with a random token per leadership.
- ``leaders``: how many leaderships began (failovers = leaders - 1).
- ``sim``: the simulation's ``seed`` and ``start_ms``, written once by the first process.
- ``clock``: ``speed``, ``paused``, and ``sim_ms`` at ``wall_ms``: the clock's last change.
- ``scenarios``: subject -> scenario, as switched.
- ``control``: a stream announcing every change of ``clock`` and ``scenarios``.
- ``floor``: the highest id any process had when it last (re)joined; after Redis came
  back empty, a new leader continues above it, so that no process sees an id again.
- ``alive`` (a session's only, ``biomock.bus.sessions``): exists while the session does,
  with a TTL a little beyond its expiry. Every script that writes a session's keys first
  checks it (a write to an ended session is refused: ``GONE``) and gives each key it
  wrote its TTL, so that no key of a session outlives it, even if every process died.

coredis 6 runs on anyio, so these are plain awaits inside the server's trio loop; no
thread bridges. Every command is bounded by the caller's deadline, not coredis's retry
policy (it is off: a retry would hide an outage from the reader's status).
"""

from __future__ import annotations

import json
import logging
import ssl
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import anyio
import coredis
import coredis.exceptions
import trio
from coredis.connection import TCPLocation
from coredis.retry import NoRetryPolicy

from biomock.bus.url import SentinelUrl

logger = logging.getLogger(__name__)

ERRORS: tuple[type[Exception], ...] = (
    coredis.exceptions.RedisError,
    anyio.BrokenResourceError,  # a connection lost under a command
    anyio.ClosedResourceError,
    OSError,
    TimeoutError,
)
"""What a command raises when Redis is unreachable or refuses it."""

UNREACHABLE: tuple[type[Exception], ...] = (*ERRORS, trio.TooSlowError)
"""The same, and a command that outlived its deadline (``COMMAND_S``)."""

COMMAND_S = 2.0
"""The most a command other than a blocking read may take before Redis counts as
unreachable."""

CONTROL_MAXLEN = 1000
"""Control changes kept: a reader only needs those since its last read."""


def _guarded(body: str, keys: int) -> str:
    """``body`` (a script writing its first ``keys`` keys), guarded by an optional
    ``alive`` key passed after them: refused once it is gone, and every key written
    without a TTL given the ``alive`` key's."""
    return f"""
local alive = KEYS[{keys + 1}]
local ttl = -1
if alive then
  ttl = redis.call('PTTL', alive)
  if ttl < 0 then return redis.error_reply('GONE the session ended') end
end
local result = (function()
{body}
end)()
if alive then
  for i = 1, {keys} do
    if redis.call('PTTL', KEYS[i]) == -1 then redis.call('PEXPIRE', KEYS[i], ttl) end
  end
end
return result
"""


_APPEND = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return redis.error_reply('NOTLEADER the lease belongs to another process')
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
local top = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)
if top[1] ~= nil and tonumber(string.match(top[1][1], '^(%d+)')) >= tonumber(ARGV[5]) then
  return redis.error_reply('NOTLEADER an id at or above ' .. ARGV[5] .. ' is in the log')
end
local floor = redis.call('GET', KEYS[3])
if floor and tonumber(floor) >= tonumber(ARGV[5]) then
  return redis.error_reply('NOTLEADER a process has seen id ' .. floor)
end
for i = 5, #ARGV, 2 do
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], ARGV[i] .. '-0',
             's', ARGV[i + 1], 't', ARGV[4])
end
return (#ARGV - 4) / 2
"""
"""Append a batch if, and only if, the caller holds the lease (fencing) and its ids are
above every id in the log and the floor; renew the lease."""

_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""

_TRY_LEASE = """
local taken = redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2])
if taken then
  redis.call('INCR', KEYS[2])
  return 1
end
return 0
"""

_ANNOUNCE = """
redis.call('HSET', KEYS[1], unpack(ARGV, 3))
return redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[1], '*', 'c', ARGV[2])
"""


_RESTORE = """
for i = 1, #ARGV, 2 do
  redis.call('HSETNX', KEYS[1], ARGV[i], ARGV[i + 1])
end
return redis.call('HGETALL', KEYS[1])
"""
"""Write the fields a hash lacks and return it, in one step: a process rejoining at the
same moment reads either nothing of this one's or all of it, never a half-written clock."""


_RAISE_FLOOR = """
local floor = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > floor then
  redis.call('SET', KEYS[1], ARGV[1])
end
return redis.call('GET', KEYS[1])
"""
"""``floor = max(floor, id)`` in one step (ids stay below 2^53, exact in Lua's numbers)."""


class LeaseLost(Exception):
    """Another process holds the generator's lease now: this one must stop appending."""


@dataclass(frozen=True, slots=True)
class Entry:
    """One sample entry of the log: biomock id, the encoded sample, the append's wall ms."""

    id: int
    data: bytes
    wall_ms: int


@dataclass(frozen=True, slots=True)
class Change:
    """One control change: its stream id and its body."""

    id: bytes
    body: dict[str, Any]


def entry_number(entry_id: bytes | str) -> int:
    """Biomock's id of a log entry id ``N-0``."""
    text = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
    return int(text.split("-", 1)[0])


class RedisLog:
    """The bus's commands against one Redis; built by :func:`open_redis_log`."""

    def __init__(
        self, client: coredis.Redis[bytes], simulation: str, *, session: bool = False
    ) -> None:
        self._client = client
        prefix = key_prefix(simulation)
        self.log_key = prefix + "log"
        self.lease_key = prefix + "lease"
        self.leaders_key = prefix + "leaders"
        self.sim_key = prefix + "sim"
        self.clock_key = prefix + "clock"
        self.scenarios_key = prefix + "scenarios"
        self.control_key = prefix + "control"
        self.floor_key = prefix + "floor"
        self._alive = [prefix + "alive"] if session else []
        self._append = client.register_script(_guarded(_APPEND, 3))
        self._try_lease = client.register_script(_guarded(_TRY_LEASE, 2))
        self._renew = client.register_script(_RENEW)
        self._release = client.register_script(_RELEASE)
        self._announce = client.register_script(_guarded(_ANNOUNCE, 2))
        self._restore = client.register_script(_guarded(_RESTORE, 1))
        self._raise_floor = client.register_script(_guarded(_RAISE_FLOOR, 1))

    # The lease.

    async def try_lease(self, token: str, lease_ms: int) -> bool:
        """Take the lease if nobody holds it; counts a new leadership when taken."""
        keys = [self.lease_key, self.leaders_key, *self._alive]
        return bool(await self._try_lease(keys=keys, args=[token, lease_ms]))

    async def renew(self, token: str, lease_ms: int) -> bool:
        """Extend the lease; ``False`` if it is not ours any more."""
        return bool(await self._renew(keys=[self.lease_key], args=[token, lease_ms]))

    async def release(self, token: str) -> None:
        await self._release(keys=[self.lease_key], args=[token])

    async def leaderships(self) -> int:
        value = await self._client.get(self.leaders_key)
        return 0 if value is None else int(value)

    # The log.

    async def append(
        self,
        token: str,
        lease_ms: int,
        maxlen: int,
        first_id: int,
        data: Sequence[bytes],
        wall_ms: int,
    ) -> None:
        """Append ``data`` as ids ``first_id, first_id + 1, ...`` while holding the lease.

        Raises:
            LeaseLost: the lease is another process's (or gone), or the log already
                holds an id at or above ``first_id``; nothing was appended.
        """
        if not data:
            return
        try:
            numbered = [part for n, item in enumerate(data) for part in (first_id + n, item)]
            await self._append(
                keys=[self.lease_key, self.log_key, self.floor_key, *self._alive],
                args=[token, lease_ms, maxlen, wall_ms, *numbered],
            )
        except coredis.exceptions.ResponseError as error:
            if "NOTLEADER" in str(error) or "GONE" in str(error):
                raise LeaseLost(str(error)) from None
            raise

    async def newest_id(self) -> int | None:
        """The id of the log's last entry, ``None`` when it is empty."""
        entries = await self._client.xrevrange(self.log_key, count=1)
        return entry_number(entries[0].identifier) if entries else None

    async def raise_floor(self, entry_id: int) -> int:
        """Record that a process has ``entry_id``; returns the floor, at least that."""
        keys = [self.floor_key, *self._alive]
        return int(await self._raise_floor(keys=keys, args=[entry_id]))

    async def floor(self) -> int | None:
        """The highest id a process had when it last (re)joined, ``None`` if none did."""
        value = await self._client.get(self.floor_key)
        return None if value is None else int(value)

    async def tail(self, count: int) -> list[Entry]:
        """The newest ``count`` entries, oldest first."""
        entries = await self._client.xrevrange(self.log_key, count=count)
        return [_entry(e.identifier, e.field_values) for e in reversed(entries)]

    async def after(self, cursor: int, count: int) -> list[Entry]:
        """Up to ``count`` entries after id ``cursor``, oldest first."""
        entries = await self._client.xrange(self.log_key, start=f"({cursor}-0", count=count)
        return [_entry(e.identifier, e.field_values) for e in entries]

    async def between(self, after: int, upto: int) -> list[Entry]:
        """The entries with ids in ``(after, upto]``, oldest first."""
        entries = await self._client.xrange(self.log_key, start=f"({after}-0", end=f"{upto}-0")
        return [_entry(e.identifier, e.field_values) for e in entries]

    async def read(
        self, log_cursor: int, control_cursor: bytes, *, count: int, block_ms: int
    ) -> tuple[list[Entry], list[Change]]:
        """Wait up to ``block_ms`` for entries after the cursors; one ``XREAD`` for both."""
        streams: dict[str | bytes, str | bytes] = {
            self.log_key: f"{log_cursor}-0",
            self.control_key: control_cursor,
        }
        reply = await self._client.xread(streams, count=count, block=block_ms)
        entries: list[Entry] = []
        changes: list[Change] = []
        for key, items in (reply or {}).items():
            name = key.decode() if isinstance(key, bytes) else key
            for item in items:
                if name == self.log_key:
                    entries.append(_entry(item.identifier, item.field_values))
                else:
                    raw = item.field_values.get(b"c", b"{}")
                    changes.append(Change(_bytes(item.identifier), json.loads(raw)))
        return entries, changes

    # Control.

    async def control_cursor(self) -> bytes:
        """The id of the last control change (``0-0`` when there was none)."""
        entries = await self._client.xrevrange(self.control_key, count=1)
        return _bytes(entries[0].identifier) if entries else b"0-0"

    async def announce(
        self, hash_key: str, fields: Mapping[str, str], body: dict[str, Any]
    ) -> bytes:
        """Record ``fields`` in ``hash_key`` and announce ``body`` on the control stream."""
        flat = [part for pair in fields.items() for part in pair]
        entry_id: bytes | str = await self._announce(
            keys=[hash_key, self.control_key, *self._alive],
            args=[CONTROL_MAXLEN, json.dumps(body), *flat],
        )
        return _bytes(entry_id)

    async def claim_simulation(self, seed: int, start_ms: int) -> tuple[int, int]:
        """Keep ``seed`` and ``start_ms`` unless another process did first; returns those kept."""
        kept = await self.restore(self.sim_key, {"seed": str(seed), "start_ms": str(start_ms)})
        return int(kept["seed"]), int(kept["start_ms"])

    async def hash(self, key: str) -> dict[str, str]:
        values = await self._client.hgetall(key)
        return {_text(k): _text(v) for k, v in values.items()}

    async def restore(self, key: str, fields: Mapping[str, str]) -> dict[str, str]:
        """Write ``fields`` into ``key`` where they are missing (a Redis that came back
        empty), atomically; returns the hash as it is then (another process's fields win)."""
        flat = [part for pair in fields.items() for part in pair]
        reply: Any = await self._restore(keys=[key, *self._alive], args=flat)
        if isinstance(reply, Mapping):  # RESP3 gives a map, RESP2 a flat list
            pairs = list(reply.items())
        else:
            pairs = list(zip(reply[::2], reply[1::2], strict=True))
        return {_text(k): _text(v) for k, v in pairs}


def _bytes(value: bytes | str) -> bytes:
    return value if isinstance(value, bytes) else value.encode()


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _entry(identifier: bytes | str, fields: Mapping[Any, Any]) -> Entry:
    return Entry(entry_number(identifier), fields[b"s"], int(fields.get(b"t", b"0")))


@asynccontextmanager
async def open_redis_log(
    url: str,
    *,
    simulation: str = "default",
    session: bool = False,
    connect_timeout_s: float = 1.0,
) -> AsyncIterator[RedisLog]:
    """A :class:`RedisLog` of ``simulation`` on ``url`` (see :func:`open_redis_client`);
    ``session``: a session's, guarded by its ``alive`` key."""
    async with open_redis_client(url, connect_timeout_s=connect_timeout_s) as client:
        yield RedisLog(client, simulation, session=session)


def key_prefix(simulation: str) -> str:
    """What every key of ``simulation`` starts with."""
    return f"biomock:{simulation}:"


KEY_NAMES = (
    "log",
    "lease",
    "leaders",
    "sim",
    "clock",
    "scenarios",
    "control",
    "floor",
    "alive",
)
"""The keys of one simulation, after its prefix."""


@asynccontextmanager
async def open_redis_client(
    url: str, *, connect_timeout_s: float = 1.0
) -> AsyncIterator[coredis.Redis[bytes]]:
    """A client of ``url``: ``redis://``, ``rediss://`` or ``unix://`` for one Redis,
    ``redis+sentinel://`` (``rediss+sentinel://``) for the primary that Sentinel names
    (asked again on every new connection, so a failover is followed).

    Resource handling: the client's connection pool lives for the ``with`` block;
    entering it does not connect, so an unreachable Redis is found by the first command.
    """
    sentinel_url = SentinelUrl.parse(url)
    if sentinel_url is None:
        client: coredis.Redis[bytes] = coredis.Redis.from_url(
            url,
            decode_responses=False,
            retry_policy=NoRetryPolicy(),
            connect_timeout=connect_timeout_s,
        )
        async with client:
            yield client
        return
    async with coredis.Sentinel(
        [TCPLocation(host, port) for host, port in sentinel_url.sentinels],
        sentinel_kwargs={"connect_timeout": connect_timeout_s},
        decode_responses=False,
        retry_policy=NoRetryPolicy(),
        connect_timeout=connect_timeout_s,
    ) as sentinel:
        tls: dict[str, Any] = (
            {"ssl_context": ssl.create_default_context()} if sentinel_url.tls else {}
        )
        primary: coredis.Redis[bytes] = sentinel.primary_for(
            sentinel_url.service,
            db=sentinel_url.db,
            username=sentinel_url.username,
            password=sentinel_url.password,
            **tls,
        )
        async with primary:
            yield primary
