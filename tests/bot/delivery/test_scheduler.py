"""The real APScheduler AsyncIOScheduler: cron jobs per channel, misfire grace, reloads."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, EVENT_JOB_MISSED, JobEvent
from apscheduler.triggers.cron import CronTrigger

from bot.archive.engine import make_engine
from bot.archive.schema import metadata
from bot.archive.subscriptions import SubscriptionStore
from bot.channels import Channel, load_channels
from bot.config import load_settings
from bot.delivery import DeliveryScheduler, last_fire_within
from tests.support.delivery_kit import write_config

GRACE = dt.timedelta(hours=3)


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def daily_at(moment: dt.datetime) -> str:
    """A daily cron firing at ``moment``'s hour and minute (UTC)."""
    return f"{moment.minute} {moment.hour} * * *"


def job_event(scheduler: DeliveryScheduler, job_id: str, mask: int) -> asyncio.Event:
    """Set when APScheduler reports ``mask`` for the job. An execution is reported once all
    the run times it was handed (coalesced or not) have run, so counts read then are final."""
    seen = asyncio.Event()
    loop = asyncio.get_running_loop()

    def listener(event: JobEvent) -> None:
        if event.job_id == job_id:
            loop.call_soon_threadsafe(seen.set)

    scheduler.scheduler.add_listener(listener, mask)
    return seen


class Recorder:
    def __init__(self) -> None:
        self.runs: list[tuple[str, dt.datetime]] = []
        self.event = asyncio.Event()

    async def __call__(self, channel: Channel) -> None:
        self.runs.append((channel.key, utc_now()))
        self.event.set()

    def keys(self) -> list[str]:
        return [key for key, _ in self.runs]


@pytest.fixture
async def scheduled() -> AsyncIterator[Callable[..., DeliveryScheduler]]:
    made: list[DeliveryScheduler] = []

    def make(*args: object, **kwargs: object) -> DeliveryScheduler:
        scheduler = DeliveryScheduler(*args, **kwargs)  # type: ignore[arg-type]
        made.append(scheduler)
        return scheduler

    yield make
    for scheduler in made:
        scheduler.shutdown()


async def test_down_at_nine_back_at_nine_twenty_delivers_once(
    scheduled: Callable[..., DeliveryScheduler],
) -> None:
    missed = utc_now() - dt.timedelta(minutes=20)
    channel = Channel("slack", "C1", daily_at(missed), "UTC")
    recorder = Recorder()
    scheduler = scheduled(lambda: [channel], recorder, misfire_grace=GRACE, reload_interval=None)
    executed = job_event(scheduler, "slack:C1", EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
    await scheduler.start()
    await asyncio.wait_for(executed.wait(), timeout=5)
    assert recorder.keys() == ["slack:C1"]
    next_run = scheduler.next_runs()["slack:C1"]
    assert next_run is not None
    assert dt.timedelta(hours=23) < next_run - missed <= dt.timedelta(hours=24, minutes=1)


async def test_a_run_missed_by_more_than_the_grace_is_not_made_up(
    scheduled: Callable[..., DeliveryScheduler],
) -> None:
    missed = utc_now() - dt.timedelta(hours=4)
    channel = Channel("slack", "C1", daily_at(missed), "UTC")
    recorder = Recorder()
    scheduler = scheduled(lambda: [channel], recorder, misfire_grace=GRACE, reload_interval=None)
    await scheduler.start()
    # Nothing is due before tomorrow's run: no catch-up was scheduled.
    next_run = scheduler.next_runs()["slack:C1"]
    assert next_run is not None and next_run > utc_now() + dt.timedelta(hours=19)
    assert recorder.runs == []


async def test_several_missed_runs_coalesce_into_one(
    scheduled: Callable[..., DeliveryScheduler],
) -> None:
    """A stalled loop (every-minute job, five minutes late) runs the job once, not five times."""
    channel = Channel("slack", "C1", "* * * * *", "UTC")
    recorder = Recorder()
    scheduler = scheduled(
        lambda: [], recorder, misfire_grace=GRACE, reload_interval=None, catch_up=False
    )
    executed = job_event(scheduler, "slack:C1", EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
    await scheduler.start()
    scheduler._add(channel, next_run_time=utc_now() - dt.timedelta(minutes=5, seconds=30))
    await asyncio.wait_for(executed.wait(), timeout=5)
    assert recorder.keys() == ["slack:C1"]
    next_run = scheduler.next_runs()["slack:C1"]
    assert next_run is not None and next_run > utc_now()  # the backlog is gone


async def test_a_misfire_past_the_grace_is_skipped_by_apscheduler(
    scheduled: Callable[..., DeliveryScheduler], caplog: pytest.LogCaptureFixture
) -> None:
    channel = Channel("slack", "C1", "0 0 1 1 *", "UTC")  # next real run: New Year
    recorder = Recorder()
    scheduler = scheduled(
        lambda: [],
        recorder,
        misfire_grace=dt.timedelta(seconds=1),
        reload_interval=None,
        catch_up=False,
    )
    missed = job_event(scheduler, "slack:C1", EVENT_JOB_MISSED)
    await scheduler.start()
    late = (utc_now() - dt.timedelta(seconds=30)).replace(microsecond=0)
    scheduler._add(channel, next_run_time=late)
    await asyncio.wait_for(missed.wait(), timeout=5)
    assert recorder.runs == []
    assert "slack:C1 missed its run" in caplog.text


def test_last_fire_within_uses_the_channel_timezone() -> None:
    trigger = CronTrigger.from_crontab("0 9 * * *", timezone="Asia/Shanghai")
    at_0920 = dt.datetime(2026, 2, 3, 1, 20, tzinfo=dt.UTC)  # 09:20 in Shanghai
    fire = last_fire_within(trigger, at_0920, GRACE)
    assert fire is not None
    assert fire.astimezone(dt.UTC) == dt.datetime(2026, 2, 3, 1, 0, tzinfo=dt.UTC)
    assert last_fire_within(trigger, at_0920 + dt.timedelta(hours=3), GRACE) is None
    assert last_fire_within(trigger, at_0920 - dt.timedelta(hours=1), GRACE) is None


async def test_channels_added_changed_and_removed_at_runtime(
    tmp_path: Path, scheduled: Callable[..., DeliveryScheduler]
) -> None:
    path = write_config(tmp_path, channels=[{"platform": "console", "id": "terminal"}])
    settings = load_settings(path, environ={})
    engine = make_engine(f"sqlite:///{tmp_path / 'archive.db'}")
    metadata.create_all(engine)
    store = SubscriptionStore(engine)
    recorder = Recorder()
    scheduler = scheduled(
        lambda: load_channels(settings, store),
        recorder,
        reload_interval=dt.timedelta(seconds=0.1),
        catch_up=False,
    )
    await scheduler.start()
    assert list(scheduler.next_runs()) == ["console:terminal"]

    # /ai subscribe in a new channel: the periodic reload schedules it, no restart.
    store.upsert(
        "slack", "CNEW", topics=["tag:Agent"], schedule="30 7 * * 1-5", timezone="Europe/Berlin"
    )
    for _ in range(50):
        if "slack:CNEW" in scheduler.next_runs():
            break
        await asyncio.sleep(0.05)
    runs = scheduler.next_runs()
    assert "slack:CNEW" in runs
    when = runs["slack:CNEW"]
    assert when is not None
    berlin = when.astimezone(ZoneInfo("Europe/Berlin"))
    assert (berlin.hour, berlin.minute, berlin.isoweekday() <= 5) == (7, 30, True)

    store.upsert("slack", "CNEW", schedule="0 6 * * *")
    changes = await scheduler.reload()
    assert changes.rescheduled == ["slack:CNEW"]
    store.upsert("slack", "CNEW", topics=["tag:RL"])
    changes = await scheduler.reload()
    assert changes.updated == ["slack:CNEW"]
    assert scheduler.channels["slack:CNEW"].topics == ("tag:RL",)
    store.deactivate("slack", "CNEW", "channel_not_found")
    changes = await scheduler.reload()
    assert changes.removed == ["slack:CNEW"]
    assert list(scheduler.next_runs()) == ["console:terminal"]
    engine.dispose()


async def test_a_failing_reload_keeps_the_current_jobs(
    scheduled: Callable[..., DeliveryScheduler],
) -> None:
    channel = Channel("slack", "C1", "0 9 * * *", "UTC")
    calls = [0]

    def load() -> list[Channel]:
        calls[0] += 1
        if calls[0] > 1:
            raise RuntimeError("database is away")
        return [channel]

    scheduler = scheduled(load, Recorder(), reload_interval=None, catch_up=False)
    await scheduler.start()
    changes = await scheduler.reload()
    assert not changes
    assert list(scheduler.next_runs()) == ["slack:C1"]
