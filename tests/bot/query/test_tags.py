"""Tag normalisation and the alias table (bot/tags.py, bot/data/tag_aliases.yaml)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.errors import ConfigError
from bot.query import TagAliases, normalize

REQUIRED_GROUPS = [
    ["RL", "强化学习", "Reinforcement Learning"],
    ["Agent", "AI Agent", "智能体", "Agents"],
    ["LLM", "大模型", "大语言模型"],
    ["Multimodal", "多模态", "原生多模态"],
    ["AI Coding", "AI 编程", "自动编程"],
    ["Open Source", "开源"],
    ["Benchmark", "评测", "基准测试"],
    ["MoE", "混合专家"],
    ["Quantization", "量化"],
    ["Autonomous Driving", "自动驾驶"],
    ["Video Generation", "视频生成"],
    ["RAG", "检索增强生成"],
    ["Fine-tuning", "微调"],
    ["Reasoning", "推理"],
    ["Embodied AI", "具身智能"],
    ["Computer Vision", "计算机视觉"],
    ["Generative AI", "生成式AI"],
    ["Diffusion", "扩散模型"],
    ["Robotics", "机器人"],
]

#: Tags that look alike but are different topics: merging them would be a wrong answer.
DISTINCT = [
    ("推理", "推理加速"),
    ("Agent", "智能体集群"),
    ("Agent", "多智能体系统"),
    ("Benchmark", "LLM Benchmark"),
    ("推理", "数学推理"),
    ("RL", "RLHF"),
    ("LLM", "代码大模型"),
    ("Quantization", "QAT"),
]


@pytest.fixture(scope="module")
def aliases() -> TagAliases:
    return TagAliases.builtin()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("AI 编程", "ai编程"),
        ("AI编程", "ai编程"),
        ("ａｉ　编程", "ai编程"),  # full-width letters and ideographic space
        ("[Agent]", "agent"),
        ("【开源】", "开源"),
        ("#RL", "rl"),
        ("开源。", "开源"),
        ("Fine-tuning", "finetuning"),
        ("fine tuning", "finetuning"),
        ("C#", "c#"),
        ("C++", "c++"),
        ("Reinforcement\tLearning", "reinforcementlearning"),
        ("[]", "[]"),
    ],
)
def test_normalize(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


@pytest.mark.parametrize("group", REQUIRED_GROUPS, ids=lambda g: g[0])
def test_builtin_table_merges_required_groups(aliases: TagAliases, group: list[str]) -> None:
    for spelling in group:
        assert aliases.same(spelling, group[0]), spelling
        assert aliases.display(spelling) == group[0]
        assert normalize(spelling) in aliases.variants(group[0])


@pytest.mark.parametrize(("a", "b"), DISTINCT)
def test_builtin_table_keeps_distinct_topics_apart(aliases: TagAliases, a: str, b: str) -> None:
    assert not aliases.same(a, b)


def test_builtin_table_is_large_and_consistent(aliases: TagAliases) -> None:
    groups = aliases.groups()
    assert len(groups) >= 50
    for display, spellings in groups.items():
        key = aliases.canonical(display)
        assert key == normalize(display)
        assert spellings[0] == display
        assert aliases.variants(display) == {normalize(s) for s in spellings}
        for spelling in spellings:
            assert aliases.canonical(spelling) == key


def test_unknown_tags_are_their_own_group(aliases: TagAliases) -> None:
    assert aliases.canonical(" Gemini  Deep Think ") == "geminideepthink"
    assert aliases.display(" Gemini Deep Think ") == "Gemini Deep Think"
    assert aliases.variants("Gemini Deep Think") == {"geminideepthink"}
    assert aliases.same("gemini deep think", "GEMINI DEEPTHINK")


def test_config_aliases_add_a_group_and_extend_an_existing_one() -> None:
    aliases = TagAliases.builtin({"Spatial AI": ["空间智能"], "强化学习": ["PPO"]})
    assert aliases.same("空间智能", "spatial ai")
    assert aliases.display("空间智能") == "Spatial AI"
    assert aliases.same("PPO", "RL")
    assert aliases.display("ppo") == "RL"
    assert "ppo" in aliases.variants("Reinforcement Learning")


def test_config_alias_moves_an_alias_out_of_a_builtin_group() -> None:
    aliases = TagAliases.builtin({"Inference": ["推理"]})
    assert aliases.display("推理") == "Inference"
    assert not aliases.same("推理", "Reasoning")
    assert "推理" not in aliases.variants("Reasoning")
    assert "推理" not in aliases.groups()["Reasoning"]


def test_config_alias_naming_a_builtin_group_merges_it() -> None:
    aliases = TagAliases.builtin({"RL": ["RLHF"]})
    assert aliases.same("人类反馈强化学习", "强化学习")
    assert "RLHF" not in aliases.groups()
    assert "人类反馈强化学习" in aliases.groups()["RL"]


def test_an_alias_claimed_twice_in_config_is_an_error_naming_the_key() -> None:
    with pytest.raises(ConfigError, match=r"tags\.aliases\.Beta.*tags\.aliases\.Alpha"):
        TagAliases.builtin({"Alpha": ["shared"], "Beta": ["Shared "]})


def test_a_table_listing_an_alias_twice_is_an_error() -> None:
    with pytest.raises(ConfigError, match=r"table\.B: alias 'x' is already listed under 'A'"):
        TagAliases.from_table([("A", ["x"]), ("B", ["x"])], origin="table")


VOCAB = [s for group in REQUIRED_GROUPS for s in group] + ["推理加速", "智能体集群", "Foo"]
tag_text = st.one_of(st.sampled_from(VOCAB), st.text(min_size=1, max_size=8))


@pytest.mark.slow
@given(a=tag_text, b=tag_text)
def test_same_agrees_with_variants(a: str, b: str) -> None:
    aliases = TagAliases.builtin()
    assert aliases.same(a, b) == (normalize(a) in aliases.variants(b))
    assert aliases.same(a, b) == aliases.same(b, a)
    assert aliases.canonical(aliases.display(a)) == aliases.canonical(a) or not a.strip()
