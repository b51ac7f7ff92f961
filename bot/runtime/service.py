"""``digestbot run``: the long-running service, all in one asyncio loop.

It schedules every channel's delivery (``bot.delivery.scheduler``), waits for a late
digest by polling ``sources`` (``bot.ingest.sources``), delivers through the ledger, and,
when tokens are configured, runs the Slack/Telegram chat listeners and the HTTP server of
/healthz, /metrics and the web reader (both written elsewhere and imported only when
needed). SIGTERM/SIGINT stop it cleanly: no new deliveries start, running ones are
cancelled and release their ledger rows for a replica or the next start to resume.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import signal
import socket
import uuid
from collections import deque
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import bot.platforms as platforms
from bot.archive import Archive
from bot.channels import Channel, delivery_jobs, load_channels
from bot.delivery import (
    WAITING,
    Deliverer,
    DeliveryOptions,
    DeliveryResult,
    DeliveryScheduler,
    Outcome,
    PlatformStates,
    ingest_horizon,
)
from bot.ingest import Formats, SourceWatcher
from bot.runtime import upkeep
from bot.runtime.health import platform_problems, start_http_server
from formatters import Templates, cjk_font, render_weekly

if TYPE_CHECKING:
    from bot.config import Settings

log = logging.getLogger(__name__)

RECENT_RESULTS = 1000


def make_owner() -> str:
    """A claim owner unique to this process: host, pid and a random suffix."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Service:
    """Scheduler + deliveries + listeners + health server, started and stopped together."""

    def __init__(
        self,
        settings: Settings,
        *,
        archive: Archive | None = None,
        transports: platforms.Transports | None = None,
        options: DeliveryOptions | None = None,
        owner: str | None = None,
        misfire_grace: dt.timedelta | None = None,
        reload_interval: dt.timedelta | None = None,
        listeners: bool = True,
    ) -> None:
        self.settings = settings
        self.archive = archive or Archive.from_settings(settings)
        self.transports = transports or platforms.Transports(settings)
        self.options = options or DeliveryOptions.from_settings(settings)
        self.owner = owner or make_owner()
        templates = Templates(**settings.template_options())
        self.platforms = PlatformStates()
        self.deliverer = Deliverer.from_settings(
            settings,
            self.archive,
            self.transports.get,
            templates=templates,
            render_weekly=lambda platform, rollup: render_weekly(platform, rollup, templates),
            owner=self.owner,
            options=self.options,
            platforms=self.platforms,
        )
        self.watcher = SourceWatcher(
            self.archive,
            list(settings.sources),
            base=settings.base_dir(),
            poll_interval=settings.poll_interval,
            wait_for_digest=settings.wait_for_digest,
            formats=Formats.from_settings(settings),
            settle=settings.sources_settle,
            not_after=lambda: ingest_horizon(settings),
            date_conflict=settings.date_conflict,
        )
        self.scheduler = DeliveryScheduler(
            self.load_channels,
            self.deliver_channel,
            misfire_grace=misfire_grace or settings.delivery.misfire_grace,
            reload_interval=reload_interval or settings.delivery.reload_interval,
        )
        self.want_listeners = listeners
        self.listeners: list[Any] = []
        #: Listeners that could not start, with the reason (reported by /healthz).
        self.listener_failures: dict[str, str] = {}
        #: Platform → its start-up line (on / off and why / failing and why).
        self.platform_lines: dict[str, str] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._sweeping = False
        #: Set when an ingest stored something new: the next sweep looks for addenda.
        self._sources_changed = False
        #: Channels whose delivery waits for their platform to accept us again.
        self._paused: dict[str, Channel] = {}
        self._health: Any = None
        self._stopping = asyncio.Event()
        #: The latest results (bounded: the service runs for months).
        self.results: deque[DeliveryResult] = deque(maxlen=RECENT_RESULTS)
        self._running: set[asyncio.Task[Any]] = set()

    def load_channels(self) -> list[Channel]:
        """The scheduled deliveries: each channel's daily digest and/or weekly rollup."""
        return delivery_jobs(load_channels(self.settings, self.archive.subscriptions))

    async def deliver_channel(
        self, channel: Channel, *, wait: bool = True, backlog_only: bool = False
    ) -> DeliveryResult:
        """One scheduled delivery: everything due now, or wait for the digest and deliver.

        One delivery per channel at a time in this process (the sweep and the schedule
        may meet); ``wait=False`` (the sweep) does not wait for a late file, and
        ``backlog_only`` finishes unfinished days without starting a new one."""
        task = asyncio.current_task()
        if task is not None:
            self._running.add(task)
        try:
            async with self._lock(channel):
                return await self._deliver_channel(channel, wait=wait, backlog_only=backlog_only)
        finally:
            if task is not None:
                self._running.discard(task)

    def _lock(self, channel: Channel) -> asyncio.Lock:
        return self._locks.setdefault(channel.key, asyncio.Lock())

    def _busy(self, channel: Channel) -> bool:
        return self._lock(channel).locked()

    async def _refresh(self) -> None:
        if await self.watcher.refresh():
            self.deliverer.planner.forget()  # new or changed files: plan with them now
            self._sources_changed = True

    async def _deliver_channel(
        self, channel: Channel, *, wait: bool, backlog_only: bool
    ) -> DeliveryResult:
        started = self.deliverer.clock()
        await self._refresh()
        results = await self.deliverer.deliver_due(channel, backlog_only=backlog_only)
        last = results[-1]
        if wait and last.outcome in WAITING and last.digest_date is None:
            log.info("delivery %s: no new digest yet; waiting for it in sources", channel.key)
            ready = await self.watcher.wait_for(
                lambda: self.deliverer.planner.choose_date(channel), what=f"delivery {channel.key}"
            )
            if ready is not None:
                self.deliverer.planner.forget()
                results = await self.deliverer.deliver_due(
                    channel, deadline=self.deliverer.clock() + self.options.window
                )
        for result in results:
            self.results.append(replace(result, plan=None))  # keep no payloads around
        if any(result.outcome is Outcome.PAUSED for result in results):
            self._paused[channel.key] = channel
        else:
            self._paused.pop(channel.key, None)
        log.debug("delivery %s took %s", channel.key, self.deliverer.clock() - started)
        return results[-1]

    async def sweep(self) -> list[str]:
        """Finish unfinished deliveries whose lease ran out, retry paused channels, and
        (after an ingest that changed something) post addenda. Periodic."""
        if self._sweeping:
            return []
        self._sweeping = True
        try:
            await self._refresh()
            addenda, self._sources_changed = self._sources_changed, False
            return await upkeep.sweep(
                self.archive,
                dict(self.scheduler.channels),
                dict(self._paused),
                lambda channel, backlog_only: self.deliver_channel(
                    channel, wait=False, backlog_only=backlog_only
                ),
                self._addenda if addenda else None,
                now=self.deliverer.clock(),
                busy=self._busy,
            )
        finally:
            self._sweeping = False

    async def _addenda(self, channel: Channel) -> None:
        async with self._lock(channel):
            for result in await self.deliverer.deliver_addenda(channel):
                self.results.append(replace(result, plan=None))

    def problems(self) -> dict[str, Any]:
        """The probes /healthz runs beyond the archive and the listeners."""
        return {
            "platforms": platform_problems(self.platforms),
            "listeners_failed": lambda: dict(self.listener_failures),
            "overdue": lambda: upkeep.overdue(
                self.archive, self.options.window, self.deliverer.clock()
            ),
        }

    # -- lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        await asyncio.to_thread(self.archive.create_schema)
        await asyncio.to_thread(cjk_font)  # warns once now if trends charts lack a CJK font
        await self.watcher.refresh(force=True)
        await self.scheduler.start()
        self.platform_lines = await upkeep.check_platforms(
            self.deliverer, self.platforms, self.scheduler.channels.values()
        )
        self.scheduler.add_periodic(
            "__sweep__", self.sweep, upkeep.sweep_interval(self.options.lease)
        )
        if self.settings.web.port is not None:
            self._health = await start_http_server(
                self.settings,
                archive=self.archive,
                scheduler=self.scheduler,
                listeners=self.listeners,
                problems=self.problems(),
            )
        listening = platforms.listener_settings(self.settings) if self.want_listeners else None
        if listening is not None:
            self.listeners.extend(
                await platforms.start_listeners(
                    listening, self.archive, failures=self.listener_failures
                )
            )
        log.info(
            "service: running as %s with %d channels%s",
            self.owner,
            len(self.scheduler.channels),
            f", listeners: {', '.join(lst.name for lst in self.listeners)}"
            if self.listeners
            else "",
        )

    def request_stop(self) -> None:
        self._stopping.set()

    async def wait(self) -> None:
        await self._stopping.wait()

    async def stop(self) -> None:
        """Stop in reverse order; cancel running deliveries so they release their claims."""
        self.scheduler.shutdown()
        running = list(self._running)
        for task in running:
            task.cancel()
        if running:
            await asyncio.gather(*running, return_exceptions=True)
        await platforms.stop_listeners(self.listeners)
        if self._health is not None:
            await self._health.cleanup()
        await self.transports.close()
        await asyncio.to_thread(self.archive.close)
        log.info("service: stopped")


async def serve(service: Service) -> None:
    """Run until SIGTERM/SIGINT (or ``request_stop``), then shut down cleanly."""
    loop = asyncio.get_running_loop()
    installed = []
    for signum in (signal.SIGTERM, signal.SIGINT):
        try:
            loop.add_signal_handler(signum, service.request_stop)
            installed.append(signum)
        except (NotImplementedError, RuntimeError):  # not the main thread / platform
            pass
    try:
        await service.start()
        await service.wait()
        log.info("service: shutting down")
    finally:
        for signum in installed:
            loop.remove_signal_handler(signum)
        await service.stop()


def run(settings: Settings) -> int:
    """Entry point of ``digestbot run``."""
    asyncio.run(serve(Service(settings)))
    return 0
