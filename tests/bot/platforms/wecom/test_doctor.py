"""The WeCom doctor check over real HTTP against the fake robot: the probe posts nothing."""

from __future__ import annotations

import uuid

from bot.channels import load_channels
from bot.config import Settings
from bot.platforms.checks import platform_check
from tests.fakes.wecom_api import FakeWeCom


async def rows_for(*webhooks: str) -> dict[str, tuple[str, str]]:
    settings = Settings(
        channels=[
            {"platform": "console", "id": "terminal"},
            *({"platform": "wecom", "id": f"g{i}", "webhook": w} for i, w in enumerate(webhooks)),
        ]
    )
    check = platform_check("wecom")
    assert check is not None
    channels = [c for c in load_channels(settings, None) if c.platform == "wecom"]
    return {row.area: (row.status, row.detail) for row in await check(settings, channels)}


async def test_a_live_robot_is_a_warning_and_nothing_is_posted(fake_wecom: FakeWeCom) -> None:
    webhook = fake_wecom.add_robot()
    status, detail = (await rows_for(webhook))["wecom:g0"]
    # WeCom does not document checking the key before the message: 40008 is not proof.
    assert status == "warn", detail
    assert "cannot be verified without posting" in detail and "code 40008" in detail
    assert "nothing was posted" in detail
    assert "not WeCom's own host" in detail  # the fake listens on 127.0.0.1
    assert fake_wecom.sent(webhook) == []
    assert fake_wecom.robot(webhook).token not in detail


async def test_a_wrong_key_fails_naming_the_entry_and_never_prints_it(
    fake_wecom: FakeWeCom,
) -> None:
    fake_wecom.add_robot()
    wrong = str(uuid.uuid4())
    webhook = f"{fake_wecom.base_url}/cgi-bin/webhook/send?key={wrong}"
    status, detail = (await rows_for(webhook))["wecom:g0"]
    assert status == "fail"
    assert "code 93000" in detail and "channels[1].webhook" in detail
    assert wrong not in detail


async def test_shapes_are_checked_before_anything_is_sent(fake_wecom: FakeWeCom) -> None:
    rows = await rows_for(
        f"{fake_wecom.base_url}/cgi-bin/webhook/send",
        f"{fake_wecom.base_url}/hooks/other?key={uuid.uuid4()}",
        f"{fake_wecom.base_url}/cgi-bin/webhook/send?key=cut-short",
    )
    assert rows["wecom:g0"][0] == "fail" and "no token in ?key=" in rows["wecom:g0"][1]
    assert (
        rows["wecom:g1"][0] == "fail" and "path is not /cgi-bin/webhook/send" in rows["wecom:g1"][1]
    )
    # A token of the wrong shape is a warning; the probe still asks, and WeCom refuses it.
    status, detail = rows["wecom:g2"]
    assert status == "fail" and "not a UUID" in detail and "code 93000" in detail
    assert "cut-short" not in detail
    assert [call.method for call in fake_wecom.calls] == ["send"]


async def test_a_removed_robot_fails(fake_wecom: FakeWeCom) -> None:
    webhook = fake_wecom.add_robot()
    fake_wecom.remove_robot(webhook)
    status, detail = (await rows_for(webhook))["wecom:g0"]
    assert status == "fail" and "robot was removed" in detail
