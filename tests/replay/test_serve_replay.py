"""Recordings replayed and recorded through a real server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import trio
from click.testing import CliRunner
from fhir.resources.R4B.observation import Observation

from biomock.cli import main
from biomock.formats import FORMATS
from biomock.replay import open_replay
from biomock.sample import format_time, parse_time
from tests.replay.helpers import FIXTURES, read_stream
from tests.serving import CONFIGURED, serving

T0 = parse_time("2026-01-01T00:00:00Z")


def expected_items(path: Path) -> list[dict[str, object]]:
    """What a replay of ``path`` publishes: its samples in order, without ids."""
    source = open_replay(path, loop=False, shift_to_now=False, now_ms=0)
    out = []
    for sample in source.advance(2**62):
        item: dict[str, object] = {
            "value": sample.value,
            "timestamp": format_time(sample.time_ms),
            "type": sample.type,
            "subject": sample.subject,
        }
        out.append(item)
    return out


@pytest.mark.parametrize("name", ["export.xml", "recording.csv", "recording.jsonl"])
async def test_a_recording_replays_through_the_server_and_stays_queryable(name: str) -> None:
    expected = expected_items(FIXTURES / name)
    with trio.fail_after(20):
        async with (
            serving(source=CONFIGURED, replay=FIXTURES / name, speed=100000) as running,
            running.client() as client,
        ):
            params = {"history": str(len(expected))}
            streamed = await read_stream(client, len(expected), params=params)
            assert [{k: item[k] for k in expected[0]} for _, item in streamed] == expected
            ids = [int(event_id) for event_id, _ in streamed]
            assert ids == sorted(set(ids))
            assert ids == [item["id"] for _, item in streamed]
            assert running.app.state.source.finished
            # The replay has ended; the server still serves, history and stream alike.
            assert (await client.get("/healthz")).status_code == 200
            assert (await client.get("/readyz")).status_code == 200
            items = (await client.get("/api/history")).json()["items"]
            assert items == [item for _, item in streamed]
            again = await read_stream(client, len(expected), params=params)
            assert again == streamed


async def test_resuming_during_a_replay_sees_no_gap_and_no_duplicate(tmp_path: Path) -> None:
    total, read = 5000, 300
    path = tmp_path / "long.jsonl"
    path.write_text(
        "".join(
            json.dumps(
                {
                    "value": k,
                    "timestamp": format_time(T0 + k * 1000),
                    "type": "heart_rate",
                    "subject": ("ann", "bob")[k % 2],
                }
            )
            + "\n"
            for k in range(total)
        )
    )
    with trio.fail_after(30):
        async with (
            serving(source=CONFIGURED, replay=path, speed=100) as running,
            running.client() as client,
        ):
            # The simulated clock starts at the recording's first sample.
            now = parse_time((await client.get("/api/clock")).json()["now"])
            assert T0 <= now < T0 + 60_000
            # history: whatever was published before this client connected comes first.
            first = await read_stream(client, 100, params={"history": str(total)})
            await trio.sleep(0.3)  # samples are published while the client is away
            published = running.app.state.hub.counters.published
            assert 100 < published < total, "resume from the buffer, while the replay runs"
            headers = {"Last-Event-ID": first[-1][0]}
            rest = await read_stream(client, read - 100, headers=headers)
    values = [sample["value"] for _, sample in first + rest]
    assert values == list(range(read))


async def test_a_record_file_holds_every_published_sample(tmp_path: Path) -> None:
    record = tmp_path / "rec.jsonl"
    source = FIXTURES / "recording.jsonl"
    count = len(expected_items(source))
    with trio.fail_after(20):
        async with (
            serving(source=CONFIGURED, replay=source, speed=100000, record=record) as running,
            running.client() as client,
        ):
            params = {"history": str(count)}
            items = [item for _, item in await read_stream(client, count, params=params)]
    # Flushed on shutdown: the file is exactly what was published, ids included...
    assert [json.loads(line) for line in record.read_text().splitlines()] == items
    # ...and replays to the same samples.
    assert expected_items(record) == expected_items(source)


def test_serve_refuses_a_bad_recording_with_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "export.xml"
    bad.write_text('<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY a "b">]>\n<HealthData/>\n')
    result = CliRunner().invoke(main, ["serve", "--port", "0", "--replay", str(bad)])
    assert result.exit_code == 2
    assert result.stderr == (
        f"biomock: {bad}: refused: the file declares the entity 'a'; "
        "entity declarations are not accepted\n"
    )


async def test_a_replayed_export_is_served_in_every_format() -> None:
    path = FIXTURES / "export.xml"
    samples = open_replay(path, loop=False, shift_to_now=False, now_ms=0).advance(2**62)
    with trio.fail_after(20):
        async with (
            serving(source=CONFIGURED, replay=path, speed=100000) as running,
            running.client() as client,
        ):
            await read_stream(client, len(samples), params={"history": str(len(samples))})
            for fmt, encode in FORMATS.items():
                response = await client.get("/api/history", params={"format": fmt})
                assert response.status_code == 200, response.text
                items = response.json()["items"]
                assert len(items) == sum(encode(1, s) is not None for s in samples)
                if fmt == "fhir":
                    for item in items:
                        Observation.model_validate(item)
            # One blood pressure reading is one FHIR Observation with both components.
            fhir = (await client.get("/api/history", params={"format": "fhir"})).json()["items"]
            panels = [o for o in fhir if o["code"]["coding"][0]["code"] == "85354-9"]
            assert len(panels) == 2
            assert all(len(panel["component"]) == 2 for panel in panels)
