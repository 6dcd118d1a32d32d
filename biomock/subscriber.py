"""What every stream transport shares: its parameters.

``/api/stream`` (SSE) and ``/api/ws`` (WebSocket) take the same query
parameters and are held to the same slow-client policy; each transport owns
only its framing and its writes.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

from biomock.filter import Filter
from biomock.params import check_int, parse_filter, parse_int


@dataclass(frozen=True, slots=True)
class StreamParams:
    """What a client asked to receive (API.md's stream query parameters).

    Attributes:
        filter: types, subject and format.
        last_event_id: resume after this id; ``None`` starts live.
        history: without a resume point, first send this many newest matching samples.
    """

    filter: Filter
    last_event_id: int | None = None
    history: int = 0


def parse_stream_params(
    args: Mapping[str, str],
    subjects: Collection[str],
    *,
    max_history: int,
    last_event_id_header: str | None = None,
) -> StreamParams:
    """Read ``types``, ``subject``, ``format``, ``last_event_id`` and ``history``.

    Args:
        args: the query string; the first of repeated parameters.
        subjects: the names the ``subject`` filter accepts.
        max_history: the largest ``history`` (the buffer's capacity).
        last_event_id_header: the ``Last-Event-ID`` header, which wins over the query.

    Raises:
        ApiError: 400 ``invalid_parameter`` naming the parameter.
    """
    filter = parse_filter(args, subjects)
    last_event_id = None
    raw, name = last_event_id_header, "Last-Event-ID"
    if raw is not None and raw.strip() == "":
        raw = None  # browsers send an empty header when no id was seen yet
    if raw is None:
        raw, name = args.get("last_event_id"), "last_event_id"
    if raw is not None:
        last_event_id = check_int(raw, name)
    history = parse_int(args, "history", default=0, maximum=max_history) or 0
    return StreamParams(filter, last_event_id, history)
