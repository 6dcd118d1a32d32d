"""What each load-client subscriber counts: the SSE decoder and its id and latency checks.

An SSE subscriber decodes the chunked body and splits it into events; the WebSocket
one (:mod:`benchmarks.fanout.ws_conn`) decodes frames. Both check every id against
the previous one (a gap or a duplicate is counted) and measure publish-to-receive
latency from the sample's ``tick`` field (its ``timestamp`` when there is none).
"""

from __future__ import annotations

import calendar
import time
from array import array
from itertools import repeat
from typing import Any


class ProtocolError(Exception):
    """The server sent something that is not a valid chunked SSE response."""


class Window:
    """What is counted during the measurement window, shared by every connection."""

    def __init__(self) -> None:
        self.open = False
        self.events = 0
        self.latencies = array("d")
        self.published = array("d")
        self.light = False
        self.reads = 0


class Conn:
    """One subscriber: the chunked decoder, the SSE splitter and its id checks."""

    __slots__ = (
        "chunk_left",
        "closed",
        "connect_s",
        "dups",
        "ended",
        "error",
        "events",
        "gaps",
        "last_id",
        "pending",
        "resets",
        "sse",
        "window",
    )

    def __init__(self, window: Window) -> None:
        self.window = window
        self.pending = b""
        self.chunk_left = -1  # -1: expecting a size line; -2: expecting the chunk's CRLF
        self.sse = b""
        self.last_id: int | None = None
        self.events = 0
        self.gaps = 0
        self.dups = 0
        self.resets = 0
        self.connect_s: float | None = None
        self.closed = False
        self.ended = False
        self.error: str | None = None

    def feed(self, data: bytes, now: float) -> None:
        """Decode ``data`` (raw body bytes) and account for every complete event."""
        if self.pending:
            data = self.pending + data
            self.pending = b""
        out = []
        pos, size = 0, len(data)
        while pos < size:
            left = self.chunk_left
            if left > 0:
                take = min(left, size - pos)
                out.append(data[pos : pos + take])
                pos += take
                self.chunk_left = left - take or -2
            elif left == -2:
                if size - pos < 2:
                    self.pending = data[pos:]
                    break
                if data[pos : pos + 2] != b"\r\n":
                    raise ProtocolError("chunk not followed by CRLF")
                pos += 2
                self.chunk_left = -1
            else:
                eol = data.find(b"\r\n", pos)
                if eol < 0:
                    if size - pos > 64:
                        raise ProtocolError("chunk size line too long")
                    self.pending = data[pos:]
                    break
                length = int(data[pos:eol].split(b";", 1)[0], 16)
                pos = eol + 2
                if length == 0:
                    self.ended = True
                    break
                self.chunk_left = length
        if out:
            payload = b"".join(out) if len(out) > 1 else out[0]
            if self.window.light:
                self._events_light(payload, now)
            else:
                self._events(payload, now)

    def _events(self, payload: bytes, now: float) -> None:
        text = self.sse + payload if self.sse else payload
        end = text.rfind(b"\n\n")
        if end < 0:
            self.sse = text
            return
        self.sse = text[end + 2 :]
        window = self.window
        last = self.last_id
        for event in text[:end].split(b"\n\n"):
            if event[:4] != b"id: ":
                if event.startswith(b"event: reset"):
                    self.resets += 1
                continue
            eol = event.find(b"\n", 4)
            event_id = int(event[4:eol])
            if last is not None and event_id != last + 1:
                if event_id <= last:
                    self.dups += 1
                else:
                    self.gaps += event_id - last - 1
            last = event_id
            self.events += 1
            if window.open:
                window.events += 1
                published = _published_at(event, eol)
                window.latencies.append(now - published)
                window.published.append(published)
        self.last_id = last

    def _events_light(self, payload: bytes, now: float) -> None:
        """The same checks per received block instead of per event, at C speed.

        The ids in a block must run on from the previous block without a hole and
        number exactly as many as the events counted in it. Every event in the block
        is given the latency of its oldest one (pessimistic, and the same for every
        server). For the overload run, whose event rate is beyond per-event parsing
        in Python.
        """
        text = self.sse + payload if self.sse else payload
        end = text.rfind(b"\n\n")
        if end < 0:
            self.sse = text
            return
        self.sse = text[end + 2 :]
        block = text[: end + 2]
        self.resets += block.count(b"event: reset\n")
        leading = block[:4] == b"id: "
        count = block.count(b"\n\nid: ") + leading
        if not count:
            return
        first = 0 if leading else block.find(b"\n\nid: ") + 2
        last = block.rfind(b"\n\nid: ") + 2 if count > 1 or not leading else 0
        first_eol = block.index(b"\n", first)
        first_id = int(block[first + 4 : first_eol])
        last_id = int(block[last + 4 : block.index(b"\n", last)])
        previous = self.last_id
        if previous is not None and first_id != previous + 1:
            if first_id <= previous:
                self.dups += 1
            else:
                self.gaps += first_id - previous - 1
        span = last_id - first_id + 1
        if span > count:
            self.gaps += span - count
        elif span < count:
            self.dups += count - span
        self.last_id = last_id
        self.events += count
        window = self.window
        if window.open:
            window.events += count
            published = _published_at(block, first_eol)
            window.latencies.extend(repeat(now - published, count))
            window.published.extend(repeat(published, count))


_TIMESTAMPS: dict[bytes, float] = {}


def _published_at(event: bytes, start: int) -> float:
    at = event.find(b'"tick":', start)
    if at >= 0:
        at += 7
        stop = event.find(b"}", at)
        comma = event.find(b",", at, stop)
        return float(event[at : comma if comma >= 0 else stop])
    at = event.index(b'"timestamp":"', start) + 13
    stamp = event[at : at + 24]
    seconds = _TIMESTAMPS.get(stamp)
    if seconds is None:
        parsed = time.strptime(stamp[:19].decode(), "%Y-%m-%dT%H:%M:%S")
        seconds = calendar.timegm(parsed) + int(stamp[20:23]) / 1000
        _TIMESTAMPS[stamp] = seconds
    return seconds


def published_at_of(sample: dict[str, Any]) -> float:
    """When ``sample`` (decoded JSON) was published: its ``tick``, else its timestamp."""
    tick = sample.get("tick")
    if tick is not None:
        return float(tick)
    stamp = sample["timestamp"].encode()
    return _published_at(b'"timestamp":"' + stamp, 0)
