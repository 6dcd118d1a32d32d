"""Where a run's ids start, so that they keep increasing across restarts.

Ids are ``boot time in ms x 1000 + n``. That alone goes wrong twice: when the
wall clock steps back across a restart (NTP, a VM restored from a snapshot), and
when a run published more than 1000 samples a second for long enough that its
ids ran ahead of the clock. So a run never starts below the newest id it can
find: the last line of the recording (``--record``), and the state file
(``BIOMOCK_STATE_FILE``) where every clean shutdown leaves the newest id.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

logger = logging.getLogger(__name__)

_TAIL_BYTES = 65536


def newest_recorded_id(path: Path) -> int | None:
    """The id of the last sample in the recording at ``path`` (or, if it was just
    rotated, in ``path.1``), or ``None`` when there is none to read."""
    for candidate in (path, path.with_name(path.name + ".1")):
        try:
            with candidate.open("rb") as file:
                file.seek(0, os.SEEK_END)
                size = file.tell()
                file.seek(max(0, size - _TAIL_BYTES))
                tail = file.read()
        except OSError:
            continue
        for line in reversed(tail.splitlines()):
            try:
                value = json.loads(line).get("id")
            except (ValueError, AttributeError):
                continue  # a torn last line, or a partial first one
            if isinstance(value, int):
                return value
    return None


def read_state(path: Path) -> int | None:
    """The newest id kept in the state file, ``None`` if there is no valid one."""
    try:
        text = path.read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def write_state(path: Path, newest_id: int) -> None:
    """Keep ``newest_id`` in the state file, replacing it atomically.

    Raises:
        OSError: the file cannot be written.
    """
    partial = path.with_name(path.name + ".tmp")
    partial.write_text(f"{newest_id}\n")
    os.replace(partial, path)


def choose_id_base(wall_ms: int, *, record: Path | None, state: Path | None) -> int:
    """The id this run's ids start above: the clock's, unless an id seen before is newer."""
    base = wall_ms * 1000
    seen = [
        ("the recording", None if record is None else newest_recorded_id(record)),
        ("the state file", None if state is None else read_state(state)),
    ]
    for where, newest in seen:
        if newest is not None and newest > base:
            logger.warning(
                "ids start above %d, the newest id in %s, not at the clock's %d "
                "(the wall clock is behind the last run's ids)",
                newest,
                where,
                base,
            )
            base = newest
    return base
