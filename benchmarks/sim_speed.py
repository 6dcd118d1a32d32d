"""How fast the simulator runs: one subject's day, and 100 subjects in real time.

Run ``python benchmarks/sim_speed.py`` (from the repository root). It prints the figures
and writes them into docs/performance.md between ``<!-- sim:begin -->`` and
``<!-- sim:end -->`` (other benchmarks own other sections of that file).

Targets:
    - one subject, every type at its default cadence: at least one simulated day per 2 s of
      CPU, in the ``dense`` profile and in ``watch`` with realistic imperfections;
    - 100 subjects advanced tick by tick in real time (1 s ticks, as the server's generator
      does): under 10 % of one core.
"""

from __future__ import annotations

import os
import platform
import statistics
import time
from pathlib import Path

import click

from biomock.sample import parse_time
from biomock.sim import Simulator, subject_names

START = parse_time("2026-01-01T00:00:00Z")
DAY_MS = 86_400_000
DAY_TARGET_S = 2.0
REALTIME_TARGET = 0.10
BEGIN, END = "<!-- sim:begin -->", "<!-- sim:end -->"
DOC = Path(__file__).resolve().parent.parent / "docs" / "performance.md"


def one_subject_day(
    repeats: int, cadence: str = "dense", imperfections: str = "off"
) -> tuple[float, int]:
    """Median CPU seconds to simulate one subject's day, and the samples in that day."""
    times = []
    count = 0
    for i in range(repeats):
        sim = Simulator(
            START, seed=i, subjects=["default"], cadence=cadence, imperfections=imperfections
        )
        began = time.process_time()
        count = 0
        for hour in range(1, 25):
            count += len(sim.advance(START + hour * 3_600_000))
        times.append(time.process_time() - began)
    return statistics.median(times), count


def hundred_subjects_realtime(repeats: int, seconds: int) -> float:
    """Median CPU fraction of one core to advance 100 subjects by 1 s ticks in real time."""
    fractions = []
    for i in range(repeats):
        noon = START + DAY_MS // 2  # people are up and about
        sim = Simulator(noon, seed=i, subjects=subject_names("100"))
        sim.advance(noon)
        began = time.process_time()
        for tick in range(1, seconds + 1):
            sim.advance(noon + tick * 1000)
        fractions.append((time.process_time() - began) / seconds)
    return statistics.median(fractions)


def write_section(text: str) -> None:
    """Replace (or add) the simulator's section of docs/performance.md."""
    section = f"{BEGIN}\n{text.rstrip()}\n{END}"
    if DOC.exists():
        current = DOC.read_text(encoding="utf-8")
    else:
        current = "# Performance\n\nFigures measured by the scripts in `benchmarks/`.\n"
    if BEGIN in current and END in current:
        head, rest = current.split(BEGIN, 1)
        tail = rest.split(END, 1)[1]
        updated = head + section + tail
    else:
        updated = current.rstrip() + "\n\n" + section + "\n"
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text(updated, encoding="utf-8")


@click.command()
@click.option("--repeats", default=5, show_default=True, help="Runs of each measurement.")
@click.option(
    "--seconds", default=120, show_default=True, help="Simulated seconds per 100-subject run."
)
@click.option("--write/--no-write", default=True, help="Update docs/performance.md.")
def main(repeats: int, seconds: int, write: bool) -> None:
    """Measure the simulator against its speed targets."""
    day_s, samples = one_subject_day(repeats)
    real_s, real_samples = one_subject_day(repeats, "dense", "realistic")
    watch_s, watch_samples = one_subject_day(repeats, "watch", "realistic")
    fraction = hundred_subjects_realtime(repeats, seconds)
    days_per_target = DAY_TARGET_S / day_s
    text = "\n".join(
        [
            "## Simulator (`benchmarks/sim_speed.py`)",
            "",
            f"Measured on {platform.python_implementation()} {platform.python_version()},"
            f" {platform.machine()}, {time.strftime('%Y-%m-%d', time.gmtime())}"
            f" (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores);"
            f" medians of {repeats} runs, CPU time (`time.process_time`).",
            "",
            "| measurement | result | target | vs target |",
            "| --- | --- | --- | --- |",
            f"| one subject, all types at default cadences ({samples} samples/day)"
            f" | {day_s:.2f} s CPU per simulated day"
            f" | <= {DAY_TARGET_S:.0f} s per day | {days_per_target:.1f}x faster |",
            f"| one subject, dense, realistic imperfections ({real_samples} samples/day)"
            f" | {real_s:.2f} s CPU per simulated day"
            f" | <= {DAY_TARGET_S:.0f} s per day | {DAY_TARGET_S / real_s:.1f}x faster |",
            f"| one subject, watch profile, realistic imperfections ({watch_samples}"
            f" samples/day) | {watch_s:.2f} s CPU per simulated day"
            f" | <= {DAY_TARGET_S:.0f} s per day | {DAY_TARGET_S / watch_s:.1f}x faster |",
            f"| 100 subjects in real time, 1 s ticks ({seconds} s simulated)"
            f" | {fraction * 100:.2f} % of one core"
            f" | < {REALTIME_TARGET * 100:.0f} % | {REALTIME_TARGET / fraction:.0f}x below |",
        ]
    )
    click.echo(text)
    if write:
        write_section(text)
        click.echo(f"updated {DOC}")


if __name__ == "__main__":
    main()
