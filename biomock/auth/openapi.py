"""The OpenAPI side of authentication: the bearer scheme, each operation's scope, and
the token box of ``/docs``.

The scopes come from the same table the gate enforces (``biomock.auth.scopes``), so
the document cannot disagree with the server.
"""

from __future__ import annotations

from typing import Any

from biomock.auth.scopes import AUTHENTICATED, OPEN, required_scope

SECURITY_SCHEMES: dict[str, Any] = {
    "bearer": {
        "type": "http",
        "scheme": "bearer",
        "description": "A static token (BIOMOCK_AUTH_TOKENS_FILE) or a JWT; each operation "
        "lists the scope it needs (read, control, metrics; admin allows all).",
    },
    "access_token": {
        "type": "apiKey",
        "in": "query",
        "name": "access_token",
        "description": "The same token as a query parameter, for EventSource and browser "
        "WebSockets, which cannot set headers. Authorization wins when both are sent.",
    },
}

_REFUSALS = {
    "401": "No token, or a bad or expired one (WWW-Authenticate: Bearer).",
    "403": "A valid token without the operation's scope.",
}


def declare_security(document: dict[str, Any], *, enabled: bool) -> None:
    """Add the schemes and, to every operation, the scope it needs.

    With auth off (``enabled`` false) every operation also lists the empty
    requirement: the scopes say what a server with authentication on asks for.
    """
    components = document.setdefault("components", {})
    components["securitySchemes"] = SECURITY_SCHEMES
    error_ref = {"$ref": "#/components/schemas/ErrorBody"}
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            needed = required_scope(method.upper(), path.replace("{", "").replace("}", ""))
            if needed == OPEN:
                operation["security"] = []
                continue
            scopes = [] if needed == AUTHENTICATED else [needed]
            operation["security"] = [
                {"bearer": scopes},
                {"access_token": scopes},
                *([] if enabled else [{}]),
            ]
            if scopes:
                note = f"Scope: `{needed}` (or `admin`)."
                description = operation.get("description")
                operation["description"] = f"{description}\n\n{note}" if description else note
            responses = operation.setdefault("responses", {})
            for status, text in _REFUSALS.items():
                responses.setdefault(
                    status,
                    {"description": text, "content": {"application/json": {"schema": error_ref}}},
                )


TOKEN_BOX = """
<section class="op" id="token">
<h2>Token</h2>
<p>When the server has authentication on, paste a token (kept in this tab's
sessionStorage only); the <em>Try it</em> buttons send it as
<code>Authorization: Bearer</code>.</p>
<p><input id="token-input" type="password" autocomplete="off" size="50"
aria-label="token" placeholder="token or JWT">
<button type="button" id="token-save">Use</button>
<button type="button" id="token-clear">Forget</button> <span id="token-state"></span></p>
</section>
<script>
(() => {
  const KEY = "biomock.token";
  const input = document.getElementById("token-input");
  const state = document.getElementById("token-state");
  const show = () => {
    state.textContent = sessionStorage.getItem(KEY) ? "token set" : "no token";
  };
  document.getElementById("token-save").onclick = () => {
    sessionStorage.setItem(KEY, input.value.trim()); input.value = ""; show();
  };
  document.getElementById("token-clear").onclick = () => {
    sessionStorage.removeItem(KEY); show();
  };
  show();
  document.addEventListener("click", async (event) => {
    const button = event.target.closest("button.try");
    if (!button) return;
    const out = button.nextElementSibling;
    out.hidden = false; out.textContent = "...";
    const token = sessionStorage.getItem(KEY);
    const headers = token ? { Authorization: "Bearer " + token } : {};
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), 3000);
    let text = "";
    try {
      const response = await fetch(button.dataset.path, { headers, signal: abort.signal });
      text = response.status + " " + response.statusText + "\\n";
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      while (text.length < 4000) {
        const { value, done } = await reader.read();
        if (done) break;
        text += decoder.decode(value, { stream: true });
      }
      abort.abort();
    } catch (error) {
      if (!text) text = String(error);
    } finally {
      clearTimeout(timer);
    }
    out.textContent = text;
  });
})();
</script>
"""
"""The token form and the script behind the Try it buttons; inline, so /docs still loads
nothing from the network."""
