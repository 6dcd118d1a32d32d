"""Turning a request's query into what the hub needs, with the models of ``biomock.models``.

The models validate; this module applies them where quart-schema's decorators cannot
(the stream route, served below Quart) and checks what only the running server knows
(the subjects, the buffer's size).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import parse_qsl

from pydantic import BaseModel, ValidationError

from biomock.errors import from_validation, invalid_parameter
from biomock.filter import Filter
from biomock.models import FaultSpec, SampleQuery, StreamHeaders, StreamQuery, type_names

M = TypeVar("M", bound=BaseModel)


def query_args(query_string: bytes) -> dict[str, str | list[str]]:
    """A raw query string as quart-schema's ``validate_querystring`` reads ``request.args``.

    A repeated parameter becomes a list, which a model refuses as not a string.
    """
    args: dict[str, str | list[str]] = {}
    pairs = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)
    for key, value in pairs:
        seen = args.get(key)
        if seen is None:
            args[key] = value
        elif isinstance(seen, list):
            seen.append(value)
        else:
            args[key] = [seen, value]
    return args


def validate_query(
    model: type[M], args: Mapping[str, object], *, names: Mapping[str, str] | None = None
) -> M:
    """Validate ``args`` with ``model``.

    Raises:
        ApiError: 400 ``invalid_parameter`` naming the first bad parameter.
    """
    try:
        return model.model_validate(args)
    except ValidationError as error:
        raise from_validation(error, model, names=names) from None


def sample_filter(query: SampleQuery, subjects: Collection[str]) -> Filter:
    """The filter a validated query asks for; the subject must be one this server has.

    Raises:
        ApiError: 400 ``invalid_parameter`` for an unknown subject.
    """
    if query.subject is not None and query.subject not in subjects:
        raise invalid_parameter(
            "subject", f"unknown subject {query.subject!r}; valid: {', '.join(sorted(subjects))}"
        )
    return Filter(
        types=type_names(query.types), subject=query.subject, format=query.format or "native"
    )


@dataclass(frozen=True, slots=True)
class StreamRequest:
    """What a client asked of ``/api/stream`` (or ``/api/ws``), validated.

    ``faults`` and ``fault_seed`` belong to the connection, not to the subscription:
    a WebSocket ``subscribe`` keeps them.
    """

    filter: Filter
    last_event_id: int | None
    history: int
    faults: FaultSpec | None = None
    fault_seed: int | None = None


def stream_request(
    args: Mapping[str, object],
    last_event_id_header: str | None,
    subjects: Sequence[str],
    *,
    capacity: int,
) -> StreamRequest:
    """Validate a stream's query and ``Last-Event-ID`` header (which wins over the query).

    Raises:
        ApiError: 400 ``invalid_parameter`` naming the first bad parameter.
    """
    query = validate_query(StreamQuery, args)
    resume = query.last_event_id
    # Browsers send an empty Last-Event-ID when no id was seen yet.
    if last_event_id_header is not None and last_event_id_header.strip():
        resume = validate_query(
            StreamHeaders,
            {"last_event_id": last_event_id_header},
            names={"last_event_id": "Last-Event-ID"},
        ).last_event_id
    history = query.history or 0
    if history > capacity:
        raise invalid_parameter(
            "history", f"history must be at most the buffer's size, {capacity}; got {history}"
        )
    return StreamRequest(
        sample_filter(query, subjects), resume, history, query.faults, query.fault_seed
    )
