"""Feishu cards, DingTalk and WeCom markdown: within limits, nothing lost, nothing live.

Every payload goes through the fakes' own validators (markdown-it's reading of the markup,
the platforms' byte limits), and what a reader sees is compared with an independent
derivation of the digest's text (``tests.formatters.coverage``).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bot.ingest import parse_file
from bot.models import Digest, Item, Section
from formatters import dingtalk, feishu, wecom
from formatters.payloads import RobotMessage
from formatters.templates import Templates
from formatters.weekly import render_weekly
from tests.fakes.dingtalk_validation import validate_dingtalk_message
from tests.fakes.feishu_validation import validate_feishu_message
from tests.fakes.wecom_validation import validate_wecom_message
from tests.formatters.coverage import expected_fragments, expected_links, missing, squash
from tests.formatters.test_rollup import hostile_rollup

DATA = Path(__file__).resolve().parent.parent / "data"
RENDERERS: dict[str, Callable[[Digest, Templates], list[RobotMessage]]] = {
    "feishu": feishu.render_digest,
    "dingtalk": dingtalk.render_digest,
    "wecom": wecom.render_digest,
}
VALIDATORS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "feishu": validate_feishu_message,
    "dingtalk": validate_dingtalk_message,
    "wecom": validate_wecom_message,
}


@pytest.fixture(params=list(RENDERERS))
def platform(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def shown(platform: str, digest: Digest, templates: Templates) -> list[dict[str, Any]]:
    """Render, and read each message back through the platform's validator."""
    messages = RENDERERS[platform](digest, templates)
    assert messages
    return [VALIDATORS[platform](m.body) for m in messages]


def test_every_item_fragment_and_link_appears(
    platform: str, parsed_reference: Digest, templates: Templates
) -> None:
    seen = shown(platform, parsed_reference, templates)
    text = "\n".join(m["text"] for m in seen)
    links = [link for m in seen for link in m["links"]]
    for item in parsed_reference.items:
        assert missing(expected_fragments(item), text) == [], (platform, item.rank)
        for url in expected_links(item):
            # A link, or a bare URL in the text (the clients link those themselves).
            escaped = url.replace("(", "%28").replace(")", "%29")
            assert url in links or escaped in links or url in text, url
    assert all(not m["mentions"] for m in seen)


def test_as_few_messages_as_the_limits_allow(
    parsed_reference: Digest, templates: Templates
) -> None:
    sizes = {
        name: [
            len(json.dumps(m.body, ensure_ascii=False).encode())
            for m in render(parsed_reference, templates)
        ]
        for name, render in RENDERERS.items()
    }
    total = sum(sizes["wecom"])
    # WeCom's 4096-byte messages are filled to at least 3/4 on average.
    assert len(sizes["wecom"]) <= total // (4096 * 3 // 4) + 1
    assert len(sizes["dingtalk"]) == 3 and len(sizes["feishu"]) == 3
    assert max(sizes["feishu"]) <= 20_000


def test_hostile_content_renders_inert(platform: str, templates: Templates) -> None:
    for name in ("formatters_hostile.md", "formatters_hostile_robots.md"):
        digest = parse_file(DATA / name).digest
        seen = shown(platform, digest, templates)  # refuses raw tags and non-http(s) links
        text = "\n".join(m["text"] for m in seen)
        plain = text.replace("\u200b", "")  # what a reader sees
        assert all(not m["mentions"] for m in seen), (name, [m["mentions"] for m in seen])
        assert all(link.startswith("https://") for m in seen for link in m["links"])
        if name == "formatters_hostile_robots.md":
            for fragment in ("<at id=all></at>", "<@wangqing>", '<font color="warning">red</font>'):
                assert fragment in plain, fragment
            # "@all" stays readable, with a zero-width space that keeps it from addressing anyone.
            assert "@\u200ball" in text and "@\u200b所有人" in text
        else:
            for fragment in ("<!channel>", "<script>alert(1)</script>", "<@U123>"):
                assert fragment in plain, fragment


def test_a_6500_character_section_arrives_whole_and_in_order(
    platform: str, templates: Templates
) -> None:
    sentence = "大模型在长上下文中学习新规则的能力仍然有限，研究者提出了新的评测方法。"
    body = (sentence * (6500 // len(sentence) + 1))[:6500]
    item = Item(
        rank=1,
        title="Long",
        url="https://example.com/long",
        summary="s",
        sections=[Section(kind="tech", heading="核心", markdown=body)],
    )
    digest = Digest(date=dt.date(2026, 2, 3), title="D", items=[item])
    seen = shown(platform, digest, templates)
    assert len(seen) >= (2 if platform != "dingtalk" else 1)
    text = squash("".join(m["text"] for m in seen))
    assert squash(body) in text.replace(squash("1. Long (续)"), "")


def test_weekly_rollups_render_through_the_registry_inert_and_numbered(platform: str) -> None:
    rollup = hostile_rollup()
    messages = render_weekly(platform, rollup, Templates("en"))
    seen = [VALIDATORS[platform](m.body) for m in messages]
    text = "\n".join(m["text"] for m in seen).replace("\u200b", "")
    assert all(not m["mentions"] for m in seen)
    assert "<!channel> *bold* <b>x</b>" in text and "@all <script>" in text
    assert [link for m in seen for link in m["links"]] == ["https://example.com/s"]
    assert "1. <!channel>" in text and "2. Safe" in text  # numbered through the week
