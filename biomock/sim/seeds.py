"""Stable seeds: every random stream in the simulator is derived from the user's seed.

Python's ``hash()`` is salted per process, so seeds are derived with SHA-256 instead;
the same ``(seed, subject, ...)`` gives the same stream on every machine and run.
"""

from __future__ import annotations

import hashlib
import random


def derive_seed(*parts: object) -> int:
    """Return a 64-bit seed that depends only on ``parts`` (their ``str`` forms, in order)."""
    text = "\x1f".join(str(part) for part in parts)
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big")


def derive_rng(*parts: object) -> random.Random:
    """Return a ``random.Random`` seeded by :func:`derive_seed` of ``parts``."""
    return random.Random(derive_seed(*parts))
