"""Threaded aiohttp server shared by the fake Slack and Telegram APIs.

Each fake runs its own event loop in a daemon thread so that sync tests, async tests (whose
loop must stay free for the client under test) and subprocesses can all talk to it. State
is guarded by one lock; waiting helpers exist in a blocking and an ``async`` flavour so an
async test never blocks the loop its own client runs on.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import math
import socket
import threading
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any, NamedTuple, Self, TypeVar

from aiohttp import web

T = TypeVar("T")


class Call(NamedTuple):
    """One recorded request: the API method, its decoded parameters and when it arrived."""

    method: str
    params: dict[str, Any]
    time: float


@dataclass
class Fault:
    """A failure to inject into the next matching call(s)."""

    status: int = 429
    retry_after: int | str | None = 1
    """Seconds; a string is sent as is (Slack's header may be malformed: ``inf``, ``abc``)."""
    drop: bool = False
    error: str | None = None
    times: int = 1
    lose_response: bool = False
    """Carry the call out, then close the connection unanswered (the response is lost)."""


class DropConnection(Exception):
    """Raised by a handler to close the connection without answering."""


class TokenBucket:
    """Leaky/token bucket: ``rate`` tokens per second, at most ``burst`` stored.

    The same model as aiolimiter (used by PTB's AIORateLimiter), so a client pacing itself
    with one is not punished for the jitter between its clock and ours; ``grace`` seconds
    of lateness are forgiven for the same reason.
    """

    def __init__(self, rate: float, burst: float, grace: float = 0.02) -> None:
        self.rate = rate
        self.burst = max(burst, 1.0)
        self.grace = grace
        self._tokens = self.burst
        self._at = time.monotonic()

    def _level(self, now: float) -> float:
        return min(self.burst, self._tokens + (now - self._at) * self.rate)

    def wait_time(self, now: float | None = None) -> float:
        """Seconds until one token is available (0 when one is available now)."""
        now = time.monotonic() if now is None else now
        missing = 1.0 - self._level(now + self.grace)
        return max(0.0, missing / self.rate)

    def take(self, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        self._tokens = self._level(now) - 1.0
        self._at = now


def retry_after_seconds(wait: float) -> int:
    """Whole seconds, at least 1, as both platforms announce them."""
    return max(1, math.ceil(wait))


class FakeServer:
    """Base for the fakes: lifecycle, recording, failure injection and waiting.

    ``stats`` counts: ``calls``, ``ok``, ``injected`` (faults served), ``dropped``,
    ``rate_limited`` (limits enforced by the fake) and HTTP statuses as strings (``"429"``
    counts injected and enforced 429s alike, ``"500"``, ``"401"``...); the Slack fake also
    counts ``error:<code>`` for each ``ok: false`` answer.
    """

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self.port = 0
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self.calls: list[Call] = []
        self.stats: Counter[str] = Counter()
        self._faults: dict[str, deque[Fault]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._stopping: asyncio.Event | None = None

    # -- to be provided by subclasses -------------------------------------------------
    def routes(self, app: web.Application) -> None:
        """Register the fake's routes on ``app``."""
        raise NotImplementedError

    def _reset_state(self) -> None:
        """Forget platform-specific state (messages, updates, ...)."""

    # -- lifecycle --------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            raise RuntimeError(f"{type(self).__name__} is not running")
        return self._loop

    def start(self) -> Self:
        """Start serving on a free port; returns once the socket accepts connections."""
        if self._thread is not None:
            return self
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self._serve_start())
            except BaseException as exc:
                failure.append(exc)
                ready.set()
                return
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self._serve_stop())
            loop.close()

        self._thread = threading.Thread(target=run, name=f"{type(self).__name__}", daemon=True)
        self._thread.start()
        ready.wait(10)
        if failure:
            raise RuntimeError(f"{type(self).__name__} failed to start") from failure[0]
        return self

    async def _serve_start(self) -> None:
        self._stopping = asyncio.Event()
        app = web.Application(client_max_size=16 * 1024 * 1024, middlewares=[drop_middleware])
        self.routes(app)
        self._runner = web.AppRunner(
            app, handle_signals=False, access_log=None, shutdown_timeout=0.5
        )
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind((self.host, 0))
        self.port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()

    async def _serve_stop(self) -> None:
        if self._stopping is not None:
            self._stopping.set()
        await self._before_stop()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _before_stop(self) -> None:
        """Hook: close websockets, wake long polls."""

    def stop(self) -> None:
        """Stop serving and join the thread (idempotent)."""
        thread, loop = self._thread, self._loop
        if thread is None or loop is None:
            return
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        self._thread = None
        self._loop = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- running code on the server loop ----------------------------------------------
    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Schedule ``coro`` on the server's loop (from any thread)."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 10.0) -> T:
        """Run ``coro`` on the server loop and block for its result."""
        return self.submit(coro).result(timeout)

    async def run_async(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro`` on the server loop and await it from another loop."""
        return await asyncio.wrap_future(self.submit(coro))

    # -- recording --------------------------------------------------------------------
    def record(self, method: str, params: dict[str, Any]) -> Call:
        call = Call(method, params, time.time())
        with self._lock:
            self.calls.append(call)
            self.stats["calls"] += 1
            self._changed.notify_all()
        return call

    def count(self, key: str) -> None:
        with self._lock:
            self.stats[key] += 1
            self._changed.notify_all()

    def calls_to(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def changed(self) -> None:
        """Wake the waiters after a state change."""
        with self._lock:
            self._changed.notify_all()

    def reset(self) -> None:
        """Forget calls, stats, pending faults and platform state."""
        with self._lock:
            self.calls.clear()
            self.stats.clear()
            self._faults.clear()
            self._reset_state()
            self._changed.notify_all()

    # -- failure injection ------------------------------------------------------------
    def fail_next(
        self,
        method: str,
        status: int = 429,
        retry_after: int | str | None = 1,
        times: int = 1,
        drop: bool = False,
        error: str | None = None,
        lose_response: bool = False,
    ) -> None:
        """Make the next ``times`` calls of ``method`` fail (``"*"`` matches any method).

        ``drop=True`` closes the connection without a response; otherwise the fake answers
        with HTTP ``status`` in the platform's error format (``retry_after`` for 429).
        ``lose_response=True`` (Slack fake) carries the call out, then closes the connection:
        the message is posted but the client never hears so.
        """
        fault = Fault(
            status=status,
            retry_after=retry_after,
            drop=drop,
            error=error,
            times=times,
            lose_response=lose_response,
        )
        with self._lock:
            self._faults.setdefault(method, deque()).append(fault)

    def take_fault(self, method: str) -> Fault | None:
        """Consume one pending fault for ``method`` (or ``"*"``), if any."""
        with self._lock:
            for key in (method, "*"):
                queue = self._faults.get(key)
                if queue:
                    fault = queue[0]
                    fault.times -= 1
                    if fault.times <= 0:
                        queue.popleft()
                    if fault.drop:
                        self.stats["dropped"] += 1
                    else:
                        self.stats[str(fault.status)] += 1
                    self.stats["injected"] += 1
                    return fault
        return None

    @staticmethod
    def drop(request: web.Request) -> web.StreamResponse:
        """Close the client's connection without writing a response."""
        if request.transport is not None:
            request.transport.close()
        raise DropConnection

    # -- waiting ----------------------------------------------------------------------
    def wait_until_sync(self, predicate: Callable[[], T], timeout: float = 5.0) -> T:
        """Block until ``predicate()`` is truthy (evaluated under the lock); return it."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                value = predicate()
                if value:
                    return value
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"condition not met within {timeout}s")
                self._changed.wait(min(remaining, 0.05))

    async def wait_until(self, predicate: Callable[[], T], timeout: float = 5.0) -> T:
        """``await`` until ``predicate()`` is truthy, without blocking the caller's loop."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                value = predicate()
            if value:
                return value
            if time.monotonic() >= deadline:
                raise TimeoutError(f"condition not met within {timeout}s")
            await asyncio.sleep(0.01)


async def read_params(request: web.Request) -> dict[str, Any]:
    """Query string plus the body, whether JSON, form-encoded or multipart (files skipped)."""
    params: dict[str, Any] = dict(request.query)
    if request.body_exists:
        if request.content_type == "application/json":
            body = await request.json()
            if isinstance(body, dict):
                params.update(body)
        else:
            form = await request.post()
            params.update({k: v for k, v in form.items() if isinstance(v, str)})
    return params


@web.middleware
async def drop_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Turn :class:`DropConnection` into a silently closed connection."""
    try:
        return await handler(request)
    except DropConnection:
        raise asyncio.CancelledError from None
