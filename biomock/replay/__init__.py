"""Replaying recorded files: biomock JSONL, CSV and Apple Health exports.

:func:`open_replay` reads and checks a whole file before anything is
streamed, and returns a :class:`ReplaySource` that the generator drives like
the simulator.
"""

from biomock.replay.errors import ReplayError
from biomock.replay.source import ReplaySource, open_replay

__all__ = ["ReplayError", "ReplaySource", "open_replay"]
