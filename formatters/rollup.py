"""What a weekly rollup and a trends answer say, as lines every platform serialises.

Shared by the Slack, Telegram and console formatters, which decide the markup (blocks,
HTML, rich text) and where the details go (a thread, expandable quotes, buttons). The
trends chart is drawn here from the reply's counts (``formatters.chart``), so every
platform, Feishu included, gets the same ``ChartImage``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from formatters.chart import line_chart_png
from formatters.lines import Line
from formatters.payloads import ChartImage

if TYPE_CHECKING:
    from bot.archive import Rollup, RollupDay, Trends
    from bot.models import Hit
    from formatters.templates import Templates

ChartPlace = Literal["here", "above", "none", "omit"]


def rollup_title(rollup: Rollup, templates: Templates) -> str:
    return templates.text(
        "week_title", week=rollup.week, start=rollup.start.isoformat(), end=rollup.end.isoformat()
    )


def rollup_intro(rollup: Rollup, templates: Templates, *, thread: bool) -> list[Line]:
    """How many items of how many, and how many repeats were dropped; or the empty note."""
    if rollup.empty:
        return templates.lines(
            "week_empty",
            week=rollup.week,
            start=rollup.start.isoformat(),
            end=rollup.end.isoformat(),
            query=rollup.query,
        )
    return templates.lines(
        "week_intro",
        count=len(rollup.hits),
        considered=rollup.considered,
        duplicates=rollup.duplicates,
        query=rollup.query,
        thread=thread,
    )


def day_heading(day: RollupDay, templates: Templates) -> list[Line]:
    names = templates.label("day_names").split(",")
    return templates.lines(
        "week_day", weekday=names[day.date.weekday()], date=day.date.strftime("%m-%d")
    )


def numbered(rollup: Rollup) -> list[tuple[RollupDay, list[tuple[Hit, Hit]]]]:
    """Each day with its items as (shown, archived) pairs: the shown copy is numbered
    1..N through the rollup (a digest's own rank means nothing across days); the archived
    one keeps the rank that "details" buttons look the item up by."""
    out = []
    number = 0
    for day in rollup.days:
        pairs = []
        for hit in day.hits:
            number += 1
            pairs.append((hit.model_copy(update={"rank": number}), hit))
        out.append((day, pairs))
    return out


def shown_hits(rollup: Rollup) -> list[Hit]:
    """The rollup's items as shown (numbered 1..N), in display order."""
    return [shown for _, pairs in numbered(rollup) for shown, _ in pairs]


def trend_lines(trends: Trends, templates: Templates, *, chart: ChartPlace) -> list[Line]:
    """One line per tag: its total and its change against the previous period."""
    return templates.lines(
        "trends",
        since=trends.since.isoformat(),
        until=trends.until.isoformat(),
        previous_since=trends.previous_since.isoformat(),
        previous_until=trends.previous_until.isoformat(),
        query=trends.query,
        series=[s for s in trends.series],
        chart=chart,
    )


def chart_image(trends: Trends, templates: Templates) -> ChartImage | None:
    """The trends as a line chart (weeks on the x axis), or None if nothing can be drawn."""
    if trends.empty or not trends.weeks:
        return None
    title = templates.text("trends_title", first=trends.weeks[0], last=trends.weeks[-1])
    png = line_chart_png(
        trends.weeks,
        [(f"{s.tag} ({s.total})", s.counts) for s in trends.series],
        title=title,
        y_label=templates.label("per_week"),
    )
    if png is None:
        return None
    alt = "; ".join(f"{s.tag}: {', '.join(map(str, s.counts))}" for s in trends.series)
    filename = f"trends-{trends.weeks[0]}-{trends.weeks[-1]}.png"
    return ChartImage(png=png, filename=filename, title=title, alt_text=f"{title}. {alt}")
