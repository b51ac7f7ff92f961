"""The trends chart: a real PNG of the expected size with one colour per line, CJK labels
drawn with a CJK font, and a text-only answer when no such font is installed."""

from __future__ import annotations

import copy
import datetime as dt
import io
import logging

import pytest
from PIL import Image

from bot.archive import TagSeries, Trends
from bot.chat import TrendsReply
from formatters import chart, console, rollup, slack, telegram
from formatters.payloads import ChartImage, SlackMessage, TelegramMessage
from formatters.templates import Templates


def sample(*tags: str) -> Trends:
    counts = [[1, 3, 2, 5], [0, 2, 4, 4], [2, 2, 1, 0]]
    return Trends(
        query="",
        since=dt.date(2026, 1, 12),
        until=dt.date(2026, 2, 8),
        previous_since=dt.date(2025, 12, 15),
        previous_until=dt.date(2026, 1, 11),
        weeks=["2026-W03", "2026-W04", "2026-W05", "2026-W06"],
        series=[
            TagSeries(tag=tag, counts=counts[i], total=sum(counts[i]), previous=3)
            for i, tag in enumerate(tags)
        ],
    )


def colour_pixels(png: bytes) -> dict[str, int]:
    """How many pixels have exactly each line colour."""
    with Image.open(io.BytesIO(png)) as image:
        rgb = image.convert("RGB")
        histogram = {colour: count for count, colour in rgb.getcolors(maxcolors=1 << 20)}
    return {
        hex_colour: histogram.get(tuple(int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)), 0)
        for hex_colour in chart.COLOURS
    }


def test_the_chart_is_a_1200x600_png_with_a_colour_per_line() -> None:
    image = rollup.chart_image(sample("RL", "Agent", "多模态"), Templates("zh"))
    assert image is not None and image.filename == "trends-2026-W03-2026-W06.png"
    with Image.open(io.BytesIO(image.png)) as png:
        assert png.format == "PNG" and png.size == (1200, 600)
    pixels = colour_pixels(image.png)
    drawn = [colour for colour, count in pixels.items() if count > 200]
    assert drawn == list(chart.COLOURS[:3])  # three lines, three colours, nothing else
    assert "RL: 1, 3, 2, 5" in image.alt_text and "标签趋势" in image.title


def test_cjk_labels_use_a_cjk_font() -> None:
    assert chart.cjk_font() is not None  # Debian's fonts-noto-cjk (installed by .ci/run)
    assert chart.needs_cjk("强化学习") and not chart.needs_cjk("RL Agent")


def test_without_a_cjk_font_chinese_tags_get_the_text_answer_and_one_warning(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(chart, "CJK_FONTS", ("No Such CJK Font",))
    chart.cjk_font.cache_clear()
    try:
        with caplog.at_level(logging.WARNING, logger="formatters.chart"):
            reply = TrendsReply(trends=sample("RL", "多模态"))
            slack_out = slack.render_reply(reply, Templates("en"))
            telegram_out = telegram.render_reply(reply, Templates("en"))
            latin = chart.line_chart_png(["W1", "W2"], [("RL", [1, 2])], title="t", y_label="n")
        assert not any(isinstance(m, ChartImage) for m in [*slack_out, *telegram_out])
        text = " ".join(m.text for m in slack_out if isinstance(m, SlackMessage))
        assert "No chart" in text and "多模态: 10 items (+7 vs 3" in text
        assert any(isinstance(m, TelegramMessage) and "多模态" in m.text for m in telegram_out)
        assert latin is not None  # Latin labels still draw
        warnings = [r for r in caplog.records if "no CJK font" in r.getMessage()]
        assert len(warnings) == 1
    finally:
        chart.cjk_font.cache_clear()


def test_replies_put_the_chart_first_and_say_where_it_is() -> None:
    reply = TrendsReply(trends=sample("RL", "Agent"), channel_id="C1")
    slack_out = slack.render_reply(reply, Templates("en"))
    assert isinstance(slack_out[0], ChartImage)
    assert "posted in this channel" in slack_out[1].text  # type: ignore[union-attr]
    telegram_out = telegram.render_reply(reply, Templates("zh"))
    assert isinstance(telegram_out[0], ChartImage)
    assert "趋势图见上方" in telegram_out[1].text  # type: ignore[union-attr]
    assert console.render_reply(reply, Templates("en"))


def test_an_empty_period_draws_nothing_and_says_so() -> None:
    empty = sample()
    assert rollup.chart_image(empty, Templates("en")) is None
    [message] = slack.render_reply(TrendsReply(trends=empty), Templates("en"))
    assert isinstance(message, SlackMessage) and "No tagged items" in message.text


def test_cjk_fonts_installed_after_matplotlib_cached_its_list_are_found() -> None:
    from matplotlib import font_manager

    stale = copy.deepcopy(font_manager.fontManager)
    stale.ttflist = [font for font in stale.ttflist if "cjk" not in font.fname.lower()]
    assert chart.find_cjk_font(stale, list) is None  # nothing new on the system: none
    assert chart.find_cjk_font(stale, font_manager.findSystemFonts) in chart.CJK_FONTS
