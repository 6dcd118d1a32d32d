"""Parsing and validation of the query parameters shared by the stream and history routes."""

from __future__ import annotations

from collections.abc import Collection, Mapping

from biomock.catalogue import TYPES
from biomock.errors import invalid_parameter
from biomock.filter import Filter
from biomock.formats import FORMATS
from biomock.sample import parse_time


def parse_filter(args: Mapping[str, str], subjects: Collection[str]) -> Filter:
    """Read ``types``, ``subject`` and ``format``.

    Raises:
        ApiError: 400 ``invalid_parameter`` for an unknown type, subject or format.
    """
    types: frozenset[str] | None = None
    raw_types = args.get("types")
    if raw_types is not None and raw_types.strip() != "":
        names = [name.strip() for name in raw_types.split(",") if name.strip()]
        unknown = [name for name in names if name not in TYPES]
        if unknown:
            raise invalid_parameter(
                "types",
                f"unknown type {unknown[0]!r}; valid: {', '.join(TYPES)}",
            )
        types = frozenset(names)
    subject = args.get("subject")
    if subject is not None and subject not in subjects:
        raise invalid_parameter(
            "subject", f"unknown subject {subject!r}; valid: {', '.join(sorted(subjects))}"
        )
    fmt = args.get("format", "native")
    if fmt not in FORMATS:
        raise invalid_parameter("format", f"unknown format {fmt!r}; valid: {', '.join(FORMATS)}")
    return Filter(types=types, subject=subject, format=fmt)


def parse_int(
    args: Mapping[str, str],
    name: str,
    *,
    default: int | None,
    minimum: int = 0,
    maximum: int | None = None,
) -> int | None:
    """Read a whole-number parameter within ``[minimum, maximum]``.

    Raises:
        ApiError: 400 ``invalid_parameter`` naming ``name``.
    """
    raw = args.get(name)
    if raw is None:
        return default
    return check_int(raw, name, minimum=minimum, maximum=maximum)


def check_int(raw: str, name: str, *, minimum: int = 0, maximum: int | None = None) -> int:
    text = raw.strip()
    if not text.isdigit() or not text.isascii():
        bound = f" from {minimum} to {maximum}" if maximum is not None else f" >= {minimum}"
        raise invalid_parameter(name, f"{name} must be a whole number{bound}, got {raw!r}")
    value = int(text)
    if value < minimum or (maximum is not None and value > maximum):
        bound = f"from {minimum} to {maximum}" if maximum is not None else f">= {minimum}"
        raise invalid_parameter(name, f"{name} must be {bound}, got {value}")
    return value


def parse_time_param(args: Mapping[str, str], name: str) -> int | None:
    """Read an ISO 8601 time as epoch milliseconds (no offset means UTC).

    Raises:
        ApiError: 400 ``invalid_parameter`` naming ``name``.
    """
    raw = args.get(name)
    if raw is None:
        return None
    try:
        return parse_time(raw)
    except ValueError:
        raise invalid_parameter(
            name, f"{name} must be an ISO 8601 time such as 2026-02-03T10:30:00.000Z, got {raw!r}"
        ) from None
