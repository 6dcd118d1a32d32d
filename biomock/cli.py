"""The ``biomock`` command line. Logging is configured here and nowhere else."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
import trio

from biomock.auth.cli import token_command
from biomock.config import Config, ConfigError, load_config
from biomock.convert import convert_command
from biomock.generate import generate_command
from biomock.logs import configure_logging
from biomock.replay import ReplayError
from biomock.session_cli import session_command


def _fail(message: str) -> None:
    click.echo(f"biomock: {message}", err=True)
    sys.exit(2)


@click.group()
@click.version_option(package_name="biomock")
def main() -> None:
    """biomock: a streaming mock health-data service."""


@main.command()
@click.option("--host", default=None, help="Address to listen on [127.0.0.1].")
@click.option("--port", default=None, type=int, help="TCP port [8000].")
@click.option("--reload", is_flag=True, default=None, help="Restart when the code changes.")
@click.option(
    "--static-dir",
    default=None,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder served at / [streaming-frontend/dist when built].",
)
@click.option("--seed", default=None, type=int, help="Random seed.")
@click.option("--subjects", default=None, help="Number of simulated people, or their names.")
@click.option("--speed", default=None, type=float, help="Simulated seconds per real second.")
@click.option(
    "--replay",
    default=None,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Stream this recording instead of the simulator (JSONL, CSV, export.xml/.zip).",
)
@click.option("--loop", "replay_loop", is_flag=True, default=None, help="Replay: start over.")
@click.option(
    "--shift-to-now",
    "replay_shift_to_now",
    is_flag=True,
    default=None,
    help="Replay: move the recording's times so that it starts now.",
)
@click.option(
    "--record",
    default=None,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Append every published sample to this JSONL file.",
)
@click.option(
    "--record-max-bytes", default=None, type=int, help="Rotate the record file past this size."
)
@click.option(
    "--config",
    "config_file",
    default=None,
    type=click.Path(dir_okay=False, path_type=Path),
    help="A TOML file of settings (flags and BIOMOCK_* variables override it).",
)
def serve(config_file: Path | None, **flags: Any) -> None:
    """Serve the stream, the API and the dashboard.

    Every setting can also be given as an environment variable BIOMOCK_<NAME>
    (e.g. BIOMOCK_BUFFER_SIZE) or in the TOML file.
    """
    try:
        config = load_config(flags, toml_path=config_file)
    except ConfigError as error:
        _fail(str(error))
        return
    configure_logging(config.log_format, config.log_level.upper())
    if config.reload:
        from biomock.reload import run_with_reload

        sys.exit(run_with_reload(sys.argv))
    sys.exit(run_server(config))


def run_server(config: Config) -> int:
    """Serve until SIGTERM or SIGINT; returns the exit status."""
    from biomock.app import create_app
    from biomock.server import PortInUse, open_listen_socket, serve, tune_gc

    try:
        sock = open_listen_socket(
            config.host, config.port, user_timeout_s=config.slow_client_timeout_s
        )
    except PortInUse:
        _fail(
            f"port {config.port} is already in use on {config.host}; "
            "pick another with --port or BIOMOCK_PORT"
        )
        return 2
    except OSError as error:
        _fail(f"cannot listen on {config.host}:{config.port}: {error.strerror}")
        return 2
    try:
        app = create_app(config)
    except (ReplayError, ConfigError) as error:
        sock.close()
        _fail(str(error))
        return 2
    if config.workers > 1:
        from biomock.workers import run_workers

        return run_workers(config, sock)  # each worker builds its own app after the fork
    tune_gc()
    trio.run(serve, app, config, sock)
    return 0


main.add_command(generate_command)
main.add_command(convert_command)
main.add_command(token_command)
main.add_command(session_command)
