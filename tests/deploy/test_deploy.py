"""The deploy files agree with the code: what `docker compose up` would run, checked without Docker.

No container engine runs here, so these tests read deploy/Dockerfile with BuildKit's own parser,
compose.yaml with PyYAML and nginx.conf with nginx's parser (crossplane), and compare what they
say with the repository and the application's settings.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import crossplane
import dockerfile
import yaml

from biomock.cli import serve
from biomock.config import Config, env_name, load_config

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"


def server_env_names() -> set[str]:
    """Every ``BIOMOCK_*`` variable the server reads: one per setting, and the config file's."""
    return {env_name(name) for name in Config.model_fields} | {env_name("config")}


def serve_options() -> set[str]:
    """The options ``biomock serve`` accepts."""
    return {opt for param in serve.params for opt in param.opts}


def assert_serve_command(command: list[str] | tuple[str, ...]) -> None:
    """``command`` runs ``biomock serve`` with options that exist, and parses."""
    assert list(command[:2]) == ["biomock", "serve"], command
    options = [arg for arg in command[2:] if arg.startswith("--")]
    assert set(options) <= serve_options(), sorted(set(options) - serve_options())
    serve.make_context("serve", list(command[2:]))  # raises on a bad value or a missing one


# --- Dockerfile -------------------------------------------------------------------------------


def docker_commands() -> tuple[dockerfile.Command, ...]:
    return dockerfile.parse_file(str(DEPLOY / "Dockerfile"))


def stages() -> dict[str, list[dockerfile.Command]]:
    """The Dockerfile's instructions grouped by stage name (``FROM image AS name``)."""
    out: dict[str, list[dockerfile.Command]] = {}
    current: list[dockerfile.Command] = []
    for cmd in docker_commands():
        if cmd.cmd == "FROM":
            assert len(cmd.value) == 3 and cmd.value[1].upper() == "AS", cmd.original
            current = out.setdefault(cmd.value[2], [])
        current.append(cmd)
    return out


def final_stage() -> list[dockerfile.Command]:
    return list(stages().values())[-1]


def one(stage: list[dockerfile.Command], name: str) -> dockerfile.Command:
    found = [c for c in stage if c.cmd == name]
    assert len(found) == 1, f"expected one {name} in the stage, found {len(found)}"
    return found[0]


def dockerignore_patterns() -> list[str]:
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def ignored(path: str, patterns: list[str]) -> bool:
    """Whether Docker leaves ``path`` (or a folder above it) out of the build context."""
    parts = path.strip("/").split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    excluded = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        glob = pattern.lstrip("!").strip("/")
        regex = re.escape(glob).replace(r"\*\*/", "(?:.*/)?").replace(r"\*", "[^/]*")
        if any(re.fullmatch(regex, prefix) for prefix in prefixes):
            excluded = not negate
    return excluded


def tracked(path: str) -> bool:
    """Whether git tracks ``path`` (a file, or files below a folder): a clean clone has it."""
    listed = subprocess.run(
        ["git", "ls-files", "--", path], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return bool(listed.stdout.strip())


def test_every_copy_source_is_in_the_build_context() -> None:
    patterns = dockerignore_patterns()
    copies = [c for c in docker_commands() if c.cmd in {"COPY", "ADD"}]
    context_copies = [c for c in copies if not any(f.startswith("--from=") for f in c.flags)]
    assert context_copies, "the Dockerfile copies nothing from the repository"
    for copy in context_copies:
        *sources, _dest = copy.value
        for source in sources:
            assert tracked(source), f"line {copy.start_line}: {source} is not in the repository"
            assert not ignored(source, patterns), f"{source} is left out by .dockerignore"


def test_the_dashboard_stage_matches_the_dashboard_project() -> None:
    package = json.loads((ROOT / "streaming-frontend" / "package.json").read_text())
    assert "build" in package["scripts"]
    vite = (ROOT / "streaming-frontend" / "vite.config.ts").read_text()
    assert re.search(r"outDir:\s*'dist'", vite), "the image copies streaming-frontend/dist"
    # compose's dev profile: the Vite dev server on 5193, proxying to the api service.
    dashboard = compose()["services"]["dashboard"]
    assert re.search(r"port:\s*5193", vite)
    (variable,) = dashboard["environment"]
    assert f"process.env.{variable}" in vite


def test_copy_from_names_an_earlier_stage() -> None:
    seen: list[str] = []
    for cmd in docker_commands():
        if cmd.cmd == "FROM":
            seen.append(cmd.value[2])
        for flag in cmd.flags:
            if flag.startswith("--from="):
                assert flag.removeprefix("--from=") in seen[:-1], cmd.original


def test_the_dashboard_is_built_with_npm_ci_into_the_static_dir() -> None:
    dashboard = stages()["dashboard"]
    runs = [" ".join(c.value) for c in dashboard if c.cmd == "RUN"]
    assert any(run.startswith("npm ci") for run in runs)
    assert "npm run build" in runs
    runtime = final_stage()
    env = dict(zip(one(runtime, "ENV").value[::2], one(runtime, "ENV").value[1::2], strict=True))
    copy = next(c for c in runtime if c.cmd == "COPY" and "--from=dashboard" in c.flags)
    assert copy.value[0].rstrip("/") == "/src/streaming-frontend/dist"
    assert copy.value[-1].rstrip("/") == env["BIOMOCK_STATIC_DIR"]


def test_the_runtime_stage_serves_as_a_non_root_user() -> None:
    runtime = final_stage()
    assert runtime[0].value[0] == "python:3.11-slim"
    user = one(runtime, "USER").value[0]
    assert user not in {"root", "0"}
    adduser = " ".join(" ".join(c.value) for c in runtime if c.cmd == "RUN")
    assert "useradd" in adduser and adduser.rstrip().endswith(user)
    # The user is switched to after every step that needs root.
    assert runtime.index(one(runtime, "USER")) > max(
        i for i, c in enumerate(runtime) if c.cmd in {"RUN", "COPY"}
    )


def test_the_runtime_stage_runs_biomock_serve_on_the_exposed_port() -> None:
    runtime = final_stage()
    cmd = one(runtime, "CMD")
    assert cmd.json, "CMD in exec form, so SIGTERM reaches biomock rather than a shell"
    assert_serve_command(cmd.value)
    assert_serve_command(one(stages()["dev"], "CMD").value)
    args = list(cmd.value)
    assert args[args.index("--host") + 1] == "0.0.0.0"
    port = args[args.index("--port") + 1]
    assert one(runtime, "EXPOSE").value == (port,)
    assert one(runtime, "STOPSIGNAL").value == ("SIGTERM",)
    health = one(runtime, "HEALTHCHECK")
    assert health.value[:3] == ("CMD", "python", "-c")
    assert f"http://127.0.0.1:{port}/healthz" in health.value[3]


def test_deploy_files_set_only_variables_the_server_reads() -> None:
    known = server_env_names()
    used: set[str] = set()
    for path in [DEPLOY / "Dockerfile", DEPLOY / "compose.yaml", DEPLOY / "nginx.conf"]:
        used |= set(re.findall(r"\bBIOMOCK_[A-Z0-9_]+", path.read_text()))
    assert used <= known, sorted(used - known)


def test_the_staging_config_file_loads_as_the_server_would() -> None:
    path = DEPLOY / "biomock.toml"
    config = load_config({}, environ={}, toml_path=path)  # raises on an unknown or bad key
    assert set(tomllib.loads(path.read_text())) <= set(Config.model_fields)
    assert config.graceful_timeout_s > 0
    assert config.log_format == "json"


# --- compose.yaml -----------------------------------------------------------------------------


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    return loaded


def services(profile: str) -> dict[str, dict[str, Any]]:
    return {
        name: svc
        for name, svc in compose()["services"].items()
        if profile in svc.get("profiles", [])
    }


def duration_s(text: str) -> float:
    """A compose duration such as ``1m30s`` or ``15s``, in seconds."""
    units = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|h|m|s)", text)
    assert parts and "".join(n + u for n, u in parts) == text, text
    return sum(float(n) * units[u] for n, u in parts)


def option(command: list[str], name: str) -> str:
    return command[command.index(name) + 1]


def test_compose_has_a_dev_and_a_staging_profile() -> None:
    assert set(services("dev")) == {"api", "dashboard"}
    assert set(services("staging")) == {"biomock", "proxy", "redis"}
    for svc in compose()["services"].values():
        assert svc.get("profiles"), "a service without a profile would start with every profile"


def test_every_biomock_service_builds_this_repo_and_serves_on_its_published_port() -> None:
    dockerfile_stages = set(stages())
    for name in ["api", "biomock"]:
        svc = compose()["services"][name]
        build = svc["build"]
        assert (DEPLOY / build["context"] / build["dockerfile"]).resolve() == DEPLOY / "Dockerfile"
        assert build.get("target", list(dockerfile_stages)[-1]) in dockerfile_stages
        command = svc["command"]
        assert_serve_command(command)
        port = option(command, "--port")
        published = [p.split(":")[-1] for p in svc.get("ports", [])] + svc.get("expose", [])
        assert published == [port], name
        assert f"http://127.0.0.1:{port}/healthz" in " ".join(svc["healthcheck"]["test"])


def test_every_biomock_service_environment_is_valid_settings() -> None:
    for name in ["api", "biomock"]:
        svc = compose()["services"][name]
        environ = {key: str(value) for key, value in svc["environment"].items()}
        command = svc["command"]
        toml = None
        if "--config" in command:
            mount = next(v for v in svc["volumes"] if option(command, "--config") in v)
            toml = DEPLOY / mount.split(":")[0]
        load_config({}, environ=environ, toml_path=toml)  # raises ConfigError naming the bad one


def test_dev_profile_reloads_mounted_source_and_runs_vite_on_5193() -> None:
    api = compose()["services"]["api"]
    assert "--reload" in api["command"]
    assert api["build"]["target"] == "dev"
    mounts = [v.split(":") for v in api["volumes"]]
    assert ["../biomock", "/src/biomock"] in mounts
    assert (DEPLOY / "../biomock").resolve() == ROOT / "biomock"
    dev_stage = stages()["dev"]
    assert one(dev_stage, "WORKDIR").value == ("/src",)
    assert "-e" in shlex.split(" ".join(next(c for c in dev_stage if c.cmd == "RUN").value))

    dashboard = compose()["services"]["dashboard"]
    assert dashboard["ports"] == ["5193:5193"]
    assert "--port 5193" in " ".join(dashboard["command"])
    backend = dashboard["environment"]["DASHBOARD_BACKEND"]
    assert backend == f"http://api:{option(api['command'], '--port')}"
    assert dashboard["depends_on"]["api"]["condition"] == "service_healthy"


def test_staging_profile_restarts_limits_and_shuts_down_gracefully() -> None:
    svc = compose()["services"]["biomock"]
    assert svc["restart"] == "unless-stopped"
    assert "volumes" not in svc or all(v.endswith(":ro") for v in svc["volumes"])
    limits = svc["deploy"]["resources"]["limits"]
    assert float(limits["cpus"]) > 0 and re.fullmatch(r"\d+[MG]", limits["memory"])
    config_in_container = option(svc["command"], "--config")
    host_side = next(v.split(":")[0] for v in svc["volumes"] if config_in_container in v)
    settings = tomllib.loads((DEPLOY / host_side).read_text())
    # Compose sends SIGKILL after stop_grace_period: it must outlast biomock's own drain.
    assert duration_s(svc["stop_grace_period"]) > settings["graceful_timeout_s"]
    for key, value in svc["healthcheck"].items():
        if key in {"interval", "timeout", "start_period"}:
            assert duration_s(value) > 0
    proxy = compose()["services"]["proxy"]
    assert proxy["depends_on"]["biomock"]["condition"] == "service_healthy"
    assert "./nginx.conf:/etc/nginx/nginx.conf:ro" in proxy["volumes"]


# --- nginx.conf --------------------------------------------------------------------------------

Directive = dict[str, Any]


def nginx_http() -> Directive:
    parsed = crossplane.parse(str(DEPLOY / "nginx.conf"), single=True, comments=False)
    assert parsed["status"] == "ok", parsed["errors"]
    config = parsed["config"][0]["parsed"]
    return next(d for d in config if d["directive"] == "http")


def effective(name: str, *blocks: Directive) -> list[list[str]]:
    """The values of ``name`` that apply in the innermost block (nginx inherits from outer ones
    only when a block sets none of its own)."""
    for block in reversed(blocks):
        found = [d["args"] for d in block.get("block", []) if d["directive"] == name]
        if found:
            return found
    return []


def nginx_time_s(text: str) -> float:
    units = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "": 1.0}
    number, unit = re.fullmatch(r"(\d+)(ms|s|m|h|)", text).groups()  # type: ignore[union-attr]
    return int(number) * units[unit]


def proxied_locations() -> list[tuple[Directive, Directive, Directive]]:
    http = nginx_http()
    out = []
    for server in (d for d in http["block"] if d["directive"] == "server"):
        for location in (d for d in server["block"] if d["directive"] == "location"):
            if effective("proxy_pass", location):
                out.append((http, server, location))
    return out


def upstreams() -> dict[str, Directive]:
    return {d["args"][0]: d for d in nginx_http()["block"] if d["directive"] == "upstream"}


def test_nginx_proxies_to_the_staging_service() -> None:
    svc = compose()["services"]["biomock"]
    for upstream in upstreams().values():
        servers = [d["args"][0] for d in upstream["block"] if d["directive"] == "server"]
        assert servers == [f"biomock:{option(svc['command'], '--port')}"]
    locations = proxied_locations()
    assert {loc["args"][0] for _, _, loc in locations} >= {"/api/stream", "/api/ws", "/"}
    for blocks in locations:
        assert effective("proxy_pass", *blocks) == [["http://biomock"]]


def test_nginx_keeps_sse_flowing() -> None:
    heartbeat_s = Config().heartbeat_s
    for blocks in proxied_locations():
        where = blocks[-1]["args"][0]
        assert effective("proxy_http_version", *blocks) == [["1.1"]], where
        headers = {args[0].lower(): args[1] for args in effective("proxy_set_header", *blocks)}
        if where == "/api/ws":  # the upgrade is the one hop-by-hop header passed on
            assert headers.get("connection") == "$connection_upgrade", where
            assert headers.get("upgrade") == "$http_upgrade", where
        else:
            assert headers.get("connection") == "", where
        assert headers.get("host") == "$host", where
    stream = next(b for b in proxied_locations() if b[-1]["args"][0] == "/api/stream")
    assert effective("proxy_buffering", *stream) == [["off"]]
    assert effective("proxy_cache", *stream) in ([], [["off"]])
    assert effective("gzip", *stream) in ([], [["off"]])
    read_timeout = effective("proxy_read_timeout", *stream) or [["60s"]]
    assert nginx_time_s(read_timeout[0][0]) > 2 * heartbeat_s


def test_nginx_tries_another_replica_before_a_stream_fails() -> None:
    for where in ("/api/stream", "/api/ws"):
        blocks = next(b for b in proxied_locations() if b[-1]["args"][0] == where)
        tried = effective("proxy_next_upstream", *blocks)
        assert len(tried) == 1, where
        assert set(tried[0]) == {"error", "timeout", "http_502", "http_503"}, where


def test_nginx_never_sends_connection_keep_alive_on_http2() -> None:
    text = (DEPLOY / "nginx.conf").read_text()
    directives = [line.split("#")[0] for line in text.splitlines()]
    for line in directives:
        assert not re.search(r"add_header\s+Connection", line, re.IGNORECASE), line
        assert not re.search(r"Connection\s+\"?keep-alive", line, re.IGNORECASE), line
    listens = [
        d["args"]
        for s in nginx_http()["block"]
        if s["directive"] == "server"
        for d in s["block"]
        if d["directive"] == "listen"
    ]
    assert any("http2" in args and "ssl" in args for args in listens)


def test_dockerignore_keeps_local_state_out_of_the_image() -> None:
    patterns = dockerignore_patterns()
    for path in [
        ".git",
        ".venv/bin/python",
        "biomock/__pycache__/app.cpython-311.pyc",
        "streaming-frontend/node_modules/react/index.js",
        "streaming-frontend/dist/x.js",
    ]:
        assert ignored(path, patterns), path
    for path in [
        "pyproject.toml",
        "README.md",
        "biomock/app.py",
        "streaming-frontend/src/main.tsx",
    ]:
        assert not ignored(path, patterns), path


# --- Hardening (docs/operations.md) ----------------------------------------------------------


def nginx_servers() -> list[Directive]:
    return [d for d in nginx_http()["block"] if d["directive"] == "server"]


def location(path: str) -> tuple[Directive, Directive, Directive]:
    http = nginx_http()
    for server in nginx_servers():
        for found in (d for d in server["block"] if d["directive"] == "location"):
            if found["args"][-1] == path:
                return http, server, found
    raise AssertionError(f"no location {path}")


def test_staging_containers_are_read_only_without_capabilities() -> None:
    for name in ["biomock", "proxy", "redis"]:
        svc = compose()["services"][name]
        assert svc["read_only"] is True, name
        assert "/tmp" in svc["tmpfs"], name
        assert svc["cap_drop"] == ["ALL"], name
        assert "no-new-privileges:true" in svc["security_opt"], name
    assert "cap_add" not in compose()["services"]["biomock"]
    assert "cap_add" not in compose()["services"]["redis"]
    # nginx's master binds 80/443 and switches its workers to the nginx user: nothing else.
    proxy = compose()["services"]["proxy"]
    assert set(proxy["cap_add"]) <= {"CHOWN", "SETGID", "SETUID", "NET_BIND_SERVICE"}
    pid = next(d["args"][0] for d in nginx_parsed() if d["directive"] == "pid")
    assert any(pid.startswith(mount + "/") for mount in proxy["tmpfs"]), pid


def nginx_parsed() -> list[Directive]:
    parsed = crossplane.parse(str(DEPLOY / "nginx.conf"), single=True, comments=False)
    config: list[Directive] = parsed["config"][0]["parsed"]
    return config


def test_staging_reads_its_tokens_from_a_git_ignored_secret() -> None:
    svc = compose()["services"]["biomock"]
    (secret,) = svc["secrets"]
    assert svc["environment"]["BIOMOCK_AUTH_TOKENS_FILE"] == f"/run/secrets/{secret}"
    source = compose()["secrets"][secret]["file"]
    assert git_ignored(str((DEPLOY / source).relative_to(ROOT)))
    assert not tracked(str((DEPLOY / source).relative_to(ROOT)))


def git_ignored(path: str) -> bool:
    checked = subprocess.run(["git", "check-ignore", "-q", path], cwd=ROOT, check=False)
    return checked.returncode == 0


def test_certificates_are_git_ignored() -> None:
    proxy = compose()["services"]["proxy"]
    certs = next(v.split(":")[0] for v in proxy["volumes"] if "/etc/nginx/certs" in v)
    folder = (DEPLOY / certs).resolve().relative_to(ROOT)
    assert git_ignored(f"{folder}/tls.key") and git_ignored(f"{folder}/tls.crt")
    assert not tracked(str(folder))


def test_metrics_is_only_reachable_inside_the_compose_network() -> None:
    svc = compose()["services"]["biomock"]
    assert "ports" not in svc and svc["expose"] == ["8000"]
    _, _, metrics = location("/metrics")
    assert metrics["args"] == ["=", "/metrics"]
    assert not effective("proxy_pass", metrics)
    (returned,) = effective("return", metrics)
    assert returned[0] == "404" and json.loads(returned[1])["error"]["code"] == "not_found"


def test_plain_http_only_redirects_to_https() -> None:
    servers = nginx_servers()
    plain = [s for s in servers if any(d["args"] == ["80"] for d in s["block"])]
    assert len(plain) == 1
    (root,) = [d for d in plain[0]["block"] if d["directive"] == "location"]
    assert effective("return", root) == [["301", "https://$host$request_uri"]]
    assert not effective("proxy_pass", plain[0], root)
    for server in servers:
        if server is not plain[0]:
            listens = [d["args"] for d in server["block"] if d["directive"] == "listen"]
            assert all("ssl" in args for args in listens), listens
    published = compose()["services"]["proxy"]["ports"]
    assert "443:443" in published  # the redirect's https:// URL has no port


def nginx_size_bytes(text: str) -> int:
    number, unit = re.fullmatch(r"(\d+)([kKmM]?)", text).groups()  # type: ignore[union-attr]
    return int(number) * {"": 1, "k": 1024, "m": 1024 * 1024}[unit.lower()]


def test_nginx_refuses_large_bodies_and_limits_each_address() -> None:
    http = nginx_http()
    assert effective("client_max_body_size", http) == [["8k"]]
    for blocks in proxied_locations():  # no location raises it again
        assert nginx_size_bytes(effective("client_max_body_size", *blocks)[0][0]) <= 8192
    zones = {
        d["args"][1].split("=")[1].split(":")[0]: d
        for d in http["block"]
        if "zone" in d["directive"]
    }
    for directive in zones.values():
        assert directive["args"][0] == "$binary_remote_addr"  # per client address
    for path in ["/api/stream", "/api/ws"]:
        blocks = location(path)
        (conn,) = effective("limit_conn", *blocks)
        assert zones[conn[0]]["directive"] == "limit_conn_zone" and int(conn[1]) > 0, path
    for blocks in proxied_locations():
        where = blocks[-1]["args"][-1]
        if where.startswith("/api"):
            (req,) = effective("limit_req", *blocks)
            zone = req[0].removeprefix("zone=")
            assert zones[zone]["directive"] == "limit_req_zone", where
    assert effective("limit_req_status", http) == [["429"]]
    assert effective("limit_conn_status", http) == [["429"]]


def test_staging_runs_two_replicas_sharing_one_redis_behind_least_conn() -> None:
    svc = compose()["services"]["biomock"]
    redis = compose()["services"]["redis"]
    assert svc["deploy"]["replicas"] == 2
    bus = svc["environment"]["BIOMOCK_BUS"]
    (port,) = redis["expose"]
    assert bus == f"redis://redis:{port}/0"
    assert svc["depends_on"]["redis"]["condition"] == "service_healthy"
    # Pinned to a release, no persistence (the log is a buffer; an empty Redis is handled).
    assert re.fullmatch(r"redis:7\.\d+\.\d+(-\w+)?", redis["image"]), redis["image"]
    command = redis["command"]
    assert command[0] == "redis-server"
    assert option(command, "--save") == "" and option(command, "--appendonly") == "no"
    assert option(command, "--maxmemory-policy") == "noeviction"
    assert "redis-cli" in redis["healthcheck"]["test"]
    upstream = upstreams()["biomock"]
    assert "least_conn" in [d["directive"] for d in upstream["block"]]


def test_nginx_balances_sessions_like_everything_else() -> None:
    # Sessions live in Redis with BIOMOCK_BUS: any replica serves any session, so the
    # proxy has one upstream, balanced, with no hashing on the client or the session.
    assert list(upstreams()) == ["biomock"]
    upstream = upstreams()["biomock"]
    assert "hash" not in [d["directive"] for d in upstream["block"]]
    maps = [d for d in nginx_http()["block"] if d["directive"] == "map"]
    assert all("session" not in " ".join(m["args"]) for m in maps)
