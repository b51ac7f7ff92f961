"""Scheduling deliveries: one APScheduler cron job per channel, in the channel's timezone.

Why these settings:
- ``coalesce=True`` + ``misfire_grace_time`` (3 h): a loop stalled past 09:00 runs the
  job once, late, instead of zero or several times.
- Memory job store only (a job store must never be shared by two schedulers): each
  replica schedules every channel; the ledger claim decides who sends. Because a memory
  store forgets on restart, ``start()`` catches up: a channel whose last fire time is
  within the grace period (down at 09:00, back at 09:20) runs at once; the ledger makes
  that a no-op if the delivery had already happened.
- A periodic reload merges config and the subscriptions table again, so channels added,
  changed or deactivated at runtime are (re)scheduled without a restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.jobstores.base import JobLookupError
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.channels import Channel
from bot.cron import cron_trigger as crontab_trigger

log = logging.getLogger(__name__)

RELOAD_JOB = "__reload_channels__"
DEFAULT_MISFIRE_GRACE = dt.timedelta(hours=3)
DEFAULT_RELOAD_INTERVAL = dt.timedelta(seconds=60)


@dataclass
class Changes:
    """What a reload did, for logs and tests."""

    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    rescheduled: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.rescheduled or self.updated)


def cron_trigger(channel: Channel) -> CronTrigger:
    return crontab_trigger(channel.schedule, channel.timezone)


def last_fire_within(
    trigger: CronTrigger, now: dt.datetime, grace: dt.timedelta
) -> dt.datetime | None:
    """The latest fire time in (now - grace, now], i.e. a run missed while we were down."""
    fire = trigger.get_next_fire_time(None, now - grace)
    latest = None
    while fire is not None and fire <= now:
        latest = fire
        fire = trigger.get_next_fire_time(fire, fire + dt.timedelta(microseconds=1))
    return latest


class DeliveryScheduler:
    """Keeps one cron job per effective channel and calls ``run(channel)`` when it fires."""

    def __init__(
        self,
        load: Callable[[], list[Channel]],
        run: Callable[[Channel], Awaitable[Any]],
        *,
        misfire_grace: dt.timedelta = DEFAULT_MISFIRE_GRACE,
        reload_interval: dt.timedelta | None = DEFAULT_RELOAD_INTERVAL,
        catch_up: bool = True,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self.load = load
        self.run = run
        self.misfire_grace = misfire_grace
        self.reload_interval = reload_interval
        self.catch_up = catch_up
        self.clock = clock
        self.scheduler = AsyncIOScheduler(
            jobstores={"default": MemoryJobStore()},
            job_defaults={
                "coalesce": True,
                "max_instances": 1,
                "misfire_grace_time": int(misfire_grace.total_seconds()),
            },
            timezone=dt.UTC,
        )
        self.scheduler.add_listener(self._on_event, EVENT_JOB_MISSED | EVENT_JOB_ERROR)
        self.channels: dict[str, Channel] = {}
        self._periodic: set[str] = {RELOAD_JOB}

    # -- lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        """Load channels, schedule them (catching up missed runs), start the scheduler."""
        channels = await asyncio.to_thread(self.load)
        self.scheduler.start()
        now = self.clock()
        for channel in channels:
            catch_up_at = None
            if self.catch_up:
                catch_up_at = last_fire_within(cron_trigger(channel), now, self.misfire_grace)
            self._add(channel, next_run_time=catch_up_at)
            if catch_up_at is not None:
                log.info(
                    "scheduler: %s missed its run at %s; delivering now (within the grace period)",
                    channel.key,
                    catch_up_at.isoformat(timespec="minutes"),
                )
        if self.reload_interval is not None:
            self.scheduler.add_job(
                self.reload,
                IntervalTrigger(seconds=self.reload_interval.total_seconds()),
                id=RELOAD_JOB,
                replace_existing=True,
                misfire_grace_time=None,
            )
        log.info("scheduler: %d channels scheduled", len(self.channels))

    def add_periodic(
        self, job_id: str, func: Callable[[], Awaitable[Any]], every: dt.timedelta
    ) -> None:
        """A housekeeping job every ``every`` (not a channel: not in ``next_runs``)."""
        self._periodic.add(job_id)
        self.scheduler.add_job(
            func,
            IntervalTrigger(seconds=every.total_seconds()),
            id=job_id,
            replace_existing=True,
            misfire_grace_time=None,
            coalesce=True,
            max_instances=1,
        )

    def shutdown(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)

    @property
    def running(self) -> bool:
        return bool(self.scheduler.running)

    # -- jobs ------------------------------------------------------------------------------

    def _add(self, channel: Channel, *, next_run_time: dt.datetime | None = None) -> None:
        extra: dict[str, Any] = {}
        if next_run_time is not None:
            extra["next_run_time"] = next_run_time
        self.scheduler.add_job(
            self._fire,
            cron_trigger(channel),
            args=[channel.key],
            id=channel.key,
            name=f"deliver {channel.key}",
            replace_existing=True,
            **extra,
        )
        self.channels[channel.key] = channel

    async def _fire(self, key: str) -> None:
        channel = self.channels.get(key)
        if channel is None:  # removed by a reload while queued
            return
        await self.run(channel)

    async def reload(self) -> Changes:
        """Re-read config + subscriptions; add, drop and reschedule jobs that changed."""
        changes = Changes()
        try:
            channels = await asyncio.to_thread(self.load)
        except Exception as exc:  # the archive may be briefly away: keep the current jobs
            log.warning("scheduler: cannot reload channels, keeping the current ones: %s", exc)
            return changes
        fresh = {channel.key: channel for channel in channels}
        for key in list(self.channels):
            if key not in fresh:
                self._remove(key)
                changes.removed.append(key)
        for key, channel in fresh.items():
            old = self.channels.get(key)
            if old is None:
                self._add(channel)
                changes.added.append(key)
            elif old.timing() != channel.timing():
                self.scheduler.reschedule_job(key, trigger=cron_trigger(channel))
                self.channels[key] = channel
                changes.rescheduled.append(key)
            elif old != channel:
                self.channels[key] = channel  # topics/thread: read when the job fires
                changes.updated.append(key)
        if changes:
            log.info(
                "scheduler: reloaded channels: +%s -%s ~%s",
                changes.added,
                changes.removed,
                changes.rescheduled + changes.updated,
            )
        return changes

    def _remove(self, key: str) -> None:
        with contextlib.suppress(JobLookupError):
            self.scheduler.remove_job(key)
        self.channels.pop(key, None)

    def next_runs(self) -> dict[str, dt.datetime | None]:
        """Next delivery time per channel (for /healthz); None for a paused job."""
        runs: dict[str, dt.datetime | None] = {}
        for job in self.scheduler.get_jobs():
            if job.id in self._periodic:
                continue
            runs[job.id] = getattr(job, "next_run_time", None)
        return dict(sorted(runs.items()))

    def _on_event(self, event: JobExecutionEvent) -> None:
        if event.job_id in self._periodic:
            if event.exception is not None:
                log.error("scheduler: %s failed: %s", event.job_id, event.exception)
            return
        if event.code == EVENT_JOB_MISSED:
            log.warning(
                "scheduler: %s missed its run at %s by more than %s; next run as scheduled",
                event.job_id,
                event.scheduled_run_time,
                self.misfire_grace,
            )
        elif event.exception is not None:
            log.error("scheduler: delivery job %s crashed: %r", event.job_id, event.exception)
