"""The group-robot transports (Feishu, DingTalk, WeCom) over real HTTP to their fakes."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from bot.channels import Channel
from bot.errors import (
    DeliveryError,
    PermanentDeliveryError,
    PlatformUnavailable,
    TransientDeliveryError,
)
from bot.platforms.dingtalk.transport import DingTalkTransport, dingtalk_sign
from bot.platforms.feishu.transport import FeishuTransport, feishu_sign
from bot.platforms.robot import Robot, RobotTransport
from bot.platforms.wecom.transport import WeComTransport
from formatters.payloads import RobotMessage
from tests.fakes.robot_server import FakeRobots, RateLimit
from tests.support.delivery_kit import DAY

TRANSPORTS: dict[str, type[RobotTransport]] = {
    "feishu": FeishuTransport,
    "dingtalk": DingTalkTransport,
    "wecom": WeComTransport,
}
SIGNED = ("feishu", "dingtalk")


def message(platform: str, text: str = "hello") -> RobotMessage:
    if platform == "feishu":
        card = {
            "schema": "2.0",
            "header": {"title": {"tag": "plain_text", "content": "T"}},
            "body": {"elements": [{"tag": "markdown", "content": text}]},
        }
        return RobotMessage(body={"msg_type": "interactive", "card": card})
    if platform == "dingtalk":
        return RobotMessage(body={"msgtype": "markdown", "markdown": {"title": "T", "text": text}})
    return RobotMessage(body={"msgtype": "markdown", "markdown": {"content": text}})


def channel(platform: str, name: str = "g1") -> Channel:
    return Channel(platform, name, "0 9 * * *", "UTC")


@pytest.fixture(params=list(TRANSPORTS))
def platform(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def fake(
    platform: str,
    fake_feishu_webhook: FakeRobots,
    fake_dingtalk: FakeRobots,
    fake_wecom: FakeRobots,
) -> FakeRobots:
    return {"feishu": fake_feishu_webhook, "dingtalk": fake_dingtalk, "wecom": fake_wecom}[platform]


@pytest.fixture
async def make(platform: str) -> AsyncIterator[Callable[..., RobotTransport]]:
    made: list[RobotTransport] = []

    def build(robots: dict[str, Robot], **options: Any) -> RobotTransport:
        options.setdefault("limits", ())
        options.setdefault("rate_window", 7.0)
        transport = TRANSPORTS[platform](robots, **options)
        made.append(transport)
        return transport

    yield build
    for transport in made:
        await transport.close()


async def test_posts_signed_when_the_robot_has_a_secret(
    platform: str, fake: FakeRobots, make: Callable[..., RobotTransport]
) -> None:
    secret = "SECsigning" if platform in SIGNED else None
    webhook = fake.add_robot(secret)
    transport = make({"g1": Robot(webhook, secret)})
    assert await transport.send(channel(platform), 0, message(platform, "**hi**"), digest_date=DAY)
    (sent,) = fake.sent(webhook)
    assert "hi" in sent["text"] and not sent["mentions"]
    assert await transport.find_posted(channel(platform), DAY, 0) is None  # no history


async def test_an_unknown_channel_has_no_webhook(
    platform: str, make: Callable[..., RobotTransport]
) -> None:
    # Feishu could post through its app bot, if one were configured.
    error = PlatformUnavailable if platform == "feishu" else PermanentDeliveryError
    with pytest.raises(error, match=r"channels\[\]\.webhook"):
        await make({}).send(channel(platform), 0, message(platform), digest_date=DAY)


@pytest.mark.parametrize("platform", SIGNED)
async def test_a_wrong_secret_makes_the_platform_unavailable(
    platform: str, fake: FakeRobots, make: Callable[..., RobotTransport]
) -> None:
    webhook = fake.add_robot("SECright")
    with pytest.raises(PlatformUnavailable) as caught:
        await make({"g1": Robot(webhook, "SECwrong")}).send(
            channel(platform), 0, message(platform), digest_date=DAY
        )
    assert "SECright" not in str(caught.value) and webhook not in str(caught.value)
    assert fake.sent(webhook) == []


@pytest.mark.parametrize("platform", SIGNED)
async def test_a_robot_secured_by_keywords_pauses_with_the_way_out(
    platform: str, fake: FakeRobots, make: Callable[..., RobotTransport]
) -> None:
    webhook = fake.add_robot()
    fake.robot(webhook).keywords = ("告警",)
    with pytest.raises(PlatformUnavailable) as caught:
        await make({"g1": Robot(webhook)}).send(
            channel(platform), 0, message(platform), digest_date=DAY
        )
    assert caught.value.code == {"feishu": "19024", "dingtalk": "310000"}[platform]
    assert "keywords" in str(caught.value) and "signing" in str(caught.value)
    assert fake.sent(webhook) == []
    fake.robot(webhook).keywords = ("hello",)  # a message with the keyword is posted
    await make({"g1": Robot(webhook)}).send(
        channel(platform), 0, message(platform), digest_date=DAY
    )
    assert len(fake.sent(webhook)) == 1


async def test_a_removed_robot_makes_the_platform_unavailable(
    platform: str, fake: FakeRobots, make: Callable[..., RobotTransport]
) -> None:
    webhook = fake.add_robot()
    fake.remove_robot(webhook)
    with pytest.raises(PlatformUnavailable):
        await make({"g1": Robot(webhook)}).send(
            channel(platform), 0, message(platform), digest_date=DAY
        )


async def test_rate_limit_answers_are_transient_with_the_platform_window(
    platform: str, fake: FakeRobots, make: Callable[..., RobotTransport]
) -> None:
    webhook = fake.add_robot()
    fake.enforce_rate_limit(RateLimit(per_window=1, window=60.0))
    transport = make({"g1": Robot(webhook)})
    await transport.send(channel(platform), 0, message(platform), digest_date=DAY)
    with pytest.raises(TransientDeliveryError) as caught:
        await transport.send(channel(platform), 1, message(platform), digest_date=DAY)
    assert caught.value.retry_after == 7.0 and not caught.value.maybe_posted
    assert fake.stats["rate_limited"] == 1 and len(fake.sent(webhook)) == 1


def test_the_default_windows_and_rates_are_the_platforms() -> None:
    assert FeishuTransport.default_limits == ((5, 1.0), (100, 60.0))
    assert DingTalkTransport.default_limits == WeComTransport.default_limits == ((20, 60.0),)
    assert (FeishuTransport.default_window, DingTalkTransport.default_window) == (60.0, 600.0)
    assert WeComTransport.default_window == 60.0


async def test_pacing_per_robot_keeps_under_the_limit(
    platform: str, fake: FakeRobots, make: Callable[..., RobotTransport]
) -> None:
    first, second = fake.add_robot(), fake.add_robot()
    fake.enforce_rate_limit(RateLimit(per_window=3, window=0.3))
    transport = make({"a": Robot(first), "b": Robot(first), "c": Robot(second)}, limits=((3, 0.3),))
    for index in range(3):  # two channels on one robot share its pace
        await transport.send(channel(platform, "a"), index, message(platform), digest_date=DAY)
        await transport.send(channel(platform, "b"), index, message(platform), digest_date=DAY)
    await transport.send(channel(platform, "c"), 0, message(platform), digest_date=DAY)
    assert fake.stats["rate_limited"] == 0
    assert len(fake.sent(first)) == 6 and len(fake.sent(second)) == 1


@pytest.mark.parametrize("fault", [{"status": 500}, {"status": 503}, {"drop": True}])
async def test_server_and_network_errors_are_transient_and_maybe_posted(
    platform: str, fake: FakeRobots, make: Callable[..., RobotTransport], fault: dict[str, Any]
) -> None:
    webhook = fake.add_robot()
    fake.fail_next("send", **fault)
    transport = make({"g1": Robot(webhook)})
    with pytest.raises(TransientDeliveryError) as caught:
        await transport.send(channel(platform), 0, message(platform), digest_date=DAY)
    assert caught.value.maybe_posted
    await transport.send(channel(platform), 0, message(platform), digest_date=DAY)
    assert len(fake.sent(webhook)) == 1


async def test_an_unreachable_robot_is_transient_and_surely_not_posted(
    platform: str, make: Callable[..., RobotTransport]
) -> None:
    transport = make({"g1": Robot("http://127.0.0.1:9/hook?key=x")})
    with pytest.raises(TransientDeliveryError) as caught:
        await transport.send(channel(platform), 0, message(platform), digest_date=DAY)
    assert not caught.value.maybe_posted


async def test_markup_the_platform_refuses_is_a_plain_delivery_error(
    platform: str, fake: FakeRobots, make: Callable[..., RobotTransport]
) -> None:
    webhook = fake.add_robot()
    with pytest.raises(DeliveryError) as caught:
        await make({"g1": Robot(webhook)}).send(
            channel(platform), 0, message(platform, "[x](javascript:alert(1))"), digest_date=DAY
        )
    assert not isinstance(caught.value, TransientDeliveryError | PermanentDeliveryError)


async def test_the_webhook_and_secret_never_reach_logs_or_errors(
    platform: str,
    fake: FakeRobots,
    make: Callable[..., RobotTransport],
    caplog: pytest.LogCaptureFixture,
) -> None:
    webhook = fake.add_robot("SECtopsecret" if platform in SIGNED else None)
    token = fake.robot(webhook).token
    with caplog.at_level(logging.DEBUG):
        transport = make({"g1": Robot(webhook, "SECtopsecret")})
        await transport.send(channel(platform), 0, message(platform), digest_date=DAY)
        fake.fail_next("send", drop=True)
        with pytest.raises(TransientDeliveryError) as caught:
            await transport.send(channel(platform), 1, message(platform), digest_date=DAY)
    assert token not in caplog.text and "SECtopsecret" not in caplog.text
    assert token not in str(caught.value) and token not in repr(transport.robots)


def test_signatures_match_the_documented_examples() -> None:
    # Independent of our code: the documented algorithms, written out with hashlib.
    import base64
    import hashlib
    import hmac
    from urllib.parse import quote_plus

    expected = base64.b64encode(
        hmac.new(b"1599360473\nsecret", b"", hashlib.sha256).digest()
    ).decode()
    assert feishu_sign("secret", 1599360473) == expected
    digest = hmac.new(b"SECx", b"1577262236757\nSECx", hashlib.sha256).digest()
    assert dingtalk_sign("SECx", 1577262236757) == quote_plus(base64.b64encode(digest))
