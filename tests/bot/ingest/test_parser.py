"""The digest parser, field by field, on the reference digest and on odd real-world files."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import pytest

from bot.errors import ParseError
from bot.ingest import file_sha256, parse_bytes, parse_file, parse_text
from bot.models import Resource

DIGESTS = Path(__file__).resolve().parents[2] / "data" / "digests"

T = dt.datetime
TECH, DATA, INSIGHT, RES = (
    ("tech", "核心技术/实现逻辑"),
    ("data", "实验数据/关键结论"),
    ("insight", "独家洞察/局限性"),
    ("resources", "相关资源"),
)
ALL4 = [TECH, DATA, INSIGHT, RES]
WX = "https://mp.weixin.qq.com/s/"

# Every field of every item of examples/digests/2026-02-03.md, read off the file by hand.
# summary is checked by its first and last characters; sections by (kind, heading).
EXPECTED: list[dict] = [
    {
        "rank": 1,
        "line": 5,
        "orgs": ["腾讯混元", "复旦"],
        "title": "CL-bench: 姚顺雨首作，深度评测大模型从 Context 实时学习新知识的“非参数化”能力",
        "source": "机器之心",
        "published_at": T(2026, 2, 3, 18, 35),
        "stars": 5,
        "tags": ["Benchmark", "Context Learning", "LLM", "研究论文", "推理"],
        "url": WX + "NDFL5UvarQmnunNzAJjZCg",
        "summary": ("CL-bench 是一个专门用于衡量", "上的巨大短板。"),
        "sections": ALL4,
        "resources": [
            ("项目主页", "http://www.clbench.com"),
            ("Learning from context is harder than we thought", "https://hy.tencent.com/research"),
        ],
    },
    {
        "rank": 2,
        "line": 47,
        "orgs": ["SGLang", "slime"],
        "title": "INT4 量化感知训练 (QAT)：1TB 级超大模型 RL 训练的显存压缩与性能优化",
        "source": "机器之心",
        "published_at": T(2026, 2, 3, 18, 35),
        "stars": 5,
        "tags": ["强化学习", "QAT", "模型压缩", "SGLang", "工程实践"],
        "url": WX + "oFyyuwl_hTJPe3RrZnk2fw",
        "summary": ("受 Kimi K2 启发，SGLang RL 团队", "媲美全精度的收敛稳定性。"),
        "sections": ALL4,
        "resources": [
            ("slime 框架", "https://github.com/slime-tensor/slime"),
            ("SGLang 项目", "https://github.com/sgl-project/sglang"),
        ],
    },
    {
        "rank": 3,
        "line": 78,
        "orgs": ["MIT", "FAIR"],
        "title": "pMF：基于像素级均值流的“无潜空间、单步”图像生成新范式",
        "source": "机器之心",
        "published_at": T(2026, 2, 3, 22, 20),
        "stars": 5,
        "tags": ["生成式AI", "流匹配", "计算机视觉", "架构创新"],
        "url": WX + "Q-yUdSY7X8rtKa9u54kXNg",
        "summary": ("该研究提出了 pMF 框架", "单步像素级端到端生成。"),
        "sections": ALL4,
        "resources": [("arXiv 论文", "https://arxiv.org/abs/2501.22158v1")],
    },
    {
        "rank": 4,
        "line": 107,
        "orgs": ["Google"],
        "title": "Gemini Deep Think: 基于 Aletheia 智能体的半自动数学发现与 Erdős 猜想攻克实战",
        "source": "机器之心",
        "published_at": T(2026, 2, 3, 22, 20),
        "stars": 4,
        "tags": ["Gemini Deep Think", "数学推理", "AI Agent", "科学发现", "LLM Benchmark"],
        "url": WX + "1QF9hSqVbGwBhQO5YFWbIA",
        "summary": ("Google DeepMind 展示了利用", "极高的工程验证成本。"),
        "sections": ALL4,  # written `#### 🔗相关资源`, without the space
        "resources": [
            (
                "Semi-Autonomous Mathematics Discovery with Gemini: "
                "A Case Study on the Erdős Problems",
                "https://arxiv.org/pdf/2601.22401",
            ),
            ("项目关联数据库", "https://www.erdosproblems.com"),
        ],
    },
    {
        "rank": 5,
        "line": 141,
        "orgs": ["OpenAI"],
        "title": "Codex Desktop: 基于多智能体协作与 Skills 扩展的 AI 编程指挥中心",
        "source": "新智元",
        "published_at": T(2026, 2, 3, 9, 15),
        "stars": 4,
        "tags": ["AI Agent", "自动编程", "软件工程", "OpenAI"],
        "url": WX + "f0UeCU-kVI6eN7HnAnyqNQ",
        "summary": ("OpenAI 推出 Codex 桌面原生应用", "功能插件集（Skills）。"),
        "sections": ALL4,
        "resources": [
            ("Introducing the Codex app", "https://openai.com/index/introducing-the-codex-app/"),
            ("openai/skills", "https://github.com/openai/skills"),
        ],
    },
    {
        "rank": 6,
        "line": 171,
        "orgs": ["Meta"],
        "title": "Vibe Coding 实践：非技术人员利用 AI 多模型对抗与自动化工作流实现高效开发",
        "source": "新智元",
        "published_at": T(2026, 2, 3, 11, 44),
        "stars": 4,
        "tags": ["AI 编程", "Cursor", "LLM 工作流", "工程实战"],
        "url": WX + "FO-LD5vIeDErDlKHyO5-5Q",
        "summary": ("Meta 产品经理通过在 Cursor 中", "“一人技术部”模式。"),
        "sections": ALL4,
        "resources": [],  # 涉及工具 / 原始来源 carry no URL
    },
    {
        "rank": 7,
        "line": 203,
        "orgs": ["Moonshot AI"],
        "title": "Kimi K2.5：15T多模态预训练与并行智能体强化学习（PARL）架构",
        "source": "量子位",
        "published_at": T(2026, 2, 3, 8, 37),
        "stars": 4,
        "tags": ["开源", "原生多模态", "智能体集群", "强化学习"],
        "url": WX + "1Zv80yMx_LNLMl8ahkAmNw",
        "summary": ("Kimi K2.5 通过 15T Token", "极高的推理成本效率。"),
        "sections": ALL4,
        "resources": [
            ("官方技术报告", "https://www.kimi.com/blog/kimi-k2-5.html"),
            (
                "Reddit AMA 讨论",
                "https://www.reddit.com/r/LocalLLaMA/comments/1qpewj7/"
                "ama_with_kimi_the_opensource_frontier_lab_behind/",
            ),
            ("Hugging Face 模型库", "https://huggingface.co/moonshotai"),
        ],
    },
    {
        "rank": 8,
        "line": 241,
        "orgs": ["阶跃星辰"],
        "title": "Step 3.5 Flash: 196B MoE 架构、3路 MTP 并行推理与 MIS-PO 强化学习",
        "source": "量子位",
        "published_at": T(2026, 2, 3, 15, 45),
        "stars": 4,
        "tags": ["模型发布", "MoE", "智能体", "推理加速"],
        "url": WX + "BF8blM3PQ6Mrhz9h8cKRtQ",
        "summary": ("阶跃星辰发布 Step 3.5 Flash", "性能与速度的平衡。"),
        "sections": ALL4,
        "resources": [("官方技术报告/博客", "https://static.stepfun.com/blog/step-3.5-flash/")],
    },
    {
        "rank": 9,
        "line": 274,
        "orgs": ["SpaceX", "xAI"],  # `[SpaceX & xAI]`: `&` separates orgs, as `/` does
        "title": "天基 AI 愿景：通过 Starship 构建 1TW 级轨道数据中心星座",
        "source": "机器之心",
        "published_at": T(2026, 2, 3, 11, 32),
        "stars": 3,
        "tags": ["天基计算", "基础设施", "Starship", "算力扩张", "战略合并"],
        "url": WX + "O5Q9CIHCDv31-bc_my5qCA",
        "summary": ("SpaceX 宣布收购 xAI", "地面电力与散热瓶颈。"),
        "sections": ALL4,
        "resources": [("官方公告", "https://www.spacex.com/updates#xai-joins-spacex")],
    },
    {
        "rank": 10,
        "line": 304,
        "orgs": ["Anthropic", "OpenClaw"],
        "title": "Moltbook：大规模智能体生态（Agent Ecology）的雏形与“异形互联网”实验",
        "source": "新智元",
        "published_at": T(2026, 2, 3, 11, 44),
        "stars": 3,
        "tags": ["AI Agent", "智能体生态", "OpenClaw", "未来架构"],
        "url": WX + "WePBVJ54zf4lMxOnGP64kg",
        "summary": ("Moltbook 是首个专为 AI 智能体设计的社交网络", "范式转移。"),
        "sections": ALL4,
        "resources": [
            ("Moltbook", "https://www.moltbook.com/"),
            ("OpenClaw", "https://openclaw.ai/"),
            (
                "Jack Clark's Import AI 443",
                "https://jack-clark.net/2026/02/02/import-ai-443-into-the-mist-moltbook-"
                "agent-ecologies-and-the-internet-in-transition/",
            ),
        ],
    },
    {
        "rank": 11,
        "line": 333,
        "orgs": ["Anthropic"],
        "title": "Claude 5 (Sonnet 5): SWE-Bench 80.9% 突破与自组织 Swarm 智能体集群架构",
        "source": "新智元",
        "published_at": T(2026, 2, 3, 15, 30),
        "stars": 3,
        "tags": ["Claude 5", "多智能体系统", "SWE-Bench", "代码大模型"],
        "url": WX + "dt0fRBK_WupuhO3ovqeFlA",
        "summary": ("Anthropic 疑似泄露代号为 Fennec", "（Dev Team）的范式演进。"),
        "sections": ALL4,
        "resources": [("Claude Sneak Peek", "https://github.com/MikeKelly/claude-sneak-peek")],
    },
    {
        "rank": 12,
        "line": 363,
        "orgs": ["xAI"],
        "title": "Grok Imagine 1.0：兼具音视频协同生成与低延迟特性的视频大模型",
        "source": "量子位",
        "published_at": T(2026, 2, 3, 12, 21),
        "stars": 3,
        "tags": ["视频生成", "多模态", "xAI", "模型发布"],
        "url": WX + "fvpqrHhrm6bg_p_SuSm8wA",
        "summary": ("xAI 正式推出首个音视频一体化生成模型", "推理延迟与成本优势。"),
        "sections": ALL4,
        # `[https://grok.com/imagine](https://grok.com/imagine)`: the label is the title
        "resources": [
            ("官方体验入口", "https://grok.com/imagine"),
            ("API 文档", "https://x.ai/news/grok-imagine-api"),
        ],
    },
    {
        "rank": 13,
        "line": 395,
        "orgs": ["Waymo"],
        "title": "Robotaxi 规模化演进：1260 亿美元估值下的商业版图与 L4 技术出海",
        "source": "量子位",
        "published_at": T(2026, 2, 3, 12, 21),
        "stars": 3,
        "tags": ["自动驾驶", "Robotaxi", "L4", "商业化", "融资"],
        "url": WX + "envWnirTFLv32kDJ_bbJaA",
        "summary": ("Waymo 凭 2500 辆规模的 Robotaxi 车队", "授权）的新阶段。"),
        "sections": [TECH, DATA, INSIGHT],  # no resources section at all
        "resources": [],
    },
    {
        "rank": 14,
        "line": 424,
        "orgs": ["Adobe"],
        "title": "Animate 关停与 AI 转型：25年 2D 动画标杆让位于生成式 AI 工作流",
        "source": "量子位",
        "published_at": T(2026, 2, 3, 15, 45),
        "stars": 2,
        "tags": ["行业趋势", "AI转型", "产品动态", "2D动画"],
        "url": WX + "i9bPQbbcuJGQ8KmaY2__YQ",
        "summary": ("Adobe 宣布将于 2026 年正式关停", "生成式 AI 驱动模式。"),
        "sections": ALL4,
        "resources": [],
    },
]


@pytest.fixture(scope="module")
def reference(reference_digest_path: Path):
    return parse_file(reference_digest_path)


@pytest.fixture(scope="module")
def reference_lines(reference_digest_path: Path) -> list[str]:
    return reference_digest_path.read_text(encoding="utf-8").split("\n")


def test_header(reference) -> None:
    assert reference.digest.date == dt.date(2026, 2, 3)
    assert reference.digest.title == "AI 每日情报"
    assert reference.problems == []
    assert [item.rank for item in reference.digest.items] == list(range(1, 15))


@pytest.mark.parametrize("expected", EXPECTED, ids=lambda e: f"item{e['rank']}")
def test_reference_item_fields(reference, expected: dict) -> None:
    item = reference.digest.items[expected["rank"] - 1]
    assert item.rank == expected["rank"]
    assert item.line == expected["line"]
    assert item.orgs == expected["orgs"]
    assert item.title == expected["title"]
    assert item.source == expected["source"]
    assert item.published_at == expected["published_at"]
    assert item.stars == expected["stars"]
    assert item.tags == expected["tags"]
    assert item.url == expected["url"]
    head, tail = expected["summary"]
    assert item.summary is not None
    assert item.summary.startswith(head), item.summary
    assert item.summary.endswith(tail), item.summary
    assert "一句话摘要" not in item.summary and "**" not in item.summary
    assert [(s.kind, s.heading) for s in item.sections] == expected["sections"]
    assert [(r.title, r.url) for r in item.resources] == expected["resources"]


def test_items_from_the_issue(reference) -> None:
    """The facts the issue's "done when" relies on."""
    items = {item.rank: item for item in reference.digest.items}
    assert {"强化学习", "QAT"} <= set(items[2].tags)
    assert "强化学习" in items[7].tags
    quantum = sorted(rank for rank, item in items.items() if item.source == "量子位")
    assert quantum == [7, 8, 12, 13, 14]


def test_section_markdown_is_the_exact_source(reference, reference_lines: list[str]) -> None:
    item1 = reference.digest.items[0]
    # Lines 14-24 (1-based) hold item 1's tech section, nested lists and all.
    assert item1.sections[0].markdown == "\n".join(reference_lines[13:24])
    assert item1.sections[0].markdown.startswith("*   **核心理念（Context Learner")
    assert "\n    - **领域知识推理**：" in item1.sections[0].markdown
    # The resources section ends at the last bullet: the `---` separator is not kept.
    assert item1.sections[3].markdown == "\n".join(reference_lines[40:43])
    assert item1.sections[3].markdown.endswith("《CL-bench: A Benchmark for Context Learning》")
    # LaTeX in item 3 survives byte for byte.
    assert "$x \\to u \\to v$ 转换机制" in reference.digest.items[2].sections[0].markdown
    # The last item of the file: its final section stops before the trailing `---`.
    last = reference.digest.items[13].sections[-1].markdown
    assert last.endswith("After Effects (Puppet tools)")


def test_nothing_is_lost(reference, reference_lines: list[str]) -> None:
    """Every body line of the file is in some section, exactly once per item."""
    kept = "\n".join(s.markdown for item in reference.digest.items for s in item.sections)
    structural = ("#", "**来源**", "**价值**", "**链接**", "> 🎯", "---")
    for number, line in enumerate(reference_lines, start=1):
        if line.strip() and not line.startswith(structural):
            assert line in kept, f"line {number} lost: {line!r}"


def test_json_contract(reference) -> None:
    data = json.loads(json.dumps(reference.digest.model_dump(mode="json"), ensure_ascii=False))
    assert set(data) == {"date", "title", "items"}
    assert data["date"] == "2026-02-03"
    first = data["items"][0]
    assert set(first) == {
        "rank",
        "title",
        "orgs",
        "source",
        "published_at",
        "stars",
        "tags",
        "url",
        "summary",
        "sections",
        "resources",
    }
    assert first["published_at"] == "2026-02-03T18:35:00"
    assert first["sections"][0] == {
        "kind": "tech",
        "heading": "核心技术/实现逻辑",
        "markdown": reference.digest.items[0].sections[0].markdown,
    }
    assert first["resources"][0] == {"title": "项目主页", "url": "http://www.clbench.com"}


# -- odd files -----------------------------------------------------------------------------


def test_bom_and_crlf() -> None:
    path = DIGESTS / "bom-crlf-2026-02-04.md"
    assert path.read_bytes().startswith(b"\xef\xbb\xbf") and b"\r\n" in path.read_bytes()
    result = parse_file(path)
    assert result.problems == []
    assert result.digest.date == dt.date(2026, 2, 4)
    assert result.digest.title == "AI 每日情报"
    (item,) = result.digest.items
    assert item.orgs == ["腾讯混元", "复旦"]
    assert item.source == "机器之心"
    assert item.published_at == T(2026, 2, 4, 18, 35)
    assert item.stars == 5
    assert item.tags == ["Benchmark", "Context Learning"]
    assert item.url == "https://mp.weixin.qq.com/s/crlf"
    assert item.summary == "Windows 换行。"
    assert item.sections[0].markdown == "- 第一行\n- 第二行"
    assert "\r" not in item.model_dump_json()


def test_a_repeated_title_line_is_not_an_item_swallowing_the_real_one() -> None:
    """A mangled file (the property test's shrunk example): the title written three times,
    a stray label line under it, one numbered item and a category heading with a stray
    label. The repeated title once read as an unnumbered item that outvoted the numbered
    one, and item 1 became a section of it."""
    result = parse_file(DIGESTS / "repeated-title-2026-02-03.md")
    (item,) = result.digest.items
    assert (item.rank, item.line, item.orgs) == (1, 7, ["腾讯混元", "复旦"])
    assert item.title.startswith("CL-bench")
    assert result.digest.title == "AI 每日情报" and result.digest.date == dt.date(2026, 2, 3)
    # The category heading with a label under it is a broken item of this numbered file.
    assert [(p.line, "does not start with a number" in p.message) for p in result.problems] == [
        (8, True)
    ]


def test_a_group_heading_with_a_stray_label_keeps_its_numbered_item() -> None:
    """Another shrunk example: ``## 📊 今日情报`` over item 1 has a label line of its own,
    and two other headings with labels outvoted the one numbered heading. The group read as
    an unnumbered item and item 1 as its section; a group of numbered items is a group."""
    result = parse_file(DIGESTS / "labelled-group-2026-02-03.md")
    by_line = {item.line: item for item in result.digest.items}
    assert by_line[7].title.startswith("1. [腾讯混元/复旦] CL-bench")  # read as unnumbered
    assert by_line[7].category == "今日情报"
    assert 4 not in by_line and result.problems == []


def test_sections_with_labels_do_not_outvote_the_numbered_items() -> None:
    """A third shrunk example: the reference with its title line gone and items 1 and 2
    raised to ``#``. The section headings under the list's own heading, with label lines in
    them, outvoted the numbered items, and items 3..14 became sections of item 2. A
    counted item's sections do not vote; and a numbered first ``#`` heading is item 1, not
    the title."""
    result = parse_file(DIGESTS / "title-line-lost-2026-02-03.md")
    assert [item.rank for item in result.digest.items] == list(range(1, 15))
    assert result.problems == []


def test_a_control_character_after_a_lone_cr_keeps_line_numbers() -> None:
    """A lone CR ends a line (as in markdown-it); the control character removed after it
    must not join it to the next line and shift every line number below."""
    text = "# AI 每日情报 | 2026-02-03\r\x05\n\n### 1. [A] Title\n**来源**: x\n\n### 2.\n"
    result = parse_text(text, path="m.md")
    assert [item.line for item in result.digest.items] == [4]
    assert [p.line for p in result.problems] == [7]


def test_missing_fields_are_null_or_empty_and_not_reported() -> None:
    result = parse_file(DIGESTS / "missing-fields-2026-02-05.md")
    assert result.problems == []
    one, two, three = result.digest.items
    assert (one.orgs, one.title, one.stars) == ([], "无机构也无链接的条目", 3)
    assert (one.source, one.published_at, one.url, one.tags) == (None, None, None, [])
    assert one.summary == "只有标题、星级和摘要。"
    assert (one.sections, one.resources) == ([], [])
    assert (two.orgs, two.source, two.summary) == (["OpenAI"], "量子位", None)
    assert [(s.kind, s.markdown) for s in two.sections] == [("tech", "- 只有一个要点。")]
    assert three.orgs == ["Anthropic", "Google"]
    assert three.title == "只有标题"


def test_broken_items_are_reported_and_the_rest_kept() -> None:
    path = DIGESTS / "broken-items-2026-02-06.md"
    result = parse_file(path)
    assert [item.rank for item in result.digest.items] == [1, 3, 4]
    assert [item.title for item in result.digest.items] == [
        "完好的第一条",
        "时间写错了",
        "完好的最后一条",
    ]
    located = [(p.line, p.message) for p in result.problems]
    assert all(p.path == str(path) for p in result.problems)
    lines = [line for line, _ in located]
    assert lines == [9, 15, 21, 23, 27]
    assert "item 2 has no title" in located[0][1]
    assert "does not start with a number" in located[1][1]
    assert "unparseable time '昨天下午'" in located[2][1]
    assert "no URL" in located[3][1]
    assert "duplicate item rank 3 (first at line 20)" in located[4][1]
    assert str(result.problems[0]).startswith(f"{path}:9: ")
    # The item with a bad time is kept, with the time null and its other fields intact.
    bad_time = result.digest.items[1]
    assert (bad_time.published_at, bad_time.source, bad_time.stars) == (None, "量子位", 2)
    assert bad_time.url is None
    assert result.digest.items[2].published_at == T(2026, 2, 6, 23, 59)


def test_no_date_anywhere_is_a_located_error() -> None:
    path = DIGESTS / "no-date.md"
    with pytest.raises(ParseError) as info:
        parse_file(path)
    assert info.value.path == str(path)
    assert info.value.line == 1
    assert str(info.value).startswith(f"{path}:1: no date in the header")


def test_invalid_date_in_file_name_is_no_fallback() -> None:
    with pytest.raises(ParseError, match="no date"):
        parse_file(DIGESTS / "no-header-date-in-name-2026-02-30.md")


def test_date_only_in_file_name() -> None:
    result = parse_file(DIGESTS / "2026-02-07.md")
    assert result.digest.date == dt.date(2026, 2, 7)
    assert result.digest.title == "AI 每日情报"
    assert result.problems == []
    assert result.digest.items[0].source == "机器之心"


def test_impossible_header_date_falls_back_with_a_problem() -> None:
    result = parse_file(DIGESTS / "bad-header-date-2026-02-10.md")
    assert result.digest.date == dt.date(2026, 2, 10)
    (problem,) = result.problems
    assert problem.line == 1 and "2026-02-30" in problem.message


def test_impossible_header_date_without_fallback_is_an_error() -> None:
    with pytest.raises(ParseError, match="invalid date '2026-02-30'"):
        parse_text("# T | 2026-02-30\n\n### 1. x\n", path="x.md")


def test_undecodable_file_names_file_and_line() -> None:
    path = DIGESTS / "not-utf8-2026-02-09.md"
    with pytest.raises(ParseError) as info:
        parse_file(path)
    assert (info.value.path, info.value.line) == (str(path), 3)
    assert "UTF-8" in info.value.message


def test_missing_file_is_a_parse_error(tmp_path: Path) -> None:
    with pytest.raises(ParseError, match="cannot read"):
        parse_file(tmp_path / "2026-01-01.md")


def test_rich_markdown_survives() -> None:
    path = DIGESTS / "rich-markdown-2026-02-08.md"
    text = path.read_text(encoding="utf-8")
    result = parse_file(path)
    assert result.problems == []
    first, six = result.digest.items
    # Metadata in an unusual order.
    assert first.url == "https://example.com/one"
    assert first.tags == ["数学", "Flow Matching"]
    assert (first.source, first.stars) == ("机器之心", 4)
    assert first.published_at == T(2026, 2, 8, 7, 5)
    assert first.summary == "一个带 $x \\to u \\to v$ 公式的摘要。"
    tech, data, res = first.sections
    # Each section is a verbatim slice of the file.
    for section in first.sections:
        assert section.markdown in text
    assert "$$\nv = \\frac{x - \\epsilon}{t}\n$$" in tech.markdown
    assert "        - 更深一层，含 `code_span`" in tech.markdown
    assert data.markdown.startswith("| 模型 | FID | 步数 |\n|------|----:|:---:|")
    # A heading inside a code fence is not an item.
    assert "### 9. not an item, just code" in data.markdown
    assert [i.rank for i in result.digest.items] == [1, 6]
    assert (res.kind, res.heading) == ("resources", "相关资源")
    assert first.resources == [
        Resource(title="论文", url="https://arxiv.org/abs/2501.00001"),
        Resource(title="代码", url="https://github.com/example/pmf"),
        Resource(title="代码", url="https://gitee.com/example/pmf"),
        Resource(title="官方博客", url="https://blog.example.com/pmf"),
        Resource(title="附录", url="https://example.com/appendix"),
    ]
    # `### 6.  [Meta]` (two spaces) and full-width colons in the metadata.
    assert (six.rank, six.orgs, six.title) == (6, ["Meta"], "双空格标题")
    assert (six.source, six.published_at) == ("新智元", T(2026, 2, 8, 11, 44))
    assert (six.stars, six.tags, six.summary) == (2, ["AI 编程"], "全角冒号。")
    assert six.resources == [Resource(title="官网", url="https://www.example.org/")]


def test_text_before_sections_is_kept_as_an_other_section() -> None:
    text = (
        "# D | 2026-03-01\n\n### 1. [A] T\n**来源**: S\n\n一段没有小标题的正文。\n\n"
        "> 一条普通引用\n\n#### 📌 背景\n背景正文\n"
    )
    (item,) = parse_text(text).digest.items
    assert item.summary == "一条普通引用"  # an unlabelled quote still serves as the summary
    assert [(s.kind, s.heading, s.markdown) for s in item.sections] == [
        ("other", "", "一段没有小标题的正文。"),
        ("other", "背景", "背景正文"),
    ]


def test_heading_kinds_and_odd_values() -> None:
    text = (
        "# D | 2026-03-01\n\n### 7、【阿里/通义】 全角括号\n"
        "**Source**: HN | **Time**: 2026/03/01\n**价值**: 4 **标签**: AI, 大模型\n"
        "**链接**: [原文](https://example.com/a)\n\n#### 资源链接\n- https://example.com/b\n"
    )
    result = parse_text(text)
    assert result.problems == []
    (item,) = result.digest.items
    assert (item.rank, item.orgs, item.title) == (7, ["阿里", "通义"], "全角括号")
    assert (item.source, item.published_at) == ("HN", T(2026, 3, 1))
    assert (item.stars, item.tags, item.url) == (4, ["AI", "大模型"], "https://example.com/a")
    assert item.sections[0].kind == "resources"
    assert item.resources == [Resource(title=None, url="https://example.com/b")]


def test_malformed_stars_are_reported() -> None:
    result = parse_text("# D | 2026-03-01\n\n### 1. T\n**价值**: 很高\n", path="d.md")
    assert result.digest.items[0].stars is None
    (problem,) = result.problems
    assert (problem.path, problem.line) == ("d.md", 4)
    assert "很高" in problem.message


def test_parse_bytes_tolerates_bom_and_file_sha256(tmp_path: Path) -> None:
    data = "\ufeff# D | 2026-03-01\r\n\r\n### 1. T\r\n".encode()
    assert parse_bytes(data, "x.md").digest.items[0].title == "T"
    path = tmp_path / "x.md"
    path.write_bytes(data)
    assert file_sha256(path) == hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize("rank", ["0", "10000", "99999999999999999999999", "9" * 5000])
def test_absurd_ranks_are_located_problems_and_other_items_survive(rank: str) -> None:
    text = f"# D | 2026-03-01\n\n### {rank}. [A] Too big\n\n---\n\n### 2. [B] Fine\n"
    result = parse_text(text, path="d.md")
    assert [item.rank for item in result.digest.items] == [2]
    (problem,) = result.problems
    assert (problem.path, problem.line) == ("d.md", 3)
    assert "rank must be from 1 to 9999" in problem.message


def test_absurd_numeric_ratings_are_reported_not_stored() -> None:
    result = parse_text(
        "# D | 2026-03-01\n\n### 1. T\n**价值**: 99999999999999999999\n", path="d.md"
    )
    assert result.digest.items[0].stars is None
    (problem,) = result.problems
    assert (problem.path, problem.line) == ("d.md", 4)
