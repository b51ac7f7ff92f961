"""Delivering to Feishu, DingTalk and WeCom group robots through the fakes, via the ledger.

Real parts: our robot transports (aiohttp) over HTTP to fake webhooks that check
signatures, byte limits, markup and rate limits like the platforms; a real SQLite archive;
the real formatters and deliverer.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.archive import Archive
from bot.archive.ledger import Status
from bot.channels import Channel, load_channels
from bot.config import load_settings
from bot.delivery import Deliverer, Outcome
from bot.ingest import ingest_paths
from bot.platforms import Transports
from formatters.templates import Templates
from tests.fakes.robot_server import FakeRobots, RateLimit
from tests.support.delivery_kit import (
    AGENT_RANKS,
    ALL,
    DAY,
    FAST,
    REFERENCE,
    ranks_seen,
    write_config,
)

PLATFORMS = ("feishu", "dingtalk", "wecom")
#: Test timings: no pacing between messages, and a rate-limited robot waits 50 ms.
QUICK = {"limits": (), "rate_window": 0.05}


@dataclass
class Robots:
    fakes: dict[str, FakeRobots]

    def channel(
        self, platform: str, name: str, *, secret: str | None = None, **extra: Any
    ) -> dict[str, Any]:
        webhook = self.fakes[platform].add_robot(secret)
        entry = {"platform": platform, "id": name, "webhook": webhook, **extra}
        if secret:
            entry["secret"] = secret
        return entry

    def sent(self, entry: dict[str, Any]) -> list[dict[str, Any]]:
        return self.fakes[entry["platform"]].sent(entry["webhook"])


class World:
    def __init__(
        self, tmp_path: Path, channels: list[dict[str, Any]], **overrides: dict[str, Any]
    ) -> None:
        path = write_config(tmp_path, channels=channels)
        self.settings = load_settings(path, environ={})
        self.archive = Archive.from_settings(self.settings)
        self.archive.create_schema()
        assert ingest_paths(self.archive, [str(REFERENCE)]).ok
        self.transports = Transports(
            self.settings, overrides={p: {**QUICK, **overrides.get(p, {})} for p in PLATFORMS}
        )
        self.deliverer = Deliverer(
            self.archive,
            self.transports.get,
            templates=Templates(**self.settings.template_options()),
            aliases=self.archive.aliases,
            owner="test-owner",
            options=FAST,
        )

    def channels(self) -> list[Channel]:
        return load_channels(self.settings, self.archive.subscriptions)

    def rendered(self, platform: str) -> list[Any]:
        digest = self.archive.digest(DAY)
        assert digest is not None
        return self.transports.get(platform).render(digest, self.deliverer.templates)

    async def close(self) -> None:
        await self.transports.close()
        self.archive.close()


@pytest.fixture
def robots(
    fake_feishu_webhook: FakeRobots, fake_dingtalk: FakeRobots, fake_wecom: FakeRobots
) -> Robots:
    return Robots({"feishu": fake_feishu_webhook, "dingtalk": fake_dingtalk, "wecom": fake_wecom})


@pytest.fixture
async def make_world(tmp_path: Path) -> AsyncIterator[Callable[..., World]]:
    made: list[World] = []

    def make(channels: list[dict[str, Any]], **overrides: dict[str, Any]) -> World:
        world = World(tmp_path, channels, **overrides)
        made.append(world)
        return world

    yield make
    for world in made:
        await world.close()


def links_of(messages: list[dict[str, Any]]) -> list[str]:
    return [link for m in messages for link in m["links"]]


async def test_all_items_arrive_once_signed_within_limits_and_paced(
    make_world: Callable[..., World], robots: Robots
) -> None:
    entries = [
        robots.channel("feishu", "ai-team", secret="feishu-secret"),
        robots.channel("dingtalk", "ai-team", secret="SECdingtalk"),
        robots.channel("wecom", "ai-team"),
    ]
    for fake in robots.fakes.values():  # the platforms' real limits, scaled down 60x
        limit = fake.LIMIT
        fake.enforce_rate_limit(
            RateLimit(limit.per_window, limit.window / 60, limit.per_second, limit.throttle / 60)
        )
    world = make_world(  # our pacing, with the same limits: no rate-limit answer at all
        entries,
        feishu={"limits": ((5, 1 / 60), (100, 1.0))},
        dingtalk={"limits": ((20, 1.0),)},
        wecom={"limits": ((20, 1.0),)},
    )
    results = await world.deliverer.deliver_all(world.channels(), date=DAY)
    assert [(r.channel.key, r.outcome) for r in results] == [
        (f"{p}:ai-team", Outcome.DELIVERED) for p in PLATFORMS
    ]
    for entry in entries:
        platform = entry["platform"]
        sent = robots.sent(entry)
        payloads = world.rendered(platform)
        assert len(sent) == len(payloads) == results[PLATFORMS.index(platform)].posted
        assert ranks_seen(links_of(sent)) == ALL, platform
        assert all(not m["mentions"] for m in sent)
        row = world.archive.ledger.status(platform, "ai-team", DAY)
        assert row is not None and row.status is Status.DONE
        assert robots.fakes[platform].stats["rate_limited"] == 0
    # Packed into as few messages as the limits allow.
    assert len(world.rendered("dingtalk")) <= 3
    assert len(world.rendered("feishu")) <= 3


async def test_a_second_run_posts_nothing(make_world: Callable[..., World], robots: Robots) -> None:
    entries = [robots.channel(p, "g1") for p in PLATFORMS]
    world = make_world(entries)
    await world.deliverer.deliver_all(world.channels(), date=DAY)
    calls = sum(len(f.calls) for f in robots.fakes.values())
    again = await world.deliverer.deliver_all(world.channels(), date=DAY)
    assert [r.outcome for r in again] == [Outcome.ALREADY] * 3
    assert sum(len(f.calls) for f in robots.fakes.values()) == calls


async def test_topic_filters_hold(make_world: Callable[..., World], robots: Robots) -> None:
    agent = [robots.channel(p, "agent", topics=["tag:Agent"]) for p in PLATFORMS]
    rl = [robots.channel(p, "rl", topics=["tag:RL"]) for p in PLATFORMS]
    world = make_world(agent + rl)
    results = await world.deliverer.deliver_all(world.channels(), date=DAY)
    assert {r.outcome for r in results} == {Outcome.DELIVERED}
    for entry in agent:
        assert ranks_seen(links_of(robots.sent(entry))) == AGENT_RANKS
    for entry in rl:
        assert ranks_seen(links_of(robots.sent(entry))) == [2, 7]


async def test_rate_limits_5xx_and_drops_lose_and_duplicate_nothing(
    make_world: Callable[..., World], robots: Robots
) -> None:
    entries = [robots.channel(p, "g1", secret="SECx" if p != "wecom" else None) for p in PLATFORMS]
    for fake in robots.fakes.values():
        fake.fail_next("send", status=429)  # the platform's own rate-limit answer
        fake.fail_next("send", status=500)
        fake.fail_next("send", status=502)
    # DingTalk's real throttle too: the third message within the window is refused. The
    # window is long next to one delivery (which takes well under a second), so the third
    # message always lands inside it, however slow the machine is.
    robots.fakes["dingtalk"].enforce_rate_limit(RateLimit(2, 2.0, throttle=0.1))
    world = make_world(entries)
    results = await world.deliverer.deliver_all(world.channels(), date=DAY)
    assert [r.outcome for r in results] == [Outcome.DELIVERED] * 3
    for entry, result in zip(entries, results, strict=True):
        fake = robots.fakes[entry["platform"]]
        assert fake.stats["injected"] == 3
        assert result.retries >= 3
        sent = robots.sent(entry)
        # A 5xx may or may not have posted; the fakes post nothing on a fault, so exactly
        # the rendered messages arrived, in order.
        expected = world.rendered(entry["platform"])
        assert len(sent) == len(expected)
        assert ranks_seen(links_of(sent)) == ALL
    assert robots.fakes["dingtalk"].stats["rate_limited"] >= 1


async def test_a_bad_signature_or_removed_robot_pauses_without_dropping(
    make_world: Callable[..., World], robots: Robots
) -> None:
    feishu = robots.channel("feishu", "signed", secret="right")
    dingtalk = robots.channel("dingtalk", "signed", secret="SECright")
    wecom = robots.channel("wecom", "gone")
    robots.fakes["feishu"].robot(feishu["webhook"]).secret = "rotated"
    robots.fakes["dingtalk"].robot(dingtalk["webhook"]).secret = "SECrotated"
    robots.fakes["wecom"].remove_robot(wecom["webhook"])
    world = make_world([feishu, dingtalk, wecom])
    results = await world.deliverer.deliver_all(world.channels(), date=DAY)
    assert [r.outcome for r in results] == [Outcome.PAUSED] * 3
    platforms = world.deliverer.platforms
    assert platforms.failing() == {}  # a robot's secret is its own: other groups go on
    # ...but each refusing robot is reported (the log, /healthz) until it accepts us again.
    reported = platforms.refusing()
    assert set(reported) == {r.channel.key for r in results}
    assert all(feishu["webhook"] not in down.reason for down in reported.values())
    assert "19021" in (results[0].error or "") and "310000" in (results[1].error or "")
    assert "93000" in (results[2].error or "")
    for result in results:
        assert feishu["webhook"] not in (result.error or "")
        row = world.archive.ledger.status(result.channel.platform, result.channel.id, DAY)
        assert row is not None and row.status is Status.RETRY  # retryable, not dropped
        assert world.archive.subscriptions.get(result.channel.platform, result.channel.id) is None
    # Fixed: the next run delivers everything.
    robots.fakes["feishu"].robot(feishu["webhook"]).secret = "right"
    robots.fakes["dingtalk"].robot(dingtalk["webhook"]).secret = "SECright"
    robots.fakes["wecom"].robot(wecom["webhook"]).removed = False
    again = await world.deliverer.deliver_all(world.channels(), date=DAY)
    assert [r.outcome for r in again] == [Outcome.DELIVERED] * 3
    assert platforms.refusing() == {}


async def test_a_crash_repeats_at_most_the_one_unrecorded_message(
    make_world: Callable[..., World], robots: Robots, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Webhooks cannot read history: the documented one-duplicate window."""
    entry = robots.channel("wecom", "g1")
    world = make_world([entry])
    ledger = world.archive.ledger
    original = ledger.record
    crashed: list[int] = []

    def record(delivery_id: int, idx: int, message_id: str, *, owner: str | None = None) -> None:
        if idx == 2 and not crashed:
            crashed.append(idx)
            raise RuntimeError("simulated crash after posting")
        original(delivery_id, idx, message_id, owner=owner)

    monkeypatch.setattr(ledger, "record", record)
    await world.deliverer.deliver_all(world.channels(), date=DAY)
    (second,) = await world.deliverer.deliver_all(world.channels(), date=DAY)
    assert second.outcome is Outcome.DELIVERED
    texts = [m["markdown"] for m in robots.sent(entry)]
    expected = [p.body["markdown"]["content"] for p in world.rendered("wecom")]
    assert texts == expected[:3] + expected[2:]  # message 2 twice, nothing else
