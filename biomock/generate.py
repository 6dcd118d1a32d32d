"""``biomock generate``: write simulated samples to a file without a server.

The output is reproducible: the same seed, subjects, duration, start, scenario, cadences and
imperfections give the same bytes (native JSON lines, ids from 1, in publication order).
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import IO, TypeVar

import click

from biomock.formats import encode_native
from biomock.sample import parse_time
from biomock.sim import (
    CADENCES,
    DEFAULT_SCENARIO,
    IMPERFECTIONS,
    SCENARIOS,
    Simulator,
    parse_cadences,
    parse_devices,
    parse_time_zones,
    subject_names,
)

DEFAULT_START = "2026-01-01T00:00:00Z"
MAX_DURATION_MS = 366 * 86_400_000
_CHUNK_MS = 3_600_000
_UNITS_MS = {"s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}
_DURATION = re.compile(r"(\d+)([smhdw])")
T = TypeVar("T")


def parse_duration(text: str) -> int:
    """Parse ``90s``, ``30m``, ``12h``, ``7d``, ``2w`` or sums like ``1d12h`` into ms.

    Raises:
        ValueError: if ``text`` is not such a duration, is zero or is longer than 366 days.
    """
    compact = text.strip().lower()
    parts = _DURATION.findall(compact)
    if not compact or "".join(number + unit for number, unit in parts) != compact:
        raise ValueError(
            f"{text!r} is not a duration; use a number and a unit s, m, h, d or w, "
            "for example 90s, 30m, 12h, 7d or 1d12h"
        )
    total = sum(int(number) * _UNITS_MS[unit] for number, unit in parts)
    if total <= 0:
        raise ValueError(f"{text!r}: the duration must be longer than zero")
    if total > MAX_DURATION_MS:
        raise ValueError(f"{text!r}: the duration can be at most 366 days")
    return total


class _Parsed(click.ParamType[T]):
    """A click parameter read by one of biomock's parsers; their ValueError is the message."""

    def __init__(self, name: str, parse: Callable[[str], T], hint: str | None = None) -> None:
        self.name = name
        self._parse = parse
        self._hint = hint

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> T:
        if not isinstance(value, str):
            return value  # type: ignore[return-value]  # a default that is already parsed
        try:
            return self._parse(value)
        except ValueError as error:
            message = str(error) if self._hint is None else f"{value!r} is not {self._hint}"
            self.fail(message, param, ctx)


def _is_terminal(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def write_samples(
    out: IO[str],
    *,
    seed: int,
    subjects: list[str],
    start_ms: int,
    duration_ms: int,
    scenario: str = DEFAULT_SCENARIO,
    cadence: str = "dense",
    cadences: Mapping[str, float] | None = None,
    imperfections: str = "off",
    devices: Mapping[str, Sequence[str]] | None = None,
    time_zones: Mapping[str, str] | None = None,
) -> int:
    """Simulate ``duration_ms`` from ``start_ms`` and write native JSON lines; return the count.

    Every subject is in ``scenario`` from the start.
    """
    simulator = Simulator(
        start_ms,
        seed=seed,
        subjects=subjects,
        cadences=cadences,
        cadence=cadence,
        imperfections=imperfections,
        devices=devices,
        time_zones=time_zones,
    )
    for name in subjects:
        simulator.set_scenario(name, scenario)
    end_ms = start_ms + duration_ms
    dumps = json.JSONEncoder(separators=(",", ":")).encode
    written = 0
    hidden = not _is_terminal(sys.stderr)
    with click.progressbar(
        length=duration_ms, label="simulating", file=sys.stderr, hidden=hidden
    ) as bar:
        t = start_ms
        while t < end_ms:
            until = min(end_ms, t + _CHUNK_MS)
            lines = []
            for sample in simulator.advance(until):
                written += 1
                lines.append(dumps(encode_native(written, sample)))
            if lines:
                out.write("\n".join(lines))
                out.write("\n")
            bar.update(until - t)
            t = until
    return written


@click.command("generate")
@click.option("--seed", type=int, default=0, show_default=True, help="Simulation seed.")
@click.option(
    "--subjects",
    type=_Parsed("subjects", subject_names),
    default="1",
    show_default=True,
    help="How many people (the first is 'default'), or their names separated by commas.",
)
@click.option(
    "--duration",
    type=_Parsed("duration", parse_duration),
    default="1d",
    show_default=True,
    help="Simulated time to cover: 90s, 30m, 12h, 7d, 2w or sums like 1d12h.",
)
@click.option(
    "--start",
    type=_Parsed("time", parse_time, f"an ISO 8601 time such as {DEFAULT_START}"),
    default=DEFAULT_START,
    show_default=True,
    help="Simulated start time (ISO 8601; no offset means UTC).",
)
@click.option(
    "--scenario",
    type=click.Choice(list(SCENARIOS)),
    default=DEFAULT_SCENARIO,
    show_default=True,
    help="The scenario every subject is in from the start.",
)
@click.option(
    "--cadence",
    type=click.Choice(CADENCES),
    default="dense",
    show_default=True,
    help="dense: every type on a fixed grid, heart rate every second; watch: when a real"
    " Apple Watch takes its readings.",
)
@click.option(
    "--cadences",
    type=_Parsed("cadences", parse_cadences),
    default="",
    help="dense only: seconds of simulated time between samples by type,"
    " e.g. heart_rate=5,steps=60.",
)
@click.option(
    "--imperfections",
    type=click.Choice(IMPERFECTIONS),
    default="off",
    show_default=True,
    help="realistic: seeded gaps, timestamp jitter, late batches, motion artefacts.",
)
@click.option(
    "--devices",
    type=_Parsed("devices", parse_devices),
    default="",
    help="Devices by subject, e.g. default=watch+cgm;bob=phone"
    " (default: watch, phone, cgm, bp_cuff).",
)
@click.option(
    "--time-zones",
    type=_Parsed("time zones", parse_time_zones),
    default="",
    help="IANA time zones by subject, e.g. default=America/New_York (default: seeded).",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["jsonl"]),
    default="jsonl",
    show_default=True,
    help="Output format: native samples as JSON lines.",
)
@click.option(
    "-o",
    "--output",
    type=click.File("w", encoding="utf-8", lazy=True),
    default="-",
    help="File to write (default: standard output).",
)
def generate_command(
    seed: int,
    subjects: list[str],
    duration: int,
    start: int,
    scenario: str,
    cadence: str,
    cadences: dict[str, float],
    imperfections: str,
    devices: dict[str, tuple[str, ...]],
    time_zones: dict[str, str],
    output_format: str,
    output: IO[str],
) -> None:
    """Write simulated samples without a server; the same inputs give the same bytes."""
    del output_format  # jsonl is the only format
    try:
        count = write_samples(
            output,
            seed=seed,
            subjects=subjects,
            start_ms=start,
            duration_ms=duration,
            scenario=scenario,
            cadence=cadence,
            cadences=cadences,
            imperfections=imperfections,
            devices=devices,
            time_zones=time_zones,
        )
    except ValueError as error:  # a device or zone for a subject that is not simulated
        raise click.UsageError(str(error)) from None
    if output is not sys.stdout and getattr(output, "name", "-") != "-":
        click.echo(f"wrote {count} samples to {output.name}", err=True)
