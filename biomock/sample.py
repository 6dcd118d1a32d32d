"""The unit of data that flows through biomock: one measured or categorised sample.

Producers (``biomock.sim``, ``biomock.replay``) create :class:`Sample` objects;
the hub gives each one an id and encodes it once; formats turn it into the
shapes the apps read. Times are integers of milliseconds since the Unix epoch
(UTC), so that serialisation is exact and cheap.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

JSONScalar = str | int | float | bool | None
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class SampleSource:
    """The device (and its software) that recorded a sample, as HealthKit's source revision.

    Attributes:
        name: what the user calls it, e.g. ``Apple Watch``.
        device: the hardware model, e.g. ``Watch7,1``.
        os: the version of the software that wrote the sample.
        kind: ``watch``, ``phone``, ``cgm``, ``bp_cuff``, ``thermometer``, ``scale`` or
            ``import`` (a replayed file that did not say).
    """

    name: str
    device: str
    os: str
    kind: str

    def as_json(self) -> dict[str, str]:
        """The ``source`` object of API.md: name, device, os, kind."""
        return {"name": self.name, "device": self.device, "os": self.os, "kind": self.kind}


IMPORTED = SampleSource("import", "unknown", "unknown", "import")
"""The source of replayed samples whose file does not name one."""


@dataclass(frozen=True, slots=True)
class Sample:
    """One data point, before the hub numbers it.

    Attributes:
        type: the API type name, e.g. ``heart_rate`` (see ``biomock.catalogue``).
        value: a number for quantities, a string for categories.
        time_ms: the sample's timestamp (for interval types, the interval's end).
        unit: the canonical unit, ``None`` for categories.
        subject: the simulated (or replayed) person.
        start_ms: the interval's beginning, for interval types only.
        scenario: the scenario the subject was in, for simulated samples.
        event: ``"start"`` or ``"end"`` for ``workout`` samples.
        extra: further fields, serialised after the standard ones.
        source: the device that recorded it; ``None`` reads as :data:`IMPORTED`.
    """

    type: str
    value: float | int | str
    time_ms: int
    unit: str | None
    subject: str = "default"
    start_ms: int | None = None
    scenario: str | None = None
    event: str | None = None
    extra: Mapping[str, JSONScalar] = field(default_factory=dict)
    source: SampleSource | None = None


def format_time(ms: int) -> str:
    """Format epoch milliseconds as API.md's ISO 8601: ``2026-02-03T10:30:00.000Z``."""
    seconds, millis = divmod(ms, 1000)
    text = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{text}.{millis:03d}Z"


def parse_time(text: str) -> int:
    """Parse an ISO 8601 time into epoch milliseconds; no offset means UTC.

    Raises:
        ValueError: if ``text`` is not an ISO 8601 date-time.
    """
    moment = datetime.fromisoformat(text.strip().replace("z", "Z"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - _EPOCH) // timedelta(milliseconds=1)


MIN_TIME_MS = 0
"""1970-01-01T00:00:00.000Z: the earliest time biomock accepts (API.md v2)."""
MAX_TIME_MS = 32_503_680_000_000 - 1
"""2999-12-31T23:59:59.999Z: the latest; far from where formatting a time could fail."""


def check_time_range(ms: int, what: str = "time") -> int:
    """Return ``ms`` if it lies in the years 1970-2999.

    Raises:
        ValueError: naming ``what`` and the accepted range.
    """
    if not MIN_TIME_MS <= ms <= MAX_TIME_MS:
        raise ValueError(f"{what} must be in the years 1970 to 2999")
    return ms
