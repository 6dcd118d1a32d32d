"""One frozen configuration, from flags, ``BIOMOCK_*`` environment variables and a TOML file.

Precedence, highest first: command-line flags, environment, TOML file, defaults.
Every setting ``name`` is read from the environment as ``BIOMOCK_<NAME>``.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from biomock.bus.url import BUS_SCHEMES, SentinelUrl
from biomock.limits import DEFAULT_MAX_BODY_BYTES, MAX_BUFFER_SIZE, MAX_SPEED
from biomock.sim import parse_cadences, parse_devices, parse_time_zones, subject_names

ENV_PREFIX = "BIOMOCK_"
_NOT_SETTINGS = {"CONFIG"}  # BIOMOCK_CONFIG names the TOML file itself


class ConfigError(Exception):
    """A setting is unknown or invalid; the message is one line naming it."""


class Config(BaseModel):
    """Every setting of a biomock server."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    host: str = Field("127.0.0.1", description="Address to listen on.")
    port: int = Field(8000, ge=0, le=65535, description="TCP port; 0 picks a free one.")
    reload: bool = Field(False, description="Restart when the code changes (development).")
    static_dir: Path | None = Field(
        None, description="Folder served at /; default: streaming-frontend/dist when it exists."
    )
    buffer_size: int = Field(10000, ge=1, le=MAX_BUFFER_SIZE, description="Samples kept in memory.")
    max_batch: int = Field(
        2000,
        ge=1,
        description="Samples published per generator tick at most, below buffer_size; at "
        "higher speeds simulated time lags (GET /api/clock lag_s).",
    )
    heartbeat_s: float = Field(15.0, gt=0, le=3600, description="Keepalive after this silence.")
    retry_ms: int = Field(3000, ge=0, le=3_600_000, description="Client reconnection delay.")
    max_subscribers: int = Field(10000, ge=1, description="Streams served at once; then 503.")
    max_sessions: int = Field(
        100, ge=0, le=10_000, description="Sessions (private simulations) at once; then 503."
    )
    slow_client_timeout_s: float = Field(
        60.0, gt=0, le=3600, description="A client that stops reading is cut after this."
    )
    cors_origins: tuple[str, ...] = Field(
        ("*",), description="Allowed origins, comma-separated; * allows every origin."
    )
    max_body_bytes: int = Field(
        DEFAULT_MAX_BODY_BYTES,
        ge=64,
        le=16 * 1024 * 1024,
        description="Largest request body accepted; a larger one is a 413, refused unread.",
    )
    allowed_hosts: tuple[str, ...] = Field(
        (),
        description="Host header names answered (any port), comma-separated; * allows any. "
        "Default: localhost, 127.0.0.1 and [::1] when listening on a loopback address, "
        "else any. Another Host is a 421 (DNS rebinding).",
    )
    seed: int | None = Field(None, description="Random seed; unset picks one and logs it.")
    subjects: str = Field("1", description="Number of simulated people, or their names.")
    cadences: str = Field(
        "",
        description="Simulated seconds between samples by type, e.g. heart_rate=1,steps=60;"
        " unlisted types use the catalogue's cadence.",
    )
    cadence: Literal["dense", "watch"] = Field(
        "dense",
        description="dense: every type on a fixed grid, heart rate every second; watch: when a"
        " real Apple Watch takes its readings.",
    )
    imperfections: Literal["off", "realistic"] = Field(
        "off",
        description="realistic: seeded gaps (charging, shower, dropouts), timestamp jitter, late"
        " batches as the watch syncs, motion artefacts.",
    )
    devices: str = Field(
        "",
        description="Devices by subject, e.g. alice=watch+cgm;bob=phone; others have a watch,"
        " a phone, a cgm and a bp_cuff.",
    )
    time_zones: str = Field(
        "",
        description="IANA time zones by subject, e.g. default=America/New_York; others get a"
        " seeded one.",
    )
    speed: float = Field(1.0, gt=0, le=MAX_SPEED, description="Simulated seconds per real second.")
    graceful_timeout_s: float = Field(
        10.0,
        ge=0,
        le=600,
        description="On SIGTERM, every stream and request ends within this; stalled "
        "clients are aborted.",
    )
    backlog: int = Field(4096, ge=1, le=65535, description="Listen backlog.")
    fast_path: bool = Field(
        True,
        description="Write stream chunks straight to Hypercorn's socket when it is safe "
        "(HTTP/1.1, no TLS); false keeps every write on the public ASGI path.",
    )
    log_level: str = Field("info", description="debug, info, warning or error.")
    log_format: Literal["text", "json"] = Field(
        "text", description="text for terminals, json for one JSON object per line."
    )
    replay: Path | None = Field(
        None,
        description="Stream this recording instead of the simulator: biomock JSONL, CSV, "
        "or an Apple Health export.xml / export.zip.",
    )
    replay_loop: bool = Field(False, description="Replay: start over after the end.")
    replay_shift_to_now: bool = Field(
        False, description="Replay: move the recording's times so that it starts now."
    )
    record: Path | None = Field(
        None, description="Append every published sample (native JSON lines) to this file."
    )
    record_max_bytes: int = Field(
        100_000_000, ge=0, description="Rotate the record file before it passes this; 0: never."
    )
    record_backups: int = Field(
        5, ge=0, le=1000, description="Rotated record files kept (FILE.1, FILE.2, ...)."
    )
    state_file: Path | None = Field(
        None,
        description="A small file where the newest id is kept at shutdown; ids of the next "
        "run never start below it (nor below the newest id of --record).",
    )

    # Sharing one stream across processes (biomock.bus).
    bus: SecretStr | None = Field(
        None,
        description="Redis URL (redis://, rediss://, unix://, or redis+sentinel://host:26379,"
        "host:26379/service) through which every worker and replica serves one stream; "
        "empty: everything in this process.",
    )
    bus_lease_s: float = Field(
        3.0, gt=0, le=60, description="The generator's lease: a dead leader is replaced within it."
    )
    workers: int = Field(
        1, ge=1, le=64, description="Hypercorn worker processes; more than 1 needs BIOMOCK_BUS."
    )

    # Authentication (biomock.auth): off unless a tokens file, a secret or a key is set.
    auth_tokens_file: Path | None = Field(
        None, description="TOML file of static tokens ([[token]] name, token, scopes)."
    )
    jwt_secret: SecretStr | None = Field(
        None, description="HS256 secret for JWTs (at least 32 bytes of UTF-8)."
    )
    jwt_public_key_file: Path | None = Field(
        None, description="PEM public key for RS256 (RSA) or ES256 (P-256) JWTs."
    )
    jwt_issuer: str | None = Field(None, description="Required JWT iss, when set.")
    jwt_audience: str | None = Field(None, description="Required JWT aud, when set.")

    @field_validator("cors_origins", "allowed_hosts", mode="before")
    @classmethod
    def _split_origins(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("subjects")
    @classmethod
    def _valid_subjects(cls, value: str) -> str:
        subject_names(value)  # a ValueError names what is wrong
        return value

    @field_validator("cadences")
    @classmethod
    def _valid_cadences(cls, value: str) -> str:
        parse_cadences(value)
        return value

    @model_validator(mode="before")
    @classmethod
    def _batch_below_buffer(cls, values: Any) -> Any:
        """A tick's batch must fit the buffer with room to spare, or every subscriber lags.

        Left at its default, the batch shrinks to fit a small buffer; set
        explicitly, a batch that does not fit is refused.
        """
        if not isinstance(values, dict):
            return values
        try:
            buffer_size = int(values.get("buffer_size", 10000))
        except (TypeError, ValueError):
            return values  # the field's own validation reports it
        if "max_batch" not in values:
            return {**values, "max_batch": max(1, min(2000, buffer_size // 2))}
        return values

    @field_validator("max_batch")
    @classmethod
    def _fits_the_buffer(cls, value: int, info: ValidationInfo) -> int:
        buffer_size = info.data.get("buffer_size")
        if buffer_size is not None and buffer_size > 1 and value >= buffer_size:
            raise ValueError(f"must be below buffer_size ({buffer_size})")
        return value

    @field_validator("devices")
    @classmethod
    def _valid_devices(cls, value: str) -> str:
        parse_devices(value)
        return value

    @field_validator("time_zones")
    @classmethod
    def _valid_time_zones(cls, value: str) -> str:
        parse_time_zones(value)
        return value

    @model_validator(mode="after")
    def _known_subjects(self) -> Config:
        names = subject_names(self.subjects)
        for setting, parsed in (
            ("devices", parse_devices(self.devices)),
            ("time_zones", parse_time_zones(self.time_zones)),
        ):
            unknown = sorted(set(parsed) - set(names))
            if unknown:
                raise ValueError(
                    f"{setting}: unknown subject {unknown[0]!r}; subjects are {', '.join(names)}"
                )
        return self

    @field_validator("bus", mode="before")
    @classmethod
    def _empty_is_no_bus(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("bus")
    @classmethod
    def _redis_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        url = value.get_secret_value()
        if urlsplit(url).scheme not in BUS_SCHEMES:
            raise ValueError(f"must be a URL with one of the schemes {', '.join(BUS_SCHEMES)}")
        SentinelUrl.parse(url)  # raises ValueError (its message holds no part of the URL)
        return value

    @model_validator(mode="after")
    def _workers_share_a_bus(self) -> Config:
        if self.workers > 1 and self.bus is None:
            raise ValueError(
                f"{self.workers} workers would each run their own generator, ids and clock; "
                "set BIOMOCK_BUS=redis://... so that they serve one stream, or use 1 worker"
            )
        if self.workers > 1 and self.record is not None:
            raise ValueError(
                f"{self.workers} workers would all append to the record file {self.record}; "
                "record from a process of its own (every process serves the same samples)"
            )
        return self

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        if value.lower() not in {"debug", "info", "warning", "error"}:
            raise ValueError("must be one of debug, info, warning, error")
        return value.lower()


def env_name(setting: str) -> str:
    return ENV_PREFIX + setting.upper()


def load_config(
    flags: Mapping[str, Any] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    toml_path: Path | None = None,
) -> Config:
    """Merge defaults, the TOML file, ``BIOMOCK_*`` variables and ``flags`` into a Config.

    Raises:
        ConfigError: naming the first unknown or invalid setting and where it came from.
    """
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    origin: dict[str, str] = {}
    fields = Config.model_fields

    if toml_path is None and environ.get(env_name("config")):
        toml_path = Path(environ[env_name("config")])
    if toml_path is not None:
        try:
            table = tomllib.loads(toml_path.read_text())
        except (OSError, tomllib.TOMLDecodeError) as error:
            raise ConfigError(f"cannot read config file {toml_path}: {error}") from None
        table = table.get("biomock", table)
        for key, value in table.items():
            name = key.replace("-", "_")
            if name not in fields:
                raise ConfigError(f"unknown setting {key!r} in {toml_path}")
            values[name], origin[name] = value, f"{key} in {toml_path}"

    for key, value in environ.items():
        if not key.startswith(ENV_PREFIX):
            continue
        name = key[len(ENV_PREFIX) :].lower()
        if name.upper() in _NOT_SETTINGS:
            continue
        if name not in fields:
            raise ConfigError(f"unknown setting {key}")
        values[name], origin[name] = value, key

    for name, value in (flags or {}).items():
        if value is not None:
            values[name], origin[name] = value, "--" + name.replace("_", "-")

    try:
        return Config.model_validate(values)
    except ValidationError as error:
        first = error.errors()[0]
        if not first["loc"]:  # a rule across settings: its message names them
            message = first["msg"].removeprefix("Value error, ")
            raise ConfigError(f"invalid settings: {message}") from None
        name = str(first["loc"][0])
        where = origin.get(name, name)
        raise ConfigError(f"invalid setting {where}: {first['msg']}") from None
