"""Settings: flags, BIOMOCK_* variables and TOML, validated; clear one-line errors."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from click.testing import CliRunner

from biomock.cli import main
from biomock.config import Config, ConfigError, load_config


def test_defaults_match_the_contract() -> None:
    config = load_config({}, environ={})
    assert config.port == 8000
    assert config.buffer_size == 10000
    assert config.heartbeat_s == 15
    assert config.retry_ms == 3000
    assert config.max_subscribers == 10000
    assert config.slow_client_timeout_s == 60
    assert config.cors_origins == ("*",)
    assert config.speed == 1
    assert config.max_body_bytes == 4096
    assert config.allowed_hosts == ()  # loopback names when bound to loopback, else any


def test_precedence_flags_over_env_over_toml(tmp_path: Path) -> None:
    toml = tmp_path / "biomock.toml"
    toml.write_text(
        'port = 7000\nbuffer-size = 50\nheartbeat_s = 2\ncors_origins = ["https://a"]\n'
    )
    config = load_config(
        {"port": 9000, "host": None},
        environ={"BIOMOCK_BUFFER_SIZE": "60", "PATH": "/bin"},
        toml_path=toml,
    )
    assert config.port == 9000
    assert config.buffer_size == 60
    assert config.heartbeat_s == 2
    assert config.cors_origins == ("https://a",)


def test_env_lists_and_booleans() -> None:
    config = load_config(
        {}, environ={"BIOMOCK_CORS_ORIGINS": "https://a, https://b", "BIOMOCK_RELOAD": "true"}
    )
    assert config.cors_origins == ("https://a", "https://b")
    assert config.reload is True
    hosts = load_config({}, environ={"BIOMOCK_ALLOWED_HOSTS": "biomock.test, localhost"})
    assert hosts.allowed_hosts == ("biomock.test", "localhost")


def test_config_is_frozen() -> None:
    config = Config()
    with pytest.raises(ValueError):
        config.port = 1  # type: ignore[misc]


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"BIOMOCK_PORTT": "1"}, "unknown setting BIOMOCK_PORTT"),
        ({"BIOMOCK_PORT": "eighty"}, "invalid setting BIOMOCK_PORT"),
        ({"BIOMOCK_PORT": "70000"}, "invalid setting BIOMOCK_PORT"),
        ({"BIOMOCK_SPEED": "0"}, "invalid setting BIOMOCK_SPEED"),
        ({"BIOMOCK_LOG_LEVEL": "loud"}, "invalid setting BIOMOCK_LOG_LEVEL"),
        ({"BIOMOCK_MAX_BODY_BYTES": "4k"}, "invalid setting BIOMOCK_MAX_BODY_BYTES"),
        ({"BIOMOCK_MAX_BODY_BYTES": "0"}, "invalid setting BIOMOCK_MAX_BODY_BYTES"),
    ],
)
def test_bad_settings_name_the_setting(environ: dict[str, str], expected: str) -> None:
    with pytest.raises(ConfigError, match=expected):
        load_config({}, environ=environ)


def test_unknown_toml_key_is_named(tmp_path: Path) -> None:
    toml = tmp_path / "b.toml"
    toml.write_text("colour = 'red'\n")
    with pytest.raises(ConfigError, match="unknown setting 'colour'"):
        load_config({}, environ={}, toml_path=toml)


def test_cli_bad_setting_exits_2_with_one_line() -> None:
    result = CliRunner().invoke(main, ["serve"], env={"BIOMOCK_MAX_SUBSCRIBERS": "-1"})
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("biomock: invalid setting BIOMOCK_MAX_SUBSCRIBERS")


def test_cli_port_in_use_exits_2_naming_the_port() -> None:
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = taken.getsockname()[1]
    try:
        result = CliRunner().invoke(main, ["serve", "--port", str(port)])
    finally:
        taken.close()
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert f"port {port} is already in use" in lines[0]
    assert "--port" in lines[0]
    assert "Traceback" not in result.output


def test_max_batch_stays_below_the_buffer() -> None:
    assert load_config({}, environ={}).max_batch == 2000
    # left at its default, it shrinks to fit a small buffer...
    assert load_config({}, environ={"BIOMOCK_BUFFER_SIZE": "100"}).max_batch == 50
    # ...set explicitly, one that does not fit is refused, naming the setting
    with pytest.raises(ConfigError, match=r"BIOMOCK_MAX_BATCH.*below buffer_size"):
        load_config({}, environ={"BIOMOCK_MAX_BATCH": "10000"})


def test_several_workers_need_a_bus_and_do_not_share_a_record_file() -> None:
    with pytest.raises(ConfigError, match="BIOMOCK_BUS"):
        load_config(environ={"BIOMOCK_WORKERS": "2"})
    with pytest.raises(ConfigError, match="record file"):
        load_config(
            environ={"BIOMOCK_WORKERS": "2", "BIOMOCK_BUS": "redis://h/0", "BIOMOCK_RECORD": "r"}
        )
    with pytest.raises(ConfigError, match="BIOMOCK_BUS") as refused:
        load_config(environ={"BIOMOCK_BUS": "http://user:s3cret@h/0"})
    assert "s3cret" not in str(refused.value)
    assert load_config(environ={"BIOMOCK_WORKERS": "2", "BIOMOCK_BUS": "redis://h/0"}).workers == 2
