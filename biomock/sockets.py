"""What the app needs of Hypercorn's connection objects behind an ASGI send.

Hypercorn writes every response under a lock and a shielded cancel scope, so no
timeout in the app can end a write to a client that stopped reading: only the
socket can. :func:`abort` resets it; the blocked ``send_all`` then fails at once,
Hypercorn closes the connection and the app's ``send`` returns.

Hypercorn also accepts permessage-deflate whenever a client offers it (browsers,
Python's ``websockets`` and Dart's ``WebSocket`` all do), and ASGI gives the app no
say: :func:`decline_compression` withdraws the offer before the handshake is answered.
"""

from __future__ import annotations

import logging
import socket
import struct
from typing import Any

import trio
from hypercorn.protocol.ws_stream import Handshake, WSStream

logger = logging.getLogger(__name__)

_LINGER_RESET = struct.pack("ii", 1, 0)  # close with RST: nothing unsent is kept


def connection_socket(send: Any) -> trio.socket.SocketType | None:
    """The TCP socket behind ``send`` (the ASGI send exactly as Hypercorn passed it).

    Follows Hypercorn's own objects: the stream's ``app_send`` -> the protocol's
    ``stream_send`` -> the TCP server's ``protocol_send`` -> its stream's socket.
    Returns ``None`` for anything else (another server, HTTP/2, an in-memory test).
    """
    stream = getattr(send, "__self__", None)
    protocol = getattr(getattr(stream, "send", None), "__self__", None)
    server = getattr(getattr(protocol, "send", None), "__self__", None)
    transport = getattr(server, "stream", None)
    transport = getattr(transport, "transport_stream", transport)  # under TLS
    sock = getattr(transport, "socket", None)
    if isinstance(sock, trio.socket.SocketType):
        return sock
    return None


def abort(sock: trio.socket.SocketType) -> None:
    """Reset the connection: any write blocked on it fails now. Never raises."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RESET)
        sock.shutdown(socket.SHUT_RDWR)
    except OSError as error:  # already closed: nothing is blocked on it
        logger.debug("abort: %s", error)


def decline_compression(send: Any) -> bool:
    """Answer the WebSocket handshake behind ``send`` without any extension.

    A compressed stream costs every connection its own zlib state (about 260 KiB)
    and a deflate of every message (about 30 us of CPU for one tick's message),
    where an uncompressed one shares one encoding between all subscribers; the
    samples are small and arrive a few a second. Call before ``websocket.accept``.

    Returns:
        Whether the offer was withdrawn; ``False`` behind anything but Hypercorn's
        own WebSocket stream (then the server's default applies).
    """
    stream = getattr(send, "__self__", None)
    if type(stream) is not WSStream or getattr(send, "__func__", None) is not WSStream.app_send:
        return False
    handshake = getattr(stream, "handshake", None)
    if type(handshake) is not Handshake or not hasattr(handshake, "extensions"):
        return False
    handshake.extensions = None
    return True
