"""``@digestbot trends`` and ``@digestbot week`` on the Feishu app bot, end to end.

lark-oapi's client and event dispatcher against the fake open API: the chart goes up
through ``im/v1/images`` (multipart, ``image_type=message``; the fake accepts only a real
PNG and issues the key), then the reply card shows it by that key above the text lines.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.chat import CommandCore
from bot.platforms.feishu.app import FeishuListener, start_feishu
from formatters.templates import Templates
from tests.bot.platforms.conftest import free_port
from tests.bot.platforms.feishu.test_app import settings_for, url
from tests.fakes.feishu_api import FakeFeishuApi

GROUP = "oc_week"


@pytest.fixture
async def week_bot(
    fake_feishu_api: FakeFeishuApi, week_core: CommandCore
) -> AsyncIterator[FeishuListener]:
    fake_feishu_api.add_chat(GROUP, owner="ou_owner")
    listener = await start_feishu(
        settings_for(fake_feishu_api),
        week_core,
        Templates("en"),
        host="127.0.0.1",
        port=free_port(),
    )
    yield listener
    await listener.stop()


async def ask(
    fake: FakeFeishuApi, listener: FeishuListener, text: str, *, replies: int = 1
) -> list[dict[str, Any]]:
    """Deliver ``@digestbot text`` and wait for at least ``replies`` reply cards."""
    before = len(fake.sent(GROUP))
    event = fake.message_event(GROUP, text)
    status, _ = await fake.deliver(url(listener), event)
    assert status == 200
    await fake.wait_until(lambda: len(fake.sent(GROUP)) >= before + replies, timeout=30)
    answer = fake.sent(GROUP)[before:]
    assert all(r["parent_id"] == event["event"]["message"]["message_id"] for r in answer)
    return answer


async def test_trends_uploads_a_real_png_and_replies_with_a_card_showing_it(
    fake_feishu_api: FakeFeishuApi, week_bot: FeishuListener
) -> None:
    [card] = await ask(fake_feishu_api, week_bot, "trends tag:RL tag:Agent since:2026-01-26")
    [upload] = fake_feishu_api.images.uploads
    assert upload.image_type == "message" and upload.data.startswith(b"\x89PNG")
    assert upload.size == (1200, 600)
    assert card["msg_type"] == "interactive" and card["images"] == [upload.image_key]
    elements = card["content"]["body"]["elements"]
    assert elements[0]["tag"] == "img" and "2026-W05 – 2026-W07" in elements[0]["alt"]["content"]
    assert "RL: 7 items (+6 vs 1 in 2026-01-11 – 2026-01-25)" in card["text"]
    assert "Agent: 6 items (+6 vs 0 in 2026-01-11 – 2026-01-25)" in card["text"]
    calls = [call.method for call in fake_feishu_api.calls]
    assert calls.index("im.image.create") < calls.index("im.message.reply")
    assert not card["mentions"]


async def test_a_failed_upload_still_answers_with_the_text_and_a_notice(
    fake_feishu_api: FakeFeishuApi, week_bot: FeishuListener
) -> None:
    fake_feishu_api.fail_next("im.image.create", status=500)
    text, notice = await ask(fake_feishu_api, week_bot, "trends tag:RL tag:Agent", replies=2)
    assert fake_feishu_api.images.uploads == []
    assert text["images"] == [] and "RL:" in text["text"]
    assert "could not upload the chart" in notice["text"]


async def test_week_last_answers_the_rollup_with_collapsible_details(
    fake_feishu_api: FakeFeishuApi, week_bot: FeishuListener
) -> None:
    answer = await ask(fake_feishu_api, week_bot, "week last")
    content = "\n".join(r["text"] for r in answer)
    assert "Weekly rollup 2026-W06" in answer[0]["title"] and "2 repeats dropped" in content
    assert content.index("Mon 02-02") < content.index("Sun 02-08")
    assert "Agent 框架 A 预览" not in content  # a repeat of Wednesday's item
    assert sum(r["panels"] for r in answer) == 10  # each item's details one click away
    assert all(r["msg_type"] == "interactive" and not r["mentions"] for r in answer)


async def test_a_refused_reply_card_arrives_as_text(
    fake_feishu_api: FakeFeishuApi, week_bot: FeishuListener
) -> None:
    fake_feishu_api.refuse_cards = True
    [answer] = await ask(fake_feishu_api, week_bot, "week last")
    assert answer["msg_type"] == "text" and not answer["mentions"]
    text = answer["text"]
    assert "Weekly rollup 2026-W06" in text and text.index("Mon 02-02") < text.index("Sun 02-08")
    assert text.count("要点一") == 10  # every item's details, in the text
    assert "https://" in text and "**" not in text and "&#" not in text
