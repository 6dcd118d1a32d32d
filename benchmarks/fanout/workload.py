"""The shared workload: what one tick of samples looks like on the wire.

Both servers publish ``PER_TICK`` heart-rate samples per tick, one per subject
``s0``..``s7``, about 150 bytes of JSON each, framed as SSE events with ``id:``.
Each sample carries ``tick``: the wall-clock time (seconds since the epoch) at
which it was published, so the client measures publish-to-receive latency
without trusting simulated timestamps.
"""

from __future__ import annotations

PER_TICK = 8
SUBJECTS = [f"s{i}" for i in range(PER_TICK)]
