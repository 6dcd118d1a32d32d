"""``--record``: every sample the hub publishes, appended to a rotating JSONL file."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Sequence

from biomock.config import Config, ConfigError
from biomock.hub import Hub, Record
from biomock.replay.record import Recorder

logger = logging.getLogger(__name__)


def start_recording(hub: Hub, config: Config) -> Recorder:
    """Append every sample the hub publishes to ``config.record``, as native JSON lines.

    The lines are the bytes the stream sends (encoded once, at publish), so a
    recording replays to the same samples. A write error (a full disk) stops
    the recording with one log line; the stream goes on.

    Resource handling: the caller closes the returned recorder at shutdown,
    which flushes it.

    Raises:
        ConfigError: when the file cannot be opened.
    """
    assert config.record is not None
    path = config.record
    try:
        recorder = Recorder(path, max_bytes=config.record_max_bytes, backups=config.record_backups)
    except OSError as error:
        raise ConfigError(f"cannot open record file {path}: {error.strerror}") from None

    def record(records: Sequence[Record]) -> None:
        if recorder.closed:
            return
        try:
            recorder.write([r.json("native") or b"" for r in records])
        except OSError as error:
            logger.error("recording to %s stopped: %s", path, error.strerror)
            with contextlib.suppress(OSError):
                recorder.close()

    hub.listeners.append(record)
    logger.info("recording every published sample to %s", path)
    return recorder
