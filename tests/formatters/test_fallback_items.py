"""Items the curation pipeline failed on are shown honestly on every platform: title and
link, and no summary (their text is a placeholder, even when a file still carries it)."""

from __future__ import annotations

import datetime as dt
import io
import json
from typing import Any

import pytest
from rich.console import Console

from bot.models import Digest, Item
from formatters import console, dingtalk, feishu, slack, telegram, wecom
from formatters.templates import Templates

PLACEHOLDER = "文章摘要生成失败。原标题：某公司发布新模型"


def _digest() -> Digest:
    failed = Item(
        rank=2,
        title="某公司发布新模型",
        url="https://example.com/failed",
        summary=PLACEHOLDER,  # as a contract JSON file may still carry it
        pipeline_failed=True,
    )
    real = Item(rank=1, title="正常条目", url="https://example.com/ok", summary="真实的摘要。")
    return Digest(date=dt.date(2026, 3, 14), title="AI 每日情报", items=[real, failed])


def test_slack_shows_title_and_link_without_the_placeholder(templates: Templates) -> None:
    messages = slack.render_digest(_digest(), templates)
    text = json.dumps([m.model_dump() for m in messages], ensure_ascii=False)
    assert "某公司发布新模型" in text and "https://example.com/failed" in text
    assert "真实的摘要" in text
    assert "摘要生成失败" not in text


def test_telegram_shows_title_and_link_without_the_placeholder(templates: Templates) -> None:
    html = "".join(m.text for m in telegram.render_digest(_digest(), templates))
    assert 'href="https://example.com/failed"' in html and "某公司发布新模型" in html
    assert "真实的摘要" in html
    assert "摘要生成失败" not in html


def test_console_shows_title_and_link_without_the_placeholder(templates: Templates) -> None:
    buffer = Console(file=io.StringIO(), width=100, color_system=None)
    for renderable in console.render_digest(_digest(), templates):
        buffer.print(renderable)
    text = buffer.file.getvalue()  # type: ignore[attr-defined]
    assert "某公司发布新模型" in text and "真实的摘要" in text
    assert "摘要生成失败" not in text


@pytest.mark.parametrize("module", [feishu, dingtalk, wecom], ids=lambda m: m.__name__)
def test_robot_platforms_show_title_and_link_without_the_placeholder(
    module: Any, templates: Templates
) -> None:
    messages = module.render_digest(_digest(), templates)
    text = json.dumps([m.model_dump() for m in messages], ensure_ascii=False)
    assert "某公司发布新模型" in text and "https://example.com/failed" in text
    assert "真实的摘要" in text
    assert "摘要生成失败" not in text
