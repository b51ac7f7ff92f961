"""Digest delivery through the Feishu app bot (``chat_id`` channels): lark-oapi's IM API
against the fake open API, through the real deliverer and ledger."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.archive import Archive
from bot.channels import Channel, load_channels
from bot.config import load_settings
from bot.delivery import Deliverer, Outcome
from bot.errors import PermanentDeliveryError, PlatformUnavailable, TransientDeliveryError
from bot.ingest import ingest_paths
from bot.platforms import Transports
from bot.platforms.feishu.api import FeishuApi
from bot.platforms.feishu.transport import FeishuTransport
from formatters.payloads import RobotMessage
from formatters.templates import Templates
from tests.fakes.feishu_api import FakeFeishuApi
from tests.support.delivery_kit import (
    ALL,
    DAY,
    FAST,
    REFERENCE,
    item_urls,
    ranks_seen,
    write_config,
)

CARD = {"schema": "2.0", "body": {"elements": [{"tag": "markdown", "content": "hi"}]}}


def card() -> RobotMessage:
    return RobotMessage(body={"msg_type": "interactive", "card": CARD})


@pytest.fixture
async def world(
    tmp_path: Path, fake_feishu_api: FakeFeishuApi
) -> AsyncIterator[tuple[Archive, Deliverer, list[Channel], Transports]]:
    fake_feishu_api.add_chat("oc_team", owner="ou_owner")
    path = write_config(
        tmp_path,
        channels=[{"platform": "feishu", "id": "team", "chat_id": "oc_team"}],
        extra={
            "feishu": {
                "app_id": fake_feishu_api.app_id,
                "app_secret": fake_feishu_api.app_secret,
                "api_url": fake_feishu_api.base_url,
            }
        },
    )
    settings = load_settings(path, environ={})
    archive = Archive.from_settings(settings)
    archive.create_schema()
    assert ingest_paths(archive, [str(REFERENCE)]).ok
    transports = Transports(settings, overrides={"feishu": {"limits": ()}})
    deliverer = Deliverer(
        archive,
        transports.get,
        templates=Templates(**settings.template_options()),
        aliases=archive.aliases,
        owner="test",
        options=FAST,
    )
    yield archive, deliverer, load_channels(settings, archive.subscriptions), transports
    await transports.close()
    archive.close()


async def test_all_items_arrive_once_through_429s_5xx_and_drops(
    fake_feishu_api: FakeFeishuApi,
    world: tuple[Archive, Deliverer, list[Channel], Transports],
) -> None:
    _, deliverer, channels, _ = world
    fake_feishu_api.fail_next("im.message.create", status=429)
    fake_feishu_api.fail_next("im.message.create", status=500)
    fake_feishu_api.fail_next("im.message.create", drop=True)
    (result,) = await deliverer.deliver_all(channels, date=DAY)
    assert result.outcome is Outcome.DELIVERED and result.retries >= 3
    sent = fake_feishu_api.sent("oc_team")
    assert len(sent) == result.total == 3
    assert ranks_seen([link for m in sent for link in m["links"]]) == ALL
    assert all(m["msg_type"] == "interactive" and m["panels"] for m in sent)
    (again,) = await deliverer.deliver_all(channels, date=DAY)
    assert again.outcome is Outcome.ALREADY
    assert len(fake_feishu_api.sent("oc_team")) == 3


async def test_a_resend_with_the_same_uuid_posts_once(fake_feishu_api: FakeFeishuApi) -> None:
    fake_feishu_api.add_chat("oc_x", owner="ou_o")
    api = FeishuApi(
        fake_feishu_api.app_id, fake_feishu_api.app_secret, domain=fake_feishu_api.base_url
    )
    transport = FeishuTransport({}, api=api, limits=())
    target = Channel("feishu", "oc_x", "0 9 * * *", "UTC")
    first = await transport.send(target, 0, card(), digest_date=DAY)
    again = await transport.send(target, 0, card(), digest_date=DAY)  # after a lost answer
    other = await transport.send(target, 1, card(), digest_date=DAY)
    assert first == again != other
    assert len(fake_feishu_api.sent("oc_x")) == 2
    assert fake_feishu_api.stats["deduplicated"] == 1
    await transport.close()


async def test_app_errors_map_to_the_error_tree(fake_feishu_api: FakeFeishuApi) -> None:
    # First, before the SDK caches a token for this app id: a wrong secret.
    wrong = FeishuApi(fake_feishu_api.app_id, "wrong-secret", domain=fake_feishu_api.base_url)
    with pytest.raises(PlatformUnavailable, match=r"feishu\.app_secret") as refused:
        await FeishuTransport({}, api=wrong, limits=()).send(
            Channel("feishu", "oc_any", "0 9 * * *", "UTC"), 0, card(), digest_date=DAY
        )
    assert "wrong-secret" not in str(refused.value)
    api = FeishuApi(
        fake_feishu_api.app_id,
        fake_feishu_api.app_secret,
        domain=fake_feishu_api.base_url,
        rate_window=3.0,
    )
    transport = FeishuTransport({}, api=api, limits=())
    gone = Channel("feishu", "oc_not_a_member", "0 9 * * *", "UTC")
    with pytest.raises(PermanentDeliveryError, match="230002"):
        await transport.send(gone, 0, card(), digest_date=DAY)
    fake_feishu_api.add_chat("oc_busy", owner="ou_o")
    fake_feishu_api.enforce_rate_limit(per_chat_per_sec=0.1, burst=1)
    busy = Channel("feishu", "oc_busy", "0 9 * * *", "UTC")
    await transport.send(busy, 0, card(), digest_date=DAY)
    with pytest.raises(TransientDeliveryError) as caught:
        await transport.send(busy, 1, card(), digest_date=DAY)
    assert caught.value.retry_after == 10.0  # x-ogw-ratelimit-reset, not the 3 s default
    await transport.close()
    assert item_urls()  # the reference digest is there for the delivery test
