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

from bot.channels import Channel, delivery_jobs, load_channels
from bot.delivery import (
    WAITING,
    Deliverer,
    DeliveryOptions,
    DeliveryResult,
    DeliveryScheduler,
)
from bot.ingest import Formats, SourceWatcher
from bot.platforms.listener_config import missing_listener_key
from formatters.chart import cjk_font

if TYPE_CHECKING:
    from bot.archive import Archive
    from bot.config import Settings
    from bot.platforms import Transports

log = logging.getLogger(__name__)

RECENT_RESULTS = 1000


def make_owner() -> str:
    """A claim owner unique to this process: host, pid and a random suffix."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def listener_settings(settings: Settings) -> Settings | None:
    """The settings to start chat listeners with, or None when no listener is configured.

    A Slack bot token alone is enough to *post* digests; the Slack listener also needs
    ``slack.app_token`` (Socket Mode) or ``slack.signing_secret`` (HTTP mode). Without
    them, deliveries still run and the Slack listener stays off, with a warning, instead
    of the whole service refusing to start.
    """
    slack, telegram = settings.slack, settings.telegram
    slack_listens = slack.bot_token is not None and missing_listener_key(settings, "slack") is None
    if slack.bot_token is not None and not slack_listens:
        needed = (
            "slack.app_token (SLACK_APP_TOKEN)"
            if slack.mode == "socket"
            else ("slack.signing_secret (SLACK_SIGNING_SECRET)")
        )
        log.warning(
            "service: %s is not set: Slack commands are off; digests are still delivered",
            needed,
        )
    if not slack_listens and telegram.token is None and not settings.feishu.app_id:
        return None
    if slack_listens:
        return settings
    return settings.model_copy(update={"slack": slack.model_copy(update={"bot_token": None})})


class Service:
    """Scheduler + deliveries + listeners + health server, started and stopped together."""

    def __init__(
        self,
        settings: Settings,
        *,
        archive: Archive | None = None,
        transports: Transports | None = None,
        options: DeliveryOptions | None = None,
        owner: str | None = None,
        misfire_grace: dt.timedelta | None = None,
        reload_interval: dt.timedelta | None = None,
        listeners: bool = True,
    ) -> None:
        from bot.archive import Archive
        from bot.platforms import Transports

        self.settings = settings
        self.archive = archive or Archive.from_settings(settings)
        self.transports = transports or Transports(settings)
        self.options = options or DeliveryOptions.from_settings(settings)
        self.owner = owner or make_owner()
        self.deliverer = Deliverer.from_settings(
            settings, self.archive, self.transports.get, owner=self.owner, options=self.options
        )
        self.watcher = SourceWatcher(
            self.archive,
            list(settings.sources),
            base=settings.base_dir(),
            poll_interval=settings.poll_interval,
            wait_for_digest=settings.wait_for_digest,
            formats=Formats.from_settings(settings),
        )
        self.scheduler = DeliveryScheduler(
            self.load_channels,
            self.deliver_channel,
            misfire_grace=misfire_grace or settings.delivery.misfire_grace,
            reload_interval=reload_interval or settings.delivery.reload_interval,
        )
        self.want_listeners = listeners
        self.listeners: list[Any] = []
        self._health: Any = None
        self._stopping = asyncio.Event()
        #: The latest results (bounded: the service runs for months).
        self.results: deque[DeliveryResult] = deque(maxlen=RECENT_RESULTS)
        self._running: set[asyncio.Task[Any]] = set()

    def load_channels(self) -> list[Channel]:
        """The scheduled deliveries: each channel's daily digest and/or weekly rollup."""
        return delivery_jobs(load_channels(self.settings, self.archive.subscriptions))

    async def deliver_channel(self, channel: Channel) -> DeliveryResult:
        """One scheduled delivery: deliver now, or wait for the digest and then deliver."""
        task = asyncio.current_task()
        if task is not None:
            self._running.add(task)
        try:
            return await self._deliver_channel(channel)
        finally:
            if task is not None:
                self._running.discard(task)

    async def _deliver_channel(self, channel: Channel) -> DeliveryResult:
        started = self.deliverer.clock()
        await self.watcher.refresh()
        result = await self.deliverer.deliver(channel)
        if result.outcome in WAITING and result.digest_date is None:
            log.info("delivery %s: no new digest yet; waiting for it in sources", channel.key)
            ready = await self.watcher.wait_for(
                lambda: self.deliverer.choose_date(channel), what=f"delivery {channel.key}"
            )
            if ready is not None:
                result = await self.deliverer.deliver(
                    channel, deadline=self.deliverer.clock() + self.options.window
                )
        self.results.append(replace(result, plan=None))  # keep no payloads around
        log.debug("delivery %s took %s", channel.key, self.deliverer.clock() - started)
        return result

    # -- lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        await asyncio.to_thread(self.archive.create_schema)
        await asyncio.to_thread(cjk_font)  # warns once now if trends charts lack a CJK font
        await self.watcher.refresh(force=True)
        await self.scheduler.start()
        listening = listener_settings(self.settings) if self.want_listeners else None
        if listening is not None:
            from bot.platforms.listeners import start_listeners

            self.listeners = list(await start_listeners(listening, self.archive))
        if self.settings.web.port is not None:
            from bot.runtime.health import start_http_server

            self._health = await start_http_server(
                self.settings,
                archive=self.archive,
                scheduler=self.scheduler,
                listeners=self.listeners,
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
        for listener in reversed(self.listeners):
            try:
                await listener.stop()
            except Exception as exc:  # keep stopping the rest
                log.warning("service: stopping listener %s: %s", listener.name, exc)
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
