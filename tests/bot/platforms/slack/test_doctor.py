"""The Slack doctor check through slack_sdk against the fake: app token, membership."""

from __future__ import annotations

from bot.channels import Channel
from bot.config import Settings
from bot.platforms.checks import platform_check
from tests.fakes import FakeSlack


def settings(fake: FakeSlack, **slack: object) -> Settings:
    return Settings(slack={"bot_token": "xoxb-1", "api_url": fake.api_url, **slack})


async def test_the_app_token_is_tried_and_membership_decides(fake_slack: FakeSlack) -> None:
    check = platform_check("slack")
    assert check is not None
    fake_slack.add_channel("C1", "joined")
    fake_slack.add_channel("C2", "outside", member=False)
    channels = [Channel("slack", c, "0 9 * * *", "UTC") for c in ("C1", "C2")]
    rows = {
        row.area: row for row in await check(settings(fake_slack, app_token="xapp-1"), channels)
    }
    assert rows["slack listener"].status == "ok"
    assert "apps.connections.open" in {call.method for call in fake_slack.calls}
    assert rows["slack:C1"].status == "ok"
    # Public and chat:write.public granted: the bot can post without joining.
    assert (rows["slack:C2"].status, "chat:write.public" in rows["slack:C2"].detail) == ("ok", True)
    fake_slack.scopes = [s for s in fake_slack.scopes if s != "chat:write.public"]
    rows = {row.area: row for row in await check(settings(fake_slack), channels)}
    assert rows["slack:C2"].status == "fail" and "not a member" in rows["slack:C2"].detail
    assert rows["slack scopes"].status == "fail"


async def test_a_wrong_app_token_fails(fake_slack: FakeSlack) -> None:
    fake = FakeSlack(app_token="xapp-right")
    with fake:
        check = platform_check("slack")
        assert check is not None
        rows = {r.area: r for r in await check(settings(fake, app_token="xapp-wrong"), [])}
    assert rows["slack listener"].status == "fail"
    assert "invalid_auth" in rows["slack listener"].detail
    assert platform_check("console") is None
