"""The DingTalk doctor check over real HTTP against the fake robot: a signed probe that the
robot refuses as a message, so nothing is posted."""

from __future__ import annotations

import secrets

from bot.channels import Channel, load_channels
from bot.config import Settings
from bot.errors import PlatformUnavailable
from bot.platforms.checks import platform_check
from bot.platforms.dingtalk.doctor import DINGTALK
from bot.platforms.dingtalk.transport import DingTalkTransport
from bot.platforms.robot import Answer, Robot
from bot.platforms.robot_probe import read_answer
from tests.fakes.dingtalk_api import FakeDingTalk


async def rows_for(*robots: dict[str, str]) -> dict[str, tuple[str, str]]:
    settings = Settings(
        channels=[{"platform": "dingtalk", "id": f"g{i}", **r} for i, r in enumerate(robots)]
    )
    check = platform_check("dingtalk")
    assert check is not None
    channels = load_channels(settings, None)
    return {row.area: (row.status, row.detail) for row in await check(settings, channels)}


async def test_a_signed_robot_is_a_warning_and_nothing_is_posted(
    fake_dingtalk: FakeDingTalk,
) -> None:
    webhook = fake_dingtalk.add_robot("SECright")
    status, detail = (await rows_for({"webhook": webhook, "secret": "SECright"}))["dingtalk:g0"]
    # Not proof: DingTalk does not document checking token and signature first.
    assert status == "warn", detail
    assert "cannot be verified without posting" in detail and "code 400402" in detail
    assert fake_dingtalk.sent(webhook) == []
    (call,) = fake_dingtalk.calls
    assert call.params["sign"] and call.params["timestamp"]  # signed like a delivery
    assert fake_dingtalk.robot(webhook).token not in detail and "SECright" not in detail


async def test_a_wrong_or_missing_secret_fails_naming_the_key(
    fake_dingtalk: FakeDingTalk,
) -> None:
    webhook = fake_dingtalk.add_robot("SECright")
    rows = await rows_for(
        {"webhook": webhook, "secret": "SECwrong"},
        {"webhook": webhook},
    )
    for area, index in (("dingtalk:g0", 0), ("dingtalk:g1", 1)):
        status, detail = rows[area]
        assert status == "fail" and "code 310000" in detail, detail
        assert f"channels[{index}].secret" in detail
        assert "SECwrong" not in detail and "SECright" not in detail
    assert fake_dingtalk.sent(webhook) == []


async def test_an_unknown_token_fails_and_is_not_printed(fake_dingtalk: FakeDingTalk) -> None:
    token = secrets.token_hex(32)
    webhook = f"{fake_dingtalk.base_url}/robot/send?access_token={token}"
    status, detail = (await rows_for({"webhook": webhook}))["dingtalk:g0"]
    assert status == "fail" and "code 300005" in detail and "channels[0].webhook" in detail
    assert token not in detail


async def test_a_secret_without_sec_is_a_warning(fake_dingtalk: FakeDingTalk) -> None:
    webhook = fake_dingtalk.add_robot("plain")
    status, detail = (await rows_for({"webhook": webhook, "secret": "plain"}))["dingtalk:g0"]
    assert status == "warn" and "start with SEC" in detail and "channels[0].secret" in detail
    assert "code 400402" in detail  # the probe was still sent


async def test_a_keyword_robot_is_a_warning_and_an_allowlist_refusal_fails() -> None:
    """Answers the fake does not model (keyword and IP security), read as DingTalk words them."""
    transport = DingTalkTransport({})
    robot = Robot("https://oapi.dingtalk.com/robot/send?access_token=" + "a" * 64)
    keywords = Answer(200, {"errcode": 310000, "errmsg": "keywords not in content, more: [...]"})
    row = read_answer(transport, DINGTALK, robot, "channels[3]", keywords)
    assert row.status == "warn" and "secured by keywords" in row.detail
    assert "channels[3].secret" in row.detail
    allowlist = Answer(200, {"errcode": 310000, "errmsg": "ip 10.0.0.1 not in whitelist"})
    row = read_answer(transport, DINGTALK, robot, "channels[3]", allowlist)
    assert row.status == "fail" and "not in whitelist" in row.detail and "allowlist" in row.detail
    assert "a" * 64 not in row.detail


def test_a_robot_that_does_not_exist_pauses_delivery() -> None:
    channel = Channel("dingtalk", "g0", "0 9 * * *", "UTC")
    gone = Answer(200, {"errcode": 400106, "errmsg": "robot 不存在"})
    assert isinstance(DingTalkTransport({}).outcome(channel, gone), PlatformUnavailable)
