"""``/ai trends`` and ``/ai week`` on Slack: real Bolt and slack_sdk against the fake Slack.

The chart goes through slack_sdk's ``files_upload_v2`` (getUploadURLExternal, the upload,
completeUploadExternal) into the command's channel; the fake accepts only a real PNG.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.chat import CommandCore, actions
from bot.platforms.slack.app import SlackListener, start_slack
from formatters.templates import Templates
from tests.bot.platforms.slack.test_app import Poster, buttons, http_settings, response_for, texts
from tests.fakes import FakeSlack

CHANNEL = "C0FAKECHAN"


@pytest.fixture
async def week_app(fake_slack: FakeSlack, week_core: CommandCore) -> AsyncIterator[SlackListener]:
    listener = await start_slack(
        http_settings(fake_slack), week_core, Templates("en"), host="127.0.0.1", port=0
    )
    yield listener
    await listener.stop()


async def test_trends_rl_agent_uploads_a_png_chart_to_the_channel(
    week_app: SlackListener, fake_slack: FakeSlack
) -> None:
    assert week_app.port is not None
    status, url = await Poster(week_app.port).command(
        fake_slack, "trends tag:RL tag:Agent since:2026-01-26", channel_id=CHANNEL
    )
    assert status == 200
    answer = await response_for(fake_slack, url)
    content = texts(answer)
    assert answer["response_type"] == "ephemeral"
    assert "chart is posted in this channel" in content
    # One text line per tag: the total of the period and the change against the 15 days
    # before it (2026-01-11 – 2026-01-25, which holds one RL item).
    assert "*RL*: 7 items (+6 vs 1 in 2026-01-11 – 2026-01-25)" in content
    assert "*Agent*: 6 items (+6 vs 0 in 2026-01-11 – 2026-01-25)" in content
    [shared] = fake_slack.files
    assert shared["channel"] == CHANNEL and shared["size"] == (1200, 600)
    assert shared["data"].startswith(b"\x89PNG") and shared["name"].endswith(".png")
    assert "2026-W05 – 2026-W07" in shared["title"]
    [message] = [m for m in fake_slack.messages(CHANNEL) if m.get("subtype") == "file_share"]
    assert message["files"][0]["id"] == shared["id"]
    methods = [call.method for call in fake_slack.calls]
    assert methods.index("files.getUploadURLExternal") < methods.index("upload")
    assert methods.index("upload") < methods.index("files.completeUploadExternal")


async def test_a_failed_upload_still_answers_with_the_text(
    week_app: SlackListener, fake_slack: FakeSlack
) -> None:
    assert week_app.port is not None
    fake_slack.add_channel("C0OUTSIDE", member=False)
    fake_slack.add_channel(CHANNEL)
    _, url = await Poster(week_app.port).command(fake_slack, "trends", channel_id="C0OUTSIDE")
    found = await fake_slack.wait_until(
        lambda: fake_slack.responses(url) if len(fake_slack.responses(url)) >= 2 else [], 5
    )
    content = "\n".join(texts(r) for r in found)
    assert "not_in_channel" in content and "*LLM*: 10 items" in content
    assert fake_slack.files == []


async def test_week_last_answers_the_rollup_with_details_buttons(
    week_app: SlackListener, fake_slack: FakeSlack
) -> None:
    assert week_app.port is not None
    _, url = await Poster(week_app.port).command(fake_slack, "week last")
    answer = await response_for(fake_slack, url)
    content = texts(answer)
    assert "Weekly rollup 2026-W06" in content and "2 repeats dropped" in content
    assert content.index("Mon 02-02") < content.index("Sun 02-08")
    assert "Agent 框架 A 预览" not in content  # a repeat of Wednesday's item
    details = [b["value"] for b in buttons(answer, actions.DETAILS)]
    assert len(details) == 10
    assert fake_slack.live_mentions() == []
