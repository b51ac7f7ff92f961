"""``/trends`` and ``/week`` on Telegram: the real PTB ``Application`` against the fake
Bot API, whose ``sendPhoto`` accepts only a real PNG."""

from __future__ import annotations

import html
from collections.abc import AsyncIterator

import pytest

from bot.chat import CommandCore
from bot.platforms.telegram.app import TelegramListener, start_telegram
from formatters.templates import Templates
from tests.bot.platforms.telegram.test_app import GROUP, settings_for
from tests.fakes import FakeTelegram


@pytest.fixture
async def week_bot(
    fake_telegram: FakeTelegram, week_core: CommandCore
) -> AsyncIterator[TelegramListener]:
    listener = await start_telegram(
        settings_for(fake_telegram), week_core, Templates("en"), poll_timeout=1
    )
    yield listener
    await listener.stop()


async def test_trends_rl_agent_sends_the_chart_as_a_photo_then_the_text(
    week_bot: TelegramListener, fake_telegram: FakeTelegram
) -> None:
    fake_telegram.push_message(GROUP, "/ai trends tag:RL tag:Agent since:2026-01-26", user_id=501)
    photo, text = await fake_telegram.wait_for_sent(GROUP, 2)
    assert photo["photo_size"] == (1200, 600) and photo["photo"].startswith(b"\x89PNG")
    assert "Tag trends 2026-W05 – 2026-W07" in photo["caption"]
    body = html.unescape(text["text"])
    assert "RL: 7 items (+6 vs 1" in body and "Agent: 6 items (+6 vs 0" in body
    assert "The chart is above." in body
    assert fake_telegram.calls_to("sendPhoto")


async def test_short_week_command_answers_last_week_with_expandable_details(
    week_bot: TelegramListener, fake_telegram: FakeTelegram
) -> None:
    fake_telegram.push_message(GROUP, "/week last", user_id=501)
    sent = await fake_telegram.wait_for_sent(GROUP, 2)
    assert "Weekly rollup 2026-W06" in html.unescape(sent[0]["text"])
    assert "R2 推理模型发布" in sent[0]["text"]
    assert "<blockquote expandable>" in (sent[1].get("html") or "")
