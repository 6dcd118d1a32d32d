"""docs/operations.md cannot drift from the code: its settings and metrics tables are checked."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import trio
from prometheus_client.parser import text_string_to_metric_families

from biomock.app import create_app
from biomock.cli import serve
from biomock.config import Config, env_name

DOC = Path(__file__).resolve().parents[2] / "docs" / "operations.md"


def table(heading: str) -> list[list[str]]:
    """The rows of the first table after ``heading``, cells stripped of backticks."""
    text = DOC.read_text()
    section = text[text.index(heading) :]
    rows = []
    for line in section.splitlines():
        if line.startswith("|"):
            cells = [cell.strip().strip("`") for cell in line.strip("|").split("|")]
            rows.append(cells)
        elif rows:
            break
    return [row for row in rows[2:]]  # header and separator off


def shown(value: Any) -> str:
    """A default as the table writes it."""
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, tuple):
        return ",".join(value)
    return str(value)


def expected_settings_table() -> str:
    """The configuration reference as the code defines it (paste it in on a mismatch)."""
    flags = {
        param.name: param.opts[0] for param in serve.params if param.name in Config.model_fields
    }
    lines = [
        "| setting | environment | flag | default | meaning |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name, field in Config.model_fields.items():
        flag = f"`{flags[name]}`" if name in flags else ""
        lines.append(
            f"| `{name}` | `{env_name(name)}` | {flag} | `{shown(field.default)}` "
            f"| {field.description} |"
        )
    return "\n".join(lines)


def test_the_configuration_reference_lists_every_setting_as_the_code_has_it() -> None:
    text = DOC.read_text()
    start = text.index("| setting | environment |")
    documented = text[start : text.index("\n\n", start)]
    expected = expected_settings_table()
    assert documented == expected, "docs/operations.md's table should read:\n" + expected


async def test_the_metrics_table_lists_every_metric_served(autojump_clock: trio.abc.Clock) -> None:
    with trio.fail_after(20):
        # With a bus, so that its metrics are served too (nothing connects before serving).
        app = create_app(Config(seed=1, bus="redis://127.0.0.1:9/0"))
        async with app.test_app():
            response = await app.test_client().get("/metrics")
            text = (await response.get_data()).decode()
    served = set()
    for family in text_string_to_metric_families(text):
        if family.name.startswith("biomock_"):
            suffix = "_total" if family.type == "counter" else ""
            served.add((family.name + suffix, family.type))
    documented = set()
    for name, kind, _meaning in table("Metrics (all read"):
        if name.startswith("biomock_"):
            documented.add((re.sub(r"\{.*\}", "", name), kind))
    assert documented == served
