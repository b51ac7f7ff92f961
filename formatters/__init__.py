"""Formatters: domain models in, platform API payloads out. No I/O happens here.

``markdown`` parses digest markdown into the line model (``lines``), ``line_markup``
serialises lines as Slack mrkdwn, Telegram HTML or plain text with the one escaper per
platform (``escape``), ``split`` packs lines into messages within each platform's limits.
``slack``, ``telegram`` and ``console`` turn digests and chat replies into their payloads
(``payloads``), with the wording from ``templates`` and the shared layout from ``layout``;
``feishu``, ``dingtalk`` and ``wecom`` do it for the group robots (``robot_markup``: lines
as robot markdown, packed by UTF-8 bytes);
``rollup``, ``chart`` and ``weekly`` do the same for the weekly rollup and trend charts.
"""

from __future__ import annotations

from formatters import console, dingtalk, feishu, feishu_replies, layout, slack, telegram, wecom
from formatters.chart import cjk_font
from formatters.escape import escape_telegram, safe_url
from formatters.payloads import ChartImage, RobotMessage, SlackMessage, TelegramMessage
from formatters.rollup import chart_image
from formatters.templates import Templates
from formatters.terminal import SafeConsole, safe_json, strip_controls
from formatters.weekly import render_weekly

__all__ = [
    "ChartImage",
    "RobotMessage",
    "SafeConsole",
    "SlackMessage",
    "TelegramMessage",
    "Templates",
    "chart_image",
    "cjk_font",
    "console",
    "dingtalk",
    "escape_telegram",
    "feishu",
    "feishu_replies",
    "layout",
    "render_weekly",
    "safe_json",
    "safe_url",
    "slack",
    "strip_controls",
    "telegram",
    "wecom",
]
