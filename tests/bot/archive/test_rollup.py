"""The weekly rollup on a real archive (SQLite and PostgreSQL) of a week of digests."""

from __future__ import annotations

import datetime as dt

from bot.archive import Archive, select_rollup
from bot.archive.rollup import pick
from bot.query import IsoWeek, parse_query

W06 = IsoWeek(2026, 6)
TODAY = dt.date(2026, 2, 8)

#: Ranked by stars, then newest day, then latest publication time, then digest order.
EXPECTED_TOP10 = [
    "开源 MoE 大模型",  # 5, Fri
    "世界模型 Marble",  # 5, Thu
    "Gemini 多模态更新",  # 5, Tue
    "R2 推理模型发布",  # 5, Mon (Tuesday's reprint with 4 stars is dropped)
    "多智能体协作训练",  # 4, Sun
    "Agent 框架 A 正式版",  # 4, Wed 12:00 (same link as Monday's preview, which is dropped)
    "长上下文评测基准",  # 4, Wed 10:00
    "Agent SDK 发布",  # 4, Tue
    "代码 Agent 评测",  # 3, Thu
    "RLHF 新方法",  # 3, Wed
]


def ranked(rollup: object) -> list[str]:
    from bot.archive import Rollup

    assert isinstance(rollup, Rollup)
    return [hit.title for hit in sorted(rollup.hits, key=_order)]


def _order(hit: object) -> tuple:
    from bot.archive.rollup import rank_key

    return rank_key(hit)  # type: ignore[arg-type]


def test_rollup_picks_the_best_ten_in_order_and_drops_duplicates(week_archive: Archive) -> None:
    rollup = select_rollup(week_archive, W06)
    assert rollup.week == "2026-W06"
    assert (rollup.start, rollup.end) == (dt.date(2026, 2, 2), dt.date(2026, 2, 8))
    assert ranked(rollup) == EXPECTED_TOP10
    assert rollup.considered == 15  # the week's items; the W04 and W05 days are outside
    assert rollup.duplicates == 2
    titles = [hit.title for hit in rollup.hits]
    assert len(titles) == len(set(titles))
    assert "Agent 框架 A 预览" not in titles  # the link repeated, better rated, on Wednesday


def test_rollup_is_grouped_by_day_monday_first(week_archive: Archive) -> None:
    rollup = select_rollup(week_archive, W06)
    dates = [day.date for day in rollup.days]
    assert dates == sorted(dates)
    assert dates[0] == dt.date(2026, 2, 2) and dates[-1] == dt.date(2026, 2, 8)
    wednesday = next(day for day in rollup.days if day.date == dt.date(2026, 2, 4))
    assert [h.title for h in wednesday.hits] == [
        "Agent 框架 A 正式版",
        "长上下文评测基准",
        "RLHF 新方法",
    ]
    for day in rollup.days:
        assert all(hit.date == day.date for hit in day.hits)


def test_rollup_limit_query_and_topics(week_archive: Archive) -> None:
    assert ranked(select_rollup(week_archive, W06, limit=3)) == EXPECTED_TOP10[:3]
    agent = select_rollup(week_archive, W06, query=parse_query("tag:Agent", today=TODAY))
    assert ranked(agent) == [
        "多智能体协作训练",
        "Agent 框架 A 正式版",
        "Agent SDK 发布",
        "代码 Agent 评测",
    ]
    # A channel's topics: an item is kept if it matches ANY topic; aliases fold (RL = 强化学习).
    topics = [parse_query(t, today=TODAY) for t in ("tag:RL", "tag:多模态")]
    picked = ranked(select_rollup(week_archive, W06, topics=topics))
    assert picked == [
        "世界模型 Marble",
        "Gemini 多模态更新",
        "R2 推理模型发布",
        "多智能体协作训练",
        "RLHF 新方法",
        "机器人强化学习",
    ]


def test_an_empty_week_is_empty(week_archive: Archive) -> None:
    rollup = select_rollup(week_archive, IsoWeek(2026, 10))
    assert rollup.empty and rollup.days == [] and rollup.considered == 0


def test_pick_keeps_the_better_copy_and_chains_duplicates() -> None:
    from bot.models import Hit

    def hit(title: str, url: str, stars: int, day: int) -> Hit:
        return Hit(rank=1, title=title, url=url, stars=stars, date=dt.date(2026, 2, day))

    a = hit("Same story", "https://a.example/1", 3, 2)
    b = hit("same  STORY", "https://b.example/2", 5, 3)  # same title (folded) as a, better
    c = hit("Other title", "http://www.b.example/2/", 4, 4)  # same link as b
    d = hit("Fresh", "https://d.example", 1, 5)
    kept, duplicates = pick([a, b, c, d], limit=10)
    assert [h.title for h in kept] == ["same  STORY", "Fresh"]
    assert duplicates == 2
