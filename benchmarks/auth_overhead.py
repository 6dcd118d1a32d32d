"""What authentication costs per delivered sample: the fan-out run with auth off and on.

The same workload as ``make bench-fanout``'s 1,000-subscriber run (the benchmark's
source, 8 samples per tick, server pinned to core 0, client to core 1), served with
authentication off, with a static token, and with a JWT (HS256; its expiry gives each
stream a deadline), on the direct-write path and on the public ASGI path. Modes are
interleaved over several rounds and the median of each is reported, since the machine
is shared. Authentication is checked once per connection, so the cost per sample
should be noise; the connect time shows the per-connection price.

Run: ``python -m benchmarks.auth_overhead [--rounds 3] [--n 1000]``; prints JSON and
a table.
"""

from __future__ import annotations

import argparse
import json
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import jwt

from benchmarks.overhead import measure

MODES = ("off", "static", "jwt")


def credentials(mode: str, directory: Path) -> tuple[dict[str, str], str]:
    """The server's environment for ``mode`` and the token its clients send."""
    if mode == "off":
        return {}, ""
    if mode == "static":
        token = secrets.token_urlsafe(32)
        path = directory / "tokens.toml"
        path.write_text(f'[[token]]\nname = "bench"\ntoken = "{token}"\nscopes = ["read"]\n')
        return {"BIOMOCK_AUTH_TOKENS_FILE": str(path)}, token
    secret = secrets.token_urlsafe(48)
    claims = {"sub": "bench", "scope": "read", "exp": int(time.time()) + 3600}
    return {"BIOMOCK_JWT_SECRET": secret}, jwt.encode(claims, secret, algorithm="HS256")


def run(mode: str, fast_path: bool, args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        settings, token = credentials(mode, Path(tmp))
        settings["BIOMOCK_FAST_PATH"] = "true" if fast_path else "false"
        query = f"?access_token={token}" if token else ""
        result = measure(settings, query=query, stats_query=True, n=args.n, duration=args.duration)
    return {"mode": mode, "fast_path": fast_path, **result}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--duration", type=float, default=10.0)
    args = parser.parse_args()
    runs = []
    for round_ in range(args.rounds):
        for fast_path in (True, False):
            for mode in MODES:
                result = run(mode, fast_path, args)
                result["round"] = round_
                runs.append(result)
                print(json.dumps(result), file=sys.stderr)
    summary = []
    for fast_path in (True, False):
        base = None
        for mode in MODES:
            mine = [r for r in runs if r["mode"] == mode and r["fast_path"] == fast_path]
            per_sample = statistics.median(r["cpu_us_per_sample"] for r in mine)
            base = per_sample if mode == "off" else base
            summary.append(
                {
                    "path": "direct" if fast_path else "public",
                    "mode": mode,
                    "cpu_us_per_sample_median": round(per_sample, 3),
                    "vs_off_percent": round((per_sample / base - 1) * 100, 1) if base else None,
                    "connect_all_s_median": statistics.median(r["connect_all_s"] for r in mine),
                    "gaps": sum(r["gaps"] for r in mine),
                }
            )
    print(json.dumps({"n": args.n, "rounds": args.rounds, "summary": summary, "runs": runs}))
    print("| path | auth | CPU µs / sample (median) | vs off | connect all (median) |")
    print("| --- | --- | --- | --- | --- |")
    for s in summary:
        print(
            f"| {s['path']} | {s['mode']} | {s['cpu_us_per_sample_median']} "
            f"| {s['vs_off_percent']:+.1f} % | {s['connect_all_s_median']} s |"
        )


if __name__ == "__main__":
    main()
