"""The request and response models of API.md: one source for validation and documentation.

Request models validate what clients send (quart-schema's ``validate_querystring`` /
``validate_request``, or ``validate_query`` in ``biomock.params`` for the ASGI-level
stream route) and describe it in ``/openapi.json``; a failed validation becomes API.md's
``invalid_parameter`` error in ``biomock.errors``. Bounds come from ``biomock.limits``.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainValidator,
    RootModel,
    ValidationError,
    WithJsonSchema,
    field_validator,
)

from biomock.catalogue import TYPES
from biomock.formats import FORMATS
from biomock.limits import (
    DEFAULT_SESSION_TTL_S,
    FAULT_STATUSES,
    HISTORY_PAGE_DEFAULT,
    HISTORY_PAGE_MAX,
    MAX_BUFFER_SIZE,
    MAX_DIGITS,
    MAX_FAULT_DELAY_MS,
    MAX_FAULT_SAMPLES,
    MAX_ID,
    MAX_SEED,
    MAX_SESSION_SUBJECTS,
    MAX_SESSION_TTL_S,
    MAX_SPEED,
    MAX_YEAR,
    MIN_YEAR,
)
from biomock.sample import parse_time
from biomock.sim import SCENARIOS, is_subject_name


def _whole_number(value: Any) -> Any:
    """Accept only ASCII digits from a query or header: no sign, point, underscore or exponent."""
    if isinstance(value, str):
        text = value.strip()
        if not (text.isascii() and text.isdigit()):
            raise ValueError("must be a whole number")
        if len(text) > MAX_DIGITS:
            raise ValueError(f"must have at most {MAX_DIGITS} digits")
        return int(text)
    return value


# Bounds first, then the digits check: pydantic then documents them as minimum/maximum.
EventId = Annotated[int, Field(ge=0, le=MAX_ID), BeforeValidator(_whole_number)]
"""An id a client names (the newest it has, or a page's start), in decimal digits."""

HistoryCount = Annotated[int, Field(ge=0, le=MAX_BUFFER_SIZE), BeforeValidator(_whole_number)]
PageSize = Annotated[int, Field(ge=1, le=HISTORY_PAGE_MAX), BeforeValidator(_whole_number)]


def _type_names(raw: str) -> frozenset[str]:
    names = [name.strip() for name in raw.split(",") if name.strip()]
    if not names:
        raise ValueError(f"types is empty; valid: {', '.join(TYPES)}")
    unknown = [name for name in names if name not in TYPES]
    if unknown:
        raise ValueError(f"unknown type {unknown[0]!r}; valid: {', '.join(TYPES)}")
    return frozenset(names)


def type_names(raw: str | None) -> frozenset[str] | None:
    """The validated ``types`` parameter as a set; ``None`` (all types) when absent."""
    return None if raw is None else _type_names(raw)


# --- Fault injection (API.md "Fault injection") -----------------------------------------------

_PROBABILITY = re.compile(r"(?:\d{1,3}(?:\.\d{1,17})?|\.\d{1,17})\Z")


def _probability(value: Any) -> Any:
    if isinstance(value, str):
        if not (value.isascii() and _PROBABILITY.match(value)) or float(value) > 1:
            raise ValueError(f"must be a probability from 0 to 1, such as 0.1; got {value!r}")
        return float(value)
    return value


def _fault_whole_number(value: Any) -> Any:
    try:
        return _whole_number(value)
    except ValueError:
        raise ValueError(f"must be a whole number; got {value!r}") from None


FaultCount = Annotated[int, Field(ge=0, le=MAX_FAULT_SAMPLES), BeforeValidator(_fault_whole_number)]
FaultMillis = Annotated[
    int, Field(ge=0, le=MAX_FAULT_DELAY_MS), BeforeValidator(_fault_whole_number)
]
Probability = Annotated[float, Field(ge=0, le=1), BeforeValidator(_probability)]
FaultSeed = Annotated[int, Field(ge=0, le=MAX_SEED), BeforeValidator(_whole_number)]
"""``fault_seed``: bounded as a session's seed, so that a browser can hold it exactly."""


class FaultSpec(BaseModel):
    """What ``?faults=`` asks of one stream connection (API.md "Fault injection").

    Parsed from a comma list of ``name=value`` (:func:`parse_faults`); an omitted fault
    is not injected.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    disconnect_after: FaultCount | None = Field(
        None, description="End the connection after this many samples."
    )
    stall_after: FaultCount | None = Field(
        None, description="After this many samples send nothing more, keeping it open."
    )
    drop: Probability = Field(0.0, description="Skip each sample with this probability.")
    duplicate: Probability = Field(0.0, description="Send a sample twice, with this probability.")
    malformed: Probability = Field(
        0.0, description="Send a sample as invalid JSON (keeping its id), with this probability."
    )
    delay_ms: FaultMillis = Field(0, description="Hold each write this long.")
    jitter_ms: FaultMillis = Field(0, description="... plus or minus up to this long.")
    status: int | None = Field(
        None, description="Answer with this status and a JSON error instead of streaming."
    )

    @field_validator("status", mode="before")
    @classmethod
    def _fault_status(cls, value: Any) -> Any:
        code = _fault_whole_number(value)
        if code not in FAULT_STATUSES:
            valid = ", ".join(map(str, FAULT_STATUSES))
            raise ValueError(f"must be one of {valid}; got {value!r}")
        return code

    @property
    def per_sample(self) -> bool:
        """Whether any fault acts on the stream itself (anything but ``status``)."""
        return bool(
            self.disconnect_after is not None
            or self.stall_after is not None
            or self.drop
            or self.duplicate
            or self.malformed
            or self.delay_ms
            or self.jitter_ms
        )


def parse_faults(raw: str) -> FaultSpec:
    """``?faults=``: a comma list of ``name=value``, each name once; empty asks for nothing.

    Raises:
        ValueError: a message naming the first bad fault, for a 400 on ``faults``.
    """
    args: dict[str, str] = {}
    for item in raw.split(","):
        if not item.strip():
            continue
        name, equals, value = (part.strip() for part in item.partition("="))
        if not equals:
            raise ValueError(f"faults: {item.strip()[:40]!r} is not name=value")
        if name in args:
            raise ValueError(f"faults: {name[:40]!r} is given twice")
        args[name] = value
    try:
        return FaultSpec.model_validate(args)
    except ValidationError as error:
        first = error.errors(include_url=False)[0]
        name = str(first["loc"][0])
        if first["type"] == "extra_forbidden":
            valid = ", ".join(FaultSpec.model_fields)
            raise ValueError(f"faults: unknown fault {name[:40]!r}; valid: {valid}") from None
        ctx = first.get("ctx", {})
        if first["type"] == "value_error":
            reason = str(ctx.get("error", first["msg"]))
        elif first["type"] == "less_than_equal":
            reason = f"must be at most {ctx['le']}; got {args[name][:40]!r}"
        else:
            reason = f"is not valid ({first['msg']}); got {args[name][:40]!r}"
        raise ValueError(f"faults: {name} {reason}") from None


def _faults_parameter(value: Any) -> FaultSpec | None:
    if value is None or isinstance(value, FaultSpec):
        return value
    if not isinstance(value, str):
        raise ValueError("faults must be given once, as a comma list of name=value")
    return parse_faults(value)


FAULT_NAMES = ", ".join(FaultSpec.model_fields)

FaultsParameter = Annotated[
    FaultSpec | None,
    PlainValidator(_faults_parameter),
    WithJsonSchema(
        {
            "type": "string",
            "description": "Fault injection for this connection: a comma list of name=value "
            f"({FAULT_NAMES}), e.g. drop=0.1,duplicate=0.05.",
            "examples": ["disconnect_after=20", "drop=0.1,malformed=0.05", "status=503"],
        }
    ),
]


# --- Shapes of API.md: errors and operations --------------------------------------------------


class ErrorDetail(BaseModel):
    code: str = Field(
        description="invalid_parameter, invalid_json, not_found, method_not_allowed, "
        "unauthorized, forbidden, request_timeout, payload_too_large, "
        "unsupported_media_type, misdirected_request, too_many_subscribers, "
        "too_many_sessions, unavailable or internal; too_many_requests, bad_gateway and "
        "gateway_timeout only when a stream asked for them (?faults=status=CODE)."
    )
    message: str = Field(description="What went wrong, for a developer to act on.")
    parameter: str | None = Field(None, description="The offending parameter or field.")


class ErrorBody(BaseModel):
    """An error: every 4xx and 5xx response has this shape."""

    error: ErrorDetail


class Status(BaseModel):
    """The process is serving (or ready)."""

    status: str = Field(examples=["ok"])
    generator: str | None = Field(
        None, description="On /healthz, 'stopped' while the generator is down (503)."
    )


SESSION_HEADER = "X-Biomock-Session"


class SessionQuery(BaseModel):
    """What every data and control route accepts: which simulation it addresses."""

    session: str | None = Field(
        None,
        description="A session's id (POST /api/sessions); the X-Biomock-Session header "
        "says the same. Without it: the server's default simulation.",
    )


class SessionHeaders(BaseModel):
    x_biomock_session: str | None = Field(
        None, description="A session's id, as ?session= (the query parameter wins)."
    )


class SampleQuery(SessionQuery):
    """What every route that returns samples accepts: which ones, and in which format."""

    types: str | None = Field(
        None,
        description="Comma-separated type names; all when absent. Valid: " + ", ".join(TYPES),
        examples=["heart_rate,steps"],
    )
    subject: str | None = Field(None, description="Only this simulated person.")
    format: str | None = Field(
        None,
        description="The sample format; native when absent.",
        json_schema_extra={"enum": list(FORMATS)},
    )

    @field_validator("types")
    @classmethod
    def _known_types(cls, value: str | None) -> str | None:
        if value is not None:
            _type_names(value)
        return value

    @field_validator("format")
    @classmethod
    def _known_format(cls, value: str | None) -> str | None:
        if value is not None and value not in FORMATS:
            raise ValueError(f"unknown format {value!r}; valid: {', '.join(FORMATS)}")
        return value


class StreamQuery(SampleQuery):
    last_event_id: EventId | None = Field(
        None, description="Resume after this id (the Last-Event-ID header wins)."
    )
    history: HistoryCount | None = Field(
        None,
        description="First send up to this many newest buffered matching samples; at most "
        "the buffer's size (BIOMOCK_BUFFER_SIZE, 10000 by default).",
    )
    faults: FaultsParameter = None
    fault_seed: FaultSeed | None = Field(
        None,
        description="Seeds this connection's faults: the same seed chooses the same samples "
        "to drop, duplicate or break.",
    )


class StreamHeaders(SessionHeaders):
    last_event_id: EventId | None = Field(
        None, description="Resume after this id: replay what is buffered, then go live."
    )


class HistoryQuery(SampleQuery):
    after_id: EventId | None = Field(None, description="Only samples with a larger id.")
    since: str | None = Field(
        None, description="ISO 8601 lower bound on timestamp (inclusive; no offset means UTC)."
    )
    until: str | None = Field(None, description="ISO 8601 upper bound on timestamp (inclusive).")
    limit: PageSize = Field(HISTORY_PAGE_DEFAULT, description="Page size.")

    @field_validator("since", "until")
    @classmethod
    def _iso_time(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                parse_time(value)
            except ValueError:
                raise ValueError(
                    f"must be an ISO 8601 time such as 2026-02-03T10:30:00.000Z, got {value!r}"
                ) from None
        return value

    def bounds_ms(self) -> tuple[int | None, int | None]:
        """``since`` and ``until`` in epoch milliseconds."""
        return (
            None if self.since is None else parse_time(self.since),
            None if self.until is None else parse_time(self.until),
        )


class HistoryPage(BaseModel):
    """Buffered samples, oldest first."""

    items: list[dict[str, Any]] = Field(description="Samples in the requested format.")
    next_after_id: int | None = Field(
        description="Pass as after_id for the next page; null when there is no more."
    )


class BufferStats(BaseModel):
    size: int
    capacity: int
    oldest_id: int | None
    newest_id: int | None


class BusStats(BaseModel):
    """The shared bus, when ``BIOMOCK_BUS`` is set."""

    url: str = Field(description="The Redis URL, its password redacted.")
    leader: bool = Field(description="Whether this process runs the generator.")
    connected: bool = Field(description="Whether Redis is reachable from this process.")
    lag_s: float = Field(description="From the leader's append to this process's read.")
    failovers: int = Field(description="Generator leaderships after the first.")


class Stats(BaseModel):
    """Counters of the hub."""

    subscribers: int
    published: int
    delivered: int
    dropped_slow: int
    buffer: BufferStats
    uptime_s: float
    bus: BusStats | None = Field(None, description="Only with a shared bus.")


class NormalRange(BaseModel):
    low: float
    high: float


class TypeInfo(BaseModel):
    name: str
    unit: str | None
    kind: Literal["quantity", "category", "interval"]
    interval: bool = Field(description="Whether samples carry start (the interval's beginning).")
    healthkit: str
    loinc: str | None
    normal_range: NormalRange | None
    cadence_s: float | None


class TypeList(RootModel[list[TypeInfo]]):
    """Every sample type biomock produces."""


class ClockState(BaseModel):
    """The simulated clock."""

    now: str = Field(description="Simulated time, ISO 8601 UTC.")
    speed: float = Field(description="Simulated seconds per real second.")
    paused: bool
    lag_s: float = Field(
        0.0,
        description="Simulated seconds the clock fell behind the requested speed since the "
        "last change, when a tick would have held more than BIOMOCK_MAX_BATCH samples.",
    )


class ClockUpdate(BaseModel):
    """A change of the simulated clock; omitted fields keep their values."""

    model_config = ConfigDict(extra="forbid")

    speed: float | None = Field(
        None,
        gt=0,
        le=MAX_SPEED,
        strict=True,  # a JSON number: not "5", not true
        allow_inf_nan=False,
        description="Simulated seconds per real second; use paused to stop.",
    )
    paused: bool | None = Field(None, strict=True)
    now: str | None = Field(
        None,
        description=f"Jump forward to this ISO 8601 time (years {MIN_YEAR} to {MAX_YEAR}).",
    )

    @field_validator("now")
    @classmethod
    def _time_in_range(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            ms = parse_time(value)
        except ValueError:
            raise ValueError("must be an ISO 8601 time") from None
        if not parse_time(f"{MIN_YEAR}-01-01") <= ms < parse_time(f"{MAX_YEAR + 1}-01-01"):
            raise ValueError(f"must fall in the years {MIN_YEAR} to {MAX_YEAR}")
        return value

    def now_ms(self) -> int | None:
        return None if self.now is None else parse_time(self.now)


class SubjectInfo(BaseModel):
    """A simulated person: name, profile fields and current scenario."""

    model_config = ConfigDict(extra="allow")

    name: str
    scenario: str | None


class SubjectList(RootModel[list[SubjectInfo]]):
    """The simulated people, with their profiles and the scenario each is in."""


class ScenarioInfo(BaseModel):
    name: str
    description: str


class ScenarioList(RootModel[list[ScenarioInfo]]):
    """The scenarios a subject can be switched to."""


class ScenarioSwitch(BaseModel):
    """Switch one subject's scenario."""

    model_config = ConfigDict(extra="forbid")

    scenario: str = Field(json_schema_extra={"enum": list(SCENARIOS)}, strict=True)
    subject: str = Field("default", description="The subject's name.", strict=True)

    @field_validator("scenario")
    @classmethod
    def _known_scenario(cls, value: str) -> str:
        if value not in SCENARIOS:
            raise ValueError(f"unknown scenario {value!r}; valid: {', '.join(SCENARIOS)}")
        return value


class ScenarioSwitched(BaseModel):
    """The switch that was made."""

    subject: str
    scenario: str
    previous: str | None
    since: str = Field(description="Simulated time of the switch, ISO 8601 UTC.")


class OpenAPIDocument(RootModel[dict[str, Any]]):
    """An OpenAPI 3.1 document."""


def _time_in_years(value: str | None) -> str | None:
    """An ISO 8601 time within the years a client may send."""
    if value is None:
        return None
    try:
        ms = parse_time(value)
    except ValueError:
        raise ValueError("must be an ISO 8601 time") from None
    if not parse_time(f"{MIN_YEAR}-01-01") <= ms < parse_time(f"{MAX_YEAR + 1}-01-01"):
        raise ValueError(f"must fall in the years {MIN_YEAR} to {MAX_YEAR}")
    return value


class SessionCreate(BaseModel):
    """A private simulation: every field optional."""

    model_config = ConfigDict(extra="forbid")

    seed: int | None = Field(
        None, ge=0, le=MAX_SEED, strict=True, description="The simulation seed; random if absent."
    )
    subjects: list[str] = Field(
        default_factory=lambda: ["default"],
        min_length=1,
        max_length=MAX_SESSION_SUBJECTS,
        description="The simulated people's names (letters, digits, '.', '_', '-').",
    )
    scenario: str = Field(
        "normal_day",
        json_schema_extra={"enum": list(SCENARIOS)},
        strict=True,
        description="The scenario every subject starts in.",
    )
    start: str | None = Field(
        None,
        description="Simulated time at creation, ISO 8601 (whole seconds are kept); now if absent.",
    )
    speed: float = Field(
        1.0, gt=0, le=MAX_SPEED, strict=True, allow_inf_nan=False, description="Clock speed."
    )
    paused: bool = Field(False, strict=True, description="Create the clock paused.")
    ttl_s: int = Field(
        DEFAULT_SESSION_TTL_S,
        ge=1,
        le=MAX_SESSION_TTL_S,
        strict=True,
        description="Seconds of inactivity (no request, no open stream) before it expires.",
    )

    @field_validator("subjects")
    @classmethod
    def _names(cls, value: list[str]) -> list[str]:
        for name in value:
            if not is_subject_name(name):
                raise ValueError(
                    f"{name!r} is not a subject name (1-64 letters, digits, '.', '_' or '-', "
                    "starting with a letter or digit)"
                )
        if len(set(value)) != len(value):
            raise ValueError("subject names must be distinct")
        return value

    @field_validator("scenario")
    @classmethod
    def _known_scenario(cls, value: str) -> str:
        if value not in SCENARIOS:
            raise ValueError(f"unknown scenario {value!r}; valid: {', '.join(SCENARIOS)}")
        return value

    @field_validator("start")
    @classmethod
    def _start_in_range(cls, value: str | None) -> str | None:
        return _time_in_years(value)


class SessionInfo(BaseModel):
    """A session, as created."""

    id: str = Field(description="s_ and 128 random bits; pass as ?session= or X-Biomock-Session.")
    expires_at: str = Field(description="When it expires unless used again, ISO 8601 UTC.")
    created_at: str
    seed: int
    subjects: list[str]
    scenario: str
    start: str
    speed: float = Field(description="The clock's speed now.")
    paused: bool = Field(description="Whether the clock is paused now.")
    now: str = Field(description="The session's simulated time now.")
    ttl_s: int


class SessionList(BaseModel):
    """The sessions the caller may see: all when auth is off, its own when on."""

    items: list[SessionInfo]
