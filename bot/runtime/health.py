"""``GET /healthz`` and ``GET /metrics`` for ``digestbot run``.

Why a health endpoint that looks inside: a process can be alive while its archive is
unreachable (or its SQLite file was deleted under it), its Slack socket has dropped, a
platform refuses its token, or a delivery is overdue; an orchestrator should see that (503)
and an operator should see which part, why, and when each channel's next delivery is due.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from bot.errors import ConfigError
from bot.metrics import REGISTRY

if TYPE_CHECKING:
    from bot.archive import Archive
    from bot.config import Settings
    from bot.delivery import PlatformStates
    from bot.platforms import Listener

#: What ``/healthz`` reports beyond the archive and the listeners: the platforms refusing
#: us, listeners that could not start, and overdue deliveries (each with its reason).
ProblemSource = Callable[[], Mapping[str, str]]

log = logging.getLogger(__name__)

#: How long the archive probe may take before the archive counts as unreachable.
ARCHIVE_PROBE_TIMEOUT = 3.0


class HasNextRuns(Protocol):
    def next_runs(self) -> dict[str, dt.datetime | None]: ...


def _probe_archive(archive: Archive) -> None:
    with archive.engine.connect() as conn:
        conn.execute(text("SELECT 1"))


async def archive_reachable(archive: Archive | None) -> bool:
    """One ``SELECT 1`` in a worker thread, bounded by ARCHIVE_PROBE_TIMEOUT; a SQLite
    file deleted under the running process counts as unreachable (its writes go nowhere)."""
    if archive is None:
        return False
    missing = archive.missing_file()
    if missing:
        log.error("healthz: %s", missing)
        return False
    try:
        await asyncio.wait_for(asyncio.to_thread(_probe_archive, archive), ARCHIVE_PROBE_TIMEOUT)
    except Exception as exc:
        log.warning("healthz: archive unreachable: %s", exc)
        return False
    return True


def _next_deliveries(scheduler: HasNextRuns | None) -> dict[str, str | None]:
    if scheduler is None:
        return {}
    try:
        runs = scheduler.next_runs()
    except Exception:
        log.exception("healthz: reading the scheduler's next runs failed")
        return {}
    return {key: when.isoformat() if when else None for key, when in sorted(runs.items())}


def _problems(sources: Mapping[str, ProblemSource]) -> dict[str, dict[str, str]]:
    found: dict[str, dict[str, str]] = {}
    for name, source in sources.items():
        try:
            problems = dict(source())
        except Exception as exc:  # a broken probe is itself a problem worth a 503
            problems = {"probe": f"{type(exc).__name__}: {exc}"}
        if problems:
            found[name] = problems
    return found


def platform_problems(platforms: PlatformStates) -> ProblemSource:
    """The platforms refusing our credentials, and the channels whose own group robot
    refuses us, with the reason and since when."""

    def read() -> dict[str, str]:
        down = {**platforms.failing(), **platforms.refusing()}
        return {
            name: f"{state.reason} (since {state.since.isoformat(timespec='seconds')})"
            for name, state in down.items()
        }

    return read


async def health_report(
    archive: Archive | None,
    scheduler: HasNextRuns | None,
    listeners: Sequence[Listener],
    problems: Mapping[str, ProblemSource] | None = None,
) -> tuple[int, dict[str, Any]]:
    """The status code and JSON body of ``/healthz``: 503 when any part is down.

    ``problems`` names more probes (``platforms``, ``listeners_failed``, ``overdue``...):
    any of them reporting something makes the service unhealthy."""
    reachable = await archive_reachable(archive)
    connected = {listener.name: bool(listener.connected) for listener in listeners}
    found = await asyncio.to_thread(_problems, problems or {})
    healthy = reachable and all(connected.values()) and not found
    body = {
        "status": "ok" if healthy else "degraded",
        "archive": reachable,
        "listeners": connected,
        "problems": found,
        "next_deliveries": _next_deliveries(scheduler),
    }
    return (200 if healthy else 503), body


def make_health_app(
    *,
    archive: Archive | None,
    scheduler: HasNextRuns | None,
    listeners: Sequence[Listener],
    problems: Mapping[str, ProblemSource] | None = None,
) -> web.Application:
    """The aiohttp app; ``listeners`` is read at request time, so it may be filled later."""

    async def healthz(_request: web.Request) -> web.Response:
        status, body = await health_report(archive, scheduler, listeners, problems)
        return web.json_response(body, status=status)

    async def metrics(_request: web.Request) -> web.Response:
        payload = generate_latest(REGISTRY)
        return web.Response(body=payload, headers={"Content-Type": CONTENT_TYPE_LATEST})

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    return app


async def start_health_server(
    host: str,
    port: int,
    *,
    archive: Archive | None,
    scheduler: HasNextRuns | None,
    listeners: Sequence[Listener],
    problems: Mapping[str, ProblemSource] | None = None,
) -> web.AppRunner:
    """Serve /healthz and /metrics on host:port; ``await runner.cleanup()`` stops it."""
    app = make_health_app(
        archive=archive, scheduler=scheduler, listeners=listeners, problems=problems
    )
    return await serve_app(app, host, port)


async def start_http_server(
    settings: Settings,
    *,
    archive: Archive,
    scheduler: HasNextRuns | None,
    listeners: Sequence[Listener],
    problems: Mapping[str, ProblemSource] | None = None,
) -> web.AppRunner:
    """The one HTTP server of ``digestbot run`` on ``web.host:web.port``: /healthz,
    /metrics and, with ``web.enabled``, the reader and feeds (``web.token`` guarding all
    but /healthz)."""
    from bot.web import mount  # jinja2, markdown-it, feedgen/lxml: loaded only when serving

    if settings.web.port is None:
        raise ConfigError("web.port: not set, so there is no HTTP server to start")
    app = make_health_app(
        archive=archive, scheduler=scheduler, listeners=listeners, problems=problems
    )
    mount(app, settings, archive)
    return await serve_app(app, settings.web.host, settings.web.port)


async def serve_app(app: web.Application, host: str, port: int) -> web.AppRunner:
    """Listen on host:port (no access log: URLs may carry ``?token=``)."""
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except OSError as exc:
        await runner.cleanup()
        raise ConfigError(f"web.port: cannot listen on {host}:{port}: {exc.strerror}") from exc
    log.info("http: serving %s on %s:%s", ", ".join(_paths(app)), host, port)
    return runner


def _paths(app: web.Application) -> list[str]:
    return sorted({r.canonical for r in app.router.resources() if r.canonical != "/static"})


def bound_port(runner: web.AppRunner) -> int:
    """The port actually bound (useful when started on port 0)."""
    for address in runner.addresses:
        if isinstance(address, tuple) and len(address) >= 2:
            return int(address[1])
    raise RuntimeError("the health server is not listening")
