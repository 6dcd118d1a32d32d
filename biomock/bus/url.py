"""Bus URLs: which Redis (or which Sentinels) ``BIOMOCK_BUS`` names, and how it is shown.

Pure: the settings validate a URL with it before anything connects.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

BUS_SCHEMES = ("redis", "rediss", "unix", "redis+sentinel", "rediss+sentinel")
"""What ``BIOMOCK_BUS`` may start with."""

SENTINEL_SCHEMES = {"redis+sentinel": False, "rediss+sentinel": True}
"""URL schemes naming Sentinels rather than Redis itself; the value: TLS to the primary."""


@dataclass(frozen=True, slots=True)
class SentinelUrl:
    """``redis+sentinel://[[user]:password@]host:port[,host:port...]/service[/db]``."""

    sentinels: tuple[tuple[str, int], ...]
    service: str
    db: int
    username: str | None
    password: str | None
    tls: bool

    @classmethod
    def parse(cls, url: str) -> SentinelUrl | None:
        """The Sentinel setup ``url`` names, ``None`` for a plain Redis URL.

        Raises:
            ValueError: a Sentinel URL without a host or a service name.
        """
        parts = urlsplit(url)
        if parts.scheme not in SENTINEL_SCHEMES:
            return None
        hosts = parts.netloc.rpartition("@")[2]
        sentinels = []
        for host in filter(None, hosts.split(",")):
            name, _, port = host.rpartition(":") if ":" in host else (host, "", "26379")
            sentinels.append((name.strip("[]"), int(port)))
        path = [part for part in parts.path.split("/") if part]
        if not sentinels or not path:
            raise ValueError("a Sentinel URL names its service: redis+sentinel://host:26379/name")
        return cls(
            tuple(sentinels),
            path[0],
            int(path[1]) if len(path) > 1 else 0,
            parts.username or None,
            parts.password,
            SENTINEL_SCHEMES[parts.scheme],
        )


def redact(url: str) -> str:
    """``url`` without its password (for logs and ``/api/stats``)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    hosts = parts.netloc.rpartition("@")[2]  # one host, or Sentinel's comma-separated list
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:<redacted>@{hosts}"))
