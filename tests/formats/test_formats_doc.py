"""docs/formats.md shows only what biomock can send."""

from __future__ import annotations

import re
from pathlib import Path

from biomock.sim import SCENARIOS

DOC = Path(__file__).resolve().parents[2] / "docs" / "formats.md"


def test_examples_name_only_scenarios_that_exist() -> None:
    named = re.findall(r'"scenario":\s*"([^"]+)"', DOC.read_text())
    assert named, "the examples show a scenario"
    assert set(named) <= set(SCENARIOS)


def test_the_watch_fixture_command_is_the_one_generate_takes() -> None:
    assert "--scenario afib --cadence watch --imperfections realistic" in DOC.read_text()
