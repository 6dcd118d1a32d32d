"""Draw one simulated day to docs/img/day.png: heart rate, steps, SpO2, sleep stages, glucose.

Run ``python docs/plot_day.py`` from the repository root (matplotlib is in the ``dev``
extra). The day is the same on every run: seed 5, subject ``default``, Tuesday
2026-01-06 (UTC), which has an evening run.
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

SEED = 5
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


def simulate() -> dict[str, list[Sample]]:
    """One day of samples by type."""
    sim = Simulator(START, seed=SEED, subjects=["default"])
    by_type: dict[str, list[Sample]] = defaultdict(list)
    for sample in sim.advance(START + DAY_MS):
        by_type[sample.type].append(sample)
    return by_type


def draw(by_type: dict[str, list[Sample]], out: Path) -> None:
    """Five stacked panels sharing the time axis."""
    fig, axes = plt.subplots(
        5, 1, figsize=(12, 10), sharex=True, gridspec_kw={"height_ratios": [3, 1.6, 1.4, 1.4, 1.8]}
    )
    hr_ax, steps_ax, spo2_ax, sleep_ax, glucose_ax = axes

    heart = by_type["heart_rate"]
    hr_ax.plot([_when(s.time_ms) for s in heart], [s.value for s in heart], lw=0.4, color="#c0392b")
    for workout in by_type["workout"]:
        if workout.event == "end" and workout.start_ms is not None:
            hr_ax.axvspan(
                _when(workout.start_ms), _when(workout.time_ms), color="#f5b7b1", alpha=0.5
            )
            hr_ax.text(_when(workout.start_ms), 175, " run", va="top", fontsize=9, color="#922b21")
    hr_ax.set_ylabel("heart rate\n(count/min)")
    hr_ax.set_ylim(35, 180)

    steps = by_type["steps"]
    steps_ax.bar(
        [_when(s.start_ms or s.time_ms) for s in steps],
        [s.value for s in steps],
        width=1 / 1440,
        align="edge",
        color="#27ae60",
    )
    steps_ax.set_ylabel("steps\n(per min)")

    spo2 = by_type["oxygen_saturation"]
    spo2_ax.plot(
        [_when(s.time_ms) for s in spo2], [s.value for s in spo2], ".", ms=2, color="#8e44ad"
    )
    spo2_ax.set_ylabel("SpO2 (%)")
    spo2_ax.set_ylim(90, 100.5)

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
    fig.suptitle(f"One simulated day: biomock generate --seed {SEED} --start 2026-01-06T00:00:00Z")
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    draw(simulate(), OUT)
    print(f"wrote {OUT}")
