"""Property: for any mangled digest in any layout, the items returned plus the problems
reported cover every item heading; nothing is lost without a located reason.

Digests are generated in the layouts pipelines write (numbered or not, any heading level,
link titles, categories with numbering restarting, field bullets), with noise around the
items, then their bodies and headings are damaged at random: fields deleted, lines
shuffled, text injected, a heading's number or title removed. The article link (or a
link title's meta line) is kept: without a link and fields a heading is no item. The
generator knows which lines are item headings; each must be an item's line or a problem's.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.ingest import parse_text

pytestmark = pytest.mark.slow

WORDS = ["模型", "芯片", "Agent", "推理", "开源", "Robot", "视频", "数据", "Launch", "评测"]
# No fences, HTML, tabs or leading spaces: those legitimately swallow the lines after them.
NOISE = st.text(
    alphabet=st.characters(exclude_characters="`~<\t", exclude_categories=("Cs", "Cc")),
    max_size=20,
).map(str.lstrip)
LAYOUTS = ("reference", "english_h2", "unnumbered", "link_title", "categories", "bullets")
NOISE_SECTIONS = [
    ["## 📋 今日概览", "", "| # | 标题 |", "|---|---|", "| 1 | [x](https://e.com/x) |"],
    ["## 💡 今日结论", "", "今天的结论是没有结论。"],
    ["## 🔥 Top 3", "", "1. [某条](https://e.com/top) — 最重要"],
]


def _heading(layout: str, number: int, title: str) -> str:
    return {
        "reference": f"### {number}. [Org{number}] {title}",
        "english_h2": f"## {number}. {title}",
        "unnumbered": f"### {title}",
        "link_title": f"### [{title}](https://e.com/t{number}) — 8{number % 10}/100",
        "categories": f"#### {number}. **[大模型]** {title}",
        "bullets": f"### {number}. {title}",
    }[layout]


def _body(layout: str, number: int) -> list[str]:
    url = f"https://e.com/{number}"
    return {
        "reference": [
            f"**来源**: 源{number} | **时间**: 2026-03-01 08:{number % 60:02d}",
            f"**价值**: {'🌟' * (number % 5 + 1)} **标签**: [a{number}] [b]",
            f"**链接**: {url}",
            "",
            f"> 🎯 **一句话摘要**：摘要{number}。",
        ],
        "english_h2": [f"**Source**: S{number}", f"**Link**: {url}", "", f"Summary {number}."],
        "unnumbered": [
            f"**源{number}** · AI · 收藏",
            "",
            f"摘要{number}。",
            "",
            f"[🔗 查看原文]({url})",
        ],
        "link_title": [f"📂 S{number} ⭐ **8.0/10** 📅 2026-03-01 09:00 UTC", f"> 摘要{number}"],
        "categories": [
            f"**来源**: 源{number}",
            f"**链接**: {url}",
            "",
            f"> 🎯 **一句话摘要**：{number}",
        ],
        "bullets": [f"* 🔗 [阅读原文]({url})", f"* 📝 摘要{number}", "* ⏰ *18:34*"],
    }[layout]


@st.composite
def digests(draw: st.DrawFn) -> tuple[str, list[int]]:
    layout = draw(st.sampled_from(LAYOUTS))
    count = draw(st.integers(1, 8))
    lines = ["# AI 日报 | 2026-03-01", ""]
    if draw(st.booleans()):
        lines += [*draw(st.sampled_from(NOISE_SECTIONS)), ""]
    headings: list[int] = []
    group_at = draw(st.integers(1, count)) if layout == "categories" else None
    number = 0
    for index in range(1, count + 1):
        number += 1
        if layout == "categories" and index in (1, group_at):
            lines += [f"## 🔬 分类{index}", "", f"### 🤖 子类{index}", ""]
            number = 1  # numbering restarts in each category
        title = f"{draw(st.sampled_from(WORDS))} 第{index}条"
        if layout == "unnumbered" and index == 1:
            title = f"17.5万+ {title}"
        heading = _heading(layout, number, title)
        body = _body(layout, number)
        damage = draw(st.lists(st.sampled_from(["drop", "shuffle", "inject", "head"]), max_size=3))
        for op in damage:
            # The article link (or the meta line) stays: an item has a body with a link.
            keep = next(
                i for i, text in enumerate(body) if "https://e.com/" in text or "📂" in text
            )
            if op == "drop" and len(body) > 1:
                at = draw(st.integers(0, len(body) - 2))
                del body[at if at < keep else at + 1]
            elif op == "shuffle":
                body = list(draw(st.permutations(body)))
            elif op == "inject" and body:
                at = draw(st.integers(0, len(body) - 1))
                body[at] = body[at] + draw(NOISE)
            elif op == "head":
                prefix, _, rest = heading.partition(" ")
                heading = (
                    prefix + " " + draw(st.sampled_from([rest.split(". ", 1)[-1], f"{number}."]))
                )
        headings.append(len(lines) + 1)
        lines += [heading, *body, "", "---", ""]
    if draw(st.booleans()):
        lines += [*draw(st.sampled_from(NOISE_SECTIONS)), "", "*本日报由 AI 自动生成。*"]
    return "\n".join(lines), headings


@settings(
    max_examples=int(os.environ.get("PARSER_PROPERTY_EXAMPLES", "300")),
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(case=digests())
def test_items_and_problems_cover_every_item_heading(case: tuple[str, list[int]]) -> None:
    text, headings = case
    result = parse_text(text, path="g.md")
    covered = {item.line for item in result.digest.items} | {p.line for p in result.problems}
    lost = [text.split("\n")[line - 1] for line in headings if line not in covered]
    assert not lost, f"item headings neither read nor reported: {lost}"
    assert result.dropped == len(
        {p.line for p in result.problems if p.message.endswith("this item is skipped")}
    )
    assert len(result.digest.items) + result.dropped >= len(headings)


def test_the_generator_makes_clean_digests_parse_completely() -> None:
    """Guard against a vacuous property: undamaged digests of every layout read fully."""
    for layout in LAYOUTS:
        lines = ["# AI 日报 | 2026-03-01", ""]
        for number in (1, 2, 3):
            lines += [_heading(layout, number, f"标题{number}"), *_body(layout, number), ""]
        result = parse_text("\n".join(lines))
        assert (len(result.digest.items), result.problems) == (3, []), layout
