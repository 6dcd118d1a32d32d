"""The load client's WebSocket subscriber: frames decoded by hand, ids checked per sample.

A server's frames are never masked (RFC 6455 5.1), so decoding is a header of 2, 4
or 10 bytes and the payload. Each text message is JSON: ``samples`` messages are
checked item by item (or per message with ``--light``) exactly as SSE events are.
"""

from __future__ import annotations

import base64
import json
import os
from itertools import repeat
from typing import Any

from benchmarks.fanout.client_conn import Conn, ProtocolError, published_at_of

OP_CONTINUATION, OP_TEXT, OP_CLOSE = 0x0, 0x1, 0x8


def upgrade_request(path: str, host: str) -> bytes:
    key = base64.b64encode(os.urandom(16)).decode()
    return (
        f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    ).encode()


class WsConn(Conn):
    """One WebSocket subscriber (see :class:`Conn` for what is counted)."""

    __slots__ = ("fragments",)

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.fragments: list[bytes] = []

    def feed(self, data: bytes, now: float) -> None:
        buf = self.pending + data if self.pending else data
        pos, size = 0, len(buf)
        while size - pos >= 2:
            b0, b1 = buf[pos], buf[pos + 1]
            if b1 & 0x80:
                raise ProtocolError("a server frame is masked")
            length, head = b1 & 0x7F, 2
            if length == 126:
                if size - pos < 4:
                    break
                length, head = int.from_bytes(buf[pos + 2 : pos + 4]), 4
            elif length == 127:
                if size - pos < 10:
                    break
                length, head = int.from_bytes(buf[pos + 2 : pos + 10]), 10
            if size - pos < head + length:
                break
            payload = buf[pos + head : pos + head + length]
            pos += head + length
            opcode = b0 & 0x0F
            if opcode == OP_CLOSE:
                self.ended = True
                break
            if opcode not in (OP_TEXT, OP_CONTINUATION):
                continue  # ping, pong: the server sends none
            self.fragments.append(payload)
            if b0 & 0x80:  # FIN
                message = b"".join(self.fragments)
                self.fragments.clear()
                self._message(message, now)
        self.pending = buf[pos:]

    def _message(self, message: bytes, now: float) -> None:
        body = json.loads(message)
        if body["type"] == "reset":
            self.resets += 1
            return
        if body["type"] != "samples":
            return
        items = body["items"]
        window = self.window
        last = self.last_id
        if window.light:
            first_id, last_id = items[0]["id"], items[-1]["id"]
            if last is not None and first_id != last + 1:
                self.dups += first_id <= last
                self.gaps += max(0, first_id - last - 1)
            span = last_id - first_id + 1
            self.gaps += max(0, span - len(items))
            self.dups += max(0, len(items) - span)
            self.last_id = last_id
            self.events += len(items)
            if window.open:
                window.events += len(items)
                published = published_at_of(items[0])
                window.latencies.extend(repeat(now - published, len(items)))
                window.published.extend(repeat(published, len(items)))
            return
        for item in items:
            event_id = item["id"]
            if last is not None and event_id != last + 1:
                if event_id <= last:
                    self.dups += 1
                else:
                    self.gaps += event_id - last - 1
            last = event_id
            self.events += 1
            if window.open:
                window.events += 1
                published = published_at_of(item)
                window.latencies.append(now - published)
                window.published.append(published)
        self.last_id = last
