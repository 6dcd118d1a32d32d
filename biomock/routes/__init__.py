"""Every HTTP route of biomock, one module per concern, each a Quart blueprint.

Routes are module-level functions; they read the app's shared state with
:func:`biomock.state.current_state`. The stream route is served below Quart
(``biomock.stream``); ``routes.stream`` declares it so that it is documented.
"""

from __future__ import annotations

from quart import Blueprint

from biomock.routes import (
    catalogue,
    common,
    control,
    dashboard,
    docs,
    history,
    ops,
    sessions,
    stream,
    ws,
)

BLUEPRINTS: tuple[Blueprint, ...] = (
    common.blueprint,
    stream.blueprint,
    ws.blueprint,
    history.blueprint,
    catalogue.blueprint,
    control.blueprint,
    sessions.blueprint,
    ops.blueprint,
    docs.blueprint,
    dashboard.blueprint,  # last: its catch-all path must not shadow the others
)
"""In registration order."""
