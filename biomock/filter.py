"""Which samples a subscriber or a history query wants, and in which format.

A plain value object: the hub and the routes share it, and it knows nothing of
HTTP (``biomock.params`` turns query parameters into one).
"""

from __future__ import annotations

from dataclasses import dataclass

from biomock.sample import Sample


@dataclass(frozen=True, slots=True)
class Filter:
    """Which samples a client wants, and in which format.

    ``types`` and ``subject`` of ``None`` mean all.
    """

    types: frozenset[str] | None = None
    subject: str | None = None
    format: str = "native"

    @property
    def selects_all(self) -> bool:
        return self.types is None and self.subject is None

    def matches(self, sample: Sample) -> bool:
        return self.wants(sample.type, sample.subject)

    def wants(self, type_name: str, subject: str) -> bool:
        """Whether samples of ``type_name`` for ``subject`` pass this filter."""
        return (self.types is None or type_name in self.types) and (
            self.subject is None or subject == self.subject
        )
