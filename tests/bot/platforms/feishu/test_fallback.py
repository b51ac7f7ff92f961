"""A card Feishu refuses never loses an item: the same content arrives as posts (or text).

The fakes refuse every card the way Feishu refuses an invalid one (webhook: HTTP 200 with
code 11246; IM API: code 230099); the real deliverer, ledger and transports deliver the
reference digest through them, over real HTTP (aiohttp for the webhook, lark-oapi for the
IM API).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.archive import Archive, select_rollup
from bot.channels import Channel, load_channels
from bot.config import load_settings
from bot.delivery import Deliverer, Outcome
from bot.errors import DeliveryError
from bot.ingest import ingest_paths, parse_file
from bot.platforms import Transports
from bot.platforms.feishu.api import FeishuApi
from bot.platforms.feishu.transport import FeishuTransport
from bot.platforms.robot import Robot
from bot.query import IsoWeek
from formatters import feishu
from formatters import rollup as weekly
from formatters.payloads import RobotMessage
from formatters.templates import Templates
from formatters.weekly import render_weekly
from tests.fakes.feishu_api import FakeFeishuApi
from tests.fakes.feishu_webhook import FakeFeishuWebhook
from tests.support.cli import run as run_cli
from tests.support.delivery_kit import (
    ALL,
    DAY,
    FAST,
    REFERENCE,
    fast_timings,
    item_urls,
    write_config,
)

DATA = Path(__file__).resolve().parents[3] / "data"


class World:
    """A real archive with the reference digest, the deliverer and the Feishu transport."""

    def __init__(
        self,
        tmp_path: Path,
        channel: dict[str, Any],
        extra: dict[str, Any],
        source: Path = REFERENCE,
    ) -> None:
        path = write_config(tmp_path, channels=[channel], extra=extra)
        self.settings = load_settings(path, environ={})
        self.archive = Archive.from_settings(self.settings)
        self.archive.create_schema()
        assert ingest_paths(self.archive, [str(source)], workers=1).ok
        self.transports = Transports(self.settings, overrides={"feishu": {"limits": ()}})
        self.templates = Templates(**self.settings.template_options())
        self.deliverer = Deliverer(
            self.archive,
            self.transports.get,
            templates=self.templates,
            aliases=self.archive.aliases,
            owner="test",
            options=FAST,
            render_weekly=lambda platform, rollup: render_weekly(platform, rollup, self.templates),
        )

    def channels(self) -> list[Channel]:
        return load_channels(self.settings, self.archive.subscriptions)

    async def close(self) -> None:
        await self.transports.close()
        self.archive.close()


def first_seen(messages: list[dict[str, Any]]) -> list[int]:
    """Reference ranks in the order their links first appear across the messages."""
    by_url = {url: rank for rank, url in item_urls().items()}
    order: list[int] = []
    for message in messages:
        for link in message["links"]:
            rank = by_url.get(link)
            if rank is not None and rank not in order:
                order.append(rank)
    return order


def expected_posts(templates: Templates) -> int:
    return sum(
        len(m.fallback) for m in feishu.render_digest(parse_file(REFERENCE).digest, templates)
    )


@pytest.fixture
async def webhook_world(
    tmp_path: Path, fake_feishu_webhook: FakeFeishuWebhook
) -> AsyncIterator[tuple[World, str]]:
    webhook = fake_feishu_webhook.add_robot("s3cret")
    channel = {"platform": "feishu", "id": "team", "webhook": webhook, "secret": "s3cret"}
    world = World(tmp_path, channel, {})
    yield world, webhook
    await world.close()


async def test_refused_cards_arrive_as_posts_in_order_exactly_once_by_webhook(
    fake_feishu_webhook: FakeFeishuWebhook,
    webhook_world: tuple[World, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    world, webhook = webhook_world
    fake_feishu_webhook.refuse_cards = True
    with caplog.at_level(logging.WARNING, logger="bot.platforms.feishu.transport"):
        (result,) = await world.deliverer.deliver_all(world.channels(), date=DAY)
    assert result.outcome is Outcome.DELIVERED
    sent = fake_feishu_webhook.sent(webhook)
    assert {m["msg_type"] for m in sent} == {"post"}
    assert len(sent) == expected_posts(world.templates) >= result.total
    assert first_seen(sent) == ALL
    assert fake_feishu_webhook.stats["error:11246"] == result.total  # each card refused once
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    for index in range(result.total):
        assert any("feishu:team" in w and f"card {index} of 2026-02-03" in w for w in warnings), (
            warnings
        )
    (again,) = await world.deliverer.deliver_all(world.channels(), date=DAY)
    assert again.outcome is Outcome.ALREADY
    assert len(fake_feishu_webhook.sent(webhook)) == len(sent)
    assert fake_feishu_webhook.mentions == []


async def test_a_refused_post_goes_out_as_text(
    fake_feishu_webhook: FakeFeishuWebhook, webhook_world: tuple[World, str]
) -> None:
    world, webhook = webhook_world
    fake_feishu_webhook.refuse_cards = True
    fake_feishu_webhook.refuse_posts = True
    (result,) = await world.deliverer.deliver_all(world.channels(), date=DAY)
    assert result.outcome is Outcome.DELIVERED
    sent = fake_feishu_webhook.sent(webhook)
    assert {m["msg_type"] for m in sent} == {"text"}
    assert len(sent) == expected_posts(world.templates)
    text = "\n".join(m["text"] for m in sent)
    urls = item_urls()
    positions = [text.index(urls[rank]) for rank in ALL]
    assert positions == sorted(positions)  # every item, in order
    assert fake_feishu_webhook.mentions == []


async def test_hostile_content_stays_inert_in_posts_and_text(
    fake_feishu_webhook: FakeFeishuWebhook,
) -> None:
    webhook = fake_feishu_webhook.add_robot()
    fake_feishu_webhook.refuse_cards = True
    transport = FeishuTransport({"g": Robot(webhook)}, limits=())
    target = Channel("feishu", "g", "0 9 * * *", "UTC")
    templates = Templates("zh")
    digest = parse_file(DATA / "formatters_hostile_robots.md").digest
    messages = transport.render(digest, templates)
    for index, payload in enumerate(messages):
        await transport.send(target, index, payload, digest_date=DAY)
    fake_feishu_webhook.refuse_posts = True
    for index, payload in enumerate(messages):
        await transport.send(target, index, payload, digest_date=DAY)
    await transport.close()
    sent = fake_feishu_webhook.sent(webhook)
    kinds = [m["msg_type"] for m in sent]
    assert "post" in kinds and "text" in kinds and "interactive" not in kinds
    assert fake_feishu_webhook.mentions == []  # no <at> tag, @所有人 or @all addresses anyone
    assert all(link.startswith("https://") for m in sent for link in m["links"])
    shown = "\n".join(m["text"] for m in sent).replace("\u200b", "")
    for fragment in ("<at id=all></at>", '<at user_id="all">', "@所有人", "@all"):
        assert fragment in shown, fragment  # shown as text


@pytest.fixture
async def app_world(tmp_path: Path, fake_feishu_api: FakeFeishuApi) -> AsyncIterator[World]:
    fake_feishu_api.add_chat("oc_team", owner="ou_owner")
    extra = {
        "feishu": {
            "app_id": fake_feishu_api.app_id,
            "app_secret": fake_feishu_api.app_secret,
            "api_url": fake_feishu_api.base_url,
        }
    }
    world = World(tmp_path, {"platform": "feishu", "id": "team", "chat_id": "oc_team"}, extra)
    yield world
    await world.close()


async def test_refused_cards_arrive_as_posts_in_order_exactly_once_by_the_app(
    fake_feishu_api: FakeFeishuApi, app_world: World, caplog: pytest.LogCaptureFixture
) -> None:
    fake_feishu_api.refuse_cards = True
    fake_feishu_api.fail_next("im.message.create", status=500)  # a retry resends with one uuid
    with caplog.at_level(logging.WARNING, logger="bot.platforms.feishu.transport"):
        (result,) = await app_world.deliverer.deliver_all(app_world.channels(), date=DAY)
    assert result.outcome is Outcome.DELIVERED
    sent = fake_feishu_api.sent("oc_team")
    assert {m["msg_type"] for m in sent} == {"post"}
    assert len(sent) == expected_posts(app_world.templates)
    assert first_seen(sent) == ALL
    assert any("Feishu refused card 0 of 2026-02-03" in r.getMessage() for r in caplog.records)
    (again,) = await app_world.deliverer.deliver_all(app_world.channels(), date=DAY)
    assert again.outcome is Outcome.ALREADY
    assert len(fake_feishu_api.sent("oc_team")) == len(sent)
    assert all(not m["mentions"] for m in sent)


async def test_a_card_without_a_fallback_still_fails_loudly(fake_feishu_api: FakeFeishuApi) -> None:
    fake_feishu_api.add_chat("oc_x", owner="ou_o")
    fake_feishu_api.refuse_cards = True
    api = FeishuApi(
        fake_feishu_api.app_id, fake_feishu_api.app_secret, domain=fake_feishu_api.base_url
    )
    transport = FeishuTransport({}, api=api, limits=())
    card = {"schema": "2.0", "body": {"elements": [{"tag": "markdown", "content": "hi"}]}}
    with pytest.raises(DeliveryError, match="230099"):
        await transport.send(
            Channel("feishu", "oc_x", "0 9 * * *", "UTC"),
            0,
            RobotMessage(body={"msg_type": "interactive", "card": card}),
            digest_date=DAY,
        )
    await transport.close()


@pytest.mark.parametrize("refuse", [False, True], ids=["cards", "posts"])
async def test_the_weekly_rollup_reaches_a_robot_whole_and_in_order(
    tmp_path: Path, fake_feishu_webhook: FakeFeishuWebhook, week_dir: Path, refuse: bool
) -> None:
    webhook = fake_feishu_webhook.add_robot()
    entry = {"platform": "feishu", "id": "wk", "webhook": webhook, "digest": "weekly"}
    world = World(tmp_path, entry, {"language": "en"}, source=week_dir)
    fake_feishu_webhook.refuse_cards = refuse
    try:
        (result,) = await world.deliverer.deliver_all(world.channels(), week=IsoWeek(2026, 6))
        rollup = select_rollup(world.archive, IsoWeek(2026, 6))
    finally:
        await world.close()
    assert result.outcome is Outcome.DELIVERED
    sent = fake_feishu_webhook.sent(webhook)
    assert {m["msg_type"] for m in sent} == {"post" if refuse else "interactive"}
    text = "\n".join(m["text"] for m in sent)
    titles = [hit.title for hit in weekly.shown_hits(rollup)]
    assert len(titles) == 10
    assert [text.index(t) for t in titles] == sorted(text.index(t) for t in titles)
    assert text.index("Mon 02-02") < text.index(titles[0])
    if not refuse:
        assert sum(m["panels"] for m in sent) == 10


def test_digestbot_send_twice_posts_the_refused_cards_content_once(
    tmp_path: Path, fake_feishu_webhook: FakeFeishuWebhook, capsys: pytest.CaptureFixture[str]
) -> None:
    webhook = fake_feishu_webhook.add_robot("s3cret")
    channel = {"platform": "feishu", "id": "team", "webhook": webhook, "secret": "s3cret"}
    config = write_config(tmp_path, channels=[channel], timings=fast_timings(any_age=False))
    fake_feishu_webhook.refuse_cards = True
    argv = ["--config", str(config), "send", "--date", "2026-02-03"]
    assert run_cli(argv) == 0
    sent = fake_feishu_webhook.sent(webhook)
    assert {m["msg_type"] for m in sent} == {"post"} and first_seen(sent) == ALL
    assert run_cli(argv) == 0
    assert "already" in capsys.readouterr().out
    assert len(fake_feishu_webhook.sent(webhook)) == len(sent)  # the second send posts nothing
