"""Where a subject lives: an IANA time zone, and local days in epoch milliseconds.

The day plan follows local time (wake at 07:00 in Chicago is 13:00Z in winter); samples
keep UTC timestamps. Zone rules come from the standard library's ``zoneinfo``, which reads
the system's tz database or, where there is none, the ``tzdata`` package.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAY_MS = 86_400_000
_EPOCH_DATE = datetime(1970, 1, 1)

ZONES = (
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "America/Sao_Paulo",
    "Europe/London",
    "Europe/Berlin",
    "Europe/Madrid",
    "Africa/Lagos",
    "Asia/Kolkata",
    "Asia/Singapore",
    "Asia/Tokyo",
    "Australia/Sydney",
)
"""Zones subjects are drawn from: where most health-app users are, on both hemispheres."""


def pick_zone(rng: random.Random) -> str:
    """A zone for a new subject."""
    return rng.choice(ZONES)


def load_zone(name: str) -> ZoneInfo:
    """Return the zone called ``name``.

    Raises:
        ValueError: if there is no such IANA zone.
    """
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"time zone: {name!r} is not an IANA time zone name") from None


def parse_time_zones(text: str) -> dict[str, str]:
    """Parse ``alice=America/New_York,bob=Asia/Tokyo`` into zone names by subject.

    Raises:
        ValueError: for a malformed item or an unknown zone.
    """
    result: dict[str, str] = {}
    for item in text.split(","):
        if not item.strip():
            continue
        name, sep, zone = item.partition("=")
        if not sep or not name.strip() or not zone.strip():
            raise ValueError(
                f"time zones: {item.strip()!r} is not SUBJECT=ZONE (e.g. alice=Europe/Berlin)"
            )
        load_zone(zone.strip())
        result[name.strip()] = zone.strip()
    return result


class LocalDays:
    """Local calendar days of one zone, in epoch milliseconds (cached: zone lookups cost)."""

    def __init__(self, zone: ZoneInfo) -> None:
        self.zone = zone
        self._midnights: dict[int, int] = {}

    def midnight(self, day: int) -> int:
        """The UTC epoch ms of local midnight starting local day ``day`` (days since 1970-01-01)."""
        cached = self._midnights.get(day)
        if cached is None:
            if len(self._midnights) > 64:
                self._midnights.clear()
            local = (_EPOCH_DATE + timedelta(days=day)).replace(tzinfo=self.zone)
            cached = self._midnights[day] = round(local.timestamp() * 1000)
        return cached

    def offset(self, t_ms: int) -> int:
        """The zone's offset from UTC at ``t_ms``, ms (local = UTC + offset)."""
        moment = datetime.fromtimestamp(t_ms / 1000, UTC).astimezone(self.zone)
        delta = moment.utcoffset()
        return 0 if delta is None else round(delta.total_seconds() * 1000)

    def day_of(self, t_ms: int) -> int:
        """The local calendar day containing ``t_ms``."""
        return (t_ms + self.offset(t_ms)) // DAY_MS
