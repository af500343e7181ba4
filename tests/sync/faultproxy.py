"""A fault-injecting TCP proxy on 127.0.0.1 for the sync tests (docs/sync-protocol.md §11.1).

It sits between the station and the registry and passes TLS through untouched (mutual TLS still runs
end to end). A ``Plan`` says what happens on a connection: cut the upload or the response after N bytes
(abort, RST-like), delay each chunk, throttle to a byte rate, blackhole (accept, never forward),
refuse (close at once), close the connection once it has been idle for a while, or -- given the
registry's server TLS context -- complete the TLS handshake itself and close cleanly, as a TLS-terminating
load balancer with no node behind it does. ``arm(plan, times)``
applies a plan to the next connections; ``default`` applies to the others. Byte counters give the
wire-level figures (``bytes_up``, ``bytes_down``, ``connections``); per-fault counters (``cuts``,
``idle_closed``, ``blackholed``, ``refused``, ``killed``, ``handshake_closed``) let a test assert that its fault fired.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import threading
from collections import deque
from dataclasses import dataclass

CHUNK = 4096


@dataclass(frozen=True)
class Plan:
    up_cut_after: int | None = None
    down_cut_after: int | None = None
    delay_s: float = 0.0  # before every chunk
    latency_s: float = 0.0  # one-way delay of a burst: before a chunk that follows a quiet spell (RTT/2)
    rate_bps: float | None = None  # bytes per second, each direction
    blackhole: bool = False
    refuse: bool = False
    close_idle_s: float | None = None
    handshake_then_close: bool = False  # needs ``FaultProxy(tls_context=...)``


class FaultProxy:
    def __init__(self, upstream: tuple[str, int], tls_context: ssl.SSLContext | None = None) -> None:
        self.upstream = upstream
        self.tls_context = tls_context
        self.default = Plan()
        self._armed: deque[Plan] = deque()
        self._lock = threading.Lock()
        self.bytes_up = 0
        self.bytes_down = 0
        self.connections = 0
        self.cuts = 0  # connections cut by ``up_cut_after`` / ``down_cut_after``
        self.idle_closed = 0  # connections closed by ``close_idle_s``
        self.blackholed = 0  # connections swallowed by ``blackhole``
        self.refused = 0  # connections refused by ``refuse``
        self.killed = 0  # connections aborted by ``kill_connections``
        self.handshake_closed = 0  # connections closed cleanly right after a TLS handshake
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.base_events.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._clients: set[asyncio.StreamWriter] = set()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.port = 0

    # ------------------------------------------------------------------ control (any thread)

    def start(self) -> FaultProxy:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("fault proxy did not start")
        return self

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._shutdown)
        self._thread.join(10)

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def arm(self, plan: Plan, times: int = 1) -> None:
        with self._lock:
            self._armed.extend([plan] * times)

    def disarm(self) -> None:
        with self._lock:
            self._armed.clear()

    def set_default(self, plan: Plan) -> None:
        self.default = plan

    def kill_connections(self) -> None:
        """Abort every open connection now (a link drop)."""
        self._loop.call_soon_threadsafe(self._kill_all)

    @property
    def open_connections(self) -> int:
        """Client connections the proxy holds open now."""
        return len(self._clients)

    # ------------------------------------------------------------------ loop

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        self._server = self._loop.run_until_complete(asyncio.start_server(self._handle, sock=sock))
        self._ready.set()
        self._loop.run_forever()
        pending = [t for t in asyncio.all_tasks(self._loop) if not t.done()]
        if pending:
            self._loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        self._loop.close()

    def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
        self._abort_all()
        for task in asyncio.all_tasks(self._loop):
            task.cancel()
        self._loop.call_later(0.05, self._loop.stop)

    def _abort_all(self) -> None:
        for writer in list(self._writers):
            writer.transport.abort()

    def _kill_all(self) -> None:
        self.killed += len(self._clients)
        self._abort_all()

    def _plan(self) -> Plan:
        with self._lock:
            return self._armed.popleft() if self._armed else self.default

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        plan = self._plan()
        self.connections += 1
        self._writers.add(writer)
        self._clients.add(writer)
        try:
            if plan.refuse:
                self.refused += 1
                writer.transport.abort()
                return
            if plan.handshake_then_close:
                if self.tls_context is None:
                    raise RuntimeError("handshake_then_close needs the proxy's tls_context")
                try:
                    await writer.start_tls(self.tls_context)
                except (ssl.SSLError, OSError):
                    writer.transport.abort()
                    return
                self.handshake_closed += 1
                writer.close()
                return
            if plan.blackhole:
                self.blackholed += 1
                while await reader.read(CHUNK):
                    pass
                return
            try:
                up_reader, up_writer = await asyncio.open_connection(*self.upstream)
            except OSError:
                writer.transport.abort()
                return
            self._writers.add(up_writer)
            activity = [asyncio.get_running_loop().time()]
            tasks = [
                asyncio.ensure_future(self._pipe(reader, up_writer, plan, "up", activity, writer)),
                asyncio.ensure_future(self._pipe(up_reader, writer, plan, "down", activity, up_writer)),
            ]
            if plan.close_idle_s:
                tasks.append(
                    asyncio.ensure_future(self._idle_guard(plan.close_idle_s, activity, writer, up_writer))
                )
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in tasks:
                task.cancel()
            for w in (writer, up_writer):
                with contextlib.suppress(Exception):
                    w.close()
            self._writers.discard(up_writer)
        finally:
            self._writers.discard(writer)
            self._clients.discard(writer)

    async def _pipe(self, src, dst, plan: Plan, direction: str, activity, other) -> None:  # type: ignore[no-untyped-def]
        cut = plan.up_cut_after if direction == "up" else plan.down_cut_after
        passed = 0
        quiet_since = 0.0
        try:
            while True:
                if cut is not None and passed >= cut:
                    self.cuts += 1
                    dst.transport.abort()
                    other.transport.abort()
                    return
                limit = CHUNK if cut is None else max(1, min(CHUNK, cut - passed))
                data = await src.read(limit)
                if not data:
                    with contextlib.suppress(Exception):
                        dst.write_eof()
                    await asyncio.sleep(3600)  # half-close: wait for the other direction
                    return
                now = asyncio.get_running_loop().time()
                if plan.latency_s and now - quiet_since > 0.02:
                    await asyncio.sleep(plan.latency_s)
                if plan.delay_s:
                    await asyncio.sleep(plan.delay_s)
                if plan.rate_bps:
                    await asyncio.sleep(len(data) / plan.rate_bps)
                dst.write(data)
                await dst.drain()
                passed += len(data)
                activity[0] = quiet_since = asyncio.get_running_loop().time()
                if direction == "up":
                    self.bytes_up += len(data)
                else:
                    self.bytes_down += len(data)
        except (ConnectionError, OSError):
            other.transport.abort()
            dst.transport.abort()

    async def _idle_guard(self, idle_s: float, activity, writer, up_writer) -> None:  # type: ignore[no-untyped-def]
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(idle_s / 4)
            if loop.time() - activity[0] > idle_s:
                self.idle_closed += 1
                writer.close()
                up_writer.close()
                return

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()
