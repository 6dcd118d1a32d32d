"""The load client: N SSE (or WebSocket) subscribers on raw trio sockets, checking all they get.

Each connection sends one HTTP/1.1 GET (with ``--ws``, a WebSocket upgrade), decodes
the chunked body into SSE events (or the frames into messages) and, for every
sample, checks the id against the previous one (a gap or a duplicate is counted)
and measures publish-to-receive latency (:mod:`benchmarks.fanout.client_conn`).
Only 127.0.0.1 is ever contacted, and the run is bounded in time and count.

Phases: connect all (bounded by ``--connect-timeout``), warm up, a measurement
window in which the server's CPU time and RSS are read from ``/proc``, then a
drain in which every connection must reach the newest id seen at the window's
end. The result is one JSON object on stdout.

Run: ``python -m benchmarks.fanout.client --port 8000 --n 2000 --server-pid PID``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import socket
import sys
import time
from typing import Any

import trio

from benchmarks.fanout.client_conn import Conn, ProtocolError, Window
from benchmarks.fanout.ws_conn import WsConn, upgrade_request

TICKS_PER_S = os.sysconf("SC_CLK_TCK")
RECV_SIZE = 32768


_NO_LIMIT = trio.CapacityLimiter(1_000_000)
"""Late joiners connect at once, not behind the initial connection storm."""


def read_cpu_s(pid: int) -> float:
    """CPU seconds of process ``pid``, all its threads, to the nanosecond.

    ``/proc/PID/task/*/schedstat`` counts time on the CPU in ns; ``/proc/PID/stat``'s
    utime + stime (10 ms ticks) is the fallback where schedstat is missing.
    """
    try:
        total = 0
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/schedstat") as f:
                total += int(f.read().split()[0])
        return total / 1e9
    except (OSError, ValueError, IndexError):
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICKS_PER_S


def read_cpu_all_s(pids: list[int]) -> float:
    """CPU seconds of every process in ``pids`` (a server's workers) together."""
    return sum(read_cpu_s(pid) for pid in pids)


def read_rss_all_kb(pids: list[int]) -> int:
    return sum(read_rss_kb(pid) for pid in pids)


def read_rss_kb(pid: int) -> int:
    """Resident set size of ``pid`` in KiB."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise ValueError(f"no VmRSS for {pid}")


def raise_nofile(wanted: int) -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = min(wanted, hard) if hard != resource.RLIM_INFINITY else wanted
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    return values[min(len(values) - 1, int(q * len(values)))]


class Client:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.window = Window()
        self.window.light = args.light
        self.conns: list[Conn] = []
        self.late: list[Conn] = []
        self.connected = 0
        self.failed = 0
        self.failures: dict[str, int] = {}
        self.settled = trio.Event()
        self.limiter = trio.CapacityLimiter(args.connect_concurrency)
        host = f"127.0.0.1:{args.port}"
        self.conn_type = WsConn if args.ws else Conn
        self.request = (
            upgrade_request(args.path, host)
            if args.ws
            else (
                f"GET {args.path} HTTP/1.1\r\nHost: {host}\r\nAccept: text/event-stream\r\n\r\n"
            ).encode()
        )

    def _fail(self, reason: str) -> None:
        self.failed += 1
        self.failures[reason] = self.failures.get(reason, 0) + 1
        self._check_settled()

    def _check_settled(self) -> None:
        if self.connected + self.failed >= self.args.n:
            self.settled.set()

    async def _open(
        self, conn: Conn, request: bytes, rcvbuf: int | None = None, limited: bool = True
    ) -> trio.socket.SocketType:
        started = time.perf_counter()
        async with self.limiter if limited else _NO_LIMIT:
            sock = trio.socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            if rcvbuf is not None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
            try:
                await sock.connect(("127.0.0.1", self.args.port))
                await sock.send(request)
                head = b""
                while b"\r\n\r\n" not in head:
                    data = await sock.recv(RECV_SIZE)
                    if not data:
                        raise ProtocolError("closed before the response headers")
                    head += data
            except BaseException:
                sock.close()
                raise
        header, rest = head.split(b"\r\n\r\n", 1)
        status = header.split(b"\r\n", 1)[0]
        expected = b" 101 " if self.args.ws else b" 200 "
        if expected not in status + b" ":
            sock.close()
            raise ProtocolError(status.decode(errors="replace"))
        if not self.args.ws and b"transfer-encoding: chunked" not in header.lower():
            sock.close()
            raise ProtocolError("response is not chunked")
        conn.connect_s = time.perf_counter() - started
        if rest:
            conn.feed(rest, time.time())
        return sock

    async def _read(self, conn: Conn, sock: trio.socket.SocketType) -> None:
        try:
            while not conn.ended:
                data = await sock.recv(RECV_SIZE)
                if not data:
                    break
                conn.feed(data, time.time())
                if self.window.open:
                    self.window.reads += 1
            conn.closed = True
        except OSError as error:
            conn.closed = True
            conn.error = type(error).__name__
        except ProtocolError as error:
            conn.closed = True
            conn.error = str(error)
        finally:
            sock.close()

    async def subscriber(self, late: bool = False) -> None:
        conn = self.conn_type(self.window)
        (self.late if late else self.conns).append(conn)
        try:
            sock = await self._open(conn, self.request, limited=not late)
        except (OSError, ProtocolError) as error:
            conn.closed = True
            conn.error = str(error)
            if not late:
                self._fail(type(error).__name__ + ": " + str(error)[:60])
            return
        if not late:
            self.connected += 1
            self._check_settled()
        await self._read(conn, sock)

    async def stalled(self, status: dict[str, Any]) -> None:
        """A subscriber that reads its headers and then never reads again."""
        conn = self.conn_type(Window())
        path = self.args.stall_path or self.args.path
        request = self.request.replace(self.args.path.encode(), path.encode(), 1)
        try:
            sock = await self._open(conn, request, rcvbuf=4096)
        except (OSError, ProtocolError) as error:
            status["error"] = str(error)
            return
        status["connected"] = True
        try:
            await trio.sleep_forever()
        finally:
            sock.close()

    async def fetch_json(self, path: str) -> Any:
        with trio.move_on_after(5):
            stream = await trio.open_tcp_stream("127.0.0.1", self.args.port)
            async with stream:
                await stream.send_all(
                    f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{self.args.port}\r\n"
                    "Connection: close\r\n\r\n".encode()
                )
                body = b""
                while data := await stream.receive_some(RECV_SIZE):
                    body += data
            header, _, rest = body.partition(b"\r\n\r\n")
            if b"chunked" in header.lower():
                rest = dechunk(rest)
            return json.loads(rest)
        return None

    async def run(self) -> dict[str, Any]:
        args = self.args
        pid = [int(p) for p in args.server_pid.split(",") if p]
        redis_pid = args.redis_pid
        result: dict[str, Any] = {"n": args.n, "nofile": raise_nofile(args.n + 1000)}
        if pid:
            result["rss_idle_kb"] = read_rss_all_kb(pid)
        stall: dict[str, Any] = {"connected": False}
        async with trio.open_nursery() as nursery:
            t0 = time.perf_counter()
            for _ in range(args.n):
                nursery.start_soon(self.subscriber)
            with trio.move_on_after(args.connect_timeout):
                await self.settled.wait()
            result["connect_all_s"] = round(time.perf_counter() - t0, 3)
            result["connected"] = self.connected
            result["connect_failed"] = self.failed
            result["connect_failures"] = self.failures
            times = sorted(c.connect_s for c in self.conns if c.connect_s is not None)
            result["connect_p50_s"] = percentile(times, 0.5)
            result["connect_max_s"] = times[-1] if times else None

            await trio.sleep(args.warmup)
            usage0 = resource.getrusage(resource.RUSAGE_SELF)
            cpu0 = read_cpu_all_s(pid) if pid else 0.0
            redis0 = read_cpu_s(redis_pid) if redis_pid else 0.0
            w0 = time.perf_counter()
            self.window.open = True
            if args.late or args.stall:
                # Half the window as it was, then late joiners and/or the stalled client.
                await trio.sleep(args.duration / 2)
                stall["at"] = time.time()
                for _ in range(args.late):
                    nursery.start_soon(self.subscriber, True)
                if args.stall:
                    nursery.start_soon(self.stalled, stall)
                await trio.sleep(args.duration / 2)
            else:
                await trio.sleep(args.duration)
            self.window.open = False
            elapsed = time.perf_counter() - w0
            cpu1 = read_cpu_all_s(pid) if pid else 0.0
            redis1 = read_cpu_s(redis_pid) if redis_pid else 0.0
            usage1 = resource.getrusage(resource.RUSAGE_SELF)
            if pid:
                result["rss_kb"] = read_rss_all_kb(pid)
            newest = max((c.last_id or 0) for c in self.conns) if self.conns else 0
            deadline = trio.current_time() + args.drain
            while trio.current_time() < deadline:
                behind = [c for c in self.conns if not c.closed and (c.last_id or 0) < newest]
                if not behind:
                    break
                await trio.sleep(0.05)
            result["drain_s"] = round(args.drain - max(0.0, deadline - trio.current_time()), 3)
            if args.stats_path:
                stats = await self.fetch_json(args.stats_path)
                # A server that cuts stalled clients counts them in dropped_slow.
                wait_until = trio.current_time() + args.stall_wait
                while (
                    args.stall
                    and isinstance(stats, dict)
                    and stats.get("dropped_slow") == 0
                    and trio.current_time() < wait_until
                ):
                    await trio.sleep(0.25)
                    stats = await self.fetch_json(args.stats_path)
                if args.stall and isinstance(stats, dict) and stats.get("dropped_slow"):
                    stall["cut_within_s"] = round(time.time() - stall["at"], 2)
                result["server_stats"] = stats
            nursery.cancel_scope.cancel()

        lat = sorted(self.window.latencies)
        if args.stall:
            at = stall["at"]
            pairs = zip(self.window.published, self.window.latencies, strict=True)
            before, after = [], []
            for published, latency in pairs:
                (before if published < at else after).append(latency)
            stall["p99_before"] = percentile(sorted(before), 0.99)
            stall["p99_after"] = percentile(sorted(after), 0.99)
        per_tick: dict[float, list[float]] = {}
        for published, latency in zip(self.window.published, self.window.latencies, strict=True):
            per_tick.setdefault(published, []).append(latency)
        result["ticks"] = [
            [
                round(p, 3),
                len(v),
                round(min(v), 4),
                round(sorted(v)[len(v) // 2], 4),
                round(max(v), 4),
            ]
            for p, v in sorted(per_tick.items())
        ]
        live = [c for c in self.conns if c.connect_s is not None]
        result.update(
            window_s=round(elapsed, 3),
            server_cpu_s=round(cpu1 - cpu0, 6),
            redis_cpu_s=round(redis1 - redis0, 6) if redis_pid else None,
            client_cpu_s=round(
                usage1.ru_utime + usage1.ru_stime - usage0.ru_utime - usage0.ru_stime, 3
            ),
            events_in_window=self.window.events,
            reads_in_window=self.window.reads,
            latency_p50_s=percentile(lat, 0.5),
            latency_p99_s=percentile(lat, 0.99),
            latency_max_s=lat[-1] if lat else None,
            events=sum(c.events for c in live),
            gaps=sum(c.gaps for c in live),
            dups=sum(c.dups for c in live),
            resets=sum(c.resets for c in live),
            closed_by_server=sum(1 for c in live if c.closed and not c.error),
            errors=sum(1 for c in live if c.error),
            behind_at_end=sum(1 for c in live if (c.last_id or 0) < newest),
            newest_id=newest,
            stalled=stall if args.stall else None,
        )
        if args.latencies_out:  # for a run split over several clients, merged by run.py
            result["_latencies"] = lat
        if args.late:
            late_times = sorted(c.connect_s for c in self.late if c.connect_s is not None)
            result["late"] = {
                "opened": len(self.late),
                "admitted": len(late_times),
                "connect_max_s": late_times[-1] if late_times else None,
                "received": sum(1 for c in self.late if c.events),
            }
        return result


def dechunk(data: bytes) -> bytes:
    """Decode a complete chunked body."""
    out, pos = [], 0
    while True:
        eol = data.index(b"\r\n", pos)
        length = int(data[pos:eol].split(b";", 1)[0], 16)
        if length == 0:
            return b"".join(out)
        out.append(data[eol + 2 : eol + 2 + length])
        pos = eol + 2 + length + 2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", default="/api/stream")
    parser.add_argument("--ws", action="store_true", help="subscribe over WebSocket at --path")
    parser.add_argument("--n", type=int, default=100, help="subscribers")
    parser.add_argument(
        "--server-pid",
        default="",
        help="read CPU and RSS from /proc; several comma-separated pids (workers) are summed",
    )
    parser.add_argument("--redis-pid", type=int, default=0, help="also read Redis's CPU")
    parser.add_argument("--latencies-out", default=None, help="write the window's latencies")
    parser.add_argument("--connect-timeout", type=float, default=20.0)
    parser.add_argument("--connect-concurrency", type=int, default=1000)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--drain", type=float, default=5.0)
    parser.add_argument("--late", type=int, default=0, help="open this many mid-window")
    parser.add_argument("--stall", action="store_true", help="add one client that never reads")
    parser.add_argument("--stall-path", default=None, help="the stalled client's request path")
    parser.add_argument("--stall-wait", type=float, default=15.0, help="max wait for the cut")
    parser.add_argument("--stats-path", default=None, help="JSON to fetch at the end")
    parser.add_argument("--light", action="store_true", help="check ids per block, not per event")
    parser.add_argument("--cpu", type=int, default=None, help="pin the client to this core")
    args = parser.parse_args()
    if args.cpu is not None:
        os.sched_setaffinity(0, {args.cpu})
    result = trio.run(Client(args).run)
    latencies = result.pop("_latencies", None)
    if args.latencies_out:
        with open(args.latencies_out, "w") as f:
            json.dump(latencies, f)
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
