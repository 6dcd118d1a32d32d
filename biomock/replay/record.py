"""Recording published samples to a size-capped, rotating JSONL file."""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO

_BUFFER = 1 << 16


class Recorder:
    """Appends native JSON lines to ``path`` as they are published.

    Writes are synchronous and buffered (the hub's publish path is sync and a
    buffered append does not block for long). When the next line would take the
    file past ``max_bytes``, the file is rotated like logging's
    ``RotatingFileHandler``: ``FILE.jsonl`` becomes ``FILE.jsonl.1``, ``.1``
    becomes ``.2`` ... up to ``backups`` files, and the oldest is dropped. With
    ``backups=0`` the file starts over. ``max_bytes=0`` means no cap.

    Resource handling: the file stays open until :meth:`close`, which flushes it.
    """

    def __init__(self, path: str | Path, *, max_bytes: int, backups: int) -> None:
        if max_bytes < 0 or backups < 0:
            raise ValueError("max_bytes and backups must not be negative")
        self.path = Path(path)
        self.max_bytes = max_bytes
        self.backups = backups
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file: IO[bytes] = self.path.open("ab", buffering=_BUFFER)
        self._size = self._file.tell()

    def write(self, lines: list[bytes]) -> None:
        """Append each of ``lines`` (one JSON document each) as one line of the file."""
        for line in lines:
            if not line.endswith(b"\n"):
                line += b"\n"
            if self.max_bytes and self._size and self._size + len(line) > self.max_bytes:
                self._rotate()
            self._file.write(line)
            self._size += len(line)

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called (or a failed write closed the file)."""
        return self._file.closed

    def flush(self) -> None:
        """Push buffered lines to the operating system."""
        self._file.flush()

    def close(self) -> None:
        """Flush and close the file; later writes raise ``ValueError``.

        A flush that fails (a full disk) still closes the file, and raises ``OSError``.
        """
        self._file.close()

    def _rotate(self) -> None:
        self._file.close()
        if self.backups:
            for number in range(self.backups - 1, 0, -1):
                older = self._backup(number)
                if older.exists():
                    os.replace(older, self._backup(number + 1))
            os.replace(self.path, self._backup(1))
        self._file = self.path.open("wb", buffering=_BUFFER)
        self._size = 0

    def _backup(self, number: int) -> Path:
        return self.path.with_name(f"{self.path.name}.{number}")
