"""The load client: N SSE (or WebSocket) subscribers on one epoll loop per process, checking all.

Each connection sends one HTTP/1.1 GET (with ``--ws``, a WebSocket upgrade), decodes
the chunked body into SSE events (or the frames into messages) and, for every
sample, checks the id against the previous one (a gap or a duplicate is counted)
and measures publish-to-receive latency (:mod:`benchmarks.fanout.client_conn`).
Only 127.0.0.1 is ever contacted, and the run is bounded in time and count.

The subscribers are shared among ``--procs`` worker processes (each one
``select.epoll`` loop over non-blocking sockets, no task per subscriber, pinned
round-robin to ``--cpus``), so that a run with 10,000 subscribers
measures the server rather than one Python process decoding everything; the
coordinator (this process) walks them through the phases: connect all (bounded by
``--connect-timeout``), warm up, a measurement window in which the server's CPU
time and RSS are read from ``/proc`` and its count of writes from
``--writes-path``, then a drain in which every connection must reach the newest id
any worker saw at the window's end. The result is one JSON object on stdout.

Run: ``python -m benchmarks.fanout.client --port 8000 --n 2000 --server-pid PID --procs 2``.
"""

from __future__ import annotations

import argparse
import errno
import http.client
import json
import math
import multiprocessing
import os
import resource
import select
import socket
import sys
import time
from array import array
from collections import deque
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any, NamedTuple

from benchmarks.fanout.client_conn import Conn, ProtocolError, Window
from benchmarks.fanout.ws_conn import WsConn, upgrade_request

TICKS_PER_S = os.sysconf("SC_CLK_TCK")
RECV_SIZE = 32768


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


_CONNECTING, _HEAD, _STREAM, _HELD = 0, 1, 2, 3
"""A link's states: connect in progress; request sent, reading the response head;
reading the stream; connected and never read again (the stalled client)."""

_IN = select.EPOLLIN
_OUT = select.EPOLLOUT


class _Opening(NamedTuple):
    """A subscriber waiting for its turn to connect."""

    conn: Conn
    request: bytes
    late: bool
    limited: bool
    rcvbuf: int | None
    on_open: Callable[[], None] | None
    started: float
    """When it was asked for: its connect time includes its wait for a turn."""


class Link:
    """One socket of a worker's loop and where it is in its life."""

    __slots__ = ("conn", "late", "limited", "on_open", "request", "sock", "started", "state")

    def __init__(
        self,
        conn: Conn,
        sock: socket.socket,
        request: bytes,
        *,
        late: bool,
        limited: bool,
        started: float,
        on_open: Callable[[], None] | None = None,
    ) -> None:
        self.conn = conn
        self.sock = sock
        self.request = request
        self.late = late
        self.limited = limited
        self.on_open = on_open
        self.state = _CONNECTING
        self.started = started


class Client:
    """One worker's subscribers, all on one ``select.epoll`` loop.

    No task per subscriber: each socket is non-blocking and registered with the one
    epoll; a ready socket is read once (level-triggered) and its bytes go straight to
    its :class:`Conn`. Connects are non-blocking, at most ``--connect-concurrency``
    (this worker's share) between the connect and the response head; the late joiners
    are not held behind that limit. The coordinator's pipe is one more descriptor in
    the same epoll.
    """

    def __init__(self, args: argparse.Namespace, pipe: Connection) -> None:
        self.args = args
        self.pipe = pipe
        self.window = Window()
        self.window.light = args.light
        self.conns: list[Conn] = []
        self.late: list[Conn] = []
        self.connected = 0
        self.failed = 0
        self.failures: dict[str, int] = {}
        self.links: dict[int, Link] = {}
        self.queued: deque[_Opening] = deque()
        self.opening = 0
        self.draining = False
        self.commands: deque[Any] = deque()
        self.epoll = select.epoll()
        self.epoll.register(pipe.fileno(), _IN)
        self.address = ("127.0.0.1", args.port)
        host = f"127.0.0.1:{args.port}"
        self.conn_type = WsConn if args.ws else Conn
        self.request = (
            upgrade_request(args.path, host)
            if args.ws
            else (
                f"GET {args.path} HTTP/1.1\r\nHost: {host}\r\nAccept: text/event-stream\r\n\r\n"
            ).encode()
        )

    # The connection's life

    def subscribe(self, *, late: bool = False) -> None:
        conn = self.conn_type(self.window)
        (self.late if late else self.conns).append(conn)
        self._start(conn, self.request, late=late, limited=not late)

    def _start(
        self,
        conn: Conn,
        request: bytes,
        *,
        late: bool,
        limited: bool,
        rcvbuf: int | None = None,
        on_open: Callable[[], None] | None = None,
    ) -> None:
        opening = _Opening(conn, request, late, limited, rcvbuf, on_open, time.perf_counter())
        if limited and self.opening >= self.args.connect_concurrency:
            self.queued.append(opening)  # no socket (no descriptor) until its turn
        else:
            self._connect(opening)

    def _connect(self, opening: _Opening) -> None:
        conn, request, late, limited, rcvbuf, on_open, started = opening
        if limited:
            self.opening += 1
        try:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        except OSError as error:  # out of descriptors, say
            self._failed(conn, error, counted=not late and on_open is None)
            self._opened_or_failed(limited)
            return
        sock.setblocking(False)
        if rcvbuf is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        link = Link(
            conn, sock, request, late=late, limited=limited, started=started, on_open=on_open
        )
        error = sock.connect_ex(self.address)
        if error not in (0, errno.EINPROGRESS):
            self._refused(link, OSError(error, os.strerror(error)))
            return
        fd = sock.fileno()
        self.links[fd] = link
        self.epoll.register(fd, _OUT)

    def _opened_or_failed(self, limited: bool) -> None:
        """A connect ended (opened or failed): the next queued one may start."""
        if not limited:
            return
        self.opening -= 1
        if self.draining:
            return  # the loop below, further up the stack, goes on
        self.draining = True
        try:
            while self.queued and self.opening < self.args.connect_concurrency:
                self._connect(self.queued.popleft())
        finally:
            self.draining = False

    def _failed(self, conn: Conn, error: Exception, *, counted: bool) -> None:
        conn.closed = True
        conn.error = str(error)
        if counted:
            self.failed += 1
            reason = type(error).__name__ + ": " + str(error)[:60]
            self.failures[reason] = self.failures.get(reason, 0) + 1

    def _refused(self, link: Link, error: Exception) -> None:
        fd = link.sock.fileno()
        if self.links.pop(fd, None) is not None:
            self.epoll.unregister(fd)
        link.sock.close()
        self._failed(link.conn, error, counted=not link.late and link.on_open is None)
        self._opened_or_failed(link.limited)

    def _writable(self, link: Link) -> None:
        """The connect finished: send the request."""
        sock = link.sock
        error = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if error:
            self._refused(link, OSError(error, os.strerror(error)))
            return
        try:
            sent = sock.send(link.request)
        except OSError as exc:
            self._refused(link, exc)
            return
        if sent != len(link.request):
            self._refused(link, ProtocolError("request not sent whole"))
            return
        link.state = _HEAD
        self.epoll.modify(sock.fileno(), _IN)

    def _head(self, link: Link) -> None:
        """Read the response head; the stream starts after it."""
        sock = link.sock
        try:
            data = sock.recv(RECV_SIZE)
        except OSError as exc:
            self._refused(link, exc)
            return
        if not data:
            self._refused(link, ProtocolError("closed before the response headers"))
            return
        pending = link.conn.pending + data
        if b"\r\n\r\n" not in pending:
            link.conn.pending = pending
            return
        link.conn.pending = b""
        header, rest = pending.split(b"\r\n\r\n", 1)
        status = header.split(b"\r\n", 1)[0]
        expected = b" 101 " if self.args.ws else b" 200 "
        if expected not in status + b" ":
            self._refused(link, ProtocolError(status.decode(errors="replace")))
            return
        if not self.args.ws and b"transfer-encoding: chunked" not in header.lower():
            self._refused(link, ProtocolError("response is not chunked"))
            return
        conn = link.conn
        conn.connect_s = time.perf_counter() - link.started
        self._opened_or_failed(link.limited)
        if link.on_open is not None:  # the stalled client: never read again
            link.state = _HELD
            self.epoll.unregister(sock.fileno())
            link.on_open()
            return
        link.state = _STREAM
        if not link.late:
            self.connected += 1
        if rest:
            self._feed(link, rest)

    def _feed(self, link: Link, data: bytes) -> None:
        conn = link.conn
        try:
            conn.feed(data, time.time())
        except ProtocolError as error:
            conn.error = str(error)
            self._close(link)
            return
        if conn.ended:
            self._close(link)

    def _readable(self, link: Link) -> None:
        try:
            data = link.sock.recv(RECV_SIZE)
        except OSError as error:
            link.conn.error = type(error).__name__
            self._close(link)
            return
        if not data:
            self._close(link)
            return
        if self.window.open:
            self.window.reads += 1
        self._feed(link, data)

    def _close(self, link: Link) -> None:
        link.conn.closed = True
        fd = link.sock.fileno()
        if self.links.pop(fd, None) is not None and link.state != _HELD:
            self.epoll.unregister(fd)
        link.sock.close()

    # The loop

    def poll(self, timeout: float) -> None:
        """Handle what is ready within ``timeout`` seconds (commands are queued)."""
        pipe_fd = self.pipe.fileno()
        links = self.links
        for fd, events in self.epoll.poll(timeout, 4096):
            if fd == pipe_fd:
                while self.pipe.poll():
                    self.commands.append(self.pipe.recv())
                continue
            link = links.get(fd)
            if link is None:
                continue
            state = link.state
            if state == _STREAM:
                self._readable(link)
            elif state == _CONNECTING:
                if events & (_OUT | select.EPOLLERR | select.EPOLLHUP):
                    self._writable(link)
            elif state == _HEAD:
                self._head(link)

    def run_until(self, done: Callable[[], bool], timeout: float = math.inf) -> bool:
        """Run the loop until ``done()`` or ``timeout``; returns ``done()``."""
        deadline = time.monotonic() + timeout
        while not done():
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self.poll(min(left, 0.05))
        return True

    def command(self) -> Any:
        """The coordinator's next command, the loop running meanwhile."""
        self.run_until(lambda: bool(self.commands))
        return self.commands.popleft()

    def serve(self, index: int) -> None:
        """One worker's part of the run, step by step as the coordinator says.

        Connect its share of the subscribers and report; on ``open``, count for the
        window (worker 0 also opens the late joiners and the stalled client halfway
        through); on ``close``, stop counting and report the newest id it saw; on
        ``drain``, wait until every connection reached the newest id of all workers,
        then report everything it counted.
        """
        args, pipe = self.args, self.pipe
        stall: dict[str, Any] = {"connected": False}
        t0 = time.perf_counter()
        for _ in range(args.n):
            self.subscribe()
        self.run_until(lambda: self.connected + self.failed >= args.n, args.connect_timeout)
        pipe.send(
            {
                "connect_all_s": time.perf_counter() - t0,
                "connected": self.connected,
                "failed": self.failed,
                "failures": self.failures,
                "connect_times": [c.connect_s for c in self.conns if c.connect_s is not None],
            }
        )
        cmd = self.command()
        assert cmd[0] == "open", cmd
        usage0 = resource.getrusage(resource.RUSAGE_SELF)
        self.window.open = True
        if index == 0 and (args.late or args.stall):
            self.run_until(lambda: bool(self.commands), cmd[1] / 2)
            stall["at"] = time.time()
            for _ in range(args.late):
                self.subscribe(late=True)
            if args.stall:
                self._stall(stall)
        cmd = self.command()
        assert cmd[0] == "close", cmd
        self.window.open = False
        usage1 = resource.getrusage(resource.RUSAGE_SELF)
        pipe.send(max((c.last_id or 0) for c in self.conns) if self.conns else 0)
        cmd = self.command()
        assert cmd[0] == "drain", cmd
        newest = cmd[1]
        started = time.monotonic()

        def caught_up() -> bool:
            return not any(not c.closed and (c.last_id or 0) < newest for c in self.conns)

        self.run_until(caught_up, args.drain)
        drain_s = min(args.drain, time.monotonic() - started)
        live = [c for c in self.conns if c.connect_s is not None]
        late_times = [c.connect_s for c in self.late if c.connect_s is not None]
        pipe.send(
            {
                "drain_s": drain_s,
                "client_cpu_s": usage1.ru_utime
                + usage1.ru_stime
                - usage0.ru_utime
                - usage0.ru_stime,
                "events_in_window": self.window.events,
                "reads_in_window": self.window.reads,
                "latencies": self.window.latencies,
                "published": self.window.published,
                "events": sum(c.events for c in live),
                "gaps": sum(c.gaps for c in live),
                "dups": sum(c.dups for c in live),
                "resets": sum(c.resets for c in live),
                "closed_by_server": sum(1 for c in live if c.closed and not c.error),
                "errors": sum(1 for c in live if c.error),
                "behind_at_end": sum(1 for c in live if (c.last_id or 0) < newest),
                "stall": stall,
                "late": {
                    "opened": len(self.late),
                    "times": late_times,
                    "received": sum(1 for c in self.late if c.events),
                },
            }
        )
        # The stalled client stays until the coordinator has seen it cut.
        self.command()
        for link in list(self.links.values()):
            link.sock.close()
        self.epoll.close()

    def _stall(self, status: dict[str, Any]) -> None:
        """Open a subscriber that reads its headers and then never reads again."""
        path = self.args.stall_path or self.args.path
        request = self.request.replace(self.args.path.encode(), path.encode(), 1)

        def opened() -> None:
            status["connected"] = True

        self._start(
            self.conn_type(Window()), request, late=True, limited=False, rcvbuf=4096, on_open=opened
        )


def _worker(args: argparse.Namespace, index: int, pipe: Connection) -> None:
    if args.cpus:
        cores = [int(c) for c in args.cpus.split(",")]
        os.sched_setaffinity(0, {cores[index % len(cores)]})
    Client(args, pipe).serve(index)


def fetch(port: int, path: str) -> bytes | None:
    """The body of ``GET path`` on the server, or ``None`` if it does not answer in 5 s."""
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        conn.request("GET", path)
        body = conn.getresponse().read()
        conn.close()
        return body
    except OSError:
        return None


def read_writes(port: int, path: str | None) -> int | None:
    """The server's count of stream writes: ``writes`` in a JSON body, or Prometheus'
    ``biomock_writes_total``."""
    if not path:
        return None
    body = fetch(port, path)
    if body is None:
        return None
    if body.startswith(b"{"):
        value = json.loads(body).get("writes")
        return None if value is None else int(value)
    for line in body.splitlines():
        if line.startswith(b"biomock_writes_total "):
            return int(float(line.split()[1]))
    return None


def coordinate(args: argparse.Namespace) -> dict[str, Any]:
    """Run ``args.procs`` worker processes through the phases and merge what they counted."""
    pid = [int(p) for p in args.server_pid.split(",") if p]
    redis_pid, procs = args.redis_pid, max(1, args.procs)
    result: dict[str, Any] = {"n": args.n, "procs": procs, "nofile": raise_nofile(args.n + 1000)}
    if pid:
        result["rss_idle_kb"] = read_rss_all_kb(pid)
    context = multiprocessing.get_context("fork")
    connect_cpu0 = read_cpu_all_s(pid) if pid else 0.0
    pipes, workers = [], []
    for index in range(procs):
        share = argparse.Namespace(**vars(args))
        share.n = args.n // procs + (1 if index < args.n % procs else 0)
        share.connect_concurrency = max(1, args.connect_concurrency // procs)
        if index:
            share.late, share.stall = 0, False
        ours, theirs = context.Pipe()
        worker = context.Process(target=_worker, args=(share, index, theirs), daemon=True)
        worker.start()
        pipes.append(ours)
        workers.append(worker)
    try:
        connects = [pipe.recv() for pipe in pipes]
        result["server_connect_cpu_s"] = round(
            (read_cpu_all_s(pid) if pid else 0.0) - connect_cpu0, 4
        )
        times = sorted(t for c in connects for t in c["connect_times"])
        failures: dict[str, int] = {}
        for c in connects:
            for reason, count in c["failures"].items():
                failures[reason] = failures.get(reason, 0) + count
        result.update(
            connect_all_s=round(max(c["connect_all_s"] for c in connects), 3),
            connected=sum(c["connected"] for c in connects),
            connect_failed=sum(c["failed"] for c in connects),
            connect_failures=failures,
            connect_p50_s=percentile(times, 0.5),
            connect_max_s=times[-1] if times else None,
        )
        time.sleep(args.warmup)
        writes0 = read_writes(args.port, args.writes_path)
        children0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu0 = read_cpu_all_s(pid) if pid else 0.0
        redis0 = read_cpu_s(redis_pid) if redis_pid else 0.0
        w0 = time.perf_counter()
        for pipe in pipes:
            pipe.send(("open", args.duration))
        time.sleep(args.duration)
        for pipe in pipes:
            pipe.send(("close",))
        elapsed = time.perf_counter() - w0
        cpu1 = read_cpu_all_s(pid) if pid else 0.0
        redis1 = read_cpu_s(redis_pid) if redis_pid else 0.0
        if pid:
            result["rss_kb"] = read_rss_all_kb(pid)
        writes1 = read_writes(args.port, args.writes_path)
        newest = max(pipe.recv() for pipe in pipes)
        for pipe in pipes:
            pipe.send(("drain", newest))
        parts = [pipe.recv() for pipe in pipes]
        stall = parts[0]["stall"]
        if args.stats_path:
            stats = _json(fetch(args.port, args.stats_path))
            # A server that cuts stalled clients counts them in dropped_slow.
            wait_until = time.monotonic() + args.stall_wait
            while (
                args.stall
                and isinstance(stats, dict)
                and stats.get("dropped_slow") == 0
                and time.monotonic() < wait_until
            ):
                time.sleep(0.25)
                stats = _json(fetch(args.port, args.stats_path))
            if args.stall and isinstance(stats, dict) and stats.get("dropped_slow"):
                stall["cut_within_s"] = round(time.time() - stall["at"], 2)
            result["server_stats"] = stats
        for pipe in pipes:
            pipe.send(("end",))
        for worker in workers:
            worker.join(timeout=10)
    finally:
        for worker in workers:
            if worker.is_alive():
                worker.terminate()
    children1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    latencies = array("d")
    published = array("d")
    for part in parts:
        latencies.extend(part["latencies"])
        published.extend(part["published"])
    lat = sorted(latencies)
    if args.latencies_out:
        result["_latencies"] = lat
    if args.stall:
        at = stall["at"]
        before, after = [], []
        for sent, latency in zip(published, latencies, strict=True):
            (before if sent < at else after).append(latency)
        stall["p99_before"] = percentile(sorted(before), 0.99)
        stall["p99_after"] = percentile(sorted(after), 0.99)
    per_tick: dict[float, list[float]] = {}
    for sent, latency in zip(published, latencies, strict=True):
        per_tick.setdefault(sent, []).append(latency)
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

    def total(key: str) -> Any:
        return sum(part[key] for part in parts)

    window_cpu = sum(part["client_cpu_s"] for part in parts)
    result.update(
        window_s=round(elapsed, 3),
        server_cpu_s=round(cpu1 - cpu0, 6),
        redis_cpu_s=round(redis1 - redis0, 6) if redis_pid else None,
        server_writes=None if writes0 is None or writes1 is None else writes1 - writes0,
        client_cpu_s=round(window_cpu, 3),
        client_cpu_all_s=round(
            children1.ru_utime + children1.ru_stime - children0.ru_utime - children0.ru_stime, 3
        ),
        drain_s=round(max(part["drain_s"] for part in parts), 3),
        events_in_window=total("events_in_window"),
        reads_in_window=total("reads_in_window"),
        latency_p50_s=percentile(lat, 0.5),
        latency_p99_s=percentile(lat, 0.99),
        latency_max_s=lat[-1] if lat else None,
        events=total("events"),
        gaps=total("gaps"),
        dups=total("dups"),
        resets=total("resets"),
        closed_by_server=total("closed_by_server"),
        errors=total("errors"),
        behind_at_end=total("behind_at_end"),
        newest_id=newest,
        stalled=stall if args.stall else None,
    )
    if args.late:
        late = parts[0]["late"]
        late_times = sorted(late["times"])
        result["late"] = {
            "opened": late["opened"],
            "admitted": len(late_times),
            "connect_max_s": late_times[-1] if late_times else None,
            "received": late["received"],
        }
    return result


def _json(body: bytes | None) -> Any:
    if body is None:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return None


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
    parser.add_argument("--cpus", default=None, help="pin the workers to these cores (a,b,...)")
    parser.add_argument("--procs", type=int, default=1, help="worker processes")
    parser.add_argument("--writes-path", default=None, help="where the server counts its writes")
    args = parser.parse_args()
    result = coordinate(args)
    if args.latencies_out:  # for a run split over several clients, merged by run.py
        with open(args.latencies_out, "w") as f:
            json.dump(result.pop("_latencies"), f)
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
