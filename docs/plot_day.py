"""Draw one simulated day to docs/img/day.png, twice: the ``dense`` profile beside ``watch``.

Heart rate, steps, SpO2, sleep stages and glucose; left as the original design sends them
(every type on a fixed grid, heart rate every second), right as a real watch delivers them
(``cadence = "watch"`` with ``imperfections = "realistic"``: sparse heart rate, a charging
gap, late batches, jitter). Run ``python docs/plot_day.py`` from the repository root
(matplotlib is in the ``dev`` extra). The day is the same on every run: seed 8, subject
``default`` living in Europe/London (UTC in January), Tuesday 2026-01-06, which has an
evening run.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.dates as mdates
import matplotlib.pyplot as plt

from biomock.sample import Sample, parse_time
from biomock.sim import Simulator

SEED = 8
ZONE = "Europe/London"
START = parse_time("2026-01-06T00:00:00Z")
DAY_MS = 86_400_000
OUT = Path(__file__).resolve().parent / "img" / "day.png"
STAGE_LEVEL = {"awake": 3, "asleepREM": 2, "asleepCore": 1, "asleepDeep": 0}
STAGE_COLOUR = {
    "awake": "#f2a541",
    "asleepREM": "#5bc0eb",
    "asleepCore": "#3d7ea6",
    "asleepDeep": "#1b3b6f",
}


def _when(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


def simulate(cadence: str, imperfections: str) -> dict[str, list[Sample]]:
    """One day of samples by type (the watch's own, for the motion types)."""
    sim = Simulator(
        START,
        seed=SEED,
        subjects=["default"],
        cadence=cadence,
        imperfections=imperfections,
        time_zones={"default": ZONE},
    )
    by_type: dict[str, list[Sample]] = defaultdict(list)
    for sample in sim.advance(START + DAY_MS):
        if sample.source is None or sample.source.kind != "phone":
            by_type[sample.type].append(sample)
    return by_type


def draw(dense: dict[str, list[Sample]], watch: dict[str, list[Sample]], out: Path) -> None:
    """Two columns of five stacked panels sharing the time axis."""
    fig, axes = plt.subplots(
        5,
        2,
        figsize=(18, 10),
        sharex=True,
        sharey="row",
        gridspec_kw={"height_ratios": [3, 1.6, 1.4, 1.4, 1.8]},
    )
    _column(axes[:, 0], dense, "dense: heart rate every second, every type on a grid", "-")
    _column(
        axes[:, 1],
        watch,
        "watch, realistic imperfections: as an Apple Watch delivers it",
        ".-",
    )
    fig.suptitle(
        f"One simulated day: biomock generate --seed {SEED} --start 2026-01-06T00:00:00Z"
        f" --time-zones default={ZONE} [--cadence watch --imperfections realistic]"
    )
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=100)
    plt.close(fig)


def _column(axes: list[plt.Axes], by_type: dict[str, list[Sample]], title: str, hr: str) -> None:
    hr_ax, steps_ax, spo2_ax, sleep_ax, glucose_ax = axes
    hr_ax.set_title(title, fontsize=11)
    heart = by_type["heart_rate"]
    hr_ax.plot(
        [_when(s.time_ms) for s in heart],
        [s.value for s in heart],
        hr,
        lw=0.4,
        ms=2,
        color="#c0392b",
    )
    for workout in by_type["workout"]:
        if workout.event == "end" and workout.start_ms is not None:
            hr_ax.axvspan(
                _when(workout.start_ms), _when(workout.time_ms), color="#f5b7b1", alpha=0.5
            )
            hr_ax.text(_when(workout.start_ms), 175, " run", va="top", fontsize=9, color="#922b21")
    hr_ax.set_ylabel("heart rate\n(count/min)")
    hr_ax.set_ylim(35, 180)

    steps = [s for s in by_type["steps"] if s.start_ms is not None]
    steps_ax.bar(
        [_when(s.start_ms or s.time_ms) for s in steps],
        [float(s.value) * 60_000 / (s.time_ms - (s.start_ms or 0)) for s in steps],
        width=[(s.time_ms - (s.start_ms or 0)) / DAY_MS for s in steps],
        align="edge",
        color="#27ae60",
    )
    steps_ax.set_ylabel("steps\n(per min)")

    spo2 = by_type["oxygen_saturation"]
    spo2_ax.plot(
        [_when(s.time_ms) for s in spo2], [s.value for s in spo2], ".", ms=2, color="#8e44ad"
    )
    spo2_ax.set_ylabel("SpO2 (%)")
    spo2_ax.set_ylim(84, 100.5)

    for stage in by_type["sleep_analysis"]:
        if stage.value in STAGE_LEVEL and stage.start_ms is not None:
            level = STAGE_LEVEL[str(stage.value)]
            sleep_ax.broken_barh(
                [
                    (
                        mdates.date2num(_when(stage.start_ms)),
                        (stage.time_ms - stage.start_ms) / DAY_MS,
                    )
                ],
                (level - 0.4, 0.8),
                color=STAGE_COLOUR[str(stage.value)],
            )
    sleep_ax.set_yticks(list(STAGE_LEVEL.values()), ["awake", "REM", "core", "deep"])
    sleep_ax.set_ylim(-0.6, 3.6)
    sleep_ax.set_ylabel("sleep")

    glucose = by_type["blood_glucose"]
    glucose_ax.plot(
        [_when(s.time_ms) for s in glucose], [s.value for s in glucose], color="#d35400"
    )
    glucose_ax.axhspan(70, 140, color="#fdebd0", alpha=0.6, lw=0)
    glucose_ax.set_ylabel("glucose\n(mg/dL)")
    glucose_ax.set_ylim(55, 150)

    for ax in axes:
        ax.grid(True, axis="x", alpha=0.3)
        ax.spines[["top", "right"]].set_visible(False)
    glucose_ax.xaxis.set_major_locator(mdates.HourLocator(interval=2))
    glucose_ax.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M", tz=UTC))
    glucose_ax.set_xlim(_when(START), _when(START + DAY_MS))
    glucose_ax.set_xlabel("2026-01-06 (UTC)")


if __name__ == "__main__":
    draw(simulate("dense", "off"), simulate("watch", "realistic"), OUT)
    print(f"wrote {OUT}")
