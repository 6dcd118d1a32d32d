"""Numbered samples with their encodings, and the log of errors contained around them.

A :class:`Record` is made once by the hub's publish and shared by every reader:
each format is encoded at most once, on first use, and cached on the record.
Encoding runs inside whatever task asks first (the generator, through the fast
path), so an encoder error must not escape: it is contained here, counted in
:class:`Faults`, and that sample is left out of that format only.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from biomock import sse
from biomock.formats import FORMATS
from biomock.sample import Sample

logger = logging.getLogger(__name__)


def dumps(body: dict[str, Any]) -> bytes:
    """Compact JSON, as every sample and event is sent."""
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


class Faults:
    """Errors contained instead of raised into the generator, counted by kind.

    Each kind is logged once, with its traceback, then only counted, so a fault
    that repeats on every sample cannot flood the log. Kinds: ``encode_<format>``
    (an encoder failed on a sample), ``listener`` (a hub listener raised),
    ``subscriber`` (a subscriber's direct delivery raised; that stream ends).
    """

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self._logged: set[str] = set()

    def report(self, kind: str, error: BaseException, what: str) -> None:
        self.counts[kind] += 1
        if kind in self._logged:
            return
        self._logged.add(kind)
        logger.error(
            "%s; contained (logged once, counted as biomock_contained_errors_total{kind=%r})",
            what,
            kind,
            exc_info=error,
        )


@dataclass(slots=True, eq=False)
class Record:
    """A numbered sample with its encodings, made once and shared by every reader."""

    id: int
    sample: Sample
    published_at: float = 0.0
    faults: Faults | None = None
    _json: dict[str, bytes | None] = field(default_factory=dict)
    _frames: dict[str, bytes] = field(default_factory=dict)

    def json(self, fmt: str = "native") -> bytes | None:
        """The sample as JSON in ``fmt``; ``None`` if the format has no such sample.

        Never raises for a sample: one that ``fmt``'s encoder fails on is reported to
        :attr:`faults` and is ``None`` in that format (its readers skip it).
        """
        try:
            return self._json[fmt]
        except KeyError:
            pass
        try:
            body = FORMATS[fmt](self.id, self.sample)
            encoded = None if body is None else dumps(body)
        except Exception as error:  # any encoder bug: contained, see the docstring
            if self.faults is None:
                raise
            self.faults.report(
                f"encode_{fmt}", error, f"sample {self.id} cannot be encoded as {fmt}"
            )
            encoded = None
        self._json[fmt] = encoded
        return encoded

    def frame(self, fmt: str = "native") -> bytes:
        """The SSE event for ``fmt``; empty if the format has no such sample."""
        try:
            return self._frames[fmt]
        except KeyError:
            data = self.json(fmt)
            framed = b"" if data is None else sse.event(data, event_id=self.id)
            self._frames[fmt] = framed
            return framed
