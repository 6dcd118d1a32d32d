"""The subjects and scenarios routes: who is simulated, and switching what they go through."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from quart import Response
from quart_schema import document_request, document_response
from quart_trio import QuartTrio

from biomock.errors import ApiError, invalid_parameter, not_found
from biomock.openapi import ScenarioList, ScenarioSwitch, ScenarioSwitched, SubjectList
from biomock.sample import format_time
from biomock.sim import SCENARIOS, Simulator, UnknownScenario, UnknownSubject
from biomock.source import Source

_FIELDS = {"subject", "scenario"}


def add_subject_routes(
    app: QuartTrio, source: Source, read_json: Callable[[], Awaitable[dict[str, Any]]]
) -> None:
    """Register ``GET /api/subjects``, ``GET /api/scenarios`` and ``POST /api/scenario``.

    Args:
        app: the application.
        source: what is streamed; scenarios can be switched only on a :class:`Simulator`.
        read_json: reads the request body as a JSON object (``invalid_json`` otherwise).
    """

    @app.get("/api/subjects")
    @document_response(SubjectList)
    async def subjects() -> Response:
        """The simulated people, with their profiles and scenarios."""
        if isinstance(source, Simulator):
            return _json(source.describe_subjects())
        return _json([{"name": name, "scenario": None} for name in source.subjects])

    @app.get("/api/scenarios")
    @document_response(ScenarioList)
    async def scenarios() -> Response:
        """The scenarios a subject can be switched to."""
        return _json([{"name": name, "description": text} for name, text in SCENARIOS.items()])

    @app.post("/api/scenario")
    @document_request(ScenarioSwitch)
    @document_response(ScenarioSwitched)
    async def switch_scenario() -> Response:
        """Switch a subject's scenario now; 404 for an unknown subject."""
        body = await read_json()
        unknown = sorted(set(body) - _FIELDS)
        if unknown:
            raise invalid_parameter(
                unknown[0], f"unknown field {unknown[0]!r}; expected subject and scenario"
            )
        scenario = body.get("scenario")
        if not isinstance(scenario, str):
            raise invalid_parameter("scenario", f"scenario must be one of: {', '.join(SCENARIOS)}")
        subject = body.get("subject", "default")
        if not isinstance(subject, str):
            raise invalid_parameter("subject", "subject must be a subject's name (a string)")
        if subject not in source.subjects:
            raise not_found(f"unknown subject {subject!r}; valid: {', '.join(source.subjects)}")
        if not isinstance(source, Simulator):
            raise ApiError(
                400,
                "invalid_parameter",
                "this server replays a recording; scenarios apply to simulated subjects",
                parameter="scenario",
            )
        previous = source.scenario_of(subject)
        try:
            source.set_scenario(subject, scenario)
        except UnknownScenario as error:
            raise invalid_parameter("scenario", str(error)) from None
        except UnknownSubject as error:  # pragma: no cover - checked above
            raise not_found(str(error)) from None
        return _json(
            {
                "subject": subject,
                "scenario": scenario,
                "previous": previous,
                "since": format_time(source.now_ms),
            }
        )


def _json(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json")
