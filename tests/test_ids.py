"""Ids keep increasing across restarts, even when the wall clock steps back."""

from __future__ import annotations

import json
from pathlib import Path

import trio

from biomock.app import create_app
from biomock.config import Config
from tests.serving import ID_BASE, WALL_MS, serving


async def test_ids_stay_above_the_last_run_after_the_clock_steps_back(
    tmp_path: Path, autojump_clock: trio.abc.Clock
) -> None:
    state = tmp_path / "biomock.state"
    with trio.fail_after(30):
        async with serving(state_file=state) as server:
            await trio.sleep(3.5)
            before = server.app.state.hub.buffer.newest_id
        assert state.read_text() == f"{before}\n"
        # The wall clock is a minute behind the first run's boot now.
        async with serving(state_file=state, wall_ms=WALL_MS - 60_000) as server:
            await trio.sleep(1.5)
            after = server.app.state.hub.buffer.oldest_id
    assert before is not None and after is not None
    assert after > before


def test_ids_start_above_the_newest_recorded_one(tmp_path: Path) -> None:
    record = tmp_path / "recording.jsonl"
    newest = ID_BASE + 5_000_000  # a run that published far faster than 1000 samples/s
    lines = [{"id": newest - 1, "type": "heart_rate"}, {"id": newest, "type": "heart_rate"}]
    record.write_text("".join(json.dumps(line) + "\n" for line in lines) + '{"id": 12, "ty')
    app = create_app(Config(seed=1, record=record), wall_ms=WALL_MS)
    assert app.state.hub.next_id == newest + 1
    app = create_app(Config(seed=1), wall_ms=WALL_MS)
    assert app.state.hub.next_id == ID_BASE + 1
