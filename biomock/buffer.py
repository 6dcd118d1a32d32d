"""The shared bounded ring of numbered records.

Ids are consecutive within one run of the server, so a record's place in the
ring follows from its id: ``after(id)`` and ``latest(n)`` cost what they
return, never a scan of the whole ring.
"""

from __future__ import annotations

from typing import Generic, Protocol, TypeVar


class HasId(Protocol):
    @property
    def id(self) -> int: ...


R = TypeVar("R", bound=HasId)


class RingBuffer(Generic[R]):
    """The newest ``capacity`` records, oldest dropped first.

    Records must be appended with consecutive ids (``newest_id + 1``).
    """

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self._slots: list[R | None] = [None] * capacity
        self._capacity = capacity
        self._oldest_id = 0
        self._size = 0

    @property
    def capacity(self) -> int:
        return self._capacity

    def __len__(self) -> int:
        return self._size

    @property
    def oldest_id(self) -> int | None:
        """The id of the oldest record kept, ``None`` when empty."""
        return self._oldest_id if self._size else None

    @property
    def newest_id(self) -> int | None:
        """The id of the newest record, ``None`` when empty."""
        return self._oldest_id + self._size - 1 if self._size else None

    def append(self, record: R) -> R | None:
        """Add ``record``; drop the oldest one when full.

        Returns:
            The record dropped to make room, if one was.

        Raises:
            ValueError: if ``record.id`` does not follow the newest id.
        """
        if self._size == 0:
            self._oldest_id = record.id
        elif record.id != self._oldest_id + self._size:
            raise ValueError(f"id {record.id} does not follow {self._oldest_id + self._size - 1}")
        slot = record.id % self._capacity
        evicted = self._slots[slot] if self._size == self._capacity else None
        self._slots[slot] = record
        if evicted is not None:
            self._oldest_id += 1
        else:
            self._size += 1
        return evicted

    def after(self, last_id: int) -> list[R]:
        """Every kept record with an id greater than ``last_id``, oldest first."""
        if self._size == 0:
            return []
        first = max(last_id + 1, self._oldest_id)
        end = self._oldest_id + self._size
        slots, capacity = self._slots, self._capacity
        return [slots[i % capacity] for i in range(first, end)]  # type: ignore[misc]

    def latest(self, n: int) -> list[R]:
        """The newest ``n`` records (fewer if fewer are kept), oldest first."""
        if n <= 0 or self._size == 0:
            return []
        return self.after(self._oldest_id + self._size - 1 - n)
