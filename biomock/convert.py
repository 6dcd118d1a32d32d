"""``biomock convert``: turn any replayable file into biomock JSONL, for inspection."""

from __future__ import annotations

import json
from pathlib import Path

import click

from biomock.catalogue import TYPES
from biomock.formats import encode_native
from biomock.replay import ReplayError
from biomock.replay.source import load
from biomock.replay.store import from_row


@click.command("convert")
@click.argument("source", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The JSONL file to write (replaced if it exists).",
)
def convert_command(source: Path, output: Path) -> None:
    """Convert SOURCE (biomock JSONL, CSV, Apple Health export.xml or export.zip) to JSONL.

    Samples are written in time order, in the catalogue's units, with ids from 1,
    exactly as `biomock serve --replay` would stream them. A summary goes to stderr.
    """
    try:
        store, unknown = load(source)
    except ReplayError as error:
        raise click.ClickException(str(error)) from None
    try:
        with output.open("w", encoding="utf-8") as out:
            for number, row in enumerate(store.rows(), start=1):
                body = encode_native(number, from_row(row))
                out.write(json.dumps(body, separators=(",", ":")) + "\n")
    except OSError as error:
        raise click.ClickException(f"{output}: cannot write: {error.strerror}") from None
    finally:
        store.close()
    click.echo(f"converted {store.count} samples from {source} to {output}", err=True)
    for name in TYPES:
        if store.type_counts[name]:
            click.echo(f"  {name}: {store.type_counts[name]}", err=True)
    if unknown:
        click.echo(f"skipped {unknown.total()} records of unknown types:", err=True)
        for kind, count in unknown.most_common():
            click.echo(f"  {kind or '(no type)'}: {count}", err=True)
