"""The rich console rendering: complete, readable at 80 columns, immune to markup."""

from __future__ import annotations

import datetime as dt
import io

from rich.cells import cell_len
from rich.console import Console

from bot.channels import Channel
from bot.chat import (
    DigestReply,
    ErrorReply,
    HelpReply,
    ItemDetailReply,
    NoticeReply,
    SearchReply,
    SubscriptionReply,
)
from bot.models import Digest, Hit
from formatters import console
from formatters.templates import Templates
from tests.formatters.coverage import expected_fragments, missing


def render(renderables: list) -> str:
    buffer = Console(file=io.StringIO(), width=80, color_system=None, highlight=False)
    for renderable in renderables:
        buffer.print(renderable)
    return buffer.file.getvalue()  # type: ignore[attr-defined]


def test_reference_digest_is_complete_at_80_columns(
    parsed_reference: Digest, templates: Templates
) -> None:
    text = render(console.render_digest(parsed_reference, templates))
    assert max(cell_len(line) for line in text.splitlines()) <= 80
    assert "AI 每日情报 | 2026-02-03" in text
    for item in parsed_reference.items:
        assert missing(expected_fragments(item), text) == [], item.rank
        assert item.url and item.url in text.replace("\n", "")


def test_markup_in_content_is_shown_as_written(hostile: Digest, templates: Templates) -> None:
    text = render(console.render_digest(hostile, templates))
    assert "<!channel>" in text and "<script>alert(1)</script>" in text
    digest = Digest(date=dt.date(2026, 2, 3), title="[bold red]not markup[/]", items=[])
    assert "[bold red]not markup[/]" in render(console.render_digest(digest, templates))


def test_every_reply_renders(reference: Digest, templates: Templates) -> None:
    hit = Hit(**reference.items[0].model_dump(), date=reference.date)
    sub = Channel("slack", "C1", "0 9 * * *", "Asia/Shanghai", ("tag:RL",))
    cases = {
        "CL-bench": SearchReply(query="tag:RL", hits=[hit], total=1),
        "没有找到": SearchReply(query="nothing", hits=[], total=0),
        "Kimi K2.5": DigestReply(digest=reference),
        "相关资源": ItemDetailReply(hit=hit),
        "/ai schedule": HelpReply(),
        "tag:RL": SubscriptionReply(action="listed", subscription=sub),
        "bad term": ErrorReply(message="bad term", example="/ai tag:RL"),
        "hello": NoticeReply(message="hello"),
    }
    for expected, reply in cases.items():
        assert expected in render(console.render_reply(reply, templates)), type(reply).__name__
