"""What can be streamed: ``GET /api/types``, ``/api/subjects`` and ``/api/scenarios``."""

from __future__ import annotations

from quart import Blueprint, Response
from quart_schema import document_headers, document_response, validate_querystring

from biomock.catalogue import TYPES
from biomock.models import ScenarioList, SessionHeaders, SessionQuery, SubjectList, TypeList
from biomock.routes.common import json_response
from biomock.sim import SCENARIOS, Simulator
from biomock.state import current_simulation

blueprint = Blueprint("catalogue", __name__)


@blueprint.get("/api/types")
@document_response(TypeList)
async def types() -> Response:
    """The catalogue: every type with its unit, kind and codes."""
    return json_response(
        [
            {
                "name": t.name,
                "unit": t.unit,
                "kind": t.kind,
                "interval": t.has_start,
                "healthkit": t.healthkit,
                "loinc": t.loinc,
                "omh_schema": t.omh_schema,
                "normal_range": None
                if t.normal_range is None
                else {"low": t.normal_range[0], "high": t.normal_range[1]},
                "cadence_s": t.cadence_s,
            }
            for t in TYPES.values()
        ]
    )


@blueprint.get("/api/subjects")
@validate_querystring(SessionQuery)
@document_headers(SessionHeaders)
@document_response(SubjectList)
async def subjects(query_args: SessionQuery) -> Response:
    """The simulated people, with their profiles and scenarios."""
    source = (await current_simulation()).source
    if isinstance(source, Simulator):
        return json_response(source.describe_subjects())
    return json_response([{"name": name, "scenario": None} for name in source.subjects])


@blueprint.get("/api/scenarios")
@document_response(ScenarioList)
async def scenarios() -> Response:
    """The scenarios a subject can be switched to."""
    return json_response([{"name": name, "description": text} for name, text in SCENARIOS.items()])
