"""Steering the simulation: ``POST /api/scenario`` and ``GET``/``POST /api/clock``.

The bodies are validated by their models (``validate_request``); what only the running
server knows (its subjects, the clock's present) is checked here.
"""

from __future__ import annotations

from typing import Any

from quart import Blueprint, Response
from quart_schema import (
    document_headers,
    document_response,
    validate_querystring,
    validate_request,
)

from biomock.clock import SimClock
from biomock.errors import invalid_parameter, not_found
from biomock.models import (
    ClockState,
    ClockUpdate,
    ScenarioSwitch,
    ScenarioSwitched,
    SessionHeaders,
    SessionQuery,
)
from biomock.routes.common import json_response
from biomock.sample import format_time
from biomock.sim import Simulator, UnknownScenario, UnknownSubject
from biomock.simulation import ClockBackwards, Shared, Simulation
from biomock.state import current_simulation

blueprint = Blueprint("control", __name__)


@blueprint.post("/api/scenario")
@validate_querystring(SessionQuery)
@document_headers(SessionHeaders)
@validate_request(ScenarioSwitch)
@document_response(ScenarioSwitched)
async def switch_scenario(data: ScenarioSwitch, query_args: SessionQuery) -> Response:
    """Switch a subject's scenario now; 404 for an unknown subject."""
    simulation = await current_simulation()
    source = simulation.source
    if data.subject not in source.subjects:
        raise not_found(f"unknown subject {data.subject!r}; valid: {', '.join(source.subjects)}")
    if not isinstance(source, Simulator):
        raise invalid_parameter(
            "scenario", "this server replays a recording; scenarios apply to simulated subjects"
        )
    previous = source.scenario_of(data.subject)
    bus = shared_bus(simulation)
    if bus is not None:  # applied by every process, this one included, from Redis
        await bus.switch_scenario(data.subject, data.scenario)
    else:
        try:
            source.set_scenario(data.subject, data.scenario)
        except UnknownScenario as error:  # pragma: no cover - the model knows the scenarios
            raise invalid_parameter("scenario", str(error)) from None
        except UnknownSubject as error:  # pragma: no cover - checked above
            raise not_found(str(error)) from None
    return json_response(
        {
            "subject": data.subject,
            "scenario": data.scenario,
            "previous": previous,
            "since": format_time(source.now_ms),
        }
    )


@blueprint.get("/api/clock")
@validate_querystring(SessionQuery)
@document_headers(SessionHeaders)
@document_response(ClockState)
async def get_clock(query_args: SessionQuery) -> Response:
    """The simulated clock."""
    return json_response(clock_body((await current_simulation()).clock))


@blueprint.post("/api/clock")
@validate_querystring(SessionQuery)
@document_headers(SessionHeaders)
@validate_request(ClockUpdate)
@document_response(ClockState)
async def post_clock(data: ClockUpdate, query_args: SessionQuery) -> Response:
    """Change the simulated clock's speed, pause it, or jump forward; omitted fields stay.

    A session that stays paused runs through the time it jumps over, publishing its
    samples (at most RUN_THROUGH_SUBJECT_MS / subjects of it: the time before is skipped).
    """
    simulation = await current_simulation()
    clock = simulation.clock
    now_ms = data.now_ms()
    try:
        bus = shared_bus(simulation)
        if bus is None:
            await simulation.set_clock(speed=data.speed, paused=data.paused, now_ms=now_ms)
        else:  # applied by every process, this one included, from Redis
            if now_ms is not None and now_ms < clock.now_ms():
                raise ClockBackwards(clock.now_ms())
            await bus.change_clock(speed=data.speed, paused=data.paused, now_ms=now_ms)
    except ClockBackwards as error:
        raise invalid_parameter(
            "now", f"the clock only jumps forward; it is {format_time(error.now_ms)}"
        ) from None
    return json_response(clock_body(clock))


def shared_bus(simulation: Simulation) -> Shared | None:
    """The shared bus's side of ``simulation`` when it is on one (``BIOMOCK_BUS``)."""
    return simulation.bus


def clock_body(clock: SimClock) -> dict[str, Any]:
    """``GET /api/clock``'s answer."""
    state = clock.state()
    return {
        "now": format_time(state.now_ms),
        "speed": state.speed,
        "paused": state.paused,
        "lag_s": state.lag_ms / 1000,
    }
