"""Every layout AI-daily pipelines write, one test per variant, on the files in
tests/data/digests/layouts/ (written for these tests from the layouts' descriptions)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from bot.errors import ParseError
from bot.ingest import Formats, ParseOptions, parse_bytes, parse_file, parse_text
from bot.ingest.labels import LABELS
from bot.models import Item

LAYOUTS = Path(__file__).resolve().parents[2] / "data" / "digests" / "layouts"
T = dt.datetime


def read(name: str, options: ParseOptions | None = None) -> list[Item]:
    result = parse_file(LAYOUTS / name, options or ParseOptions())
    assert result.problems == [], [str(p) for p in result.problems]
    assert result.dropped == 0
    return result.digest.items


def fields(item: Item, *names: str) -> tuple[Any, ...]:
    return tuple(getattr(item, name) for name in names)


ALL = ("title", "url", "summary", "source", "published_at", "stars", "tags", "orgs")


def test_item_headings_at_level_two_with_english_labels() -> None:
    one, two = read("h2-numbered-2026-03-01.md")  # "## 今日结论" is no item
    assert fields(one, *ALL) == (
        "Sparse attention for long video",
        "https://arxiv.org/abs/2603.00001",
        "A sparse attention scheme that cuts long-video cost by 4x.",
        "arXiv",
        T(2026, 3, 1, 8, 0),
        4,
        ["Video", "Attention"],
        ["EPFL", "Duke"],
    )
    assert (one.score, one.score_scale) == (8.3, 10)
    assert [(s.kind, s.heading) for s in one.sections] == [("tech", "How it works")]
    assert (two.rank, two.orgs, two.stars) == (2, ["北大", "高德"], 4)


def test_unnumbered_level_four_headings_with_plain_labels() -> None:
    one, two = read("h4-unnumbered-2026-03-02.md")
    assert fields(one, *ALL) == (
        "英伟达发布新一代推理芯片",
        "https://mp.weixin.qq.com/s/nvidia",  # the source's link is the article's
        "英伟达发布新一代推理芯片，能效提升两倍。",  # the first paragraph
        "量子位",
        T(2026, 3, 2, 10, 0),
        None,
        [],
        [],
    )
    assert (one.rank, two.rank) == (1, 2)
    assert (two.source, two.url) == ("机器之心", "https://example.com/google-small")


def test_unnumbered_headings_with_bold_source_line_and_link_lines() -> None:
    one, two = read("unnumbered-h3-2026-03-03.md")
    assert fields(one, "title", "source", "url", "summary") == (
        "英伟达发布 Rubin 架构细节",
        "量子位",
        "https://example.com/rubin",
        "英伟达在 GTC 前披露 Rubin 架构。",
    )
    assert fields(two, "source", "url") == ("新智元", "https://example.com/claude-memory")


def test_link_titles_with_score_and_emoji_meta_line() -> None:
    one, two = read("link-title-2026-03-04.md")
    assert fields(one, *ALL) == (
        "Open-weights model tops the coding leaderboard",
        "https://example.com/coding",
        "A 32B open model beats closed ones on SWE-bench Verified.",
        "Hacker News",
        T(2026, 3, 4, 7, 15),
        5,  # the meta line's 9.0/10 wins over the heading's 88/100
        [],
        [],
    )
    assert (two.score, two.score_scale, two.stars) == (72, 100, 4)  # from the heading


def test_category_headings_group_items_and_numbering_restarts() -> None:
    items = read("categories-2026-03-05.md")
    assert [(i.rank, i.category, i.title) for i in items] == [
        (1, "学术研究", "新的推理评测集"),
        (2, "学术研究", "蛋白质语言模型"),
        (3, "模型与技术", "某厂发布 1T 参数 MoE"),  # restarted at 1: ranked by position
        (4, "模型与技术", "小模型登顶 Hugging Face 趋势榜"),
    ]
    assert items[0].orgs == ["Stanford", "Harvard"]
    assert items[2].orgs == [] and items[2].url == "https://example.com/moe1t"


def test_a_lone_list_heading_is_no_category(reference_digest_path: Path) -> None:
    items = parse_file(reference_digest_path).digest.items
    assert {item.category for item in items} == {None}  # "## 📊 今日情报" holds them all


def test_unnumbered_titles_starting_with_a_number_keep_them() -> None:
    one, two = read("number-titles-2026-03-06.md")
    assert (one.rank, one.title, one.source) == (1, "1.5 Million Users Leave ChatGPT", "TechCrunch")
    assert (two.rank, two.title, two.url) == (
        2,
        "17.5万+公开暴露的实例",
        "https://example.com/exposed",
    )


def test_label_spellings() -> None:
    colon, plain, quoted, english, bullets = read("label-spellings-2026-03-07.md")
    assert fields(colon, *ALL) == (
        "全角冒号写在加粗里",
        "https://example.com/colon",
        "加粗标签里带 emoji，值写在下一行。",
        "机器之心",
        T(2026, 3, 7, 8, 0),
        None,
        ["开源", "大模型"],
        ["Meta"],
    )
    assert fields(plain, "source", "url", "tags", "summary") == (
        "量子位",
        "https://mp.weixin.qq.com/s/plain",
        ["Agent", "工具调用"],
        "标签没有加粗，来源是一个链接。",
    )
    assert fields(quoted, "source", "url", "tags", "summary") == (
        "The Decoder",
        "https://example.com/quote",
        ["Open Source"],
        "Every field sits inside one quote block.",
    )
    assert fields(english, "source", "published_at", "stars", "tags", "url") == (
        "OpenAI Blog",
        T(2026, 3, 7, 18, 34),
        4,
        ["agents", "tools"],
        "https://openai.com/index/example",
    )
    assert [(s.kind, s.heading, s.markdown) for s in english.sections] == [
        ("insight", "Why it matters", "Agents get first-class tool calling.")
    ]
    assert fields(bullets, "url", "summary", "published_at", "tags") == (
        "https://example.com/bullets",
        "每个字段一个列表项。",
        T(2026, 3, 7, 18, 34),  # a time alone takes the digest's date
        ["安全", "对齐"],
    )


def test_unlabelled_fields() -> None:
    bold, meta = read("unlabelled-fields-2026-03-08.md")
    assert fields(bold, "source", "url", "summary") == (
        "量子位",
        "https://example.com/doubao",
        "豆包实时语音模型端到端延迟低于 300ms。",
    )
    assert fields(meta, *ALL) == (
        "Operator 开放给所有用户",
        "https://example.com/operator",
        "Operator 现已向所有 Plus 用户开放。",
        "The Verge",
        T(2026, 3, 8, 22, 17),
        5,
        [],
        ["OpenAI"],
    )


def test_summary_forms() -> None:
    labelled, paragraph, quote, first = read("summaries-2026-03-09.md")
    assert labelled.summary == "带标签的引用摘要。"
    assert paragraph.summary == "一个 摘要 段落。"  # bold inside a value is emphasis
    assert quote.summary == "只有一行引用。"
    assert first.summary == "正文的第一段就是摘要。"
    assert [s.markdown for s in first.sections] == ["正文的第二段留在正文里。"]


def test_rating_forms_keep_the_score_and_derive_stars() -> None:
    items = read("ratings-2026-03-10.md")
    assert [(i.stars, i.score, i.score_scale) for i in items] == [
        (5, 5, 5),
        (5, 5, 5),  # 70 marks: capped
        (3, 3, 5),
        (4, 8.3, 10),
        (4, 8, 10),
        (4, 88, 100),
        (4, 8.15, 10),
        (4, 8, 10),
    ]
    assert items[6].title == "括号里的分数"


def test_tag_forms() -> None:
    assert {tuple(i.tags) for i in read("tags-2026-03-11.md")} == {("LLM", "推理")}


@pytest.mark.parametrize(
    ("name", "date", "title"),
    [
        ("front-matter.md", dt.date(2026, 3, 12), "Weekly AI Notes"),
        ("zh-header-date.md", dt.date(2026, 6, 15), "AI 日报"),
        ("slash-date.md", dt.date(2026, 2, 10), "AI 早报"),
        ("link-title-2026-03-04.md", dt.date(2026, 3, 4), "AI Daily Digest"),
        ("2026-2-2.md", dt.date(2026, 2, 2), "AI 早报"),
    ],
)
def test_date_forms(name: str, date: dt.date, title: str) -> None:
    result = parse_file(LAYOUTS / name)
    assert (result.digest.date, result.digest.title, result.problems) == (date, title, [])
    (first, *_) = result.digest.items
    assert first.published_at is None or first.published_at.date() == date


def test_org_separators_and_the_bracket_rule() -> None:
    items = read("orgs-2026-03-13.md")
    assert [(i.orgs, i.category) for i in items] == [
        (["EPFL", "Duke"], None),
        (["北大", "高德"], None),
        (["浙大", "西湖大学"], None),
        (["Stanford", "Harvard"], None),
        (["清华", "智谱"], None),
        ([], "大模型"),  # a known category word
        ([], "HF Model"),  # written bold
    ]
    as_orgs = Formats.of({}, {}, brackets="orgs").options_for(LAYOUTS / "orgs-2026-03-13.md")
    forced = read("orgs-2026-03-13.md", as_orgs)
    assert [(i.orgs, i.category) for i in forced[5:]] == [(["大模型"], None), (["HF Model"], None)]


def test_pipeline_fallback_items_are_flagged_not_stored_as_data() -> None:
    real, fallback = read("placeholders-2026-03-14.md")
    assert (real.pipeline_failed, real.stars, real.tags) == (False, 4, ["Agent"])
    assert fields(fallback, "title", "url", "summary", "stars", "score", "tags") == (
        "某公司发布新模型",
        "https://example.com/failed",
        None,
        None,
        None,
        [],
    )
    assert fallback.pipeline_failed
    assert fallback.model_dump(mode="json")["pipeline_failed"] is True


def test_noise_around_items_never_becomes_items() -> None:
    one, two = read("noise-2026-03-15.md")  # table, top 3 list, audio, HTML, conclusion
    assert [(i.rank, i.title) for i in (one, two)] == [(1, "某模型发布"), (2, "某芯片发布")]
    assert (one.category, two.category) == (None, None)
    last = "\n".join(s.markdown for s in two.sections)
    assert "本日报由 AI 自动生成" not in last and "footer" not in last


def test_old_reference_days_with_a_summary_paragraph() -> None:
    one, two = read("old-summary-paragraph-2026-01-20.md")
    assert fields(one, *ALL) == (
        "早期格式：没有机构括号",
        "https://example.com/old1",
        "早期的日报把摘要写成一个段落，也没有四级小节。",
        "机器之心",
        T(2026, 1, 20, 10, 0),
        3,
        ["多模态"],
        [],
    )
    assert one.sections == [] and two.summary == "第二条的摘要。"


def test_top_three_headings_repeating_detailed_items_are_dropped_quietly() -> None:
    text = (
        "# D | 2026-03-16\n\n## Top 3\n\n### 1. 模型发布\n**链接**: https://e.com/1\n\n"
        "## 全部\n\n### 1. 模型发布\n**来源**: 机器之心\n**链接**: https://e.com/1\n\n"
        "> 🎯 **一句话摘要**：详细的条目。\n\n### 2. 芯片发布\n**链接**: https://e.com/2\n"
    )
    result = parse_text(text)
    assert (result.problems, result.dropped) == ([], 0)
    assert [(i.rank, i.title, i.summary) for i in result.digest.items] == [
        (1, "模型发布", "详细的条目。"),
        (2, "芯片发布", None),
    ]


def test_layout_and_labels_from_formats(tmp_path: Path) -> None:
    path = tmp_path / "feeds" / "2026-03-17.md"
    path.parent.mkdir()
    path.write_text("# D\n\n### 1. 第一条\n出处: 某媒体\n\n### 2024 回顾\n出处: 另一家\n")
    auto = parse_file(path)
    assert next(p.message for p in auto.problems).startswith("item heading '2024 回顾'")
    formats = Formats.of({"feeds/*.md": "unnumbered"}, {"出处": "source"}, base=tmp_path)
    result = parse_file(path, formats.options_for(path))
    assert [(i.rank, i.title, i.source) for i in result.digest.items] == [
        (1, "1. 第一条", "某媒体"),
        (2, "2024 回顾", "另一家"),
    ]
    ignored = LABELS.with_overrides({"来源": "ignore"})
    assert ignored.key("来源") is None and ignored.key("出处") == "source"


def test_contract_json_is_an_input(reference_digest_path: Path, tmp_path: Path) -> None:
    reference = parse_file(reference_digest_path).digest
    data = reference.model_dump(mode="json")
    data["items"][0].pop("stars")
    data["items"][0].update(score=8.3, score_scale=10)
    path = tmp_path / "2026-02-03.json"
    path.write_text(json.dumps(data, ensure_ascii=False))
    result = parse_file(path)
    assert result.problems == []
    assert result.digest.items[0].stars == 4  # derived from the score
    assert result.digest.model_dump(mode="json")["items"][1:] == data["items"][1:]
    data["items"].append(dict(data["items"][1]))
    duplicate = parse_bytes(json.dumps(data, indent=1).encode(), "d.json")
    assert duplicate.dropped == 1 and "duplicate rank 2" in duplicate.problems[0].message
    with pytest.raises(ParseError, match=r"items\.0\.rank"):
        parse_bytes(b'{"date": "2026-02-03", "title": "t", "items": [{"title": "x"}]}', "x.json")
    with pytest.raises(ParseError) as info:
        parse_bytes(b'{"date": "2026-02-03",\n "title": }', "y.json")
    assert (info.value.path, info.value.line) == ("y.json", 2)


def test_a_generator_footer_after_the_last_item_is_not_its_text() -> None:
    text = (
        "# D | 2026-03-18\n\n### 1. 第一条\n**链接**: https://e.com/1\n\n正文。\n\n"
        "#### 💡 洞察\n- 一点。\n\n---\n\n*本日报由 AI 自动生成，仅供参考。*\n\n"
        '<p align="center">Powered by daily-pipeline</p>\n'
    )
    result = parse_text(text)
    (item,) = result.digest.items
    assert result.problems == []
    assert [s.markdown for s in item.sections] == ["- 一点。"]
    assert item.summary == "正文。"
