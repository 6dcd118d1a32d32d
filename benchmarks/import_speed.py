"""How fast biomock imports a large Apple Health export, and whether memory stays flat.

Writes an export.xml of the asked size into a temporary folder (removed
afterwards), shaped like a real one (Apple's internal DTD, records grouped by
type, heart rate with metadata, blood pressure as both correlations and loose
records, workouts with statistics, types biomock skips), then imports it the
way ``biomock serve --replay`` does: reads and checks the whole file, sorts
it (spilling to a temporary file), and drains the replay. Each import runs in
a fresh process so that its peak RSS is its own.

    python benchmarks/import_speed.py              # 1 GB, plus 100 MB for comparison
    python benchmarks/import_speed.py --size-mb 5 --no-write   # a quick smoke run
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

DOC = Path(__file__).resolve().parent.parent / "docs" / "performance.md"
BEGIN, END = "<!-- import:begin -->", "<!-- import:end -->"

HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE HealthData [
<!-- HealthKit Export Version: 13 -->
<!ELEMENT HealthData (ExportDate,Me,(Record|Correlation|Workout)*)>
<!ATTLIST HealthData
  locale CDATA #REQUIRED
>
<!ELEMENT ExportDate EMPTY>
<!ATTLIST ExportDate
  value CDATA #REQUIRED
>
<!ELEMENT Me EMPTY>
<!ATTLIST Me
  HKCharacteristicTypeIdentifierDateOfBirth CDATA #REQUIRED
  HKCharacteristicTypeIdentifierBiologicalSex CDATA #REQUIRED
>
<!ELEMENT Record ((MetadataEntry|HeartRateVariabilityMetadataList)*)>
<!ATTLIST Record
  type CDATA #REQUIRED
  unit CDATA #IMPLIED
  value CDATA #IMPLIED
  sourceName CDATA #REQUIRED
  sourceVersion CDATA #IMPLIED
  device CDATA #IMPLIED
  creationDate CDATA #IMPLIED
  startDate CDATA #REQUIRED
  endDate CDATA #REQUIRED
>
<!ELEMENT MetadataEntry EMPTY>
<!ATTLIST MetadataEntry
  key CDATA #REQUIRED
  value CDATA #REQUIRED
>
<!ELEMENT HeartRateVariabilityMetadataList (InstantaneousBeatsPerMinute*)>
<!ELEMENT InstantaneousBeatsPerMinute EMPTY>
<!ATTLIST InstantaneousBeatsPerMinute
  bpm CDATA #REQUIRED
  time CDATA #REQUIRED
>
<!ELEMENT Correlation ((MetadataEntry|Record)*)>
<!ATTLIST Correlation
  type CDATA #REQUIRED
  sourceName CDATA #REQUIRED
  sourceVersion CDATA #IMPLIED
  device CDATA #IMPLIED
  creationDate CDATA #IMPLIED
  startDate CDATA #REQUIRED
  endDate CDATA #REQUIRED
>
<!ELEMENT Workout ((MetadataEntry|WorkoutStatistics)*)>
<!ATTLIST Workout
  workoutActivityType CDATA #REQUIRED
  duration CDATA #IMPLIED
  durationUnit CDATA #IMPLIED
  sourceName CDATA #REQUIRED
  sourceVersion CDATA #IMPLIED
  creationDate CDATA #IMPLIED
  startDate CDATA #REQUIRED
  endDate CDATA #REQUIRED
>
<!ELEMENT WorkoutStatistics EMPTY>
<!ATTLIST WorkoutStatistics
  type CDATA #REQUIRED
  startDate CDATA #REQUIRED
  endDate CDATA #REQUIRED
  sum CDATA #IMPLIED
  unit CDATA #IMPLIED
>
]>
<HealthData locale="en_US">
 <ExportDate value="2024-03-02 10:00:00 -0800"/>
 <Me HKCharacteristicTypeIdentifierDateOfBirth="1985-04-12" \
HKCharacteristicTypeIdentifierBiologicalSex="HKBiologicalSexFemale"/>
"""
# Apple writes the owner's name with a typographic apostrophe (U+2019).
WATCH = (
    'sourceName="Anna\u2019s Apple Watch" sourceVersion="10.3" device="&lt;&lt;HKDevice: '
    "0x2834a1e50&gt;, name:Apple Watch, manufacturer:Apple Inc., model:Watch, "
    'hardware:Watch6,2, software:10.3, creation date:2024-01-10 09:12:44 +0000&gt;"'
)
PHONE = 'sourceName="Anna\u2019s iPhone" sourceVersion="17.3.1"'
TZ = timedelta(hours=-8)
SLEEP = ("InBed", "AsleepCore", "AsleepDeep", "AsleepCore", "AsleepREM", "Awake")


def apple(moment: datetime) -> str:
    return (moment + TZ).strftime("%Y-%m-%d %H:%M:%S -0800")


def record(kind: str, unit: str | None, value: object, start: str, end: str, src: str) -> str:
    unit_attr = f' unit="{unit}"' if unit else ""
    return (
        f' <Record type="HKQuantityTypeIdentifier{kind}" {src}{unit_attr} creationDate="{end}" '
        f'startDate="{start}" endDate="{end}" value="{value}"'
    )


def day_of(kind: str, day: datetime, rng: random.Random) -> str:
    """One day of one record kind, as Apple groups an export by type."""
    out: list[str] = []
    if kind == "HeartRate":
        for k in range(0, 86400, 300):
            t = apple(day + timedelta(seconds=k + rng.randint(0, 200)))
            out.append(
                record("HeartRate", "count/min", rng.randint(55, 110), t, t, WATCH) + ">\n"
                '  <MetadataEntry key="HKMetadataKeyHeartRateMotionContext" value="0"/>\n'
                " </Record>\n"
            )
    elif kind in ("ActiveEnergyBurned", "BasalEnergyBurned"):
        for k in range(0, 86400, 120):
            s, e = apple(day + timedelta(seconds=k)), apple(day + timedelta(seconds=k + 60))
            unit = "Cal" if kind == "ActiveEnergyBurned" else "kcal"
            out.append(record(kind, unit, round(rng.uniform(0.1, 3), 3), s, e, WATCH) + "/>\n")
    elif kind in ("StepCount", "DistanceWalkingRunning"):
        for k in range(6 * 3600, 22 * 3600, 600):
            s, e = apple(day + timedelta(seconds=k)), apple(day + timedelta(seconds=k + 540))
            steps = rng.randint(0, 900)
            value = steps if kind == "StepCount" else round(steps * 0.00075, 5)
            unit = "count" if kind == "StepCount" else "km"
            out.append(record(kind, unit, value, s, e, PHONE) + "/>\n")
    elif kind == "Other":
        for k in range(0, 86400, 3600):
            t = apple(day + timedelta(seconds=k + 30))
            out.append(record("OxygenSaturation", "%", rng.randint(94, 99) / 100, t, t, WATCH))
            out.append("/>\n")
            out.append(record("RespiratoryRate", "count/min", rng.randint(12, 18), t, t, WATCH))
            out.append("/>\n")
        for k in range(0, 86400, 4 * 3600):
            t = apple(day + timedelta(seconds=k + 90))
            out.append(
                record("HeartRateVariabilitySDNN", "ms", round(rng.uniform(20, 80), 2), t, t, WATCH)
                + ">\n  <HeartRateVariabilityMetadataList>\n"
                + "".join(
                    f'   <InstantaneousBeatsPerMinute bpm="{rng.randint(55, 75)}" '
                    f'time="7:{b:02d}:03.41 AM"/>\n'
                    for b in range(8)
                )
                + "  </HeartRateVariabilityMetadataList>\n </Record>\n"
            )
        t = apple(day + timedelta(hours=7, minutes=5))
        glucose = round(rng.uniform(4.5, 6.5), 1)
        out.append(record("BloodGlucose", "mmol&lt;180.1558800000541&gt;/L", glucose, t, t, PHONE))
        out.append("/>\n")
        out.append(record("BodyTemperature", "degF", round(rng.uniform(97.5, 99), 1), t, t, PHONE))
        out.append("/>\n")
    return "".join(out)


def extras_of(day: datetime, rng: random.Random) -> str:
    """A night's sleep, a blood pressure reading and a workout: the rarer elements."""
    out: list[str] = []
    t = day - timedelta(hours=1)
    for stage in SLEEP:
        end = t + timedelta(minutes=rng.randint(20, 90))
        out.append(
            ' <Record type="HKCategoryTypeIdentifierSleepAnalysis" '
            f'{WATCH} creationDate="{apple(end)}" startDate="{apple(t)}" endDate="{apple(end)}" '
            f'value="HKCategoryValueSleepAnalysis{stage}"/>\n'
        )
        t = end
    t_bp = apple(day + timedelta(hours=8))
    sys_v, dia_v = rng.randint(110, 130), rng.randint(70, 85)
    out.append(
        f' <Correlation type="HKCorrelationTypeIdentifierBloodPressure" {PHONE} '
        f'creationDate="{t_bp}" startDate="{t_bp}" endDate="{t_bp}">\n'
        + record("BloodPressureDiastolic", "mmHg", dia_v, t_bp, t_bp, PHONE)
        + "/>\n"
        + record("BloodPressureSystolic", "mmHg", sys_v, t_bp, t_bp, PHONE)
        + "/>\n </Correlation>\n"
    )
    start, end = day + timedelta(hours=18), day + timedelta(hours=18, minutes=42)
    out.append(
        ' <Workout workoutActivityType="HKWorkoutActivityTypeRunning" duration="42" '
        f'durationUnit="min" {WATCH} creationDate="{apple(end)}" startDate="{apple(start)}" '
        f'endDate="{apple(end)}">\n'
        '  <WorkoutStatistics type="HKQuantityTypeIdentifierActiveEnergyBurned" '
        f'startDate="{apple(start)}" endDate="{apple(end)}" sum="402.1" unit="Cal"/>\n'
        " </Workout>\n"
    )
    return "".join(out)


def write_export(path: Path, size_bytes: int, seed: int = 7) -> int:
    """Write an export.xml of about ``size_bytes``; return the number of days it covers."""
    rng = random.Random(seed)
    first = datetime(2021, 1, 1, tzinfo=UTC)
    kinds = ("HeartRate", "ActiveEnergyBurned", "BasalEnergyBurned", "StepCount")
    kinds += ("DistanceWalkingRunning", "Other")
    per_day = sum(len(day_of(k, first, rng).encode()) for k in kinds)
    per_day += len(extras_of(first, rng).encode()) * 2  # loose BP records repeat the reading
    days = max(1, (size_bytes - len(HEAD)) // per_day)
    with path.open("w", encoding="utf-8") as out:
        out.write(HEAD)
        for kind in kinds:  # Apple writes each type's records together
            for d in range(days):
                out.write(day_of(kind, first + timedelta(days=d), rng))
        for d in range(days):
            day = first + timedelta(days=d)
            t = apple(day + timedelta(hours=8))
            out.write(record("BloodPressureSystolic", "mmHg", 120, t, t, PHONE) + "/>\n")
            out.write(extras_of(day, rng))
        out.write("</HealthData>\n")
    return days


def import_once(path: Path) -> dict[str, float]:
    """Run in a child process: import ``path`` as ``serve --replay`` does, then drain it."""
    from biomock.replay import open_replay

    started = time.perf_counter()
    source = open_replay(path, loop=False, shift_to_now=False, now_ms=0)
    loaded = time.perf_counter()
    samples = 0
    until = source.start_ms
    while not source.finished:
        until += 3_600_000
        samples += len(source.advance(until))
    done = time.perf_counter()
    source.close()
    return {
        "samples": samples,
        "load_s": loaded - started,
        "total_s": done - started,
        "cpu_s": time.process_time(),
    }


def measure(size_mb: int, folder: Path) -> dict[str, float]:
    path = folder / "export.xml"
    began = time.perf_counter()
    days = write_export(path, size_mb * 1024 * 1024)
    written = time.perf_counter() - began
    size = path.stat().st_size
    child = subprocess.run(
        [sys.executable, __file__, "--child", str(path)],
        check=True,
        capture_output=True,
        text=True,
    )
    result = json.loads(child.stdout)
    path.unlink()
    result |= {"size_mb": size / 1e6, "days": days, "write_s": written}
    result["mb_per_s"] = result["size_mb"] / result["total_s"]
    return result


def report(results: list[dict[str, float]]) -> str:
    rows = [
        "| export.xml | days | samples | read + check + sort | drained | MB/s | CPU | peak RSS |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in results:
        rows.append(
            f"| {r['size_mb']:.0f} MB | {r['days']:.0f} | {r['samples']:,.0f} | "
            f"{r['load_s']:.1f} s | {r['total_s']:.1f} s | **{r['mb_per_s']:.1f}** | "
            f"{r['cpu_s']:.1f} s | {r['peak_rss_mb']:.0f} MB |"
        )
    when = datetime.now(UTC).strftime("%Y-%m-%d")
    return (
        f"Measured {when} with `python benchmarks/import_speed.py` on the development machine "
        "(2 cores, shared with other work while it ran). MB/s is the file size over the "
        "wall time of the whole import: parse, check, sort with a temporary spill, and "
        "replay every sample; CPU is the import process's CPU time. Peak RSS is the "
        "import process's own: flat as the file grows (target: at least 20 MB/s).\n\n"
        + "\n".join(rows)
    )


def write_doc(text: str) -> None:
    block = f"{BEGIN}\n{text}\n{END}"
    if not DOC.exists():
        DOC.parent.mkdir(parents=True, exist_ok=True)
        DOC.write_text(f"# Performance\n\n## Apple Health import\n\n{block}\n", encoding="utf-8")
        return
    current = DOC.read_text(encoding="utf-8")
    if BEGIN in current and END in current:
        head, rest = current.split(BEGIN, 1)
        updated = head + block + rest.split(END, 1)[1]
    else:
        updated = current.rstrip("\n") + f"\n\n## Apple Health import\n\n{block}\n"
    DOC.write_text(updated, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, action="append", help="default: 100 and 1024")
    parser.add_argument("--no-write", action="store_true", help="do not update the doc")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        result = import_once(args.child)
        result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(result))
        return
    results = []
    with tempfile.TemporaryDirectory(prefix="biomock-import-bench-") as folder:
        for size_mb in args.size_mb or [100, 1024]:
            result = measure(size_mb, Path(folder))
            print(json.dumps(result), flush=True)
            results.append(result)
    text = report(results)
    print(text)
    if not args.no_write:
        write_doc(text)


if __name__ == "__main__":
    main()
