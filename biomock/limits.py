"""Every numeric limit of the public API, written once and imported wherever it applies.

The request models (``biomock.models``), the settings (``biomock.config``) and the
clock all read these, so that the documented bound and the enforced one cannot drift.
"""

from __future__ import annotations

STALL_MAX_S = 600
"""A stream stalled on purpose (``faults=stall_after=N``) ends after this many seconds of
silence (as ``disconnect_after`` does), so that a stall whose client vanished without a
word does not hold its stream, and its session, open for ever."""

MAX_SPEED = 100_000
"""The fastest simulated clock: simulated seconds per real second (API.md: 0 < speed <= this)."""

MAX_DIGITS = 20
"""Whole numbers in a request (ids, counts) have at most this many digits, so that parsing
one costs nothing; every id biomock hands out (below 2**53) has 16."""

MAX_ID = 10**MAX_DIGITS - 1
"""The largest id a request may name; one above the newest id is a ``reset`` ``unknown``."""

HISTORY_PAGE_DEFAULT = 1000
HISTORY_PAGE_MAX = 10_000
"""``GET /api/history?limit=``: 1 to this many items per page."""

MAX_BUFFER_SIZE = 1_000_000
"""``BIOMOCK_BUFFER_SIZE`` at most; ``history=`` asks for at most the configured size."""

DEFAULT_MAX_BODY_BYTES = 4096
"""``BIOMOCK_MAX_BODY_BYTES``: a JSON body larger than this is a 413, refused unread."""

MIN_YEAR, MAX_YEAR = 1970, 2999
"""Times a client may send (``now`` of ``POST /api/clock``) fall within these years."""

BODY_TIMEOUT_S = 60.0
"""A request body that has not fully arrived after this long is a 408 (as Quart's default)."""
DRAIN_BYTES = 256 * 1024
"""How much of a refused body is read and dropped before answering: closing a socket
with unread data makes the kernel reset it, and the client may lose the answer."""
DRAIN_TIMEOUT_S = 1.0
"""How long draining a refused body may take at most."""

MAX_FAULT_SAMPLES = 10**9
"""``faults=disconnect_after=N`` and ``stall_after=N``: N at most this."""

MAX_FAULT_DELAY_MS = 60_000
"""``faults=delay_ms=D`` and ``jitter_ms=J``: each at most this (a minute, as the slow-client
timeout; a client that wants silence for longer asks for ``stall_after``)."""

FAULT_STATUSES = (429, 500, 502, 503, 504)
"""``faults=status=CODE``: the statuses a stream request can be answered with instead."""

DEFAULT_SESSION_TTL_S = 3600
MAX_SESSION_TTL_S = 86_400
"""A session expires ``ttl_s`` after its last request or stream activity: 3600 s unless asked,
at most a day."""

MAX_SESSION_SUBJECTS = 10
"""Subjects of one session at most: a session is a test fixture, not a population."""

MAX_SEED = 2**53 - 1
"""Seeds a client may choose (and that survive a round trip through JavaScript)."""

RUN_THROUGH_SUBJECT_MS = 6 * 3_600_000
"""A paused session jumped forward with ``POST /api/clock {"now"}`` publishes every sample of
the skipped time, up to this much simulated time divided by its number of subjects (about
24,000 samples, a second of CPU); time before that is skipped as a running clock's jump is."""

CATCH_UP_BATCHES = 12
"""A session nobody watched catches up to its clock in at most this many batches of
``BIOMOCK_MAX_BATCH`` per request; beyond that its clock falls behind, as a watched one does."""
